"""An adversarial pass on the one-archive-writer mode (archive/writer.py,
archive/access.py): Debian's redis-server on loopback, real `scrapy crawl`
and `python -m archive writer` processes where the fault is a process's
death, in-process writers where the fault is injected (a lock, a reply key,
a memory limit).

The test marked ``xfail(strict=True)`` shows a fault the writer does not
survive today; its reason says what goes wrong.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import PROJECT, SHARED, rows
from tests.servers.cases import synthetic_case
from tests.servers.courtlistener import CourtListenerServer
from tests.servers.redis_server import start_redis, stop_redis

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="Debian's redis-server is not installed (.ci/run installs it)")

from tests.test_archive_writer import (  # noqa: E402
    TOKEN, archive_rows, cl_crawl_cmd, start_writer,
)
STREAM = "docket_archive"
GROUP = "archive_writer"
NUMBER = "3:20-cv-05910"
DOCKET = f"cand/{NUMBER}"


@pytest.fixture
def queue(redis_url):
    from archive.access import QueueArchive

    archive = QueueArchive(redis_url, wait=20)
    yield archive
    archive.close()


def docket(**extra):
    return dict({"source": "courtlistener", "court_id": "cand", "docket_number": NUMBER,
                 "case_name": "A v. B"}, **extra)


def entry(n, **extra):
    return dict({"source": "courtlistener", "court_id": "cand", "docket_number": NUMBER,
                 "entry_number": n, "date_filed": "2020-08-21", "description": f"ENTRY {n}"},
                **extra)


def call_fields(name, *args, reply=None, **kwargs):
    from archive.access import encode

    return {"op": "call", "name": name, "reply": reply or f"{STREAM}:reply:{name}-{time.time_ns()}",
            "data": encode({"args": list(args), "kwargs": kwargs})}


def item_fields(kind, data, crawl=""):
    from archive.access import encode

    return {"op": "item", "kind": kind, "crawl": str(crawl),
            "data": data if isinstance(data, str) else encode(data)}


def run_until_idle(db, url):
    """A writer's run to idle: its stats, or what it raised."""
    from archive.writer import Writer

    writer = Writer(str(db), url)
    try:
        return writer.run(until_idle=True)
    except Exception as exc:  # noqa: BLE001 - the tests assert there is none
        return exc
    finally:
        writer.close()


