"""The public archive at size: search, a big case page, a release.

    .venv/bin/python bench/bench_site.py [--entries 100000] [--documents 20000] [--keep DIR]

Builds an archive of 100,000 docket entries in 60 cases (one of them 2,000
entries long) and 20,000 documents of 5 to 50 pages of text each (about 300
words a page, drawn from a court vocabulary), through archive/'s own shape
(FTS triggers included), then in the same run reports:

- search latency through the server's HTTP (`python -m archive serve`,
  `/search?q=`), median and 99th percentile over a fixed set of queries, next
  to the same queries (the search page's own SQL) run directly in SQLite, one
  after another on one connection (the server ranks the documents' and the
  entries' indexes at once, on two of Datasette's SQL threads);
- the case page's time for the 2,000-entry docket;
- the interleaved case page (issue 17, item 7): that docket and its appeal (500
  entries, 250 documents, tied by the appeal's originating case number) on one
  timeline, `?courts=all`, median and p99 (`timeline_archive`, `timeline_page`);
- `python -m archive snapshot`'s time and the release's size.

Targets: search median under 100 ms and within 3x of direct SQLite; the case
page under 300 ms; the interleaved case page under 300 ms. Results go to bench/results/site.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
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

from archive import db as adb  # noqa: E402
from archive import urls  # noqa: E402

WORDS = ("court motion order plaintiff defendant injunction preliminary stay appeal judgment "
         "counsel hearing evidence declaration exhibit complaint amended dismiss jurisdiction "
         "statute regulation agency executive application emergency relief irreparable harm "
         "balance equities public interest likelihood success merits constitutional amendment "
         "speech association privacy commerce secretary department transaction prohibition "
         "users alliance communication platform application download service national security "
         "emergency powers act authority review standard deference record administrative "
         "procedure arbitrary capricious notice comment opposition reply brief memorandum "
         "points authorities stipulation schedule deadline discovery deposition witness").split()
QUERIES = ["injunction", "preliminary injunction", '"irreparable harm"', "wechat", "stay appeal",
           "jurisdiction statute", "declaration exhibit", "zyxwv0001", "national security",
           '"arbitrary and capricious"', "counsel hearing deposition", "merits", "commerce",
           "amended complaint dismiss", "secretary", "platform users", "record review",
           "schedule deadline", "privacy speech", "emergency relief"]


def page_texts(rng: random.Random, n: int = 1500, words_per_page: int = 300) -> list[str]:
    vocab = WORDS + [f"term{i:04d}" for i in range(3000)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]  # Zipf-like, as in real text
    pages = []
    for _ in range(n):
        chosen = rng.choices(vocab, weights, k=words_per_page)
        pages.append(" ".join(chosen))
    return pages


def build(path: Path, n_entries: int, n_documents: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    db = adb.open_db(str(path))
    pages = page_texts(rng)
    cases = 60
    big = 2000
    per_case = [big] + [(n_entries - big) // (cases - 1)] * (cases - 1)
    per_case[-1] += n_entries - sum(per_case)
    started = time.time()
    entry_ids = []
    with db.conn:
        for c, count in enumerate(per_case):
            court = "cand" if c % 3 else "nysd"
            number = f"3:2{c % 10}-cv-{10000 + c:05d}"
            docket_id = adb.docket_key(court, number)
            db["dockets"].insert({"id": docket_id, "court_id": court, "docket_number": number,
                                  "case_name": f"Case {c} Holdings v. Agency {c}",
                                  "assigned_to_str": "Judge Bench", "date_filed": "2020-01-02",
                                  "source": "bench"})
            rows = []
            for n in range(1, count + 1):
                day = f"20{20 + n % 5}-{1 + n % 12:02d}-{1 + n % 28:02d}"
                rows.append({"id": f"{docket_id}#{n}", "docket_id": docket_id, "court_id": court,
                             "entry_number": n, "entry_key": str(n), "date_filed": day,
                             "description": " ".join(rng.choices(WORDS, k=18)),
                             "source": "bench"})
                entry_ids.append((docket_id, court, n))
            db["docket_entries"].insert_all(rows, batch_size=1000)
    # documents: the big case's every entry, the rest spread over the other cases
    chosen = entry_ids[:big] + rng.sample(entry_ids[big:], n_documents - big)
    with db.conn:
        batch = []
        for i, (docket_id, court, n) in enumerate(chosen):
            n_pages = rng.randint(5, 50)
            text = "\f".join(rng.choice(pages) for _ in range(n_pages))
            if i % 997 == 0:
                text += " zyxwv0001"  # a rare word
            batch.append({"id": f"{docket_id}#{n}/0", "docket_id": docket_id,
                          "entry_id": f"{docket_id}#{n}", "court_id": court,
                          "document_number": str(n), "attachment_number": 0, "page_count": n_pages,
                          "description": "Order" if n % 2 else "Motion", "status": "ok",
                          "text": text, "clean_text": text,
                          "file_path": f"{court}/x/{docket_id.replace('/', '_')}.{n}.0.pdf",
                          "source": "bench"})
            if len(batch) == 500:
                db["documents"].insert_all(batch)
                batch = []
        if batch:
            db["documents"].insert_all(batch)
    # as a crawl this size leaves it: finish_crawl's tidy_fts optimizes an index
    # whose table the crawl touched by a quarter or more
    for table in adb.FTS:
        adb.optimize_fts(db, f"{table}_fts")
    db.conn.close()
    return {"build_seconds": round(time.time() - started, 1),
            "db_bytes": os.path.getsize(path), "entries": n_entries, "documents": n_documents,
            "big_case": adb.docket_key("nysd", "3:20-cv-10000")}


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


def direct_search(conn, q: str) -> float:
    """The search page's own statements (hits, total, details), run in sqlite3."""
    from archive.plugins import search

    chosen = {"court": "", "case": "", "date_from": "", "date_to": "", "type": ""}
    fts = search.fts_query(q)
    started = time.perf_counter()
    parts, count, params = search.search_statements(chosen, fts)
    hits = search.merge_hits([conn.execute(part, params).fetchall() for part in parts])
    conn.execute(count, params).fetchall()
    for kind, sql in (("document", search.DOCUMENT_DETAILS), ("entry", search.ENTRY_DETAILS)):
        ids = [h[1] for h in hits[:search.PAGE_SIZE] if h[0] == kind]
        if ids:
            conn.execute(sql.format(ids=", ".join(map(str, ids))),
                         {"q": fts, "start": "[", "end": "]"}).fetchall()
    return time.perf_counter() - started


