"""The CM/ECF side of the court of appeals spider (pacer_appellate): the
docket from TransportRoom's CaseSummary.jsp and the documents behind their
Download Confirmation pages (``docs1/<dls_id>``), bought by submitting that
page's form (``ShowDoc``).

A mixin of PacerAppellateSpider: it uses the spider's PACER session and
documents (docket_spider.pacer) and its ``docket_item``, ``guid_sources_tried``
and ``how_to_find_the_guid``.
"""
from __future__ import annotations

from urllib.parse import urlencode

import parsers
from docket_spider.pacer.acms_sign_in import ACMS_COURTS
from docket_spider.pacer.documents import us_date
from docket_spider.pacer.fees import cents, fmt, report_cost_cents
from parsers import confirmation


class CmecfAppellateMixin:
    """CM/ECF appellate: the docket report and its documents."""

    # --- CM/ECF appellate ---------------------------------------------------------
    def cmecf_request(self, decision):
        params = {"servlet": "CaseSummary.jsp", "caseNum": self.docket_number,
                  "incDktEntries": "Y", "incOrigDkt": "Y", "incPtyAty": "Y",
                  "fullDocketReport": "Y", "actionType": "Run Docket Report"}
        archived = str((self.last or {}).get("date_filed") or "")[:10]
        if self.cl_last_date and self.cl_last_date > archived and not self.full:
            params["dateFrom"] = us_date(self.cl_last_date)
            self.logger.info("CourtListener had entries of %s up to %s: asking PACER only for "
                             "newer ones", self.docket_number, self.cl_last_date)
        elif archived and not self.full:
            params["dateFrom"] = us_date(archived)
            self.logger.info("The archive has %s entries of %s (last filed %s): asking only for "
                             "newer ones (-a full=1 asks for everything)", self.last["entries"],
                             self.known_docket["id"], self.last["date_filed"])
        url = self.ecf_url(self.court, "n/beam/servlet/TransportRoom?" + urlencode(params))
        self.logger.info("Buying the docket of %s %s", self.court, self.docket_number)
        span = params.get("dateFrom", "all").replace("/", "-")  # the range is part of the purchase
        purchase = self.purchase(f"docket/{self.docket_number}/from-{span}", "appellate_docket",
                                 decision,
                                 docket_number=self.docket_number,
                                 description=f"docket of {self.court} {self.docket_number}")
        return self.pacer_request(url, self.parse_cmecf,
                                  meta={"decision": decision, "purchase": purchase})

    def parse_cmecf(self, response):
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        decision = response.meta["decision"]
        text = parsers.decode_page(response.body)
        try:
            record = parsers.parse("appellate", text, self.court)
        except parsers.ParseError as exc:
            self.budget.settle(decision, None)
            yield from self.not_billed(response, f"not a docket: {exc}")
            message = f"CM/ECF has no docket {self.docket_number} in {self.court} ({exc})."
            if self.court in ACMS_COURTS:
                message += (" Cases opened since 2023-10 are in ACMS, which finds a case by its "
                            f"GUID only, and no GUID is known ({self.guid_sources_tried()}). "
                            + self.how_to_find_the_guid())
            self.fail(message)
            return
        yield from self.charged_report(decision, response, "appellate_docket", text)
        self.pacer_case_id = record.get("pacer_case_id") or self.pacer_case_id
        yield from self.docket_item(record)
        if self.want_documents and not self.use_acms:
            yield from self.documents_phase(record["docket_number"],
                                            record.get("docket_entries") or [])

    # --- CM/ECF appellate documents ---------------------------------------------------
    def document_request(self, ctx):
        return self.pacer_request(self.ecf_url(self.court, f"docs1/{ctx['pacer_doc_id']}"),
                                  self.parse_download_confirmation, meta={"doc": ctx})

    def parse_download_confirmation(self, response):
        """The Download Confirmation page: its receipt prices the document, its
        form (servlet=ShowDoc, dls_id, ...) buys it."""
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        ctx = response.meta["doc"]
        receipt, text = self.read_confirmation(response)
        if receipt is None:
            self.logger.warning("Document %s (%s): PACER answered no Download Confirmation page "
                                "(HTTP %s)", ctx["document_number"], ctx["pacer_doc_id"],
                                response.status)
            return
        yield from self.buy_document(response, ctx, receipt, text)

    def charged_report(self, decision, response, what, text):
        estimate = report_cost_cents(len(response.body), what)
        receipt = confirmation.receipt(text) or {}  # none: the fee rules' figure
        pages = receipt.get("billable_pages")
        pacer_cost = float(receipt["cost"]) if receipt.get("cost") is not None else None
        paid = cents(pacer_cost) if pacer_cost is not None else estimate
        # an answer kept from a killed crawl (docket_spider.pacer.purchases) was paid for then
        self.budget.settle(decision, 0 if response.meta.get("spooled") else paid)
        self.logger.info("Docket of %s %s: %s bytes, %s", self.court, self.docket_number,
                         len(response.body), fmt(estimate))
        yield self.charge_item(self.court, what, "charged", cost_c=estimate, pages=pages,
                               pacer_cost=pacer_cost, docket_number=self.docket_number,
                               description="docket report", url=response.url, response=response)
