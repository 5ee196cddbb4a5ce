"""Soak: crawls killed and restarted against local servers that inject faults, and a full disk.

    .venv/bin/python bench/soak.py [--seconds 90] [--rate 0.12] [--trials 12] [--seed 1]
                                   [--parts courtlistener,pacer-faults,pacer-kills,disk-full]

Each part bounded, on loopback only:

1. courtlistener (free): a 60-entry docket with 60 real PDFs. Every request
   is faulted with probability ``--rate`` (500, 503, 429 with and without
   Retry-After, connection reset, stall past the download timeout, and on
   PDFs truncated, cut-off, corrupted or HTML bodies). `scrapy crawl
   courtlistener -s JOBDIR=...` is started over and over and killed with
   SIGKILL at random moments for ``--seconds``; then it is run until it exits
   0. The archive is compared with the one a clean crawl of a fault-free
   server makes: rows, SHA-256s and text.
2. pacer-faults (paid): `scrapy crawl pacer_district -a documents=1 -a
   max_cost=20` with status and connection faults (PACER bills what it
   serves), killed the same way, then run to the end.
3. pacer-kills: the issue's trials. ``--trials`` times, on a fresh archive and
   a fresh PACER (which takes 0.1 to 1 s to prepare a purchase): the same
   crawl killed with SIGKILL at one or two random moments, then run again.
4. disk-full: the archive, its files and spool on a 20 MB tmpfs of their own
   (tests/small_disk.py): 700 KB free (the issue's disk), then a disk that
   fills up halfway through the documents, with and without the reserve;
   then space is freed and the crawl run again.

A PACER crawl that ends saying some purchases are open (unknown, or billed
and not stored) is handled as its summary says: PACER's billing history (the
local PACER's bill) is checked, and the crawl run with ``-a rebuy=1``.

For each PACER part it reports PACER's bill against the ledger's charged, not
billed and unknown, and documents lost or bought twice; bench/results/soak.json
has each trial. An unknown purchase PACER did bill is one whose answer PACER
sent as the crawl was being killed (it never reached the crawl): no client can
know of it, so it stays unknown (not charged) and buying it again with
rebuy=1 bills it twice; the soak counts those apart. Target: zero loss, and
the ledger's charged sum equal to the bill, wherever an answer reached the
crawl.
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

from tests.conftest import rows  # noqa: E402
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


def _doc_key(value) -> str:
    value = str(value or "")
    return value[:3] + "0" + value[4:] if len(value) > 4 else value  # CM/ECF's 4th digit


def pacer_accounts(db: Path, billed: list[dict]) -> dict:
    """PACER's bill against the ledger: charged, not billed, unknown; documents
    lost or bought twice."""
    ledger = rows(db, "select * from pacer_charges")
    docs = rows(db, "select * from documents where source = 'pacer'")

    def paid(row):
        return row["pacer_cost"] if row["pacer_cost"] is not None else row["cost"]

    charged = [r for r in ledger if r["status"] in ("charged", "free")]
    unknown = [r for r in ledger if r["status"] in ("unknown", "interrupted")]
    key = lambda what, doc: (what, _doc_key(doc) if what == "document" else None)  # noqa: E731
    ours = Counter(key(r["what"], r["document_id"]) for r in charged)
    theirs = Counter(key(c["what"], c.get("doc_id")) for c in billed)
    cost_of = {key(c["what"], c.get("doc_id")): c["cost"] for c in billed}
    unknown_by_key = Counter(key(r["what"], r["document_id"]) for r in unknown)
    billed_unknown = {k: min(n - ours.get(k, 0), unknown_by_key[k])
                      for k, n in theirs.items() if n > ours.get(k, 0)}
    paid_docs = Counter(_doc_key(c.get("doc_id")) for c in billed
                        if c["what"] == "document" and c["cost"])
    lost = [d for d in docs if not d["file_path"] and not any(
        why in (d["error"] or "") for why in ("empty file", "its file could not be stored"))]
    return {
        "billed_by_pacer": round(sum(c["cost"] for c in billed), 2),
        "purchases_billed": len(billed),
        "ledger_charged": round(sum(paid(r) for r in charged), 2),
        "ledger_charged_n": len(charged),
        "ledger_not_billed_n": sum(1 for r in ledger if r["status"] == "not_billed"),
        "ledger_unknown_n": len(unknown),
        "ledger_unknown_up_to": round(sum(paid(r) for r in unknown), 2),
        "unknown_yet_billed": sum(billed_unknown.values()),
        "unknown_yet_billed_dollars": round(sum(n * cost_of[k] for k, n in billed_unknown.items()),
                                            2),
        "bought_not_stored": sum(1 for r in charged if r["answer_kept"] == 0),
        "left_in_flight": sum(1 for r in ledger if r["status"] in ("started", "sent", "answered")),
        "documents_stored": sum(1 for d in docs if d["file_path"]),
        "documents_lost": len(lost),
        "documents_bought_twice": sum(1 for n in paid_docs.values() if n > 1),
    }


def run_like_an_operator(runs: Runs, cmd: list, tries: int = 4) -> tuple[int, int]:
    """Run the crawl until it exits 0; when it says purchases are open (unknown, or
    billed and not stored), do what its summary says: -a rebuy=1 (an operator would
    first look at the account's billing history; the soak buys them again either way,
    and counts what that bought twice). (last exit status, runs with rebuy=1)."""
    rebuys = code = 0
    rebuy = []
    for _ in range(tries):
        proc, log = runs.start(cmd + rebuy)
        code = proc.wait(timeout=300)
        runs.exits[code] += 1
        runs._count(log)
        if code == 0:
            break
        rebuy = ["-a", "rebuy=1"] if "rebuy=1" in log.read_text(errors="replace") else []
        rebuys += bool(rebuy)
    return code, rebuys


def _pacer_env():
    return {**os.environ, "PACER_USERNAME": PACER_USER, "PACER_PASSWORD": PACER_PASSWORD}


PACER_ARGS = ["pacer_case_id=364733", "documents=1", "max_cost=20"]
QUIET_CA9 = {"CA9_OPINIONS_FEED_URL": "", "CA9_MEMORANDA_FEED_URL": ""}


def soak_pacer(workdir: Path, seconds: float, rate: float, seed: int) -> dict:
    """PACER with status and connection faults at ``rate``, killed at random."""
    with PacerServer(SHARED, username=PACER_USER, password=PACER_PASSWORD) as srv:
        srv.purchase_delay = 0.2  # a purchase takes a moment, as on PACER
        chaos = Chaos(rate=rate, kinds=STATUS_FAULTS + CONNECTION_FAULTS, seed=seed,
                      stall_seconds=3.0, spare=("cso-auth",))
        srv.set_chaos(chaos)
        runs = Runs(workdir, _pacer_env(), random.Random(seed))
        settings = {"ARCHIVE_DB": str(workdir / "pacer.db"),
                    "FILES_STORE": str(workdir / "pacer-files"), **srv.settings(), **QUIET_CA9}
        cmd = command("pacer_district", PACER_ARGS, settings)
        started = time.time()
        runs.kill_at_random(cmd, seconds, longest=5.0)
        srv.set_chaos(None)
        # a reset or a stall after a purchase was sent leaves it unknown: PACER's bill
        # shows it was not billed (it bills what it serves), so it is bought again
        final, rebuys = run_like_an_operator(runs, cmd)
        elapsed = time.time() - started
        billed = list(srv.charges)
    return {"seconds": round(elapsed, 1), "runs": runs.runs, "kills": runs.kills,
            "exit_codes": dict(runs.exits), "final_exit": final, "rebuy_runs": rebuys,
            "retries": runs.retries, **chaos.report(),
            **pacer_accounts(workdir / "pacer.db", billed)}


def soak_pacer_kills(workdir: Path, trials: int, seed: int) -> dict:
    """The issue's trials: a fresh archive and PACER each, the crawl SIGKILLed at one or
    two random moments, then run again (as an operator would) until it exits 0."""
    rng = random.Random(seed)
    out = []
    lasts: dict[float, float] = {}  # PACER's delay -> seconds a whole crawl takes

    def crawl_time(delay: float) -> float:
        """How long an uninterrupted crawl takes here, so that kills land inside one."""
        if delay not in lasts:
            folder = workdir / f"clean-{delay}"
            folder.mkdir()
            with PacerServer(SHARED, username=PACER_USER, password=PACER_PASSWORD) as srv:
                srv.purchase_delay = delay
                runs = Runs(folder, _pacer_env(), rng)
                began = time.time()
                runs.until_finished(command("pacer_district", PACER_ARGS, {
                    "ARCHIVE_DB": str(folder / "pacer.db"), "FILES_STORE": str(folder / "files"),
                    **srv.settings(), **QUIET_CA9}), 1)
                lasts[delay] = time.time() - began
        return lasts[delay]

    for trial in range(trials):
        folder = workdir / f"trial{trial:02d}"
        folder.mkdir()
        delay = rng.choice([0.1, 0.3, 0.6, 1.0])
        last = crawl_time(delay)
        with PacerServer(SHARED, username=PACER_USER, password=PACER_PASSWORD) as srv:
            srv.purchase_delay = delay
            runs = Runs(folder, _pacer_env(), rng)
            settings = {"ARCHIVE_DB": str(folder / "pacer.db"),
                        "FILES_STORE": str(folder / "files"), **srv.settings(), **QUIET_CA9}
            cmd = command("pacer_district", PACER_ARGS, settings)
            kills = []
            for n in range(rng.choice([1, 1, 2])):
                proc, log = runs.start(cmd)
                # the first run dies somewhere in a whole crawl; a second one, which has
                # less left to do, in its first half
                wait = rng.uniform(0.5, last * (0.95 if n == 0 else 0.5))
                try:
                    runs.exits[proc.wait(timeout=wait)] += 1
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    runs.kills += 1
                    kills.append(round(wait, 2))
            srv.purchase_delay = 0.0
            final, rebuys = run_like_an_operator(runs, cmd)
            billed = list(srv.charges)
        result = {"trial": trial, "pacer_delay": delay, "crawl_seconds": round(last, 1),
                  "killed_at_seconds": kills, "runs": runs.runs,
                  "final_exit": final, "rebuy_runs": rebuys,
                  **pacer_accounts(folder / "pacer.db", billed)}
        out.append(result)
        print(f"  trial {trial:2d}: killed at {kills} s of {last:.1f}; bill "
              f"${result['billed_by_pacer']:.2f}, charged ${result['ledger_charged']:.2f}, "
              f"not billed {result['ledger_not_billed_n']}, unknown {result['ledger_unknown_n']} "
              f"({result['unknown_yet_billed']} billed), lost {result['documents_lost']}, "
              f"twice {result['documents_bought_twice']}, exit {final}", flush=True)
    return {"trials": out, **totals(out)}


def totals(trials: list[dict]) -> dict:
    keys = ("billed_by_pacer", "ledger_charged", "ledger_not_billed_n", "ledger_unknown_n",
            "unknown_yet_billed", "unknown_yet_billed_dollars", "bought_not_stored",
            "documents_lost", "documents_bought_twice", "left_in_flight")
    total = {k: round(sum(t[k] for t in trials), 2) for k in keys}
    total["trials_where_charged_is_the_bill"] = sum(
        1 for t in trials if abs(t["billed_by_pacer"] - t["ledger_charged"]) < 0.005)
    total["trials"] = len(trials)
    total["trials_not_ending_0"] = sum(1 for t in trials if t["final_exit"] != 0)
    return {"total": total}


def soak_disk_full(workdir: Path) -> dict:
    """The archive on a 20 MB tmpfs: 700 KB free; then a disk filling up mid-crawl."""
    from tests.small_disk import SmallDisk

    scenarios = [("700 KB free, no reserve yet", 700, "8", False),
                 ("fills up mid-crawl, 8 MB reserve", 1200, "8", True),
                 ("fills up mid-crawl, no reserve (answers in memory)", 1200, "0", True)]
    out = []
    for n, (name, leave_kb, reserve, reserved_first) in enumerate(scenarios):
        folder = workdir / f"disk{n}"
        folder.mkdir()
        try:
            disk_cm = SmallDisk(folder / "disk", size_mb=20)
            disk = disk_cm.__enter__()
        except BaseException as exc:  # pytest.skip outside pytest: no small disk here
            return {"skipped": f"no private tmpfs on this machine: {exc}"}
        try:
            with PacerServer(SHARED, username=PACER_USER, password=PACER_PASSWORD) as srv:
                settings = {"ARCHIVE_DB": str(disk.mount_point / "pacer.db"),
                            "FILES_STORE": str(disk.mount_point / "files"), **srv.settings(),
                            **QUIET_CA9}
                runs = Runs(folder, _pacer_env(), random.Random(n))

                def run(args, extra, when=None):
                    proc, log = runs.start(disk.command(
                        command("pacer_district", args, {**settings, **extra}), PROJECT))
                    while proc.poll() is None:
                        if when is not None and when(log.read_text(errors="replace")):
                            when = None
                        time.sleep(0.1)
                    runs.exits[proc.returncode] += 1
                    return proc.returncode, log.read_text(errors="replace")

                run(["pacer_case_id=364733", "max_cost=5"],
                    {"PACER_DISK_RESERVE_MB": reserve if reserved_first else "0"})
                disk.fill(leave=leave_kb * 1024)

                def free_when_waiting(text):
                    if "waiting up to" in text:
                        disk.free()
                        return True
                    return False

                code, log = run(PACER_ARGS, {"PACER_DISK_RESERVE_MB": reserve,
                                             "PACER_DISK_FULL_WAIT": "60"}, free_when_waiting)
                copy = disk.copy_of("pacer.db", folder / "after-full")
                crawl_row = rows(copy, "select status, message from crawls order by id desc")[0]
                full = {"exit": code, "crawl_status": crawl_row["status"],
                        "disk_full_lines": log.count("ERROR: The disk is full: "),
                        "tracebacks": log.count("Traceback"),
                        **pacer_accounts(copy, list(srv.charges))}
                disk.free()
                final, rebuys = run_like_an_operator(runs, disk.command(command(
                    "pacer_district", PACER_ARGS, settings), PROJECT))
                after = pacer_accounts(disk.copy_of("pacer.db", folder / "after"),
                                       list(srv.charges))
        finally:
            disk_cm.__exit__(None, None, None)
        result = {"scenario": name, "on_the_full_disk": full, "final_exit": final,
                  "rebuy_runs": rebuys, **after}
        out.append(result)
        print(f"  {name}: exit {full['exit']}, crawl {full['crawl_status']}, "
              f"{full['disk_full_lines']} disk-full line, {full['tracebacks']} tracebacks, "
              f"bill ${full['billed_by_pacer']:.2f} = charged ${full['ledger_charged']:.2f}; "
              f"after freeing space: bill ${after['billed_by_pacer']:.2f}, charged "
              f"${after['ledger_charged']:.2f}, lost {after['documents_lost']}, twice "
              f"{after['documents_bought_twice']}, exit {final}", flush=True)
    return {"scenarios": out, **totals(out)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=90, help="of kills, per fault part")
    parser.add_argument("--rate", type=float, default=0.12, help="faults per request")
    parser.add_argument("--trials", type=int, default=12, help="PACER kill-and-resume trials")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parts", default="courtlistener,pacer-faults,pacer-kills,disk-full")
    opts = parser.parse_args()
    parts = [p.strip() for p in opts.parts.split(",") if p.strip()]
    if not (SHARED / "corpus").exists():
        sys.exit(f"{SHARED} not found: the soak serves the real corpus pages and PDFs from there")
    result = {"rate": opts.rate, "seed": opts.seed}
    with tempfile.TemporaryDirectory(prefix="docket-soak-") as tmp:
        work = Path(tmp)
        for part in parts:
            (work / part).mkdir()
            print(f"{part} ...", flush=True)
            if part == "courtlistener":
                result[part] = soak_courtlistener(work / part, opts.seconds, opts.rate, opts.seed)
            elif part == "pacer-faults":
                result[part] = soak_pacer(work / part, opts.seconds, opts.rate, opts.seed)
            elif part == "pacer-kills":
                result[part] = soak_pacer_kills(work / part, opts.trials, opts.seed)
            elif part == "disk-full":
                result[part] = soak_disk_full(work / part)
            else:
                sys.exit(f"unknown part {part!r}")
    out = PROJECT / "bench" / "results" / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print()
    ok = True
    if "courtlistener" in result:
        cl = result["courtlistener"]
        losses = sum(cl["compared_with_clean_crawl"][t]["lost_or_different"] +
                     cl["compared_with_clean_crawl"][t]["duplicates"]
                     for t in ("docket_entries", "documents", "files"))
        ok &= losses == 0 and cl["final_exit"] == 0
        print(f"CourtListener: {cl['requests']} requests, {cl['faults']} faults, {cl['kills']} "
              f"kills, {losses} lost or duplicated")
    for part in ("pacer-faults", "pacer-kills", "disk-full"):
        if part not in result:
            continue
        r = result[part]
        if "skipped" in r:
            print(f"{part}: skipped ({r['skipped']})")
            continue
        t = r.get("total", r)
        n = len(r.get("trials") or r.get("scenarios") or [r])
        # every dollar billed is in the ledger: charged, or unknown where PACER's answer
        # never reached the crawl; a document bought twice only by a rebuy=1 the summary
        # asked for (of one billed-unknown or billed and not stored)
        ok &= (t["documents_lost"] == 0 and t["left_in_flight"] == 0
               and abs(t["billed_by_pacer"] - t["ledger_charged"]
                       - t["unknown_yet_billed_dollars"]) < 0.005
               and t["documents_bought_twice"] <= t["unknown_yet_billed"] + t["bought_not_stored"])
        print(f"{part} ({n} trial(s)): PACER billed ${t['billed_by_pacer']:.2f}; ledger charged "
              f"${t['ledger_charged']:.2f}, not billed {t['ledger_not_billed_n']}, unknown "
              f"{t['ledger_unknown_n']} (PACER billed {t['unknown_yet_billed']} of them, "
              f"${t['unknown_yet_billed_dollars']:.2f}: answers sent as the crawl was killed); "
              f"bought but not stored {t['bought_not_stored']}; documents lost "
              f"{t['documents_lost']}, bought twice {t['documents_bought_twice']} (by rebuy=1)"
              + (f"; charged = bill in {t['trials_where_charged_is_the_bill']} of "
                 f"{t['trials']} trials" if "trials" in t else ""))
    print(f"\nsoak: {'OK' if ok else 'FAILED'} -> {out}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
