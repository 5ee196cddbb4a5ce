"""The archive writer's rows per second (archive/writer.py).

    .venv/bin/python bench/bench_writer.py [--dockets 20] [--entries 500]

Makes the items a crawl of ``--dockets`` cases of ``--entries`` entries would
(a docket, its entries, one document per entry with 4 KB of text, parties),
then saves them three ways into an empty archive:

- direct: ``archive.load.save_item`` in one process, each item its own
  transaction, as ArchivePipeline does without the queue;
- queued: every item sent to the Redis stream first (the crawls' side: how
  fast XADD takes them), then ``python -m archive writer --until-idle``
  applying the whole stream (batches of 500 in one transaction each);
- live: the writer running while two sender processes send at once.

Reports rows per second and the ratio of the writer to the direct save; the
three archives must hold the same rows. Results go to bench/results/writer.json.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.servers.redis_server import start_redis, stop_redis  # noqa: E402

WORDS = ("motion order plaintiff defendant court injunction hearing declaration exhibit "
         "opposition reply brief stipulation ruling judgment appeal record filed granted denied "
         "executive wechat users alliance commerce prohibition transactions").split()


def items(dockets: int, entries: int) -> list[tuple[str, dict]]:
    rnd = random.Random(5910)
    out = []
    for d in range(dockets):
        number = f"3:20-cv-{10000 + d:05d}"
        base = {"source": "courtlistener", "court_id": "cand", "docket_number": number}
        out.append(("DocketItem", dict(base, case_name=f"Users Alliance {d} v. Trump",
                                       pacer_case_id=str(900000 + d), date_filed="2020-08-21")))
        for p in range(4):
            out.append(("PartyItem", dict(base, name=f"Party {d}-{p}", party_type="Plaintiff")))
        for n in range(1, entries + 1):
            text = " ".join(rnd.choice(WORDS) for _ in range(600))  # about 4 KB
            out.append(("DocketEntryItem", dict(base, entry_number=n, date_filed="2020-09-01",
                                                description=f"ORDER {n}: " + text[:200])))
            out.append(("DocumentItem", dict(
                base, pacer_case_id=str(900000 + d), entry_number=n, document_number=str(n),
                attachment_number=0, document_type=1, description=f"Order {n}",
                pacer_doc_id=f"035{d:03d}{n:06d}", is_available=True, page_count=3,
                file_path=f"cand/{d}/{n}.pdf", sha256=f"{d:032x}{n:032x}", text=text,
                clean_text=text, status="ok", extractor_version="bench")))
    return out


def rows_of(db: Path) -> dict:
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("dockets", "docket_entries", "documents", "parties")}
    finally:
        con.close()


def direct(work: Path, batch: list) -> float:
    from archive import db as adb
    from archive.load import save_item

    db = adb.open_db(str(work / "direct.db"))
    crawl = adb.start_crawl(db, "bench", "cand", None, {})
    began = time.perf_counter()
    for kind, data in batch:
        save_item(db, kind, data, crawl)
    seconds = time.perf_counter() - began
    db.conn.close()
    return seconds


def _send(url: str, batch: list) -> None:
    from archive.access import QueueArchive

    queue = QueueArchive(url)
    for kind, data in batch:
        queue.send(kind, data)
    queue.close()


def writer_cmd(url: str, db: Path, *extra) -> list[str]:
    return [sys.executable, "-m", "archive", "writer", "--db", str(db), "--queue", url,
            "--loglevel", "WARNING", *extra]


def queued(work: Path, url: str, batch: list) -> tuple[float, float]:
    from archive.writer import Writer

    began = time.perf_counter()
    _send(url, batch)
    sent = time.perf_counter() - began
    writer = Writer(str(work / "queued.db"), url)  # the CLI's writer, in this process
    stats = writer.run(until_idle=True)
    writer.close()
    return sent, stats["busy_seconds"]


def live(work: Path, url: str, batch: list) -> float:
    writer = subprocess.Popen(writer_cmd(url, work / "live.db"), cwd=PROJECT,
                              stderr=subprocess.DEVNULL)
    time.sleep(1.5)  # started, its group made
    halves = [batch[: len(batch) // 2], batch[len(batch) // 2:]]
    began = time.perf_counter()
    senders = [multiprocessing.Process(target=_send, args=(url, half)) for half in halves]
    for proc in senders:
        proc.start()
    for proc in senders:
        proc.join()
    import redis

    client = redis.Redis.from_url(url)
    while client.xlen("docket_archive"):
        time.sleep(0.02)
    seconds = time.perf_counter() - began
    writer.terminate()
    writer.wait(timeout=60)
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dockets", type=int, default=20)
    ap.add_argument("--entries", type=int, default=500)
    args = ap.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    batch = items(args.dockets, args.entries)
    n = len(batch)
    print(f"{n} items ({args.dockets} dockets x {args.entries} entries with a 4 KB document "
          "each, and parties)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t_direct = direct(work, batch)
        print(f"  direct (one process, a transaction per item): {t_direct:6.1f} s, "
              f"{n / t_direct:8.0f} items/s", flush=True)
        proc, url = start_redis(work)
        try:
            t_send, t_writer = queued(work, url, batch)
            print(f"  queued: sent in {t_send:6.1f} s ({n / t_send:8.0f} items/s); writer applied "
                  f"them in {t_writer:6.1f} s, {n / t_writer:8.0f} items/s", flush=True)
            t_live = live(work, url, batch)
            print(f"  live: two senders and the writer at once: {t_live:6.1f} s, "
                  f"{n / t_live:8.0f} items/s", flush=True)
        finally:
            stop_redis(proc)
        same = rows_of(work / "direct.db") == rows_of(work / "queued.db") == rows_of(work / "live.db")
        counts = rows_of(work / "queued.db")
        size = os.path.getsize(work / "queued.db")
    if not same:
        raise SystemExit("the three archives differ")
    summary = {
        "items": n, "rows": counts, "db_bytes": size, "cpu_count": os.cpu_count(),
        "direct_items_per_second": round(n / t_direct),
        "send_items_per_second": round(n / t_send),
        "writer_items_per_second": round(n / t_writer),
        "live_items_per_second": round(n / t_live),
        "writer_ratio_to_direct": round(t_direct / t_writer, 2),
        "note": "one item is one row (a document, an entry, a party) plus its changes record",
    }
    print(f"writer / direct: {summary['writer_ratio_to_direct']}x; the archives hold the same rows "
          f"({counts})")
    out = PROJECT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "writer.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