def position(db) -> dict:
    """writer_position as a reader sees it ({} before the writer's first commit)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = con.execute("select last_id, applied from writer_position").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return {}
    return {"last_id": row[0], "applied": row[1]} if row else {}


def applied(db) -> int:
    return position(db).get("applied") or 0


def duplicates_added(db) -> list[dict]:
    return rows(db, "select table_name, row_id, count(*) as n from changes where action = 'added' "
                    "group by table_name, row_id having count(*) > 1")


def drained(client) -> tuple[int, int]:
    return client.xlen(STREAM), client.xpending(STREAM, GROUP)["pending"]


@contextlib.contextmanager
def writer_thread(db, url, prepare=None, **kwargs):
    """A Writer running in a thread (its SQLite connection is that thread's);
    ``prepare(writer)`` runs in that thread before ``run``."""
    from archive.writer import Writer

    box: dict = {}
    ready = threading.Event()

    def run():
        try:
            box["writer"] = Writer(str(db), url, **kwargs)
            if prepare is not None:
                prepare(box["writer"])
        except BaseException as exc:  # noqa: BLE001 - shown by the test
            box["error"] = exc
            return
        finally:
            ready.set()
        try:
            box["stats"] = box["writer"].run()
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc
        finally:
            box["writer"].close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(20), "the writer did not start"
    box["thread"] = thread
    try:
        yield box
    finally:
        if "writer" in box:
            box["writer"].stop.set()
        thread.join(15)


# --- 1. two crawls of one case through the queue --------------------------------------

def wait_for(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_two_queued_crawls_of_one_case_take_turns_and_duplicate_nothing(tmp_path, redis_url):
    """Same spider, same arguments, at once, through the queue: the second waits
    on QueueCaseLock (it says so), then stores nothing again; the archive is the
    one a single direct crawl makes."""
    import redis

    pid = "900101"
    case = synthetic_case(SHARED if SHARED.exists() else None, n_entries=8, pacer_case_id=pid,
                          pdfs=["recap_documents/ca4_17.pdf"])
    client = redis.Redis.from_url(redis_url)
    with CourtListenerServer([case], token=TOKEN) as srv:
        direct = tmp_path / "direct.db"
        cmd, env = cl_crawl_cmd(srv, pid, direct, tmp_path / "files-direct")
        done = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]

        queued = tmp_path / "queued.db"
        never = tmp_path / "crawl-side" / "dockets.db"
        logs = [tmp_path / "crawl-a.log", tmp_path / "crawl-b.log"]
        procs = []
        writer = None
        try:
            cmd, env = cl_crawl_cmd(srv, pid, never, tmp_path / "files-queued", redis_url)
            procs.append(subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=open(logs[0], "w"),
                                          stderr=subprocess.STDOUT))
            # the first holds the case's lock; with no writer yet it waits for its
            # start_crawl answer, holding it: the second must find it taken
            assert wait_for(lambda: client.keys(f"{STREAM}:lock:*"), 60), logs[0].read_text()
            lock_key = client.keys(f"{STREAM}:lock:*")[0].decode()
            assert client.get(lock_key).decode().startswith(f"{procs[0].pid}@")
            procs.append(subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=open(logs[1], "w"),
                                          stderr=subprocess.STDOUT))
            assert wait_for(lambda: "Another crawl of this case" in logs[1].read_text(), 60), \
                logs[1].read_text()[-3000:]
            writer = start_writer(redis_url, queued, tmp_path / "writer.log")
            for proc in procs:
                proc.wait(timeout=120)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
            if writer is not None:
                os.killpg(writer.pid, signal.SIGTERM)
                writer.wait(timeout=30)
    first, second = (log.read_text() for log in logs)
    assert [p.returncode for p in procs] == [0, 0], (first[-2000:], second[-2000:])
    assert "Traceback" not in first + second
    assert f"Another crawl of this case (process {procs[0].pid}@" in second
    assert "The other crawl of this case has ended" in second
    assert "Another crawl of this case" not in first
    assert not never.exists()
    assert client.keys(f"{STREAM}:lock:*") == []  # released by its holder, not left to expire

    assert archive_rows(queued) == archive_rows(direct)
    assert rows(queued, "select count(*) as n from docket_entries")[0]["n"] == 8
    assert duplicates_added(queued) == []
    crawls = rows(queued, "select * from crawls order by id")
    direct_crawl = rows(direct, "select * from crawls")[0]
    assert [c["status"] for c in crawls] == ["finished", "finished"]
    assert crawls[0]["rows_added"] == direct_crawl["rows_added"]
    assert crawls[1]["rows_added"] == 0 and crawls[1]["rows_changed"] == 0
    assert crawls[1]["pdfs_downloaded"] == 0  # the first had stored them all
    assert crawls[0]["pid"] == procs[0].pid and crawls[1]["pid"] == procs[1].pid
    assert rows(queued, "select * from writer_rejects") == []
    assert drained(client) == (0, 0)


# --- 2. QueueCaseLock --------------------------------------------------------------------

def test_queue_case_lock_renews_expires_and_is_released_only_by_its_owner(queue):
    from archive.access import QueueCaseLock

    default = QueueCaseLock(queue, "case-default")
    assert default.try_acquire()
    assert 25_000 < queue.redis.pttl(default.path) <= 30_000  # 30 s unless renewed
    default.release()
    assert queue.redis.get(default.path) is None

    a = QueueCaseLock(queue, "case-x", ttl=0.6)
    b = QueueCaseLock(queue, "case-x", ttl=0.6)
    assert a.try_acquire()
    assert not b.try_acquire()
    time.sleep(2.0)  # over three times its ttl: renewed all along
    assert queue.redis.get(a.path) == a.token.encode()
    assert 0 < queue.redis.pttl(a.path) <= 600
    assert not b.try_acquire()
    assert b.holder() == f"{os.getpid()}@{socket.gethostname()}"
    intruder = QueueCaseLock(queue, "case-x", ttl=0.6)
    assert not intruder.try_acquire()
    intruder.release()  # not its lock: nothing happens
    intruder._thread = threading.Thread(target=lambda: None)  # even as if it had held it
    intruder._thread.start()
    intruder.release()  # the compare-and-delete spares another's token
    assert queue.redis.get(a.path) == a.token.encode()

    # the holder stops renewing (hung, or killed): the key is gone within its ttl
    a._stop.set()
    a._thread.join(5)
    began = time.monotonic()
    assert wait_for(b.try_acquire, 3, step=0.02)
    assert time.monotonic() - began <= 0.6 + 0.3
    time.sleep(0.5)
    a.release()  # late: must not free the lock b now holds
    assert queue.redis.get(b.path) == b.token.encode()
    time.sleep(1.0)  # b's renewal goes on
    assert queue.redis.get(b.path) == b.token.encode()
    b.release()
    assert queue.redis.get(b.path) is None


def test_a_lock_holder_killed_with_sigkill_frees_the_lock_within_its_ttl(tmp_path, queue):
    from archive.access import QueueCaseLock

    code = ("import sys, time\n"
            f"sys.path.insert(0, {str(PROJECT)!r})\n"
            "from archive.access import QueueArchive, QueueCaseLock\n"
            f"lock = QueueCaseLock(QueueArchive({queue.url!r}), 'case-killed', ttl=1.5)\n"
            "assert lock.try_acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        waiter = QueueCaseLock(queue, "case-killed", ttl=1.5)
        time.sleep(2.5)  # past its ttl: the living holder renews it
        assert not waiter.try_acquire()
        assert waiter.holder() == f"{holder.pid}@{socket.gethostname()}"
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        killed = time.monotonic()
        assert wait_for(waiter.try_acquire, 5, step=0.02)
        waited = time.monotonic() - killed
        assert waited <= 1.5 + 0.5, waited
        waiter.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_lock_whose_holder_on_this_machine_is_gone_is_taken_over_at_once(queue):
    """The lock's token names its holder (pid@host): a holder of this machine
    whose process is gone is not waited for; one elsewhere, or alive, is."""
    from archive.access import QueueCaseLock

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    key = f"{queue.stream}:lock:case-gone"
    queue.redis.set(key, f"{gone.pid}@{host}:deadbeef", px=60_000)
    lock = QueueCaseLock(queue, "case-gone", ttl=60)
    assert lock.try_acquire()  # at once, not in 60 s
    assert queue.redis.get(key) == lock.token.encode()
    lock.release()
    assert queue.redis.get(key) is None
    for holder in (f"{gone.pid}@another-host:deadbeef", f"{os.getppid()}@{host}:deadbeef"):
        queue.redis.set(key, holder, px=60_000)
        assert not QueueCaseLock(queue, "case-gone").try_acquire()
        assert queue.redis.get(key) == holder.encode()
        queue.redis.delete(key)


# --- 3. the writer killed again and again while items arrive ------------------------------

def test_a_writer_killed_five_times_while_items_arrive_applies_each_once(tmp_path, redis_url):
    from archive.access import QueueArchive

    db = tmp_path / "killed.db"
    wlog = tmp_path / "writer.log"
    n_items = 2000
    queue = QueueArchive(redis_url, wait=60)
    writer = start_writer(redis_url, db, wlog, "--batch", "7")
    try:
        crawl = queue.start_crawl("courtlistener", "cand", NUMBER, {})
        queue.send("DocketItem", docket(), crawl)
        sent = [0]
        done = threading.Event()
        answers: list[tuple[int, int]] = []
        errors: list[BaseException] = []

        def send():
            q = QueueArchive(redis_url)
            try:
                for n in range(1, n_items + 1):
                    q.send("DocketEntryItem", entry(n), crawl)
                    sent[0] = n
                    time.sleep(0.004)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                done.set()
                q.close()

        def ask():  # a crawl's questions meanwhile: each sees what was sent before it
            q = QueueArchive(redis_url, wait=60)
            try:
                while not done.is_set():
                    before = sent[0]
                    got = q.last_entry(DOCKET)
                    answers.append((before, got["entries"] if got else 0))
                    time.sleep(0.03)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                q.close()

        threads = [threading.Thread(target=send, daemon=True),
                   threading.Thread(target=ask, daemon=True)]
        for thread in threads:
            thread.start()
        kills_while_sending = 0
        for _ in range(5):
            base = applied(db)
            assert wait_for(lambda: applied(db) >= base + 15, 30), wlog.read_text()[-3000:]
            os.killpg(writer.pid, signal.SIGKILL)
            writer.wait()
            kills_while_sending += not done.is_set()
            time.sleep(0.2)
            writer = start_writer(redis_url, db, wlog, "--batch", "7")
        for thread in threads:
            thread.join(120)
        assert not errors, errors
        assert kills_while_sending >= 3, "the items arrived faster than the kills"
        row = queue.finish_crawl(crawl, "finished", {"requests": 0}, "")
    finally:
        os.killpg(writer.pid, signal.SIGTERM)
        writer.wait(timeout=30)
        queue.close()
    log = wlog.read_text()
    assert "Traceback" not in log, log[-3000:]
    messages = 1 + 1 + n_items + len(answers) + 1  # start, docket, entries, questions, finish
    assert applied(db) == messages
    assert rows(db, "select count(*) as n, count(distinct entry_number) as d "
                    "from docket_entries") == [{"n": n_items, "d": n_items}]
    assert duplicates_added(db) == []
    assert rows(db, "select count(*) as n from changes where action = 'added'")[0]["n"] \
        == n_items + 1
    assert row["rows_added"] == n_items + 1 and row["rows_unchanged"] == 0
    assert answers and all(got >= before for before, got in answers), \
        [a for a in answers if a[1] < a[0]][:5]
    assert rows(db, "select * from writer_rejects") == []
    assert rows(db, "select * from writer_replies") == []
    import redis

    assert drained(redis.Redis.from_url(redis_url)) == (0, 0)


# --- 4. impossible shapes -------------------------------------------------------------------

def test_messages_of_an_impossible_shape_are_kept_and_the_writer_goes_on(tmp_path, queue):
    db = tmp_path / "shapes.db"
    bad = {
        "docket without court": item_fields("DocketItem", {"source": "x", "docket_number": "1"}),
        "entries not a list": item_fields("DocketItem", {
            "source": "pacer", "court_id": "cand", "docket_number": NUMBER, "entries": 5}),
        "docket missing": item_fields("DocketItem", {"source": "pacer"}),
        "docket without number": item_fields("DocketItem", {
            "source": "pacer", "court_id": "cand", "case_name": "X", "entries": []}),
        "entry data a list": item_fields("DocketEntryItem", "[1, 2, 3]"),
        "docket data a string": item_fields("DocketItem", '"just text"'),
        "crawl not a number": item_fields("DocketEntryItem", entry(9), crawl="abc"),
        "no op": {"kind": "DocketItem", "data": json.dumps(docket())},
    }
    with writer_thread(db, queue.url) as box:
        crawl = queue.start_crawl("courtlistener", "cand", NUMBER, {})
        queue.send("DocketItem", docket(), crawl)
        ids = {what: queue._add(fields) for what, fields in bad.items()}
        # a docket whose entries are of impossible shapes: bad records, not a reject
        queue.send("DocketItem", {
            "source": "pacer", "court_id": "cand", "docket_number": NUMBER, "case_name": "A v. B",
            "entries": [7, "text", {"court_id": "cand", "docket_number": NUMBER, "source": "pacer",
                                    "entry_number": 1, "date_filed": "2020-08-21",
                                    "description": "COMPLAINT"}]}, crawl)
        # calls of an impossible shape are answered with the error, not left waiting
        from archive.access import ArchiveUnavailable

        odd = queue._add(call_fields("last_entry", reply=f"{STREAM}:reply:odd") | {"data": "[]"})
        answer = queue.redis.blpop([f"{STREAM}:reply:odd"], timeout=10)
        assert answer is not None and "error" in json.loads(answer[1])
        with pytest.raises(ArchiveUnavailable, match="could not find_docket: TypeError"):
            queue.call("find_docket", "cand", NUMBER, None, "one too many")
        queue.send("DocketEntryItem", entry(2), crawl)
        assert queue.last_entry(DOCKET)["entries"] == 2  # it went on after every one
        row = queue.finish_crawl(crawl, "finished", {"requests": 0}, "")
        assert box["thread"].is_alive() and "error" not in box
    rejects = {r["id"]: r for r in rows(db, "select * from writer_rejects")}
    assert set(rejects) == set(ids.values()), rejects
    for what, entry_id in ids.items():
        kept = json.loads(rejects[entry_id]["message"])
        assert kept == bad[what], what  # as it came
        assert rejects[entry_id]["error"], what
    assert odd not in rejects
    for what in ("docket without court", "docket missing", "docket without number"):
        assert "KeyError" in rejects[ids[what]]["error"] or \
            "needs its court and number" in rejects[ids[what]]["error"], what
    assert "TypeError" in rejects[ids["entries not a list"]]["error"]
    assert row["bad_records"] == 2 and "bad record" in row["message"]
    from archive.writer import _older_or_same

    assert all(_older_or_same(i, position(db)["last_id"]) for i in ids.values())
    assert rows(db, "select id from dockets") == [{"id": DOCKET}]
    assert drained(queue.redis) == (0, 0)


# --- 5. a client that gave up, an answer nobody reads ------------------------------------------

def test_answers_to_a_crawl_that_gave_up_neither_block_nor_stop_the_writer(tmp_path, queue):
    from archive.access import ArchiveUnavailable, QueueArchive
    from archive.writer import REPLY_TTL

    db = tmp_path / "gaveup.db"
    impatient = QueueArchive(queue.url, wait=1)
    began = time.monotonic()
    with pytest.raises(ArchiveUnavailable, match="no archive writer answered find_docket"):
        impatient.find_docket("cand", NUMBER)
    assert time.monotonic() - began < 5
    impatient.close()
    # a reply key that expired (or was deleted) before the writer answered
    expired = queue._add(call_fields("last_entry", DOCKET, reply=f"{STREAM}:reply:expired"))
    queue.redis.set(f"{STREAM}:reply:expired", "x", px=1)
    time.sleep(0.05)
    with writer_thread(db, queue.url) as box:
        began = time.monotonic()
        assert queue.find_docket("cand", NUMBER) is None  # answered at once, after the others
        assert time.monotonic() - began < 5
        keys = sorted(k.decode() for k in queue.redis.keys(f"{STREAM}:reply:*"))
        assert len(keys) == 2  # the two answers nobody read
        for key in keys:
            assert 0 < queue.redis.ttl(key) <= REPLY_TTL
            assert queue.redis.llen(key) == 1
        assert box["thread"].is_alive() and "error" not in box
    assert rows(db, "select * from writer_replies") == []
    assert position(db)["applied"] == 3 and expired


# --- 6. ordering, ids, pending messages, SQLite errors ----------------------------------------

def test_stream_ids_are_compared_as_numbers():
    from archive.writer import _older_or_same

    assert _older_or_same("9-0", "10-0") and not _older_or_same("10-0", "9-0")
    assert _older_or_same("5-9", "5-10") and not _older_or_same("5-10", "5-9")
    assert _older_or_same("7-3", "7-3")
    assert _older_or_same("0-0", "1-0") and not _older_or_same("1-0", "0-0")
    assert _older_or_same("1796162761942-0", "1796162761942-1")
    assert not _older_or_same("1796162761943-0", "1796162761942-99")


def test_an_answer_is_sent_only_after_its_batch_is_committed(tmp_path, queue):
    db = tmp_path / "order.db"
    seen = []

    def prepare(writer):
        original = writer._answer

        def answer(replies):
            replies = list(replies)
            if not replies:
                return original(replies)
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)  # another connection
            try:
                last = con.execute("select last_id from writer_position").fetchone()[0]
                owed = {r[0] for r in con.execute("select id from writer_replies")}
                entries = con.execute("select count(*) from docket_entries").fetchone()[0]
            finally:
                con.close()
            seen.append((last, owed, entries, [r[0] for r in replies]))
            return original(replies)

        writer._answer = answer

    with writer_thread(db, queue.url, prepare=prepare, batch=50):
        queue.send("DocketItem", docket())
        for n in range(1, 121):
            queue.send("DocketEntryItem", entry(n))
            if n % 40 == 0:
                assert queue.last_entry(DOCKET)["entries"] == n
    from archive.writer import _older_or_same

    assert len(seen) == 3
    for (last, owed, entries, ids), n in zip(seen, (40, 80, 120)):
        assert entries == n  # what the answer says is in the file for every reader
        assert all(_older_or_same(i, last) for i in ids)  # the position committed covers it
        assert set(ids) <= owed  # kept as owed until it is sent
    assert rows(db, "select * from writer_replies") == []


def test_pending_messages_are_read_again_in_order_by_a_writer_of_a_smaller_batch(tmp_path, queue):
    """A first writer (batch 50) delivered 21 messages, committed 8 and died before
    acknowledging them; the next (batch 3) skips those 8 and applies the rest,
    in order: the last update of the entry wins."""
    from archive import db as adb
    from archive.writer import Writer

    db = tmp_path / "pending.db"
    archive = adb.open_db(str(db))
    crawl = adb.start_crawl(archive, "courtlistener", "cand", NUMBER, {})
    archive.conn.close()
    queue.send("DocketItem", docket(), crawl)
    for k in range(1, 21):
        queue.send("DocketEntryItem", entry(1, description=f"version {k}"), crawl)

    first = Writer(str(db), queue.url, batch=50)
    first._group()
    delivered = first._read(pending=False)
    assert len(delivered) == 21

    def killed(*args, **kwargs):
        raise SystemExit("killed after the commit, before the acknowledgement")

    first.redis.pipeline = killed
    with pytest.raises(SystemExit):
        first.apply(delivered[:8])
    first.close()
    assert queue.redis.xpending(STREAM, GROUP)["pending"] == 21
    queue.send("DocketEntryItem", entry(2), crawl)  # new, after the pending ones

    second = Writer(str(db), queue.url, batch=3)
    stats = second.run(until_idle=True)
    second.close()
    assert stats["replayed"] == 8 and stats["messages"] == 14
    assert position(db)["applied"] == 22
    assert rows(db, "select entry_number, description from docket_entries order by 1") == [
        {"entry_number": 1, "description": "version 20"},
        {"entry_number": 2, "description": "ENTRY 2"}]
    changes = rows(db, "select action, count(*) as n from changes where row_id like '%#%' "
                       "group by action order by action")
    assert changes == [{"action": "added", "n": 2}, {"action": "changed", "n": 19}]
    assert drained(queue.redis) == (0, 0)


def hold_write_lock(db, seconds):
    """Another process's write transaction on the archive, for ``seconds``."""
    con = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False)
    con.execute("BEGIN IMMEDIATE")

    def release():
        con.execute("ROLLBACK")
        con.close()

    timer = threading.Timer(seconds, release)
    timer.start()
    return timer


