"""``python -m archive update``: every followed case brought up to date, free
sources first (issue 20). Meant for cron::

    */30 * * * * cd /srv/docket-archive && .venv/bin/python -m archive update >> archive/logs/update.log 2>&1

One run, in order:

1. **Lock.** An exclusive ``flock`` on ``.<archive>.locks/crawl-update-all.lock``; a second run
   while one is going says so in its summary line and does nothing (exit 0).
   The crawls a run starts hold the lock too, so a killed run's crawl still
   running keeps the next run out until it ends.
2. **Plan** (:func:`make_plan`; ``--dry-run`` prints it and stops): which
   courts' feeds to read, which CourtListener checks fit this run's share of
   the account's calls, the cases that need the Internet Archive, ACMS or
   PACER, and what PACER would cost.
3. **Free sources** (``scrapy crawl update``, docket_spider/spiders/update.py):
   each court's RSS feed once; CourtListener within the allowance; then the
   Internet Archive for the cases that still have gaps (or no other free
   source).
4. **ACMS appeals** (no feed, free docket, PACER login): each read when its
   last read is :data:`SETTINGS` ``FOLLOW_ACMS_HOURS`` (6 h) old.
5. **PACER last**, only for what the free sources left out (entries an RSS
   item announced that no free docket has after ``FOLLOW_PACER_GRACE_HOURS``,
   numbers missing between known ones, a court without a full feed that no
   free source checked for ``FOLLOW_PACER_STALE_DAYS``, documents of a case
   followed with ``--documents``), within ``PACER_MONTHLY_BUDGET`` and
   ``FOLLOW_PACER_CASE_MONTHLY`` per case: ``pacer_district`` /
   ``pacer_appellate`` crawls with ``-a max_cost``. A district case whose
   documents are all it lacks gets no docket report (``-a report=0``): only
   its listed documents, each bought when its price (its pages) fits what is
   left. Without a monthly budget PACER is never used; the summary says what
   it would have cost, and how many documents asked for were bought and left
   unbought (a budget that runs out is no failure: the exit status stays 0).
6. **Appeals** found (archive/appeals.py) are followed; **alerts** queued and
   delivered (archive/alerts.py).
7. **One summary line**; the exit status is 0 when every crawl finished, 1
   when one failed or was incomplete, 2 when the run was stopped (Ctrl-C,
   SIGTERM).

Everything a run records about what a source did (a feed read, a case
checked, CourtListener's marks) is recorded after that crawl ended, from the
result file the crawl wrote when it closed: a killed run records nothing of
what it had not finished, and the next run fetches it again.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Callable, Optional

from . import access, crawls
from . import alerts as al
from . import appeals as ap
from . import db as adb
from . import follow as fl
from . import ical
from .atomic import write_atomically
from .processes import process_alive


# Knobs, with their defaults: from docket_spider/settings.py where it has them,
# else here; the environment overrides them, `update -s NAME=VALUE` overrides both.
SETTINGS = {
    # an ordinary CourtListener account: 5 calls a minute (the crawl paces
    # them), 50 an hour, 125 a day; this run's share
    "COURTLISTENER_HOURLY_LIMIT": 50, "COURTLISTENER_DAILY_LIMIT": 125,
    "FOLLOW_CL_CALLS_PER_RUN": 5,
    # how often a court's followed cases are checked on CourtListener (one call a
    # court): with a full feed read in time, daily; with RSS entries whose full
    # text it lacks, hourly; with a partial feed or none, every 4 hours
    "FOLLOW_CL_RECHECK_HOURS": 24, "FOLLOW_CL_RSS_ONLY_HOURS": 1, "FOLLOW_CL_NOFEED_HOURS": 4,
    # a feed holds about a day: reads further apart may have missed entries
    "FOLLOW_FEED_WINDOW_HOURS": 20,
    "FOLLOW_FEED_PROBE_DAYS": 7,           # a court with no feed is tried again
    "FOLLOW_CL_LOOKUP_RETRY_DAYS": 7,      # a case CourtListener does not have: asked again
    "FOLLOW_IA_HOURS": 24,                 # the Internet Archive re-read at most this often
    "FOLLOW_ACMS_HOURS": 24,               # an ACMS appeal's docket (a PACER report) read this often
    "FOLLOW_ACMS_BUSY_HOURS": 6,           # ... while a date is near or entries are recent
    "FOLLOW_APPEAL_SEARCH_DAYS": 7,        # a district case searched for appeals
    "FOLLOW_ACTIVE_DAYS": 14,              # ... daily while it had entries this recent
    "FOLLOW_PACER_GRACE_HOURS": 48,
    "FOLLOW_PACER_STALE_DAYS": 7,
    "FOLLOW_PACER_CASE_MONTHLY": 5.00,
    "PACER_MONTHLY_BUDGET": None,
    "FOLLOW_WEBHOOK_GIVE_UP_HOURS": al.GIVE_UP_HOURS,
    "FOLLOW_SITE_URL": None,               # links in alerts: the public site's address
    # a file the followed cases' calendar (iCal) is written to after each update
    # (the follow list is private: the site serves each case's and the archive's)
    "FOLLOW_ICAL_PATH": None,
}
# Scrapy settings an update passes on to its crawls when given with -s
CRAWL_SETTINGS = ("COURTLISTENER_API_URL", "COURTLISTENER_STORAGE_URL",
                  "COURTLISTENER_RATE_PER_MINUTE", "COURTLISTENER_PAGE_SIZE",
                  "INTERNET_ARCHIVE_URL", "PACER_LOGIN_URL", "PACER_ECF_URL_TEMPLATE",
                  "PACER_ACMS_URL_TEMPLATE", "PACER_ACMS_API_URL_TEMPLATE", "FILES_STORE",
                  "PACER_MONTHLY_BUDGET", "EXTRACT_WORKERS", "EXTRACT_OCR", "EXTRACT_CACHE_DIR",
                  "AUTOTHROTTLE_ENABLED", "RETRY_TIMES", "DOWNLOAD_TIMEOUT", "LOG_LEVEL")
EXIT = {"finished": 0, "failed": 1, "incomplete": 1, "shutdown": 2}
REPORT_CENTS_LIKELY = 30  # an incremental docket report: a few pages, usually $0.10-$0.30
REPORT_CAP = 3.00  # what one report may cost at most (30 pages): the crawls' budget decides by it
DOCUMENT_CAP = 3.00  # what one document may cost at most (30 pages; transcripts aside)
PAGE_COST = 0.10  # the least a bought document costs: one page
SEARCH_BATCH = 10  # district docket numbers asked of CourtListener's search in one call


def load_settings(overrides: Optional[dict] = None) -> dict:
    out = dict(SETTINGS)
    for name in out:
        if os.environ.get(name) not in (None, ""):
            out[name] = os.environ[name]
    out.update(overrides or {})
    for name, default in SETTINGS.items():
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            out[name] = type(default)(float(out[name])) if out[name] not in (None, "") else default
    if out.get("PACER_MONTHLY_BUDGET") in ("", "none", "None"):
        out["PACER_MONTHLY_BUDGET"] = None
    if out.get("PACER_MONTHLY_BUDGET") is not None:
        out["PACER_MONTHLY_BUDGET"] = float(out["PACER_MONTHLY_BUDGET"])
    return out


# --- the lock ----------------------------------------------------------------------

def update_lock(db_path: str):
    """One update at a time per archive: the crawls' own ``flock``
    (archive.access.CaseLock) on ``crawl-update-all.lock`` in the archive's lock
    folder (``.<archive>.locks/``); the kernel lets go when every process
    holding it has ended."""
    return access.CaseLock(db_path, "update", {"court": "all"})


# --- CourtListener's calls ----------------------------------------------------------

def cl_calls_since(db, hours: float, now: _dt.datetime) -> int:
    since = fl.now_iso(now - _dt.timedelta(hours=hours))
    return int(db.execute("select coalesce(sum(calls), 0) from api_calls where source = "
                          "'courtlistener' and at >= ?", [since]).fetchone()[0])


def cl_allowance(db, settings: dict, now: _dt.datetime) -> dict:
    hour = cl_calls_since(db, 1, now)
    day = cl_calls_since(db, 24, now)
    left = min(settings["COURTLISTENER_HOURLY_LIMIT"] - hour,
               settings["COURTLISTENER_DAILY_LIMIT"] - day)
    return {"allowance": max(0, min(settings["FOLLOW_CL_CALLS_PER_RUN"], left)),
            "used_hour": hour, "used_day": day,
            "hourly_limit": settings["COURTLISTENER_HOURLY_LIMIT"],
            "daily_limit": settings["COURTLISTENER_DAILY_LIMIT"]}


# --- the plan --------------------------------------------------------------------

def _gaps_by_docket(db, docket_ids: list[str]) -> dict[str, dict]:
    out = {d: {"missing": 0, "rss_only": 0, "not_stored": 0, "rss_oldest": None}
           for d in docket_ids}
    if not docket_ids:
        return out
    marks = ", ".join("?" for _ in docket_ids)
    names = {"missing numbers": "missing", "rss only": "rss_only", "not stored": "not_stored"}
    for docket_id, kind, n in db.execute(
            f"select docket_id, kind, sum(count) from gaps where docket_id in ({marks}) "
            "group by docket_id, kind", docket_ids).fetchall():
        out[docket_id][names[kind]] = int(n or 0)
    for docket_id, oldest in db.execute(
            "select e.docket_id, min(e.first_seen) from gaps g join docket_entries e "
            f"on e.id = g.entry_id where g.kind = 'rss only' and g.docket_id in ({marks}) "
            "group by e.docket_id", docket_ids).fetchall():
        out[docket_id]["rss_oldest"] = oldest
    return out


def _last_entry_dates(db, docket_ids: list[str]) -> dict:
    if not docket_ids:
        return {}
    marks = ", ".join("?" for _ in docket_ids)
    return dict(db.execute(f"select docket_id, max(date_filed) from docket_entries where "
                           f"docket_id in ({marks}) group by docket_id", docket_ids).fetchall())


def _checks(db, docket_ids: list[str]) -> dict[str, dict]:
    out = {d: {} for d in docket_ids}
    for row in db.query("select * from case_checks"):
        if row["docket_id"] in out:
            out[row["docket_id"]][row["source"]] = row
    return out


def _older(value, hours: float, now: _dt.datetime) -> bool:
    """Never, or longer ago than ``hours``."""
    age = fl.hours_since(value, now)
    return age is None or age >= hours


def make_plan(db, settings: dict, now: Optional[_dt.datetime] = None,
              token: Optional[bool] = None) -> dict:
    """What this run reads: feeds, CourtListener checks (in priority order),
    lookups and appeal searches; and, as they look before the free sources,
    the Internet Archive, ACMS and PACER needs (each decided again after the
    free sources, from what they left)."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    token = bool(os.environ.get("COURTLISTENER_TOKEN")) if token is None else token
    follows = fl.followed(db)
    ids = [f["id"] for f in follows]
    checks = _checks(db, ids)
    gaps = _gaps_by_docket(db, ids)
    dockets = {r["id"]: r for r in db.query("select id, date_filed, pacer_case_id from dockets")}
    plan = {"now": fl.now_iso(now), "token": token, "cases": [], "feeds": [],
            "courtlistener": {}, "internet_archive": [], "acms": [], "pacer": []}
    courts: dict[str, list] = {}
    for f in follows:
        case = {"docket_id": f["id"], "court": f["court_id"], "docket_number": f["docket_number"],
                "pacer_case_id": f["pacer_case_id"] or (dockets.get(f["id"]) or {}).get("pacer_case_id"),
                "parent_id": f["parent_id"], "gaps": gaps[f["id"]]}
        plan["cases"].append(case)
        courts.setdefault(f["court_id"], []).append((f, case))
    # feeds: read every court's once, except those known to have none (tried again weekly)
    for court, members in sorted(courts.items()):
        feed = members[0][0]["feed"]
        coverage = feed.get("coverage") or "unknown"
        read, why = True, None
        if coverage == "none":
            probe = feed.get("next_probe")
            if fl.is_appellate(court) and court not in fl.APPELLATE_FEEDS:
                read, why = False, "this court of appeals has no feed"
            elif probe and fl.parse_time(probe) and fl.parse_time(probe) > now:
                read, why = False, f"no feed when last tried; tried again {probe[:10]}"
        in_time = not _older(feed.get("last_ok"), settings["FOLLOW_FEED_WINDOW_HOURS"], now)
        plan["feeds"].append({"court": court, "coverage": coverage, "kinds": feed.get("kinds"),
                              "read": read, "why": why, "last_ok": feed.get("last_ok"),
                              "in_time": in_time,
                              "cases": [c for _, c in members]})
    feeds = {f["court"]: f for f in plan["feeds"]}
    # CourtListener
    allowance = cl_allowance(db, settings, now)
    groups, lookups, searches = [], [], []
    for court, members in sorted(courts.items()):
        known = [(f, c) for f, c in members if f["cl_docket_id"]]
        for f, c in members:
            if not f["cl_docket_id"] and _older(f["cl_looked_up"],
                                                settings["FOLLOW_CL_LOOKUP_RETRY_DAYS"] * 24, now):
                lookups.append({"docket_id": f["id"], "court": court,
                                "docket_number": f["docket_number"],
                                "pacer_case_id": c["pacer_case_id"]})
        if not known:
            continue
        feed = feeds[court]
        oldest = min((checks[f["id"]].get("courtlistener", {}).get("last_checked") or ""
                      for f, _ in known), default="")
        # how often the court's cases want CourtListener: a court whose feed is
        # partial or missing relies on it; a full feed read in time needs it for
        # the full text of what the feed announced, and as a daily safety net
        if not feed["in_time"] and feed["coverage"] == "full":
            every, why = 0.0, "feed not read within a day: entries may have gone by"
        elif any(c["gaps"]["rss_only"] for _, c in known):
            every, why = settings["FOLLOW_CL_RSS_ONLY_HOURS"], "RSS entries without their full text"
        elif feed["coverage"] != "full":
            every, why = settings["FOLLOW_CL_NOFEED_HOURS"], f"feed {feed['coverage']}"
        else:
            every, why = settings["FOLLOW_CL_RECHECK_HOURS"], "full feed: the daily check"
        age = fl.hours_since(oldest or None, now)
        overdue = float("inf") if age is None or every <= 0 else age / every
        marks = [f["cl_modified"] for f, _ in known]
        groups.append({"court": court, "dockets": [f["id"] for f, _ in known],
                       "ids": [int(f["cl_docket_id"]) for f, _ in known], "marks": marks,
                       "since": None if any(m is None for m in marks) else
                       min(marks, key=lambda m: fl.parse_time(m)),
                       "overdue": overdue if overdue != float("inf") else 1e9,
                       "due": overdue >= 1, "why": why, "every_hours": every,
                       "oldest_check": oldest or None})
    # the most overdue first (never checked, a feed read too late, then by how
    # many of its intervals have gone by): no kind of court starves the others
    groups.sort(key=lambda g: (-g["overdue"], g["oldest_check"] or "", g["court"]))
    last_dates = _last_entry_dates(db, ids)
    for f in follows:
        if fl.is_appellate(f["court_id"]):
            continue
        circuit = ap.circuit_of(f["court_id"])
        if not circuit:
            continue
        active = not _older(last_dates.get(f["id"]), settings["FOLLOW_ACTIVE_DAYS"] * 24, now)
        due = _older(f["appeals_searched"], settings["FOLLOW_APPEAL_SEARCH_DAYS"] * 24, now) or \
            (active and _older(f["appeals_searched"], 24, now))
        if due:
            known_ids = [r[0] for r in db.execute(
                "select cl_docket_id from follows where parent_id = ? and cl_docket_id is not null",
                [f["id"]]).fetchall()]
            searches.append({"docket_id": f["id"], "docket_number": f["docket_number"],
                             "court": f["court_id"], "circuit": circuit, "known_ids": known_ids,
                             "filed_after": (dockets.get(f["id"]) or {}).get("date_filed"),
                             "why": "active case" if active else "weekly"})
    # one search call asks for up to SEARCH_BATCH district numbers of one circuit
    batches = []
    for circuit in sorted({s["circuit"] for s in searches}):
        mine = [s for s in searches if s["circuit"] == circuit]
        mine.sort(key=lambda s: s["why"] != "active case")
        for at in range(0, len(mine), SEARCH_BATCH):
            chunk = mine[at:at + SEARCH_BATCH]
            dates = [c["filed_after"] for c in chunk if c["filed_after"]]
            batches.append({"circuit": circuit, "cases": chunk,
                            "filed_after": min(dates) if len(dates) == len(chunk) else None})
    plan["courtlistener"] = dict(allowance, groups=groups, lookups=lookups,
                                 appeal_searches=batches)
    plan["internet_archive"] = plan_internet_archive(db, settings, plan, now, checks)
    # ACMS reads run first, then the PACER purchases: the month's budget in that order
    plan["acms"] = _budgeted(db, settings, plan_acms(db, settings, follows, checks, now), now)
    plan["pacer"] = plan_pacer(db, settings, follows, gaps, checks, feeds, now,
                               already=sum(min(a["max_cost"], a["worst"])
                                           for a in plan["acms"] if a["run"]))
    plan["webhooks"] = {"active": len(al.webhooks(db)), "outbox": al.outbox_counts(db)}
    return plan


