"""PACER purchases: every dollar and every document accounted for.

A purchase is a request PACER bills when it serves it (a docket report, a
document's PDF, an ACMS docket or MergePDFFiles). The spider marks it with
``meta["purchase"]`` (see :func:`purchase_meta`). Its row in the ledger
(``pacer_charges``) follows the request, each step written before the next
can happen:

1. ``started``: handed to Scrapy's HTTP client (``LedgerDownloadHandler``),
   not on the wire yet: a connection to PACER is being opened. (Not earlier,
   while it may wait in its download slot's queue.)
2. ``sent``: connected, its bytes are about to be written: from here PACER
   may receive it. (A purchase always gets a new connection, never a kept-
   alive one the server may be closing, so its moment is exact.)
3. ``answered``: PACER's answer began to arrive (its headers). PACER bills
   what it serves: it was billed.
4. settled: ``charged`` or ``free`` (PACER's figure in ``pacer_cost``;
   ``answer_kept`` 1 once its bytes are in the spool, 0 when they were lost),
   ``not_billed`` (an error answer, or a request that never left), or
   ``unknown`` (it left and no answer came: PACER may have billed it).

A crawl killed in the middle leaves its row at the step it reached; the next
crawl settles it as the facts allow (:meth:`PurchaseAccount.settle_killed`):
``started`` was never seen by PACER (not billed: bought again), ``answered``
was billed (its kept answer is used, or it is reported bought but not
stored), and only ``sent`` stays ``unknown``. A request that left and got no
answer in a live crawl (a timeout, a reset connection) is ``unknown`` too,
and is not retried.

Money is never spent twice by accident: a purchase whose earlier attempt is
``unknown``, or was billed and lost, is not made again unless the crawl is
run with ``-a rebuy=1`` (a document, bought once, is also not bought again
when its file could not be stored). Such a crawl is incomplete (exit 1); its
summary (:meth:`PurchaseAccount.summary`) gives what was charged, not billed
and unknown, names each purchase left open and says what to do: check the
account's billing history, then ``-a rebuy=1``.

PACER's answer is kept in the spool (``PACER_SPOOL_DIR``, a private folder
beside the archive) before anything else happens to it; a crawl killed
before storing it takes the kept answer next time instead of buying it again.
A document's kept answer is dropped once its file is stored, a report's once
its docket is saved. The spool holds court pages only, never a cookie or a
header of the request.

A full disk (``ENOSPC``, SQLite's "database or disk is full"): buying stops at
the first write that fails. The reserve (``PACER_DISK_RESERVE_MB``, a file in
the spool folder made when a crawl that buys starts; no room for it, nothing
is bought) is released so that the ledger, the crawl's row and the answers
already on their way can still be written. An answer no disk takes is kept
in memory and written when there is room again (the crawl waits up to
``PACER_DISK_FULL_WAIT`` seconds at its end); the crawl says so in one line
and ends ``failed``.
"""
from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
import os
import time
import weakref
from typing import Optional

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from twisted.web.client import HTTPConnectionPool

from archive import access
from archive.db import UNKNOWN
from archive.fees import dollars, report_cost_cents
from archive.processes import process_alive
from docket_spider.files_store import remove_parts, write_atomically
from docket_spider.items import DocketItem, DocumentItem
from docket_spider.pacer.disk import MB, DiskReserve, disk_full_reason, is_disk_full
from docket_spider.urls import strip_query

logger = logging.getLogger(__name__)

KEPT_HEADERS = (b"Content-Type", b"Content-Disposition", b"Location", b"Retry-After")

# What is bought once: a document does not change. A docket report is bought
# again on each crawl, for the entries filed since (its key names the range).
ONCE = {"document", "transcript"}
REPORTS = {"docket_report", "appellate_docket", "acms_docket"}

BILLING_HELP = ("check the account's billing history (https://pacer.uscourts.gov/ , Manage My "
                "Account, Review Billing History) for the purchases named above, at the times "
                "of their pacer_charges rows. Then run the crawl again with -a rebuy=1 to buy "
                "them again: one PACER did not bill costs once; one it billed (its answer was "
                "on its way when the crawl stopped) is billed again, unless you first ask the "
                "PACER Service Center to credit it")


