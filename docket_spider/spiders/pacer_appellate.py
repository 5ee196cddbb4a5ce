"""PACER court of appeals docket: CM/ECF (TransportRoom CaseSummary) or ACMS.

    export PACER_USERNAME=... PACER_PASSWORD=...
    scrapy crawl pacer_appellate                                  # ca9 20-16908, priced only
    scrapy crawl pacer_appellate -a max_cost=3.00                 # buy, never over $3.00
    scrapy crawl pacer_appellate -a docket_number=23-2412 -a acms_case_id=<case GUID> -a max_cost=3
    scrapy crawl pacer_appellate -a documents=1 -a max_cost=10    # and the PDFs (CM/ECF cases)

Cases opened since 2023-10-01 in the Ninth Circuit (and the Second
Circuit's) live in ACMS: a JSON API behind the PACER login. Signing in (the
court's 2025 front end): PACER's login, then ACMS's ``/`` answers a SAML form
that is posted to ``/Saml2/Acs``, which sets ACMS's session cookies
(``.AspNetCore.saml2``, kept in one cookie jar per court); the API's bearer
token and the user's CsoId then come from ``/Home/IndexContent``
(docket_spider/acms.py; parsers/acms_session.py reads the pages). A token
that expires (the API answers 401) is read again from there, once per expiry.

ACMS finds a case by its GUID only. For a ca2/ca9 docket number the GUID is
taken from ``-a acms_case_id=<GUID>``, else from the archive (an earlier
crawl), else from CourtListener (an ACMS docket's pacer_case_id is its GUID);
with a GUID the docket comes from ACMS, without one from CM/ECF, and the log
says which. Without ``-a max_cost=`` nothing is bought.

``-a documents=1`` (CM/ECF cases): each entry's document not yet in the
archive is priced on its Download Confirmation page (``docs1/<dls_id>``) and
bought, within the budget, by submitting that page's form (``ShowDoc``).
"""
from __future__ import annotations

import asyncio
import functools
import json
import re
from urllib.parse import quote, urlencode

import scrapy

import parsers
from docket_spider.acms import ACMS_COURTS, AcmsSessionMixin
from docket_spider.outcome import missed
from archive import db as adb
from docket_spider.items import ParsedDocketItem
from docket_spider.middlewares import allowed_hosts
from docket_spider.pacer import (
    PacerDocumentsMixin, _int, cents, document_label, fmt, report_cost_cents, us_date,
)
from parsers import acms_api