def plan_internet_archive(db, settings, plan, now, checks=None) -> list[dict]:
    """Cases the Internet Archive's copy may help: those with no other free
    source for their docket text (no CourtListener token, or CourtListener
    does not have them), and those with gaps that changed since it was last
    read. Never more often than FOLLOW_IA_HOURS."""
    follows = {f["id"]: f for f in fl.followed(db)}
    checks = checks if checks is not None else _checks(db, list(follows))
    out = []
    for case in plan["cases"]:
        f = follows.get(case["docket_id"])
        if f is None or fl.is_appellate(case["court"]) or not case.get("pacer_case_id"):
            continue
        ia = checks.get(f["id"], {}).get("internet_archive") or {}
        if not _older(ia.get("last_checked"), settings["FOLLOW_IA_HOURS"], now):
            continue
        gaps = case["gaps"]
        signature = f"gaps={gaps['missing']}+{gaps['rss_only']}"
        no_cl = not plan.get("token") or (f["cl_docket_id"] is None and f["cl_looked_up"])
        if no_cl and not ia.get("last_checked"):
            why = "no CourtListener copy: the Internet Archive's first"
        elif no_cl and case["court"] not in _full_courts(plan):
            why = "no CourtListener copy and no full feed"
        elif (gaps["missing"] or gaps["rss_only"]) and (ia.get("detail") or "").split(";")[0] != signature:
            why = f"{gaps['missing']} missing, {gaps['rss_only']} RSS-only"
        else:
            continue
        out.append({"docket_id": f["id"], "court": case["court"],
                    "docket_number": case["docket_number"],
                    "pacer_case_id": case["pacer_case_id"], "why": why, "signature": signature})
    return out


