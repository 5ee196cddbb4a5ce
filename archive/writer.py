"""The one archive writer: ``python -m archive writer --db archive/dockets.db
--queue redis://host:6379/0``.

With ``ARCHIVE_QUEUE_URL`` set, crawls (any number, on any machine) never open
the SQLite file: they append their items and their calls (questions such as
"the last entry of this docket", the PACER ledger's rows, their own crawls
row) to one Redis stream (``archive/access.py``). This process reads the
stream as the only member of a consumer group and, for each batch:

1. applies the messages in stream order, in one SQLite transaction, each in
   its own savepoint (a bad item costs that item, not the batch);
2. moves its position (``writer_position``) and keeps the answers it owes
   (``writer_replies``) in that same transaction, so a message is applied
   exactly once however the writer dies: one replayed after a crash, at or
   before the position, changes nothing;
3. commits, then answers the calls and acknowledges (and deletes) the
   messages. A message is acknowledged only after its transaction commits;
   one delivered but not acknowledged (the writer was killed) is read again
   from the group's pending list when the writer starts.

A message it cannot apply at all (not JSON, an unknown call, a docket of an
impossible shape) is kept in ``writer_rejects`` with the error, never dropped.
A database error (disk full, a lock held past the busy timeout) rolls the
batch back and retries it: nothing is acknowledged that is not stored.
"""
from __future__ import annotations

import json
import logging
import re
import signal
import sqlite3
import threading
import time
from typing import Iterable, Optional

from parsers.common import strip_query

from . import access, load
from . import db as adb

logger = logging.getLogger(__name__)

GROUP = "archive_writer"
CONSUMER = "writer"  # one writer: a fixed name, so its pending messages are its own again
# SQLite errors of the file, not of a message: the batch is tried again
TRANSIENT = re.compile(r"locked|busy|disk|full|I/O|readonly|unable to open", re.I)
REPLY_TTL = 600
LEASE_TTL = 10.0  # seconds a killed writer's hold on the stream outlives it  # seconds an answer waits in Redis for its crawl


def _older_or_same(a: str, b: str) -> bool:
    """Stream ids ``ms-seq`` compared as numbers."""
    ams, aseq = (int(x) for x in a.split("-"))
    bms, bseq = (int(x) for x in b.split("-"))
    return (ams, aseq) <= (bms, bseq)


class WriterRunning(RuntimeError):
    """Another writer holds the stream."""