def test_a_batch_that_meets_a_locked_archive_is_tried_again_and_loses_nothing(tmp_path, queue,
                                                                            monkeypatch):
    from archive import db as adb

    monkeypatch.setattr(adb, "BUSY_TIMEOUT_MS", 300)  # the writer's busy timeout, made short
    db = tmp_path / "locked.db"
    with writer_thread(db, queue.url) as box:
        crawl = queue.start_crawl("courtlistener", "cand", NUMBER, {})
        # after that batch's last write (its answer marked sent): a lock taken between
        # the answer and that write is the xfail test below
        assert wait_for(lambda: rows(db, "select count(*) as n from writer_replies")[0]["n"] == 0, 5)
        timer = hold_write_lock(db, 1.5)
        queue.send("DocketItem", docket(), crawl)
        for n in range(1, 31):
            queue.send("DocketEntryItem", entry(n), crawl)
        began = time.monotonic()
        assert queue.last_entry(DOCKET)["entries"] == 30
        assert time.monotonic() - began >= 1.0  # answered once the lock was let go
        timer.join()
        row = queue.finish_crawl(crawl, "finished", {}, "")
        assert box["writer"].stats["retries"] >= 1
    assert row["rows_added"] == 31
    assert applied(db) == 1 + 1 + 30 + 1 + 1
    assert duplicates_added(db) == []
    assert rows(db, "select count(*) as n from crawls")[0]["n"] == 1


