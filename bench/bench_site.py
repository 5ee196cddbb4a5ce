"""The public archive at size: finding a case, the home page, filing search,
a big case page, a release; and filing search on an archive ten times larger.

    .venv/bin/python bench/bench_site.py [--rounds 5] [--keep DIR] [--no-big]

The archive (bench/site_archive.py): 100,000 docket entries and 20,000
documents of 5 to 50 pages in 10,000 cases with parties and attorneys (one
case of 2,000 entries), indexed for the site (archive.site.case_index: the time
of a full refresh and of five cases' is reported). Served by `python -m
archive serve`, measured over HTTP, median and 99th percentile:

- case search: the home page searching the cases (`/?q=`: names, numbers as
  printed, parties, firms, judges; site_archive.CASE_QUERIES);
- the home page filtered and sorted (court, status, dates, sorts, a far page);
- filing search (`/search?q=`, cases above filings), next to the same
  statements run directly in SQLite on one connection, one after another
  (the server runs them at once on its SQL threads): the ratio of medians;
  and the same narrowed by a court, a case, dates or attachments (FILTERED);
- the case page of the 2,000-entry docket (`bench_case_page`);
- the interleaved case page: that docket and its appeal (500 entries, 250
  documents, tied by the appeal's originating case number) on one timeline,
  `?courts=all` (`add_appeal`, `bench_timeline`);
- `python -m archive snapshot`'s time and the release's size.

Then the large archive: 1,000,000 entries and 200,000 one-page documents
(`--no-big` skips it): filing search p50 and p99, over HTTP and direct, and
what ranking every hit of a common word with bm25 would cost (the search
ranks at most the newest RANK_CAP hits of each index).

Targets: case search median < 50 ms, home page median < 200 ms, filing
search within 3x of direct SQLite, case page and interleaved page < 300 ms,
large-archive filing
search p99 < 500 ms. Results go to bench/results/site.json.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

import site_archive  # noqa: E402

from archive import db as adb  # noqa: E402
from archive.site import urls  # noqa: E402

QUERIES = ["injunction", "preliminary injunction", '"irreparable harm"', "wechat", "stay appeal",
           "jurisdiction statute", "declaration exhibit", "zyxwv0001", "national security",
           '"arbitrary and capricious"', "counsel hearing deposition", "merits", "commerce",
           "amended complaint dismiss", "secretary", "platform users", "record review",
           "schedule deadline", "privacy speech", "emergency relief",
           # the search language: either, without, prefix, a court's common word
           "injunction OR stay", "motion -order", "inj*", "court"]
# the same search narrowed: a court, a case, dates, attachments only
FILTERED = [("court", {"court": "nysd"}), ("injunction", {"case": "nysd/3:20-cv-10000"}),
            ("motion", {"date_from": "2021-01-01", "date_to": "2021-06-30"}),
            ("order", {"type": "attachment"}), ("stay appeal", {"court": "ca9"}),
            ("zyxwv0001", {"court": "cand"})]
HOME_PAGES = ["/", "/?court=nysd&sort=filed", "/?status=open&sort=name",
              "/?court=deb&status=terminated&sort=entries",
              "/?filed_from=2010-01-01&filed_to=2015-12-31&sort=last_filing_asc",
              "/?last_from=2020-01-01&sort=court", "/?page=150",
              "/?q=Smith&status=open&sort=filed", "/?court=ca9&sort=last_filing&page=3"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed_get(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as answer:
        answer.read()
        assert answer.status == 200
    return time.perf_counter() - started


@contextlib.contextmanager
def serving(db_path: Path):
    """`python -m archive serve` on a free port: its base URL."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "archive", "serve", "--db", str(db_path),
                               "--port", str(port)], cwd=PROJECT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(3000):  # the first public copy of a large archive takes minutes
            try:
                timed_get(base + "/-/versions.json")
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError("archive serve exited")
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def pct(values, p) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def summary(times: list) -> dict:
    return {"n": len(times), "median_ms": ms(statistics.median(times)),
            "p99_ms": ms(pct(times, 99)), "max_ms": ms(max(times))}


def measure(urls_: list, rounds: int) -> list:
    for url in urls_:  # warm the caches once
        timed_get(url)
    return [timed_get(url) for _ in range(rounds) for url in urls_]


# --- the measurements ---------------------------------------------------------------

def bench_case_search(base: str, rounds: int) -> dict:
    """Finding a case: the home page's case search."""
    times = measure([base + "/?" + urllib.parse.urlencode({"q": q})
                     for q in site_archive.CASE_QUERIES], rounds)
    return {"queries": len(site_archive.CASE_QUERIES), **summary(times)}


def bench_home(base: str, rounds: int) -> dict:
    """The home page, filtered and sorted."""
    return {"pages": len(HOME_PAGES), **summary(measure([base + p for p in HOME_PAGES], rounds))}


