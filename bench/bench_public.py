"""The public side at size: keeping the public copy current, and one client's load.

    .venv/bin/python bench/bench_public.py [--entries 100000] [--documents 20000] [--keep DIR]

On bench_site.py's archive (bench/site_archive.py: 100,000 entries and 20,000
documents of 5 to 50 pages in 10,000 cases with parties and attorneys), reports:

- the first public copy (every row): seconds, and its size beside the archive's;
- a crawl's worth of change (500 new entries with documents, 200 documents'
  text extracted again, one finished crawl row) brought to the copy from the
  log: seconds, log rows, and how many bytes the archive and the copy grew;
- how long a finished crawl takes to reach the site: a real `archive serve`
  (publishing every 2 s), one crawl written and finished, then the time until
  its last entry answers from the site (polled every 50 ms);
- one client sending 50 slow queries at once (recursive CTEs stopped at the
  3 s limit) while a cheap page (`/dockets.json?_size=1`) is asked once every
  100 ms: the cheap page's median and p95, with the per-client limit (2) and
  without them (--heavy-per-client 1000 --heavy-at-once 1000). Target: p95 under 1 s with the limit.

Results go to bench/results/public.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

import site_archive  # noqa: E402
from bench_site import free_port, pct, report  # noqa: E402

from archive import db as adb  # noqa: E402
from archive import publish  # noqa: E402

SLOW = ("with recursive r(i) as (select 1 union all select i + 1 from r limit 1000000000000) "
        "select i from r order by i desc limit 1")


def crawl_into(path: Path, start: int, n_entries: int = 500, n_reextracted: int = 200) -> int:
    """Write what a crawl of that size writes; returns the crawl id."""
    db = adb.open_db(str(path))
    court, number = "cand", "3:21-cv-10001"
    crawl = adb.start_crawl(db, "bench", court, number, {"bench": True})
    with adb.transaction(db):
        for n in range(start, start + n_entries):
            adb.save_entry(db, {"court_id": court, "docket_number": number, "entry_number": n,
                                "date_filed": "2026-12-01",
                                "description": f"ORDER number {n} granting stay"}, crawl)
            adb.save_document(db, {"court_id": court, "docket_number": number, "entry_number": n,
                                   "description": "Order", "status": "ok",
                                   "text": f"order {n} text " * 300,
                                   "clean_text": f"order {n} text " * 300}, crawl)
        ids = [r[0] for r in db.execute("select id from documents where docket_id != ? "
                                        "limit ?", [adb.docket_key(court, number), n_reextracted])]
        for doc_id in ids:
            adb.save_extraction(db, doc_id, {"text": f"extracted again {start} " * 500,
                                             "clean_text": f"extracted again {start} " * 500})
    adb.finish_crawl(db, crawl, "finished", {})
    adb.close_db(db)
    return crawl


def next_entry(path: Path) -> int:
    """The first entry number the bench case has not used (1 on a new archive)."""
    db = adb.open_db(str(path))
    try:
        row = db.execute("select max(entry_number) from docket_entries where docket_id = ?",
                         [adb.docket_key("cand", "3:21-cv-10001")]).fetchone()
    finally:
        adb.close_db(db)
    return (row[0] or 0) + 1


def get(url: str, timeout: float = 120) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def serve(db_path: Path, *options):
    port = free_port()
    log = open(db_path.parent / f"serve-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "archive", "serve", "--db", str(db_path),
                             "--port", str(port), *options], cwd=PROJECT, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(3000):
        try:
            get(base + "/-/versions.json", timeout=2)
            return proc, base
        except OSError:
            time.sleep(0.2)
    raise SystemExit("archive serve did not start")


def under_load(db_path: Path, *options) -> dict:
    proc, base = serve(db_path, *options)
    try:
        statuses, cheap, stop = [], [], threading.Event()

        def slow():
            statuses.append(get(base + "/site.json?" + urllib.parse.urlencode({"sql": SLOW}))[0])

        def ask_cheap():
            while not stop.is_set():
                started = time.perf_counter()
                get(base + "/site.json?_size=1")
                cheap.append(time.perf_counter() - started)
                stop.wait(0.1)

        watcher = threading.Thread(target=ask_cheap)
        watcher.start()
        threads = [threading.Thread(target=slow) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        watcher.join()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"cheap_median_ms": round(statistics.median(cheap) * 1000, 1),
            "cheap_p95_ms": round(pct(cheap, 95) * 1000, 1),
            "cheap_max_ms": round(max(cheap) * 1000, 1), "cheap_requests": len(cheap),
            "slow_answers": {str(s): statuses.count(s) for s in sorted(set(statuses))}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--keep", help="build (or reuse) the archive in this folder")
    opts = parser.parse_args()
    work = Path(opts.keep or tempfile.mkdtemp(prefix="docket-public-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "site.db"
    result = {}
    if not db_path.exists():
        print(f"building {opts.entries} entries, {opts.documents} documents ...", flush=True)
        result["archive"] = site_archive.build(db_path, opts.entries, opts.documents,
                                               n_cases=max(100, opts.entries // 10))
    copy = work / "public" / "site.db"
    if copy.exists():
        copy.unlink()
    started = time.time()
    done = publish.publish(str(db_path), str(copy))
    result["first_copy"] = {"seconds": round(time.time() - started, 1), "rows": done["rows"],
                            "archive_bytes": os.path.getsize(db_path),
                            "copy_bytes": os.path.getsize(copy)}
    print(json.dumps(result["first_copy"]), flush=True)

    before = {"archive": os.path.getsize(db_path), "copy": os.path.getsize(copy)}
    start = next_entry(db_path)  # a kept archive: each run's crawl files new entries
    crawl_into(db_path, start)
    con = adb.open_db(str(db_path))
    logged = con.execute("select count(*) from public_log where id > ?",
                         [done["position"]]).fetchone()[0]
    log_bytes = con.execute("select sum(pgsize) from dbstat where name = 'public_log'").fetchone()[0]
    log_rows = con.execute("select count(*) from public_log").fetchone()[0]
    adb.close_db(con)
    started = time.time()
    done = publish.publish(str(db_path), str(copy))
    result["crawl_published"] = {
        "seconds": round(time.time() - started, 2), "mode": done["mode"], "rows": done["rows"],
        "log_rows": logged, "log_bytes_in_all": log_bytes, "log_rows_in_all": log_rows,
        "archive_grew_bytes": os.path.getsize(db_path) - before["archive"],
        "copy_grew_bytes": os.path.getsize(copy) - before["copy"]}
    print(json.dumps(result["crawl_published"]), flush=True)

    proc, base = serve(db_path, "--publish-seconds", "2")
    try:
        last = start + 500 + 49
        crawl_into(db_path, start + 500, n_entries=50, n_reextracted=0)
        finished = time.time()
        query = base + "/site.json?" + urllib.parse.urlencode(
            {"sql": f"select count(*) from docket_entries where id = 'cand/3:21-cv-10001#{last}'",
             "_shape": "arrayfirst"})
        while json.loads(get(query)[1]) != [1]:
            time.sleep(0.05)
        result["crawl_to_site_seconds"] = round(time.time() - finished, 2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print("crawl to site:", result["crawl_to_site_seconds"], "s", flush=True)

    result["one_client_50_slow"] = {
        "limited": under_load(db_path),
        "unlimited": under_load(db_path, "--heavy-per-client", "1000", "--heavy-at-once", "1000")}
    result["targets"] = {"cheap_p95_under_1s_with_the_limit":
                         result["one_client_50_slow"]["limited"]["cheap_p95_ms"] < 1000,
                         "crawl_on_the_site_within_a_minute": result["crawl_to_site_seconds"] < 60}
    report("public", result, work, keep=opts.keep)


if __name__ == "__main__":
    main()
