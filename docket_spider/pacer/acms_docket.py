"""ACMS, the court of appeals' system for cases opened since 2023-10 in the
Second and Ninth Circuits, as a part of the appellate spider
(``spider.acms``, docket_spider/spiders/pacer_appellate.py): the case
(``CaseDetailsByCaseId``), its docket (``DocketEntriesByCaseId``, billed) and,
with ``-a documents=1``, each entry's documents (listed free,
``DocketEntryDocumentsByDocketId``; bought with ``MergePDFFiles``, then polled
until the merged file can be fetched with ``GetMergedFile``).

It owns the case's GUID (ACMS finds a case by it only), the sign-in and its
token (``sign_in``, docket_spider/pacer/acms_sign_in.py) and the documents
being listed. The spider calls ``docket(decision)`` and ``document(ctx)``.
"""
from __future__ import annotations

import asyncio
import functools
import json
import re
from urllib.parse import quote

import parsers
from archive import db as adb
from docket_spider.pacer.acms_sign_in import ACMS_COURTS, AcmsSignIn
from docket_spider.pacer.documents import document_label
from archive.fees import cents, report_cost_cents
from parsers import acms_api
from parsers.common import to_int

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def is_guid(value) -> bool:
    return bool(GUID.match(str(value or "")))


class Acms:
    """ACMS: the case, its docket and its documents, through ACMS's API."""

    name = "acms"  # where the spider holds it
    what = "acms_docket"  # what its docket is, as a purchase

    def __init__(self, spider, case_id=None):
        self.spider = spider
        self.sign_in = AcmsSignIn(spider)
        self.case_id = case_id  # the case's GUID, when known: then ACMS is asked
        self.case_id_from = "-a acms_case_id" if case_id else None
        self.candidates: list[dict] = []  # documents listed, waiting for the others' lists
        self.listings = 0  # document lists still on their way
        self.poll_interval, self.poll_max = 2.0, 60

    def read_settings(self, settings) -> None:
        self.poll_interval = settings.getfloat("ACMS_POLL_INTERVAL", 2.0)
        self.poll_max = settings.getint("ACMS_POLL_MAX", 60)

    def known_as(self, case_id, where: str) -> None:
        """The case's GUID, found in ``where`` (the archive, CourtListener)."""
        self.case_id, self.case_id_from = case_id, where
        self.spider.logger.info("%s knows %s as ACMS case %s", where[:1].upper() + where[1:],
                                self.spider.docket_number, case_id)

    @property
    def logger(self):
        return self.spider.logger

    # --- the docket ------------------------------------------------------------------
    def docket(self, decision):
        """The case's docket, bought within ``decision``: signed in first."""
        self.sign_in.pending = decision
        yield from self.sign_in.session(functools.partial(self.case, decision))

    def case(self, decision):
        spider = self.spider
        self.sign_in.pending = None  # from here each step settles the docket's decision
        if not is_guid(self.case_id):
            spider.budget.settle(decision, None)
            spider.fail("ACMS finds a case by its GUID only: give -a acms_case_id=<GUID> (the "
                        f"id in the case's ACMS address); got {self.case_id!r}.")
            return
        yield self.sign_in.api_request(f"CaseDetailsByCaseId/{self.case_id}", self.parse_details,
                                       meta={"decision": decision})

    def parse_details(self, response):
        spider, decision = self.spider, response.meta["decision"]
        if self.sign_in.refused(response):
            yield from self.sign_in.token_expired(response)
            return
        if response.status == 403:
            spider.budget.settle(decision, None)
            spider.fail(f"ACMS refused access to case {self.case_id} (HTTP 403).")
            return
        details = json_object(response)
        if details is None or response.status >= 400:
            spider.budget.settle(decision, None)
            spider.fail(f"ACMS has no case {spider.docket_number} in {spider.court}.")
            return
        case = acms_api.case_details(details)
        case_id = case.get("caseId") or self.case_id
        spider.pacer_case_id = case_id
        purchase = spider.purchase(f"acms/{case_id}", self.what, decision,
                                   docket_number=spider.docket_number, pacer_case_id=case_id,
                                   description=f"ACMS docket of {spider.docket_number}")
        yield self.sign_in.api_request(f"DocketEntriesByCaseId/{case_id}", self.parse_entries,
                                       method="POST", data=self.sign_in.contact,
                                       meta={"decision": decision, "details": case,
                                             "purchase": purchase})

    def parse_entries(self, response):
        spider, decision = self.spider, response.meta["decision"]
        if self.sign_in.refused(response):
            yield from self.sign_in.token_expired(response)
            return
        info = json_object(response)
        if info is None or response.status >= 400:
            spider.budget.settle(decision, None)
            yield from spider.not_billed(response, "ACMS's answer was not the docket")
            spider.fail(f"ACMS did not return the entries of {spider.docket_number} "
                        f"(HTTP {response.status}).")
            return
        info = acms_api.docket_info(info)
        text = json.dumps({"caseDetails": response.meta["details"], "docketInfo": info})
        nbytes = info.get("byteCount") or len(response.body)
        estimate = report_cost_cents(int(nbytes), self.what)
        spider.budget.settle(decision, 0 if response.meta.get("spooled") else estimate)
        yield spider.charge_item(spider.court, self.what, "charged", cost_c=estimate,
                                 docket_number=spider.docket_number,
                                 description=f"ACMS docket ({nbytes} bytes)", url=response.url,
                                 response=response)
        try:
            record = parsers.parse("acms", text, spider.court)
        except parsers.ParseError as exc:
            spider.fail(f"ACMS's answer for {spider.docket_number} could not be read: {exc}")
            return
        yield from spider.docket_item(record)
        if spider.want_documents:
            yield from self.documents(record, info)

    # --- documents ------------------------------------------------------------------
    def documents(self, record, info):
        """List each entry's documents (free), keep the ones the archive lacks,
        then CourtListener first, then buy (MergePDFFiles) within the budget."""
        participant = bool(info.get("isUserCaseParticipant"))
        self.candidates, self.listings = [], 0
        entries = [e for e in info.get("docketEntries") or [] if isinstance(e, dict)]
        for entry in entries:
            if not int(entry.get("documentCount") or 0):
                continue
            if (entry.get("restrictedPartyFilingDocketEntry") and not participant
                    and not entry.get("restrictedDocsAvailable")):
                self.logger.info("ACMS entry %s: its documents are restricted to the case's "
                                 "parties", entry.get("entryNumber"))
                continue
            self.listings += 1
            yield self.sign_in.api_request(
                f"DocketEntryDocumentsByDocketId/{entry['docketEntryId']}",
                self.parse_entry_documents, method="POST",
                data={"isUserCaseParticipant": participant,
                      "restrictedPartyFilingDocketEntry":
                          bool(entry.get("restrictedPartyFilingDocketEntry"))},
                meta={"entry": entry, "docket_number": record["docket_number"],
                      "handle_httpstatus_all": True, "on_failure": "acms.listing_done"})
        if not self.listings:
            self.logger.info("0 documents of %s are not in the archive yet", record["docket_number"])

    def parse_entry_documents(self, response):
        spider = self.spider
        if self.sign_in.refused(response):
            yield from self.sign_in.token_expired(response)
            return
        entry = response.meta["entry"]
        docket_number = response.meta["docket_number"]
        try:
            docs = acms_api.entry_documents(json.loads(response.text))
        except ValueError:
            docs = []
        if response.status >= 400:
            spider.missed("ACMS did not list the documents of entry %s (HTTP %s)",
                          entry.get("entryNumber"), response.status)
        number = entry.get("entryNumber")
        try:  # the listing read as an ACMS attachment page
            page = parsers.parse("appellate_attachment", json.dumps(
                {"caseDetails": {"caseId": spider.pacer_case_id}, "docketEntry": entry,
                 "docketEntryDocuments": docs}), spider.court)
        except parsers.ParseError as exc:
            self.logger.warning("ACMS's document list of entry %s could not be read: %s",
                                number, exc)
            page = {"attachments": []}
        page = {"description": None, "date_end": None, **page}
        by_guid = {d.get("docketDocumentDetailsId"): d for d in docs}
        archive = spider.archive()
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
            key = adb.document_key({"court_id": spider.court, **ctx})[2]
            if archive.document_stored(spider.court, doc_id=key):
                spider.crawler.stats.inc_value("pacer/documents_already_stored")
                continue
            self.candidates.append(ctx)
        yield from self.listing_done(response.meta)

    def listing_done(self, meta):
        """One entry's listing is in (or failed): when all are, fetch the documents."""
        self.listings -= 1
        if self.listings == 0:
            candidates, self.candidates = self.candidates, []
            # the shortest first, then in the docket's order (not the order the listings
            # happened to arrive in): a budget buys as many documents as it can, the same
            # ones every time
            candidates.sort(key=lambda c: (
                pages_of(c["acms_doc"]) or 0, to_int(c.get("entry_number")) or 0,
                c.get("attachment_number") or 0))
            yield from self.spider.fetch_documents(meta["docket_number"], candidates)

    def document(self, ctx):
        """Buy one listed document (MergePDFFiles), within the budget."""
        spider = self.spider
        doc = ctx["acms_doc"]
        pages = pages_of(doc)
        listed = doc.get("cost") if isinstance(doc.get("cost"), (int, float)) else None
        label = document_label(ctx)
        decision = spider.budget.decide("document", pages)
        if not decision.buy:
            spider.log_decision(decision, label, f"({pages} pages)")
            yield spider.charge_item(spider.court, "document", decision.status,
                                     cost_c=decision.worst_cents or 0,
                                     docket_number=ctx["docket_number"],
                                     pacer_case_id=spider.pacer_case_id,
                                     document_id=doc["docketDocumentDetailsId"], pages=pages,
                                     description=f"{label} (ACMS); {decision.reason}")
            return
        self.logger.info("Buying %s of %s on ACMS (%s pages)", label, ctx["docket_number"], pages)
        purchase = spider.purchase(f"acms-doc/{doc['docketDocumentDetailsId']}", "document",
                                   decision, docket_number=ctx["docket_number"],
                                   pacer_case_id=spider.pacer_case_id, pages=pages,
                                   document_id=doc["docketDocumentDetailsId"],
                                   description=f"{label} (ACMS)")
        yield self.sign_in.api_request("MergePDFFiles", self.parse_merge, method="POST",
                                       data=acms_api.merge_request([doc]),
                                       meta={"doc": ctx, "decision": decision, "pages": pages,
                                             "listed": listed, "label": label,
                                             "purchase": purchase,
                                             "handle_httpstatus_list": [400, 401, 403, 404, 409]})

    def parse_merge(self, response):
        """202: ACMS accepted the purchase (billed) and prepares the file."""
        spider = self.spider
        if self.sign_in.refused(response):  # not billed: bought with the new token
            yield from self.sign_in.token_expired(response)
            return
        ctx, decision = response.meta["doc"], response.meta["decision"]
        label, pages, listed = response.meta["label"], response.meta["pages"], response.meta["listed"]
        status_url = (json_object(response) or {}).get("statusQueryGetUri")
        if response.status >= 400 or not status_url:
            spider.budget.settle(decision, None)
            yield from spider.not_billed(response, f"ACMS did not sell it (HTTP {response.status})")
            self.logger.warning("ACMS did not sell %s of %s (HTTP %s): nothing was bought",
                                label, ctx["docket_number"], response.status)
            return
        cost_c = decision.worst_cents or 0
        paid = cents(listed) if listed is not None else cost_c
        spider.budget.settle(decision, 0 if response.meta.get("spooled") else paid)
        doc = ctx["acms_doc"]
        yield spider.charge_item(spider.court, "document", "charged", cost_c=cost_c,
                                 pacer_cost=float(listed) if listed is not None else None,
                                 docket_number=ctx["docket_number"],
                                 pacer_case_id=spider.pacer_case_id,
                                 document_id=doc["docketDocumentDetailsId"], pages=pages,
                                 description=f"{label} (ACMS)", url=response.url,
                                 response=response)
        yield self.status_request(status_url, ctx, 1)

    def status_request(self, url, ctx, poll):
        # Durable Functions' status URL carries its own key; the bearer goes too,
        # as the ACMS app sends it.
        return self.spider.request(url, self.parse_status, headers={"Accept": "application/json"},
                                   meta={"doc": ctx, "poll": poll, "acms_bearer": True,
                                         "dont_cache": True, "dont_merge_cookies": True,
                                         "handle_httpstatus_list": [202, 400, 401, 403, 404, 500]})

    async def parse_status(self, response):
        spider = self.spider
        ctx, poll = response.meta["doc"], response.meta["poll"]
        state = json_object(response) or {}
        status = str(state.get("runtimeStatus") or "")
        if status.lower() == "completed" and state.get("output"):
            file_guid = state["output"]
            if isinstance(file_guid, (list, dict)):
                file_guid = (file_guid[0] if isinstance(file_guid, list) and file_guid
                             else file_guid.get("fileGuid") if isinstance(file_guid, dict) else "")
            url = self.sign_in.api_url(f"GetMergedFile?fileGuid={quote(str(file_guid))}")
            item = spider.document_item_for(
                ctx, "pacer", url, page_count=to_int(ctx["acms_doc"].get("pageCount")),
                file_request={"meta": {"acms_bearer": True, "dont_cache": True,
                                       "dont_merge_cookies": True, "expect_pdf": True}})
            # the files pipeline fetches it with the token of the moment: a fresh one
            for out in self.sign_in.with_fresh_token(item, document_label(ctx)):
                yield out
            return
        if status.lower() in ("", "pending", "running", "continuedasnew") and response.status in (200, 202) \
                and poll < self.poll_max:
            wait = self.poll_interval
            retry_after = response.headers.get("Retry-After")
            if retry_after and retry_after.decode().strip().isdigit():
                wait = min(max(wait, float(retry_after.decode())), 60.0)
            await asyncio.sleep(wait)
            yield self.status_request(response.url, ctx, poll + 1)
            return
        spider.crawler.stats.inc_value("pacer/acms_documents_failed")
        spider.missed("ACMS did not deliver %s of %s (status %r after %s checks, HTTP %s); "
                      "it was charged: ask ACMS for it again or check your PACER bill",
                      document_label(ctx), ctx["docket_number"], status or None, poll,
                      response.status)


def json_object(response) -> dict | None:
    """An API answer's JSON object; None when it is not JSON, or not an object."""
    try:
        data = json.loads(response.text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def pages_of(doc) -> int | None:
    """An ACMS document's billable pages (else its pages)."""
    return to_int(doc.get("billablePages")) or to_int(doc.get("pageCount"))


def guid_in_archive(court, known_docket) -> str | None:
    """The ACMS case GUID the archive holds for a docket (from an earlier ACMS
    crawl, or from CourtListener, which keeps it as pacer_case_id)."""
    case_id = (known_docket or {}).get("pacer_case_id") or ""
    return case_id if court in ACMS_COURTS and is_guid(case_id) else None
