"""Soak: an extraction worker SIGKILLed mid-document while a crawl waits on it.

    .venv/bin/python bench/soak_workers.py [--trials 3] [--entries 40] [--kill-after 4]

Each trial, on loopback only: Debian's redis-server, two Celery extraction
workers (`python -m archive worker`, one document at a time each, started
before the crawl, so before its files store exists), and `scrapy crawl
courtlistener` of a docket of ``--entries`` real PDFs with EXTRACT_BROKER_URL.
``--kill-after`` seconds into the crawl, as soon as worker w1 holds a document
it has not finished, w1's process group gets SIGKILL. Then:

- how long that document waited after its worker died: from the kill until
  w2 started it, and until w2 had extracted it (the target: about a minute at
  most; the lease, EXTRACT_VISIBILITY_TIMEOUT, is 30 s by default);
- each document extracted once: one "extracted" line per file across both
  workers, none by w1 for the document it was killed on;
- the crawl's exit status, and every document in the archive with its text.

Writes bench/results/soak_workers.json. `make soak` runs it after bench/soak.py.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.servers.cases import synthetic_case  # noqa: E402
from tests.servers.courtlistener import CourtListenerServer  # noqa: E402
from tests.servers.redis_server import start_redis, stop_redis  # noqa: E402

SHARED = Path(os.environ.get("DOCKET_SHARED", PROJECT.parent / "shared")).resolve()
TOKEN = "soak-workers-token"
# text-layer PDFs of a few pages (no OCR: a document takes a second or two)
PDFS = ["recap_documents/ca1_00117684624.pdf", "recap_documents/ca4_17.pdf",
        "recap_documents/ca6_1-3.pdf"]
STARTED = re.compile(r"extracting (\S+) \(")
DONE = re.compile(r"extracted (\S+): ")


class Worker:
    def __init__(self, name: str, url: str, files: Path, work: Path, env: dict):
        self.name, self.log_path = name, work / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "archive", "worker", "--broker", url, "--files", str(files),
             "--concurrency", "1", "--name", f"{name}@soak", "-s", "EXTRACT_OCR=False"],
            cwd=PROJECT, env=env, stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def started(self) -> list[str]:
        return STARTED.findall(self.log())

    def done(self) -> list[str]:
        return DONE.findall(self.log())

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def wait_ready(url: str, n: int, timeout: float = 120) -> None:
    from archive.extract.queue import QueueClient

    client = QueueClient(url)
    deadline = time.time() + timeout
    while len(client.workers(timeout=0.5)) < n:
        if time.time() > deadline:
            raise SystemExit(f"{n} workers did not start")


def trial(n: int, args, server) -> dict:
    with tempfile.TemporaryDirectory(prefix="soak-workers-") as tmp:
        work = Path(tmp)
        files, db = work / "files", work / "dockets.db"
        redis_proc, url = start_redis(work)
        env = dict(os.environ)
        if args.visibility:
            env["EXTRACT_VISIBILITY_TIMEOUT"] = str(args.visibility)
        workers = [Worker(name, url, files, work, env) for name in ("w1", "w2")]
        crawl = None
        try:
            wait_ready(url, 2)
            cmd = [sys.executable, "-m", "scrapy", "crawl", "courtlistener", "-a", "court=cand",
                   "-a", "pacer_case_id=900001"]
            settings = {**server.settings(), "ARCHIVE_DB": str(db), "FILES_STORE": str(files),
                        "COURTLISTENER_RATE_PER_MINUTE": "1200", "AUTOTHROTTLE_ENABLED": "False",
                        "EXTRACT_OCR": "False", "LOG_LEVEL": "INFO"}
            for key, value in settings.items():
                cmd += ["-s", f"{key}={value}"]
            crawl_log = work / "crawl.log"
            began = time.monotonic()
            crawl = subprocess.Popen(cmd, cwd=PROJECT, stdout=crawl_log.open("w"),
                                     stderr=subprocess.STDOUT,
                                     env={**env, "COURTLISTENER_TOKEN": TOKEN,
                                          "EXTRACT_BROKER_URL": url})
            victim, survivor = workers
            held, killed = None, None
            while crawl.poll() is None and time.monotonic() - began < 300:
                if time.monotonic() - began >= args.kill_after:
                    open_ones = [p for p in victim.started() if p not in set(victim.done())]
                    if open_ones:
                        held = open_ones[0]
                        victim.kill()
                        killed = time.monotonic()
                        break
                time.sleep(0.02)
            picked = finished = None
            while held and crawl.poll() is None and finished is None:
                now = time.monotonic()
                if picked is None and held in survivor.started():
                    picked = now - killed
                if held in survivor.done():
                    finished = now - killed
                    picked = picked if picked is not None else finished
                time.sleep(0.1)
            code = crawl.wait(timeout=600)
            done = victim.done() + survivor.done()
            counts = Counter(done)
            con = sqlite3.connect(db)
            docs = con.execute("select count(*), sum(status = 'ok' and length(text) > 0) "
                               "from documents where file_path is not null").fetchone()
            con.close()
            result = {
                "trial": n, "crawl_exit": code, "crawl_seconds": round(time.monotonic() - began, 1),
                "killed_after_seconds": round(killed - began, 1) if killed else None,
                "document_of_dead_worker": held,
                "waited_until_started_elsewhere": round(picked, 1) if picked is not None else None,
                "waited_until_extracted_elsewhere": round(finished, 1) if finished is not None else None,
                "documents": docs[0], "documents_with_text": docs[1] or 0,
                "extractions": len(done),
                "extracted_twice": sorted(p for p, c in counts.items() if c > 1),
                "extracted_by_dead_worker": bool(held and held in victim.done()),
                "answered_from_stored_result": survivor.log().count("already extracted"),
            }
            result["ok"] = (code == 0 and held is not None and finished is not None
                            and result["documents"] == args.entries
                            and result["documents_with_text"] == args.entries
                            and len(done) == args.entries and not result["extracted_twice"]
                            and not result["extracted_by_dead_worker"])
            if not result["ok"]:
                keep = PROJECT / "bench" / "results" / f"soak_workers-trial{n}"
                shutil.rmtree(keep, ignore_errors=True)
                shutil.copytree(work, keep, ignore=shutil.ignore_patterns("files", "*.rdb"))
                result["logs"] = str(keep.relative_to(PROJECT))
            return result
        finally:
            if crawl is not None and crawl.poll() is None:
                crawl.kill()
                crawl.wait()
            for worker in workers:
                worker.stop()
            stop_redis(redis_proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--entries", type=int, default=40)
    ap.add_argument("--kill-after", type=float, default=4.0,
                    help="seconds into the crawl (then the first document w1 holds)")
    ap.add_argument("--visibility", type=int, default=0,
                    help="EXTRACT_VISIBILITY_TIMEOUT for the workers (0: the default, 30 s)")
    args = ap.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    if not SHARED.exists():
        raise SystemExit(f"{SHARED} not found: the soak serves the corpus PDFs")
    case = synthetic_case(SHARED, n_entries=args.entries, pdfs=PDFS)
    results = []
    with CourtListenerServer([case], token=TOKEN) as server:
        for n in range(1, args.trials + 1):
            result = trial(n, args, server)
            results.append(result)
            print(f"  trial {n}: w1 killed {result['killed_after_seconds']} s in holding "
                  f"{(result['document_of_dead_worker'] or '?').rsplit('/', 1)[-1]}; w2 started it "
                  f"{result['waited_until_started_elsewhere']} s later, had it extracted "
                  f"{result['waited_until_extracted_elsewhere']} s later; crawl exit "
                  f"{result['crawl_exit']} in {result['crawl_seconds']} s; "
                  f"{result['documents_with_text']}/{result['documents']} documents with text, "
                  f"{result['extractions']} extractions, twice: {len(result['extracted_twice'])}"
                  + ("" if result["ok"] else f"  FAILED (logs in {result.get('logs')})"),
                  flush=True)
    waits = [r["waited_until_extracted_elsewhere"] for r in results
             if r["waited_until_extracted_elsewhere"] is not None]
    summary = {
        "trials": args.trials, "entries": args.entries, "kill_after_seconds": args.kill_after,
        "visibility_timeout": args.visibility or 30,
        "waited_after_death_seconds": {"max": max(waits), "median": statistics.median(waits)}
        if waits else None,
        "documents_lost": sum(r["documents"] - r["documents_with_text"] for r in results),
        "documents_extracted_twice": sum(len(r["extracted_twice"]) for r in results),
        "all_ok": all(r["ok"] for r in results), "runs": results,
    }
    print(f"dead worker's document waited (until extracted elsewhere): "
          f"{summary['waited_after_death_seconds']} s; documents lost "
          f"{summary['documents_lost']}, extracted twice {summary['documents_extracted_twice']}: "
          + ("OK" if summary["all_ok"] else "FAILED"))
    out = PROJECT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak_workers.json").write_text(json.dumps(summary, indent=2))
    return 0 if summary["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
