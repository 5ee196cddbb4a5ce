"""PACER purchases on a full disk: the real `scrapy crawl pacer_district -a
documents=1` with its archive, files and spool on a small tmpfs of its own
(tests/small_disk.py), against the local PACER, which bills what it serves.

Buying stops at the first write that fails; what PACER already billed is kept
(in the spool, or in memory until there is room); the crawl says the disk is
full in one line, without a traceback, and its row says ``failed``; PACER's
bill is the ledger's charged sum; once space is freed the next crawl completes
without buying anything twice.
"""
from __future__ import annotations

import collections
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import EXTRACT_CACHE, PROJECT, rows
from tests.small_disk import SmallDisk
from tests.test_pacer_spiders import PASSWORD, USER, server  # noqa: F401 - the local PACER
from tests.test_purchase_kills import _assert_bill_is_ledger, _billed_key

DOCUMENTS = ("pacer_case_id=364733", "max_cost=20", "documents=1")


@pytest.fixture
def disk(tmp_path):
    with SmallDisk(tmp_path / "disk", size_mb=20) as small:
        yield small


def crawl_on(disk, server, tmp_path, *args, settings=None, when=None):
    """The crawl, its archive on the small disk; ``when(log_text)``, called as it
    runs, may act on the disk (once, when it returns True). (exit status, log)."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "pacer_district"]
    for arg in args:
        cmd += ["-a", arg]
    all_settings = {"ARCHIVE_DB": str(disk.mount_point / "dockets.db"),
                    "FILES_STORE": str(disk.mount_point / "files"), "LOG_LEVEL": "INFO",
                    "AUTOTHROTTLE_ENABLED": "False", "EXTRACT_WORKERS": "1",
                    "EXTRACT_OCR": "False",
                    **({"EXTRACT_CACHE_DIR": os.environ[EXTRACT_CACHE]}
                       if os.environ.get(EXTRACT_CACHE) else {}),
                    **server.settings(), **server.ca9.settings(), **(settings or {})}
    for key, value in all_settings.items():
        cmd += ["-s", f"{key}={value}"]
    env = {k: v for k, v in os.environ.items() if k != "COURTLISTENER_TOKEN"}
    env.update(PACER_USERNAME=USER, PACER_PASSWORD=PASSWORD)
    log = tmp_path / f"crawl-{time.monotonic_ns()}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(disk.command(cmd, PROJECT), cwd=PROJECT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        deadline = time.time() + 180
        while proc.poll() is None and time.time() < deadline:
            if when is not None and when(log.read_text(errors="replace")):
                when = None
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return proc.returncode, log.read_text(errors="replace")


def archive(disk, tmp_path):
    """A copy of the archive on the small disk, for reading here."""
    return disk.copy_of("dockets.db", tmp_path / f"copy-{time.monotonic_ns()}")


def ledger(db, *statuses):
    marks = ", ".join("?" for _ in statuses)
    return rows(db, f"select * from pacer_charges where status in ({marks})", statuses)


def assert_says_the_disk_is_full(log):
    assert "Traceback" not in log, log[-3000:]
    assert log.count("] ERROR: The disk is full: ") == 1, log[-3000:]


def test_too_full_to_keep_what_it_would_buy_it_buys_nothing(disk, server, tmp_path):
    """The issue's disk: 700 KB free. There is no room for the reserve a crawl keeps for
    what it buys: nothing is bought, and the crawl fails, saying so in one line."""
    code, log = crawl_on(disk, server, tmp_path, "pacer_case_id=364733", "max_cost=5",
                         settings={"PACER_DISK_RESERVE_MB": "0"})
    assert code == 0, log[-3000:]
    billed = list(server.charges)
    disk.fill(leave=700 * 1024)
    code, log = crawl_on(disk, server, tmp_path, *DOCUMENTS)
    assert code == 1
    assert_says_the_disk_is_full(log)
    assert "reserve" in log
    assert server.charges == billed
    assert server.log.tally(kind="document") == 0
    db = archive(disk, tmp_path)
    assert [r["status"] for r in rows(db, "select status from crawls order by id")] == \
        ["finished", "failed"]
    assert "disk full" in rows(db, "select message from crawls order by id desc")[0]["message"]


@pytest.mark.parametrize("reserve", ["8", "0"])
def test_the_disk_fills_up_while_buying(disk, server, tmp_path, reserve):
    """The disk fills up halfway through the documents. Buying stops; what PACER billed
    is kept (in the spool; with no reserve, in memory until the test frees space); the
    crawl fails, saying so in one line; the bill is the ledger. Once there is space the
    next crawl completes: nothing lost, nothing bought twice."""
    code, log = crawl_on(disk, server, tmp_path, "pacer_case_id=364733", "max_cost=5",
                         settings={"PACER_DISK_RESERVE_MB": reserve})
    assert code == 0, log[-3000:]
    disk.fill(leave=1200 * 1024)

    def free_when_waiting(text):
        if "waiting up to" in text:
            disk.free()
            return True
        return False

    code, log = crawl_on(disk, server, tmp_path, *DOCUMENTS,
                         settings={"PACER_DISK_RESERVE_MB": reserve,
                                   "PACER_DISK_FULL_WAIT": "60"},
                         when=free_when_waiting)
    assert code == 1
    assert_says_the_disk_is_full(log)
    assert "Not bought" in log and "the disk is full" in log
    db = archive(disk, tmp_path)
    [_, second] = rows(db, "select * from crawls order by id")
    assert second["status"] == "failed" and "disk full" in second["message"]
    assert not ledger(db, "started", "sent", "answered", "unknown"), "every purchase is settled"
    assert not [r for r in ledger(db, "charged", "free") if r["answer_kept"] == 0], "none lost"
    assert round(sum(r["pacer_cost"] if r["pacer_cost"] is not None else r["cost"]
                     for r in ledger(db, "charged", "free")), 2) == server.total_cost()
    documents_billed = len([c for c in server.charges if c["what"] == "document"])
    assert 0 < documents_billed < 16, "the disk filled up halfway through the documents"

    disk.free()
    code, log = crawl_on(disk, server, tmp_path, *DOCUMENTS)
    assert code == 0, log[-3000:]
    db = archive(disk, tmp_path)
    _assert_bill_is_ledger(server, db.parent)
    paid = collections.Counter(_billed_key(c) for c in server.charges
                               if c["what"] == "document" and c["cost"])
    assert all(n == 1 for n in paid.values()), "nothing bought twice"
    documents = rows(db, "select * from documents where source = 'pacer'")
    assert len(documents) == 16
    assert [d["id"] for d in documents if not d["file_path"]] == [
        d["id"] for d in documents if "empty file" in (d["error"] or "")
        or "its file could not be stored" in (d["error"] or "")], "nothing lost"
