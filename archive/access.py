"""What a crawl may ask of the archive, and the few rows it writes outside its
items: one interface, two transports.

A spider, pipeline or middleware never opens ``ARCHIVE_DB`` itself. It asks an
:class:`Archive` (``open_archive(settings)``):

- without ``ARCHIVE_QUEUE_URL``, a :class:`FileArchive`: questions on a
  read-only connection to the file (no ``ensure_db_shape``, nothing locked),
  the crawl's own rows (its ``crawls`` row, the PACER ledger) written through
  ``archive.db`` as before;
- with ``ARCHIVE_QUEUE_URL=redis://…``, a :class:`QueueArchive`: every call is
  a message on the archive's Redis stream, which ``python -m archive writer``
  (``archive/writer.py``) applies in order and answers. A question is
  answered after everything the crawl sent before it has been applied, so a
  crawl reads its own writes; the crawl's items go on the same stream
  (:meth:`QueueArchive.send`).

The calls are named for ``archive.db``'s functions, without their first
argument (the database); :data:`QUESTIONS` and :data:`RECORDS` are all there is.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
import weakref
from typing import Any, Optional

import sqlite_utils

from parsers.common import docket_number_key, strip_query

from . import db as adb
from .names import safe_name
from .processes import process_alive

logger = logging.getLogger(__name__)

# Read-only questions, with the answer of an archive that does not exist yet.
QUESTIONS: dict[str, Any] = {
    "find_docket": None,
    "last_entry": None,
    "dockets_in_court": [],
    "entry_exists": False,
    "document_state": None,
    "document_stored": False,
    "documents_without_file": [],
    "committed": 0.0,
    "earlier_purchase": None,
    "purchases_in_flight": [],
    "pacer_charge": None,
}
# The rows a crawl writes besides its items: its crawls row and the PACER ledger,
# each written (committed) before the call returns.
RECORDS = frozenset({"start_crawl", "finish_crawl", "start_purchase", "settle_purchase",
                     "save_charge"})

DEFAULT_STREAM = "docket_archive"
DEFAULT_WAIT = 120.0  # seconds a call waits for the writer's answer


class ArchiveUnavailable(RuntimeError):
    """The archive cannot answer: no writer on the queue, or its call failed."""


def queue_url(settings=None) -> Optional[str]:
    """``ARCHIVE_QUEUE_URL`` from the crawl's settings or the environment."""
    url = (settings.get("ARCHIVE_QUEUE_URL") if settings is not None else None) \
        or os.environ.get("ARCHIVE_QUEUE_URL")
    return str(url).strip() or None if url else None


def open_archive(settings) -> "Archive":
    """The crawl's archive: the queue with ``ARCHIVE_QUEUE_URL``, else the file."""
    url = queue_url(settings)
    if url:
        return QueueArchive(url, stream=settings.get("ARCHIVE_QUEUE_STREAM") or DEFAULT_STREAM,
                            wait=settings.getfloat("ARCHIVE_QUEUE_WAIT", DEFAULT_WAIT))
    return FileArchive(settings.get("ARCHIVE_DB"))


def encode(value) -> str:
    """JSON for the stream: dates as ISO text, as SQLite stores them anyway."""
    def default(obj):
        if isinstance(obj, (_dt.date, _dt.datetime)):
            return obj.isoformat()
        if isinstance(obj, (set, frozenset, tuple)):
            return list(obj)
        if isinstance(obj, bytes):
            return obj.decode("utf-8", "replace")
        raise TypeError(f"{type(obj).__name__} cannot go on the archive's queue")
    return json.dumps(value, default=default, separators=(",", ":"))


class Archive:
    """The calls; a transport implements :meth:`call`."""

    queued = False

    def call(self, name: str, *args, **kwargs):
        raise NotImplementedError

    def close(self, *args, **kwargs) -> None:
        pass

    # --- questions --------------------------------------------------------
    def find_docket(self, court_id, docket_number=None, pacer_case_id=None):
        return self.call("find_docket", court_id, docket_number, pacer_case_id)

    def last_entry(self, docket_id):
        return self.call("last_entry", docket_id)

    def dockets_in_court(self, court_id):
        return self.call("dockets_in_court", court_id)

    def entry_exists(self, court_id, docket_number, entry):
        return self.call("entry_exists", court_id, docket_number, entry)

    def document_state(self, doc_id):
        return self.call("document_state", doc_id)

    def document_stored(self, court_id, pacer_doc_id=None, doc_id=None):
        return self.call("document_stored", court_id, pacer_doc_id, doc_id)

    def documents_without_file(self, docket_id):
        return self.call("documents_without_file", docket_id)

    def committed(self, job_id=None, since=None):
        return self.call("committed", job_id, since)

    def earlier_purchase(self, purchase_key):
        return self.call("earlier_purchase", purchase_key)

    def purchases_in_flight(self):
        return self.call("purchases_in_flight")

    def pacer_charge(self, ledger_id):
        return self.call("pacer_charge", ledger_id)

    # --- the crawl's own rows --------------------------------------------
    def start_crawl(self, spider, court_id, docket_number, args):
        return self.call("start_crawl", spider, court_id, docket_number, args,
                         pid=os.getpid(), host=socket.gethostname())

    def finish_crawl(self, crawl_id, status, counts, message=""):
        return self.call("finish_crawl", crawl_id, status, counts, message)

    def start_purchase(self, charge):
        return self.call("start_purchase", charge)

    def settle_purchase(self, ledger_id, status, **fields):
        return self.call("settle_purchase", ledger_id, status, **fields)