class Writer:
    def __init__(self, db_path: str, url: str, stream: str = access.DEFAULT_STREAM,
                 batch: int = 500, block_ms: int = 1000):
        import redis  # optional: only with ARCHIVE_QUEUE_URL

        self.db_path = db_path
        self.url = url
        self.stream = stream
        self.batch = batch
        self.block_ms = block_ms
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30)
        self.db = adb.open_db(db_path)
        adb.ensure_writer_shape(self.db)
        self.position = adb.writer_position(self.db, stream)
        self.stop = threading.Event()
        self.stream_new = False  # set by _group, from the stream's marker
        self.stats = {"messages": 0, "items": 0, "calls": 0, "replayed": 0, "rejected": 0,
                      "bad_records": 0, "batches": 0, "retries": 0, "busy_seconds": 0.0}

    # --- the stream ---------------------------------------------------------
    def _group(self) -> None:
        import redis  # optional: only with ARCHIVE_QUEUE_URL

        # has the stream been made anew since this archive's position was set (a Redis
        # restarted without its data)? A marker key lives and dies with the stream's data.
        marker = f"{self.stream}:writer_marker"
        self.stream_new = bool(self.redis.set(marker, str(time.time()), nx=True))
        try:
            groups = [g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
                      for g in self.redis.xinfo_groups(self.stream)]
        except redis.ResponseError:  # no such stream yet
            groups = []
        if GROUP in groups:
            return
        try:  # from the stream's start: what crawls sent before the writer began is read
            self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _read(self, pending: bool) -> list[tuple[str, dict]]:
        got = self.redis.xreadgroup(GROUP, CONSUMER, {self.stream: "0" if pending else ">"},
                                    count=self.batch, block=None if pending else self.block_ms)
        out = []
        for _, entries in got or []:
            for entry_id, fields in entries:
                if fields is None:  # pending, but deleted from the stream: nothing to apply
                    out.append((entry_id.decode(), {}))
                    continue
                out.append((entry_id.decode(),
                            {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}))
        return out

    def run(self, until_idle: bool = False) -> dict:
        """Apply the stream until stopped (SIGTERM, Ctrl-C, :attr:`stop`), or,
        with ``until_idle``, until nothing new arrives within one block."""
        self._lease()
        try:
            return self._run(until_idle)
        finally:
            self.lease.release()

    def _lease(self) -> None:
        """One writer per stream: a second one would apply batches out of order."""
        # a writer of this machine that was killed is taken over at once (the
        # lock's token names its process); one killed elsewhere, once its lease ends
        self.lease = access.QueueCaseLock(self, "writer", ttl=LEASE_TTL)
        deadline = time.monotonic() + LEASE_TTL + 2
        while not self.lease.try_acquire():
            if time.monotonic() > deadline:
                raise WriterRunning(
                    f"another archive writer ({self.lease.holder()}) applies the "
                    f"stream {self.stream} on {strip_query(self.url)}: one at a time")
            time.sleep(0.5)

    def _run(self, until_idle: bool) -> dict:
        import redis  # optional: only with ARCHIVE_QUEUE_URL

        pending = True  # first what was delivered to the last writer and never acknowledged
        started = False
        delay = 0.5
        while not self.stop.is_set():
            try:
                if not started:
                    self._group()
                    self._send_owed()
                    started = True
                entries = self._read(pending)
                if pending and not entries:
                    pending = False
                    continue
                if not entries:
                    if until_idle:
                        break
                    continue
                self._apply_with_retries(entries)
                delay = 0.5
            except redis.ConnectionError as exc:
                # what was applied is committed; what was not acknowledged is read again
                logger.error("The queue %s does not answer (%s): trying again in %.1f s",
                             strip_query(self.url), exc, delay)
                self.stop.wait(delay)
                delay = min(delay * 2, 30)
                pending, started = True, False
        return self.stats

    def _apply_with_retries(self, entries) -> None:
        delay = 0.5
        while not self.stop.is_set():
            try:
                replies = self.commit(entries)
            except sqlite3.Error as exc:  # nothing was committed, nothing acknowledged
                self.stats["retries"] += 1
                logger.error("Could not write a batch of %d messages to %s (%s): trying again "
                             "in %.1f s; nothing is acknowledged until it is stored",
                             len(entries), self.db_path, exc, delay)
                self.stop.wait(delay)
                delay = min(delay * 2, 30)
                continue
            self.settle(entries, replies)  # after the commit: never applied again
            return

    # --- one batch -----------------------------------------------------------
    def apply(self, entries: list[tuple[str, dict]]) -> None:
        """Apply one batch: commit it, then answer and acknowledge it."""
        self.settle(entries, self.commit(entries))

    def commit(self, entries: list[tuple[str, dict]]) -> list:
        """The batch's one transaction; returns the answers it owes. A message at
        or before the position was applied already, unless the stream was made
        anew since (:attr:`stream_new`)."""
        began = time.perf_counter()
        try:
            return self._commit(entries)
        finally:
            self.stats["busy_seconds"] += time.perf_counter() - began

    def _commit(self, entries: list[tuple[str, dict]]) -> list:
        replies: list[tuple[str, str, str]] = []
        rejects: list[tuple[str, str, str]] = []
        tallies: dict[int, list[int]] = {}
        applied = 0
        position = self.position
        with adb.transaction(self.db):
            stored = adb.writer_position(self.db, self.stream)
            if stored != position:  # another writer moved it since: its batches come first
                raise WriterRunning(
                    f"another archive writer moved the position of {self.stream} in "
                    f"{self.db_path} (to {stored}; this one had {position}): one at a time")
            for entry_id, fields in entries:
                if not fields:  # pending, but no longer in the stream
                    self.stats["replayed"] += 1
                    continue
                if _older_or_same(entry_id, position):
                    if not self.stream_new:
                        self.stats["replayed"] += 1  # applied before the writer was stopped
                        continue
                    # the stream was made anew (a Redis restarted without its data, its
                    # clock behind): its ids say nothing of what was applied
                    logger.warning("Message %s is new to the writer but not after its position "
                                   "%s: the stream %s was made again; applying it", entry_id,
                                   position, self.stream)
                if fields.get("op") == "call":  # a question sees the counts so far
                    self._flush(tallies)
                try:
                    with adb.transaction(self.db):  # a savepoint: one message at a time
                        answer = self._apply_one(fields, tallies)
                except sqlite3.OperationalError as exc:
                    if TRANSIENT.search(str(exc)):
                        raise  # the file, not the message: the whole batch again
                    answer, error = None, f"{type(exc).__name__}: {exc}"
                    if fields.get("op") == "call" and fields.get("reply"):
                        answer = {"error": error}  # the crawl hears of it at once
                    else:
                        rejects.append((entry_id, json.dumps(fields), error))
                        logger.error("Could not apply message %s: %s; kept in writer_rejects",
                                     entry_id, error)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    if fields.get("op") == "call" and fields.get("reply"):
                        answer = {"error": error}
                    else:
                        answer = None
                        rejects.append((entry_id, json.dumps(fields), error))
                        logger.error("Could not apply message %s (%s %s): %s; kept in "
                                     "writer_rejects", entry_id, fields.get("op"),
                                     fields.get("kind") or fields.get("name"), error)
                if answer is not None and fields.get("reply"):
                    replies.append((entry_id, fields["reply"], access.encode(answer)))
                position = entry_id
                applied += 1
            self._flush(tallies)
            adb.move_writer(self.db, self.stream, position, applied, replies, rejects)
        self.position = position
        self.stream_new = False  # from here on, ids are this stream's
        self.stats["messages"] += applied
        self.stats["rejected"] += len(rejects)
        self.stats["batches"] += 1
        return replies

    def settle(self, entries, replies) -> None:
        """After the commit: answer, then acknowledge and delete the messages. An
        answer that cannot be sent stays owed (sent at the next start)."""
        self._answer(replies)
        ids = [entry_id for entry_id, _ in entries]
        pipe = self.redis.pipeline()
        pipe.xack(self.stream, GROUP, *ids)
        pipe.xdel(self.stream, *ids)  # stored: the stream need not keep them
        pipe.execute()

    def _flush(self, tallies: dict) -> None:
        for crawl_id, (unchanged, bad) in tallies.items():
            adb.add_crawl_tally(self.db, crawl_id, unchanged, bad)
        tallies.clear()

    def _apply_one(self, fields: dict, tallies: dict) -> Optional[dict]:
        op = fields.get("op")
        data = json.loads(fields.get("data") or "{}")
        if op == "item":
            self.stats["items"] += 1
            crawl_id = int(fields["crawl"]) if fields.get("crawl") else None
            if crawl_id is not None and not 0 < crawl_id < 2 ** 63:
                raise ValueError(f"crawl id {fields['crawl']!r} is not a crawl's")
            kind = fields.get("kind") or ""
            out = load.save_item(self.db, kind, data, crawl_id)
            if crawl_id is not None:
                tally = tallies.setdefault(crawl_id, [0, 0])
                tally[0] += out["actions"].get("unchanged", 0)
                tally[1] += len(out["problems"])
            for problem in out["problems"]:
                self.stats["bad_records"] += 1
                logger.warning("Skipped a bad record, %s: %s (the others are kept)",
                               problem["what"], problem["error"])
            return None
        if op == "call":
            self.stats["calls"] += 1
            name = fields.get("name") or ""
            if name not in access.QUESTIONS and name not in access.RECORDS:
                raise ValueError(f"{name!r} is not a call of the archive")
            args, kwargs = data.get("args") or [], data.get("kwargs") or {}
            if name == "finish_crawl":
                return {"result": self._finish_crawl(*args, **kwargs)}
            return {"result": getattr(adb, name)(self.db, *args, **kwargs)}
        raise ValueError(f"{op!r} is not a kind of message of the archive's queue")

    def _finish_crawl(self, crawl_id, status, counts, message=""):
        """The crawl's end, with what only the writer counted: rows unchanged and
        the bad records it skipped (added to the crawl's own)."""
        row = adb.crawl_row(self.db, crawl_id) or {}
        counts = dict(counts)
        counts["rows_unchanged"] = row.get("rows_unchanged") or 0
        written_bad = row.get("bad_records") or 0
        if written_bad:
            counts["bad_records"] = (counts.get("bad_records") or 0) + written_bad
            note = (f"{written_bad} bad record(s) skipped by the archive writer (see its log); "
                    "the rest were kept")
            message = f"{message}; {note}" if message else note
        return adb.finish_crawl(self.db, crawl_id, status, counts, message)

    # --- answers ----------------------------------------------------------------
    def _answer(self, replies: Iterable[tuple[str, str, str]]) -> None:
        replies = list(replies)
        if not replies:
            return
        import redis  # optional: only with ARCHIVE_QUEUE_URL

        pipe = self.redis.pipeline()
        for _, key, answer in replies:
            pipe.rpush(key, answer)
            pipe.expire(key, REPLY_TTL)
        results = pipe.execute(raise_on_error=False)
        for (entry_id, key, _), result in zip(replies, results[::2]):
            if isinstance(result, redis.ResponseError):  # a key of another kind, Redis full...
                logger.error("Could not answer message %s on %s: %s (the crawl that asked gets "
                             "no answer and stops waiting after ARCHIVE_QUEUE_WAIT)", entry_id,
                             key, result)
        try:
            adb.replies_sent(self.db, [entry_id for entry_id, _, _ in replies])
        except sqlite3.Error as exc:  # sent: at worst sent again at the next start
            logger.warning("Could not record %d answers as sent (%s)", len(replies), exc)

    def _send_owed(self) -> None:
        owed = adb.owed_replies(self.db)
        if owed:
            logger.info("Sending %d answers the last writer committed but did not send", len(owed))
            self._answer(owed)

    def close(self) -> None:
        adb.close_db(self.db)
        self.redis.close()


def run_writer(db_path: str, url: str, stream: str = access.DEFAULT_STREAM,
               until_idle: bool = False, batch: int = 500) -> dict:
    """The CLI's loop: SIGTERM and Ctrl-C end it after the batch in hand."""
    writer = Writer(db_path, url, stream, batch=batch)

    def stop(signum, frame):
        logger.info("Stopping the archive writer after the batch in hand")
        writer.stop.set()

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    began = time.monotonic()
    try:
        return writer.run(until_idle=until_idle)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        stats = dict(writer.stats, seconds=round(time.monotonic() - began, 1))
        logger.info("Archive writer stopped: %s", stats)
        writer.close()
