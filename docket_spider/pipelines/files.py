"""Each document's PDF stored once, under a name that says what it is
(FilesPipeline with the integrity check of ``files_store.check_pdf``), and
the one reader of stored files the extraction uses."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from dataclasses import asdict
from urllib.parse import urlparse

import scrapy
from scrapy.exceptions import IgnoreRequest, ResponseDataLossError
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import FileException
from scrapy.utils.defer import ensure_awaitable
from twisted.internet.defer import maybeDeferred

from archive import access
from archive import db as archive_db
from archive.names import capped, safe_name
from docket_spider.files_store import AtomicFSFilesStore, ArchiveS3FilesStore, check_pdf
from docket_spider.items import DocumentItem
from docket_spider.pacer.disk import disk_full_reason, is_disk_full
from docket_spider.pacer.purchases import account_for, not_made

logger = logging.getLogger(__name__)

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
            court = safe_name(item.court_id)
            case = safe_name(item.pacer_case_id or item.docket_number)
            number = safe_name(item.document_number or (
                f"seq{item.recap_sequence_number}" if item.recap_sequence_number
                else f"doc{item.pacer_doc_id or hashlib.sha1(request.url.encode()).hexdigest()[:12]}"))
            attachment = safe_name(item.attachment_number or 0)
            stem = f"gov.uscourts.{court}.{case}"
            path = f"{court}/{capped(stem)}/{capped(f'{stem}.{number}.{attachment}.pdf', '.pdf')}"
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
                not_made(self.crawler.spider, request)
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


def store_reader(store_uri: str, settings):
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