def purchase_meta(key: str, what: str, court_id: str, *, cost: float, settle: str | None = None,
                  pacer_cost: float | None = None, **fields) -> dict:
    """``meta["purchase"]`` of a request PACER bills.

    ``key`` names what is bought, the same in every run (court, case or
    document, kind; a report also its range). ``cost``: our fee-rule figure
    (the worst case when the price is not known yet). ``settle``: ``"pdf"`` —
    charged (``pacer_cost``, known from the confirmation page) when the
    answer is a PDF; ``"accepted"`` — charged when the answer is a 2xx;
    ``None`` — the callback settles it.
    """
    return {"key": key, "what": what, "court_id": court_id, "cost": cost,
            "pacer_cost": pacer_cost, "settle": settle, **fields}


class PurchaseRefused(IgnoreRequest):
    """A purchase not made: bought before with an outcome left open, or the disk is full."""


# --- the spool -----------------------------------------------------------------

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

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    @staticmethod
    def info_of(key: str, response: Response, ledger_id: int | None) -> dict:
        headers = {name.decode(): response.headers.get(name).decode("latin-1")
                   for name in KEPT_HEADERS if response.headers.get(name)}
        return {"key": key, "url": response.url, "status": response.status, "headers": headers,
                "length": len(response.body), "ledger_id": ledger_id,
                "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}

    def put(self, key: str, response: Response, ledger_id: int | None) -> None:
        self.put_info(self.info_of(key, response, ledger_id), response.body)

    def put_info(self, info: dict, body: bytes) -> None:
        """Keep ``body`` (the info is written last: an answer without it is not whole)."""
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        body_path, info_path = self._paths(info["key"])
        write_atomically(body_path, body, mode=0o600)  # PACER's pages: private
        try:
            write_atomically(info_path, json.dumps(info, sort_keys=True).encode(), mode=0o600)
        except OSError:
            _remove(body_path)
            raise

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
        beside it (the info is written last), and temporary copies nobody is
        writing (files_store.write_atomically's; ``.tmp``: an older version's)."""
        try:
            names = set(os.listdir(self.folder))
        except FileNotFoundError:
            return
        for name in names:
            stem, ext = os.path.splitext(name)
            if ext == ".tmp" or (ext == ".answer" and f"{stem}.json" not in names):
                _remove(os.path.join(self.folder, name))
        remove_parts(self.folder)

    def remove(self, key: str) -> None:
        for path in self._paths(key):
            _remove(path)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def is_web_page(response) -> bool:
    """PACER answered a page (an error, its login form) instead of the file.

    A served file is billed even when it is damaged (junk before ``%PDF``, a
    broken body): that is for the files pipeline to judge, not the ledger."""
    kind = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    head = response.body[:1024].lstrip().lower()
    return (b"%pdf" not in head and (kind in (b"text/html", b"application/xhtml+xml")
                                     or head.startswith((b"<!doctype html", b"<html"))))


def _is_html_type(headers) -> bool:
    kind = (headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    return kind in (b"text/html", b"application/xhtml+xml")


def _is_free(pacer_cost) -> bool:
    """PACER's own price was $0.00 (an opinion)."""
    return pacer_cost is not None and round(pacer_cost * 100) == 0


def _money(value) -> str:
    return f"${(value or 0):,.2f}"


def _paid(row) -> float:
    value = row.get("pacer_cost")
    return float(value if value is not None else row.get("cost") or 0)


def _label(row) -> str:
    what = row.get("description") or row.get("what") or "purchase"
    case = row.get("docket_number")
    if case and str(case) not in what:
        what = f"{what} of {case}"
    return f"{what} (pacer_charges row {row['id']})" if row.get("id") else what


# --- what one crawl bought -------------------------------------------------------

class PurchaseAccount:
    """One crawl's purchases: their ledger rows (written through
    ``archive.access``), the answers kept, what was refused, and the summary.
    Shared by the ledger middleware, the download handler, the pipelines and
    the PACER spiders (:func:`account_for`)."""

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.spool = PurchaseSpool.from_settings(settings)
        self.reserve = DiskReserve(self.spool.folder,
                                   settings.getfloat("PACER_DISK_RESERVE_MB", 8) * MB)
        self.wait_for_space = settings.getfloat("PACER_DISK_FULL_WAIT", 60)
        self.rows: dict[int, dict] = {}  # ledger id -> the row as this crawl knows it
        self.refused: list[dict] = []  # purchases not made: {key, what, description, why, row}
        self.held: dict[str, tuple[dict, bytes]] = {}  # answers no disk took yet
        self.pending: list[tuple[int, str, dict]] = []  # ledger writes a full disk refused
        self.used: set[str] = set()  # spool keys this run wrote or answered from
        self.documents: dict[str, dict] = {}  # purchase key -> the document's outcome
        self.earlier: list[dict] = []  # rows of killed crawls settled when this one started
        self.disk_full: Optional[str] = None
        self.buying = False  # a PACER spider with a budget: it may buy
        # what other parts could not write on a full disk: each callable tries again
        # and says whether nothing is left (the archive pipeline's items)
        self.retries: list = []

    # -- the ledger ---------------------------------------------------------
    def _archive(self):
        return access.for_crawler(self.crawler)

    def start(self, row: dict) -> int:
        """The ``started`` row of a purchase handed to the HTTP client."""
        if self.disk_full:
            raise self.refuse(row, "the disk is full, so nothing more is bought")
        try:
            ledger_id = self._archive().start_purchase(row)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.full(exc, "the PACER ledger")
            raise self.refuse(row, "the disk is full, so nothing more is bought") from None
        self.rows[ledger_id] = dict(row, id=ledger_id, status="started")
        return ledger_id

    def record(self, ledger_id: int, status: str, **fields) -> None:
        """A step or the outcome of purchase ``ledger_id``, written before this
        returns (kept in memory and written later if the disk is full)."""
        if ledger_id is None:
            return
        self.note(ledger_id, status, **fields)
        self.pending.append((ledger_id, status, fields))
        self.flush()

    def note(self, ledger_id, status: str, **fields) -> None:
        """An outcome the ledger learns through an item (the spider's settle)."""
        if ledger_id is None:
            return
        row = self.rows.setdefault(ledger_id, {"id": ledger_id})
        row.update({k: v for k, v in fields.items() if v is not None}, status=status)

    def flush(self) -> bool:
        while self.pending:
            ledger_id, status, fields = self.pending[0]
            try:
                self._archive().settle_purchase(ledger_id, status, **fields)
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                if self.full(exc, "the PACER ledger"):
                    continue  # the reserve made room: try again
                return False
            self.pending.pop(0)
        return True

    def mark_sent(self, ledger_id) -> bool:
        """The ``sent`` step, written before the request's bytes go; False when
        it could not be written (the disk is full): then it must not go."""
        for _ in range(2):
            try:
                self._archive().settle_purchase(ledger_id, "sent")
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                if self.full(exc, "the PACER ledger"):
                    continue
                return False
            self.rows.setdefault(ledger_id, {"id": ledger_id})["status"] = "sent"
            return True
        return False

    def state(self, ledger_id) -> Optional[str]:
        return (self.rows.get(ledger_id) or {}).get("status")

    def refuse(self, row: dict, why: str, open_: bool = True) -> PurchaseRefused:
        """A purchase not made. ``open_``: what it was for is missing until the
        operator acts (not: PACER's own file cannot be stored, buying it again
        brings the same)."""
        self.refused.append({"key": row.get("purchase_key") or row.get("key"),
                             "what": row.get("what"), "description": row.get("description"),
                             "docket_number": row.get("docket_number"), "why": why,
                             "open": open_})
        self.crawler.stats.inc_value("pacer/purchases_refused")
        return PurchaseRefused(f"not bought: {why}")

    # -- the disk -----------------------------------------------------------
    def full(self, exc, where: str) -> bool:
        """The disk is full (``exc``, writing ``where``): buying stops, the
        reserve is released. True when that made room (write again)."""
        first = self.disk_full is None
        freed = self.reserve.release()
        if first:
            self.disk_full = f"{disk_full_reason(exc)} (writing {where})"
            self.crawler.stats.set_value("pacer/disk_full", self.disk_full)
            logger.error("The disk is full: %s.%s Free space, then run the crawl again.",
                         self.disk_full, " Buying on PACER stops here; what PACER already billed "
                         "is kept." if self.buying else "")
            fail = getattr(getattr(self.crawler, "spider", None), "fail", None)
            if fail is not None:  # said above, in one line
                fail(f"disk full: {self.disk_full}; buying stopped. Free space, then run the "
                     "crawl again", log="")
        return bool(freed)

    async def keep(self, key: str, response: Response, ledger_id) -> bool:
        """Keep PACER's answer in the spool (written off the reactor's thread, so
        other answers are not kept waiting); on a full disk, in memory. True: on disk."""
        info = PurchaseSpool.info_of(key, response, ledger_id)
        self.used.add(key)
        for _ in range(2):
            try:
                await asyncio.to_thread(self.spool.put_info, info, response.body)
                return True
            except OSError as exc:
                if not is_disk_full(exc):
                    logger.warning("Could not keep PACER's answer %s in %s: %s", key,
                                   self.spool.folder, exc)
                    break
                if not self.full(exc, f"PACER's answer into {self.spool.folder}"):
                    break
        self.held[key] = (info, response.body)
        self.crawler.stats.set_value("pacer/answers_held_in_memory", len(self.held))
        return False

    def stored(self, key: str) -> None:
        """What the answer ``key`` held is stored: neither spool nor memory keeps it."""
        self.held.pop(key, None)
        self.spool.remove(key)

    def kept_answer(self, key: str) -> tuple[dict, bytes] | None:
        return self.held.get(key) or self.spool.get(key)

    def write_held(self, wait: float = 0.0) -> None:
        """Write what a full disk refused (answers kept in memory, ledger rows,
        and what other parts registered in ``retries``), waiting up to ``wait``
        seconds for room; record the answers no disk took as lost."""
        deadline = time.monotonic() + wait
        told = False
        while True:
            for key, (info, body) in list(self.held.items()):
                try:
                    self.spool.put_info(info, body)
                except OSError:
                    continue
                del self.held[key]
                ledger_id = info.get("ledger_id")
                if ledger_id is not None and self.state(ledger_id) not in (None, "not_billed"):
                    self.record(ledger_id, self.state(ledger_id), answer_kept=1)
            try:
                self.flush()
            except Exception:  # not the disk: said where it happened
                pass
            others = [retry for retry in self.retries if not retry()]
            if not (self.held or self.pending or others) or time.monotonic() >= deadline:
                break
            if not told:
                told = True
                logger.error("The disk is still full: %s answer(s) PACER billed are kept in "
                             "memory, %s ledger row(s) and %s other record(s) wait; waiting up "
                             "to %.0f s for free space to write them (PACER_DISK_FULL_WAIT)",
                             len(self.held), len(self.pending), len(others), wait)
            time.sleep(0.5)
        for key, (info, _body) in list(self.held.items()):
            ledger_id = info.get("ledger_id")
            row = self.rows.get(ledger_id) or {}
            if row.get("status") in ("charged", "free", "answered"):
                status = "charged" if row["status"] == "answered" else row["status"]
                self.record(ledger_id, status, answer_kept=0,
                            message="PACER billed it; its answer was lost: the disk was full")
            self.held.pop(key)
        try:
            self.flush()
        except Exception:
            pass

    # -- a killed crawl's purchases ----------------------------------------
    def settle_killed(self) -> None:
        """Settle what crawls killed mid-purchase left open, as the facts allow."""
        archive = self._archive()
        self.spool.drop_partial()
        for row in archive.purchases_in_flight():
            if row.get("pid") and (row["pid"] == os.getpid() or process_alive(row["pid"])):
                continue  # another crawl's purchase, still in flight
            status = row["status"]
            if status == "started":
                outcome = dict(status="not_billed", message=(
                    "the crawl was killed before this request left for PACER, which never saw "
                    "it: not billed; what it was for is bought again"))
            elif status == "sent":
                outcome = dict(status="unknown", message=(
                    "the crawl was killed after this request was sent, before any answer "
                    "came: PACER may have billed it. Check the account's billing history; "
                    "-a rebuy=1 buys it again"))
            else:  # answered: PACER began to send its answer, so it billed it
                kept = row.get("purchase_key") and self.spool.has(row["purchase_key"])
                outcome = dict(status="free" if _is_free(row.get("pacer_cost")) else "charged",
                               answer_kept=1 if kept else 0,
                               message=(
                                   "PACER answered; the crawl was killed before it was stored: "
                                   "its kept answer is used" if kept else
                                   "PACER answered (and billed it); the crawl was killed while "
                                   "the answer arrived, so it was lost: bought but not stored"))
            try:
                archive.settle_purchase(row["id"], **outcome)
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                self.full(exc, "the PACER ledger")
                return
            self.earlier.append(dict(row, **outcome))
        if self.earlier:
            counts = {}
            for row in self.earlier:
                counts[row["status"]] = counts.get(row["status"], 0) + 1
            logger.warning(
                "Purchases left open by a killed crawl, settled: %s",
                ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items())))
            for row in self.earlier:
                logger.info("  %s: %s: %s", _label(row), row["status"], row["message"])

    def earlier_open(self, key: str, what: str, rebuy=False) -> Optional[tuple[str, bool]]:
        """(why, open) when purchase ``key`` is not made again, or None.
        ``open``: its outcome waits for the operator (unknown, or billed and
        lost: ``rebuy`` true buys it again); not open: PACER sold a file that
        could not be stored (``rebuy="all"`` buys it again)."""
        earlier = self._archive().earlier_purchase(key)
        if earlier is None or rebuy == "all":
            return None
        day = str(earlier.get("at") or "")[:10]
        if earlier["status"] in UNKNOWN + ("charged", "free") and _is_free(
                earlier.get("pacer_cost")):
            return None  # PACER's own price was $0.00: buying it again costs nothing
        if rebuy and (earlier["status"] in UNKNOWN or earlier.get("answer_kept") == 0):
            return None
        if earlier["status"] in UNKNOWN:
            return (f"its earlier purchase (pacer_charges row {earlier['id']}, {day}) has an "
                    "unknown outcome: the request reached PACER and no answer came, so PACER "
                    "may have billed it"), True
        if earlier.get("answer_kept") == 0:
            return (f"PACER billed it on {day} (pacer_charges row {earlier['id']}) but its "
                    "answer was lost before it was stored"), True
        if what in ONCE:
            return (f"PACER billed it on {day} (pacer_charges row {earlier['id']}), but its "
                    "file could not be stored: buying it again brings the same file "
                    "(-a rebuy=all buys it again)"), False
        return None  # a report bought and stored before: this is a new purchase

    # -- documents ----------------------------------------------------------
    def document_done(self, item) -> None:
        """A document item of this crawl came out of the pipelines."""
        meta = (getattr(item, "file_request", None) or {}).get("meta") or {}
        key = (meta.get("purchase") or {}).get("key")
        if getattr(item, "file_path", None):
            if key:
                self.stored(key)
            return
        if getattr(item, "status", None) != "download_failed":
            return
        if key and key in self.used and not is_transient(item.error):
            self.stored(key)  # PACER's own file is broken: keeping it stores nothing
        self.documents[key or f"{item.source}:{item.pacer_doc_id}"] = {
            "key": key, "source": item.source, "docket_number": item.docket_number,
            "description": _document_label(item), "error": item.error or ""}

    # -- the end --------------------------------------------------------------
    def close(self) -> None:
        self.write_held(self.wait_for_space if self.disk_full else 0.0)
        if not self.buying or self.disk_full:
            return
        archive = self._archive()
        for info in self.spool.entries():  # documents stored before a crawl was killed
            row = archive.pacer_charge(info.get("ledger_id"))
            if (row and row["what"] in ONCE and row["document_id"]
                    and archive.document_stored(row["court_id"], pacer_doc_id=row["document_id"])):
                self.spool.remove(info["key"])

    def this_crawl(self) -> list[dict]:
        return [row for row in self.rows.values() if row.get("status")]

    def summary(self) -> dict:
        """What this crawl's purchases came to: the three sums, and each purchase left open."""
        rows = self.this_crawl()
        charged = [r for r in rows if r["status"] in ("charged", "free", "answered")]
        not_billed = [r for r in rows if r["status"] in ("not_billed", "started")]
        unknown = [r for r in rows if r["status"] in UNKNOWN + ("sent",)]
        lost = [r for r in charged if r.get("answer_kept") == 0]
        lost_keys = {r.get("purchase_key") for r in lost} | {r.get("purchase_key") for r in unknown}
        refused_keys = {r["key"] for r in self.refused}
        broken, failed = [], []
        for key, doc in self.documents.items():
            if key in lost_keys or key in refused_keys:
                continue
            if not is_transient(doc["error"]):
                broken.append(doc)  # the source's file cannot be stored: as it is there
            else:
                failed.append(doc)
        return {"charged": round(sum(_paid(r) for r in charged), 2), "charged_n": len(charged),
                "free_n": sum(1 for r in charged if r["status"] == "free"),
                "not_billed_n": len(not_billed),
                "unknown": round(sum(_paid(r) for r in unknown), 2), "unknown_n": len(unknown),
                "unknown_rows": unknown, "lost": lost, "refused": self.refused,
                "broken": broken, "failed": failed}

    def report(self, log) -> tuple[str, int]:
        """Log the summary; (its first line, how many things asked for are missing)."""
        s = self.summary()
        line = (f"PACER ledger of this crawl: charged {_money(s['charged'])} ({s['charged_n']} "
                f"purchases, {s['free_n']} free), not billed {s['not_billed_n']}, unknown "
                f"{s['unknown_n']}"
                + (f" (up to {_money(s['unknown'])})" if s['unknown_n'] else ""))
        log.info(line)
        missing = 0
        for row in s["unknown_rows"]:
            missing += 1
            log.warning("Unknown outcome: %s: the request reached PACER and no answer came, "
                        "so PACER may have billed it", _label(row))
        for row in s["lost"]:
            missing += 1
            log.warning("Bought but not stored: %s: %s", _label(row),
                        row.get("message") or "PACER billed it; its answer was lost")
        for refused in s["refused"]:
            missing += bool(refused["open"])
            log.warning("Not bought: %s: %s", refused.get("description") or refused.get("key"),
                        refused["why"])
        for doc in s["failed"]:
            missing += 1
            log.warning("Not stored: %s of %s: %s", doc["description"], doc["docket_number"],
                        doc["error"] or "see the log")
        for doc in s["broken"]:
            log.warning("Not obtainable: %s of %s: %s a file that cannot be stored (%s); "
                        "%s would bring the same file", doc["description"], doc["docket_number"],
                        "PACER sold" if doc["source"] == "pacer" else f"{doc['source']} has",
                        doc["error"], "buying it again" if doc["source"] == "pacer"
                        else "fetching it again")
        open_ = s["unknown_n"] + len(s["lost"]) + sum(
            1 for r in s["refused"] if r["open"] and "disk is full" not in r["why"])
        if open_:
            log.warning("What to do about the %s purchase(s) above: %s.", open_, BILLING_HELP)
        if self.disk_full:
            log.error("Disk full: %s. Answers PACER billed are in %s and are used by the next "
                      "run; free space, then run the crawl again.", self.disk_full,
                      self.spool.folder)
        return line, missing


