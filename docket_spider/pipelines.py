"""Item pipelines, one side effect each, in ITEM_PIPELINES order:

1. DocumentFilesPipeline (Scrapy's FilesPipeline): store each document's PDF
   in FILES_STORE (a folder or s3://bucket/prefix/), at most once.
2. ExtractTextPipeline: text of each new PDF, in worker processes off the
   reactor thread.
3. ArchivePipeline: rows into the SQLite archive via ``archive.load``, or, with
   ARCHIVE_QUEUE_URL, onto the queue of the one archive writer (archive/writer.py).

What they need to know of the archive (is this document stored? extracted by
this version?) they ask ``archive.access``; they never call the spider.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from dataclasses import asdict
from urllib.parse import urlparse

import scrapy
from scrapy import signals
from scrapy.exceptions import DropItem, IgnoreRequest, ResponseDataLossError
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import FileException
from scrapy.utils.defer import ensure_awaitable
from twisted.internet.defer import maybeDeferred

from archive import access
from archive import db as archive_db
from archive.extract import queue as extract_queue
from archive.extract.cache import ResultCache
from archive.load import save_item
from docket_spider.arguments import SECRET_ARG
from docket_spider.files_store import AtomicFSFilesStore, ArchiveS3FilesStore, check_pdf
from docket_spider.items import DocumentItem
from docket_spider.outcome import BAD_RECORDS, bad_record
from docket_spider.pacer.disk import disk_full_reason, is_disk_full
from docket_spider.pacer.purchases import account_for

logger = logging.getLogger(__name__)


NAME_MAX = 100  # characters of one name from a source in a file name
SEGMENT_MAX = 200  # characters of one path segment (filesystems allow 255 bytes)
_PATH_LIKE = re.compile(r"[/\\\x00-\x1f\x7f]|\.\.")


def _digest(text: str, n: int) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:n]


def _safe_name(text, limit: int = NAME_MAX) -> str:
    """A name from a source (court id, case id, docket or document number...)
    made safe as part of one path segment: only letters, digits, ``.``, ``_``
    and ``-``, never empty, ``.`` or ``..``, at most ``limit`` characters.

    An ordinary name keeps the name it always had (``3:20-cv-05910`` ->
    ``3_20-cv-05910``). One that looks like a path (a separator, ``..``, NUL
    or another control character, a leading ``.`` or ``-``) also gets a hash of
    what was sent, and a long one is cut and gets one, so that two different
    names never end up as the same file.
    """
    text = "" if text is None else str(text)
    if not text:
        return "unknown"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")
    if _PATH_LIKE.search(text) or not safe.strip(".") or safe[0] in ".-":
        safe = re.sub(r"\.{2,}", ".", safe).strip("._-") or "x"
        safe = f"{safe[:limit - 13]}-{_digest(text, 12)}"
    if len(safe) > limit:
        safe = f"{safe[:limit - 17]}-{_digest(text, 16)}"
    return safe


def _capped(segment: str, suffix: str = "") -> str:
    """``segment`` (ending in ``suffix``) cut to SEGMENT_MAX characters, with a hash."""
    if len(segment) <= SEGMENT_MAX:
        return segment
    return f"{segment[:SEGMENT_MAX - 17 - len(suffix)]}-{_digest(segment, 16)}{suffix}"


class DocumentFilesPipeline(FilesPipeline):
    """FilesPipeline with stable, source-independent file names and a SHA-256.

    The same filing fetched from CourtListener or the Internet Archive lands
    under the same name (RECAP's ``gov.uscourts.<court>.<case>.<doc>.<att>.pdf``),
    so a document already stored is never downloaded again, whatever the source.

    Only a complete PDF is stored (``check_pdf``: Content-Length, the source's
    sha1/file_size, and a structure PDF readers read), through a temporary
    name (``files_store``); what dead crawls left half-written is removed
    when a crawl starts. Anything else is ``download_failed`` and nothing
    is written at its path. A free source's file is fetched again when the
    archive says its last download failed or its stored file is damaged, or
    when the stored file is not what the source says it is.
    """

    STORE_SCHEMES = {**FilesPipeline.STORE_SCHEMES, "": AtomicFSFilesStore,
                     "file": AtomicFSFilesStore, "s3": ArchiveS3FilesStore}
    # Fetching again costs nothing from these; a PACER purchase is never repeated here.
    FREE_SOURCES = frozenset({"courtlistener", "internet_archive", "ca9"})
    # parsers/pdf.py's errors for a file that is broken (not encrypted, not a crashed worker)
    DAMAGED = re.compile(r"damaged PDF|not a PDF|empty file|truncated", re.I)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sha256: dict[str, str] = {}
        self._errors: dict[str, str] = {}

    async def open_spider(self):
        super().open_spider()
        # what dead crawls left half-written (a crawl killed while it wrote a PDF)
        remove = getattr(self.store, "remove_litter", None)
        try:
            removed = await asyncio.to_thread(remove) if remove else 0
        except Exception as exc:  # an S3 listing refused: the crawl itself will say more
            logger.warning("Could not look for what killed crawls left in FILES_STORE: %s: %s",
                           type(exc).__name__, exc)
            removed = 0
        if removed:
            logger.info("Removed %d temporary file(s) that killed crawls left in FILES_STORE",
                        removed)
            self.crawler.stats.set_value("file_status_count/litter_removed", removed)

    def get_media_requests(self, item, info):
        requests = super().get_media_requests(item, info)
        if isinstance(item, DocumentItem) and item.file_request and requests:
            requests = [self._as_asked(item.file_request, requests[0])] + requests[1:]
        for request in requests:  # the bytes as stored, so Content-Length can be checked
            request.headers.setdefault("Accept-Encoding", "identity")
        return requests

    @staticmethod
    def _as_asked(how: dict, request):
        """The request for the item's first file as the item says to make it
        (e.g. PACER's purchase: a POST of the confirmation form, in the
        session). Items carry a URL, a form and flags, never a cookie or a
        token: CredentialsMiddleware adds those as the request is sent."""
        meta = {**request.meta, **(how.get("meta") or {})}
        url = how.get("url") or request.url
        if how.get("formdata") is not None:
            return scrapy.FormRequest(url, formdata=how["formdata"], meta=meta,
                                      callback=request.callback, dont_filter=True)
        return request.replace(url=url, meta=meta, dont_filter=True)

    def file_path(self, request, response=None, info=None, *, item=None):
        if isinstance(item, DocumentItem):
            # RECAP's names; every part comes from a source, so each is made safe
            court = _safe_name(item.court_id)
            case = _safe_name(item.pacer_case_id or item.docket_number)
            number = _safe_name(item.document_number or (
                f"seq{item.recap_sequence_number}" if item.recap_sequence_number
                else f"doc{item.pacer_doc_id or hashlib.sha1(request.url.encode()).hexdigest()[:12]}"))
            attachment = _safe_name(item.attachment_number or 0)
            stem = f"gov.uscourts.{court}.{case}"
            path = f"{court}/{_capped(stem)}/{_capped(f'{stem}.{number}.{attachment}.pdf', '.pdf')}"
            if any(part in ("", ".", "..") for part in path.split("/")):  # cannot happen
                raise ValueError(f"unsafe file path {path!r}")
            return path
        return super().file_path(request, response=response, info=info, item=item)

    def _fetch_again(self, item, path) -> str | None:
        """Why a free source's document must be downloaded even if a file is stored."""
        if item.source not in self.FREE_SOURCES:
            return None
        state = access.for_crawler(self.crawler).document_state(
            archive_db.document_key(asdict(item))[2])
        if not state:
            return None
        if state.get("status") == "download_failed":
            return "its last download failed"
        if (state.get("status") == "error" and state.get("file_path") in (None, path)
                and self.DAMAGED.search(state.get("error") or "")):
            return f"the stored file is damaged ({state['error']})"
        return None

    def _stored_differs(self, stat, item) -> str | None:
        """Why a stored file is not the one the source describes, or None."""
        if not stat or not isinstance(item, DocumentItem) or item.source not in self.FREE_SOURCES:
            return None
        if item.file_size and stat.get("size") is not None and stat["size"] != item.file_size:
            return f"it has {stat['size']} bytes, the source says {item.file_size}"
        if item.sha1 and stat.get("sha1") and stat["sha1"] != item.sha1.strip().lower():
            return f"its SHA-1 is not the source's {item.sha1}"
        return None

    def media_to_download(self, request, info, *, item=None):
        path = self.file_path(request, info=info, item=item)
        why = self._fetch_again(item, path) if isinstance(item, DocumentItem) else None
        if why:
            logger.info("Fetching %s again: %s", path, why)
            self.crawler.stats.inc_value("file_status_count/fetched_again")
            return None

        def stored(stat):
            differs = self._stored_differs(stat, item)
            if differs:
                logger.warning("Fetching %s again: %s", path, differs)
                self.crawler.stats.inc_value("file_status_count/fetched_again")
                return None
            result = self._onsuccess(stat, request, info, path)
            if result and request.meta.get("purchase"):  # stored already: not bought
                refund = getattr(self.crawler.spider, "purchase_not_made", None)
                if refund is not None:
                    refund(request)
            return result

        dfd = maybeDeferred(self.store.stat_file, path, info)
        dfd.addCallback(stored)
        # not there (S3 answers 404) or not readable: download it, as FilesPipeline does
        dfd.addErrback(lambda failure: logger.debug(
            "No stored %s (%s): downloading it", path, failure.getErrorMessage()))
        return dfd

    async def media_downloaded(self, response, request, info, *, item=None):
        # A bad answer is a recorded fact about the document, not a traceback.
        reason = None
        if response.status != 200:
            reason = f"HTTP {response.status}"
        elif "dataloss" in response.flags:
            reason = (f"incomplete download: the connection closed after "
                      f"{len(response.body)} bytes")
        elif isinstance(item, DocumentItem) or request.meta.get("expect_pdf"):
            announced = None
            if request.headers.get("Accept-Encoding") == b"identity":
                try:
                    announced = int(response.headers.get("Content-Length") or b"")
                except ValueError:
                    announced = None
            doc = item if isinstance(item, DocumentItem) else None
            reason = check_pdf(response.body, content_length=announced,
                               file_size=doc.file_size if doc else None,
                               sha1=doc.sha1 if doc else None)
        elif not response.body:
            reason = "the server sent an empty file (0 bytes)"
        if reason:
            logger.warning("Could not store %s: %s", request.url, reason)
            self.crawler.stats.inc_value("file_status_count/failed")
            return {"url": request.url, "path": None, "checksum": None,
                    "status": "failed", "error": reason}
        return await self._store(response, request, info, item)

    async def _store(self, response, request, info, item):
        """FilesPipeline's storing of a good answer, except that a full disk is
        said in one line, stops PACER purchases and stops storing (PACER's
        answers wait in the spool; a free file is fetched again next time)."""
        account = account_for(self.crawler)
        failed = {"url": request.url, "path": None, "checksum": None, "status": "failed"}
        if account.disk_full:
            self.crawler.stats.inc_value("file_status_count/failed")
            return {**failed, "error": f"not stored: the disk is full ({account.disk_full})"}
        status = "cached" if "cached" in response.flags else "downloaded"
        path = self.file_path(request, response=response, info=info, item=item)
        try:
            checksum = await ensure_awaitable(
                self.file_downloaded(response, request, info, item=item))
        except Exception as exc:
            if not is_disk_full(exc):
                logger.error("Could not store %s: %s", request.url, exc, exc_info=True)
                raise FileException(str(exc)) from exc
            account.full(exc, f"a file into {self.crawler.settings.get('FILES_STORE')}")
            self.crawler.stats.inc_value("file_status_count/failed")
            return {**failed, "error": f"not stored: the disk is full ({disk_full_reason(exc)})"}
        self.inc_stats(status)
        return {"url": request.url, "path": path, "checksum": checksum, "status": status}

    def media_failed(self, failure, request, info):
        if isinstance(failure.value, IgnoreRequest):
            return super().media_failed(failure, request, info)
        if failure.check(ResponseDataLossError):
            reason = ("incomplete download: the connection closed before all the bytes "
                      "the server announced (Content-Length) arrived")
        else:
            reason = failure.getErrorMessage() or failure.type.__name__
        logger.warning("Could not download %s: %s", request.url, reason)
        self.crawler.stats.inc_value("file_status_count/failed")
        self._errors[request.url] = reason
        return None

    def file_downloaded(self, response, request, info, *, item=None):
        self._sha256[request.url] = hashlib.sha256(response.body).hexdigest()
        return super().file_downloaded(response, request, info, item=item)

    def item_completed(self, results, item, info):
        item = super().item_completed(results, item, info)
        if not isinstance(item, DocumentItem) or not item.file_urls:
            return item
        for ok, result in results:
            if ok and result and result.get("path"):
                item.file_path = result["path"]
                item.sha256 = self._sha256.pop(result["url"], None) or item.sha256
                item.files = [result]
                return item
        url = item.file_urls[0]
        reasons = [r.get("error") if isinstance(r, dict) else
                   getattr(r, "getErrorMessage", lambda: None)() for _, r in results]
        reason = next((r for r in reasons if r), None) or self._errors.pop(url, None)
        item.files = []
        item.status = "download_failed"
        item.error = f"could not download {url}: {reason or 'see the crawl log'}"
        return item


def _store_reader(store_uri: str, settings):
    """A function path -> bytes for the files store (a folder or S3)."""
    if store_uri.startswith("s3://"):
        import boto3

        parsed = urlparse(store_uri)
        bucket, prefix = parsed.netloc, parsed.path.lstrip("/")
        client = boto3.client(
            "s3",
            endpoint_url=settings.get("AWS_ENDPOINT_URL") or None,
            region_name=settings.get("AWS_REGION_NAME") or None,
            aws_access_key_id=settings.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=settings.get("AWS_SECRET_ACCESS_KEY") or None,
            aws_session_token=settings.get("AWS_SESSION_TOKEN") or None,
        )

        def read(path: str) -> bytes:
            return client.get_object(Bucket=bucket, Key=f"{prefix}{path}")["Body"].read()

        return read, None
    root = os.path.abspath(store_uri)
    return None, (lambda path: os.path.join(root, path))


class ExtractTextPipeline:
    """Text, page count and stamp of each stored PDF, in limited worker
    processes (``parsers.pdf_pool``: EXTRACT_MEMORY_LIMIT_MB per worker,
    EXTRACT_TIME_LIMIT and EXTRACT_PAGE_TIME_LIMIT per document and page,
    EXTRACT_OCR_MAX_PIXELS, EXTRACT_PAGE_MAX_OBJECTS). A document over a
    limit gets status ``too_large`` or ``timeout``; its worker is replaced and
    the other documents go on.

    A document whose stored file and extractor version are unchanged since
    the last crawl is not extracted again.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.workers = settings.getint("EXTRACT_WORKERS") or os.cpu_count() or 1
        self.ocr = settings.getbool("EXTRACT_OCR", True)
        self.read_bytes, self.local_path = _store_reader(str(settings.get("FILES_STORE")), settings)
        from archive.extract.limits import Limits

        self.limits = Limits.from_settings(settings)
        self.pool = None  # parsers.pdf_pool.ExtractionPool, started with the first PDF
        # EXTRACT_BROKER_URL: the documents go to Celery workers (archive/extract_queue.py)
        self.queue = None
        url = extract_queue.broker_url(settings)
        if url:
            self.queue = extract_queue.QueueClient(url, self.limits.time_limit,
                                                   settings.getfloat("EXTRACT_QUEUE_WAIT"))
        try:
            from parsers.pdf import EXTRACTOR_VERSION
        except ImportError:  # pragma: no cover - parsers.pdf always ships
            EXTRACTOR_VERSION = None
        self.version = EXTRACTOR_VERSION
        folder = settings.get("EXTRACT_CACHE_DIR")
        self.cache = ResultCache(folder, self.version, self.ocr, self.limits) if folder else None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        if self.queue is not None:
            where = extract_queue.shown(self.queue.url)
            workers = self.queue.workers()  # ConnectionError: the broker is down
            if workers:
                logger.info("Text extraction on %d Celery worker(s) via %s: %s", len(workers),
                            where, ", ".join(workers))
            else:
                logger.warning(
                    "No extraction worker answers on %s: documents wait in its queue until one "
                    "starts (python -m archive worker --broker %s --files FILES_STORE), at most "
                    "%.0f s each", where, where, self.queue.wait_limit)

    def close_spider(self):
        if self.queue is not None:
            for name, n in self.queue.stats.items():
                self.crawler.stats.set_value(f"extract/queue_{name}", n)
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            for name in ("workers_replaced", "timeouts", "crashes"):
                self.crawler.stats.set_value(f"extract/{name}", self.pool.stats[name])
            self.pool = None

    def _pool(self):
        if self.pool is None:
            from archive.extract.pool import ExtractionPool, tmp_folder_beside

            self.pool = ExtractionPool(self.workers, self.limits, tmp_dir=tmp_folder_beside(
                self.crawler.settings.get("ARCHIVE_DB")))
        return self.pool

    async def process_item(self, item):
        if not isinstance(item, DocumentItem) or not item.file_path:
            return item
        stats = self.crawler.stats
        _, _, doc_id = archive_db.document_key(asdict(item))
        state = await asyncio.to_thread(access.for_crawler(self.crawler).document_state, doc_id)
        file_status = item.files[0].get("status") if item.files else None
        if (state and file_status != "downloaded" and state.get("file_path") == item.file_path
                and state.get("extractor_version") == self.version and state.get("status")):
            item.extraction_skipped = True
            item.sha256 = item.sha256 or state.get("sha256")
            stats.inc_value("extract/skipped_unchanged")
            return item
        try:
            if self.local_path is not None:
                source = self.local_path(item.file_path)
                if item.sha256 is None:
                    item.sha256 = await asyncio.to_thread(archive_db.file_sha256, source)
            elif self.queue is None or item.sha256 is None:  # the queue needs only the hash
                source = await asyncio.to_thread(self.read_bytes, item.file_path)
                item.sha256 = item.sha256 or hashlib.sha256(source).hexdigest()
            # a worker over a limit or that dies costs only this document (an
            # answer with a status); the pool replaces it
            cached = self.cache.get(item.sha256) if self.cache and self.queue is None else None
            if cached is not None:
                result = cached
                stats.inc_value("extract/from_cache")
            elif self.queue is not None:  # the path and SHA-256 go, never the bytes
                result = await self.queue.extract(item.file_path, item.sha256, self.ocr)
            else:
                result = await asyncio.wrap_future(self._pool().submit(source, self.ocr))
                if self.cache is not None:
                    await asyncio.to_thread(self.cache.put, item.sha256, result)
        except Exception as exc:  # never lose the crawl to one bad file
            result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        self._apply(item, result)
        stats.inc_value("extract/documents")
        if item.status in ("error", "too_large", "timeout"):
            stats.inc_value("extract/errors")
            if item.status != "error":
                stats.inc_value(f"extract/{item.status}")
            logger.warning("Could not extract text of %s (%s): %s: %s", doc_id, item.file_path,
                           item.status, item.error)
        return item

    def _apply(self, item: DocumentItem, result: dict) -> None:
        result = dict(result, extractor_version=result.get("extractor_version") or self.version)
        for name, value in archive_db.extraction_fields(result).items():
            setattr(item, name, value)


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
                 archive_db.docket_number_key(number) if number else "",
                 str(args.get("pacer_case_id") or "")]
        key = "-".join(_safe_name(str(p)) for p in parts if p)
        if len(key) > 120:
            key = f"{key[:100]}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"
        return key

    def try_acquire(self) -> bool:
        import fcntl

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


class ArchivePipeline:
    """Writes items into the SQLite archive and records the crawl.

    A crawl of a case that another crawl is crawling waits for it (CaseLock)
    before anything is requested, then finds everything it stored.

    With ARCHIVE_QUEUE_URL the items go, in order, to the archive writer's
    Redis stream (``archive.access.QueueArchive``) and the file is never
    opened here; the writer records the crawl and counts its rows.
    """

    LOCK_POLL_SECONDS = 0.5

    def __init__(self, crawler):
        self.crawler = crawler
        self.db_path = crawler.settings.get("ARCHIVE_DB")
        self.db = None
        self.archive: access.Archive | None = None
        self.crawl_id = None
        self.lock = None  # CaseLock, or access.QueueCaseLock with the queue
        self.closed = False
        self.actions = {"added": 0, "changed": 0, "unchanged": 0}
        self.unsaved: list[tuple[str, dict]] = []  # items a full disk refused, tried again at the end
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def queued(self) -> bool:
        return self.archive is not None and self.archive.queued

    async def open_spider(self):
        spider = self.crawler.spider
        args = {k: v for k, v in getattr(spider, "crawl_args", {}).items()
                if not SECRET_ARG.search(k)}
        self.archive = access.for_crawler(self.crawler)
        if self.archive.queued:
            self.lock = access.QueueCaseLock(self.archive, CaseLock.key(spider.name, args))
        else:
            self.lock = CaseLock(self.db_path, spider.name, args)
        if not await asyncio.to_thread(self.lock.try_acquire):
            import time

            logger.info("Another crawl of this case (process %s) is running: waiting for it to "
                        "end, then only what it has not stored is fetched (lock %s)",
                        self.lock.holder(), self.lock.path)
            began = time.monotonic()
            while not await asyncio.to_thread(self.lock.try_acquire):
                if self.closed:  # Ctrl-C while waiting
                    logger.info("Stopped while waiting for the other crawl of this case: "
                                "nothing was fetched or recorded")
                    return
                await asyncio.sleep(self.LOCK_POLL_SECONDS)
            logger.info("The other crawl of this case has ended (waited %.1f s)",
                        time.monotonic() - began)
        if self.archive.queued:
            try:
                self.crawl_id = await asyncio.to_thread(
                    self.archive.start_crawl, spider.name, args.get("court"),
                    args.get("docket_number"), args)
            except access.ArchiveUnavailable as exc:
                self._cannot_start(spider, str(exc))
                return
            logger.info("Items go to the archive writer on %s (crawl %s)",
                        access.shown(self.archive.url), self.crawl_id)
        else:
            self.db = archive_db.open_db(self.db_path)
            self.crawl_id = archive_db.start_crawl(
                self.db, spider.name, args.get("court"), args.get("docket_number"), args)
        self.crawler.stats.set_value("archive/crawl_id", self.crawl_id)  # for the PACER ledger

    def _cannot_start(self, spider, why: str) -> None:
        """No archive to record the crawl in: nothing is fetched, and it fails."""
        logger.error("Cannot start the crawl: %s", why)
        spider.crawl_failed, spider.crawl_message = True, why
        self.closed = True
        engine = self.crawler.engine
        asyncio.get_running_loop().call_soon(
            lambda: asyncio.ensure_future(engine.close_spider_async(reason="archive_unavailable")))

    def process_item(self, item):
        if self.crawl_id is None and self.closed:  # the crawl is stopping: see _cannot_start
            raise DropItem("no archive to record it in")
        kind = type(item).__name__
        data = asdict(item)
        if self.queued:
            for transient in ("file_request", "files", "file_urls"):
                data.pop(transient, None)
            self.archive.send(kind, data, self.crawl_id)
            self.crawler.stats.inc_value("archive/items_queued")
            return item
        try:
            out = self._save(kind, data)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            # said once, in one line; the crawl fails, and the item is tried again at
            # its end (what PACER billed waits in the spool)
            account = account_for(self.crawler)
            account.full(exc, f"the archive {self.db_path}")
            if not self.unsaved:
                account.retries.append(self._save_unsaved)
            self.unsaved.append((kind, data))
            raise DropItem(f"not saved: the disk is full ({disk_full_reason(exc)})",
                           log_level="DEBUG") from None
        self._counted(out)
        return item

    def _save(self, kind, data):
        return save_item(self.db, kind, data, self.crawl_id)

    def _counted(self, out) -> None:
        for problem in out["problems"]:
            bad_record(self.crawler, logger, problem["what"], problem["error"])
        for action, n in out["actions"].items():
            self._count([action] * n)

    def _count(self, actions):
        for action in actions:
            self.actions[action] = self.actions.get(action, 0) + 1
            self.crawler.stats.inc_value(f"archive/rows_{action}")

    def spider_closed(self, spider, reason):
        self.closed = True
        if self.crawl_id is None:
            if self.lock is not None:
                self.lock.release()
            return
        if not self._save_unsaved():
            logger.error("%s record(s) could not be saved (the disk is full): the next crawl "
                         "fetches them again", len(self.unsaved))
            self.crawler.stats.set_value("archive/items_not_saved_disk_full", len(self.unsaved))
        stats = self.crawler.stats
        counts = {
            "requests": stats.get_value("downloader/request_count", 0),
            "api_requests": (stats.get_value(f"{spider.name}/api_requests", 0)
                             + stats.get_value("retry_after/429", 0)),
            "pdfs_downloaded": stats.get_value("file_status_count/downloaded", 0),
            "pdfs_already_stored": stats.get_value("file_status_count/uptodate", 0),
            "documents_extracted": stats.get_value("extract/documents", 0),
            "extraction_errors": stats.get_value("extract/errors", 0),
            "bad_records": stats.get_value(BAD_RECORDS, 0),
        }
        if not self.queued:  # the writer counts these for a queued crawl
            counts["rows_unchanged"] = self.actions.get("unchanged", 0)
        message = getattr(spider, "crawl_message", "") or ""
        if counts["bad_records"]:
            note = (f"{counts['bad_records']} bad record(s) skipped (a shape the source should "
                    "not send: see the log's warnings); the rest were kept")
            message = f"{message}; {note}" if message else note
        status = reason if not getattr(spider, "crawl_failed", False) else "failed"
        try:
            if self.queued:
                row = self.archive.finish_crawl(self.crawl_id, status, counts, message)
                where = f"the archive writer on {access.shown(self.archive.url)}"
            else:
                row = archive_db.finish_crawl(self.db, self.crawl_id, status, counts, message)
                where = self.db_path
        except Exception as exc:
            if not isinstance(exc, access.ArchiveUnavailable) and not is_disk_full(exc):
                raise
            logger.error("Crawl %s (%s) %s, but its end is not recorded: %s", self.crawl_id,
                         spider.name, status, disk_full_reason(exc) if is_disk_full(exc)
                         else exc)
            self._release()
            return
        summary = (
            f"Crawl {self.crawl_id} ({spider.name}) {status}: {row['rows_added']} rows added, "
            f"{row['rows_changed']} changed, {row.get('rows_unchanged') or 0} unchanged; "
            f"{counts['requests']} requests, {counts['pdfs_downloaded']} PDFs downloaded, "
            f"{counts['pdfs_already_stored']} already stored, "
            f"{counts['documents_extracted']} extracted ({counts['extraction_errors']} errors)"
            + (f", {row['bad_records']} bad records skipped" if row.get("bad_records") else "")
            + f" -> {where}")
        logger.info(summary)
        self._release()

    def _save_unsaved(self) -> bool:
        """The items a full disk refused, tried again (space may have been freed):
        True when none is left."""
        while self.unsaved:
            kind, data = self.unsaved[0]
            try:
                self._counted(self._save(kind, data))
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                return False
            self.unsaved.pop(0)
        return True

    def _release(self) -> None:
        if self.db is not None:
            archive_db.close_db(self.db)
            self.db = None
        if self.lock is not None:
            self.lock.release()
