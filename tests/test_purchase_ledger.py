"""The PACER ledger's rules, in this process (docket_spider/pacer/purchases.py): how an
open purchase is settled, when one is not made again, what a full disk does,
and the summary. The same rules under real kills and a real full disk:
tests/test_purchase_kills.py and tests/test_purchase_disk_full.py."""
from __future__ import annotations

import errno
import os
import sqlite3
import subprocess

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from archive import db as adb
from docket_spider.pacer.disk import DiskReserve, is_disk_full
from docket_spider.pacer.purchases import (
    PurchaseAccount, PurchaseLedgerMiddleware, PurchaseRefused, PurchaseSpool, is_transient,
    purchase_meta,
)
from tests.conftest import rows


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def crawler(tmp_path):
    crawler = get_crawler(settings_dict={"ARCHIVE_DB": str(tmp_path / "dockets.db"),
                                         "PACER_SPOOL_DIR": str(tmp_path / "spool")})
    adb.open_db(str(tmp_path / "dockets.db")).conn.close()
    return crawler


def row(status, key="cand/doc/1/0/document", what="document", **fields):
    return {"court_id": "cand", "what": what, "status": status, "purchase_key": key,
            "document_id": key.split("/")[2] if what == "document" else None,
            "cost": 0.3, "pacer_cost": 0.3, "description": f"{what} {key}", **fields}


def add(tmp_path, *charges):
    db = adb.open_db(str(tmp_path / "dockets.db"))
    try:
        return [adb.save_charge(db, charge) for charge in charges]
    finally:
        db.conn.close()


def ledger(tmp_path):
    return {r["id"]: r for r in rows(tmp_path / "dockets.db", "select * from pacer_charges")}


def test_a_killed_crawls_purchases_are_settled_as_the_facts_allow(crawler, tmp_path):
    pid = dead_pid()
    ids = add(tmp_path,
              row("started", "cand/doc/1/0/document", pid=pid),
              row("sent", "cand/doc/2/0/document", pid=pid),
              row("answered", "cand/doc/3/0/document", pid=pid),
              row("answered", "cand/doc/4/0/document", pid=pid),
              row("answered", "cand/doc/5/0/document", pid=pid, pacer_cost=0.0),
              row("sent", "cand/doc/6/0/document", pid=os.getpid()))  # still in flight here
    spool = PurchaseSpool(str(tmp_path / "spool"))
    spool.put("cand/doc/3/0/document", Response("https://ecf/doc1/3", body=b"%PDF-1.4 x"), ids[2])
    account = PurchaseAccount(crawler)
    account.settle_killed()
    after = ledger(tmp_path)
    assert after[ids[0]]["status"] == "not_billed"  # it never left: bought again
    assert after[ids[1]]["status"] == "unknown"  # it left, no answer came
    assert (after[ids[2]]["status"], after[ids[2]]["answer_kept"]) == ("charged", 1)
    assert (after[ids[3]]["status"], after[ids[3]]["answer_kept"]) == ("charged", 0)
    assert after[ids[4]]["status"] == "free"
    assert after[ids[5]]["status"] == "sent"  # another crawl's, alive
    assert "bought but not stored" in after[ids[3]]["message"]


@pytest.mark.parametrize("earlier, what, rebuy, refused", [
    (dict(status="unknown"), "document", False, True),
    (dict(status="interrupted"), "document", False, True),  # as older versions called it
    (dict(status="unknown"), "document", True, False),
    (dict(status="unknown", pacer_cost=0.0), "document", False, False),  # free: costs nothing
    (dict(status="charged", answer_kept=0), "document", False, True),
    (dict(status="charged", answer_kept=0), "docket_report", False, True),
    (dict(status="charged", answer_kept=0), "docket_report", True, False),
    (dict(status="charged", answer_kept=1), "document", True, True),  # PACER's file is bad
    (dict(status="charged", answer_kept=1), "document", "all", False),
    (dict(status="charged", answer_kept=1), "docket_report", False, False),  # a new report
    (dict(status="not_billed"), "document", False, False),
])
def test_what_is_not_bought_again(crawler, tmp_path, earlier, what, rebuy, refused):
    key = "cand/doc/1/0/document" if what == "document" else "cand/case/9/from-all/docket_report"
    add(tmp_path, row(key=key, what=what, **earlier))
    why = PurchaseAccount(crawler).earlier_open(key, what, rebuy)
    assert bool(why) == refused, why
    if why:
        reason, open_ = why
        assert "pacer_charges row 1" in reason
        assert open_ == (earlier["status"] != "charged" or earlier.get("answer_kept") == 0)


class _Spider:
    rebuy = False
    job_id = "job"

    def __init__(self):
        self.refunded = []

    def purchase_not_made(self, request):
        self.refunded.append(request)


def middleware(crawler, spider=None):
    crawler.spider = spider or _Spider()
    return PurchaseLedgerMiddleware(crawler)


def purchase_request(key="cand/doc/1/0/document", what="document", settle="pdf"):
    meta = purchase_meta(key, what, "cand", cost=0.3, settle=settle, pacer_cost=0.3,
                         description="document 1")
    return Request("https://ecf.cand.uscourts.gov/doc1/1", method="POST",
                   meta={"purchase": meta})