def is_transient(error: str) -> bool:
    """A download that failed on the way (worth trying again), not a file bad at its source."""
    text = (error or "").lower()
    return any(w in text for w in ("incomplete download", "disk", "not bought", "connection",
                                   "timeout", "timed out", "http 5", "http 4", "web page",
                                   "no space"))


def _document_label(item) -> str:
    number = getattr(item, "document_number", None) or getattr(item, "pacer_doc_id", None)
    attachment = getattr(item, "attachment_number", None)
    return f"document {number}" + (f" attachment {attachment}" if attachment else "")


_ACCOUNTS = None  # crawler -> its PurchaseAccount (a WeakKeyDictionary)


def account_for(crawler, create: bool = True) -> Optional[PurchaseAccount]:
    """The crawl's one :class:`PurchaseAccount`."""
    global _ACCOUNTS
    if _ACCOUNTS is None:
        _ACCOUNTS = weakref.WeakKeyDictionary()
    account = _ACCOUNTS.get(crawler)
    if account is None and create:
        account = _ACCOUNTS[crawler] = PurchaseAccount(crawler)
    return account


# --- the downloader middleware -------------------------------------------------------

class PurchaseLedgerMiddleware:
    """The downloader middleware (after CredentialsMiddleware, next to the downloader)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.account = account_for(crawler)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        if getattr(spider, "budget", None) is None:
            return  # not a PACER spider: nothing is ever bought
        self.account.settle_killed()
        if getattr(spider.budget, "limit", None) is None or self.account.disk_full:
            return
        problem = self.account.reserve.make()
        if problem is not None and is_disk_full(problem):
            self.account.full(problem, f"the reserve {self.account.reserve.path} "
                                       f"({self.account.reserve.size // MB} MB, "
                                       "PACER_DISK_RESERVE_MB)")
        elif problem is not None:
            logger.warning("Could not make the reserve %s: %s", self.account.reserve.path, problem)

    def item_scraped(self, item, response=None, spider=None, **kwargs):
        if isinstance(item, DocumentItem):
            self.account.document_done(item)
        elif isinstance(item, DocketItem) and response is not None:
            key = (response.meta.get("purchase") or {}).get("key")
            if key:  # the report's docket is saved: its kept answer is not needed any more
                self.account.stored(key)

    def process_request(self, request):
        purchase = request.meta.get("purchase")
        if not purchase:
            return None
        request.meta.pop("spooled", None)
        request.meta.pop("ledger_row", None)
        kept = self.account.kept_answer(purchase["key"])
        if kept is not None:
            info, body = kept
            self.account.used.add(purchase["key"])
            request.meta["ledger_id"] = info.get("ledger_id")
            request.meta["spooled"] = True
            logger.info("Not buying %s again: PACER's answer to an earlier purchase (%s) was "
                        "kept when that crawl stopped before storing it", purchase["what"],
                        purchase.get("description") or purchase["key"])
            self.crawler.stats.inc_value("pacer/answers_from_spool")
            not_made(self.crawler.spider, request)  # paid for by the crawl that bought it
            headers = info.get("headers") or {}
            cls = responsetypes.from_args(headers=headers, url=info.get("url"), body=body)
            return cls(url=request.url, status=int(info.get("status") or 200), headers=headers,
                       body=body, request=request, flags=["spooled"])
        spider = self.crawler.spider
        row = {k: v for k, v in purchase.items()
               if k not in ("key", "settle") and v is not None}
        row.update(purchase_key=purchase["key"], pid=os.getpid(),
                   job_id=getattr(spider, "job_id", None),
                   crawl_id=self.crawler.stats.get_value("archive/crawl_id"),
                   url=strip_query(request.url))
        if self.account.disk_full:
            self._refused(spider, request, self.account.refuse(
                row, "the disk is full, so nothing more is bought"))
        earlier = self.account.earlier_open(purchase["key"], purchase["what"],
                                            getattr(spider, "rebuy", False))
        if earlier:
            why, open_ = earlier
            self.crawler.stats.inc_value("pacer/not_bought_twice")
            logger.warning("Not buying %s again: %s.%s", purchase.get("description")
                           or purchase["key"], why, " Check the account's billing history; "
                           "-a rebuy=1 buys it again." if open_ else "")
            self._refused(spider, request, self.account.refuse(row, why, open_))
        # written by LedgerDownloadHandler as the request is handed to the HTTP
        # client, not here: it may wait in its download slot's queue first, and a
        # crawl killed then has not asked PACER for anything
        request.meta["ledger_row"] = row
        request.meta.pop("ledger_id", None)
        return None

    @staticmethod
    def _refused(spider, request, exc: PurchaseRefused):
        """A purchase refused before it was sent: not spent after all."""
        not_made(spider, request)
        raise exc

    # -- the steps, from the download handler and the signals --
    def starting(self, request) -> None:
        """The purchase is handed to the HTTP client: its ``started`` row."""
        row = request.meta.pop("ledger_row", None)
        if row is not None:
            try:
                request.meta["ledger_id"] = self.account.start(row)
            except PurchaseRefused as exc:
                self._refused(self.crawler.spider, request, exc)

    def leaving(self, request) -> None:
        """Connected to PACER; the request's bytes are written next: ``sent``."""
        ledger_id = request.meta.get("ledger_id")
        if ledger_id is not None and self.account.state(ledger_id) == "started":
            if not self.account.mark_sent(ledger_id):  # the disk is full: it must not go
                self.account.record(ledger_id, "not_billed",
                                    message="not sent: the disk is full")
                request.meta.pop("ledger_id", None)
                self._refused(self.crawler.spider, request, self.account.refuse(
                    dict(request.meta["purchase"]), "the disk is full, so nothing more is bought"))

    def headers_received(self, headers, body_length, request, spider=None, **kwargs):
        """PACER's answer began to arrive: it billed what it is serving."""
        purchase, ledger_id = request.meta.get("purchase"), request.meta.get("ledger_id")
        if not purchase or ledger_id is None or request.meta.get("spooled"):
            return
        if self.account.state(ledger_id) not in ("started", "sent"):
            return
        if purchase.get("settle") == "pdf" and _is_html_type(headers):
            return  # an error or login page, not the document: process_response settles it
        fields = {}
        if purchase["what"] in REPORTS and body_length and body_length > 0:
            fields["cost"] = dollars(report_cost_cents(body_length, purchase["what"]))
        self.account.record(ledger_id, "answered", **fields)

    async def process_response(self, request, response):
        purchase = request.meta.get("purchase")
        ledger_id = request.meta.get("ledger_id")
        if not purchase:
            return response
        if "spooled" in response.flags:  # bought, and settled, by an earlier crawl
            return response
        if ledger_id is None:
            return response
        if self.account.state(ledger_id) == "started":  # the pool's hook did not run
            _hook_missed(ledger_id)
        if response.status >= 400:
            self.account.record(ledger_id, "not_billed",
                                message=f"PACER answered HTTP {response.status}")
            request.meta.pop("ledger_id", None)  # settled; a retry is a new attempt
            return response
        if purchase.get("settle") == "pdf" and is_web_page(response):
            self._settle_direct(purchase, ledger_id, response, kept=False)
            return response
        kept = await self.account.keep(purchase["key"], response, ledger_id)
        if purchase.get("settle"):
            self._settle_direct(purchase, ledger_id, response, kept=kept)
        else:  # the callback settles it, with the figure on PACER's receipt
            self.account.record(ledger_id, "answered", answer_kept=1 if kept else None)
        return response

    def _settle_direct(self, purchase, ledger_id, response, kept: bool) -> None:
        if ledger_id is None:
            return
        billed = 200 <= response.status < 300 and not (
            purchase["settle"] == "pdf" and is_web_page(response))
        if billed:
            pacer_cost = purchase.get("pacer_cost")
            status = "free" if _is_free(pacer_cost) else "charged"
            self.account.record(ledger_id, status, pacer_cost=pacer_cost,
                                cost=purchase.get("cost"), answer_kept=1 if kept else None)
        else:
            self.account.record(ledger_id, "not_billed",
                                message="PACER's answer was not the document (an error or "
                                        "login page), which it does not bill")
            self.account.stored(purchase["key"])  # nothing of it to keep

    def process_exception(self, request, exception):
        purchase, ledger_id = request.meta.get("purchase"), request.meta.get("ledger_id")
        if not purchase or ledger_id is None or request.meta.get("spooled"):
            return None
        why = f"{type(exception).__name__}: {exception}"
        state = self.account.state(ledger_id)
        request.meta.pop("ledger_id", None)
        if state == "started":  # it never left: PACER did not see it; a retry may go
            self.account.record(ledger_id, "not_billed",
                                message=f"the request never reached PACER: {why}")
            return None
        if state == "answered":
            self.account.record(ledger_id, "free" if _is_free(purchase.get("pacer_cost"))
                                else "charged", answer_kept=0,
                                pacer_cost=purchase.get("pacer_cost"),
                                message=f"PACER began to answer (and billed it), then the "
                                        f"transfer broke off ({why}): bought but not stored")
        elif state in ("sent", None):
            self.account.record(ledger_id, "unknown",
                                message=f"the request reached PACER and no answer came ({why}): "
                                        "PACER may have billed it")
        else:
            return None  # settled already
        request.meta["dont_retry"] = True  # a retry could buy it twice
        return None


