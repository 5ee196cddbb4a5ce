"""Followed cases (issue 20): the follow list, each court's RSS coverage, when
each source last checked a case, what a case lacks, and its dates to come.

The follow list, the feeds' coverage, the webhooks and the CourtListener call
ledger are the operator's own tables (never public: archive/db.py's
``PUBLIC_TABLES`` leaves them out). What the site shows of a case comes from
public tables only: ``case_checks`` (when each source last looked), the
``gaps`` view, ``events`` and the entries' ``kind``; :func:`case_status`,
:func:`next_dates` and :func:`entries_of_kind` read those alone, so they work
on the public copy as on the archive.

Nothing here fetches anything: archive/update.py plans and runs an update,
docket_spider/spiders/update.py fetches.
"""
from __future__ import annotations

import datetime as _dt
import re
import sqlite3
from typing import Iterable, Optional

from parsers.common import docket_number_key

from . import db as adb

SOURCE_NAMES = {"rss": "RSS", "courtlistener": "CourtListener",
                "internet_archive": "the Internet Archive", "acms": "ACMS", "pacer": "PACER"}

# The courts of appeals with an RSS feed (sources.md); the others have none.
APPELLATE_FEEDS = ("ca2", "ca4", "ca6", "ca10", "ca11", "cadc", "cafc")
APPELLATE = re.compile(r"^(?:ca\d{1,2}|cadc|cafc)$")
ACMS_COURTS = ("ca2", "ca9")  # docket_spider.acms.ACMS_COURTS
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

def now_iso(now: Optional[_dt.datetime] = None) -> str:
    moment = now or _dt.datetime.now(_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc).replace(microsecond=0).isoformat()


def parse_time(value) -> Optional[_dt.datetime]:
    """An ISO time (any offset; a bare date at midnight UTC) as an aware datetime."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment


def hours_since(value, now: _dt.datetime) -> Optional[float]:
    moment = parse_time(value)
    return None if moment is None else (now - moment).total_seconds() / 3600


def ago(value, now: Optional[_dt.datetime] = None) -> str:
    """'2 h ago', '3 days ago', 'just now'."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    hours = hours_since(value, now)
    if hours is None:
        return "never"
    minutes = hours * 60
    if minutes < 1:
        return "just now"
    if minutes < 90:
        return f"{int(round(minutes))} min ago"
    if hours < 48:
        return f"{int(round(hours))} h ago"
    return f"{int(round(hours / 24))} days ago"


def is_appellate(court_id: Optional[str]) -> bool:
    return bool(APPELLATE.match(court_id or ""))


# --- the follow list ------------------------------------------------------------

def follow_case(db, court_id: str, docket_number: str, *, parent_id: Optional[str] = None,
                found_by: Optional[str] = None, pacer_case_id: Optional[str] = None,
                acms_case_id: Optional[str] = None, documents: bool = False,
                now: Optional[str] = None) -> tuple[str, bool]:
    """Follow a case (idempotent). Returns (its docket id, whether it is new)."""
    court_id = (court_id or "").strip().lower()
    if not re.match(r"^[a-z0-9]{2,8}$", court_id):
        raise ValueError(f"{court_id!r} is not a court id (cand, nysd, ca9 ...)")
    number = docket_number_key(docket_number or "")
    if not re.search(r"\d", number):
        raise ValueError(f"{docket_number!r} is not a docket number")
    docket_id = adb.docket_key(court_id, number)
    with adb.transaction(db):
        have = db.execute("select id, parent_id, documents from follows where id = ?",
                          [docket_id]).fetchone()
        if have:
            updates = {}
            if documents and not have[2]:
                updates["documents"] = 1
            if pacer_case_id:
                updates["pacer_case_id"] = str(pacer_case_id)
            if acms_case_id:
                updates["acms_case_id"] = acms_case_id
            if parent_id and not have[1] and found_by:
                updates.update(parent_id=parent_id, found_by=found_by)
            if updates:
                db["follows"].update(docket_id, updates)
            return docket_id, False
        known = db.execute("select pacer_case_id from dockets where id = ?", [docket_id]).fetchone()
        db["follows"].insert({
            "id": docket_id, "docket_id": docket_id, "court_id": court_id,
            "docket_number": number, "added": now or now_iso(), "parent_id": parent_id,
            "found_by": found_by, "pacer_case_id": str(pacer_case_id or "") or
            (known[0] if known and known[0] else None),
            "acms_case_id": acms_case_id, "documents": 1 if documents else 0})
    return docket_id, True


