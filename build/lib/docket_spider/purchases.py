"""PACER purchases that survive a killed crawl: a two-step ledger and a spool.

A purchase is a request that PACER bills when it answers (a docket report, a
document's PDF, an ACMS docket or MergePDFFiles). The spider marks it with
``meta["purchase"]`` (see :func:`purchase_meta`); ``PurchaseLedgerMiddleware``,
next to the downloader, then:

1. writes the ledger row ``started`` just as the request is sent
   (``LedgerDownloadHandler``, Scrapy's HTTP handler; not earlier, while the
   request may still wait in its download slot's queue);
2. when the answer arrives, keeps its bytes in the spool (``PACER_SPOOL_DIR``,
   a private folder beside the archive) before anything else happens to it,
   and marks the row ``answered``, or settles it at once: ``charged``/``free``
   with PACER's figure for a document whose PDF arrived, ``not_billed`` for
   an HTTP error. A report's row is settled by the spider's callback, which
   reads PACER's figure from the receipt on the page;
3. records ``failed`` for a request that got no answer.

A crawl killed after PACER answered but before the bytes were stored is not
billed twice: the next run's request for the same purchase (same key) is
answered from the spool, without going to PACER. A crawl killed while a
request was in flight leaves a ``started`` row; the next run marks it
``interrupted``. PACER may or may not have billed it (it bills what it serves,
and the answer may have been on its way), so it counts against the budgets
and is not bought again unless the crawl is run with ``-a rebuy=1``:
money is never spent twice by accident. A crawl that finishes removes the
spool entries it used. For the same reason a document PACER billed whose file
could not be stored (empty, broken) is not bought again without ``-a rebuy=1``.

The spool holds court pages only, never a cookie or a header of the request.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Response
from scrapy.responsetypes import responsetypes

from archive import access
from docket_spider.resume import pid_alive

logger = logging.getLogger(__name__)

KEPT_HEADERS = (b"Content-Type", b"Content-Disposition", b"Location", b"Retry-After")


# What is bought once: a document does not change. A docket report is bought
# again on each crawl, for the entries filed since.
ONCE = {"document", "transcript"}


def purchase_meta(key: str, what: str, court_id: str, *, cost: float, settle: str | None = None,
                  pacer_cost: float | None = None, **fields) -> dict:
    """``meta["purchase"]`` of a request PACER bills.

    ``key`` names what is bought, the same in every run (court, case or
    document, kind). ``cost``: our fee-rule figure (the worst case when the
    price is not known yet). ``settle``: ``"pdf"`` — charged (``pacer_cost``,
    known from the confirmation page) when the answer is a PDF; ``"accepted"``
    — charged when the answer is a 2xx; ``None`` — the callback settles it.
    """
    return {"key": key, "what": what, "court_id": court_id, "cost": cost,
            "pacer_cost": pacer_cost, "settle": settle, **fields}


class PurchaseSpool:
    """Answers PACER billed, kept until what they hold is stored."""

    def __init__(self, folder: str):
        self.folder = folder

    @classmethod
    def from_settings(cls, settings) -> "PurchaseSpool":
        return cls(settings.get("PACER_SPOOL_DIR") or os.path.join(
            os.path.dirname(os.path.abspath(settings.get("ARCHIVE_DB"))), "purchases"))

    def _paths(self, key: str) -> tuple[str, str]:
        stem = os.path.join(self.folder, hashlib.sha256(key.encode()).hexdigest()[:40])
        return stem + ".answer", stem + ".json"

    def get(self, key: str) -> tuple[dict, bytes] | None:
        body_path, info_path = self._paths(key)
        try:
            with open(info_path) as fh:
                info = json.load(fh)
            with open(body_path, "rb") as fh:
                body = fh.read()
        except (OSError, ValueError):
            return None
        if info.get("key") != key or len(body) != info.get("length"):
            return None
        return info, body

    def put(self, key: str, response: Response, ledger_id: int | None) -> None:
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        body_path, info_path = self._paths(key)
        headers = {name.decode(): response.headers.get(name).decode("latin-1")
                   for name in KEPT_HEADERS if response.headers.get(name)}
        info = {"key": key, "url": response.url, "status": response.status, "headers": headers,
                "length": len(response.body), "ledger_id": ledger_id,
                "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}
        _write_durably(body_path, response.body)
        _write_durably(info_path, json.dumps(info, sort_keys=True).encode())

    def entries(self) -> list[dict]:
        """The info of every answer kept (its ``key``, ``ledger_id``, ...)."""
        out = []
        try:
            names = sorted(os.listdir(self.folder))
        except FileNotFoundError:
            return out
        for name in names:
            if name.endswith(".json"):
                try:
                    with open(os.path.join(self.folder, name)) as fh:
                        out.append(json.load(fh))
                except (OSError, ValueError):
                    continue
        return out

    def drop_partial(self) -> None:
        """What a crawl killed while keeping an answer left: a body with no info
        beside it (the info is written last), and temporary files."""
        try:
            names = set(os.listdir(self.folder))
        except FileNotFoundError:
            return
        for name in names:
            stem, ext = os.path.splitext(name)
            if ext == ".tmp" or (ext == ".answer" and f"{stem}.json" not in names):
                try:
                    os.remove(os.path.join(self.folder, name))
                except FileNotFoundError:
                    pass

    def remove(self, key: str) -> None:
        for path in self._paths(key):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass


def _write_durably(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def is_web_page(response) -> bool:
    """PACER answered a page (an error, its login form) instead of the file.

    A served file is billed even when it is damaged (junk before ``%PDF``, a
    broken body): that is for the files pipeline to judge, not the ledger."""
    kind = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    head = response.body[:1024].lstrip().lower()
    return (b"%pdf" not in head and (kind in (b"text/html", b"application/xhtml+xml")
                                     or head.startswith((b"<!doctype html", b"<html"))))


class PurchaseLedgerMiddleware:
    """The downloader middleware (after CredentialsMiddleware, next to the downloader)."""

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.spool = PurchaseSpool.from_settings(settings)
        self.used: set[str] = set()  # spool keys this run wrote or answered from
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _archive(self):
        """The ledger's rows, written (committed) before each call returns:
        archive.access, to the file or to the archive writer."""
        return access.for_crawler(self.crawler)

    def spider_opened(self, spider):
        if getattr(spider, "budget", None) is None:
            return  # not a PACER spider: nothing is ever bought
        archive = self._archive()
        for row in archive.purchases_in_flight():
            if row.get("pid") and (row["pid"] == os.getpid() or pid_alive(row["pid"])):
                continue  # another crawl's purchase, still in flight
            archive.settle_purchase(
                row["id"], "interrupted",
                message="the crawl was killed while this request was in flight, so its answer "
                        "never arrived; PACER may have billed it (check the account's billing "
                        "history). What it was for is bought again when still missing.")
            logger.warning("PACER purchase %s (%s) was interrupted by a killed crawl: it counts "
                           "against the budget; see pacer_charges row %s", row.get("what"),
                           row.get("description") or row.get("url"), row["id"])

    def spider_closed(self, spider, reason):
        if reason == "finished":
            for key in self.used:  # everything they held is stored by now
                self.spool.remove(key)
            if getattr(spider, "budget", None) is not None:
                self._drop_stored(spider)

    def _drop_stored(self, spider) -> None:
        """Answers kept by a killed crawl whose document was stored before the kill."""
        self.spool.drop_partial()
        archive = self._archive()
        for info in self.spool.entries():
            row = archive.pacer_charge(info.get("ledger_id"))
            if (row and row["what"] in ONCE and row["document_id"]
                    and archive.document_stored(row["court_id"], pacer_doc_id=row["document_id"])):
                self.spool.remove(info["key"])

    def process_request(self, request):
        purchase = request.meta.get("purchase")
        if not purchase:
            return None
        request.meta.pop("spooled", None)
        request.meta.pop("ledger_row", None)
        kept = self.spool.get(purchase["key"])
        if kept is not None:
            info, body = kept
            self.used.add(purchase["key"])
            request.meta["ledger_id"] = info.get("ledger_id")
            request.meta["spooled"] = True
            logger.info("Not buying %s again: PACER's answer to an earlier purchase (%s) was "
                        "kept when that crawl stopped before storing it", purchase["what"],
                        purchase.get("description") or purchase["key"])
            self.crawler.stats.inc_value("pacer/answers_from_spool")
            headers = info.get("headers") or {}
            cls = responsetypes.from_args(headers=headers, url=info.get("url"), body=body)
            return cls(url=request.url, status=int(info.get("status") or 200), headers=headers,
                       body=body, request=request, flags=["spooled"])
        spider = self.crawler.spider
        if purchase["what"] in ONCE:
            self._refuse_a_second_purchase(spider, purchase)
        row = {k: v for k, v in purchase.items()
               if k not in ("key", "settle", "pacer_cost") and v is not None}
        row.update(purchase_key=purchase["key"], pid=os.getpid(),
                   job_id=getattr(spider, "job_id", None),
                   crawl_id=self.crawler.stats.get_value("archive/crawl_id"),
                   url=_no_query(request.url))
        # written by LedgerDownloadHandler as the request goes on the wire, not
        # here: it may wait in its download slot's queue first, and a crawl killed
        # then has not asked PACER for anything
        request.meta["ledger_row"] = row
        request.meta.pop("ledger_id", None)
        return None

    def sent(self, request) -> None:
        """The purchase ``request`` is going to PACER now: its ``started`` row."""
        row = request.meta.pop("ledger_row", None)
        if row is not None:
            request.meta["ledger_id"] = self._archive().start_purchase(row)

    def _refuse_a_second_purchase(self, spider, purchase) -> None:
        """A document is bought once. Asked for again, it is one whose purchase a
        killed crawl interrupted (PACER may have billed it) or whose bought file
        could not be stored: buying it again only when asked (``-a rebuy=1``)."""
        earlier = self._archive().earlier_purchase(purchase["key"])
        if earlier is None or getattr(spider, "rebuy", False):
            return
        why = ("was interrupted by a killed crawl, and PACER may have billed it"
               if earlier["status"] == "interrupted" else
               f"was billed on {str(earlier.get('at'))[:10]}, but its file could not be stored")
        self.crawler.stats.inc_value("pacer/not_bought_twice")
        logger.warning("Not buying %s again: its purchase (pacer_charges row %s) %s. Check the "
                       "account's billing history; -a rebuy=1 buys it again.",
                       purchase.get("description") or purchase["key"], earlier["id"], why)
        raise IgnoreRequest(f"not bought twice: an earlier purchase (pacer_charges row "
                            f"{earlier['id']}) {why}; -a rebuy=1 buys it again")

    def process_response(self, request, response):
        purchase = request.meta.get("purchase")
        ledger_id = request.meta.get("ledger_id")
        if not purchase or ledger_id is None or "spooled" in response.flags:
            if purchase and "spooled" in response.flags and purchase.get("settle"):
                self._settle_direct(purchase, ledger_id, response)
            return response
        if response.status >= 400:
            self._archive().settle_purchase(ledger_id, "not_billed",
                                message=f"PACER answered HTTP {response.status}")
            request.meta.pop("ledger_id", None)  # settled; a retry is a new attempt
            return response
        self.spool.put(purchase["key"], response, ledger_id)
        self.used.add(purchase["key"])
        self._archive().settle_purchase(ledger_id, "answered")
        if purchase.get("settle"):
            self._settle_direct(purchase, ledger_id, response)
        return response

    def _settle_direct(self, purchase, ledger_id, response) -> None:
        if ledger_id is None:
            return
        billed = 200 <= response.status < 300 and not (
            purchase["settle"] == "pdf" and is_web_page(response))
        if billed:
            pacer_cost = purchase.get("pacer_cost")
            status = "free" if pacer_cost is not None and round(pacer_cost * 100) == 0 else "charged"
            self._archive().settle_purchase(ledger_id, status, pacer_cost=pacer_cost,
                                cost=purchase.get("cost"))
        else:
            self._archive().settle_purchase(ledger_id, "not_billed",
                                message="PACER's answer was not the document (an error or "
                                        "login page), which it does not bill")
            self.spool.remove(purchase["key"])

    def process_exception(self, request, exception):
        ledger_id = request.meta.get("ledger_id")
        if request.meta.get("purchase") and ledger_id is not None and not request.meta.get("spooled"):
            self._archive().settle_purchase(ledger_id, "failed",
                                message=f"no answer: {type(exception).__name__}: {exception}")
            request.meta.pop("ledger_id", None)  # a retry is a new attempt with its own row
        return None


class LedgerDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP handler, which first writes a purchase's ``started`` row:
    the moment a request leaves for PACER is the moment it is sent, after any
    wait in its download slot's queue, and only the handler sees that moment."""

    async def download_request(self, request):
        if request.meta.get("ledger_row") is not None:
            ledger = _ledger_middleware(self._crawler)
            if ledger is not None:
                ledger.sent(request)
        return await super().download_request(request)


def _ledger_middleware(crawler):
    for mw in crawler.engine.downloader.middleware.middlewares:
        if isinstance(mw, PurchaseLedgerMiddleware):
            return mw
    return None


def _no_query(url: str) -> str:
    return url.split("?")[0]
