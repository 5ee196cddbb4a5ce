"""PACER court of appeals docket: CM/ECF (TransportRoom CaseSummary) or ACMS.

    export PACER_USERNAME=... PACER_PASSWORD=...
    scrapy crawl pacer_appellate                                  # ca9 20-16908, priced only
    scrapy crawl pacer_appellate -a max_cost=3.00                 # buy, never over $3.00
    scrapy crawl pacer_appellate -a docket_number=23-2412 -a acms_case_id=<case GUID> -a max_cost=3
    scrapy crawl pacer_appellate -a documents=1 -a max_cost=10    # and the PDFs (CM/ECF cases)

Cases opened since 2023-10-01 in the Ninth Circuit live in ACMS: a JSON API
behind the PACER login and a SAML hand-off whose page carries the bearer
token. ACMS finds a case by its GUID only (the id in the case's ACMS
address): ``-a acms_case_id=<GUID>`` goes there directly. Without
``-a max_cost=`` nothing is bought.

``-a documents=1`` (CM/ECF cases): each entry's document not yet in the
archive is priced on its Download Confirmation page (``docs1/<dls_id>``) and
bought, within the budget, by submitting that page's form (``ShowDoc``).
"""
from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import scrapy

import parsers
from archive import db as adb
from docket_spider.items import ParsedDocketItem
from docket_spider.pacer import PacerDocumentsMixin, cents, fmt, report_cost_cents

