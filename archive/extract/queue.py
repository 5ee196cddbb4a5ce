"""Text extraction on Celery workers, for an archive that outgrows one machine.

Without a broker nothing here runs: the crawl extracts in its own process
pool (:mod:`archive.extract.pool`). With ``EXTRACT_BROKER_URL=redis://host:6379/0``
(a setting, or better the environment when the URL holds a password) the
crawl's ExtractTextPipeline and ``archive extract`` send each stored PDF to
the queue instead, and any number of workers on any machines that can read
the files store take them::

    python -m archive worker --broker redis://host:6379/0 --files s3://bucket/pdfs/ --concurrency 4

or, the same worker started by Celery's own command (the broker from
``EXTRACT_BROKER_URL``, the files store from ``EXTRACT_FILES_STORE``, the
limits their defaults)::

    EXTRACT_BROKER_URL=redis://host:6379/0 EXTRACT_FILES_STORE=s3://bucket/pdfs/ \
        celery -A archive.extract.queue worker --concurrency 4

``app`` is this module's Celery app, so ``celery -A archive.extract.queue
inspect active``, ``... purge`` and flower find it too.

What goes through the broker is the stored file's path and SHA-256, never its
bytes; what comes back is the extraction result (text, pages, stamp, status).

- A worker is Celery's, with its thread pool: each thread hands its document
  to :class:`archive.extract.pool.ExtractionPool`, so the crawl's limits hold
  on the workers too (memory per process, time per document and per page, OCR
  pixels, objects per page); a document over one is ``too_large`` or
  ``timeout``, and its process is replaced.
- ``acks_late``: a task is acknowledged only after its result is stored. A
  worker holds the documents it has taken on a lease that it renews every
  few seconds while it lives (``LeaseKeeper``: their time in Redis's
  ``unacked_index``); a worker killed mid-document (SIGKILL, a lost machine)
  stops renewing, and once its lease has run out (``EXTRACT_VISIBILITY_TIMEOUT``,
  default 30 s) the next look of any live worker (every few seconds) hands
  its documents to another worker. A document read for longer than that is
  never handed out twice while its worker lives.
- An extraction process that dies under a worker is retried on a new one
  (twice), then answered as ``error``.
- The task id is the file's SHA-256 with the extractor version and the OCR
  choice: a document asked for again (another crawl, a redelivered task, the
  same PDF filed twice) gets the stored result without being extracted
  again, and the archive stores it by its document id, so a result applied
  twice changes nothing.
- The worker checks the SHA-256 of the file it read against the one it was
  given: a file changed in the store since the crawl is an ``error``, never
  the text of another file.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import time
from typing import Optional
from urllib.parse import urlparse

from celery import Celery
from celery.signals import after_setup_logger, worker_init, worker_ready, worker_shutdown

from parsers.common import strip_query
from parsers.pdf import EXTRACTOR_VERSION

from .limits import Limits
from .pool import ExtractionPool

logger = logging.getLogger(__name__)

QUEUE = "docket-extract"
TASK = "docket_archive.extract"
# seconds a finished extraction stays in the result store (the crawl reads it
# within seconds; a later crawl of the same file finds it there)
RESULT_SECONDS = 24 * 3600
# seconds a dead worker's documents wait before another worker takes them: a
# live worker renews its lease every LEASE_RENEWALS-th of it
DEFAULT_VISIBILITY_TIMEOUT = 30
LEASE_RENEWALS = 6
RETRIES = 2


def broker_url(settings=None) -> Optional[str]:
    """EXTRACT_BROKER_URL from the environment, else from the Scrapy settings."""
    url = os.environ.get("EXTRACT_BROKER_URL")
    if not url and settings is not None:
        url = settings.get("EXTRACT_BROKER_URL")
    return url or None


def visibility_timeout() -> int:
    """Seconds after a worker's last renewal of its lease before the documents
    it holds go to another worker (EXTRACT_VISIBILITY_TIMEOUT in the
    environment). Live workers renew theirs, so it need not be longer than
    any extraction: it is how long a dead worker's document waits."""
    env = os.environ.get("EXTRACT_VISIBILITY_TIMEOUT")
    if env:
        return max(3, int(float(env)))
    return DEFAULT_VISIBILITY_TIMEOUT


