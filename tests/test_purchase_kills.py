"""PACER purchases under kill -9: never bought twice, never over budget, the ledger equals the bill.

The real `scrapy crawl pacer_district -a documents=1` against the local PACER,
which bills what it serves (a purchase whose client is gone before the answer
is not billed). The crawl is killed at the moments that matter, run again,
and PACER's bill compared with our ledger.
"""
from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest

from docket_spider.purchases import PurchaseSpool
from tests.conftest import PROJECT, SHARED, rows
from tests.servers.ca9 import Ca9Server
from tests.servers.pacer import PacerServer
from tests.test_pacer_spiders import PASSWORD, USER, crawl


@pytest.fixture
def server():
    shared = SHARED if SHARED.exists() else None
    with PacerServer(shared, username=USER, password=PASSWORD) as srv, Ca9Server(shared) as ca9:
        srv.ca9 = ca9
        yield srv


def _settings(server, tmp_path, extra=None):
    return {"ARCHIVE_DB": str(tmp_path / "dockets.db"), "FILES_STORE": str(tmp_path / "files"),
            "LOG_LEVEL": "INFO", "AUTOTHROTTLE_ENABLED": "False", "EXTRACT_WORKERS": "1",
            "EXTRACT_OCR": "False", **server.settings(), **server.ca9.settings(), **(extra or {})}


def _start(server, tmp_path, *args, settings=None):
    cmd = [sys.executable, "-m", "scrapy", "crawl", "pacer_district"]
    for arg in args:
        cmd += ["-a", arg]
    for key, value in _settings(server, tmp_path, settings).items():
        cmd += ["-s", f"{key}={value}"]
    env = {**os.environ, "PACER_USERNAME": USER, "PACER_PASSWORD": PASSWORD}
    return subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _kill_when(proc, ready, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            if ready():
                break
        except Exception:  # the archive is not there yet, or busy for a moment
            pass
        time.sleep(0.02)
    assert proc.poll() is None, "the crawl ended before the moment to kill it"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _ledger(tmp_path, *statuses):
    marks = ", ".join("?" for _ in statuses)
    return rows(tmp_path / "dockets.db",
                f"select * from pacer_charges where status in ({marks}) order by id", statuses)


def _billed_key(charge):
    return charge["what"], charge.get("doc_id") or charge.get("case")


def _ledger_key(row):
    return row["what"], row["document_id"] or row["pacer_case_id"]


def _assert_bill_is_ledger(server, tmp_path, asked_again=()):
    """PACER's bill, purchase for purchase, is our ledger; nothing is billed twice.

    Each thing PACER billed has a charged (or free) row with PACER's figure, or an
    ``interrupted`` row: a purchase whose answer was on its way when the crawl was
    killed, flagged as possibly billed and never bought again without being asked.
    """
    twice = [k for k, n in collections.Counter(map(_billed_key, server.charges)).items()
             if n > 1 and k[0] == "document" and k[1] not in asked_again]
    assert not twice, f"bought twice: {twice}"
    settled = _ledger(tmp_path, "charged", "free")
    interrupted = {_ledger_key(r) for r in _ledger(tmp_path, "interrupted")}
    ours = collections.Counter(map(_ledger_key, settled))
    theirs = collections.Counter(map(_billed_key, server.charges))
    for key, n in theirs.items():
        assert ours.get(key, 0) == n or (ours.get(key, 0) == n - 1 and key in interrupted), key
    assert all(theirs.get(key, 0) >= n for key, n in ours.items()), "charged but not billed"
    paid = round(sum(r["pacer_cost"] if r["pacer_cost"] is not None else r["cost"]
                     for r in settled), 2)
    billed_settled = round(sum(c["cost"] for c in server.charges
                               if ours.get(_billed_key(c))), 2)
    assert paid == billed_settled
    assert not _ledger(tmp_path, "started"), "every purchase sent was settled"


def _all_stored(tmp_path):
    """Documents bought but neither stored nor recorded as failed (the corpus has an
    empty PDF, which PACER sells all the same)."""
    docs = rows(tmp_path / "dockets.db", "select * from documents where source = 'pacer'")
    return [d for d in docs if not d["file_path"] and d["status"] != "download_failed"]


def test_killed_while_a_purchase_is_in_flight(server, tmp_path):
    """Killed after the purchase was sent, before PACER answered: not billed, bought once next run."""
    server.purchase_delay = 1.5
    proc = _start(server, tmp_path, "pacer_case_id=364733", "max_cost=10", "documents=1")
    _kill_when(proc, lambda: any(r["what"] == "document" for r in _ledger(tmp_path, "started")))
    time.sleep(server.purchase_delay + 0.5)  # PACER finishes, finds nobody to serve
    server.purchase_delay = 0.0
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=10",
                      "documents=1")
    assert "was interrupted by a killed crawl" in log
    interrupted = _ledger(tmp_path, "interrupted")
    assert interrupted
    # not bought again without being asked: PACER may have billed it
    assert "Not buying" in log and "rebuy=1" in log
    assert code == 0, log[-3000:]  # recorded, not lost: download_failed with the reason
    _assert_bill_is_ledger(server, tmp_path)
    assert not [c for c in server.charges if c.get("doc_id") in
                {r["document_id"] for r in interrupted}], "nobody was there to be billed"
    failed = {d["pacer_doc_id"] for d in rows(
        tmp_path / "dockets.db", "select pacer_doc_id from documents where status = 'download_failed'")}
    # the corpus's empty PDF, billed but not storable, is bought again only when asked too
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=10",
                      "documents=1", "rebuy=1")
    assert code == 0, log[-3000:]
    _assert_bill_is_ledger(server, tmp_path, asked_again=failed)
    assert not _all_stored(tmp_path)
    billed = [c for c in server.charges if c["what"] == "document"]
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=10",
                      "documents=1")
    assert code == 0 and [c for c in server.charges if c["what"] == "document"] == billed
    if failed - {r["document_id"] for r in interrupted}:
        assert "its file could not be stored" in log
    assert all(r["crawl_id"] for r in _ledger(tmp_path, "charged", "free", "interrupted"))


