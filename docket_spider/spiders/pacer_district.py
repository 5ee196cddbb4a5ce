"""PACER district court docket report (CM/ECF DktRpt.pl), with a hard budget.

    export PACER_USERNAME=... PACER_PASSWORD=...
    scrapy crawl pacer_district                                   # cand 3:20-cv-05910, priced only
    scrapy crawl pacer_district -a max_cost=5.00                  # buy, never over $5.00
    scrapy crawl pacer_district -a court=nysd -a docket_number=1:21-cv-01234-ABC -a max_cost=3
    scrapy crawl pacer_district -a pacer_case_id=364733 -a full=1 -a max_cost=3
    scrapy crawl pacer_district -a documents=1 -a max_cost=10     # and the PDFs

Without ``-a max_cost=`` nothing is bought: the crawl records what it would
have bought and the price (pacer_charges rows with status ``would_buy``).
Incremental by default: once a case is archived, only entries filed from
its last entry on are asked for.
"""
from __future__ import annotations

import datetime as _dt
import os
from urllib.parse import quote, urlencode, urljoin

import scrapy
from lxml import html as lxml_html

import parsers
from archive import db as adb
from docket_spider.items import DocumentItem, ParsedDocketItem
from docket_spider.pacer import Decision, PacerSpiderMixin, cents, fmt, report_cost_cents

DEFAULT = {"court": "cand", "docket_number": "3:20-cv-05910", "pacer_case_id": "364733"}


def _us_date(iso: str) -> str:
    return _dt.date.fromisoformat(str(iso)[:10]).strftime("%m/%d/%Y")