def not_made(spider, request) -> None:
    """Tell the spider a purchase it counted against its budget was not made."""
    refund = getattr(spider, "purchase_not_made", None)
    if refund is not None:
        refund(request)


_HOOK_WARNED = []


def _hook_missed(ledger_id) -> None:
    if not _HOOK_WARNED:
        _HOOK_WARNED.append(ledger_id)
        logger.error("A PACER purchase (pacer_charges row %s) was answered before its 'sent' "
                     "step was recorded: LedgerDownloadHandler's connection hook does not work "
                     "with this Scrapy or Twisted. Purchases are then recorded as sent when "
                     "started.", ledger_id)


# --- the download handler ---------------------------------------------------------

_LEAVING: contextvars.ContextVar = contextvars.ContextVar("pacer_purchase_leaving", default=None)


class _PurchasePool(HTTPConnectionPool):
    """Scrapy's connection pool, except that a purchase (``_LEAVING`` set by
    LedgerDownloadHandler) always opens a new connection, and its ``sent``
    step is recorded once connected, just before its bytes are written: a
    kept-alive connection the server may be closing would leave it unknown
    whether PACER got it."""

    def getConnection(self, key, endpoint):
        leaving = _LEAVING.get()
        if leaving is None:
            return super().getConnection(key, endpoint)
        _LEAVING.set(None)

        def connected(proto):
            try:
                leaving()
            except BaseException:
                proto.transport.loseConnection()
                raise
            return proto

        return self._newConnection(key, endpoint).addCallback(connected)


class LedgerDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP handler, which records a purchase's ``started`` step as
    it takes the request, and its ``sent`` step once connected to PACER (the
    moments only the handler and its connection pool see)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        pool = getattr(self, "_pool", None)
        self._hooked = isinstance(pool, HTTPConnectionPool) and hasattr(pool, "_newConnection")
        if self._hooked:
            hooked = _PurchasePool(pool._reactor, persistent=pool.persistent)
            hooked.maxPersistentPerHost = pool.maxPersistentPerHost
            hooked.cachedConnectionTimeout = pool.cachedConnectionTimeout
            hooked.retryAutomatically = pool.retryAutomatically
            hooked._factory = pool._factory
            self._pool = hooked
        else:
            logger.warning("LedgerDownloadHandler cannot see the moment a PACER purchase leaves "
                           "with this Scrapy (no connection pool to hook): purchases are "
                           "recorded as sent when started, and one a killed crawl left in "
                           "flight stays unknown")

    async def download_request(self, request):
        ledger = None
        if request.meta.get("ledger_row") is not None:
            ledger = _ledger_middleware(self._crawler)
        if ledger is None:
            return await super().download_request(request)
        ledger.starting(request)
        if not self._hooked:  # no way to see the moment: recorded as sent now
            ledger.leaving(request)
            return await super().download_request(request)
        token = _LEAVING.set(lambda: ledger.leaving(request))
        try:
            return await super().download_request(request)
        finally:
            _LEAVING.reset(token)


def _ledger_middleware(crawler):
    for mw in crawler.engine.downloader.middleware.middlewares:
        if isinstance(mw, PurchaseLedgerMiddleware):
            return mw
    return None

