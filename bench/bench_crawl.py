"""Crawl benchmark: a 500-entry docket with 500 PDFs from the local CourtListener server.

    .venv/bin/python bench/bench_crawl.py [--entries 500] [--no-ocr]

Runs the real `scrapy crawl courtlistener` twice against the local server
(real corpus PDFs from ../shared, each copy made unique) and reports:
- first crawl: wall time, requests made (API and storage), pages extracted
  per second, OCR pages, peak memory (RSS of the crawl and its extraction
  workers together);
- re-crawl of the unchanged docket: requests made and PDFs downloaded
  (target: 0 PDFs, no more than the listing requests).
Results also go to bench/results/crawl.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.servers.cases import synthetic_case  # noqa: E402
from tests.servers.courtlistener import CourtListenerServer  # noqa: E402

SHARED = Path(os.environ.get("DOCKET_SHARED", PROJECT.parent / "shared")).resolve()
TOKEN = "bench-token"


def run(server, workdir: Path, ocr: bool, env: dict | None = None) -> dict:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "courtlistener",
           "-a", "court=cand", "-a", "pacer_case_id=900001",
           "-s", f"ARCHIVE_DB={workdir / 'bench.db'}", "-s", f"FILES_STORE={workdir / 'files'}",
           "-s", f"COURTLISTENER_API_URL={server.api_url}",
           "-s", f"COURTLISTENER_STORAGE_URL={server.storage_url}",
           # the pace is the account's limit, not the code's: measure the code
           "-s", "COURTLISTENER_RATE_PER_MINUTE=60000", "-s", f"EXTRACT_OCR={ocr}",
           "-s", "LOG_LEVEL=WARNING"]
    env = dict(os.environ, COURTLISTENER_TOKEN=TOKEN, **(env or {}))
    api_before = server.log.tally(kind="api")
    storage_before = server.log.tally(kind="storage")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    peak = 0
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            procs = [parent, *parent.children(recursive=True)]
            rss = sum(p.memory_info().rss for p in procs if p.is_running())
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read()
    if proc.returncode:
        raise SystemExit(f"crawl failed ({proc.returncode}):\n{stderr[-3000:]}")
    con = sqlite3.connect(workdir / "bench.db")
    crawl = dict(zip([c[0] for c in con.execute("select * from crawls order by id desc limit 1")
                      .description], con.execute("select * from crawls order by id desc limit 1")
                     .fetchone()))
    pages, ocr_pages = con.execute(
        "select coalesce(sum(page_count), 0), coalesce(sum(length(ocr_pages) - "
        "length(replace(ocr_pages, ',', '')) + (ocr_pages is not null)), 0) "
        "from documents where status in ('ok', 'ocr')").fetchone()
    con.close()
    return {
        "wall_seconds": round(wall, 2),
        "api_requests": server.log.tally(kind="api") - api_before,
        "storage_requests": server.log.tally(kind="storage") - storage_before,
        "requests_total": crawl["requests"],
        "pdfs_downloaded": crawl["pdfs_downloaded"],
        "pdfs_already_stored": crawl["pdfs_already_stored"],
        "documents_extracted": crawl["documents_extracted"],
        "extraction_errors": crawl["extraction_errors"],
        "rows_added": crawl["rows_added"],
        "pages_in_archive": pages,
        "ocr_pages": ocr_pages,
        "peak_rss_mb": round(peak / 2**20, 1),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=500)
    ap.add_argument("--no-ocr", action="store_true")
    args = ap.parse_args()
    if not SHARED.exists():
        raise SystemExit(f"{SHARED} not found: the benchmark serves the real corpus PDFs")
    case = synthetic_case(SHARED, n_entries=args.entries)
    with tempfile.TemporaryDirectory() as tmp, CourtListenerServer([case], token=TOKEN) as server:
        workdir = Path(tmp)
        first = run(server, workdir, ocr=not args.no_ocr)
        first["pages_per_second"] = round(first["pages_in_archive"] / first["wall_seconds"], 1)
        again = run(server, workdir, ocr=not args.no_ocr)
    listing = -(-args.entries // 20) + 1 + 2  # entry pages + docket + parties + attorneys
    result = {"entries": args.entries, "ocr": not args.no_ocr, "cpu_count": os.cpu_count(),
              "first_crawl": first, "recrawl": again,
              "recrawl_listing_requests_expected": listing}
    print(f"Crawl of a {args.entries}-entry docket, {args.entries} PDFs (local server, "
          f"{os.cpu_count()} cores, OCR {'on' if not args.no_ocr else 'off'})")
    print(f"  first crawl : {first['wall_seconds']:>7.1f} s wall, {first['api_requests']} API + "
          f"{first['storage_requests']} PDF requests, {first['pages_in_archive']} pages "
          f"({first['ocr_pages']} by OCR) -> {first['pages_per_second']} pages/s, "
          f"peak RSS {first['peak_rss_mb']} MB, {first['extraction_errors']} extraction errors")
    print(f"  re-crawl    : {again['wall_seconds']:>7.1f} s wall, {again['api_requests']} API + "
          f"{again['storage_requests']} PDF requests, {again['pdfs_downloaded']} PDFs downloaded, "
          f"{again['documents_extracted']} re-extracted, {again['rows_added']} rows added "
          f"(listing needs {listing} API requests)")
    out = PROJECT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "crawl.json").write_text(json.dumps(result, indent=2))
    ok = again["pdfs_downloaded"] == 0 and again["api_requests"] <= listing
    print("  target (re-crawl: 0 PDFs, listing requests only):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