def _full_courts(plan) -> set:
    return {f["court"] for f in plan.get("feeds") or [] if f["coverage"] == "full"}


def plan_acms(db, settings, follows, checks, now) -> list[dict]:
    """ACMS appeals: no feed, and their docket is a PACER report (billed by its
    size, capped at $3.00). Each is read when its last read is
    FOLLOW_ACMS_HOURS old (24 h), or FOLLOW_ACMS_BUSY_HOURS (6 h) while it is
    busy: a hearing or deadline in the next 7 days, or an entry in the last 3;
    never when CourtListener showed it changed since (its copy came free), and
    always within the PACER budgets (see :func:`plan_pacer`)."""
    out = []
    today = now.date()
    for f in follows:
        if f["court_id"] not in fl.ACMS_COURTS or not f.get("acms_case_id"):
            continue
        mine = checks.get(f["id"], {})
        last = (mine.get("acms") or {}).get("last_checked")
        soon = db.execute(
            "select 1 from events where docket_id = ? and date between ? and ? and "
            "superseded_by is null limit 1",
            [f["id"], today.isoformat(), (today + _dt.timedelta(days=7)).isoformat()]).fetchone()
        recent = db.execute("select max(date_filed) from docket_entries where docket_id = ?",
                            [f["id"]]).fetchone()[0]
        busy = bool(soon) or not _older(recent, 72, now)
        every = settings["FOLLOW_ACMS_BUSY_HOURS"] if busy else settings["FOLLOW_ACMS_HOURS"]
        if not _older(last, every, now):
            continue
        cl_changed = (mine.get("courtlistener") or {}).get("last_changed")
        if last and cl_changed and fl.parse_time(cl_changed) > fl.parse_time(last) and \
                not _older(cl_changed, every, now):
            continue  # CourtListener brought its news, free
        out.append({"docket_id": f["id"], "court": f["court_id"],
                    "docket_number": f["docket_number"], "acms_case_id": f["acms_case_id"],
                    "why": ("never read" if not last else f"last read {fl.ago(last, now)}")
                    + f" (every {every:g} h{', busy' if busy else ''})"})
    return out


