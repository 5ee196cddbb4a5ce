"""The ACMS side of the court of appeals spider (pacer_appellate): the case
(``CaseDetailsByCaseId``), its docket (``DocketEntriesByCaseId``, billed) and,
with ``-a documents=1``, each entry's documents (listed free,
``DocketEntryDocumentsByDocketId``; bought with ``MergePDFFiles``, then polled
until the merged file can be fetched with ``GetMergedFile``).

A mixin of PacerAppellateSpider, after AcmsSessionMixin's sign-in and token
(docket_spider.pacer.acms_sign_in): each API callback starts with ``acms_refused``.
"""
from __future__ import annotations

import asyncio
import functools
import json
import re
from urllib.parse import quote

import scrapy

import parsers
from archive import db as adb
from docket_spider.pacer.acms_sign_in import ACMS_COURTS
from docket_spider.pacer.documents import document_label
from docket_spider.pacer.fees import cents, report_cost_cents
from docket_spider.pacer.free_first import _int
from parsers import acms_api

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class AcmsDocketMixin:
    """ACMS: the case, its docket and its documents, through ACMS's API."""

    # --- ACMS (signing in and the token: docket_spider.pacer.acms_sign_in.AcmsSessionMixin) ------------
    def acms_start(self, decision):
        self.acms_pending = decision
        yield from self.acms_session(functools.partial(self.acms_case, decision))

    def acms_case(self, decision):
        self.acms_pending = None  # from here each step settles the docket's decision
        if not (self.acms_case_id and GUID.match(self.acms_case_id)):
            self.budget.settle(decision, None)
            self.fail("ACMS finds a case by its GUID only: give -a acms_case_id=<GUID> (the id in "
                      f"the case's ACMS address); got {self.acms_case_id!r}.")
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
            self.fail(f"ACMS refused access to case {self.acms_case_id} (HTTP 403).")
            return
        try:
            details = json.loads(response.text)
        except ValueError:
            details = None
        if not isinstance(details, dict) or response.status >= 400:
            self.budget.settle(decision, None)
            self.fail(f"ACMS has no case {self.docket_number} in {self.court}.")
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
                      f"(HTTP {response.status}).")
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
            self.fail(f"ACMS's answer for {self.docket_number} could not be read: {exc}")
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
            self.missed("ACMS did not list the documents of entry %s (HTTP %s)",
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
        archive = self.archive()
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
            if archive.document_stored(self.court, doc_id=key):
                self.crawler.stats.inc_value("pacer/documents_already_stored")
                continue
            self.acms_candidates.append(ctx)
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
            item = self.document_item_for(
                ctx, "pacer", url, page_count=_int(ctx["acms_doc"].get("pageCount")),
                file_request={"meta": {"acms_bearer": True, "dont_cache": True,
                                       "dont_merge_cookies": True, "expect_pdf": True}})
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
        self.missed("ACMS did not deliver %s of %s (status %r after %s checks, HTTP %s); "
                     "it was charged: ask ACMS for it again or check your PACER bill",
               document_label(ctx), ctx["docket_number"], status or None, poll, response.status)