def test_killed_after_pacer_answered_before_the_file_was_stored(server, tmp_path):
    """The answer arrived (PACER billed it) and the crawl was killed before the PDF reached
    FILES_STORE: the next run takes the kept answer and buys nothing twice."""
    spool = tmp_path / "purchases"
    proc = _start(server, tmp_path, "pacer_case_id=364733", "max_cost=10", "documents=1",
                  settings={"PACER_SPOOL_DIR": str(spool),
                            # a slow files store: the answer waits for it in the spool
                            "EXTRACT_WORKERS": "1"})
    _kill_when(proc, lambda: len(list(spool.glob("*.json"))) >= 3)
    kept = len(list(spool.glob("*.json")))
    assert kept >= 3
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=10",
                      "documents=1", settings={"PACER_SPOOL_DIR": str(spool)})
    assert code == 0, log[-3000:]
    _assert_bill_is_ledger(server, tmp_path)
    assert not _all_stored(tmp_path)
    assert not list(spool.glob("*.answer")), "a finished crawl leaves nothing in the spool"


def test_a_resumed_crawl_counts_what_it_spent(server, tmp_path):
    """max_cost is per crawl, and a crawl resumed from its JOBDIR is the same crawl."""
    budget = 5.00
    job = tmp_path / "job"
    server.purchase_delay = 0.3  # time to kill it halfway
    proc = _start(server, tmp_path, "pacer_case_id=364733", f"max_cost={budget}", "documents=1",
                  settings={"JOBDIR": str(job)})
    _kill_when(proc, lambda: len(_ledger(tmp_path, "charged")) >= 3)
    server.purchase_delay = 0.0
    first = server.total_cost()
    assert first > 0
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733",
                      f"max_cost={budget}", "documents=1", settings={"JOBDIR": str(job)})
    assert code == 0, log[-3000:]
    assert "already committed" in log
    assert server.total_cost() <= budget + 1e-9, (first, server.total_cost())
    _assert_bill_is_ledger(server, tmp_path)


def test_monthly_budget_caps_every_crawl_together(server, tmp_path):
    monthly = {"PACER_MONTHLY_BUDGET": "4.00"}  # a docket report's worst case is $3.00
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=10",
                      "documents=1", settings=monthly)
    assert code == 0, log[-3000:]
    after_first = server.total_cost()
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=10",
                      "documents=1", "full=1", settings=monthly)
    assert code == 0, log[-3000:]
    assert 0 < after_first <= server.total_cost() <= 4.00 + 1e-9
    assert "PACER_MONTHLY_BUDGET" in log
    _assert_bill_is_ledger(server, tmp_path)


def test_spool_keeps_an_answer_whole_or_not_at_all(tmp_path):
    from scrapy.http import Response

    spool = PurchaseSpool(str(tmp_path / "spool"))
    body = b"%PDF-1.4 kept bytes"
    spool.put("cand/doc/1/0/document",
              Response("https://ecf.cand.uscourts.gov/doc1/1", body=body,
                       headers={"Content-Type": "application/pdf"}), ledger_id=7)
    info, kept = spool.get("cand/doc/1/0/document")
    assert kept == body and info["ledger_id"] == 7
    assert oct(os.stat(tmp_path / "spool").st_mode & 0o777) == "0o700"
    answer = next((tmp_path / "spool").glob("*.answer"))
    answer.write_bytes(body[:5])  # cut short: not taken
    assert spool.get("cand/doc/1/0/document") is None
    assert spool.get("cand/doc/2/0/document") is None