@pytest.mark.parametrize("step, status, retried", [
    ("started", "not_billed", True),  # never left: a retry may go
    ("sent", "unknown", False),  # it left: a retry could buy it twice
    ("answered", "charged", False),  # PACER began to answer: billed, bytes lost
])
def test_a_purchase_that_fails_on_the_way(crawler, tmp_path, step, status, retried):
    mw = middleware(crawler)
    request = purchase_request()
    assert mw.process_request(request) is None
    mw.starting(request)
    ledger_id = request.meta["ledger_id"]
    if step in ("sent", "answered"):
        mw.leaving(request)
    if step == "answered":
        mw.headers_received({b"Content-Type": b"application/pdf"}, 1000, request)
    mw.process_exception(request, TimeoutError("took too long"))
    after = ledger(tmp_path)[ledger_id]
    assert after["status"] == status
    assert bool(request.meta.get("dont_retry")) != retried
    if step == "answered":
        assert after["answer_kept"] == 0 and "bought but not stored" in after["message"]


def test_an_open_purchase_is_refused_and_refunded(crawler, tmp_path):
    add(tmp_path, row("unknown"))
    spider = _Spider()
    mw = middleware(crawler, spider)
    request = purchase_request()
    with pytest.raises(PurchaseRefused, match="unknown outcome"):
        mw.process_request(request)
    assert spider.refunded == [request]
    line, missing = mw.account.report(_Log())
    assert missing == 1


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, msg, *args):
        self.lines.append(msg % args)

    warning = error = info


def test_the_summary_gives_charged_not_billed_and_unknown(crawler, tmp_path):
    account = PurchaseAccount(crawler)
    ids = [account.start(row("started", f"cand/doc/{n}/0/document")) for n in range(5)]
    account.record(ids[0], "charged", pacer_cost=0.3, answer_kept=1)
    account.record(ids[1], "free", pacer_cost=0.0, answer_kept=1)
    account.record(ids[2], "not_billed")
    account.record(ids[3], "unknown")
    account.record(ids[4], "charged", pacer_cost=0.3, answer_kept=0, message="transfer broke off")
    log = _Log()
    line, missing = account.report(log)
    assert line == ("PACER ledger of this crawl: charged $0.60 (3 purchases, 1 free), "
                    "not billed 1, unknown 1 (up to $0.30)")
    assert missing == 2
    text = "\n".join(log.lines)
    assert f"pacer_charges row {ids[3]}" in text and f"pacer_charges row {ids[4]}" in text
    assert "billing history" in text and "rebuy=1" in text


def test_a_full_disk_stops_buying_and_keeps_what_was_billed_in_memory(crawler, tmp_path,
                                                                      monkeypatch):
    spider = _Spider()
    mw = middleware(crawler, spider)
    account = mw.account
    account.reserve = DiskReserve(str(tmp_path / "spool"), 1024)
    assert account.reserve.make() is None
    request = purchase_request()
    mw.process_request(request)
    mw.starting(request)
    mw.leaving(request)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/spool/x.answer")

    monkeypatch.setattr(PurchaseSpool, "put_info", full)
    response = Response(request.url, body=b"%PDF-1.4 bought", request=request,
                        headers={"Content-Type": "application/pdf"})
    import asyncio

    asyncio.run(mw.process_response(request, response))
    assert account.disk_full and not os.path.exists(account.reserve.path)
    assert list(account.held) == ["cand/doc/1/0/document"]
    assert ledger(tmp_path)[request.meta["ledger_id"]]["status"] == "charged"
    with pytest.raises(PurchaseRefused, match="disk is full"):
        mw.process_request(purchase_request("cand/doc/2/0/document"))
    monkeypatch.undo()
    account.write_held(wait=0)  # room again: the answer goes to the spool
    assert not account.held and account.spool.get("cand/doc/1/0/document")
    assert ledger(tmp_path)[request.meta["ledger_id"]]["answer_kept"] == 1


def test_disk_full_is_recognised_whatever_says_it():
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("could not store it") from inner
    except RuntimeError as outer:
        assert is_disk_full(outer)
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(ValueError("no"))


def test_a_spool_write_that_fails_leaves_nothing(tmp_path, monkeypatch):
    spool = PurchaseSpool(str(tmp_path / "spool"))

    def fsync(fd):  # the disk fills up as the answer is written down
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError):
        spool.put("k", Response("https://ecf/doc1/1", body=b"%PDF-1.4 bytes"), 1)
    monkeypatch.undo()
    assert os.listdir(tmp_path / "spool") == []


def test_a_reserve_that_does_not_fit_is_not_left_half_made(tmp_path, monkeypatch):
    reserve = DiskReserve(str(tmp_path / "spool"), 4096)

    def no_room(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_room)
    problem = reserve.make()
    assert is_disk_full(problem) and not os.path.exists(reserve.path)
    monkeypatch.undo()
    assert reserve.make() is None and os.path.getsize(reserve.path) == 4096
    assert reserve.release() == 4096 and not os.path.exists(reserve.path)


@pytest.mark.parametrize("error, transient", [
    ("could not download URL: the server sent an empty file (0 bytes)", False),
    ("could not download URL: truncated PDF: no %%EOF in its 500 bytes", False),
    ("could not download URL: incomplete download: 10 of the 20 bytes", True),
    ("could not download URL: not stored: the disk is full (No space left on device)", True),
    ("could not download URL: HTTP 503", True),
    ("could not download URL: not bought: the disk is full, so nothing more is bought", True),
])
def test_a_file_bad_at_its_source_is_told_from_one_that_failed_on_the_way(error, transient):
    assert is_transient(error) == transient
