"""Extraction on Celery workers: the 500-document crawl with local extraction,
then with 1, 2 and 4 workers (`python -m archive worker`, one document at a
time each) through Debian's redis-server on loopback, and with 2 workers and
the crawl's items through the one archive writer (`python -m archive writer`,
ARCHIVE_QUEUE_URL), as on several machines.

    .venv/bin/python bench/bench_workers.py [--entries 500] [--workers 1,2,4] [--ocr]

Reports for each run the crawl's wall time, the pages extracted per second and
the ratio to the local run (the crawl's own process pool, one process per
core). Every run starts from an empty archive, files store and broker (task
ids are SHA-256s: a broker that kept the last run's results would hand them
back). On a machine of N cores expect the curve to flatten past N workers: the
workers share the cores with each other and with the crawl. Results go to
bench/results/workers.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

import bench_crawl  # noqa: E402
from tests.servers.cases import synthetic_case  # noqa: E402
from tests.servers.courtlistener import CourtListenerServer  # noqa: E402
from tests.servers.redis_server import start_redis  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_workers(n: int, url: str, files: Path, ocr: bool, logs: Path) -> list:
    procs = []
    for i in range(n):
        log = open(logs / f"worker{i}.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "archive", "worker", "--broker", url, "--files", str(files),
             "--concurrency", "1", "--name", f"bench{i}@%h", "--loglevel", "WARNING",
             "-s", f"EXTRACT_OCR={ocr}"],
            cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    from archive.extract.queue import QueueClient

    client = QueueClient(url)
    deadline = time.time() + 120
    while len(client.workers(timeout=0.5)) < n:
        if time.time() > deadline:
            raise SystemExit(f"{n} workers did not start (see {logs})")
    return procs


def stop(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=500)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--ocr", action="store_true", help="OCR scanned pages too (slower)")
    ap.add_argument("--writer", type=int, default=2, metavar="N",
                    help="also N workers with the crawl's items through the archive writer "
                         "(ARCHIVE_QUEUE_URL); 0: not")
    args = ap.parse_args()
    if not bench_crawl.SHARED.exists():
        raise SystemExit(f"{bench_crawl.SHARED} not found: the benchmark serves the corpus PDFs")
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    case = synthetic_case(bench_crawl.SHARED, n_entries=args.entries)
    runs = []
    with CourtListenerServer([case], token=bench_crawl.TOKEN) as server:
        plan = [(0, False)] + [(int(x), False) for x in args.workers.split(",") if x]
        if args.writer:  # the shape of several machines: workers, and the one archive writer
            plan.append((args.writer, True))
        for n, with_writer in plan:
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                (work / "files").mkdir()
                redis_proc, workers, env, writer = None, [], {}, None
                try:
                    if n:
                        redis_proc, url = start_redis(work)
                        workers = start_workers(n, url, work / "files", args.ocr, work)
                        env = {"EXTRACT_BROKER_URL": url}
                    if with_writer:
                        writer = subprocess.Popen(
                            [sys.executable, "-m", "archive", "writer", "--db",
                             str(work / "bench.db"), "--queue", url, "--loglevel", "WARNING"],
                            cwd=PROJECT, stderr=subprocess.DEVNULL, start_new_session=True)
                        env["ARCHIVE_QUEUE_URL"] = url
                    result = bench_crawl.run(server, work, ocr=args.ocr, env=env)
                    if writer is not None:
                        import sqlite3

                        con = sqlite3.connect(work / "bench.db")
                        applied = con.execute("select applied from writer_position").fetchone()[0]
                        con.close()
                        result["writer_messages"] = applied
                        result["writer_messages_per_second"] = round(
                            applied / result["wall_seconds"], 1)
                finally:
                    stop(workers + ([writer] if writer else []))
                    if redis_proc:
                        redis_proc.terminate()
                        redis_proc.wait(timeout=10)
            result["workers"] = n
            result["writer"] = with_writer
            result["pages_per_second"] = round(result["pages_in_archive"] / result["wall_seconds"], 1)
            runs.append(result)
            label = f"{n} Celery worker(s)" if n else "local pool (one process per core)"
            if with_writer:
                label += " + writer"
            print(f"  {label:34s} {result['wall_seconds']:7.1f} s, {result['pages_in_archive']} pages, "
                  f"{result['pages_per_second']:6.1f} pages/s, {result['extraction_errors']} errors"
                  + (f"; writer {result['writer_messages']} messages, "
                     f"{result['writer_messages_per_second']}/s" if with_writer else ""),
                  flush=True)
    local = runs[0]["pages_per_second"] or 1
    for run in runs:
        run["ratio_to_local"] = round(run["pages_per_second"] / local, 2)
    summary = {"entries": args.entries, "ocr": args.ocr, "cpu_count": os.cpu_count(), "runs": runs,
               "note": (f"{os.cpu_count()} cores: past {os.cpu_count()} workers the curve is flat, "
                        "since workers, crawl and broker share them")}
    print("ratios to the local run: " + ", ".join(
        f"{r['workers']}{' + writer' if r['writer'] else ''} -> {r['ratio_to_local']}"
        for r in runs[1:]))
    out = PROJECT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "workers.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