def _month_start(now: _dt.datetime) -> str:
    return now.strftime("%Y-%m-01")


def plan_pacer(db, settings, follows, gaps, checks, feeds, now, already: float = 0.0) -> list[dict]:
    """What only PACER can give (see the module's docstring), with the most
    each case may spend this run."""
    out = []
    for f in follows:
        if f["court_id"] in fl.ACMS_COURTS and f.get("acms_case_id"):
            continue  # its docket is read from ACMS (plan_acms)
        g = gaps.get(f["id"]) or {}
        mine = checks.get(f["id"], {})
        reasons, full = [], False
        if g.get("rss_only") and g.get("rss_oldest") and \
                _older(g["rss_oldest"], settings["FOLLOW_PACER_GRACE_HOURS"], now):
            reasons.append(f"{g['rss_only']} RSS entries on no docket for "
                           f"{settings['FOLLOW_PACER_GRACE_HOURS']:g} h")
        signature = f"gaps={g.get('missing', 0)}"
        if g.get("missing") and ((mine.get("pacer") or {}).get("detail") or "").split(";")[0] \
                != signature:
            reasons.append(f"{g['missing']} entries missing between known numbers")
            full = True
        feed = feeds.get(f["court_id"]) or {}
        if feed.get("coverage") != "full":
            # since a free source last had it, or since it was followed (a new follow
            # gets its turn with the free sources first)
            last_ok = max([r.get("last_ok") or "" for r in mine.values()] + [f["added"] or ""])
            if _older(last_ok or None, settings["FOLLOW_PACER_STALE_DAYS"] * 24, now):
                reasons.append(f"no feed covers it and no free source checked it for "
                               f"{settings['FOLLOW_PACER_STALE_DAYS']:g} days")
        # a district case whose documents are all it lacks: no docket report (the
        # free sources have its docket), the listed documents only
        report = bool(reasons) or fl.is_appellate(f["court_id"])
        documents = bool(f.get("documents")) and bool(g.get("not_stored"))
        if documents:
            reasons.append(f"{g['not_stored']} documents asked for")
        if not reasons:
            continue
        reports = (3.00 if full else REPORT_CENTS_LIKELY / 100) if report else 0.0
        out.append({"docket_id": f["id"], "court": f["court_id"],
                    "docket_number": f["docket_number"], "pacer_case_id": f["pacer_case_id"],
                    "full": full, "documents": documents, "report": report,
                    "document_count": int(g.get("not_stored") or 0) if documents else 0,
                    "why": "; ".join(reasons), "signature": signature,
                    "estimate": reports,
                    "worst": (REPORT_CAP if report else 0.0)
                    + (DOCUMENT_CAP * g.get("not_stored", 0) if documents else 0)})
    return _budgeted(db, settings, out, now, already)