# --- bugs found ---------------------------------------------------------------------------------

def test_a_docket_item_whose_number_is_null_is_rejected_not_stored_as_docket_court_slash(
        tmp_path, queue):
    from archive.writer import Writer

    db = tmp_path / "nullnumber.db"
    queue.send("DocketItem", docket(docket_number=None))
    queue.send("DocketEntryItem", entry(1, docket_number=None))
    queue.send("DocketItem", docket(court_id=None))
    writer = Writer(str(db), queue.url)
    writer.run(until_idle=True)
    writer.close()
    stored = [r["id"] for r in rows(db, "select id from dockets")]
    stored += [r["id"] for r in rows(db, "select id from docket_entries")]
    assert stored == [], stored
    # the dockets are kept as rejects; the entry, one record, is a bad record of its crawl
    assert len(rows(db, "select * from writer_rejects")) == 2
    assert writer.stats["bad_records"] == 1


def test_a_locked_archive_after_the_commit_does_not_apply_the_batch_twice(tmp_path, queue,
                                                                        monkeypatch):
    from archive import db as adb
    from archive.writer import Writer

    monkeypatch.setattr(adb, "BUSY_TIMEOUT_MS", 300)
    db = tmp_path / "twice.db"
    queue._add(call_fields("start_crawl", "courtlistener", "cand", NUMBER, {}, pid=1,
                           host="crawl-host", reply=f"{STREAM}:reply:start"))
    queue.send("DocketEntryItem", entry(1))
    writer = Writer(str(db), queue.url)
    original, calls = writer._answer, []

    def answer(replies):  # another process takes the write lock right after the commit
        calls.append(1)
        if len(calls) == 1:
            hold_write_lock(db, 0.8)
        return original(replies)

    writer._answer = answer
    stats = writer.run(until_idle=True)
    writer.close()
    assert calls  # the lock was taken between the commit and the answer
    assert rows(db, "select count(*) as n from crawls")[0]["n"] == 1
    assert applied(db) == 2 and stats["messages"] == 2
    assert rows(db, "select count(*) as n from docket_entries")[0]["n"] == 1