def unfollow(db, court_id: str, docket_number: str) -> list[str]:
    """Stop following a case and the appeals found from it; returns the ids dropped.
    Its archived rows stay; alerts already queued are still delivered."""
    docket_id = adb.docket_key(court_id.strip().lower(), docket_number)
    with adb.transaction(db):
        gone = [docket_id] if db.execute("select 1 from follows where id = ?",
                                         [docket_id]).fetchone() else []
        gone += [r[0] for r in db.execute("select id from follows where parent_id = ?",
                                          [docket_id]).fetchall()]
        for row_id in gone:
            db.execute("delete from follows where id = ?", [row_id])
            db.execute("update webhooks set active = 0 where docket_id = ?", [row_id])
    return gone


def followed(db) -> list[dict]:
    """Every followed case: its follow row, the docket's name, and its coverage."""
    rows = [dict(r) for r in db.query(
        "select f.*, d.case_name, d.pacer_case_id as docket_pacer_case_id from follows f "
        "left join dockets d on d.id = f.id order by f.court_id, f.docket_number")]
    feeds = {r["id"]: r for r in db.query("select * from court_feeds")}
    for row in rows:
        row["pacer_case_id"] = row["pacer_case_id"] or row.pop("docket_pacer_case_id", None)
        row.pop("docket_pacer_case_id", None)
        row["feed"] = feeds.get(row["court_id"]) or default_coverage(row["court_id"])
    return rows


# --- RSS coverage ---------------------------------------------------------------

def feed_coverage(description: Optional[str]) -> tuple[str, list[str]]:
    """A feed's coverage from its channel description ("Docket entries of type:
    all" is full; a list of types is partial, with the kinds of entries it
    carries; a feed that says nothing is taken as full)."""
    text = (description or "").strip()
    m = re.search(r"type[s]?\s*:\s*(.*)$", text, re.I | re.S)
    if not m:
        return "full", []
    listed = [t.strip().lower() for t in re.split(r"[,\s]+", m.group(1)) if t.strip()]
    if not listed or "all" in listed:
        return "full", []
    return "partial", listed


def default_coverage(court_id: str) -> dict:
    """What is known of a court's feed before it is read: courts of appeals
    without CM/ECF RSS have none (never fetched); every other court is tried."""
    if is_appellate(court_id) and court_id not in APPELLATE_FEEDS:
        return {"id": court_id, "coverage": "none", "kinds": None,
                "detail": "this court of appeals has no RSS feed", "next_probe": None}
    return {"id": court_id, "coverage": "unknown", "kinds": None, "detail": "not read yet",
            "next_probe": None}


def coverage_label(feed: dict) -> str:
    """"full", "none", "unknown", "partial (order, opinion, judgment)" (a long
    list of types cut short: "partial (27 types: adr, answer, appeal, ...)")."""
    coverage = feed.get("coverage") or "unknown"
    kinds = feed.get("kinds")
    if coverage == "partial" and kinds:
        types = [k.strip() for k in (kinds if isinstance(kinds, list) else kinds.split(","))]
        if len(types) > 5:
            return f"partial ({len(types)} types: {', '.join(types[:3])}, ...)"
        return f"partial ({', '.join(types)})"
    return coverage