def _budgeted(db, settings, items: list[dict], now, already: float = 0.0) -> list[dict]:
    """PACER purchases (docket reports, ACMS dockets, documents) within the
    month's budget (PACER_MONTHLY_BUDGET, less what this run already plans:
    ``already``) and each case's (FOLLOW_PACER_CASE_MONTHLY): ``max_cost``, and
    ``run`` or why not (``skip``)."""
    budget = settings.get("PACER_MONTHLY_BUDGET")
    month = _month_start(now)
    left = None if budget is None else budget - adb.committed(db, since=month) - already
    creds = bool(os.environ.get("PACER_USERNAME") and os.environ.get("PACER_PASSWORD"))
    for item in items:
        case_spent = adb.committed(db, since=month, docket_id=item["docket_id"])
        case_left = settings["FOLLOW_PACER_CASE_MONTHLY"] - case_spent
        max_cost = case_left if left is None else min(case_left, left)
        item.setdefault("estimate", REPORT_CENTS_LIKELY / 100)
        item.setdefault("worst", 3.00)
        item.update(max_cost=round(max(0.0, max_cost), 2), run=True, skip=None)
        if budget is None:
            item.update(run=False, skip="PACER_MONTHLY_BUDGET is not set")
        elif not creds:
            item.update(run=False, skip="no PACER credentials (PACER_USERNAME, PACER_PASSWORD)")
        elif item.get("report", True) and item["max_cost"] < REPORT_CAP:
            # the crawl buys a report only when its worst case fits (PACER's cap)
            item.update(run=False, skip=f"over budget: a report may cost ${REPORT_CAP:.2f}, "
                                        f"${item['max_cost']:.2f} left (the month's or the case's)")
        elif item["max_cost"] < PAGE_COST:
            # documents only: each is priced by its pages on PACER, one page at least
            item.update(run=False, skip=f"over budget: a document costs ${PAGE_COST:.2f} at "
                                        f"least, ${item['max_cost']:.2f} left (the month's or "
                                        "the case's)")
        else:
            left = None if left is None else left - min(item["max_cost"], item["worst"])
    return items


def describe_plan(plan: dict, settings: dict) -> list[str]:
    """``--dry-run``: what would be fetched, and what it would cost."""
    lines = [f"Plan for {len(plan['cases'])} followed cases in "
             f"{len({c['court'] for c in plan['cases']})} courts ({plan['now']}):"]
    read = [f for f in plan["feeds"] if f["read"]]
    lines.append(f"  RSS: {len(read)} feed requests (free)")
    for f in plan["feeds"]:
        label = fl.coverage_label(f)
        lines.append(f"    {f['court']:6} {label:28} {len(f['cases']):3} cases  "
                     + ("read" if f["read"] else f"not read: {f['why']}"))
    cl = plan["courtlistener"]
    if not plan["token"]:
        lines.append("  CourtListener: no COURTLISTENER_TOKEN: not asked")
    else:
        due = [g for g in cl["groups"] if g["due"]]
        lines.append(f"  CourtListener: up to {cl['allowance']} calls (free; {cl['used_hour']}/"
                     f"{cl['hourly_limit']} this hour, {cl['used_day']}/{cl['daily_limit']} "
                     f"today): {len(due)} court checks due, {len(cl['lookups'])} new cases to "
                     f"look up, {sum(len(b['cases']) for b in cl['appeal_searches'])} cases to "
                     f"search for appeals in {len(cl['appeal_searches'])} calls")
        for g in due[:12]:
            lines.append(f"    check {g['court']:6} {len(g['dockets']):3} cases in one call "
                         f"(since {str(g['since'] or 'the start')[:19]}): {g['why']}")
        for c in cl["lookups"][:5]:
            lines.append(f"    look up {c['court']} {c['docket_number']}")
        if len(cl["lookups"]) > 5:
            lines.append(f"    ... {len(cl['lookups']) - 5} more to look up")
        lines.append("    (cases whose feed shows news this run are checked first; what does not "
                     "fit waits for the next run)")
    ia = plan["internet_archive"]
    lines.append(f"  Internet Archive: {len(ia)} dockets (free)")
    for c in ia[:8]:
        lines.append(f"    {c['docket_id']}: {c['why']}")
    acms = [a for a in plan["acms"] if a["run"]]
    lines.append(f"  ACMS: {len(plan['acms'])} appeals due, {len(acms)} to read (a PACER report each, "
                 f"likely ${sum(a['estimate'] for a in acms):.2f}, at most "
                 f"${sum(min(a['max_cost'], a['worst']) for a in acms):.2f})")
    for c in plan["acms"]:
        lines.append(f"    {c['docket_id']}: {c['why']}"
                     + ("" if c["run"] else f"; not read: {c['skip']}"))
    pacer = plan["pacer"]
    run = [p for p in pacer if p["run"]]
    budget = settings.get("PACER_MONTHLY_BUDGET")
    docs = sum(p.get("document_count", 0) for p in run)
    lines.append(f"  PACER: {len(run)} cases to buy from, likely ${sum(p['estimate'] for p in run):.2f}"
                 + (f" for docket reports and {docs} documents at ${PAGE_COST:.2f}-"
                    f"${DOCUMENT_CAP:.2f} each (priced by their pages)" if docs else "")
                 + f", at most ${sum(min(p['max_cost'], p['worst']) for p in run):.2f} "
                 f"(PACER_MONTHLY_BUDGET {'$%.2f' % budget if budget is not None else 'not set'}, "
                 f"${settings['FOLLOW_PACER_CASE_MONTHLY']:.2f} a case a month)")
    for p in pacer[:10]:
        lines.append(f"    {p['docket_id']}: {p['why']}; "
                     + (f"up to ${p['max_cost']:.2f}" if p["run"] else f"not bought: {p['skip']} "
                        f"(would cost ${p['estimate'] + PAGE_COST * p.get('document_count', 0):.2f}"
                        f"-${p['worst']:.2f})"))
    lines.append("  (the Internet Archive and PACER are decided again after CourtListener, "
                 "from the gaps it leaves)")
    hooks = plan.get("webhooks") or {}
    outbox = hooks.get("outbox") or {}
    lines.append(f"  Alerts: {hooks.get('active', 0)} webhooks; {outbox.get('pending', 0)} "
                 f"waiting, {outbox.get('dead', 0)} given up")
    worst = sum(min(p["max_cost"], p["worst"]) for p in run + acms)
    lines.append(f"  Would cost: $0.00 from the free sources; PACER and ACMS at most ${worst:.2f}")
    return lines