def test_an_item_with_a_huge_crawl_id_is_rejected_not_a_writer_crash(tmp_path, queue):
    db = tmp_path / "huge.db"
    queue.send("DocketItem", docket())
    queue.send("DocketEntryItem", entry(1))
    queue.send("DocketEntryItem", entry(1), 2 ** 70)  # unchanged: only the tally is written
    queue.send("DocketEntryItem", entry(2))
    # the second start meets the same pending message
    outcomes = [run_until_idle(db, queue.url) for _ in range(2)]
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert rows(db, "select count(*) as n from docket_entries")[0]["n"] == 2
    assert drained(queue.redis) == (0, 0)


def test_a_reply_key_of_the_wrong_type_does_not_stop_the_writer(tmp_path, queue):
    db = tmp_path / "wrongtype.db"
    queue.redis.set(f"{STREAM}:reply:taken", "not a list")
    queue._add(call_fields("find_docket", "cand", NUMBER, reply=f"{STREAM}:reply:taken"))
    queue.send("DocketItem", docket())
    outcomes = []
    for _ in range(2):
        outcomes.append(run_until_idle(db, queue.url))
        queue.send("DocketEntryItem", entry(len(outcomes)))
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert rows(db, "select count(*) as n from docket_entries")[0]["n"] == 1
    assert queue.redis.xlen(STREAM) == 1  # the entry sent after the last run


