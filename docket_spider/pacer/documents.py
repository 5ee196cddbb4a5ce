"""Buying a case's documents on PACER (PacerDocumentsMixin): the candidates
the archive lacks, CourtListener's copies first (docket_spider.pacer.free_first),
then the confirmation page, the budget, and the purchase the files pipeline makes.
"""
from __future__ import annotations

import datetime as _dt
import logging
import time
from typing import Optional
from urllib.parse import urlencode

import scrapy

import parsers
from docket_spider.courtlistener import pace_api_slot
from docket_spider.items import DocumentItem
from docket_spider.pacer.fees import Decision, cents
from docket_spider.pacer.free_first import CourtListenerFirstMixin, _int
from docket_spider.pacer.session import PacerSpiderMixin, courtlistener_token
from docket_spider.urls import allowed_hosts, same_origin, strip_query
from parsers import forms

logger = logging.getLogger(__name__)


def us_date(iso) -> str:
    """2020-10-23 -> 10/23/2020, as PACER's report forms want dates."""
    return _dt.date.fromisoformat(str(iso)[:10]).strftime("%m/%d/%Y")


def document_label(ctx) -> str:
    """"document 12", or "document 12 attachment 3", for logs and the ledger."""
    return f"document {ctx['document_number']}" + (
        f" attachment {ctx['attachment_number']}" if ctx.get("attachment_number") else "")


def purchase_form(response, text) -> dict:
    """``{url, fields}``: what the confirmation page's button submits (parsers.forms;
    no secret: the session is added as it is sent), posted to PACER only: a form
    posting to another host is posted to the page's own address instead.
    ParseError when the page has no form."""
    form = forms.purchase_form(text, response.url, now_ms=int(time.time() * 1000))
    url = form["action"]
    if not same_origin(url, response.url):
        logger.warning("The purchase form of %s posts to another host (%s): posting to the "
                       "page's own address instead", strip_query(response.url), strip_query(url))
        url = response.url
    return {"url": url, "fields": form["fields"]}