# --- running ---------------------------------------------------------------------

def scrapy_runner(db_path: str, settings_overrides: dict, verbose: bool = False,
                  lock_fd: Optional[int] = None, log_dir: Optional[str] = None) -> Callable:
    """Run one `scrapy crawl` in a subprocess (its own process group, holding the
    update lock too); returns its exit status."""

    def run(spider: str, args: dict, env: Optional[dict] = None) -> int:
        settings = [f"ARCHIVE_DB={os.path.abspath(db_path)}",
                    *(f"{name}={value}" for name, value in settings_overrides.items())]
        if not verbose and "LOG_FILE" not in settings_overrides:
            # one log a day for every update's crawls (Scrapy appends to it)
            folder = log_dir or crawls.logs_folder(db_path)
            os.makedirs(folder, exist_ok=True)
            settings += ["LOG_FILE=" + os.path.join(folder, f"update-{time.strftime('%Y%m%d')}.log"),
                         "LOG_FILE_APPEND=True"]
        cmd = crawls.command(spider, [f"{name}={value}" for name, value in args.items()
                                      if value not in (None, "")], settings)
        process = subprocess.Popen(cmd, env=crawls.environment(env),
                                   pass_fds=(lock_fd,) if lock_fd is not None else ())
        try:
            return process.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
            with contextlib.suppress(Exception):
                process.wait(timeout=30)
            raise

    return run


def _start_run(db, dry_run: bool) -> int:
    with adb.transaction(db):
        for run_id, pid, started in db.execute(
                "select id, pid, started from update_runs where status = 'running'").fetchall():
            if pid and not process_alive(pid, started):
                db.execute("update update_runs set status = 'killed', finished = ? where id = ?",
                           [fl.now_iso(), run_id])
        table = db["update_runs"]
        table.insert({"started": fl.now_iso(), "pid": os.getpid(), "status": "running",
                      "dry_run": int(dry_run)})
        return table.last_pk


def _finish_run(db, run_id: int, status: str, summary: str) -> None:
    with adb.transaction(db):
        db["update_runs"].update(run_id, {"finished": fl.now_iso(), "status": status,
                                          "summary": summary})


def record_free(db, plan: dict, result: dict, run_id: int, now: str,
                probe_days: float = 7) -> dict:
    """What the free crawl did (its result file), recorded: feeds' coverage,
    each case's checks, CourtListener's marks and ids, appeals it showed."""
    stats = {"feeds": 0, "feeds_failed": 0, "rss_new": 0, "rss_cases": 0, "cl_checked": 0,
             "cl_changed": 0, "cl_entries": 0, "appeals": []}
    trusted = result.get("reason") == "finished" and not result.get("item_errors")
    cases_by_court: dict[str, list] = {}
    for case in plan["cases"]:
        cases_by_court.setdefault(case["court"], []).append(case)
    for court, out in (result.get("feeds") or {}).items():
        fl.save_feed_read(db, court, ok=out.get("ok"), coverage=out.get("coverage"),
                          kinds=out.get("kinds"), items=out.get("items"),
                          detail=out.get("detail"), now=now, probe_days=probe_days)
        stats["feeds"] += 1
        if not out.get("ok") and out.get("coverage") != "none":
            stats["feeds_failed"] += 1
        if not out.get("ok"):
            continue
        matched = out.get("matched") or {}
        label = "full feed" if out.get("coverage") == "full" else \
            f"partial feed ({', '.join(out.get('kinds') or [])})"
        for case in cases_by_court.get(court, []):
            m = matched.get(case["docket_id"]) or {}
            new = int(m.get("new") or 0)
            stats["rss_new"] += new
            stats["rss_cases"] += bool(new)
            fl.record_check(db, case["docket_id"], "rss", ok=True, changed=bool(new),
                            detail=f"{new} new entries; {label}", now=now)
            if m.get("pacer_case_id"):
                db.execute("update follows set pacer_case_id = ? where id = ? and "
                           "pacer_case_id is null", [str(m["pacer_case_id"]), case["docket_id"]])
    cl = result.get("courtlistener") or {}
    states = cl.get("dockets") or {}
    for docket_id in set(cl.get("checked") or []):
        state = states.get(docket_id)
        changed = bool(state and state.get("entries"))
        stats["cl_checked"] += 1
        stats["cl_changed"] += bool(state)
        fl.record_check(db, docket_id, "courtlistener", ok=trusted, changed=changed,
                        detail=f"{(state or {}).get('entries', 0)} entries changed", now=now)
    for docket_id, cl_id in (cl.get("lookups") or {}).items():
        with adb.transaction(db):
            db.execute("update follows set cl_looked_up = ?, cl_docket_id = coalesce(?, "
                       "cl_docket_id) where id = ?", [now, cl_id, docket_id])
        if cl_id is None:
            fl.record_check(db, docket_id, "courtlistener", ok=True, has_copy=False,
                            detail="CourtListener does not have this case", now=now)
    for docket_id, state in states.items():
        stats["cl_entries"] += int(state.get("entries") or 0)
        mark = state.get("mark") if state.get("complete") else state.get("progress")
        fields = {"cl_docket_id": state.get("cl_docket_id")}
        if trusted and mark:
            fields["cl_modified"] = mark
        case_id = str(state.get("pacer_case_id") or "")
        if case_id and fl.GUID.match(case_id):
            fields["acms_case_id"] = case_id
        elif case_id:
            fields["pacer_case_id"] = case_id
        with adb.transaction(db):
            db["follows"].update(docket_id, {k: v for k, v in fields.items() if v is not None})
        if docket_id in (cl.get("lookups") or {}) and docket_id not in (cl.get("checked") or []):
            fl.record_check(db, docket_id, "courtlistener", ok=trusted,
                            changed=bool(state.get("entries")),
                            detail=f"{state.get('entries', 0)} entries (first look)", now=now)
        origin = ap.origin_of_courtlistener(state) if state.get("original_court_info") else None
        if origin:
            with adb.transaction(db):
                ap.record_origin(db, docket_id, origin, "courtlistener")
    for docket_id in cl.get("searched") or {}:
        with adb.transaction(db):
            db.execute("update follows set appeals_searched = ? where id = ?", [now, docket_id])
    for hit in cl.get("appeals") or []:
        with adb.transaction(db):
            done = ap.follow_from_courtlistener(
                db, hit["parent_id"], hit["docket"],
                "CourtListener (an appeal whose originating case is this one)", now=now)
        if done and done[1]:
            stats["appeals"].append(done[0])
    with adb.transaction(db):
        db.execute("update api_calls set calls = ?, status = 'used' where run_id = ? and "
                   "source = 'courtlistener'", [int(cl.get("calls") or 0), run_id])
    stats["cl_calls"] = int(cl.get("calls") or 0)
    stats["cl_stopped"] = cl.get("stopped")
    return stats


