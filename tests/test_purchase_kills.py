"""PACER purchases under kill -9: every dollar and every document accounted for.

The real `scrapy crawl pacer_district -a documents=1` against the local PACER,
which bills what it serves: a purchase whose client is gone by the time its
answer is ready is not billed (``server.charges``), and its request log says
which purchases reached it (``server.purchases_received()``). The crawl is
killed at the moments that matter, run again, and PACER's bill compared with
our ledger: the charged sum is the bill, a purchase is ``unknown`` only when
its request reached PACER and no answer came back, and no document is lost or
bought twice.
"""
from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time

from docket_spider.pacer.purchases import PurchaseSpool
from tests.conftest import PROJECT, rows
from tests.servers.pacer import _normalize_doc_id
from tests.test_pacer_spiders import PASSWORD, USER, crawl, server  # noqa: F401 - the local PACER

CASE = ("pacer_case_id=364733", "max_cost=20", "documents=1")


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
    if charge["what"] == "document":
        return "document", _normalize_doc_id(charge["doc_id"])
    return charge["what"], None


def _ledger_key(row):
    if row["what"] == "document":
        return "document", _normalize_doc_id(row["document_id"])
    return row["what"], None


def _paid(row):
    return round(row["pacer_cost"] if row["pacer_cost"] is not None else row["cost"], 2)


def _assert_bill_is_ledger(server, tmp_path, bought_again=()):
    """PACER's bill is our ledger's charged rows, purchase for purchase and cent
    for cent; nothing is left in flight; no document is billed twice (except
    those in ``bought_again``, bought again with -a rebuy=all)."""
    settled = _ledger(tmp_path, "charged", "free")
    ours = collections.Counter(map(_ledger_key, settled))
    theirs = collections.Counter(map(_billed_key, server.charges))
    assert ours == theirs, (ours - theirs, theirs - ours)
    assert round(sum(map(_paid, settled)), 2) == server.total_cost()
    paid = collections.Counter(map(_billed_key, (c for c in server.charges if c["cost"])))
    twice = [k for k, n in paid.items()  # a free opinion may be fetched again: it costs nothing
             if n > 1 and k[0] == "document" and k[1] not in bought_again]
    assert not twice, f"bought twice: {twice}"
    assert not _ledger(tmp_path, "started", "sent", "answered"), "every purchase is settled"


def _assert_unknown_only_where_no_answer_came(server, tmp_path):
    """An ``unknown`` purchase got no answer: PACER billed nothing for it (it finds
    nobody to serve). A ``not_billed`` one settled after a kill as 'never left' never
    reached PACER at all (else buying it again could bill it twice)."""
    billed = collections.Counter(map(_billed_key, server.charges))
    charged = collections.Counter(map(_ledger_key, _ledger(tmp_path, "charged", "free")))
    for row in _ledger(tmp_path, "unknown"):
        key = _ledger_key(row)
        assert billed[key] == charged[key], f"{key} is unknown, yet PACER billed it"
    reached = collections.Counter((p["what"], p["id"]) for p in server.purchases_received())
    for row in _ledger(tmp_path, "not_billed"):
        if "before this request left" in (row["message"] or ""):
            key = _ledger_key(row)
            assert reached[key] == billed[key], f"{key} reached PACER, yet 'never left'"


def _documents(tmp_path):
    return rows(tmp_path / "dockets.db", "select * from documents where source = 'pacer'")


def _lost(tmp_path):
    """Documents bought but neither stored nor explained as unobtainable (the corpus has
    an empty PDF, which PACER sells all the same)."""
    return [d for d in _documents(tmp_path) if not d["file_path"]
            and "empty file" not in (d["error"] or "")
            and "its file could not be stored" not in (d["error"] or "")]


def _settled_all_billed(server, tmp_path, *steps):
    """Every purchase PACER billed has reached our ledger (charged or free, or at one of
    ``steps``): a kill now leaves no answer on its way."""
    ours = collections.Counter(map(_ledger_key, _ledger(tmp_path, "charged", "free", *steps)))
    return not (collections.Counter(map(_billed_key, server.charges)) - ours)