class FileArchive(Archive):
    """The SQLite file on this machine. Questions go to a read-only connection
    (``mode=ro``: it cannot write, nor change the file's shape); the crawl's
    own rows to a writing one, opened on the first of them."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self._reader: Optional[sqlite3.Connection] = None
        self._writer = None
        self._lock = threading.Lock()  # the pipelines' threads and the reactor share it

    def _read_db(self):
        if self._reader is None:
            if not os.path.exists(self.path):
                return None
            conn = sqlite3.connect(adb.ro_uri(self.path), uri=True,
                                   timeout=adb.BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            self._reader = conn
        return sqlite_utils.Database(self._reader)

    def _write_db(self):
        if self._writer is None:
            self._writer = adb.open_db(self.path)
        return self._writer

    def call(self, name, *args, **kwargs):
        with self._lock:
            if name in QUESTIONS:
                db = self._read_db()
                if db is None:  # no archive yet: it has nothing
                    return QUESTIONS[name]
            elif name in RECORDS:
                db = self._write_db()
            else:
                raise ValueError(f"{name} is not a call of the archive")
            return getattr(adb, name)(db, *args, **kwargs)

    def close(self, *args, **kwargs) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            if self._writer is not None:
                adb.close_db(self._writer)
                self._writer = None


class QueueArchive(Archive):
    """The archive behind ``python -m archive writer``, over a Redis stream.

    :meth:`send` appends an item (it does not wait); :meth:`call` appends a
    call with a reply key and waits (up to ``wait`` seconds) for the writer's
    answer on it. Neither ever opens the file.
    """

    queued = True

    def __init__(self, url: str, stream: str = DEFAULT_STREAM, wait: float = DEFAULT_WAIT):
        import redis  # optional: only with ARCHIVE_QUEUE_URL

        self.url = url
        self.stream = stream
        self.wait = wait
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30,
                                          health_check_interval=30)
        self.sent = 0

    def _add(self, fields: dict) -> str:
        import redis  # optional: only with ARCHIVE_QUEUE_URL

        try:
            return self.redis.xadd(self.stream, fields).decode()
        except redis.ConnectionError as exc:
            raise ArchiveUnavailable(
                f"the archive's queue {strip_query(self.url)} does not answer ({exc})") from exc

    def send(self, kind: str, data: dict, crawl_id=None) -> str:
        """One item for the writer, in order after everything sent before."""
        self.sent += 1
        return self._add({"op": "item", "kind": kind, "crawl": "" if crawl_id is None else
                          str(crawl_id), "data": encode(data)})

    def call(self, name, *args, **kwargs):
        import redis  # optional: only with ARCHIVE_QUEUE_URL

        if name not in QUESTIONS and name not in RECORDS:
            raise ValueError(f"{name} is not a call of the archive")
        reply = f"{self.stream}:reply:{uuid.uuid4().hex}"
        self._add({"op": "call", "name": name, "reply": reply,
                   "data": encode({"args": list(args), "kwargs": kwargs})})
        began = time.monotonic()
        warned = False
        while True:
            left = self.wait - (time.monotonic() - began)
            if left <= 0:
                where = strip_query(self.url)
                raise ArchiveUnavailable(
                    f"no archive writer answered {name} on {where} in {self.wait:.0f} s "
                    f"(start one: python -m archive writer --db ARCHIVE_DB --queue "
                    f"{where}); what the crawl sent stays queued for it")
            try:
                answer = self.redis.blpop([reply], timeout=max(1, min(10, int(left))))
            except redis.ConnectionError as exc:
                raise ArchiveUnavailable(f"the archive's queue {strip_query(self.url)} stopped "
                                         f"answering while waiting for {name} ({exc})") from exc
            if answer is not None:
                break
            if not warned and time.monotonic() - began > 10:
                warned = True
                logger.warning("Waiting for the archive writer on %s to answer %s",
                               strip_query(self.url), name)
        out = json.loads(answer[1])
        if "error" in out:
            raise ArchiveUnavailable(f"the archive writer could not {name}: {out['error']}")
        return out.get("result")

    def close(self, *args, **kwargs) -> None:
        self.redis.close()


class CaseLock:
    """One crawl of a case at a time: an exclusive ``flock`` on a file in a
    folder beside the archive (``.<archive>.locks/``, which holds a
    ``.gitignore`` of ``*`` so that no ``git status`` shows it), keyed by
    spider, court and case, held until the crawl ends. The kernel lets go of
    it when the process dies, however it dies."""

    GITIGNORE = "# crawl locks of the archive beside this folder (Docket Archive): never in git\n*\n"

    def __init__(self, db_path: str, spider: str, args: dict):
        self.path = os.path.join(self.folder(db_path), f"crawl-{self.key(spider, args)}.lock")
        self.fd: int | None = None

    @staticmethod
    def folder(db_path: str) -> str:
        where, name = os.path.split(os.path.abspath(db_path))
        return os.path.join(where, f".{name}.locks")

    @staticmethod
    def key(spider: str, args: dict) -> str:
        """The case a crawl is of: spider, court, docket number, PACER case id."""
        number = args.get("docket_number")
        parts = [spider, args.get("court") or "default",
                 docket_number_key(number) if number else "",
                 str(args.get("pacer_case_id") or "")]
        key = "-".join(safe_name(str(p)) for p in parts if p)
        if len(key) > 120:
            key = f"{key[:100]}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"
        return key

    def try_acquire(self) -> bool:
        folder = os.path.dirname(self.path)
        os.makedirs(folder, exist_ok=True)
        try:
            with open(os.path.join(folder, ".gitignore"), "x") as fh:
                fh.write(self.GITIGNORE)
        except FileExistsError:
            pass
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return True

    def holder(self) -> str:
        try:
            with open(self.path) as fh:
                return fh.read().strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the only descriptor releases the flock
            self.fd = None


class QueueCaseLock:
    """:class:`CaseLock` on the queue's Redis, for crawls
    on several machines: redis-py's :class:`redis.lock.Lock`, a key set only
    if absent that expires ``ttl`` seconds after its holder last renewed it
    (:meth:`redis.lock.Lock.reacquire`, every third of ``ttl``), so a holder
    killed with SIGKILL frees it within ``ttl``.

    Its token names the holder, ``pid@host:random``: a holder of this machine
    whose process is gone is not waited for, its lock is released in its
    name (the library's compare-and-delete, with its token), so that a lock
    taken since by another is left alone."""

    def __init__(self, archive, key: str, ttl: float = 30.0):
        """``archive``: what has the queue's ``redis`` and ``stream`` (a
        :class:`QueueArchive`, or the archive writer for its own lease)."""
        from redis.lock import Lock  # optional: only with ARCHIVE_QUEUE_URL

        self.redis = archive.redis
        self.path = f"{archive.stream}:lock:{key}"  # shown in the log as the lock
        self.ttl = ttl
        self.token = f"{os.getpid()}@{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.lock = Lock(self.redis, self.path, timeout=ttl, thread_local=False)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def try_acquire(self) -> bool:
        if not self.lock.acquire(blocking=False, token=self.token):
            if not self._release_if_holder_dead():
                return False
            if not self.lock.acquire(blocking=False, token=self.token):
                return False
        self._stop = threading.Event()  # a lock object may be taken again after a release
        self._thread = threading.Thread(target=self._renew, name="case-lock", daemon=True)
        self._thread.start()
        return True

    def _renew(self) -> None:
        from redis.exceptions import LockNotOwnedError  # optional: as above

        while not self._stop.wait(self.ttl / 3):
            try:  # only our own key (the library compares the token)
                self.lock.reacquire()
            except LockNotOwnedError:
                logger.warning("The lock %s ran out before it was renewed (this process was "
                               "held up for more than %g s): another may hold it now",
                               self.path, self.ttl)
                return
            except Exception as exc:  # the broker is away: the next turn tries again
                logger.debug("Could not renew the lock %s: %s", self.path, exc)

    def holder(self) -> str:
        """``pid@host`` of the lock's holder, or "unknown"."""
        value = self.redis.get(self.path)
        return value.decode().split(":")[0] if value else "unknown"

    def _release_if_holder_dead(self) -> bool:
        """Release the lock in the name of its holder when that holder is a
        process of this machine that is gone; whether it was released."""
        from redis.exceptions import LockError  # optional: as above
        from redis.lock import Lock

        raw = self.redis.get(self.path)
        if not raw:
            return True  # released (or run out) meanwhile
        pid, _, host = raw.decode("utf-8", "replace").split(":")[0].partition("@")
        if host != socket.gethostname() or not pid.isdigit() or process_alive(pid):
            return False
        dead = Lock(self.redis, self.path, timeout=self.ttl, thread_local=False)
        dead.local.token = raw
        try:
            dead.release()
        except LockError:  # taken by another since: theirs
            return False
        logger.info("Took over the lock %s from process %s, which is gone", self.path, pid)
        return True

    def release(self) -> None:
        from redis.exceptions import LockError  # optional: as above

        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
            try:
                self.lock.release()  # only our own key
            except LockError:  # ran out, and perhaps taken by another since: not ours
                pass


_CRAWLS = weakref.WeakKeyDictionary()  # crawler -> its Archive


def for_crawler(crawler) -> Archive:
    """The crawl's one :class:`Archive`, shared by its spider, pipelines and
    middlewares, closed when the engine stops."""
    archive = _CRAWLS.get(crawler)
    if archive is None:
        from scrapy import signals  # optional here: only a crawl (Scrapy) has a crawler

        archive = _CRAWLS[crawler] = open_archive(crawler.settings)
        crawler.signals.connect(archive.close, signal=signals.engine_stopped, weak=False)
    return archive