def renew_every(vt: int) -> float:
    return max(0.5, vt / LEASE_RENEWALS)


def _configure(app: Celery, url: Optional[str]) -> Celery:
    """``app`` set up for the extraction queue on the broker ``url`` (also its
    result store)."""
    vt = visibility_timeout()
    every = max(1, int(renew_every(vt)))
    app.conf.update(
        broker_url=url,
        result_backend=url,
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_pool="threads",  # each thread waits on its own extraction process
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_expires=RESULT_SECONDS,
        result_extended=False,
        # a dead worker's documents are looked for as often as live workers
        # renew their leases (kombu's default: every 100 s); the lock of one
        # look (milliseconds) is freed within two looks if its worker is killed
        # holding it (kombu's default: 5 minutes)
        broker_transport_options={"visibility_timeout": vt,
                                  "unacked_restore_interval": every,
                                  "unacked_restore_throttle": 1,
                                  "unacked_mutex_expire": max(5, 2 * every)},
        result_backend_transport_options={"visibility_timeout": vt},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
    )
    return app


# The extraction queue's Celery app, on EXTRACT_BROKER_URL: what `celery -A
# archive.extract.queue worker` (and inspect, flower) runs.
app = _configure(Celery("docket_archive", set_as_current=False), broker_url())


def app_for(url: str) -> Celery:
    """:data:`app` when ``url`` is its broker, else an app like it on ``url``
    (a crawl's EXTRACT_BROKER_URL setting, a test's broker)."""
    if url == app.conf.broker_url:
        return app
    return _configure(Celery("docket_archive", set_as_current=False), url)


def task_id(sha256: str, version: str, ocr: bool) -> str:
    return f"extract-{version}-{'ocr' if ocr else 'text'}-{sha256}"


# --- the worker side ----------------------------------------------------------

class _Worker:
    """What a worker process holds: its files store and its extraction pool."""

    def __init__(self):
        # `python -m archive worker` sets them from its options; `celery -A` leaves these
        self.store: Optional[str] = os.environ.get("EXTRACT_FILES_STORE")
        self.limits: Optional[Limits] = None
        self.concurrency = 1
        self.pool: Optional[ExtractionPool] = None
        self.lock = threading.Lock()
        self.s3 = None

    def extraction_pool(self):
        with self.lock:
            if self.pool is None:
                self.pool = ExtractionPool(self.concurrency, self.limits)
            return self.pool

    def read(self, file_path: str) -> bytes:
        store = self.store or "archive/files"
        if store.startswith("s3://"):
            parsed = urlparse(store)
            prefix = parsed.path.lstrip("/")
            if prefix and not prefix.endswith("/"):
                prefix += "/"
            with self.lock:
                if self.s3 is None:
                    import boto3  # optional: only for a files store in S3

                    self.s3 = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL")
                                           or None)
            return self.s3.get_object(Bucket=parsed.netloc, Key=prefix + file_path)["Body"].read()
        root = os.path.realpath(store)
        if not os.path.isdir(root):
            raise FileNotFoundError(f"the files store {store} does not exist on this worker (is "
                                    "--files the crawls' FILES_STORE as this machine sees it?)")
        path = os.path.realpath(os.path.join(root, file_path))
        if os.path.commonpath([root, path]) != root:
            raise ValueError(f"{file_path!r} is outside the files store")
        with open(path, "rb") as fh:
            return fh.read()


WORKER = _Worker()