def direct_search(conn, typed: str, filters: dict = None) -> float:
    """The search page's filing statements (hits, count, details), run in sqlite3."""
    from archive.site import search
    from archive.site.search_query import parse

    async def execute(statements):
        return [conn.execute(sql, params).fetchall() for sql, params in statements]

    async def run(q):
        found = await search.find_filings(execute, q, {**search.NO_FILTERS, **(filters or {})}, 1)
        await search.result_details(execute, q, found["units"])

    started = time.perf_counter()
    asyncio.run(run(parse(typed).fts))
    return time.perf_counter() - started


def bench_filing_search(base: str, db_path: Path, rounds: int, searches=None) -> dict:
    """Filing search over HTTP, and the same statements directly in SQLite."""
    searches = searches or [(q, {}) for q in QUERIES]
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    http, direct = [], []
    for q, filters in searches:  # warm both caches once
        timed_get(base + urls.search(q, **filters))
        direct_search(conn, q, filters)
    for _ in range(rounds):
        for q, filters in searches:
            http.append(timed_get(base + urls.search(q, **filters)))
            direct.append(direct_search(conn, q, filters))
    conn.close()
    return {"queries": len(searches), "rounds": rounds,
            "http": summary(http), "sqlite": summary(direct),
            "ratio_median": round(statistics.median(http) / statistics.median(direct), 2)}


def bench_case_page(base: str, docket_id: str, rounds: int) -> dict:
    """The case page of the 2,000-entry docket.

    wt17b (issue 17, item 7): the interleaved page of this docket with its
    appeal is measured here; site_archive.BIG_CASE is the docket."""
    court, number = docket_id.split("/", 1)
    url = base + urls.case(court, number)
    timed_get(url)
    times = [timed_get(url) for _ in range(rounds)]
    return {"entries": site_archive.BIG_ENTRIES, **summary(times)}


def bench_snapshot(db_path: Path, work: Path) -> dict:
    out_dir = work / "releases"
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "archive", "snapshot", "--db", str(db_path),
                           "--out", str(out_dir)], cwd=PROJECT, capture_output=True, text=True)
    releases = sorted(out_dir.glob("dockets-*.db"))
    return {"seconds": round(time.time() - started, 1), "exit": proc.returncode,
            "bytes": os.path.getsize(releases[-1]) if releases else None,
            "source_bytes": os.path.getsize(db_path)}


def unbounded_ranking(db_path: Path, word: str = "court") -> dict:
    """What ranking every hit of a common word would take (what the search bounds)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    out = {}
    for fts, bm25 in (("documents_fts", "bm25(documents_fts, 2.0, 1.0)"),
                      ("docket_entries_fts", "bm25(docket_entries_fts)")):
        q = f'"{word}"'
        hits = conn.execute(f"select count(*) from {fts} where {fts} match ?", [q]).fetchone()[0]
        started = time.perf_counter()
        conn.execute(f"select rowid, {bm25} as s from {fts} where {fts} match ? "
                     "order by s limit 21", [q]).fetchall()
        out[fts] = {"word": word, "hits": hits, "rank_all_ms": ms(time.perf_counter() - started)}
    conn.close()
    return out


# --- the interleaved case page (issue 17, item 7) --------------------------------

APPEAL_ENTRIES = 500
APPEAL_DOCUMENTS = 250


def add_appeal(path: Path, big_case: str, seed: int = 2) -> dict:
    """The big case's appeal in the archive: its docket (ca2, entries through
    the district's years), its originating case number (docket_origins), the
    district's notice of appeal; then docket_links made as the publisher makes
    them on the public copy (timed, rolled back here). Idempotent (--keep)."""
    from archive import origins
    from archive.site import links as site_links

    rng = random.Random(seed)
    court, number = "ca2", "20-4000"
    appeal_id = adb.docket_key(court, number)
    db = adb.open_db(str(path))
    started = time.time()
    if not db.execute("select 1 from dockets where id = ?", [appeal_id]).fetchone():
        district_court, district_number = big_case.split("/", 1)
        with adb.transaction(db):
            db["dockets"].insert({"id": appeal_id, "court_id": court, "docket_number": number,
                                  "case_name": "Case 0 Holdings v. Agency 0",
                                  "date_filed": "2021-01-05", "source": "bench"})
            rows, docs = [], []
            for n in range(1, APPEAL_ENTRIES + 1):
                day = f"20{21 + n % 4}-{1 + n % 12:02d}-{1 + (n * 7) % 28:02d}"
                rows.append({"id": f"{appeal_id}#{n}", "docket_id": appeal_id, "court_id": court,
                             "entry_number": n, "entry_key": str(n), "date_filed": day,
                             "description": " ".join(rng.choices(site_archive.WORDS, k=18)), "source": "bench"})
                if n <= APPEAL_DOCUMENTS:
                    docs.append({"id": f"{appeal_id}#{n}/0", "docket_id": appeal_id,
                                 "entry_id": f"{appeal_id}#{n}", "court_id": court,
                                 "document_number": str(n), "attachment_number": 0,
                                 "page_count": 3, "description": "Brief", "status": "ok",
                                 "text": "appeal brief " * 200, "clean_text": "appeal brief " * 200,
                                 "file_path": f"{court}/x/{n}.pdf", "source": "bench"})
            db["docket_entries"].insert_all(rows, batch_size=1000)
            db["documents"].insert_all(docs, batch_size=500)
            db["docket_entries"].insert({
                "id": f"{big_case}#notice", "docket_id": big_case, "court_id": district_court,
                "entry_number": 99999, "entry_key": "99999", "date_filed": "2021-01-04",
                "description": "NOTICE OF APPEAL to the 2nd Circuit Court of Appeals as to 12 "
                               "Order by Case 0 Holdings.", "source": "bench"})
            origins.save_origin(db, court, number, {"court_id": district_court,
                                                    "docket_number": district_number,
                                                    "date_filed_noa": "2021-01-04"}, "bench")
    # what the publisher does on the public copy, timed here and rolled back: the
    # archive keeps no derived table
    db.execute("begin immediate")
    try:
        site_links.ensure_shape(db)
        started = time.time()
        written = site_links.refresh(db)
        full = time.time()
        site_links.refresh(db, [appeal_id])
        one = time.time()
        links = db.execute("select count(*) from docket_links").fetchone()[0]
    finally:
        db.execute("rollback")
    adb.close_db(db)
    return {"appeal": appeal_id, "appeal_entries": APPEAL_ENTRIES,
            "appeal_documents": APPEAL_DOCUMENTS, "links": links, "rows_written": written,
            "refresh_all_seconds": round(full - started, 2),
            "refresh_one_docket_seconds": round(one - full, 3)}


def bench_timeline(base: str, big_case: str, rounds: int) -> dict:
    """The big case's page with its appeal on one timeline, over HTTP."""
    court, number = big_case.split("/", 1)
    url = base + urls.case(court, number) + "?courts=all"
    with urllib.request.urlopen(url, timeout=60) as answer:
        body = answer.read().decode()
    entries = body.count('class="entry"')
    timed_get(url)
    times = [timed_get(url) for _ in range(rounds)]
    return {"entries": entries, **summary(times)}



