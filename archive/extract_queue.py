"""Text extraction on Celery workers, for an archive that outgrows one machine.

Without a broker nothing here runs: the crawl extracts in its own process
pool (``parsers.pdf_pool``). With ``EXTRACT_BROKER_URL=redis://host:6379/0``
(a setting, or better the environment when the URL holds a password) the
crawl's ExtractTextPipeline and ``archive extract`` send each stored PDF to
the queue instead, and any number of workers on any machines that can read
the files store take them::

    python -m archive worker --broker redis://host:6379/0 --files s3://bucket/pdfs/ --concurrency 4

What goes through the broker is the stored file's path and SHA-256, never its
bytes; what comes back is the extraction result (text, pages, stamp, status).

- A worker is Celery's, with its thread pool: each thread hands its document
  to ``parsers.pdf_pool.ExtractionPool``, so the crawl's limits hold on the
  workers too (memory per process, time per document and per page, OCR
  pixels, objects per page); a document over one is ``too_large`` or
  ``timeout``, and its process is replaced.
- ``acks_late``: a task is acknowledged only after its result is stored. A
  worker killed mid-document (SIGKILL, a lost machine) never acknowledged
  it, so the broker hands it to another worker once its visibility timeout
  (``EXTRACT_VISIBILITY_TIMEOUT``) has passed.
- An extraction process that dies under a worker is retried on a new one
  (twice), then answered as ``error``.
- The task id is the file's SHA-256 with the extractor version and the OCR
  choice: a document asked for again (another crawl, a redelivered task, the
  same PDF filed twice) gets the stored result, and the archive stores it by
  its document id, so a result applied twice changes nothing.
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

logger = logging.getLogger(__name__)

QUEUE = "docket-extract"
TASK = "docket_archive.extract"
# seconds a finished extraction stays in the result store (the crawl reads it
# within seconds; a later crawl of the same file finds it there)
RESULT_SECONDS = 24 * 3600
DEFAULT_VISIBILITY_TIMEOUT = 3600
RETRIES = 2


def broker_url(settings=None) -> Optional[str]:
    """EXTRACT_BROKER_URL from the environment, else from the Scrapy settings."""
    url = os.environ.get("EXTRACT_BROKER_URL")
    if not url and settings is not None:
        url = settings.get("EXTRACT_BROKER_URL")
    return url or None


def shown(url: str) -> str:
    """The broker's address without its password, for logs and messages."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}"


def visibility_timeout(time_limit: float = 0) -> int:
    """Seconds before an unacknowledged task goes to another worker: longer
    than the longest extraction (EXTRACT_TIME_LIMIT), or a document still
    being read would be handed out twice."""
    env = os.environ.get("EXTRACT_VISIBILITY_TIMEOUT")
    if env:
        return max(1, int(float(env)))
    return int(max(DEFAULT_VISIBILITY_TIMEOUT, 2 * (time_limit or 0)))


def make_app(url: str, time_limit: float = 0):
    from celery import Celery

    app = Celery("docket_archive", broker=url, backend=url, set_as_current=False)
    vt = visibility_timeout(time_limit)
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_expires=RESULT_SECONDS,
        result_extended=False,
        # a dead worker's unacknowledged tasks are looked for every tenth of the
        # visibility timeout (kombu's default: every 100 s)
        broker_transport_options={"visibility_timeout": vt,
                                  "unacked_restore_interval": max(1, min(10, vt // 10)),
                                  "unacked_restore_throttle": 1},
        result_backend_transport_options={"visibility_timeout": vt},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
    )
    app.task(name=TASK, bind=True, max_retries=RETRIES, acks_late=True)(_extract_task)
    return app


def task_id(sha256: str, version: str, ocr: bool) -> str:
    return f"extract-{version}-{'ocr' if ocr else 'text'}-{sha256}"


# --- the worker side ----------------------------------------------------------

class _Worker:
    """What a worker process holds: its files store and its extraction pool."""

    def __init__(self):
        self.store: Optional[str] = None
        self.limits = None
        self.concurrency = 1
        self.pool = None
        self.lock = threading.Lock()
        self.s3 = None

    def extraction_pool(self):
        with self.lock:
            if self.pool is None:
                from parsers.pdf_pool import ExtractionPool

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
                    import boto3

                    self.s3 = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
            return self.s3.get_object(Bucket=parsed.netloc, Key=prefix + file_path)["Body"].read()
        root = os.path.realpath(store)
        path = os.path.realpath(os.path.join(root, file_path))
        if os.path.commonpath([root, path]) != root:
            raise ValueError(f"{file_path!r} is outside the files store")
        with open(path, "rb") as fh:
            return fh.read()


WORKER = _Worker()


def _extract_task(self, file_path: str, sha256: Optional[str], ocr: bool = True) -> dict:
    from parsers.pdf import EXTRACTOR_VERSION

    name = self.request.hostname or "worker"
    logger.info("extracting %s (%s) on %s", file_path, (sha256 or "?")[:12], name)
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


def run_worker(url: str, files_store: str, concurrency: int, limits, loglevel: str = "INFO",
               name: Optional[str] = None) -> None:
    """Celery's worker (thread pool, the extraction queue) for this archive."""
    from celery.signals import after_setup_logger

    WORKER.store, WORKER.limits, WORKER.concurrency = files_store, limits, concurrency
    app = make_app(url, getattr(limits, "time_limit", 0))

    @after_setup_logger.connect(weak=False)
    def quieter(**_):  # Celery logs each result at INFO: a document's whole text
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    argv = ["worker", "--pool=threads", f"--concurrency={concurrency}", "-Q", QUEUE,
            f"--loglevel={loglevel}", "--without-gossip", "--without-mingle",
            "-n", name or f"extract-{os.getpid()}@%h"]
    try:
        app.worker_main(argv)
    finally:
        if WORKER.pool is not None:
            WORKER.pool.shutdown(wait=False, kill=True)


# --- the crawl's side -----------------------------------------------------------

class QueueClient:
    """Sends documents to the workers and waits for their results (asyncio)."""

    POLL = 0.2
    POLL_MAX = 2.0

    def __init__(self, url: str, time_limit: float = 0, wait_limit: float = 0):
        self.url = url
        self.app = make_app(url, time_limit)
        # how long a document may wait for a worker before it is an error
        self.wait_limit = wait_limit or (visibility_timeout(time_limit) + (time_limit or 0) + 600)
        self.stats = {"sent": 0, "reused": 0}

    def workers(self, timeout: float = 1.0) -> list[str]:
        """The names of the workers that answer a ping."""
        try:
            replies = self.app.control.ping(timeout=timeout) or []
        except Exception as exc:  # the broker itself is down
            raise ConnectionError(f"the extraction broker {shown(self.url)} does not answer: "
                                  f"{type(exc).__name__}: {exc}") from None
        return sorted(name for reply in replies for name in reply)

    def _result(self, tid: str):
        return self.app.AsyncResult(tid)

    def send(self, file_path: str, sha256: str, ocr: bool):
        """The task's AsyncResult: a finished one when this file was already extracted."""
        from parsers.pdf import EXTRACTOR_VERSION

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
                f"(is `python -m archive worker --broker {shown(self.url)}` running?)"}