class PacerDocumentsMixin(CourtListenerFirstMixin, PacerSpiderMixin):
    """Buying a case's PDFs (``-a documents=1``), shared by the district and
    appellate spiders. Free first: documents the archive already holds are
    skipped, and what CourtListener's RECAP has (COURTLISTENER_TOKEN set) is
    fetched from there. The rest is asked for with ``document_request(ctx)``
    (the spider's own: district ``doc1/``, appellate ``docs1/``), whose
    confirmation page goes to :meth:`buy_document`: priced, bought only when
    the budget allows, then the purchase POST is made by the files pipeline
    (the item's ``file_request``) so the PDF is stored and extracted.

    The spider sets ``court``, ``pacer_case_id`` (or None), and calls
    ``read_document_settings`` in ``from_crawler``.
    """

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        pace_api_slot(crawler.settings)  # CourtListener calls keep its pace here too
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.read_pacer_settings(crawler.settings)
        spider.read_document_settings(crawler.settings)
        # PACER's hosts and CourtListener's, nothing else (OffsiteMiddleware)
        spider.allowed_domains = spider.pacer_hosts() + [
            h for h in allowed_hosts(spider.cl_api_url, spider.cl_storage_url)
            if h not in spider.pacer_hosts()]
        return spider

    def read_document_settings(self, settings):
        self.cl_api_url = settings.get("COURTLISTENER_API_URL").rstrip("/") + "/"
        self.cl_storage_url = settings.get("COURTLISTENER_STORAGE_URL").rstrip("/") + "/"
        self.cl_docs: dict[tuple, dict] = {}  # (pacer_doc_id, attachment) -> CourtListener RECAP document
        self.cl_taken: set[tuple] = set()  # (pacer_doc_id, attachment) already taken from CourtListener
        self.cl_last_date: Optional[str] = None  # last entry CourtListener had of the docket
        self.cl_case_id: Optional[str] = None  # its pacer_case_id there (an ACMS case: a GUID)
        self.documents_decided: set[str] = set()  # purchases decided on (bought or priced)

    def document_request(self, ctx) -> scrapy.Request:
        raise NotImplementedError

    def documents_from_archive(self, docket_number=None):
        """Without a new report: the documents of the entries the archive has."""
        return self.documents_phase(docket_number or self.docket_number, [])

    def documents_phase(self, docket_number, entries):
        """Documents not yet stored: free from CourtListener when it has them
        (COURTLISTENER_TOKEN set), otherwise priced and bought on PACER."""
        yield from self.fetch_documents(docket_number,
                                        self.document_candidates(docket_number, entries))

    def fetch_documents(self, docket_number, candidates):
        """``candidates`` (documents the archive lacks): CourtListener's copies
        first, then :meth:`document_requests` for the rest."""
        candidates = [c for c in candidates if self.cl_key(c) not in self.cl_taken]
        self.logger.info("%s documents of %s are not in the archive yet", len(candidates),
                         docket_number)
        if not candidates:
            return
        if courtlistener_token() and self.pacer_case_id:
            params = {"docket_entry__docket__court": self.court,
                      "docket_entry__docket__pacer_case_id": self.pacer_case_id,
                      "is_available": "true", "order_by": "id"}
            yield self.cl_request(self.cl_api_url + "recap-documents/?" + urlencode(params),
                                  candidates)
        else:
            yield from self.document_requests(candidates)

    def document_candidates(self, docket_number, entries) -> list[dict]:
        out: dict[str, dict] = {}
        archive = self.archive()
        for entry in entries:
            doc_id = entry.get("pacer_doc_id")
            if doc_id:
                number = entry.get("document_number")
                out.setdefault(doc_id, {
                    "docket_number": docket_number, "entry_number": number,
                    "document_number": str(number) if number else None,
                    "attachment_number": 0, "pacer_doc_id": doc_id,
                    "description": entry.get("description"),
                    "date_filed": str(entry.get("date_filed") or "")[:10] or None})
        docket = archive.find_docket(self.court, docket_number, self.pacer_case_id)
        if docket:
            for doc in archive.documents_without_file(docket["id"]):
                out.setdefault(doc["pacer_doc_id"], {
                    "docket_number": docket["docket_number"],
                    "entry_number": doc["entry_number"],
                    "document_number": doc["document_number"],
                    "attachment_number": doc["attachment_number"] or 0,
                    "pacer_doc_id": doc["pacer_doc_id"], "description": doc["description"]})
        kept = []
        for ctx in out.values():
            if archive.document_stored(self.court, pacer_doc_id=ctx["pacer_doc_id"]):
                self.crawler.stats.inc_value("pacer/documents_already_stored")
                continue
            kept.append(ctx)
        return kept

    def document_requests(self, candidates):
        for ctx in candidates:
            yield self.document_request(ctx)

    # PACER: the confirmation page, then the purchase
    def read_confirmation(self, response):
        """(receipt, text) of a purchase confirmation page; receipt None when the
        page is something else."""
        text = parsers.decode_page(response.body)
        try:
            return parsers.parse("confirmation", text, self.court), text
        except parsers.ParseError:
            return None, text

    def buy_document(self, response, ctx, receipt, text):
        pages = receipt.get("billable_pages")
        label = document_label(ctx)
        key = f"doc/{ctx['pacer_doc_id']}/{ctx.get('attachment_number') or 0}"
        if key in self.documents_decided:  # reached twice (its entry, its filing's menu)
            return
        self.documents_decided.add(key)
        if receipt.get("cost") is not None and cents(receipt["cost"]) == 0:
            decision = Decision(True, "buy", 0, "free on PACER")  # opinions cost nothing
        else:
            decision = self.budget.decide("document", pages)
        common = dict(docket_number=ctx["docket_number"], pacer_case_id=self.pacer_case_id,
                      document_id=ctx["pacer_doc_id"], pages=pages, url=response.url)
        if not decision.buy:
            self.log_decision(decision, label, f"({pages} pages)")
            yield self.charge_item(self.court, "document", decision.status,
                                   cost_c=decision.worst_cents or 0,
                                   description=f"{label}; {decision.reason}", **common)
            return
        try:
            form = purchase_form(response, text)
        except parsers.ParseError as exc:
            self.budget.settle(decision, None)
            self.missed("%s of %s: PACER's confirmation page has no purchase form (%s): not bought",
                        label, ctx["docket_number"], exc)
            return
        cost_c = decision.worst_cents or 0
        pacer_cost = receipt.get("cost")
        counted_c = cents(pacer_cost) if pacer_cost is not None else cost_c
        self.budget.settle(decision, counted_c)
        free = pacer_cost is not None and cents(pacer_cost) == 0
        # The ledger row is written as the purchase is sent (started) and when
        # the PDF arrives (charged or free), by docket_spider.pacer.purchases.
        counted = "free" if free else "charged"
        self.charges_count[counted] = self.charges_count.get(counted, 0) + 1
        purchase = self.purchase(
            key, "document", decision,
            settle="pdf", pacer_cost=float(pacer_cost) if pacer_cost is not None else None,
            budget_cents=counted_c, counted_as=counted, pages=pages,
            docket_number=ctx["docket_number"], pacer_case_id=self.pacer_case_id,
            document_id=ctx["pacer_doc_id"],
            description=label + (" (free on PACER: an opinion)" if free else ""))
        # the files pipeline POSTs the form in the session (no cookie in the item)
        yield self.document_item_for(ctx, "pacer", response.url, page_count=pages, file_request={
            "url": form["url"], "formdata": form["fields"],
            "meta": {"dont_cache": True, "pacer_session": True, "dont_merge_cookies": True,
                     "expect_pdf": True, "purchase": purchase}})

    def document_item_for(self, ctx, source, url, *, page_count=None, default_description=None,
                          file_request=None):
        """The DocumentItem of a document ``ctx`` (a candidate) fetched from ``url``."""
        attachment = ctx.get("attachment_number") or 0
        return DocumentItem(
            source=source, court_id=self.court, docket_number=ctx["docket_number"],
            pacer_case_id=self.pacer_case_id, entry_number=_int(ctx.get("entry_number")),
            document_number=ctx.get("document_number"), attachment_number=attachment,
            document_type=2 if attachment else 1,
            description=ctx.get("description") or default_description,
            pacer_doc_id=ctx["pacer_doc_id"],
            is_available=True, page_count=page_count, file_urls=[url],
            file_request=file_request or {})
