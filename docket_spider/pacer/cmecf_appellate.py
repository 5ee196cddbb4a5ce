"""CM/ECF appellate, the courts of appeals' older system, as a part of the
appellate spider (``spider.cmecf``, docket_spider/spiders/pacer_appellate.py):
the docket from TransportRoom's CaseSummary.jsp, and the documents behind
their Download Confirmation pages (``docs1/<dls_id>``), bought by submitting
that page's form (``ShowDoc``). It rides on the spider's PACER session; the
spider calls ``docket(decision)`` and ``document(ctx)``.
"""
from __future__ import annotations

from urllib.parse import urlencode

import parsers
from docket_spider.pacer.acms_sign_in import ACMS_COURTS
from docket_spider.pacer.documents import us_date
from archive.fees import cents, fmt, report_cost_cents
from parsers import confirmation


class CmecfAppellate:
    """CM/ECF appellate: the docket report and its documents."""

    name = "cmecf"  # where the spider holds it
    what = "appellate_docket"  # what its docket is, as a purchase

    def __init__(self, spider):
        self.spider = spider

    @property
    def logger(self):
        return self.spider.logger

    def docket(self, decision):
        """The docket report (only entries newer than the archive's or
        CourtListener's, unless -a full=1), bought within ``decision``."""
        spider = self.spider
        params = {"servlet": "CaseSummary.jsp", "caseNum": spider.docket_number,
                  "incDktEntries": "Y", "incOrigDkt": "Y", "incPtyAty": "Y",
                  "fullDocketReport": "Y", "actionType": "Run Docket Report"}
        archived = str((spider.last or {}).get("date_filed") or "")[:10]
        cl_last = spider.free.last_date
        if cl_last and cl_last > archived and not spider.full:
            params["dateFrom"] = us_date(cl_last)
            self.logger.info("CourtListener had entries of %s up to %s: asking PACER only for "
                             "newer ones", spider.docket_number, cl_last)
        elif archived and not spider.full:
            params["dateFrom"] = us_date(archived)
            self.logger.info("The archive has %s entries of %s (last filed %s): asking only for "
                             "newer ones (-a full=1 asks for everything)", spider.last["entries"],
                             spider.known_docket["id"], spider.last["date_filed"])
        url = spider.ecf_url(spider.court, "n/beam/servlet/TransportRoom?" + urlencode(params))
        self.logger.info("Buying the docket of %s %s", spider.court, spider.docket_number)
        span = params.get("dateFrom", "all").replace("/", "-")  # the range is part of the purchase
        purchase = spider.purchase(f"docket/{spider.docket_number}/from-{span}", self.what,
                                   decision, docket_number=spider.docket_number,
                                   description=f"docket of {spider.court} {spider.docket_number}")
        yield spider.pacer_request(url, self.parse_docket,
                                   meta={"decision": decision, "purchase": purchase})

    def parse_docket(self, response):
        spider = self.spider
        if spider.needs_login(response):
            yield from spider.relogin(response)
            return
        decision = response.meta["decision"]
        text = parsers.decode_page(response.body)
        try:
            record = parsers.parse("appellate", text, spider.court)
        except parsers.ParseError as exc:
            spider.budget.settle(decision, None)
            yield from spider.not_billed(response, f"not a docket: {exc}")
            message = f"CM/ECF has no docket {spider.docket_number} in {spider.court} ({exc})."
            if spider.court in ACMS_COURTS:
                message += (" Cases opened since 2023-10 are in ACMS, which finds a case by its "
                            f"GUID only, and no GUID is known ({spider.guid_sources_tried()}). "
                            + spider.how_to_find_the_guid())
            spider.fail(message)
            return
        yield from self.charged(decision, response, text)
        spider.pacer_case_id = record.get("pacer_case_id") or spider.pacer_case_id
        yield from spider.docket_item(record)
        if spider.want_documents:
            yield from spider.documents_phase(record["docket_number"],
                                              record.get("docket_entries") or [])

    def charged(self, decision, response, text):
        """The report's charge: PACER's receipt on it, else the fee rules' figure."""
        spider = self.spider
        estimate = report_cost_cents(len(response.body), self.what)
        receipt = confirmation.receipt(text) or {}
        pages = receipt.get("billable_pages")
        pacer_cost = float(receipt["cost"]) if receipt.get("cost") is not None else None
        paid = cents(pacer_cost) if pacer_cost is not None else estimate
        # an answer kept from a killed crawl (docket_spider.pacer.purchases) was paid for then
        spider.budget.settle(decision, 0 if response.meta.get("spooled") else paid)
        self.logger.info("Docket of %s %s: %s bytes, %s", spider.court, spider.docket_number,
                         len(response.body), fmt(estimate))
        yield spider.charge_item(spider.court, self.what, "charged", cost_c=estimate, pages=pages,
                                 pacer_cost=pacer_cost, docket_number=spider.docket_number,
                                 description="docket report", url=response.url, response=response)

    # --- documents ---------------------------------------------------------------------
    def document(self, ctx):
        """A document's Download Confirmation page, then (the spider's
        buy_document) its purchase."""
        spider = self.spider
        yield spider.pacer_request(spider.ecf_url(spider.court, f"docs1/{ctx['pacer_doc_id']}"),
                                   self.parse_download_confirmation, meta={"doc": ctx})

    def parse_download_confirmation(self, response):
        """The Download Confirmation page: its receipt prices the document, its
        form (servlet=ShowDoc, dls_id, ...) buys it."""
        spider = self.spider
        if spider.needs_login(response):
            yield from spider.relogin(response)
            return
        ctx = response.meta["doc"]
        receipt, text = spider.read_confirmation(response)
        if receipt is None:
            self.logger.warning("Document %s (%s): PACER answered no Download Confirmation page "
                                "(HTTP %s)", ctx["document_number"], ctx["pacer_doc_id"],
                                response.status)
            return
        yield from spider.buy_document(response, ctx, receipt, text)