def test_a_call_that_fails_in_sqlite_is_answered_with_the_error(tmp_path, queue):
    from archive.access import ArchiveUnavailable, QueueArchive

    def prepare(writer):  # a low limit of the writer's own connection: a real SQLite error
        writer.db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 20)

    db = tmp_path / "sqlerror.db"
    crawl_side = QueueArchive(queue.url, wait=2)
    try:
        with writer_thread(db, queue.url, prepare=prepare):
            queue.send("DocketItem", docket())
            began = time.monotonic()
            with pytest.raises(ArchiveUnavailable) as caught:
                crawl_side.call("last_entry", DOCKET,
                                exclude_sources=[f"source{i}" for i in range(50)])
            waited = time.monotonic() - began
    finally:
        crawl_side.close()
    assert "could not last_entry" in str(caught.value) and "too many SQL variables" in \
        str(caught.value), caught.value
    assert waited < 1.5


def test_redis_restored_from_an_older_snapshot_applies_nothing_twice(tmp_path):
    import redis

    from archive.access import QueueArchive
    from archive.writer import Writer

    folder = tmp_path / "redis"
    folder.mkdir()
    proc, url = start_redis(folder)
    try:
        db = tmp_path / "snapshot.db"
        writer = Writer(str(db), url)
        writer.run(until_idle=True)  # the group, as a long-running writer has it
        writer.close()
        queue = QueueArchive(url)
        queue._add(call_fields("start_crawl", "courtlistener", "cand", NUMBER, {}, pid=1,
                               host="crawl-host", reply=f"{STREAM}:reply:start"))
        queue.send("DocketItem", docket(), 1)
        for n in (1, 2):
            queue.send("DocketEntryItem", entry(n), 1)
        queue.redis.save()  # the snapshot: four messages, none delivered yet
        queue.close()
        writer = Writer(str(db), url)
        assert writer.run(until_idle=True)["messages"] == 4
        writer.close()
        assert drained(redis.Redis.from_url(url)) == (0, 0)
    finally:
        proc.kill()  # a crash: nothing saved since the snapshot
        proc.wait()
    proc, url = start_redis(folder)  # loads the snapshot
    try:
        assert redis.Redis.from_url(url).xlen(STREAM) == 4
        writer = Writer(str(db), url)
        stats = writer.run(until_idle=True)
        writer.close()
    finally:
        stop_redis(proc)
    assert rows(db, "select count(*) as n from crawls")[0]["n"] == 1
    assert applied(db) == 4 and stats["messages"] == 0
    assert duplicates_added(db) == []