DEFAULT = {"court": "ca9", "docket_number": "20-16908"}
CA9_CDN_HOST = "cdn.ca9.uscourts.gov"  # where the decisions feeds' PDFs are
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class PacerAppellateSpider(AcmsSessionMixin, PacerDocumentsMixin, scrapy.Spider):
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
        self.setup_acms()
        self.acms_guid_from = "-a acms_case_id" if acms_case_id else None
        self.acms_files: set[str] = set()  # GetMergedFile URLs bought this crawl
        self.acms_candidates: list[dict] = []
        self.acms_listings = 0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.acms_poll_interval = crawler.settings.getfloat("ACMS_POLL_INTERVAL", 2.0)
        spider.acms_poll_max = crawler.settings.getint("ACMS_POLL_MAX", 60)
        spider.ca9_feeds = [u for u in (crawler.settings.get("CA9_OPINIONS_FEED_URL"),
                                        crawler.settings.get("CA9_MEMORANDA_FEED_URL")) if u]
        if spider.court == "ca9" and spider.ca9_feeds:
            spider.allowed_domains += [h for h in allowed_hosts(*spider.ca9_feeds) + [CA9_CDN_HOST]
                                       if h not in spider.allowed_domains]
        return spider

    async def start(self):
        if self.acms_case_id and not GUID.match(self.acms_case_id):
            self.arg_error = (f"-a acms_case_id={self.acms_case_id!r} is not an ACMS case GUID "
                              "(like f9f5230d-a95c-ee11-a81c-001dd80ad0b3)")
        elif self.acms_case_id and self.court not in ACMS_COURTS:
            self.arg_error = (f"-a acms_case_id: {self.court} has no ACMS (only "
                              f"{' and '.join(ACMS_COURTS)} do); its dockets are in CM/ECF")
        if not self.have_credentials():
            return
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
        archived_guid = self.acms_guid_from_archive()
        if not self.use_acms and archived_guid:
            self.acms_case_id, self.use_acms = archived_guid, True
            self.acms_guid_from = "the archive"
            self.logger.info("The archive knows %s as ACMS case %s", self.docket_number,
                             self.acms_case_id)
        if self.use_acms:  # ACMS has no date filter: CourtListener's copy would save nothing
            yield from self.docket_steps()
        else:
            yield from self.courtlistener_first("docket_steps")

    def docket_steps(self):
        if not self.use_acms and self.court in ACMS_COURTS and GUID.match(str(self.cl_case_id or "")):
            self.acms_case_id, self.use_acms = self.cl_case_id, True
            self.acms_guid_from = "CourtListener"
            self.logger.info("CourtListener knows %s as ACMS case %s", self.docket_number,
                             self.acms_case_id)
        self.log_court_system()
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

    def log_court_system(self):
        """Which court system the docket is asked of, and why."""
        if self.court not in ACMS_COURTS:
            return
        if self.use_acms:
            self.logger.info("%s %s: ACMS case %s (from %s): asking ACMS", self.court,
                             self.docket_number, self.acms_case_id, self.acms_guid_from)
        else:
            self.logger.info("%s %s: no ACMS case GUID known (%s): asking CM/ECF", self.court,
                             self.docket_number, self.guid_sources_tried())

    def guid_sources_tried(self) -> str:
        if self.asks_courtlistener_first():
            cl = "nor on CourtListener"
        elif self.full:
            cl = "CourtListener not asked with -a full=1"
        else:
            cl = "CourtListener not asked: COURTLISTENER_TOKEN is not set"
        return f"none given with -a acms_case_id, none in the archive, {cl}"

    def how_to_find_the_guid(self) -> str:
        return (f"The GUID is in the names of the case's CourtListener/RECAP files "
                f"(gov.uscourts.{self.court}.<GUID>.…, e.g. on storage.courtlistener.com or "
                f"archive.org) and in the case's ACMS address "
                f"(https://{self.court}-showdoc.azurewebsites.us/…); give it as "
                "-a acms_case_id=<GUID>.")

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
        purchase = self.purchase(f"docket/{self.docket_number}", "appellate_docket", decision,
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
            self.fail(message, close=False)
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
        paid = cents(pacer_cost) if pacer_cost is not None else estimate
        # an answer kept from a killed crawl (docket_spider.purchases) was paid for then
        self.budget.settle(decision, 0 if response.meta.get("spooled") else paid)
        self.logger.info("Docket of %s %s: %s bytes, %s", self.court, self.docket_number,
                         len(response.body), fmt(estimate))
        yield self.charge_item(self.court, what, "charged", cost_c=estimate, pages=pages,
                               pacer_cost=pacer_cost, docket_number=self.docket_number,
                               description="docket report", url=response.url, response=response)

    def docket_item(self, record):
        record["court_id"] = record.get("court_id") or self.court
        record["docket_number"] = record.get("docket_number") or self.docket_number
        entries = record.get("docket_entries") or []
        self.crawler.stats.inc_value("pacer/entries", len(entries))
        self.logger.info("%s %s: %s entries, %s parties from PACER", self.court,
                         record["docket_number"], len(entries), len(record.get("parties") or []))
        yield ParsedDocketItem(source="pacer", court_id=self.court, record=record)

    # --- ACMS (signing in and the token: docket_spider.acms.AcmsSessionMixin) ------------
    def acms_start(self, decision):
        self.acms_pending = decision
        yield from self.acms_session(functools.partial(self.acms_case, decision))

    def acms_case(self, decision):
        self.acms_pending = None  # from here each step settles the docket's decision
        if not (self.acms_case_id and GUID.match(self.acms_case_id)):
            self.budget.settle(decision, None)
            self.fail("ACMS finds a case by its GUID only: give -a acms_case_id=<GUID> (the id in "
                      f"the case's ACMS address); got {self.acms_case_id!r}.", close=False)
            return
        yield self.api_request(f"CaseDetailsByCaseId/{self.acms_case_id}",
                               self.parse_acms_details, meta={"decision": decision})

    def parse_acms_details(self, response):
        decision = response.meta["decision"]
        if self.acms_refused(response):
            yield from self.acms_token_expired(response)
            return
        if response.status == 403:
            self.budget.settle(decision, None)
            self.fail(f"ACMS refused access to case {self.acms_case_id} (HTTP 403).", close=False)
            return
        try:
            details = json.loads(response.text)
        except ValueError:
            details = None
        if not isinstance(details, dict) or response.status >= 400:
            self.budget.settle(decision, None)
            self.fail(f"ACMS has no case {self.docket_number} in {self.court}.", close=False)
            return
        case = acms_api.case_details(details)
        case_id = case.get("caseId") or self.acms_case_id
        self.pacer_case_id = case_id
        purchase = self.purchase(f"acms/{case_id}", "acms_docket", decision,
                                 docket_number=self.docket_number, pacer_case_id=case_id,
                                 description=f"ACMS docket of {self.docket_number}")
        yield self.api_request(f"DocketEntriesByCaseId/{case_id}", self.parse_acms_entries,
                               method="POST", data=self.acms_contact,
                               meta={"decision": decision, "details": case,
                                     "purchase": purchase})

    def parse_acms_entries(self, response):
        decision = response.meta["decision"]
        if self.acms_refused(response):
            yield from self.acms_token_expired(response)
            return
        try:
            info = json.loads(response.text)
        except ValueError:
            info = None
        if not isinstance(info, dict) or response.status >= 400:
            self.budget.settle(decision, None)
            yield from self.not_billed(response, "ACMS's answer was not the docket")
            self.fail(f"ACMS did not return the entries of {self.docket_number} "
                      f"(HTTP {response.status}).", close=False)
            return
        info = acms_api.docket_info(info)
        text = json.dumps({"caseDetails": response.meta["details"], "docketInfo": info})
        nbytes = info.get("byteCount") or len(response.body)
        estimate = report_cost_cents(int(nbytes), "acms_docket")
        self.budget.settle(decision, 0 if response.meta.get("spooled") else estimate)
        yield self.charge_item(self.court, "acms_docket", "charged", cost_c=estimate,
                               docket_number=self.docket_number,
                               description=f"ACMS docket ({nbytes} bytes)", url=response.url,
                               response=response)
        try:
            record = parsers.parse("acms", text, self.court)
        except parsers.ParseError as exc:
            self.fail(f"ACMS's answer for {self.docket_number} could not be read: {exc}",
                      close=False)
            return
        yield from self.docket_item(record)
        if self.want_documents:
            yield from self.acms_documents_phase(record, info)

    # --- ACMS case id from the docket number -------------------------------------
    def acms_guid_from_archive(self):
        """The ACMS case GUID the archive holds for this docket (from an earlier
        ACMS crawl, or from CourtListener, which keeps it as pacer_case_id)."""
        case_id = (self.known_docket or {}).get("pacer_case_id") or ""
        return case_id if self.court in ACMS_COURTS and GUID.match(str(case_id)) else None

    # --- ACMS documents ------------------------------------------------------------
    def acms_documents_phase(self, record, info):
        """List each entry's documents (free), keep the ones the archive lacks,
        then CourtListener first, then buy (MergePDFFiles) within the budget."""
        participant = bool(info.get("isUserCaseParticipant"))
        self.acms_candidates, self.acms_listings = [], 0
        entries = [e for e in info.get("docketEntries") or [] if isinstance(e, dict)]
        for entry in entries:
            if not int(entry.get("documentCount") or 0):
                continue
            if (entry.get("restrictedPartyFilingDocketEntry") and not participant
                    and not entry.get("restrictedDocsAvailable")):
                self.logger.info("ACMS entry %s: its documents are restricted to the case's "
                                 "parties", entry.get("entryNumber"))
                continue
            self.acms_listings += 1
            yield self.api_request(
                f"DocketEntryDocumentsByDocketId/{entry['docketEntryId']}",
                self.parse_acms_entry_documents, method="POST",
                data={"isUserCaseParticipant": participant,
                      "restrictedPartyFilingDocketEntry":
                          bool(entry.get("restrictedPartyFilingDocketEntry"))},
                meta={"entry": entry, "docket_number": record["docket_number"],
                      "handle_httpstatus_all": True, "on_failure": "acms_listing_done"})
        if not self.acms_listings:
            self.logger.info("0 documents of %s are not in the archive yet", record["docket_number"])

    def parse_acms_entry_documents(self, response):
        if self.acms_refused(response):
            yield from self.acms_token_expired(response)
            return
        entry = response.meta["entry"]
        docket_number = response.meta["docket_number"]
        try:
            docs = acms_api.entry_documents(json.loads(response.text))
        except ValueError:
            docs = []
        if response.status >= 400:
            missed(self, "ACMS did not list the documents of entry %s (HTTP %s)",
                   entry.get("entryNumber"), response.status)
        number = entry.get("entryNumber")
        try:  # the listing read as an ACMS attachment page
            page = parsers.parse("appellate_attachment", json.dumps(
                {"caseDetails": {"caseId": self.pacer_case_id}, "docketEntry": entry,
                 "docketEntryDocuments": docs}), self.court)
        except parsers.ParseError as exc:
            self.logger.warning("ACMS's document list of entry %s could not be read: %s",
                                number, exc)
            page = {"attachments": []}
        page = {"description": None, "date_end": None, **page}
        by_guid = {d.get("docketDocumentDetailsId"): d for d in docs}
        db = self.archive()
        try:
            for att in page["attachments"]:
                doc = by_guid.get(att.get("acms_document_guid"))
                if not doc:
                    continue
                attachment = (att.get("attachment_number") or 0) if len(docs) > 1 else 0
                ctx = {"docket_number": docket_number, "entry_number": number,
                       "document_number": str(number) if number is not None else None,
                       "attachment_number": attachment, "pacer_doc_id": entry["docketEntryId"],
                       "description": att.get("description") if attachment else None,
                       "entry_text": page.get("description"),
                       "date_filed": page.get("date_end") or page.get("date_filed"),
                       "acms_doc": doc}
                key = adb.document_key({"court_id": self.court, **ctx})[2]
                if adb.document_stored(db, self.court, doc_id=key):
                    self.crawler.stats.inc_value("pacer/documents_already_stored")
                    continue
                self.acms_candidates.append(ctx)
        finally:
            db.conn.close()
        yield from self.acms_listing_done(response.meta)

    def acms_listing_done(self, meta):
        """One entry's listing is in (or failed): when all are, fetch the documents."""
        self.acms_listings -= 1
        if self.acms_listings == 0:
            candidates, self.acms_candidates = self.acms_candidates, []
            # the shortest first, then in the docket's order (not the order the listings
            # happened to arrive in): a budget buys as many documents as it can, the same
            # ones every time
            candidates.sort(key=lambda c: (
                _int(c["acms_doc"].get("billablePages")) or _int(c["acms_doc"].get("pageCount")) or 0,
                _int(c.get("entry_number")) or 0, c.get("attachment_number") or 0))
            yield from self.fetch_documents(meta["docket_number"], candidates)

    # --- free first: the Ninth Circuit's own opinions and memoranda ------------------
    def fetch_documents(self, docket_number, candidates):
        """In ca9, before buying, read the court's free decisions feeds (latest 25
        opinions and 25 memoranda): a decision of this case is taken from there."""
        if self.court != "ca9" or not candidates or not self.ca9_feeds:
            yield from super().fetch_documents(docket_number, candidates)
            return
        yield self.ca9_feed_request(list(self.ca9_feeds), [], docket_number, candidates)

    def ca9_feed_request(self, feeds, decisions, docket_number, candidates):
        return scrapy.Request(feeds[0], callback=self.parse_ca9_feed, errback=self.ca9_feed_failed,
                              dont_filter=True,
                              meta={"feeds": feeds, "decisions": decisions, "dont_cache": True,
                                    "docket_number": docket_number, "candidates": candidates,
                                    "handle_httpstatus_list": [404, 500]})

    def ca9_feed_failed(self, failure):
        meta = failure.request.meta
        self.logger.warning("The Ninth Circuit's decisions feed %s could not be read (%s)",
                            failure.request.url, failure.getErrorMessage())
        yield from self.after_ca9_feed(meta)

    def parse_ca9_feed(self, response):
        meta = response.meta
        try:
            if response.status >= 400:
                raise parsers.ParseError(f"HTTP {response.status}")
            feed = parsers.parse("ca9_decisions", response.body, "ca9")
            meta["decisions"].extend(feed["decisions"])
        except parsers.ParseError as exc:
            self.logger.warning("The Ninth Circuit's decisions feed %s could not be read (%s)",
                                response.url, exc)
        yield from self.after_ca9_feed(meta)

    def after_ca9_feed(self, meta):
        feeds = meta["feeds"][1:]
        if feeds:
            yield self.ca9_feed_request(feeds, meta["decisions"], meta["docket_number"],
                                        meta["candidates"])
            return
        rest = list(meta["candidates"])
        mine = [d for d in meta["decisions"] if d["docket_number"] == meta["docket_number"]]
        for decision in mine:
            ctx = matching_candidate(decision, rest)
            if ctx is None:
                self.logger.info("The Ninth Circuit's free %s of %s filed %s matches no entry "
                                 "waiting for its document", decision_kind(decision),
                                 meta["docket_number"], decision["date_filed"])
                continue
            rest.remove(ctx)
            self.crawler.stats.inc_value("pacer/documents_free_from_ca9")
            self.logger.info("Document %s of %s: the court's free %s (%s), not bought",
                             ctx["document_number"], meta["docket_number"],
                             decision_kind(decision), decision["url"])
            yield self.document_item_for(ctx, "ca9", decision["url"],
                                         default_description=decision_kind(decision).capitalize())
        yield from super().fetch_documents(meta["docket_number"], rest)

    def document_requests(self, candidates):
        for ctx in candidates:
            if ctx.get("acms_doc"):
                yield from self.acms_purchase(ctx)
            else:
                yield self.document_request(ctx)

    def acms_purchase(self, ctx):
        doc = ctx["acms_doc"]
        pages = _int(doc.get("billablePages")) or _int(doc.get("pageCount"))
        listed = doc.get("cost") if isinstance(doc.get("cost"), (int, float)) else None
        label = document_label(ctx)
        decision = self.budget.decide("document", pages)
        if not decision.buy:
            self.log_decision(decision, label, f"({pages} pages)")
            yield self.charge_item(self.court, "document", decision.status,
                                   cost_c=decision.worst_cents or 0,
                                   docket_number=ctx["docket_number"],
                                   pacer_case_id=self.pacer_case_id,
                                   document_id=doc["docketDocumentDetailsId"], pages=pages,
                                   description=f"{label} (ACMS); {decision.reason}")
            return
        self.logger.info("Buying %s of %s on ACMS (%s pages)", label, ctx["docket_number"], pages)
        purchase = self.purchase(f"acms-doc/{doc['docketDocumentDetailsId']}", "document",
                                 decision, docket_number=ctx["docket_number"],
                                 pacer_case_id=self.pacer_case_id, pages=pages,
                                 document_id=doc["docketDocumentDetailsId"],
                                 description=f"{label} (ACMS)")
        yield self.api_request("MergePDFFiles", self.parse_acms_merge, method="POST",
                               data=acms_api.merge_request([doc]),
                               meta={"doc": ctx, "decision": decision, "pages": pages,
                                     "listed": listed, "label": label, "purchase": purchase,
                                     "handle_httpstatus_list": [400, 401, 403, 404, 409]})

    def parse_acms_merge(self, response):
        """202: ACMS accepted the purchase (billed) and prepares the file."""
        if self.acms_refused(response):  # not billed: bought with the new token
            yield from self.acms_token_expired(response)
            return
        ctx, decision = response.meta["doc"], response.meta["decision"]
        label, pages, listed = response.meta["label"], response.meta["pages"], response.meta["listed"]
        try:
            started = json.loads(response.text)
        except ValueError:
            started = None
        status_url = (started or {}).get("statusQueryGetUri") if isinstance(started, dict) else None
        if response.status >= 400 or not status_url:
            self.budget.settle(decision, None)
            yield from self.not_billed(response, f"ACMS did not sell it (HTTP {response.status})")
            self.logger.warning("ACMS did not sell %s of %s (HTTP %s): nothing was bought",
                                label, ctx["docket_number"], response.status)
            return
        cost_c = decision.worst_cents or 0
        paid = cents(listed) if listed is not None else cost_c
        self.budget.settle(decision, 0 if response.meta.get("spooled") else paid)
        doc = ctx["acms_doc"]
        yield self.charge_item(self.court, "document", "charged", cost_c=cost_c,
                               pacer_cost=float(listed) if listed is not None else None,
                               docket_number=ctx["docket_number"],
                               pacer_case_id=self.pacer_case_id,
                               document_id=doc["docketDocumentDetailsId"], pages=pages,
                               description=f"{label} (ACMS)", url=response.url,
                               response=response)
        yield self.acms_status_request(status_url, ctx, 1)

    def acms_status_request(self, url, ctx, poll):
        # Durable Functions' status URL carries its own key; the bearer goes too,
        # as the ACMS app sends it.
        return scrapy.Request(url, callback=self.parse_acms_status, errback=self.request_failed,
                              dont_filter=True, headers={"Accept": "application/json"},
                              meta={"doc": ctx, "poll": poll, "acms_bearer": True,
                                    "dont_cache": True, "dont_merge_cookies": True,
                                    "handle_httpstatus_list": [202, 400, 401, 403, 404, 500]})

    async def parse_acms_status(self, response):
        ctx, poll = response.meta["doc"], response.meta["poll"]
        try:
            state = json.loads(response.text)
        except ValueError:
            state = {}
        status = str((state or {}).get("runtimeStatus") or "") if isinstance(state, dict) else ""
        if status.lower() == "completed" and state.get("output"):
            file_guid = state["output"]
            if isinstance(file_guid, (list, dict)):
                file_guid = (file_guid[0] if isinstance(file_guid, list) and file_guid
                             else file_guid.get("fileGuid") if isinstance(file_guid, dict) else "")
            url = self.api_url(f"GetMergedFile?fileGuid={quote(str(file_guid))}")
            self.acms_files.add(url)
            item = self.document_item_for(ctx, "pacer", url,
                                          page_count=_int(ctx["acms_doc"].get("pageCount")))
            # the files pipeline fetches it with the token of the moment: a fresh one
            for out in self.acms_with_fresh_token(item, document_label(ctx)):
                yield out
            return
        if status.lower() in ("", "pending", "running", "continuedasnew") and response.status in (200, 202) \
                and poll < self.acms_poll_max:
            wait = self.acms_poll_interval
            retry_after = response.headers.get("Retry-After")
            if retry_after and retry_after.decode().strip().isdigit():
                wait = min(max(wait, float(retry_after.decode())), 60.0)
            await asyncio.sleep(wait)
            yield self.acms_status_request(response.url, ctx, poll + 1)
            return
        self.crawler.stats.inc_value("pacer/acms_documents_failed")
        missed(self, "ACMS did not deliver %s of %s (status %r after %s checks, HTTP %s); "
                     "it was charged: ask ACMS for it again or check your PACER bill",
               document_label(ctx), ctx["docket_number"], status or None, poll, response.status)

    def media_request(self, item, request):
        if request.url in self.acms_files:
            return scrapy.Request(request.url, callback=request.callback, dont_filter=True,
                                  meta={**request.meta, "acms_bearer": True, "dont_cache": True,
                                        "dont_merge_cookies": True, "expect_pdf": True})
        return super().media_request(item, request)


KIND_WORDS = {True: re.compile(r"\bOPINION\b", re.I), False: re.compile(r"\bMEMORANDUM\b", re.I),
              None: re.compile(r"\b(OPINION|MEMORANDUM)\b", re.I)}


def decision_kind(decision) -> str:
    return {True: "opinion", False: "memorandum"}.get(decision.get("precedential"), "decision")


def matching_candidate(decision, candidates):
    """The document waiting to be bought that a free decision is: an entry filed
    that day whose text says OPINION (or MEMORANDUM); of an ACMS entry's several
    documents, the one named so, else the first."""
    words = KIND_WORDS[decision.get("precedential")]
    found = [c for c in candidates
             if c.get("date_filed") and str(c["date_filed"])[:10] == decision.get("date_filed")
             and words.search(c.get("entry_text") or c.get("description") or "")]
    if not found:
        return None
    named = [c for c in found if c.get("attachment_number") and words.search(c.get("description") or "")]
    return (named or sorted(found, key=lambda c: c.get("attachment_number") or 0))[0]
