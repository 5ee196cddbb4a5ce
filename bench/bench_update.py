"""Update benchmark (issue 20): 200 followed cases in 20 courts, from the local servers.

    .venv/bin/python bench/bench_update.py [--cases-per-court 10]

The world of tests/servers/follow_world.py (12 courts with a full RSS feed,
2 partial, 5 without one, the Ninth Circuit), served over HTTP; the real
`python -m archive update` (its `scrapy crawl` subprocesses) runs:

1. the first update of 200 new follows (with an account with room for the
   backfill: each case looked up on CourtListener, its entries, parties);
2. an update after 12 new filings in 12 courts (full, partial and missing
   feeds; all on CourtListener): the free sources cover everything, $0; and
   how many updates (an hour apart) it takes until all 12 have their full
   text, with the ordinary account's 5 calls a run;
3. an update where nothing changed;
4. an update after a filing only PACER has (a court without a feed, not on
   CourtListener, the Internet Archive has no copy), with PACER_MONTHLY_BUDGET:
   what PACER costs.

Updates 2-4 use the ordinary account's share: 5 CourtListener calls a run
(the backfill's calls are left out of the hour). Reports requests by source,
dollars and wall time of each; the nothing-changed update's requests against
the target (one per court feed, plus the CourtListener calls the share
allows). Results also go to bench/results/update.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from archive import db as adb  # noqa: E402
from archive import follow as fl  # noqa: E402
from tests.servers.follow_world import COURTS, TOKEN, FollowWorld  # noqa: E402

ROOMY = {"COURTLISTENER_HOURLY_LIMIT": "1000000", "COURTLISTENER_DAILY_LIMIT": "1000000"}


def requests_by_source(world) -> dict:
    out = Counter()
    for name, server in (("pacer", world.pacer), ("courtlistener", world.cl),
                         ("internet_archive", world.ia)):
        for record in server.log.snapshot():
            kind = record["kind"]
            if name == "pacer":
                out["rss" if kind == "rss" else f"pacer:{kind}"] += 1
            elif name == "courtlistener":
                out["courtlistener" if kind == "api" else "courtlistener_storage"] += 1
            else:
                out["internet_archive"] += 1
        server.log.clear()
    return dict(sorted(out.items()))


def update(world, db: Path, work: Path, env: dict, **knobs) -> dict:
    cmd = [sys.executable, "-m", "archive", "update", "--db", str(db)]
    settings = {**world.settings(), "COURTLISTENER_RATE_PER_MINUTE": "600000",
                "FILES_STORE": str(work / "files"), "AUTOTHROTTLE_ENABLED": "False",
                "EXTRACT_OCR": "False", "LOG_LEVEL": "WARNING", **knobs}
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    con = sqlite3.connect(db)
    spent_before = con.execute("select coalesce(sum(cost), 0) from pacer_charges where status = "
                               "'charged'").fetchone()[0]
    con.close()
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"update failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    con = sqlite3.connect(db)
    spent = con.execute("select coalesce(sum(cost), 0) from pacer_charges where status = "
                        "'charged'").fetchone()[0] - spent_before
    con.close()
    con = sqlite3.connect(db)
    by_what = dict(con.execute("select what, round(sum(cost), 2) from pacer_charges where "
                               "status = 'charged' group by what").fetchall())
    con.close()
    return {"wall_seconds": round(wall, 2), "requests": requests_by_source(world),
            "dollars": round(spent, 2), "pacer_to_date_by_what": by_what,
            "summary": done.stdout.strip().splitlines()[-1]}


def in_archive(db_path, added) -> dict:
    """Of the new filings: how many the archive has, and with their full text
    (a version from a source other than RSS)."""
    con = sqlite3.connect(db_path)
    seen = full = 0
    for docket_id, number in added:
        row = con.execute("select id from docket_entries where docket_id = ? and entry_number = ?",
                          [docket_id, number]).fetchone()
        if row:
            seen += 1
            full += bool(con.execute("select 1 from entry_versions where entry_id = ? and source "
                                     "not in ('pacer_rss', 'import:rss')", [row[0]]).fetchone())
    con.close()
    return {"in_archive": seen, "with_full_text": full}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases-per-court", type=int, default=10)
    args = ap.parse_args()
    world = FollowWorld(cases_per_court=args.cases_per_court)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "COURTLISTENER"))}
    env.update(COURTLISTENER_TOKEN=TOKEN, PACER_USERNAME="user", PACER_PASSWORD="pass")
    for server in world.servers():
        server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            db_path = work / "follow.db"
            db = adb.open_db(str(db_path))
            followed = [c for c in world.cases.values() if not c.origin]
            for case in followed:
                fl.follow_case(db, case.court, case.docket_number)
            adb.close_db(db)
            results = {"cases": len(followed), "courts": len(COURTS)}
            results["first"] = update(world, db_path, work, env, FOLLOW_CL_CALLS_PER_RUN="100000",
                                      **ROOMY)
            # 12 new filings, one each in 12 courts of every kind of coverage, all on CourtListener
            picks = ["cand", "cacd", "dcd", "ilnd", "njd", "txsd", "nysd", "mied", "alnd", "caed",
                     "nvd", "ca9"]
            added = []
            for court in picks:
                case = next(c for c in followed if c.court == court and c.on_cl)
                entry = world.add_entry(case.docket_id, "ORDER granting stipulation. Status "
                                        "Conference set for 1/15/2031 10:00 AM.", rss_type="order")
                added.append((case.docket_id, entry["number"]))
            results["changed"] = update(world, db_path, work, env, **ROOMY)
            results["changed"]["filings_in"] = in_archive(db_path, added)
            # the ordinary share of calls may leave some for the next runs: how many,
            # runs an hour apart (every check interval gone by: FOLLOW_CL_*_HOURS=0)
            more, hour_apart = 0, {"FOLLOW_CL_RSS_ONLY_HOURS": "0", "FOLLOW_CL_NOFEED_HOURS": "0",
                                   "FOLLOW_CL_RECHECK_HOURS": "0", **ROOMY}
            while min(in_archive(db_path, added).values()) < len(added) and more < 10:
                update(world, db_path, work, env, **hour_apart)
                more += 1
            results["changed"]["runs_until_all_have_full_text"] = 1 + more
            results["nothing_changed"] = update(world, db_path, work, env, **ROOMY)
            # a filing only PACER has: a court without a feed, a case CourtListener lacks
            lonely = next(c for c in followed if COURTS[c.court] is None and not c.on_cl
                          and not c.appellate)
            world.add_entry(lonely.docket_id, "ORDER to show cause.", on_cl=False)
            con = sqlite3.connect(db_path)  # followed a week ago: no free source has had it since
            week = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)).isoformat()
            con.execute("update follows set added = ? where id = ?", [week, lonely.docket_id])
            con.commit()
            con.close()
            results["pacer"] = update(world, db_path, work, env, PACER_MONTHLY_BUDGET="10",
                                      **ROOMY)
    finally:
        for server in world.servers():
            server.stop()
    feeds = sum(1 for t in COURTS.values() if t is not None)
    quiet = results["nothing_changed"]["requests"]
    target = {"rss": feeds, "courtlistener_at_most": 5}
    met = quiet.get("rss", 0) <= feeds and quiet.get("courtlistener", 0) <= 5 and \
        set(quiet) <= {"rss", "courtlistener"}
    results.update(target=target, target_met=met, date=dt.date.today().isoformat(),
                   cpu_count=os.cpu_count())
    print(f"Update of {results['cases']} followed cases in {results['courts']} courts "
          f"(local servers, {os.cpu_count()} cores)")
    for name, label in (("first", "first update (backfill)"), ("changed", "12 new filings"),
                        ("nothing_changed", "nothing changed"), ("pacer", "a PACER-only filing")):
        r = results[name]
        by = ", ".join(f"{k} {v}" for k, v in r["requests"].items()) or "none"
        print(f"  {label:24} {r['wall_seconds']:6.1f} s  ${r['dollars']:.2f}  requests: {by}")
    got = results["changed"]["filings_in"]
    print(f"  the 12 new filings after one update: {got['in_archive']} in the archive, "
          f"{got['with_full_text']} with their full text; all of them after "
          f"{results['changed']['runs_until_all_have_full_text']} updates (runs an hour apart, "
          "5 CourtListener calls each)")
    print(f"  PACER to date by purchase: {results['pacer']['pacer_to_date_by_what']} "
          "(the ACMS appeal's docket, read once PACER_MONTHLY_BUDGET allows it, and the report)")
    print(f"  nothing-changed target (<= {feeds} feed requests + <= 5 CourtListener calls):",
          "met" if met else "NOT met")
    out = PROJECT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "update.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