def pct(values, p) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# --- the interleaved case page (issue 17, item 7) --------------------------------

APPEAL_ENTRIES = 500
APPEAL_DOCUMENTS = 250


def add_appeal(path: Path, big_case: str, seed: int = 2) -> dict:
    """The big case's appeal in the archive: its docket (ca2, entries through
    2020-2024 like the district's), its originating case number (docket_origins),
    the district's notice of appeal; then docket_links made as the publisher
    (and `archive serve` at its start) makes them. Idempotent (--keep)."""
    from archive import origins, site_links

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
                             "description": " ".join(rng.choices(WORDS, k=18)), "source": "bench"})
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
    with adb.transaction(db):
        site_links.ensure_shape(db)
        started = time.time()
        written = site_links.refresh(db)
        full = time.time()
        site_links.refresh(db, [appeal_id])
        one = time.time()
    links = db.execute("select count(*) from docket_links").fetchone()[0]
    db.conn.close()
    return {"appeal": appeal_id, "appeal_entries": APPEAL_ENTRIES,
            "appeal_documents": APPEAL_DOCUMENTS, "links": links, "rows_written": written,
            "refresh_all_seconds": round(full - started, 2),
            "refresh_one_docket_seconds": round(one - full, 3)}


def time_timeline(base: str, big_case: str, rounds: int) -> dict:
    """The big case's page with its appeal on one timeline, over HTTP."""
    court, number = big_case.split("/", 1)
    url = base + urls.case(court, number) + "?courts=all"
    with urllib.request.urlopen(url, timeout=60) as answer:
        body = answer.read().decode()
    entries = body.count('class="entry"')
    timed_get(url)
    times = [timed_get(url) for _ in range(rounds)]
    return {"entries": entries, "rounds": rounds,
            "median_ms": round(statistics.median(times) * 1000, 1),
            "p99_ms": round(pct(times, 99) * 1000, 1), "max_ms": round(max(times) * 1000, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", help="build (or reuse) the archive in this folder")
    parser.add_argument("--timeline-rounds", type=int, default=40)
    opts = parser.parse_args()
    work = Path(opts.keep or tempfile.mkdtemp(prefix="docket-site-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "site.db"
    result = {}
    if not db_path.exists():
        print(f"building {opts.entries} entries, {opts.documents} documents in {db_path} ...",
              flush=True)
        result["archive"] = build(db_path, opts.entries, opts.documents)
    else:
        result["archive"] = {"db_bytes": os.path.getsize(db_path), "reused": True,
                             "big_case": adb.docket_key("nysd", "3:20-cv-10000")}
    print(json.dumps(result["archive"]), flush=True)
    result["timeline_archive"] = add_appeal(db_path, result["archive"]["big_case"])
    print(json.dumps(result["timeline_archive"]), flush=True)

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "archive", "serve", "--db", str(db_path),
                               "--port", str(port)], cwd=PROJECT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                timed_get(base + "/-/versions.json")
                break
            except OSError:
                time.sleep(0.2)
        http, direct = [], []
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        for q in QUERIES:  # warm both caches once
            timed_get(base + urls.search(q))
            direct_search(conn, q)
        for _ in range(opts.rounds):
            for q in QUERIES:
                http.append(timed_get(base + urls.search(q)))
                direct.append(direct_search(conn, q))
        conn.close()
        big = result["archive"]["big_case"]
        court, number = big.split("/", 1)
        case_url = base + urls.case(court, number)
        timed_get(case_url)
        case_times = [timed_get(case_url) for _ in range(opts.rounds)]
        result["timeline_page"] = time_timeline(base, big, opts.timeline_rounds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = lambda s: round(s * 1000, 1)  # noqa: E731
    result["search"] = {"queries": len(QUERIES), "rounds": opts.rounds,
                        "http_median_ms": ms(statistics.median(http)),
                        "http_p99_ms": ms(pct(http, 99)),
                        "sqlite_median_ms": ms(statistics.median(direct)),
                        "sqlite_p99_ms": ms(pct(direct, 99)),
                        "ratio_median": round(statistics.median(http) / statistics.median(direct), 2)}
    result["case_page"] = {"entries": 2000, "median_ms": ms(statistics.median(case_times)),
                           "max_ms": ms(max(case_times))}
    out_dir = work / "releases"
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "archive", "snapshot", "--db", str(db_path),
                           "--out", str(out_dir)], cwd=PROJECT, capture_output=True, text=True)
    releases = sorted(out_dir.glob("dockets-*.db"))
    result["snapshot"] = {"seconds": round(time.time() - started, 1), "exit": proc.returncode,
                          "bytes": os.path.getsize(releases[-1]) if releases else None,
                          "source_bytes": os.path.getsize(db_path)}
    result["targets"] = {
        "search_median_under_100ms": result["search"]["http_median_ms"] < 100,
        "search_within_3x_of_sqlite": result["search"]["ratio_median"] <= 3,
        "case_page_under_300ms": result["case_page"]["median_ms"] < 300,
        "timeline_page_under_300ms": result["timeline_page"]["median_ms"] < 300}
    out = PROJECT / "bench" / "results" / "site.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    if not opts.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