def save_feed_read(db, court_id: str, *, ok: bool, coverage: Optional[str] = None,
                   kinds: Optional[list] = None, items: Optional[int] = None,
                   detail: Optional[str] = None, now: Optional[str] = None,
                   probe_days: float = 7) -> None:
    """What one read of a court's feed showed (``ok``: a feed was read;
    ``coverage`` none: the court has no working feed, tried again after
    ``probe_days``)."""
    now = now or now_iso()
    row = {"id": court_id, "last_read": now, "status": "ok" if ok else "failed",
           "detail": detail, "items": items}
    if ok:
        row.update(last_ok=now, coverage=coverage or "full",
                   kinds=", ".join(kinds) if kinds else None, next_probe=None)
    elif coverage == "none":
        later = parse_time(now) + _dt.timedelta(days=probe_days)
        row.update(coverage="none", kinds=None, next_probe=now_iso(later))
    with adb.transaction(db):
        db["court_feeds"].upsert(row, pk="id", alter=False)


# --- checks ---------------------------------------------------------------------

def check_id(docket_id: str, source: str) -> str:
    return f"{docket_id}#check-{source}"


def record_check(db, docket_id: str, source: str, *, ok: bool = True, changed: bool = False,
                 detail: Optional[str] = None, now: Optional[str] = None,
                 has_copy: bool = True) -> None:
    """A source looked at a case: when, whether it answered (``ok``), whether it
    had news, and whether it has the case at all (``has_copy``: a source
    without it answered, but checked nothing)."""
    now = now or now_iso()
    court_id = docket_id.split("/", 1)[0]
    status = ("ok" if has_copy else "no copy") if ok else "failed"
    row = {"id": check_id(docket_id, source), "docket_id": docket_id, "court_id": court_id,
           "source": source, "last_checked": now, "status": status, "detail": detail}
    if ok and has_copy:
        row["last_ok"] = now
    if changed:
        row["last_changed"] = now
    with adb.transaction(db):
        have = db.execute("select 1 from case_checks where id = ?", [row["id"]]).fetchone()
        if have:
            db["case_checks"].update(row["id"], {k: v for k, v in row.items() if k != "id"})
        else:
            db["case_checks"].insert(row)


def checks_of(conn, docket_id: str) -> dict[str, dict]:
    """source -> its case_checks row, for one case."""
    return {row["source"]: row for row in
            _dicts(conn, "select * from case_checks where docket_id = ?", [docket_id])}


# --- what the site shows (public tables only) ------------------------------------

def _conn(conn):
    """A sqlite3 connection from a connection or a sqlite_utils Database."""
    return getattr(conn, "conn", conn)


def _dicts(conn, sql: str, params=()) -> list[dict]:
    cursor = _conn(conn).execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def gaps_of(conn, docket_id: str) -> list[dict]:
    """The ``gaps`` view's rows of one case (see archive/db.py's VIEWS)."""
    return _dicts(conn, "select * from gaps where docket_id = ? order by kind, "
                  "coalesce(entry_from, 0)", [docket_id])


def gap_counts(conn, docket_id: str) -> dict:
    """{"missing": entries missing between known numbers, "rss_only": entries only
    an RSS item announced, "not_stored": documents listed but not stored}."""
    conn = _conn(conn)
    counts = dict(conn.execute("select kind, sum(count) from gaps where docket_id = ? "
                               "group by kind", [docket_id]).fetchall())
    return {"missing": int(counts.get("missing numbers") or 0),
            "rss_only": int(counts.get("rss only") or 0),
            "not_stored": int(counts.get("not stored") or 0)}