@app.task(name=TASK, bind=True, max_retries=RETRIES, acks_late=True)
def extract_document(self, file_path: str, sha256: Optional[str], ocr: bool = True) -> dict:
    """The task: the stored file at ``file_path`` (whose SHA-256 the crawl
    gives) read from the files store and extracted within the limits."""
    name = self.request.hostname or "worker"
    done = _already_done(self)
    if done is not None:  # sent twice, or its lease ran out while its worker finished it
        logger.info("already extracted %s (%s): its stored result is the answer", file_path,
                    (sha256 or "?")[:12])
        return done
    redelivered = (self.request.delivery_info or {}).get("redelivered")
    logger.info("extracting %s (%s) on %s%s", file_path, (sha256 or "?")[:12], name,
                " (handed on: the worker that had it stopped renewing its lease)"
                if redelivered else "")
    try:
        data = WORKER.read(file_path)
    except Exception as exc:
        return {"status": "error", "error": f"{type(exc).__name__} reading the stored file on "
                f"the extraction worker: {exc}"[:300], "extractor_version": EXTRACTOR_VERSION}
    actual = hashlib.sha256(data).hexdigest()
    if sha256 and actual != sha256:
        return {"status": "error", "sha256": actual, "extractor_version": EXTRACTOR_VERSION,
                "error": f"the stored file's SHA-256 is {actual}, not {sha256}: it changed "
                         "after the crawl stored it"}
    result = WORKER.extraction_pool().submit(data, ocr).result()
    if (result.get("status") == "error" and "worker died" in (result.get("error") or "")
            and self.request.retries < RETRIES):
        logger.warning("extraction of %s: %s; trying again", file_path, result.get("error"))
        raise self.retry(countdown=1)
    result = dict(result, sha256=actual, extractor_version=EXTRACTOR_VERSION)
    logger.info("extracted %s: %s, %s page(s) on %s", file_path, result.get("status"),
                result.get("page_count"), name)
    return result


def _already_done(task) -> Optional[dict]:
    """The stored result of this task id, when a worker finished it (not an error)."""
    try:
        result = task.AsyncResult(task.request.id)
        if result.state == "SUCCESS" and (result.result or {}).get("status") != "error":
            return dict(result.result)
    except Exception:  # the result store does not answer: extract it
        return None
    return None


class LeaseKeeper(threading.Thread):
    """Renews the lease of every document this worker holds (taken from the
    queue, not yet acknowledged) every ``every`` seconds: it sets their time
    in the broker's ``unacked_index`` to now. Live workers' documents thus
    never pass the visibility timeout, and a dead worker's do within it,
    whereupon kombu's next look (any live worker's) hands them on.

    Only what is still in the index is renewed (ZADD XX): a document
    acknowledged, or already handed on, stays gone."""

    def __init__(self, url: str, every: float):
        super().__init__(name="extract-lease", daemon=True)
        self.url, self.every = url, every
        self.consumer = None
        self.stopped = threading.Event()
        self.renewals = 0

    def attach(self, consumer) -> None:
        self.consumer = consumer
        if not self.is_alive():
            self.start()

    def held(self):
        """(the channel's QoS, the delivery tags this worker holds), or (None, [])."""
        try:
            qos = self.consumer.task_consumer.channel.qos
        except AttributeError:  # connecting, or reconnecting
            return None, []
        for _ in range(5):  # the consumer's thread may change them meanwhile
            try:
                return qos, [tag for tag in list(qos._delivered) if tag not in qos._dirty]
            except RuntimeError:
                continue
        return qos, []

    def renew(self, client) -> int:
        qos, tags = self.held()
        if not tags:
            return 0
        now = time.time()
        client.zadd(qos.unacked_index_key, {tag: now for tag in tags}, xx=True)
        self.renewals += 1
        return len(tags)

    def run(self) -> None:
        import redis  # optional: only on a worker of a Redis broker

        client = redis.Redis.from_url(self.url)
        while not self.stopped.wait(self.every):
            try:
                self.renew(client)
            except Exception as exc:  # the broker is away: kombu reconnects, we try again
                logger.warning("could not renew the lease of this worker's documents: %s: %s",
                               type(exc).__name__, exc)

    def stop(self) -> None:
        self.stopped.set()


_KEEPER: Optional[LeaseKeeper] = None


@after_setup_logger.connect(weak=False)
def _quieter(**_):  # Celery logs each result at INFO: a document's whole text
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)


@worker_init.connect(weak=False)
def _worker_starts(sender=None, **_):  # sender: the worker
    if getattr(sender, "app", None) is app and sender.concurrency:
        WORKER.concurrency = sender.concurrency  # one extraction process per thread


@worker_ready.connect(weak=False)
def _keep_leases(sender=None, **_):  # sender: the worker's consumer
    global _KEEPER
    if getattr(sender, "app", None) is not app:
        return
    _KEEPER = LeaseKeeper(app.conf.broker_url, renew_every(visibility_timeout()))
    _KEEPER.attach(sender)


@worker_shutdown.connect(weak=False)
def _worker_stops(sender=None, **_):
    if _KEEPER is not None:
        _KEEPER.stop()
    if WORKER.pool is not None:
        WORKER.pool.shutdown(wait=False, kill=True)