def test_a_second_writer_cannot_apply_out_of_order_or_move_the_position_back(tmp_path, queue):
    from archive.writer import Writer

    db = tmp_path / "two.db"
    queue.send("DocketItem", docket())
    ids = [queue.send("DocketEntryItem", entry(1, description=f"version {k}"))
           for k in range(1, 7)]
    one = Writer(str(db), queue.url, batch=4)
    one._group()
    first_batch = one._read(pending=False)  # the docket, versions 1-3
    refused = []
    try:  # a second writer (a second service unit, an operator's mistake)
        two = Writer(str(db), queue.url, batch=4)
        try:
            two.apply(two._read(pending=False))  # versions 4-6, applied first
        finally:
            two.close()
    except Exception as exc:  # noqa: BLE001 - refusing to run is a fine answer
        refused.append(exc)
    try:
        one.apply(first_batch)
    except Exception as exc:  # noqa: BLE001 - so is refusing the stale batch
        refused.append(exc)
    one.close()
    assert position(db)["last_id"] == ids[-1]
    assert rows(db, "select description from docket_entries") == [{"description": "version 6"}]


def test_a_broker_lost_while_a_crawl_waits_for_an_answer_is_archive_unavailable(tmp_path):
    from archive.access import ArchiveUnavailable, QueueArchive

    folder = tmp_path / "redis"
    folder.mkdir()
    proc, url = start_redis(folder)
    queue = QueueArchive(url, wait=20)
    box = {}

    def ask():
        try:
            box["result"] = queue.find_docket("cand", NUMBER)
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc

    thread = threading.Thread(target=ask, daemon=True)
    try:
        thread.start()
        assert wait_for(lambda: queue.redis.xlen(STREAM) == 1, 5)
        time.sleep(0.3)  # in BLPOP now
    finally:
        proc.kill()
        proc.wait()
    thread.join(30)
    queue.close()
    assert not thread.is_alive()
    assert isinstance(box.get("error"), ArchiveUnavailable), box