def record_ia(db, plan_ia: list, result: dict, now: str) -> dict:
    stats = {"requests": 0, "copies": 0}
    outs = result.get("internet_archive") or {}
    for case in plan_ia:
        out = outs.get(case["docket_id"])
        if out is None:
            continue
        stats["requests"] += 1
        stats["copies"] += bool(out.get("copy"))
        fl.record_check(db, case["docket_id"], "internet_archive", ok=bool(out.get("ok")),
                        changed=bool(out.get("entries")), has_copy=out.get("copy") is not False,
                        detail=f"{case['signature']}; " + (
                            f"{out.get('entries', 0)} entries" if out.get("copy") else
                            out.get("detail") or "no copy"), now=now)
    return stats


def _crawl_status(code: Optional[int]) -> str:
    return {0: "finished", 2: "shutdown"}.get(code, "failed")


class Stopped(Exception):
    pass


def run_update(db_path: str, *, settings: dict, dry_run: bool = False, echo=print,
               runner: Optional[Callable] = None, crawl_settings: Optional[dict] = None,
               verbose: bool = False, now: Optional[_dt.datetime] = None) -> int:
    """One update (see the module's docstring); returns the exit status."""
    began = time.monotonic()
    lock = update_lock(db_path)
    if not lock.try_acquire():
        echo(f"update skipped: another update of {db_path} is running (process {lock.holder()})")
        return 0
    db = adb.open_db(db_path)
    run_id = _start_run(db, dry_run)
    status, codes, summary = "failed", [], ""
    tmp = tempfile.mkdtemp(prefix="docket-update-")
    runner = runner or scrapy_runner(db_path, crawl_settings or {}, verbose, lock.fd)
    try:
        now = now or _dt.datetime.now(_dt.timezone.utc)
        plan = make_plan(db, settings, now)
        if dry_run:
            for line in describe_plan(plan, settings):
                echo(line)
            summary = (f"update (dry run): {len(plan['cases'])} cases; nothing fetched")
            status = "finished"
            return 0
        summary, codes = _run(db, db_path, plan, settings, runner, run_id, tmp, now)
        status = "finished" if all(c == 0 for c in codes) else (
            "shutdown" if 2 in codes else "failed")
        return max((EXIT.get(_crawl_status(c), 1) for c in codes), default=0)
    except (KeyboardInterrupt, Stopped):
        status, summary = "shutdown", summary or "update stopped"
        return 2
    finally:
        elapsed = time.monotonic() - began
        if not dry_run:
            summary = f"{summary}; {elapsed:.1f} s; {status}" if summary else f"update {status}"
            echo(summary)
        with contextlib.suppress(Exception):
            _finish_run(db, run_id, status, summary)
        with contextlib.suppress(Exception):
            adb.close_db(db)
        lock.release()
        shutil.rmtree(tmp, ignore_errors=True)