def run_worker(url: str, files_store: str, concurrency: int, limits: Limits,
               loglevel: str = "INFO", name: Optional[str] = None) -> None:
    """Celery's worker of :data:`app` (its thread pool, the extraction queue),
    on the broker ``url``: what `python -m archive worker` runs."""
    WORKER.store, WORKER.limits, WORKER.concurrency = files_store, limits, concurrency
    if url != app.conf.broker_url:
        app.conf.update(broker_url=url, result_backend=url)
    argv = ["worker", f"--concurrency={concurrency}", "-Q", QUEUE, f"--loglevel={loglevel}",
            "--without-gossip", "--without-mingle", "-n", name or f"extract-{os.getpid()}@%h"]
    try:
        app.worker_main(argv)
    finally:
        _worker_stops()


# --- the crawl's side -----------------------------------------------------------

class QueueClient:
    """Sends documents to the workers and waits for their results (asyncio)."""

    POLL = 0.2
    POLL_MAX = 2.0

    def __init__(self, url: str, time_limit: float = 0, wait_limit: float = 0):
        self.url = url
        self.app = app_for(url)
        # how long a document may wait for a worker before it is an error
        self.wait_limit = wait_limit or (visibility_timeout() + (time_limit or 0) + 600)
        self.stats = {"sent": 0, "reused": 0}

    def workers(self, timeout: float = 1.0) -> list[str]:
        """The names of the workers that answer a ping."""
        try:
            replies = self.app.control.ping(timeout=timeout) or []
        except Exception as exc:  # the broker itself is down
            raise ConnectionError(f"the extraction broker {strip_query(self.url)} does not answer: "
                                  f"{type(exc).__name__}: {exc}") from None
        return sorted(name for reply in replies for name in reply)

    def _result(self, tid: str):
        return self.app.AsyncResult(tid)

    def send(self, file_path: str, sha256: str, ocr: bool):
        """The task's AsyncResult: a finished one when this file was already extracted."""
        tid = task_id(sha256, EXTRACTOR_VERSION, ocr)
        result = self._result(tid)
        state = result.state
        if state == "SUCCESS" and (result.result or {}).get("status") != "error":
            self.stats["reused"] += 1
            return result
        if state != "PENDING":  # an error or a failure is not kept: ask again
            result.forget()
        self.app.send_task(TASK, args=[file_path, sha256, ocr], task_id=tid, queue=QUEUE)
        self.stats["sent"] += 1
        return result

    def as_done(self, pending: dict):
        """(key, answer) for each of ``pending`` (key -> a task sent) as it
        finishes, blocking (for ``archive extract``); asked less often the
        longer they take, as :meth:`extract` does; what no worker finished
        within the wait limit is answered as an error."""
        pending = dict(pending)
        started, pause = time.monotonic(), self.POLL
        while pending:
            late = time.monotonic() - started > self.wait_limit
            for key, result in list(pending.items()):
                if late or result.ready():
                    del pending[key]
                    yield key, (self._waited_too_long(self.wait_limit) if late
                                else self._answer(result))
            if pending:
                time.sleep(pause)
                pause = min(pause * 1.5, self.POLL_MAX)

    async def extract(self, file_path: str, sha256: str, ocr: bool) -> dict:
        result = await asyncio.to_thread(self.send, file_path, sha256, ocr)
        started = time.monotonic()
        # an extraction takes seconds: ask less often the longer it takes (a
        # crawl has up to CONCURRENT_ITEMS documents waiting, and every question
        # is the crawl's CPU, taken from the workers on the same machine)
        pause = self.POLL
        while not await asyncio.to_thread(result.ready):
            if time.monotonic() - started > self.wait_limit:
                return self._waited_too_long(self.wait_limit)
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, self.POLL_MAX)
        return await asyncio.to_thread(self._answer, result)

    def _answer(self, result) -> dict:
        if result.successful():
            return dict(result.result)
        return {"status": "error", "error": f"the extraction task failed: {result.result!r}"[:300]}

    def _waited_too_long(self, seconds: float) -> dict:
        return {"status": "error", "error": f"no extraction worker finished it within {seconds:.0f} s "
                f"(is `python -m archive worker --broker {strip_query(self.url)}` running?)"}