class PacerDistrictSpider(PacerSpiderMixin, scrapy.Spider):
    name = "pacer_district"

    def __init__(self, court=None, docket_number=None, pacer_case_id=None, max_cost=None,
                 documents=None, full=None, **kwargs):
        super().__init__(**kwargs)
        self.court = court or DEFAULT["court"]
        if not docket_number and not pacer_case_id:
            if self.court != DEFAULT["court"]:
                raise ValueError(f"no default case in court {self.court!r}; "
                                 "give -a docket_number= or -a pacer_case_id=")
            docket_number, pacer_case_id = DEFAULT["docket_number"], DEFAULT["pacer_case_id"]
        self.docket_number = docket_number
        self.pacer_case_id = str(pacer_case_id) if pacer_case_id else None
        self.setup_pacer(max_cost, documents, full, kwargs)
        self.crawl_args = {"court": self.court, "docket_number": docket_number,
                           "pacer_case_id": self.pacer_case_id, "max_cost": max_cost,
                           "documents": documents, "full": full}
        self.purchases: dict[str, dict] = {}  # doc1 URL -> form of its confirmation page
        self.cl_docs: dict[str, dict] = {}  # pacer_doc_id -> CourtListener RECAP document

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.read_pacer_settings(crawler.settings)
        spider.db_path = crawler.settings.get("ARCHIVE_DB")
        spider.cl_api_url = crawler.settings.get("COURTLISTENER_API_URL").rstrip("/") + "/"
        spider.cl_storage_url = crawler.settings.get("COURTLISTENER_STORAGE_URL").rstrip("/") + "/"
        return spider

    def archive(self):
        return adb.open_db(self.db_path)

    async def start(self):
        if not self.have_credentials():
            return
        yield self.login_request(self.first_requests)

    def first_requests(self):
        if self.pacer_case_id:
            yield from self.docket_report_steps()
            return
        number = adb.normalize_docket_number(self.docket_number)
        url = self.ecf_url(self.court, "cgi-bin/possible_case_numbers.pl?" + quote(number, safe=":-"))
        yield self.pacer_request(url, self.parse_possible_cases)

    def parse_possible_cases(self, response):
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        try:
            result = parsers.parse("possible_cases", response.body, self.court)
        except parsers.ParseError as exc:
            self.fail(f"{self.court} could not look up docket {self.docket_number}: {exc}", close=False)
            return
        from parsers.possible_cases import best_match

        case = best_match(result, docket_number=self.docket_number)
        if not case or not case.get("pacer_case_id"):
            self.fail(f"{self.court} has no case {self.docket_number}"
                      f"{': ' + result['message'] if result.get('message') else ''}.", close=False)
            return
        self.pacer_case_id = case["pacer_case_id"]
        self.logger.info("%s %s is PACER case %s (%s)", self.court, self.docket_number,
                         self.pacer_case_id, case.get("case_name") or "")
        yield from self.docket_report_steps()

    # --- the docket report -----------------------------------------------------
    def report_form(self) -> dict:
        form = {
            "all_case_ids": self.pacer_case_id, "date_range_type": "Filed",
            "date_from": "", "date_to": "", "documents_numbered_from_": "",
            "documents_numbered_to_": "", "list_of_parties_and_counsel": "on",
            "terminated_parties": "on", "pdf_header": "1", "output_format": "html",
            "sort1": "oldest date first",
        }
        db = self.archive()
        try:
            docket = adb.find_docket(db, self.court, self.docket_number, self.pacer_case_id)
            last = adb.last_entry(db, docket["id"]) if docket else None
        finally:
            db.conn.close()
        self.known_docket = docket
        if last and not self.full:
            if last.get("date_filed"):
                form["date_from"] = _us_date(last["date_filed"])
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
        url = self.ecf_url(self.court, "cgi-bin/DktRpt.pl?1-L_1_0-1")
        try:
            tree = lxml_html.fromstring(response.body)
            for form in tree.iter("form"):
                action = form.get("action") or ""
                if "DktRpt.pl" in action:
                    url = response.urljoin(action)
                    break
        except Exception:  # an empty or odd form page: the documented URL works
            pass
        self.logger.info("Buying the docket report of %s%s", response.meta["label"],
                         f" (entries filed from {response.meta['form']['date_from']})"
                         if response.meta["form"]["date_from"] else "")
        yield self.pacer_request(url, self.parse_report, formdata=response.meta["form"],
                                 method="POST", meta={k: response.meta[k]
                                                      for k in ("form", "decision", "label")})

    def parse_report(self, response):
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        decision = response.meta["decision"]
        text = parsers.decode_page(response.body)
        estimate = report_cost_cents(len(response.body))
        pacer_cost = pages = None
        try:
            receipt = parsers.parse("confirmation", text, self.court)
            pages = receipt.get("billable_pages")
            if receipt.get("cost") is not None:
                pacer_cost = float(receipt["cost"])
        except parsers.ParseError:
            pass
        try:
            record, problem = parsers.parse("district", text, self.court), None
        except parsers.ParseError as exc:
            record, problem = None, exc
        label = response.meta["label"]
        date_from = response.meta["form"]["date_from"]
        if record is None and pacer_cost is None:
            # neither a docket nor a receipt: an error page, which PACER does not bill
            self.budget.settle(decision, None)
            self.fail(f"PACER's answer for {label} is not a docket report: {problem}",
                      close=False)
            return
        spent = cents(pacer_cost) if pacer_cost is not None else estimate
        self.budget.settle(decision, spent)
        number = (record or {}).get("docket_number") or self.docket_number or (
            self.known_docket or {}).get("docket_number")
        yield self.charge_item(self.court, "docket_report", "charged", cost_c=estimate,
                               pages=pages, pacer_cost=pacer_cost, docket_number=number,
                               pacer_case_id=self.pacer_case_id,
                               description="docket report" + (
                                   f" of entries filed from {date_from}" if date_from else ""),
                               url=response.url)
        self.logger.info("Docket report of %s: %s bytes, %s by the fee rules (PACER billed %s)",
                         label, len(response.body), fmt(estimate),
                         fmt(cents(pacer_cost)) if pacer_cost is not None else "no figure")
        if record is None:
            if date_from and self.known_docket:
                self.logger.info("No new entries in %s since the last crawl (%s)", label, problem)
                if self.want_documents:
                    yield from self.documents_from_archive()
            else:
                self.fail(f"PACER's answer for {label} is not a docket report: {problem}",
                          close=False)
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
        yield ParsedDocketItem(source="pacer", court_id=self.court, record=record)
        if self.want_documents:
            yield from self.documents_phase(record.get("docket_number"), entries)

    # --- documents ------------------------------------------------------------
    def documents_from_archive(self):
        """Without a new report: the documents of the entries the archive has."""
        return self.documents_phase(self.docket_number, [])

    def documents_phase(self, docket_number, entries):
        """Documents not yet stored: free from CourtListener when it has them
        (COURTLISTENER_TOKEN set), otherwise priced and bought on PACER."""
        candidates = self.document_candidates(docket_number, entries)
        self.logger.info("%s documents of %s are not in the archive yet", len(candidates),
                         docket_number)
        if not candidates:
            return
        token = os.environ.get("COURTLISTENER_TOKEN", "").strip()
        if token and self.pacer_case_id:
            params = {"docket_entry__docket__court": self.court,
                      "docket_entry__docket__pacer_case_id": self.pacer_case_id,
                      "is_available": "true", "order_by": "id"}
            yield self.cl_request(self.cl_api_url + "recap-documents/?" + urlencode(params),
                                  candidates)
        else:
            yield from self.doc1_requests(candidates)

    def document_candidates(self, docket_number, entries) -> list[dict]:
        out: dict[str, dict] = {}
        db = self.archive()
        try:
            for entry in entries:
                doc_id = entry.get("pacer_doc_id")
                if doc_id:
                    number = entry.get("document_number")
                    out.setdefault(doc_id, {
                        "docket_number": docket_number, "entry_number": number,
                        "document_number": str(number) if number else None,
                        "attachment_number": 0, "pacer_doc_id": doc_id,
                        "description": entry.get("description")})
            docket = adb.find_docket(db, self.court, docket_number, self.pacer_case_id)
            if docket:
                docket_number = docket_number or docket["docket_number"]
                for doc in adb.documents_without_file(db, docket["id"]):
                    out.setdefault(doc["pacer_doc_id"], {
                        "docket_number": docket["docket_number"],
                        "entry_number": doc["entry_number"],
                        "document_number": doc["document_number"],
                        "attachment_number": doc["attachment_number"] or 0,
                        "pacer_doc_id": doc["pacer_doc_id"], "description": doc["description"]})
            kept = []
            for ctx in out.values():
                if adb.document_stored(db, self.court, pacer_doc_id=ctx["pacer_doc_id"]):
                    self.crawler.stats.inc_value("pacer/documents_already_stored")
                    continue
                kept.append(ctx)
            return kept
        finally:
            db.conn.close()

    def doc1_requests(self, candidates):
        for ctx in candidates:
            yield self.pacer_request(self.ecf_url(self.court, f"doc1/{ctx['pacer_doc_id']}"),
                                     self.parse_doc1, meta={"doc": ctx})

    # CourtListener first: what RECAP already has costs nothing
    def cl_request(self, url, candidates):
        return scrapy.Request(url, callback=self.parse_cl_documents, errback=self.cl_failed,
                              dont_filter=True,
                              headers={"Accept": "application/json"},
                              meta={"candidates": candidates, "courtlistener_auth": True,
                                    "handle_httpstatus_list": [400, 401, 403, 404]})

    def cl_failed(self, failure):
        self.logger.warning("CourtListener could not be asked (%s): buying from PACER instead",
                            failure.getErrorMessage())
        yield from self.doc1_requests(failure.request.meta["candidates"])

    def parse_cl_documents(self, response):
        candidates = response.meta["candidates"]
        if response.status >= 400:
            self.logger.warning("CourtListener answered %s: buying from PACER instead",
                                response.status)
            yield from self.doc1_requests(candidates)
            return
        data = response.json()
        for doc in data.get("results") or []:
            if doc.get("is_available") and doc.get("filepath_local") and doc.get("pacer_doc_id"):
                self.cl_docs[str(doc["pacer_doc_id"])] = doc
        if data.get("next"):
            yield self.cl_request(data["next"], candidates)
            return
        self.logger.info("CourtListener has %s documents of this case for free", len(self.cl_docs))
        rest = []
        for ctx in candidates:
            if ctx["pacer_doc_id"] in self.cl_docs:
                yield self.cl_document(ctx, self.cl_docs[ctx["pacer_doc_id"]])
            else:
                rest.append(ctx)
        yield from self.doc1_requests(rest)

    def cl_document(self, ctx, doc) -> DocumentItem:
        self.crawler.stats.inc_value("pacer/documents_from_courtlistener")
        attachment = doc.get("attachment_number") or ctx.get("attachment_number") or 0
        return DocumentItem(
            source="courtlistener", court_id=self.court, docket_number=ctx["docket_number"],
            pacer_case_id=self.pacer_case_id, entry_number=_int(ctx.get("entry_number")),
            document_number=ctx.get("document_number") or doc.get("document_number"),
            attachment_number=int(attachment), document_type=2 if attachment else 1,
            description=ctx.get("description") or doc.get("description"),
            pacer_doc_id=ctx["pacer_doc_id"], is_available=True,
            page_count=doc.get("page_count"), sha1=doc.get("sha1") or None,
            courtlistener_id=doc.get("id"),
            file_urls=[urljoin(self.cl_storage_url, doc["filepath_local"].lstrip("/"))])

    def parse_doc1(self, response):
        """A doc1 page is a confirmation page (one document) or an attachment menu."""
        if self.needs_login(response):
            yield from self.relogin(response)
            return
        ctx = response.meta["doc"]
        text = parsers.decode_page(response.body)
        try:
            receipt = parsers.parse("confirmation", text, self.court)
        except parsers.ParseError:
            receipt = None
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
        db = self.archive()
        try:
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
                if adb.document_stored(db, self.court, pacer_doc_id=target["pacer_doc_id"]):
                    continue
                if target["pacer_doc_id"] in self.cl_docs:
                    yield self.cl_document(target, self.cl_docs[target["pacer_doc_id"]])
                    continue
                url_id = target["pacer_doc_id"]
                if target is main:
                    # CM/ECF: a 4th digit 1 asks for the document itself, not the menu
                    url_id = url_id[:3] + "1" + url_id[4:] if len(url_id) > 4 else url_id
                    if url_id == ctx.get("url_id"):
                        continue
                yield self.pacer_request(self.ecf_url(self.court, f"doc1/{url_id}"),
                                         self.parse_doc1, meta={"doc": dict(target, url_id=url_id)})
        finally:
            db.conn.close()

    def buy_document(self, response, ctx, receipt, text):
        pages = receipt.get("billable_pages")
        label = f"document {ctx['document_number']}" + (
            f" attachment {ctx['attachment_number']}" if ctx.get("attachment_number") else "")
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
        cost_c = decision.worst_cents or 0
        pacer_cost = receipt.get("cost")
        self.budget.settle(decision, cents(pacer_cost) if pacer_cost is not None else cost_c)
        free = pacer_cost is not None and cents(pacer_cost) == 0
        yield self.charge_item(self.court, "document", "free" if free else "charged", cost_c=cost_c,
                               pacer_cost=float(pacer_cost) if pacer_cost is not None else None,
                               description=label + (" (free on PACER: an opinion)" if free else ""),
                               **common)
        self.purchases[response.url] = self.purchase_form(response, text)
        yield DocumentItem(
            source="pacer", court_id=self.court, docket_number=ctx["docket_number"],
            pacer_case_id=self.pacer_case_id, entry_number=_int(ctx.get("entry_number")),
            document_number=ctx.get("document_number"),
            attachment_number=ctx.get("attachment_number") or 0,
            document_type=2 if ctx.get("attachment_number") else 1,
            description=ctx.get("description"), pacer_doc_id=ctx["pacer_doc_id"],
            is_available=True, page_count=pages, file_urls=[response.url])

    @staticmethod
    def purchase_form(response, text) -> dict:
        """The confirmation page's form: where to POST and what (no secrets)."""
        fields, action = {}, response.url
        try:
            tree = lxml_html.fromstring(text)
            form = next(iter(tree.iter("form")), None)
            if form is not None:
                action = response.urljoin(form.get("action") or response.url)
                for inp in form.iter("input"):
                    if inp.get("name") and (inp.get("type") or "").lower() not in ("submit", "button"):
                        fields[inp.get("name")] = inp.get("value") or ""
            from parsers.common import go_dls_args

            args = go_dls_args(form.get("onsubmit")) if form is not None else []
            if len(args) > 2:
                fields.setdefault("caseid", args[1])
                fields.setdefault("de_seq_num", args[2])
        except Exception:
            pass
        fields.setdefault("got_receipt", "1")
        fields.setdefault("pdf_header", "1")
        return {"url": action, "fields": fields}

    def media_request(self, item, request):
        """DocumentFilesPipeline asks: the purchase of a PDF is a POST with the session."""
        purchase = self.purchases.get(request.url)
        if purchase is None:
            return None
        return scrapy.FormRequest(purchase["url"], formdata=purchase["fields"],
                                  headers=self.with_session(),
                                  meta={**request.meta, "dont_cache": True, "pacer_session": True,
                                        "dont_merge_cookies": True, "expect_pdf": True},
                                  callback=request.callback, dont_filter=True)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