def _kill_while_held(server, tmp_path, proc, served: int):
    """Kill once the first ``served`` purchases are billed and settled in our ledger and
    the next ones wait at PACER (which then finds nobody to serve: not billed)."""
    _kill_when(proc, lambda: len(server.charges) >= served and server.waiting_at_gate
               and _settled_all_billed(server, tmp_path))
    server.release_purchases()
    deadline = time.time() + 10
    while server.waiting_at_gate and time.time() < deadline:
        time.sleep(0.05)


def test_killed_while_pacer_prepares_the_answer(server, tmp_path):
    """Killed after purchases were sent, before PACER answered: PACER, finding nobody
    there, bills nothing. The next run names each unknown purchase, says what to do,
    and exits 1; with -a rebuy=1 each is bought once."""
    server.hold_purchases_after(3)  # the docket report and two documents
    proc = _start(server, tmp_path, *CASE)
    _kill_while_held(server, tmp_path, proc, 3)
    code, log = crawl(server, tmp_path, "pacer_district", *CASE)
    assert code == 1, log[-3000:]
    unknown = _ledger(tmp_path, "unknown")
    assert unknown and all(r["what"] == "document" for r in unknown)
    for row in unknown:
        assert f"pacer_charges row {row['id']}" in log
    assert "unknown outcome" in log and "billing history" in log and "rebuy=1" in log
    assert "Traceback" not in log
    assert "LedgerDownloadHandler" not in log, "the moment a purchase leaves is seen"
    _assert_bill_is_ledger(server, tmp_path)
    _assert_unknown_only_where_no_answer_came(server, tmp_path)
    [last] = rows(tmp_path / "dockets.db", "select * from crawls order by id desc limit 1")
    assert last["status"] == "failed" and "missing" in last["message"]
    # the operator finds them unbilled and asks for them again
    code, log = crawl(server, tmp_path, "pacer_district", *CASE, "rebuy=1")
    assert code == 0, log[-3000:]
    _assert_bill_is_ledger(server, tmp_path)
    assert not _lost(tmp_path)
    billed = list(server.charges)
    code, log = crawl(server, tmp_path, "pacer_district", *CASE)
    assert code == 0, log[-3000:]
    assert [c for c in server.charges if c["what"] == "document"] == \
        [c for c in billed if c["what"] == "document"]
    assert "its file could not be stored" in log  # the empty PDF: explained, not bought again
    assert all(r["crawl_id"] for r in _ledger(tmp_path, "charged", "free", "unknown"))


def test_killed_while_the_answer_arrives(server, tmp_path):
    """Killed while PACER's answers were arriving: PACER billed them, so they are charged,
    never unknown, and reported bought but not stored."""
    server.purchase_pace = 8.0  # each PDF takes 8 s to arrive
    server.hold_purchases_after(5)  # the docket report and four documents
    proc = _start(server, tmp_path, *CASE)
    _kill_when(proc, lambda: len(server.charges) == 5 and server.waiting_at_gate
               and _settled_all_billed(server, tmp_path, "answered")
               and any(r["what"] == "document" and r["pacer_cost"]
                       for r in _ledger(tmp_path, "answered")))
    server.purchase_pace = 0.0
    server.release_purchases()
    code, log = crawl(server, tmp_path, "pacer_district", *CASE)
    assert code == 1, log[-3000:]
    lost = [r for r in _ledger(tmp_path, "charged") if r["answer_kept"] == 0]
    assert lost, log[-3000:]
    assert "bought but not stored" in log and "billing history" in log
    _assert_bill_is_ledger(server, tmp_path)
    _assert_unknown_only_where_no_answer_came(server, tmp_path)


