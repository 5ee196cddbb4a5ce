"""Item pipelines, one side effect each, in ITEM_PIPELINES order:

1. DocumentFilesPipeline (Scrapy's FilesPipeline): store each document's PDF
   in FILES_STORE (a folder or s3://bucket/prefix/), at most once.
2. ExtractTextPipeline: text of each new PDF, in worker processes off the
   reactor thread.
3. ArchivePipeline: rows into the SQLite archive via ``archive.db``.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from urllib.parse import urlparse

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.pipelines.files import FilesPipeline

from archive import db as archive_db
from archive.load import save_parsed_docket
from docket_spider.items import (
    AttorneyItem, ChargeItem, DocketEntryItem, DocketItem, DocumentItem, ParsedDocketItem,
    PartyItem,
)

logger = logging.getLogger(__name__)

SECRET_ARG = re.compile(r"pass|token|secret|key|cookie|otp", re.I)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "unknown"


class DocumentFilesPipeline(FilesPipeline):
    """FilesPipeline with stable, source-independent file names and a SHA-256.

    The same filing fetched from CourtListener or the Internet Archive lands
    under the same name (RECAP's ``gov.uscourts.<court>.<case>.<doc>.<att>.pdf``),
    so a document already stored is never downloaded again, whatever the source.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sha256: dict[str, str] = {}
        self._errors: dict[str, str] = {}

    def get_media_requests(self, item, info):
        requests = super().get_media_requests(item, info)
        # A spider may build the request itself (e.g. PACER's purchase: a POST
        # with the session), so items carry URLs only, never cookies.
        hook = getattr(getattr(self.crawler, "spider", None), "media_request", None)
        if hook is None or not isinstance(item, DocumentItem):
            return requests
        return [hook(item, request) or request for request in requests]

    def file_path(self, request, response=None, info=None, *, item=None):
        if isinstance(item, DocumentItem):
            case = item.pacer_case_id or _safe_name(item.docket_number)
            number = item.document_number or (
                f"seq{item.recap_sequence_number}" if item.recap_sequence_number
                else f"doc{item.pacer_doc_id or hashlib.sha1(request.url.encode()).hexdigest()[:12]}")
            stem = f"gov.uscourts.{item.court_id}.{case}"
            return f"{item.court_id}/{stem}/{stem}.{_safe_name(str(number))}.{item.attachment_number or 0}.pdf"
        return super().file_path(request, response=response, info=info, item=item)

    async def media_downloaded(self, response, request, info, *, item=None):
        # A bad answer is a recorded fact about the document, not a traceback.
        not_pdf = (request.meta.get("expect_pdf") and response.body
                   and b"%PDF" not in response.body[:1024])
        if response.status != 200 or not response.body or not_pdf:
            reason = (f"HTTP {response.status}" if response.status != 200
                      else "the server sent an empty file (0 bytes)" if not response.body
                      else "the server sent a web page instead of the PDF (login page or error)")
            logger.warning("Could not store %s: %s", request.url, reason)
            self.crawler.stats.inc_value("file_status_count/failed")
            return {"url": request.url, "path": None, "checksum": None,
                    "status": "failed", "error": reason}
        return await super().media_downloaded(response, request, info, item=item)

    def media_failed(self, failure, request, info):
        if isinstance(failure.value, IgnoreRequest):
            return super().media_failed(failure, request, info)
        logger.warning("Could not download %s: %s", request.url, failure.getErrorMessage())
        self.crawler.stats.inc_value("file_status_count/failed")
        self._errors[request.url] = failure.getErrorMessage()
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


def _exit_with_parent(parent_pid: int) -> None:
    """In each extraction worker: leave when the crawl's process is gone (a
    killed crawl must not leave workers behind)."""
    import threading
    import time

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _extract(source, ocr):
    """Runs in a worker process."""
    from parsers.pdf import extract

    return extract(source, ocr=ocr)


class ExtractTextPipeline:
    """Text, page count and stamp of each stored PDF, in a pool of processes.

    A document whose stored file and extractor version are unchanged since
    the last crawl is not extracted again.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.db_path = settings.get("ARCHIVE_DB")
        self.workers = settings.getint("EXTRACT_WORKERS") or os.cpu_count() or 1
        self.ocr = settings.getbool("EXTRACT_OCR", True)
        self.read_bytes, self.local_path = _store_reader(str(settings.get("FILES_STORE")), settings)
        self.pool: ProcessPoolExecutor | None = None
        self.db = None
        try:
            from parsers.pdf import EXTRACTOR_VERSION
        except ImportError:  # pragma: no cover - parsers.pdf always ships
            EXTRACTOR_VERSION = None
        self.version = EXTRACTOR_VERSION

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.db = archive_db.open_db(self.db_path)

    def close_spider(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            import multiprocessing

            self.pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent, initargs=(os.getpid(),))
        return self.pool

    async def process_item(self, item):
        if not isinstance(item, DocumentItem) or not item.file_path:
            return item
        stats = self.crawler.stats
        _, _, doc_id = archive_db.document_key(asdict(item))
        state = archive_db.document_state(self.db, doc_id)
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
                    item.sha256 = await asyncio.to_thread(_sha256_file, source)
            else:
                source = await asyncio.to_thread(self.read_bytes, item.file_path)
                item.sha256 = item.sha256 or hashlib.sha256(source).hexdigest()
            result = await asyncio.wrap_future(self._pool().submit(_extract, source, self.ocr))
        except BrokenProcessPool as exc:
            self.pool = None  # a worker died (e.g. out of memory): start a fresh pool
            result = {"status": "error", "error": f"extraction worker crashed: {exc}"}
        except Exception as exc:  # never lose the crawl to one bad file
            result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        self._apply(item, result)
        stats.inc_value("extract/documents")
        if item.status == "error":
            stats.inc_value("extract/errors")
            logger.warning("Could not extract text of %s (%s): %s", doc_id, item.file_path, item.error)
        return item

    def _apply(self, item: DocumentItem, result: dict) -> None:
        result = dict(result, extractor_version=result.get("extractor_version") or self.version)
        for name, value in archive_db.extraction_fields(result).items():
            setattr(item, name, value)


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ArchivePipeline:
    """Writes items into the SQLite archive and records the crawl."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.db_path = crawler.settings.get("ARCHIVE_DB")
        self.db = None
        self.crawl_id = None
        self.actions = {"added": 0, "changed": 0, "unchanged": 0}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        spider = self.crawler.spider
        self.db = archive_db.open_db(self.db_path)
        args = {k: v for k, v in getattr(spider, "crawl_args", {}).items()
                if not SECRET_ARG.search(k)}
        self.crawl_id = archive_db.start_crawl(
            self.db, spider.name, args.get("court"), args.get("docket_number"), args)

    def process_item(self, item):
        data = asdict(item)
        crawl = self.crawl_id
        if isinstance(item, DocketItem):
            _, action = archive_db.save_docket(self.db, data, crawl)
            self._count([action])
        elif isinstance(item, DocketEntryItem):
            _, action = archive_db.save_entry(self.db, data, crawl)
            self._count([action])
        elif isinstance(item, DocumentItem):
            for transient in ("file_urls", "files", "extraction_skipped"):
                data.pop(transient, None)
            if item.extraction_skipped or item.status is None:
                # keep what the archive has: text is not re-extracted for an unchanged file
                for key in ("text", "clean_text", "status", "error", "extracted_by_ocr",
                            "ocr_pages", "stamp", "bad_redactions", "extractor_version"):
                    data.pop(key, None)
            if item.file_path is None and item.status is None:
                data["status"] = "no_file" if not item.is_available else None
            _, action = archive_db.save_document(self.db, data, crawl)
            self._count([action])
        elif isinstance(item, PartyItem):
            _, actions = archive_db.save_party(self.db, data, crawl)
            self._count(actions)
        elif isinstance(item, AttorneyItem):
            _, actions = archive_db.save_attorney(self.db, data, crawl)
            self._count(actions)
        elif isinstance(item, ParsedDocketItem):
            counts = save_parsed_docket(self.db, item.record, source=item.source,
                                        court_id=item.court_id, crawl_id=crawl)
            for action, n in counts.items():
                self._count([action] * n)
        elif isinstance(item, ChargeItem):
            archive_db.save_charge(self.db, dict(data, crawl_id=crawl))
        return item

    def _count(self, actions):
        for action in actions:
            self.actions[action] = self.actions.get(action, 0) + 1
            self.crawler.stats.inc_value(f"archive/rows_{action}")

    def spider_closed(self, spider, reason):
        if self.db is None:
            return
        stats = self.crawler.stats
        counts = {
            "requests": stats.get_value("downloader/request_count", 0),
            "api_requests": (stats.get_value(f"{spider.name}/api_requests", 0)
                             + stats.get_value("retry_after/429", 0)),
            "pdfs_downloaded": stats.get_value("file_status_count/downloaded", 0),
            "pdfs_already_stored": stats.get_value("file_status_count/uptodate", 0),
            "documents_extracted": stats.get_value("extract/documents", 0),
            "extraction_errors": stats.get_value("extract/errors", 0),
            "rows_unchanged": self.actions.get("unchanged", 0),
        }
        message = getattr(spider, "crawl_message", "") or ""
        status = reason if not getattr(spider, "crawl_failed", False) else "failed"
        row = archive_db.finish_crawl(self.db, self.crawl_id, status, counts, message)
        summary = (
            f"Crawl {self.crawl_id} ({spider.name}) {status}: {row['rows_added']} rows added, "
            f"{row['rows_changed']} changed, {counts['rows_unchanged']} unchanged; "
            f"{counts['requests']} requests, {counts['pdfs_downloaded']} PDFs downloaded, "
            f"{counts['pdfs_already_stored']} already stored, "
            f"{counts['documents_extracted']} extracted ({counts['extraction_errors']} errors) "
            f"-> {self.db_path}")
        logger.info(summary)
        self.db.conn.close()
        self.db = None
