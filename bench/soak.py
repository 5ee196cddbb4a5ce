"""Soak: crawls killed and restarted against local servers that inject faults at a steady rate.

    .venv/bin/python bench/soak.py [--seconds 90] [--rate 0.12] [--seed 1]

Two parts, each bounded in time, on loopback only:

1. CourtListener (free): a 60-entry docket with 60 real PDFs. Every request
   is faulted with probability ``--rate`` (500, 503, 429 with and without
   Retry-After, connection reset, stall past the download timeout, and on
   PDFs truncated, cut-off, corrupted or HTML bodies). `scrapy crawl
   courtlistener -s JOBDIR=...` is started over and over and killed with
   SIGKILL at random moments for ``--seconds``; then it is run until it exits
   0. The archive is compared with the one a clean crawl of a fault-free
   server makes: rows, SHA-256s and text.
2. PACER (paid): `scrapy crawl pacer_district -a documents=1 -a max_cost=20`
   with status and connection faults (PACER bills what it serves), killed the
   same way, then run to the end. PACER's bill is compared with the ledger.

It reports requests, faults injected, retries, kills, documents archived,
dollars billed against dollars in the ledger, and any loss or duplicate, and
writes bench/results/soak.json. Target: zero loss, zero duplicates, ledger
equal to the bill (purchases a kill interrupted are reported apart: PACER may
have billed them, and they are not bought twice).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import sqlite3
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
from tests.servers.faults import ALL, CONNECTION_FAULTS, STATUS_FAULTS, Chaos  # noqa: E402
from tests.servers.pacer import PacerServer  # noqa: E402

SHARED = Path(os.environ.get("DOCKET_SHARED", PROJECT.parent / "shared")).resolve()
TOKEN = "soak-token"
PACER_USER, PACER_PASSWORD = "soak-user", "soak-Pa55word"
COMMON = {"AUTOTHROTTLE_ENABLED": "False", "EXTRACT_OCR": "False", "EXTRACT_WORKERS": "2",
          "LOG_LEVEL": "INFO", "DOWNLOAD_TIMEOUT": "2", "RETRY_TIMES": "6",
          "RETRY_AFTER_DEFAULT": "1"}


def command(spider, args, settings):
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for arg in args:
        cmd += ["-a", arg]
    for key, value in {**COMMON, **settings}.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


class Runs:
    """Starts crawls, kills some, keeps their logs and counts."""

    def __init__(self, workdir: Path, env: dict, rng: random.Random):
        self.workdir, self.env, self.rng = workdir, env, rng
        self.kills = self.runs = self.retries = 0
        self.exits: Counter = Counter()
        self.logs: list[Path] = []

    def start(self, cmd):
        log = self.workdir / f"run{len(self.logs):03d}.log"
        self.logs.append(log)
        self.runs += 1
        return subprocess.Popen(cmd, cwd=PROJECT, env=self.env, stdout=log.open("w"),
                                stderr=subprocess.STDOUT), log

    def _count(self, log: Path):
        text = log.read_text(errors="replace")
        self.retries += sum(int(n) for n in re.findall(r"'retry/count': (\d+)", text))
        self.retries += len(re.findall(r"Rate limited \(HTTP", text))

    def kill_at_random(self, cmd, seconds: float, longest: float = 8.0):
        deadline = time.time() + seconds
        while time.time() < deadline:
            proc, log = self.start(cmd)
            wait = self.rng.uniform(0.5, longest)
            try:
                code = proc.wait(timeout=wait)
                self.exits[code] += 1
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                self.kills += 1
            self._count(log)

    def until_finished(self, cmd, tries: int = 8, timeout: float = 300) -> int:
        for _ in range(tries):
            proc, log = self.start(cmd)
            code = proc.wait(timeout=timeout)
            self.exits[code] += 1
            self._count(log)
            if code == 0:
                return code
        return code


def archive_of(db: Path, files: Path) -> dict:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    out = {}
    for table, cols in (("docket_entries", "id, entry_number, date_filed, description"),
                        ("documents", "id, sha256, file_path, page_count, status, text")):
        out[table] = [dict(r) for r in con.execute(f"select {cols} from {table} order by id")]
    out["integrity"] = con.execute("pragma integrity_check").fetchone()[0]
    con.close()
    out["files"] = sorted((str(p.relative_to(files)), hashlib.sha256(p.read_bytes()).hexdigest())
                          for p in files.rglob("*") if p.is_file() and not p.name.startswith("."))
    return out


def compare(clean: dict, got: dict) -> dict:
    report = {"integrity_check": got["integrity"]}
    for table in ("docket_entries", "documents", "files"):
        want = {json.dumps(r, sort_keys=True) for r in clean[table]}
        have = [json.dumps(r, sort_keys=True) for r in got[table]]
        report[table] = {"expected": len(want), "archived": len(have),
                         "lost_or_different": len(want - set(have)),
                         "extra": len(set(have) - want),
                         "duplicates": len(have) - len(set(have))}
    return report


def soak_courtlistener(workdir: Path, seconds: float, rate: float, seed: int) -> dict:
    case = synthetic_case(SHARED, n_entries=60, pdfs=["recap_documents/ca4_17.pdf"])
    env = {**os.environ, "COURTLISTENER_TOKEN": TOKEN}
    with CourtListenerServer([case], token=TOKEN) as srv:
        def settings(name):
            return {"ARCHIVE_DB": str(workdir / f"{name}.db"),
                    "FILES_STORE": str(workdir / f"{name}-files"),
                    "COURTLISTENER_API_URL": srv.api_url,
                    "COURTLISTENER_STORAGE_URL": srv.storage_url,
                    "COURTLISTENER_RATE_PER_MINUTE": "1200"}

        args = ["court=cand", "pacer_case_id=900001"]
        clean_runs = Runs(workdir, env, random.Random(seed))
        assert clean_runs.until_finished(command("courtlistener", args, settings("clean")), 1) == 0
        clean = archive_of(workdir / "clean.db", workdir / "clean-files")
        chaos = Chaos(rate=rate, kinds=ALL, seed=seed, stall_seconds=3.0)
        srv.set_chaos(chaos)
        runs = Runs(workdir, env, random.Random(seed))
        cmd = command("courtlistener", args, {**settings("soak"), "JOBDIR": str(workdir / "job")})
        started = time.time()
        runs.kill_at_random(cmd, seconds, longest=4.0)
        final = runs.until_finished(cmd)
        elapsed = time.time() - started
        srv.set_chaos(None)
    got = archive_of(workdir / "soak.db", workdir / "soak-files")
    return {"seconds": round(elapsed, 1), "runs": runs.runs, "kills": runs.kills,
            "exit_codes": dict(runs.exits), "final_exit": final, "retries": runs.retries,
            **chaos.report(), "documents_archived": sum(1 for d in got["documents"] if d["sha256"]),
            "compared_with_clean_crawl": compare(clean, got)}


def soak_pacer(workdir: Path, seconds: float, rate: float, seed: int) -> dict:
    env = {**os.environ, "PACER_USERNAME": PACER_USER, "PACER_PASSWORD": PACER_PASSWORD}
    with PacerServer(SHARED, username=PACER_USER, password=PACER_PASSWORD) as srv:
        srv.purchase_delay = 0.2  # a purchase takes a moment, as on PACER
        chaos = Chaos(rate=rate, kinds=STATUS_FAULTS + CONNECTION_FAULTS, seed=seed,
                      stall_seconds=3.0, spare=("cso-auth",))
        srv.set_chaos(chaos)
        runs = Runs(workdir, env, random.Random(seed))
        settings = {"ARCHIVE_DB": str(workdir / "pacer.db"),
                    "FILES_STORE": str(workdir / "pacer-files"), **srv.settings(),
                    "CA9_OPINIONS_FEED_URL": "", "CA9_MEMORANDA_FEED_URL": ""}
        cmd = command("pacer_district", ["pacer_case_id=364733", "documents=1", "max_cost=20"],
                      settings)
        started = time.time()
        runs.kill_at_random(cmd, seconds, longest=5.0)
        final = runs.until_finished(cmd)
        elapsed = time.time() - started
        srv.set_chaos(None)
        billed = list(srv.charges)
    con = sqlite3.connect(workdir / "pacer.db")
    con.row_factory = sqlite3.Row
    ledger = [dict(r) for r in con.execute("select * from pacer_charges")]
    docs = [dict(r) for r in con.execute("select * from documents where source = 'pacer'")]
    con.close()

    def paid(row):
        return row["pacer_cost"] if row["pacer_cost"] is not None else row["cost"]

    settled = [r for r in ledger if r["status"] in ("charged", "free")]
    interrupted = [r for r in ledger if r["status"] == "interrupted"]
    billed_docs = Counter(c.get("doc_id") for c in billed if c["what"] == "document")
    return {"seconds": round(elapsed, 1), "runs": runs.runs, "kills": runs.kills,
            "exit_codes": dict(runs.exits), "final_exit": final, "retries": runs.retries,
            **chaos.report(),
            "billed_by_pacer": round(sum(c["cost"] for c in billed), 2),
            "purchases_billed": len(billed),
            "in_ledger_charged": round(sum(paid(r) for r in settled), 2),
            "purchases_in_ledger": len(settled),
            "interrupted_purchases": len(interrupted),
            "interrupted_and_billed": sum(1 for r in interrupted
                                          if billed_docs.get(r["document_id"])),
            "documents_bought_twice": sum(1 for n in billed_docs.values() if n > 1),
            "documents_archived": sum(1 for d in docs if d["file_path"]),
            "documents_missing": [{"id": d["id"], "status": d["status"], "error": d["error"]}
                                  for d in docs if not d["file_path"]],
            "ledger_rows_left_started": sum(1 for r in ledger if r["status"] == "started")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=90, help="of kills, per part")
    parser.add_argument("--rate", type=float, default=0.12, help="faults per request")
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args()
    if not (SHARED / "corpus").exists():
        sys.exit(f"{SHARED} not found: the soak serves the real corpus pages and PDFs from there")
    with tempfile.TemporaryDirectory(prefix="docket-soak-") as tmp:
        work = Path(tmp)
        (work / "cl").mkdir()
        (work / "pacer").mkdir()
        result = {"rate": opts.rate, "seed": opts.seed,
                  "courtlistener": soak_courtlistener(work / "cl", opts.seconds, opts.rate, opts.seed),
                  "pacer": soak_pacer(work / "pacer", opts.seconds, opts.rate, opts.seed)}
    out = PROJECT / "bench" / "results" / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    cl, pacer = result["courtlistener"], result["pacer"]
    losses = sum(cl["compared_with_clean_crawl"][t]["lost_or_different"] +
                 cl["compared_with_clean_crawl"][t]["duplicates"]
                 for t in ("docket_entries", "documents", "files"))
    ok = (losses == 0 and cl["final_exit"] == 0 and pacer["final_exit"] == 0
          and pacer["documents_bought_twice"] == 0 and pacer["ledger_rows_left_started"] == 0
          and pacer["in_ledger_charged"] <= pacer["billed_by_pacer"] + 1e-9)
    print(f"\nsoak: {'OK' if ok else 'FAILED'}: CourtListener {cl['requests']} requests, "
          f"{cl['faults']} faults, {cl['kills']} kills, {losses} lost or duplicated; PACER billed "
          f"${pacer['billed_by_pacer']:.2f}, ledger ${pacer['in_ledger_charged']:.2f}, "
          f"{pacer['interrupted_purchases']} interrupted, {pacer['documents_bought_twice']} "
          f"bought twice -> {out}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