def test_killed_after_pacer_answered_before_the_document_was_archived(server, tmp_path):
    """Every answer arrived (PACER billed them) and the crawl was killed before the
    documents reached the archive: the next run takes the kept answers and buys
    nothing twice."""
    spool = tmp_path / "purchases"
    slow = json.dumps({"docket_spider.pipelines.files.DocumentFilesPipeline": 100,
                       "tests.slow_pipeline.SlowItems": 150,
                       "docket_spider.pipelines.extract.ExtractTextPipeline": 200,
                       "docket_spider.pipelines.archive.ArchivePipeline": 300})
    proc = _start(server, tmp_path, *CASE,
                  settings={"PACER_SPOOL_DIR": str(spool), "ITEM_PIPELINES": slow,
                            "SLOW_ITEMS": "DocumentItem", "SLOW_ITEM_SECONDS": "30"})
    _kill_when(proc, lambda: len(server.charges) == 17
               and len(_ledger(tmp_path, "charged", "free")) == 17
               and len(list(spool.glob("*.json"))) >= 3)
    code, log = crawl(server, tmp_path, "pacer_district", *CASE,
                      settings={"PACER_SPOOL_DIR": str(spool)})
    assert code == 0, log[-3000:]
    assert "answer to an earlier purchase" in log
    _assert_bill_is_ledger(server, tmp_path)
    assert not _lost(tmp_path)
    assert not list(spool.glob("*.answer")), "a finished crawl leaves nothing in the spool"


def test_a_docket_report_follows_the_same_rules(server, tmp_path):
    """A docket report in flight when the crawl is killed is not bought again by itself
    (PACER billed the same report 2 to 3 times before); one kept is not bought again."""
    server.hold_purchases_after(0)
    proc = _start(server, tmp_path, "pacer_case_id=364733", "max_cost=5")
    _kill_while_held(server, tmp_path, proc, 0)
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=5")
    assert code == 1, log[-3000:]
    assert "docket report" in log and "unknown outcome" in log and "rebuy=1" in log
    assert server.charges == []
    _assert_unknown_only_where_no_answer_came(server, tmp_path)
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=5",
                      "rebuy=1")
    assert code == 0, log[-3000:]
    assert [c["what"] for c in server.charges] == ["docket_report"]
    _assert_bill_is_ledger(server, tmp_path)
    entries = rows(tmp_path / "dockets.db", "select count(*) n from docket_entries")[0]["n"]
    assert entries > 0

    # PACER answered, the crawl was killed before the docket was saved: its kept answer
    server.add_entry("cand", "364733", 97, "2020-11-02", "ORDER re Status Report.")
    spool = tmp_path / "purchases"
    slow = json.dumps({"tests.slow_pipeline.SlowItems": 250,
                       "docket_spider.pipelines.archive.ArchivePipeline": 300})
    proc = _start(server, tmp_path, "pacer_case_id=364733", "max_cost=5",
                  settings={"PACER_SPOOL_DIR": str(spool), "ITEM_PIPELINES": slow,
                            "SLOW_ITEM_SECONDS": "30"})
    _kill_when(proc, lambda: len(server.charges) == 2 and list(spool.glob("*.json"))
               and len(_ledger(tmp_path, "charged", "free")) + len(
                   [r for r in _ledger(tmp_path, "answered") if r["answer_kept"]]) == 2)
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=5",
                      settings={"PACER_SPOOL_DIR": str(spool)})
    assert code == 0, log[-3000:]
    assert "answer to an earlier purchase" in log
    assert len(server.charges) == 2
    assert rows(tmp_path / "dockets.db", "select count(*) n from docket_entries")[0]["n"] == \
        entries + 1
    _assert_bill_is_ledger(server, tmp_path)


def test_a_resumed_crawl_counts_what_it_spent(server, tmp_path):
    """max_cost is per crawl, and a crawl resumed from its JOBDIR is the same crawl."""
    budget = 5.00
    job = tmp_path / "job"
    server.hold_purchases_after(4)
    proc = _start(server, tmp_path, "pacer_case_id=364733", f"max_cost={budget}", "documents=1",
                  settings={"JOBDIR": str(job)})
    _kill_while_held(server, tmp_path, proc, 4)
    first = server.total_cost()
    assert first > 0
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733",
                      f"max_cost={budget}", "documents=1", "rebuy=1",
                      settings={"JOBDIR": str(job)})
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
