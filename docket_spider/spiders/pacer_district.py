"""PACER district court docket report (CM/ECF DktRpt.pl), with a hard budget.

    export PACER_USERNAME=... PACER_PASSWORD=...
    scrapy crawl pacer_district                                   # cand 3:20-cv-05910, priced only
    scrapy crawl pacer_district -a max_cost=5.00                  # buy, never over $5.00
    scrapy crawl pacer_district -a court=nysd -a docket_number=1:21-cv-01234-ABC -a max_cost=3
    scrapy crawl pacer_district -a pacer_case_id=364733 -a full=1 -a max_cost=3
    scrapy crawl pacer_district -a documents=1 -a max_cost=10     # and the PDFs
    scrapy crawl pacer_district -a documents=1 -a report=0 -a max_cost=1  # the PDFs only

Without ``-a max_cost=`` nothing is bought: the crawl records what it would
have bought and the price (pacer_charges rows with status ``would_buy``).
Incremental by default: once a case is archived, only entries filed from
its last entry on are asked for. ``-a report=0`` (with ``-a documents=1``)
buys no docket report: only the documents the archive already lists (what
``python -m archive update`` asks when a case's documents are all it lacks).
"""
from __future__ import annotations

from urllib.parse import quote

import parsers
from archive.cases import DISTRICT
from docket_spider.pacer.documents import us_date
from archive.fees import cents, fmt, report_cost_cents
from docket_spider.spiders.pacer_base import PacerSpider
from docket_spider.urls import same_origin, strip_query
from parsers import confirmation, forms
from parsers.common import docket_number_key
from parsers.possible_cases import best_match


