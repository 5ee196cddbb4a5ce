"""Several crawls, one archive writer (archive/writer.py, archive/access.py),
for real: Debian's redis-server on loopback, `python -m archive writer`
processes and the real `scrapy crawl` with ARCHIVE_QUEUE_URL.

- Two crawl processes at once and one writer make the archive that the same
  crawls make writing the file themselves: no duplicates, no lost entries;
  the writer killed with SIGKILL mid-way and started again loses nothing.
  The crawls never open (or create) ARCHIVE_DB.
- A PACER crawl through the writer: the ledger is PACER's bill, purchase for
  purchase, and a second crawl buys nothing again.
- A writer killed after its commit, before its acknowledgement: nothing is
  applied twice and the answer it owed is sent.
- A message it cannot apply is kept in writer_rejects; a crawl with no writer
  stops with a clear error.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import EXTRACT_CACHE, PROJECT, SHARED, assert_whole, rows, run_crawl
from tests.servers.cases import synthetic_case
from tests.servers.courtlistener import CourtListenerServer

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="Debian's redis-server is not installed (.ci/run installs it)")

TOKEN = "test-token-writer"
DOCKET = "cand/3:20-cv-05910"


def start_writer(url, db, log_path, *extra):
    log = open(log_path, "a")
    return subprocess.Popen([sys.executable, "-m", "archive", "writer", "--db", str(db),
                             "--queue", url, *extra], cwd=PROJECT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def applied(db) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = con.execute("select applied from writer_position").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return 0
    return row[0] if row else 0


def cl_crawl_cmd(srv, case_id, db, files, queue=None):
    cmd = [sys.executable, "-m", "scrapy", "crawl", "courtlistener", "-a", "court=cand",
           "-a", f"pacer_case_id={case_id}"]
    settings = {"ARCHIVE_DB": str(db), "FILES_STORE": str(files), "LOG_LEVEL": "INFO",
                "AUTOTHROTTLE_ENABLED": "False", "EXTRACT_WORKERS": "1", "EXTRACT_OCR": "False",
                "TELNETCONSOLE_ENABLED": "False", "COURTLISTENER_API_URL": srv.api_url,
                "COURTLISTENER_STORAGE_URL": srv.storage_url,
                "COURTLISTENER_RATE_PER_MINUTE": "1200"}
    if os.environ.get(EXTRACT_CACHE):  # the session's extraction results (tests/conftest.py)
        settings["EXTRACT_CACHE_DIR"] = os.environ[EXTRACT_CACHE]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    env = {**os.environ, "COURTLISTENER_TOKEN": TOKEN}
    env.pop("ARCHIVE_QUEUE_URL", None)
    if queue:
        env["ARCHIVE_QUEUE_URL"] = queue
    return cmd, env


def archive_rows(db):
    """What a reader sees, without times and crawl ids (they differ run to run)."""
    return {table: rows(db, f"select {cols} from {table} order by id") for table, cols in (
        ("dockets", "id, case_name, pacer_case_id, date_filed"),
        ("docket_entries", "id, docket_id, entry_number, date_filed, description"),
        ("documents", "id, entry_id, sha256, file_path, page_count, status, error, text"),
        ("parties", "id, name, party_type"),
        ("attorneys", "id, name"),
        ("party_attorneys", "id, roles"))}


def test_two_crawls_one_writer_killed_and_restarted_make_the_direct_archive(tmp_path, redis_url):
    if not SHARED.exists():
        pytest.skip(f"{SHARED} (the corpus PDFs) is not beside the checkout")
    pdfs = ["recap_documents/ca4_17.pdf", "recap_documents/ca6_1-3.pdf"]
    cases = [synthetic_case(SHARED, n_entries=24, pacer_case_id=pid, pdfs=pdfs)
             for pid in ("900001", "900002")]
    with CourtListenerServer(cases, token=TOKEN) as srv:
        direct = tmp_path / "direct.db"
        for pid in ("900001", "900002"):  # one process, writing the file itself
            cmd, env = cl_crawl_cmd(srv, pid, direct, tmp_path / "files-direct")
            done = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True,
                                  timeout=300)
            assert done.returncode == 0, done.stderr[-3000:]

        queued = tmp_path / "queued.db"
        never = tmp_path / "crawl-side" / "dockets.db"  # what the crawls are told: never opened
        wlog = tmp_path / "writer.log"
        writer = start_writer(redis_url, queued, wlog, "--batch", "5")
        crawls = []
        for pid in ("900001", "900002"):  # two processes at once, one writer
            cmd, env = cl_crawl_cmd(srv, pid, never, tmp_path / "files-queued", queue=redis_url)
            crawls.append(subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True))
        deadline = time.time() + 120
        while applied(queued) < 12 and time.time() < deadline:
            time.sleep(0.05)
        assert applied(queued) >= 12, wlog.read_text()[-3000:]
        os.killpg(writer.pid, signal.SIGKILL)  # mid-way: the crawls go on sending
        writer.wait()
        killed_at = applied(queued)
        time.sleep(1.0)
        writer = start_writer(redis_url, queued, wlog)
        try:
            for proc in crawls:
                out, _ = proc.communicate(timeout=300)
                assert proc.returncode == 0, out[-4000:]
                assert "Traceback" not in out, out[-4000:]
                assert "Items go to the archive writer on redis://127.0.0.1" in out
        finally:
            os.killpg(writer.pid, signal.SIGTERM)
            writer.wait(timeout=30)
    log = wlog.read_text()
    assert writer.returncode == 0, log[-3000:]
    assert not never.exists() and not never.parent.exists(), "a queued crawl opened ARCHIVE_DB"
    assert killed_at < applied(queued), "the writer was killed before the crawls ended"

    assert archive_rows(queued) == archive_rows(direct)
    assert_whole(queued)  # the writer left its file checkpointed, and each direct crawl its own
    assert_whole(direct)
    entries = rows(queued, "select docket_id, count(*) as n from docket_entries group by docket_id")
    assert [e["n"] for e in entries] == [24, 24]
    crawls_rows = rows(queued, "select * from crawls order by id")
    assert [c["status"] for c in crawls_rows] == ["finished", "finished"]
    assert sorted(c["rows_added"] for c in crawls_rows) == \
        sorted(c["rows_added"] for c in rows(direct, "select * from crawls order by id"))
    assert all(c["pid"] and c["host"] for c in crawls_rows)  # the crawls', not the writer's
    assert rows(queued, "select * from writer_rejects") == []
    assert rows(queued, "select * from writer_replies") == []  # every answer sent
    import redis

    client = redis.Redis.from_url(redis_url)
    assert client.xlen("docket_archive") == 0  # all applied, acknowledged and deleted
    assert client.xpending("docket_archive", "archive_writer")["pending"] == 0


def test_a_pacer_crawl_through_the_writer_keeps_the_ledger(tmp_path, redis_url):
    from tests.servers.ca9 import Ca9Server
    from tests.servers.pacer import PacerServer
    from tests.test_pacer_spiders import PASSWORD, USER, assert_ledger_matches

    shared = SHARED if SHARED.exists() else None
    db = tmp_path / "dockets.db"
    writer = start_writer(redis_url, db, tmp_path / "writer.log")
    try:
        with PacerServer(shared, username=USER, password=PASSWORD) as srv, Ca9Server(shared) as ca9:
            settings = {**srv.settings(), **ca9.settings(), "ARCHIVE_DB": str(tmp_path / "no.db"),
                        "PACER_SPOOL_DIR": str(tmp_path / "spool")}
            env = {"PACER_USERNAME": USER, "PACER_PASSWORD": PASSWORD,
                   "ARCHIVE_QUEUE_URL": redis_url}
            code, log = run_crawl("pacer_district", args=["pacer_case_id=364733", "max_cost=4.00",
                                                          "documents=1"],
                                  env=env, db=tmp_path / "no.db", files=tmp_path / "files",
                                  settings=settings, timeout=180)
            assert code == 0, log[-3000:]
            assert "Traceback" not in log
            assert PASSWORD not in log
            assert_ledger_matches(srv, tmp_path)
            assert 0 < srv.total_cost() <= 4.00
            billed = len(srv.charges)
            # again: the archive (asked through the writer) has what was bought; none twice
            code, log = run_crawl("pacer_district", args=["pacer_case_id=364733", "max_cost=4.00",
                                                          "documents=1"],
                                  env=env, db=tmp_path / "no.db", files=tmp_path / "files",
                                  settings=settings, timeout=180)
            assert code == 0, log[-3000:]
            first = {c.get("doc_id") for c in srv.charges[:billed] if c["what"] == "document"}
            again = {c.get("doc_id") for c in srv.charges[billed:] if c["what"] == "document"}
            assert first and not first & again  # the rest of the documents, within a new budget
            assert sum(c["cost"] for c in srv.charges[billed:]) <= 4.00
            assert_ledger_matches(srv, tmp_path)
    finally:
        os.killpg(writer.pid, signal.SIGTERM)
        writer.wait(timeout=30)
    assert not (tmp_path / "no.db").exists()
    stored = rows(db, "select * from documents where file_path is not null and source = 'pacer'")
    assert stored and all(d["sha256"] and d["text"] is not None for d in stored)
    assert PASSWORD not in db.read_bytes().decode("latin-1")


def _writer_in_thread(db, url):
    from archive.writer import Writer

    box = {}
    ready = threading.Event()

    def run():
        box["writer"] = Writer(str(db), url)
        ready.set()
        box["stats"] = box["writer"].run()
        box["writer"].close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    return box, thread


def _entry(n):
    return {"source": "courtlistener", "court_id": "cand", "docket_number": "3:20-cv-05910",
            "entry_number": n, "date_filed": "2020-08-21", "description": f"ENTRY {n}"}


def test_killed_after_its_commit_the_writer_applies_nothing_twice_and_answers(tmp_path, redis_url):
    from archive.access import QueueArchive
    from archive.writer import Writer

    queue = QueueArchive(redis_url, wait=20)
    queue.send("DocketItem", {"source": "courtlistener", "court_id": "cand",
                              "docket_number": "3:20-cv-05910", "case_name": "A v. B"})
    for n in range(1, 6):
        queue.send("DocketEntryItem", _entry(n))
    # a call whose answer the first writer commits but never sends
    reply = "docket_archive:reply:test"
    queue._add({"op": "call", "name": "last_entry", "reply": reply,
                "data": '{"args": ["%s"], "kwargs": {}}' % DOCKET})
    db = tmp_path / "a.db"
    first = Writer(str(db), redis_url)
    first._group()
    entries = first._read(pending=False)
    assert len(entries) == 7

    def crash(replies):
        raise SystemExit("killed between the commit and the answer")

    first._answer = crash
    with pytest.raises(SystemExit):
        first.apply(entries)
    first.close()
    assert len(rows(db, "select * from docket_entries")) == 5  # committed
    assert queue.redis.llen(reply) == 0  # never answered, never acknowledged

    second = Writer(str(db), redis_url)
    stats = second.run(until_idle=True)
    second.close()
    assert stats["replayed"] == 7 and stats["messages"] == 0  # read again, applied before
    assert len(rows(db, "select * from docket_entries")) == 5
    answer = queue.redis.blpop([reply], timeout=5)
    assert answer is not None and b'"entries":5' in answer[1]
    assert queue.redis.xpending("docket_archive", "archive_writer")["pending"] == 0
    queue.close()


def test_bad_messages_are_kept_and_a_replayed_item_changes_nothing(tmp_path, redis_url):
    from archive.access import QueueArchive

    db = tmp_path / "a.db"
    box, thread = _writer_in_thread(db, redis_url)
    queue = QueueArchive(redis_url, wait=20)
    try:
        crawl = queue.start_crawl("courtlistener", "cand", "3:20-cv-05910", {})
        queue.send("DocketItem", {"source": "courtlistener", "court_id": "cand",
                                  "docket_number": "3:20-cv-05910", "case_name": "A v. B"}, crawl)
        queue.send("DocketEntryItem", _entry(1), crawl)
        queue.send("NoSuchItem", {"x": 1}, crawl)
        queue.send("DocketEntryItem", dict(_entry(2), entry_number="two?"), crawl)  # bad record
        queue._add({"op": "item", "kind": "DocketEntryItem", "data": "{not json"})
        with pytest.raises(ValueError, match="not a call"):
            queue.call("drop_everything")  # refused before it is sent
        queue._add({"op": "call", "name": "drop_everything", "reply": "docket_archive:reply:bad",
                    "data": "{}"})  # sent anyway: the writer answers with an error
        answer = queue.redis.blpop(["docket_archive:reply:bad"], timeout=10)
        assert answer is not None and b"not a call of the archive" in answer[1]
        assert queue.find_docket("cand", "3:20-cv-05910")["case_name"] == "A v. B"
        before = rows(db, "select id, description, first_seen from docket_entries")
        queue.send("DocketEntryItem", _entry(1), crawl)  # the same item again
        row = queue.finish_crawl(crawl, "finished", {"requests": 1}, "")
        assert rows(db, "select id, description, first_seen from docket_entries") == before
        assert row["rows_added"] == 2 and row["rows_unchanged"] == 1
        assert row["bad_records"] == 1 and "bad record" in row["message"]
        rejects = rows(db, "select * from writer_rejects order by id")
        assert len(rejects) == 2  # the unknown kind, the message that is not JSON
        assert "NoSuchItem" in rejects[0]["error"] and "JSONDecodeError" in rejects[1]["error"]
        assert "{not json" in rejects[1]["message"]  # kept as it came
    finally:
        box["writer"].stop.set()
        thread.join(10)
        queue.close()


def test_a_queued_crawl_without_a_writer_stops_with_a_clear_error(tmp_path, redis_url):
    code, log = run_crawl("internet_archive", args=["court=cand", "docket_number=3:20-cv-05910"],
                          env={"ARCHIVE_QUEUE_URL": redis_url}, db=tmp_path / "no.db",
                          files=tmp_path / "files", settings={"ARCHIVE_QUEUE_WAIT": "2",
                                                              "INTERNET_ARCHIVE_URL": "http://127.0.0.1:9/download/"},
                          timeout=60)
    assert code != 0
    assert "no archive writer answered start_crawl" in log, log[-3000:]
    assert "python -m archive writer" in log
    assert not (tmp_path / "no.db").exists()


def test_nothing_crawl_side_opens_the_archive_file():
    """Spiders, middlewares and the files/extraction pipelines ask archive.access;
    only ArchivePipeline writes the file, and only without the queue."""
    root = Path(PROJECT) / "docket_spider"
    for path in root.rglob("*.py"):
        text = path.read_text()
        if path.relative_to(root).as_posix() == "pipelines/archive.py":
            assert text.count("open_db(") == 1, "ArchivePipeline only"
            continue
        assert "open_db(" not in text and "sqlite3" not in text, path
        # pipelines never call back into spiders (FilesPipeline's own get_media_requests aside)
        assert not re.search(r"(?<!get_)media_request", text), path


def test_a_stream_made_again_after_a_redis_restart_is_applied_not_skipped(tmp_path, redis_url):
    """A Redis restarted without its data starts the stream over; ids from a clock
    behind the writer's position are new messages, not replays."""
    from archive.access import QueueArchive, encode
    from archive.writer import Writer

    db = tmp_path / "a.db"
    queue = QueueArchive(redis_url, wait=20)
    queue.send("DocketItem", {"source": "courtlistener", "court_id": "cand",
                              "docket_number": "3:20-cv-05910", "case_name": "A v. B"})
    queue.send("DocketEntryItem", _entry(1))
    writer = Writer(str(db), redis_url)
    writer.run(until_idle=True)
    writer.close()
    queue.redis.flushdb()  # the restart without its data: no stream, group or marker
    for n in (2, 3):  # ids far behind the position
        queue.redis.xadd("docket_archive", {"op": "item", "kind": "DocketEntryItem", "crawl": "",
                                            "data": encode(_entry(n))}, id=f"{n}-0")
    writer = Writer(str(db), redis_url)
    stats = writer.run(until_idle=True)
    writer.close()
    assert stats["messages"] == 2 and stats["replayed"] == 0
    assert [r["entry_number"] for r in rows(db, "select entry_number from docket_entries "
                                                 "order by entry_number")] == [1, 2, 3]
    queue.close()
