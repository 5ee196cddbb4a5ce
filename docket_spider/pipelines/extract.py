"""The text of each stored PDF, in limited worker processes off the reactor
thread (archive/extract/), or on Celery workers (EXTRACT_BROKER_URL)."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import asdict

from archive import access
from archive import db as archive_db
from archive.extract import queue as extract_queue
from archive.extract.cache import ResultCache
from archive.extract.limits import Limits
from archive.extract.pool import ExtractionPool, tmp_folder_beside
from docket_spider.items import DocumentItem
from docket_spider.pipelines.files import store_reader
from parsers.common import strip_query
from parsers.pdf import EXTRACTOR_VERSION

logger = logging.getLogger(__name__)


class ExtractTextPipeline:
    """Text, page count and stamp of each stored PDF, in limited worker
    processes (``archive.extract.pool``: EXTRACT_MEMORY_LIMIT_MB per worker,
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
        self.read_bytes, self.local_path = store_reader(str(settings.get("FILES_STORE")), settings)
        self.limits = Limits.from_settings(settings)
        self.pool = None  # archive.extract.pool.ExtractionPool, started with the first PDF
        # EXTRACT_BROKER_URL: the documents go to Celery workers (archive/extract/queue.py)
        self.queue = None
        url = extract_queue.broker_url(settings)
        if url:
            self.queue = extract_queue.QueueClient(url, self.limits.time_limit,
                                                   settings.getfloat("EXTRACT_QUEUE_WAIT"))
        self.version = EXTRACTOR_VERSION
        folder = settings.get("EXTRACT_CACHE_DIR")
        self.cache = ResultCache(folder, self.version, self.ocr, self.limits) if folder else None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        if self.queue is not None:
            where = strip_query(self.queue.url)
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
            self.pool = ExtractionPool(self.workers, self.limits, tmp_dir=tmp_folder_beside(
                self.crawler.settings.get("ARCHIVE_DB")))
        return self.pool

    async def process_item(self, item):
        if not isinstance(item, DocumentItem) or not item.file_path:
            return item
        stats = self.crawler.stats
        _, _, doc_id = archive_db.document_key(asdict(item))
        file_status = item.files[0].get("status") if item.files else None
        state = None
        if file_status != "downloaded":  # a file already stored: perhaps already extracted
            state = await asyncio.to_thread(access.for_crawler(self.crawler).document_state,
                                            doc_id)
        if (state and state.get("file_path") == item.file_path
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
