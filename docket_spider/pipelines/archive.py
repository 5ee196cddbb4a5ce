"""Rows into the archive: each item saved through ``archive.load`` (or sent to
the one archive writer), the crawl recorded from start to end, one crawl of
a case at a time (``archive.access.CaseLock``)."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict

from scrapy import signals
from scrapy.exceptions import DropItem

from archive import access
from archive import db as archive_db
from archive.access import CaseLock
from archive.load import save_item
from docket_spider.arguments import SECRET_ARG
from docket_spider.outcome import BAD_RECORDS, bad_record
from docket_spider.pacer.disk import disk_full_reason, is_disk_full
from docket_spider.pacer.purchases import account_for
from parsers.common import strip_query

logger = logging.getLogger(__name__)


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
                        strip_query(self.archive.url), self.crawl_id)
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
                where = f"the archive writer on {strip_query(self.archive.url)}"
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