def _run(db, db_path, plan, settings, runner, run_id, tmp, now) -> tuple[str, list]:
    stamp = fl.now_iso(now)
    codes = []
    # 1. the free crawl: feeds, CourtListener
    with adb.transaction(db):
        db["api_calls"].insert({"source": "courtlistener", "at": stamp, "status": "reserved",
                                "calls": plan["courtlistener"].get("allowance", 0),
                                "run_id": run_id})
    plan_path, result_path = os.path.join(tmp, "plan.json"), os.path.join(tmp, "free.json")
    with open(plan_path, "w") as fh:
        json.dump(plan, fh)
    codes.append(runner("update", {"plan": plan_path, "result": result_path, "phase": "free"}))
    result = _read(result_path)
    if codes[-1] == 2:
        raise Stopped()
    free = record_free(db, plan, result, run_id, fl.now_iso(), settings["FOLLOW_FEED_PROBE_DAYS"])
    # appeals the archive now shows (docket text, originating case numbers)
    found = ap.find_and_follow(db, now=fl.now_iso())
    appeals = list(free["appeals"]) + [a for a, _, _ in found["followed"]]
    # 2. the Internet Archive, for what is still missing
    plan2 = make_plan(db, settings, _dt.datetime.now(_dt.timezone.utc),
                      token=plan["token"])
    ia_stats = {"requests": 0, "copies": 0}
    if plan2["internet_archive"]:
        ia_plan_path, ia_result = os.path.join(tmp, "plan-ia.json"), os.path.join(tmp, "ia.json")
        with open(ia_plan_path, "w") as fh:
            json.dump(plan2, fh)
        codes.append(runner("update", {"plan": ia_plan_path, "result": ia_result,
                                       "phase": "ia"}))
        if codes[-1] == 2:
            raise Stopped()
        ia_stats = record_ia(db, plan2["internet_archive"], _read(ia_result), fl.now_iso())
        plan2 = make_plan(db, settings, _dt.datetime.now(_dt.timezone.utc), token=plan["token"])
    # 3. ACMS appeals on their schedule, then PACER for what only it has
    pacer_env = {k: v for k, v in os.environ.items() if k != "COURTLISTENER_TOKEN"}
    acms_done = 0
    spent_before = adb.committed(db, since=_month_start(now))
    for case in plan2["acms"]:
        if not case["run"]:
            continue
        code = runner("pacer_appellate", {"court": case["court"],
                                          "docket_number": case["docket_number"],
                                          "acms_case_id": case["acms_case_id"],
                                          "max_cost": f"{case['max_cost']:.2f}"}, pacer_env)
        codes.append(code)
        if code == 2:
            raise Stopped()
        fl.record_check(db, case["docket_id"], "acms", ok=code == 0, now=fl.now_iso(),
                        detail="docket read" if code == 0 else f"crawl exit {code}")
        acms_done += 1
    pacer_runs = 0
    ledger_before = db.execute("select coalesce(max(id), 0) from pacer_charges").fetchone()[0]
    for case in plan2["pacer"]:
        if not case["run"]:
            continue
        appellate = fl.is_appellate(case["court"])
        args = {"court": case["court"], "docket_number": case["docket_number"],
                "max_cost": f"{case['max_cost']:.2f}", "full": "1" if case["full"] else None,
                "documents": "1" if case["documents"] else None,
                "report": None if case.get("report", True) else "0"}
        if not appellate and case.get("pacer_case_id"):
            args["pacer_case_id"] = case["pacer_case_id"]
        code = runner("pacer_appellate" if appellate else "pacer_district", args, pacer_env)
        codes.append(code)
        pacer_runs += 1
        if code == 2:
            raise Stopped()
        if case.get("report", True):  # a crawl of documents only did not read the docket
            fl.record_check(db, case["docket_id"], "pacer", ok=code == 0, now=fl.now_iso(),
                            detail=f"{case['signature']}; {case['why']}")
    spent = adb.committed(db, since=_month_start(now)) - spent_before
    would = [p for p in plan2["pacer"] if not p["run"]]
    documents = _documents_outcome(db, plan2["pacer"], ledger_before)
    # 4. appeals again (PACER/ACMS dockets), baselines, alerts
    found2 = ap.find_and_follow(db, now=fl.now_iso())
    appeals += [a for a, _, _ in found2["followed"]]
    set_baselines(db)
    queued = al.enqueue(db, site_url=settings.get("FOLLOW_SITE_URL"))
    sent = al.deliver(db, give_up_hours=settings["FOLLOW_WEBHOOK_GIVE_UP_HOURS"])
    if settings.get("FOLLOW_ICAL_PATH"):
        write_calendar(db, settings["FOLLOW_ICAL_PATH"])
    gaps = sum(c["gaps"]["missing"] + c["gaps"]["rss_only"] for c in plan2["cases"])
    courts = len({c["court"] for c in plan["cases"]})
    no_feed = sum(1 for f in plan["feeds"] if not f["read"])
    parts = [
        f"update: {len(plan['cases'])} cases in {courts} courts",
        f"RSS {free['feeds']} feeds ({free['rss_new']} new entries in {free['rss_cases']} cases"
        + (f", {free['feeds_failed']} failed" if free["feeds_failed"] else "")
        + (f", {no_feed} courts without a feed" if no_feed else "") + ")",
        f"CourtListener {free['cl_calls']} calls ({free['cl_checked']} cases checked, "
        f"{free['cl_changed']} changed, {free['cl_entries']} entries)"
        if plan["token"] else "CourtListener: no token",
        f"Internet Archive {ia_stats['requests']}",
        f"ACMS {acms_done}",
        f"PACER {pacer_runs} (${spent:.2f}"
        + (f"; {documents}" if documents else "") + ")" + (
            f", {len(would)} would need it" if would and not pacer_runs else ""),
        f"{len(appeals)} appeals found" if appeals else "no new appeals",
        f"alerts {queued} new, {sent['sent']} sent, {sent['waiting']} waiting"
        + (f", {sent['dead_total']} given up" if sent.get("dead_total") else ""),
        f"{gaps} gaps",
    ]
    return "; ".join(parts), codes


def _documents_outcome(db, plan_pacer: list, ledger_before: int) -> str:
    """What became of the documents asked for (cases followed with
    ``--documents``): "3 documents bought, 1 left unbought (over budget)"; ""
    when none were asked for."""
    asked = [p for p in plan_pacer if p.get("documents")]
    if not asked:
        return ""
    bought = db.execute("select count(*) from pacer_charges where id > ? and what = 'document' "
                        "and status in ('charged', 'free')", [ledger_before]).fetchone()[0]
    over = db.execute("select count(*) from pacer_charges where id > ? and what = 'document' "
                      "and status = 'over_budget'", [ledger_before]).fetchone()[0]
    gaps = _gaps_by_docket(db, [p["docket_id"] for p in asked])
    left = sum(g["not_stored"] for g in gaps.values())
    budget = over or any("over budget" in (p.get("skip") or "") for p in asked)
    return (f"{bought} document{'s' if bought != 1 else ''} bought"
            + (f", {left} left unbought" + (" (over budget)" if budget else "") if left else ""))


def write_calendar(db, path: str) -> int:
    """The followed cases' hearings and deadlines, iCal, to ``path`` (replaced
    whole: a reader never sees half a file). Returns how many events."""
    ids = [r["id"] for r in fl.followed(db)]
    text = ical.calendar(ical.calendar_events(db.conn, ids), "Followed cases")
    write_atomically(path, text)
    return text.count("BEGIN:VEVENT")


def _read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def set_baselines(db) -> int:
    """Follows whose case a source has now answered for: what the archive holds
    of them is taken as seen (alerts are for what comes after)."""
    now = fl.now_iso()
    with adb.transaction(db):
        ids = [r[0] for r in db.execute(
            "select id from follows where baseline_at is null and exists (select 1 from "
            "case_checks c where c.docket_id = follows.id and c.status = 'ok')").fetchall()]
        for docket_id in ids:
            db.execute("update follows set baseline_at = ? where id = ?", [now, docket_id])
    if ids:
        al.mark_seen(db, ids, now=now)
    return len(ids)