DEFAULT = {"court": "ca9", "docket_number": "20-16908"}
TOKEN = re.compile(r"""AuthToken["']?\s*(?:[:=]|value=)\s*["']([^"']+)["']""", re.I)
TOKEN_INPUT = re.compile(r"""name=["']AuthToken["'][^>]*value=["']([^"']+)["']""", re.I)
VIEW_MODEL = re.compile(r"showDocViewModel\s*=\s*(\{.*?\})\s*;", re.S)
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class PacerAppellateSpider(PacerDocumentsMixin, scrapy.Spider):
    name = "pacer_appellate"

    def __init__(self, court=None, docket_number=None, max_cost=None, documents=None,
                 full=None, acms_case_id=None, **kwargs):
        super().__init__(**kwargs)
        self.court = court or DEFAULT["court"]
        if not docket_number:
            if self.court != DEFAULT["court"]:
                raise ValueError(f"no default case in court {self.court!r}; give -a docket_number=")
            docket_number = DEFAULT["docket_number"]
        self.docket_number = docket_number.strip()
        self.use_acms = bool(acms_case_id)
        self.acms_case_id = acms_case_id
        self.setup_pacer(max_cost, documents, full, kwargs)
        self.crawl_args = {"court": self.court, "docket_number": self.docket_number,
                           "max_cost": max_cost, "documents": documents, "full": full,
                           "acms_case_id": acms_case_id}
        self.pacer_case_id = None  # CM/ECF's own id of the case, read from its docket
        self.bearer = None
        self.acms_contact = {"csoId": None, "contactType": "Pacer"}

    async def start(self):
        if self.acms_case_id and not GUID.match(self.acms_case_id):
            self.arg_error = (f"-a acms_case_id={self.acms_case_id!r} is not an ACMS case GUID "
                              "(like f9f5230d-a95c-ee11-a81c-001dd80ad0b3)")
        if not self.have_credentials():
            return
        if self.want_documents and self.use_acms:
            self.logger.warning("pacer_appellate does not buy ACMS documents yet: docket only "
                                "(-a documents=1 is ignored for ACMS cases)")
        yield self.login_request(self.first_requests)

    def first_requests(self):
        self.known_docket = self.last = None
        db = adb.open_db(self.db_path)
        try:
            self.known_docket = adb.find_docket(db, self.court, self.docket_number)
            if self.known_docket:
                self.last = adb.last_entry(db, self.known_docket["id"])
                self.pacer_case_id = self.known_docket.get("pacer_case_id") or None
        finally:
            db.conn.close()
        what = "acms_docket" if self.use_acms else "appellate_docket"
        decision = self.budget.decide(what)
        label = f"{self.court} {self.docket_number}"
        if not decision.buy:
            self.log_decision(decision, "the docket of", label)
            yield self.charge_item(self.court, what, decision.status,
                                   cost_c=decision.worst_cents or 0,
                                   docket_number=self.docket_number,
                                   description=f"docket report (worst case); {decision.reason}")
            if self.want_documents and not self.use_acms:
                yield from self.documents_from_archive()
            return
        if self.use_acms:
            yield from self.acms_start(decision)
        else:
            yield self.cmecf_request(decision)

    # --- CM/ECF appellate ---------------------------------------------------------
    def cmecf_request(self, decision):
        params = {"servlet": "CaseSummary.jsp", "caseNum": self.docket_number,
                  "incDktEntries": "Y", "incOrigDkt": "Y", "incPtyAty": "Y",
                  "fullDocketReport": "Y", "actionType": "Run Docket Report"}
        if self.last and self.last.get("date_filed") and not self.full:
            y, m, d = str(self.last["date_filed"])[:10].split("-")
            params["dateFrom"] = f"{m}/{d}/{y}"
            self.logger.info("The archive has %s entries of %s (last filed %s): asking only for "
                             "newer ones (-a full=1 asks for everything)", self.last["entries"],
                             self.known_docket["id"], self.last["date_filed"])
        url = self.ecf_url(self.court, "n/beam/servlet/TransportRoom?" + urlencode(params))
        self.logger.info("Buying the docket of %s %s", self.court, self.docket_number)
        return self.pacer_request(url, self.parse_cmecf, meta={"decision": decision})

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
            if not self.acms_case_id:
                self.fail(f"CM/ECF has no docket {self.docket_number} in {self.court} ({exc}). "
                          "Cases opened since 2023-10 are in ACMS: give -a acms_case_id=<the case's "
                          "GUID, as in its ACMS address>.", close=False)
            else:
                self.logger.info("CM/ECF has no docket %s (%s): trying ACMS", self.docket_number, exc)
                self.use_acms = True
                decision = self.budget.decide("acms_docket")
                if decision.buy:
                    yield from self.acms_start(decision)
                else:
                    self.log_decision(decision, "the ACMS docket of", self.docket_number)
                    yield self.charge_item(self.court, "acms_docket", decision.status,
                                           cost_c=decision.worst_cents or 0,
                                           docket_number=self.docket_number,
                                           description=f"docket report (worst case); {decision.reason}")
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
        pacer_cost = pages = None
        try:
            receipt = parsers.parse("confirmation", text, self.court)
            pages = receipt.get("billable_pages")
            pacer_cost = float(receipt["cost"]) if receipt.get("cost") is not None else None
        except parsers.ParseError:
            pass
        self.budget.settle(decision, cents(pacer_cost) if pacer_cost is not None else estimate)
        self.logger.info("Docket of %s %s: %s bytes, %s", self.court, self.docket_number,
                         len(response.body), fmt(estimate))
        yield self.charge_item(self.court, what, "charged", cost_c=estimate, pages=pages,
                               pacer_cost=pacer_cost, docket_number=self.docket_number,
                               description="docket report", url=response.url)

    def docket_item(self, record):
        record["court_id"] = record.get("court_id") or self.court
        record["docket_number"] = record.get("docket_number") or self.docket_number
        entries = record.get("docket_entries") or []
        self.crawler.stats.inc_value("pacer/entries", len(entries))
        self.logger.info("%s %s: %s entries, %s parties from PACER", self.court,
                         record["docket_number"], len(entries), len(record.get("parties") or []))
        yield ParsedDocketItem(source="pacer", court_id=self.court, record=record)

    # --- ACMS -----------------------------------------------------------------
    def acms_start(self, decision):
        url = self.acms_template.format(court=self.court)
        yield self.pacer_request(url, self.parse_acms_landing, meta={"decision": decision})

    def parse_acms_landing(self, response):
        """The SAML hand-off: submit the SAMLResponse form to /Saml2/Acs if
        there is one, then read the AuthToken the page carries."""
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        token = self.find_token(response.text)
        if token:
            self.bearer = token
            model = VIEW_MODEL.search(response.text)
            if model:
                try:
                    data = json.loads(model.group(1))
                    self.acms_contact = {"csoId": data.get("CsoId"),
                                         "contactType": data.get("ContactType")}
                except ValueError:
                    pass
            yield from self.acms_case(response.meta["decision"])
            return
        if response.xpath("//form[.//input[@name='SAMLResponse']]"):
            yield scrapy.FormRequest.from_response(
                response, formxpath="//form[.//input[@name='SAMLResponse']]",
                callback=self.parse_acms_landing, errback=self.request_failed,
                headers=self.with_session(), dont_filter=True,
                meta={"dont_cache": True, "dont_merge_cookies": True, "pacer_session": True,
                      "decision": response.meta["decision"],
                      "saml_done": True})
            return
        if not response.meta.get("saml_done"):
            yield self.pacer_request(response.urljoin("/Saml2/Acs"), self.parse_acms_landing,
                                     meta={"decision": response.meta["decision"],
                                           "saml_done": True})
            return
        self.budget.settle(response.meta["decision"], None)
        self.fail("ACMS did not hand over a session token after the PACER login "
                  "(no AuthToken on the SAML page).", close=False)

    @staticmethod
    def find_token(text):
        for pattern in (TOKEN_INPUT, TOKEN):
            m = pattern.search(text or "")
            if m:
                return m.group(1)
        try:
            data = json.loads(text)
            if isinstance(data, dict):
                return data.get("AuthToken") or data.get("authToken")
        except ValueError:
            pass
        return None

    def api_url(self, path):
        return self.acms_api_template.format(court=self.court).rstrip("/") + "/" + path

    def api_request(self, path, callback, *, method="GET", data=None, meta=None):
        headers = {"Accept": "application/json"}  # the bearer token: credential_headers
        body = None
        if data is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(data)
        return self.pacer_request(self.api_url(path), callback, method=method, body=body,
                                  headers=headers, meta={**(meta or {}), "acms_bearer": True})

    def acms_case(self, decision):
        if not (self.acms_case_id and GUID.match(self.acms_case_id)):
            self.budget.settle(decision, None)
            self.fail("ACMS finds a case by its GUID only: give -a acms_case_id=<GUID> (the id in "
                      f"the case's ACMS address); got {self.acms_case_id!r}.", close=False)
            return
        yield self.api_request(f"CaseDetailsByCaseId/{self.acms_case_id}",
                               self.parse_acms_details, meta={"decision": decision})

    def parse_acms_details(self, response):
        decision = response.meta["decision"]
        if response.status in (401, 403):
            self.budget.settle(decision, None)
            self.fail("ACMS refused the session token (HTTP %s)." % response.status, close=False)
            return
        try:
            details = json.loads(response.text)
        except ValueError:
            details = None
        if not isinstance(details, dict) or response.status >= 400:
            self.budget.settle(decision, None)
            self.fail(f"ACMS has no case {self.docket_number} in {self.court}.", close=False)
            return
        case = details.get("caseDetails") or details
        case_id = case.get("caseId") or self.acms_case_id
        yield self.api_request(f"DocketEntriesByCaseId/{case_id}", self.parse_acms_entries,
                               method="POST", data=self.acms_contact,
                               meta={"decision": decision, "details": case})

    def parse_acms_entries(self, response):
        decision = response.meta["decision"]
        try:
            info = json.loads(response.text)
        except ValueError:
            info = None
        if not isinstance(info, dict) or response.status >= 400:
            self.budget.settle(decision, None)
            self.fail(f"ACMS did not return the entries of {self.docket_number} "
                      f"(HTTP {response.status}).", close=False)
            return
        info = info.get("docketInfo") or info
        text = json.dumps({"caseDetails": response.meta["details"], "docketInfo": info})
        nbytes = info.get("byteCount") or len(response.body)
        estimate = report_cost_cents(int(nbytes), "acms_docket")
        self.budget.settle(decision, estimate)
        yield self.charge_item(self.court, "acms_docket", "charged", cost_c=estimate,
                               docket_number=self.docket_number,
                               description=f"ACMS docket ({nbytes} bytes)", url=response.url)
        try:
            record = parsers.parse("acms", text, self.court)
        except parsers.ParseError as exc:
            self.fail(f"ACMS's answer for {self.docket_number} could not be read: {exc}",
                      close=False)
            return
        yield from self.docket_item(record)