def case_status(conn, docket_id: str, now: Optional[_dt.datetime] = None) -> dict:
    """What a case page shows of a case's freshness and completeness::

        {"last_checked": ISO or None, "checked_ago": "2 h ago", "by": {source: {...}},
         "gaps": 3, "missing": 2, "rss_only": 1, "not_stored": 40,
         "line": "checked 2 h ago; 3 gaps"}

    ``gaps`` counts entries missing between known numbers and entries known
    only from RSS; documents not stored are counted apart (a case may
    reasonably leave many PDFs unbought). Reads public tables only."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    checks = checks_of(conn, docket_id)
    by = {}
    for source, row in checks.items():
        by[source] = {"name": SOURCE_NAMES.get(source, source), "checked": row["last_checked"],
                      "ago": ago(row["last_checked"], now), "ok": row["status"] != "failed",
                      "status": row["status"],
                      "last_changed": row.get("last_changed"), "detail": row.get("detail")}
    last = max((r["last_ok"] for r in checks.values() if r.get("last_ok")), default=None)
    counts = gap_counts(conn, docket_id)
    gaps = counts["missing"] + counts["rss_only"]
    parts = [f"checked {ago(last, now)}" if last else "not checked yet"]
    parts.append("no gaps" if not gaps else f"{gaps} gap{'s' if gaps != 1 else ''}")
    if counts["not_stored"]:
        parts.append(f"{counts['not_stored']} document{'s' if counts['not_stored'] != 1 else ''}"
                     " not stored")
    return {"last_checked": last, "checked_ago": ago(last, now) if last else None, "by": by,
            "gaps": gaps, **counts, "line": "; ".join(parts)}


def next_dates(conn, docket_id: Optional[str] = None, today: Optional[str] = None,
               limit: int = 5, docket_ids: Optional[list] = None) -> list[dict]:
    """The hearings and deadlines to come (on or after ``today``), soonest first,
    of one case (``docket_id``), of several (``docket_ids``) or of every case:
    events neither superseded nor vacated, each with its entry's number, the
    case and what set it."""
    conn = _conn(conn)
    today = today or _dt.date.today().isoformat()
    where, params = ["ev.date >= ?", "ev.superseded_by is null",
                     "coalesce(ev.status, '') != 'vacated'"], [today]
    if docket_id:
        where.append("ev.docket_id = ?")
        params.append(docket_id)
    elif docket_ids is not None:
        where.append(f"ev.docket_id in ({', '.join('?' for _ in docket_ids) or 'null'})")
        params.extend(docket_ids)
    sql = ("select ev.*, e.entry_key, e.description as entry_description, d.docket_number, "
           "d.case_name from events ev left join docket_entries e on e.id = ev.entry_id "
           "left join dockets d on d.id = ev.docket_id where " + " and ".join(where) +
           " order by ev.date, coalesce(ev.time, ''), ev.docket_id, ev.id"
           + (f" limit {int(limit)}" if limit else ""))
    return _dicts(conn, sql, params)


def entries_of_kind(conn, docket_id: Optional[str], kinds: Iterable[str],
                    limit: int = 200) -> list[dict]:
    """A case's entries (or every case's, ``docket_id`` None) of the given kinds,
    latest first: what a kind-filtered feed or case page lists."""
    conn = _conn(conn)
    kinds = [k for k in kinds if k]
    where, params = [f"e.kind in ({', '.join('?' for _ in kinds) or 'null'})"], list(kinds)
    if docket_id:
        where.append("e.docket_id = ?")
        params.append(docket_id)
    return _dicts(conn, "select e.*, d.docket_number, d.case_name from docket_entries e join "
                  "dockets d on d.id = e.docket_id where " + " and ".join(where) +
                  " order by coalesce(e.date_filed, substr(e.first_seen, 1, 10)) desc, "
                  f"e.entry_number desc, e.id desc limit {int(limit)}", params)


def versions_of(conn, entry_id: str) -> list[dict]:
    """Every source's version of an entry, first seen first."""
    return _dicts(conn, "select * from entry_versions where entry_id = ? order by first_seen, id",
                  [entry_id])


def open_readonly(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(adb.ro_uri(path), uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    return conn


def followed_one(db, docket_id: str) -> Optional[dict]:
    return next((r for r in followed(db) if r["id"] == docket_id), None)