class PacerDistrictSpider(PacerSpider):
    name = "pacer_district"

    def __init__(self, court=None, docket_number=None, pacer_case_id=None, max_cost=None,
                 documents=None, full=None, report=None, **kwargs):
        court = court or DISTRICT["court"]
        if not docket_number and not pacer_case_id:
            if court != DISTRICT["court"]:
                raise ValueError(f"no default case in court {court!r}; "
                                 "give -a docket_number= or -a pacer_case_id=")
            docket_number, pacer_case_id = DISTRICT["docket_number"], DISTRICT["pacer_case_id"]
        super().__init__(court=court, max_cost=max_cost, documents=documents, full=full,
                         **kwargs)
        self.docket_number = docket_number
        self.pacer_case_id = str(pacer_case_id) if pacer_case_id else None
        self.known_docket = None
        # -a report=0: no docket report, the listed documents only (with -a documents=1)
        self.want_report = not (self.want_documents and str(report or "").strip().lower()
                                in ("0", "no", "false", "off"))
        self.crawl_args = {"court": self.court, "docket_number": docket_number,
                           "pacer_case_id": self.pacer_case_id, "max_cost": max_cost,
                           "documents": documents, "full": full, "report": report}

    def first_requests(self):
        if self.pacer_case_id:
            yield from self.free.docket("docket_report_steps", self.pacer_case_id)
            return
        number = docket_number_key(self.docket_number)
        url = self.ecf_url(self.court, "cgi-bin/possible_case_numbers.pl?" + quote(number, safe=":-"))
        yield self.pacer_request(url, self.parse_possible_cases)

    def parse_possible_cases(self, response):
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        try:
            result = parsers.parse("possible_cases", response.body, self.court)
        except parsers.ParseError as exc:
            self.fail(f"{self.court} could not look up docket {self.docket_number}: {exc}")
            return
        case = best_match(result, docket_number=self.docket_number)
        if not case or not case.get("pacer_case_id"):
            self.fail(f"{self.court} has no case {self.docket_number}"
                      f"{': ' + result['message'] if result.get('message') else ''}.")
            return
        self.pacer_case_id = case["pacer_case_id"]
        self.logger.info("%s %s is PACER case %s (%s)", self.court, self.docket_number,
                         self.pacer_case_id, case.get("case_name") or "")
        yield from self.free.docket("docket_report_steps", self.pacer_case_id)

    # --- the docket report -----------------------------------------------------
    def report_form(self) -> dict:
        form = {
            "all_case_ids": self.pacer_case_id, "date_range_type": "Filed",
            "date_from": "", "date_to": "", "documents_numbered_from_": "",
            "documents_numbered_to_": "", "list_of_parties_and_counsel": "on",
            "terminated_parties": "on", "pdf_header": "1", "output_format": "html",
            "sort1": "oldest date first",
        }
        archive = self.archive()
        docket = archive.find_docket(self.court, self.docket_number, self.pacer_case_id)
        last = archive.last_entry(docket["id"]) if docket else None
        self.known_docket = docket
        cl_last = self.free.last_date
        if cl_last and not self.full and (
                not last or str(last.get("date_filed") or "")[:10] < cl_last):
            # CourtListener's entries (just loaded, maybe not saved yet) reach further
            form["date_from"] = us_date(cl_last)
            self.logger.info("CourtListener had entries of %s up to %s: asking PACER only for "
                             "entries filed from then on", self.docket_number, cl_last)
        elif last and not self.full:
            if last.get("date_filed"):
                form["date_from"] = us_date(last["date_filed"])
            # No documents_numbered_from_: a number range drops every unnumbered
            # entry (minute orders, notices), so new ones would never arrive. The
            # day of the last entry is asked again (later filings that day);
            # entries already archived are recognised and left unchanged.
            self.logger.info(
                "The archive has %s entries of %s (last filed %s, no. %s): asking only for "
                "entries filed from %s on (-a full=1 asks for everything)", last["entries"],
                docket["id"], last.get("date_filed"), last.get("entry_number"), form["date_from"])
        return form

    def docket_report_steps(self):
        if not self.want_report:
            self.logger.info("No docket report asked for (-a report=0): the documents of %s "
                             "the archive lists", self.docket_number)
            yield from self.documents_from_archive()
            return
        form = self.report_form()
        label = f"{self.court} {self.docket_number or ''} (case {self.pacer_case_id})".replace("  ", " ")
        decision = self.budget.decide("docket_report")
        url = self.ecf_url(self.court, "cgi-bin/DktRpt.pl?1-L_1_0-1")
        if not decision.buy:
            self.log_decision(decision, "the docket report of", label)
            yield self.charge_item(self.court, "docket_report", decision.status,
                                   cost_c=decision.worst_cents or 0,
                                   docket_number=self.docket_number,
                                   pacer_case_id=self.pacer_case_id,
                                   description=f"docket report (worst case); {decision.reason}",
                                   url=url)
            if self.want_documents:
                yield from self.documents_from_archive()
            return
        # The form page (free) names the report's real action URL.
        yield self.pacer_request(
            self.ecf_url(self.court, f"cgi-bin/DktRpt.pl?{self.pacer_case_id}"),
            self.parse_report_form, meta={"form": form, "decision": decision, "label": label})

    def parse_report_form(self, response):
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        url = self.ecf_url(self.court, "cgi-bin/DktRpt.pl?1-L_1_0-1")  # CM/ECF's documented one
        try:
            target = forms.report_form(parsers.decode_page(response.body), response.url)["action"]
        except parsers.ParseError as exc:
            self.logger.warning("The docket report form page of %s could not be read (%s): "
                                "asking %s", response.meta["label"], exc, strip_query(url))
        else:
            if same_origin(target, self.ecf_url(self.court)):
                url = target
            else:  # the session and the purchase stay on PACER
                self.logger.warning("The docket report form of %s posts to another host (%s): "
                                    "not followed; asking %s", response.meta["label"],
                                    strip_query(target), strip_query(url))
        self.logger.info("Buying the docket report of %s%s", response.meta["label"],
                         f" (entries filed from {response.meta['form']['date_from']})"
                         if response.meta["form"]["date_from"] else "")
        decision = response.meta["decision"]
        # the same report asked again (a crawl killed before it stored it) is the
        # same purchase: the range it asks for is part of its key
        span = response.meta["form"]["date_from"].replace("/", "-") or "all"
        purchase = self.purchase(f"case/{self.pacer_case_id}/from-{span}", "docket_report",
                                 decision, docket_number=self.docket_number,
                                 pacer_case_id=self.pacer_case_id,
                                 description=f"docket report of {response.meta['label']}")
        yield self.pacer_request(url, self.parse_report, formdata=response.meta["form"],
                                 method="POST", meta={**{k: response.meta[k]
                                                         for k in ("form", "decision", "label")},
                                                      "purchase": purchase})

    def parse_report(self, response):
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        decision = response.meta["decision"]
        text = parsers.decode_page(response.body)
        estimate = report_cost_cents(len(response.body))
        receipt = confirmation.receipt(text) or {}  # none: the fee rules' figure
        pages = receipt.get("billable_pages")
        pacer_cost = float(receipt["cost"]) if receipt.get("cost") is not None else None
        try:
            record, problem = parsers.parse("district", text, self.court), None
        except parsers.ParseError as exc:
            record, problem = None, exc
        label = response.meta["label"]
        date_from = response.meta["form"]["date_from"]
        cut = record is None and "cut short" in str(problem)
        if cut:  # PACER served (and billed) it; the transfer broke off before its end
            self.fail(f"PACER's docket report of {label} arrived cut short ({len(response.body)} "
                      "bytes, no end of page): nothing of it is stored; run the crawl again")
        if record is None and pacer_cost is None and not cut:
            # neither a docket nor a receipt: an error page, which PACER does not bill
            self.budget.settle(decision, None)
            yield from self.not_billed(response, f"not a docket report: {problem}")
            self.fail(f"PACER's answer for {label} is not a docket report: {problem}")
            return
        spent = cents(pacer_cost) if pacer_cost is not None else estimate
        # an answer kept from a killed crawl (docket_spider.pacer.purchases) was paid for then
        self.budget.settle(decision, 0 if response.meta.get("spooled") else spent)
        number = (record or {}).get("docket_number") or self.docket_number or (
            self.known_docket or {}).get("docket_number")
        if cut:  # billed, and nothing of it can be stored: bought but not stored
            self.answer_used(response)
        yield self.charge_item(self.court, "docket_report", "charged", cost_c=estimate,
                               pages=pages, pacer_cost=pacer_cost, docket_number=number,
                               pacer_case_id=self.pacer_case_id,
                               description="docket report" + (
                                   f" of entries filed from {date_from}" if date_from else ""),
                               url=response.url, response=response,
                               answer_kept=0 if cut else None)
        self.logger.info("Docket report of %s: %s bytes, %s by the fee rules (PACER billed %s)",
                         label, len(response.body), fmt(estimate),
                         fmt(cents(pacer_cost)) if pacer_cost is not None else "no figure")
        if record is None:
            if cut:
                return
            if date_from and self.known_docket:
                self.logger.info("No new entries in %s since the last crawl (%s)", label, problem)
                self.answer_used(response)
                if self.want_documents:
                    yield from self.documents_from_archive()
            else:
                self.fail(f"PACER's answer for {label} is not a docket report: {problem}")
            return
        record["court_id"] = record.get("court_id") or self.court
        record["pacer_case_id"] = record.get("pacer_case_id") or self.pacer_case_id
        if not record.get("docket_number"):
            if self.known_docket:
                record["docket_number"] = self.known_docket["docket_number"]
            elif self.docket_number:
                record["docket_number"] = self.docket_number
        self.docket_number = self.docket_number or record.get("docket_number")
        entries = record.get("docket_entries") or []
        self.logger.info("%s %s: %s entries, %s parties from PACER", self.court,
                         record.get("docket_number"), len(entries), len(record.get("parties") or []))
        self.crawler.stats.inc_value("pacer/entries", len(entries))
        yield self.docket_of(record, source="pacer", court_id=self.court)
        if self.want_documents:
            yield from self.documents_phase(record.get("docket_number"), entries)

    # --- documents ------------------------------------------------------------
    def document_requests(self, candidates):
        for ctx in candidates:
            yield self.pacer_request(self.ecf_url(self.court, f"doc1/{ctx['pacer_doc_id']}"),
                                     self.parse_doc1, meta={"doc": ctx})

    def parse_doc1(self, response):
        """A doc1 page is a confirmation page (one document) or an attachment menu."""
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        ctx = response.meta["doc"]
        receipt, text = self.read_confirmation(response)
        if receipt is not None:
            yield from self.buy_document(response, ctx, receipt, text)
            return
        try:
            menu = parsers.parse("attachment", text, self.court)
        except parsers.ParseError as exc:
            self.logger.warning("Document %s: PACER answered neither a purchase page nor an "
                                "attachment menu (%s)", ctx["document_number"], exc)
            return
        main = dict(ctx)
        archive = self.archive()
        targets = [main]
        if menu.get("pacer_doc_id") and menu["pacer_doc_id"] != ctx["pacer_doc_id"]:
            main["pacer_doc_id"] = menu["pacer_doc_id"]
        for att in menu.get("attachments") or []:
            if not att.get("pacer_doc_id"):
                continue
            targets.append(dict(ctx, attachment_number=att.get("attachment_number") or 0,
                                pacer_doc_id=att["pacer_doc_id"],
                                description=att.get("description")))
        for target in targets:
            if archive.document_stored(self.court, pacer_doc_id=target["pacer_doc_id"]):
                continue
            copy = self.free.copy(target)
            if copy is not None:
                yield self.free.document(target, copy)
                continue
            url_id = target["pacer_doc_id"]
            if target is main:
                # CM/ECF: a 4th digit 1 asks for the document itself, not the menu
                url_id = url_id[:3] + "1" + url_id[4:] if len(url_id) > 4 else url_id
                if url_id == ctx.get("url_id"):
                    continue
            yield self.pacer_request(self.ecf_url(self.court, f"doc1/{url_id}"),
                                     self.parse_doc1, meta={"doc": dict(target, url_id=url_id)})