@pytest.mark.xfail(strict=True, reason=(
    "BUG: archive/writer.py: with Redis at its maxmemory (noeviction), the writer still cannot "
    "drain the stream (its marker key, answers and acknowledgements need memory): the one "
    "process that would free the memory cannot run"))
def test_a_redis_at_its_memory_limit_is_drained_by_the_writer(tmp_path, queue):
    from archive.writer import Writer

    db = tmp_path / "oom.db"
    first = Writer(str(db), queue.url)
    first.run(until_idle=True)  # the group exists
    first.close()
    queue.send("DocketItem", docket())
    for n in range(1, 6):
        queue.send("DocketEntryItem", entry(n))
    queue._add(call_fields("last_entry", DOCKET, reply=f"{STREAM}:reply:oom"))
    queue.send("DocketEntryItem", entry(6))
    queue.redis.config_set("maxmemory", 1)
    box = {}

    def run():
        writer = Writer(str(db), queue.url)
        box["writer"] = writer
        try:
            box["stats"] = writer.run(until_idle=True)
        except Exception as exc:  # noqa: BLE001
            box["error"] = exc
        finally:
            writer.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        def done():
            return rows(db, "select count(*) as n from docket_entries")[0]["n"] == 6 \
                and queue.redis.xlen(STREAM) == 0

        wait_for(lambda: "error" in box or done(), 15)
        assert "error" not in box, box
        assert done()
    finally:
        if "writer" in box:
            box["writer"].stop.set()
        thread.join(15)
        queue.redis.config_set("maxmemory", 0)