# --- the archives -------------------------------------------------------------------

def archive_at(path: Path, **sizes) -> dict:
    """Build (or reuse) the archive at ``path`` and index it for the site."""
    if path.exists():
        return {"db_bytes": os.path.getsize(path), "reused": True,
                "big_case": adb.docket_key(*site_archive.BIG_CASE)}
    print(f"building {sizes} in {path} ...", flush=True)
    made = site_archive.build(path, **sizes)
    made["site_index"] = site_archive.index_site(path)
    return made


def bench_big(work: Path, rounds: int) -> dict:
    path = work / "big.db"
    made = archive_at(path, n_entries=1_000_000, n_documents=200_000, pages=(1, 1))
    print(json.dumps(made), flush=True)
    with serving(path) as base:
        filing = bench_filing_search(base, path, rounds)
        filtered = bench_filing_search(base, path, rounds, FILTERED)
    return {"archive": made, "filing_search": filing, "filtered_search": filtered,
            "unbounded": unbounded_ranking(path)}


def report(name: str, result: dict, work: Path, keep) -> None:
    """Write ``bench/results/<name>.json``, print it, and remove the work folder
    unless it was asked to be kept."""
    out = PROJECT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    if not keep:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", help="build (or reuse) the archives in this folder")
    parser.add_argument("--no-big", action="store_true", help="skip the 1,000,000-entry archive")
    parser.add_argument("--no-snapshot", action="store_true", help="skip the release's timing")
    parser.add_argument("--timeline-rounds", type=int, default=40)
    opts = parser.parse_args()
    work = Path(opts.keep or tempfile.mkdtemp(prefix="docket-site-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "site.db"
    result = {"archive": archive_at(db_path)}
    print(json.dumps(result["archive"]), flush=True)
    result["timeline_archive"] = add_appeal(db_path, result["archive"]["big_case"])
    print(json.dumps(result["timeline_archive"]), flush=True)
    with serving(db_path) as base:
        result["case_search"] = bench_case_search(base, opts.rounds)
        result["home"] = bench_home(base, opts.rounds)
        result["filing_search"] = bench_filing_search(base, db_path, opts.rounds)
        result["filtered_search"] = bench_filing_search(base, db_path, opts.rounds, FILTERED)
        result["case_page"] = bench_case_page(base, result["archive"]["big_case"], opts.rounds)
        result["timeline_page"] = bench_timeline(base, result["archive"]["big_case"],
                                                 opts.timeline_rounds)
    if not opts.no_snapshot:
        result["snapshot"] = bench_snapshot(db_path, work)
    if not opts.no_big:
        result["big"] = bench_big(work, opts.rounds)
    result["targets"] = {
        "case_search_median_under_50ms": result["case_search"]["median_ms"] < 50,
        "home_median_under_200ms": result["home"]["median_ms"] < 200,
        "filing_search_within_3x_of_sqlite": result["filing_search"]["ratio_median"] <= 3,
        "case_page_under_300ms": result["case_page"]["median_ms"] < 300,
        "timeline_page_under_300ms": result["timeline_page"]["median_ms"] < 300}
    if "big" in result:
        result["targets"]["big_filing_search_p99_under_500ms"] = \
            result["big"]["filing_search"]["http"]["p99_ms"] < 500
    report("site", result, work, keep=opts.keep)


if __name__ == "__main__":
    main()
