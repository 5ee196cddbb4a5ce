"""CM/ECF of the district and bankruptcy courts (``/ecf/<court>/``:
``https://ecf.<court>.uscourts.gov/``): possible case numbers, the docket
report form and report (``DktRpt.pl``), documents behind their purchase
confirmation pages (``doc1/``) and attachment pages; ``add_entry`` dockets
a new entry.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Optional

from ..base import Request, Response
from ..cases import PdfFile, make_pdf
from .common import PACER_FIXTURES, Document, _parse_body, _parse_date
from .fees import cost_of, document_pages, report_pages


def _strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("\xa0", " ").strip()


def _docket_key(number: str) -> Optional[tuple]:
    """(office, yy, type, number) of a district docket number, parts may be None.
    Accepts 3:20-cv-05910-LB, 3:20-cv-5910, 20-05910, 2005910, 1203879."""
    number = (number or "").strip().lower()
    m = re.match(r"^(?:(\d):)?(\d{2})-?([a-z]{1,3})?-?(\d{1,5})(?:-.*)?$", number)
    if not m:
        return None
    office, yy, kind, num = m.groups()
    return office, yy, kind, int(num)


def _keys_match(query: tuple, case: tuple) -> bool:
    return (query[1] == case[1] and query[3] == case[3]
            and (query[0] is None or case[0] is None or query[0] == case[0])
            and (query[2] is None or case[2] is None or query[2] == case[2]))


class DistrictMixin:
    """PacerServer's district and bankruptcy CM/ECF pages."""

    # -- tests change the world --
    def add_entry(self, court: str, case_id: str, number, date: str, description: str,
                  doc_id: Optional[str] = None, pdf=None, page_count: Optional[int] = None,
                  transcript: bool = False, published: Optional[dt.datetime] = None,
                  events: Optional[list] = None, rss_type: Optional[str] = None) -> dict:
        """Docket a new entry (appended to the case's docket report; also in RSS).

        RSS: ``published`` its pubDate (default now); ``events`` the event names
        it was entered under, one feed item each (default: the description's
        first 60 characters), as CM/ECF announces a multi-event entry;
        ``rss_type`` its CM/ECF type (a partial feed carries only listed types).

        ``date``: YYYY-MM-DD or MM/DD/YYYY. ``doc_id``: its document's pacer_doc_id
        (None: an entry without a document); ``pdf``: bytes, a PdfFile or None
        (a generated one-page PDF)."""
        case = self.district[(court, str(case_id))]
        day = _parse_date(date)
        if day is None:
            raise ValueError("bad date %r" % date)
        mdy = day.strftime("%m/%d/%Y")
        seq = str(900 + len(self.added))
        if doc_id:
            if isinstance(pdf, (bytes, bytearray)):
                pdf = PdfFile(data=bytes(pdf), origin="added", page_count=page_count)
            elif pdf is None:
                pdf = PdfFile(data=make_pdf([description[:90], "Entry %s" % number]), origin="added",
                              page_count=page_count or 1)
            doc = self._document(court, doc_id, case_id=str(case_id), description=description[:60], pdf=pdf)
            doc.transcript = transcript
            doc.docket_number = case.docket_number
            doc.entry_number = str(number or "")
            doc.seq = seq
            numcell = ('<a href="https://ecf.%s.uscourts.gov/doc1/%s" onclick="goDLS(\'/doc1/%s\',\'%s\',\'%s\','
                       '\'\',\'\',\'1\',\'\',\'\');return(false);">%s</a>'
                       % (court, doc_id, doc_id, case_id, seq, number))
        else:
            numcell = "" if number is None else str(number)
        row = ('<tr><td width="94" valign="top" nowrap="nowrap">%s</td><td style="white-space:nowrap" valign="top" '
               'align="right">%s&nbsp;</td><td valign="top">%s (Entered: %s)</td></tr>\n'
               % (mdy, numcell, html.escape(description, quote=False), mdy))
        with case.lock:
            text = case.text()
            span = self._entries_span(text)
            if span is None:
                raise ValueError("no docket entries table in %s" % case.source)
            case.html = text[:span[1]] + row + text[span[1]:]
        record = {"court": court, "case_id": str(case_id), "number": number, "date": day.isoformat(),
                  "description": description, "doc_id": doc_id, "docket_number": case.docket_number,
                  "title": case.title, "added_at": published or dt.datetime.now(dt.timezone.utc),
                  "seq": seq, "events": list(events or [description[:60]]), "rss_type": rss_type}
        with self._lock:
            self.added.append(record)
        return record

    # -- district pages --
    @staticmethod
    def _entries_span(text: str) -> Optional[tuple]:
        """(start, end) of the docket entry rows (after the header row, before
        ``</table>``) of a CM/ECF docket report."""
        for m in re.finditer(r"<t[dh][^>]*>\s*(?:<[^>]+>\s*)*Date Filed", text, re.I):
            head_end = text.find("</tr>", m.end())
            if head_end < 0:
                continue
            header = text[m.start():head_end]
            if "Docket Text" not in header and "#" not in header:
                continue
            start = head_end + len("</tr>")
            end = text.lower().find("</table>", start)
            if end > start:
                return start, end
        return None

    @staticmethod
    def _row_fields(row: str) -> tuple:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S | re.I)
        filed = entered = None
        number = None
        if cells:
            m = re.search(r"\d\d?/\d\d?/\d{4}", _strip_tags(cells[0]))
            filed = _parse_date(m.group(0)) if m else None
        if len(cells) > 1:
            m = re.match(r"^\s*(\d+)\s*$", _strip_tags(cells[1]))
            number = int(m.group(1)) if m else None
        m = re.search(r"Entered:\s*(\d\d?/\d\d?/\d{4})", row)
        entered = _parse_date(m.group(1)) if m else filed
        return filed, entered, number

    def filter_report(self, text: str, fields: dict) -> str:
        """Keep only the entry rows the report form asked for: ``date_from`` /
        ``date_to`` (filed, or entered when ``date_range_type`` is Entered) and
        ``documents_numbered_from_`` / ``documents_numbered_to_`` (inclusive; as
        on PACER, unnumbered entries drop out of a number range)."""
        date_from = _parse_date(fields.get("date_from", ""))
        date_to = _parse_date(fields.get("date_to", ""))
        by_entered = (fields.get("date_range_type") or "").lower().startswith("entered")
        num_from = fields.get("documents_numbered_from_", "").strip()
        num_to = fields.get("documents_numbered_to_", "").strip()
        num_from = int(num_from) if num_from.isdigit() else None
        num_to = int(num_to) if num_to.isdigit() else None
        if not any(v is not None for v in (date_from, date_to, num_from, num_to)):
            return text
        span = self._entries_span(text)
        if span is None:
            return text
        body = text[span[0]:span[1]]
        kept = []
        for row in re.findall(r"<tr.*?</tr>\s*", body, re.S | re.I):
            filed, entered, number = self._row_fields(row)
            day = entered if by_entered else filed
            if date_from and (day is None or day < date_from):
                continue
            if date_to and (day is None or day > date_to):
                continue
            if num_from is not None or num_to is not None:
                if number is None:
                    continue
                if num_from is not None and number < num_from:
                    continue
                if num_to is not None and number > num_to:
                    continue
            kept.append(row)
        if not kept:
            return (text[:text.rfind("<table", 0, span[0])]
                    + "<b>There are no documents in this case that match the selection criteria.</b>"
                    + text[span[1] + len("</table>"):])
        return text[:span[0]] + "\n" + "".join(kept) + text[span[1]:]

    def _error_page(self, court: str, message: str) -> str:
        return ("<html><head><title>CM/ECF - %s</title></head><body><div id=\"cmecfMainContent\">"
                "<b>%s</b><p><input type=\"button\" value=\"Back\" onclick=\"history.back()\"></p></div>"
                "</body></html>" % (court, html.escape(message)))

    def _possible(self, court: str, query: str) -> Response:
        query = query.strip()
        key = _docket_key(query)
        xml = None
        if self.corpus is not None:
            for path in sorted((self.corpus / "possible_case_numbers").glob("*.xml")):
                text = path.read_text(encoding="utf-8")
                m = re.search(r"<request number=[\"']([^\"']+)", text)
                if m and key is not None and _docket_key(m.group(1)) == key and path.name != "no_results.xml":
                    xml = text
                    break
        if xml is None and key is not None:
            found = []
            for case in self.district.values():
                ck = _docket_key(case.docket_number)
                if case.court == court and ck and _keys_match(key, ck):
                    found.append(case)
            if found:
                rows = []
                for case in found:
                    office, yy, kind, num = _docket_key(case.docket_number)
                    short = "%s:%s-%s-%d" % (office, yy, kind, num)
                    full = "%s:%s-%s-%05d" % (office, yy, kind, num)
                    suffix = re.sub(r"^\d:\d\d-[a-z]+-\d+", "", case.docket_number)
                    rows.append('    <case number="%s" id="%s"\n          title="%s%s %s"\n          sortable="%s:20%s-%s-%05d%s"/>'
                                % (short, case.case_id, html.escape(full), suffix, html.escape(case.title, quote=True),
                                   office, yy, kind, num, suffix))
                xml = '<request number="%s">\n%s\n</request>\n' % (html.escape(query), "\n".join(rows))
        if xml is None:
            xml = '<request number="%s">\n    <message text="Cannot find case %s"/>\n</request>\n' % (
                html.escape(query), html.escape(query))
        return Response.text(xml, 200, content_type="text/xml")

    def _report_form(self, court: str, query: str) -> Response:
        case_id = query.split("&")[0]
        case = self.district.get((court, case_id))
        if case is None:
            return Response.text(self._error_page(court, "Error: case %s not found." % case_id))
        text = (PACER_FIXTURES / "report_form.html").read_text(encoding="utf-8")
        text = (text.replace("@@COURT@@", court).replace("@@CASE_ID@@", case_id)
                .replace("@@DOCKET_NUMBER@@", html.escape(case.docket_number))
                .replace("@@TITLE@@", html.escape(case.title)))
        return Response.text(text)

    def _report(self, request: Request, court: str, user: str) -> Response:
        fields = _parse_body(request)
        case_id = (fields.get("all_case_ids") or fields.get("case_id") or "").strip()
        case = self.district.get((court, case_id))
        if case is None:
            odd = self.not_dockets.get((court, case_id))
            if odd is not None:  # PACER answered something that is not a docket (not billed)
                return Response.text(self._localize(odd.read_bytes().decode("utf-8", "replace"), court))
            return Response.text(self._error_page(court, "Error: case %s not found." % case_id))
        body = self._localize(self.filter_report(case.text(), fields), court)
        pages = report_pages(len(body.encode("utf-8")))
        for _ in range(5):  # the receipt states the bill of the page that carries it
            text = self._receipt(body, user, pages, cost_of(pages))
            actual = report_pages(len(text.encode("utf-8")))
            if actual == pages:
                break
            pages = actual
        n_bytes = len(text.encode("utf-8"))
        if not self._still_wanted(request):
            return Response.text(text)  # nobody to serve it to: not billed
        self._charge("docket_report", court, case_id, pages, cost_of(pages), bytes=n_bytes)
        return Response.text(text)

    def _paced(self, response: Response) -> Response:
        """A document's PDF, sent over ``purchase_pace`` seconds."""
        response.pace = self.purchase_pace or None
        return response

    def _still_wanted(self, request: Request) -> bool:
        """After ``purchase_delay``: is the client still there to be served?"""
        self._at_gate()
        if self.purchase_delay:
            import time

            time.sleep(self.purchase_delay)
        return not request.client_gone()

    @staticmethod
    def _receipt(text: str, user: str, pages: int, cost: float) -> str:
        """Fill in the Transaction Receipt of a served page."""
        def cell(label, value, t):
            return re.sub(r"(%s:?\s*</font></th><td[^>]*><font[^>]*>)[^<]*(</font>)" % label,
                          lambda m: m.group(1) + " %s " % value + m.group(2), t, flags=re.I)
        text = cell("Billable Pages", pages, text)
        text = cell("Cost", "%.2f" % cost, text)
        text = cell("PACER Login", html.escape(user), text)
        return text

    def _doc1(self, request: Request, court: str, doc_id: str, user: str) -> Response:
        doc = self.document(court, doc_id)
        wants_filing = len(doc_id) > 4 and doc_id[3] == "0"
        if request.method == "GET" and wants_filing and (doc.attachments or doc.attachment_page):
            return self._attachment_page(court, doc)
        pages = document_pages(doc.pdf.page_count or 1, doc.transcript)
        cost = 0.0 if doc.free else cost_of(pages)
        if request.method == "POST":
            data = doc.pdf.read()
            if not self._still_wanted(request):
                return Response(200, data, content_type="application/pdf")  # not billed
            self._charge(doc.kind, court, doc.case_id, pages, cost, doc_id=doc.doc_id)
            return self._paced(Response(200, data, {"Content-Disposition": 'inline; filename="%s.pdf"' % doc_id},
                                        content_type="application/pdf"))
        return Response.text(self._confirmation(court, doc, doc_id, user, pages, cost))

    def _confirmation(self, court, doc: Document, doc_id: str, user: str, pages: int, cost: float) -> str:
        template = None
        if self.corpus is not None:
            path = self.corpus / "confirmation_pages" / "cand_1.html"
            if path.is_file():
                template = path.read_text(encoding="utf-8")
        if template is None:
            template = (PACER_FIXTURES / "confirmation.html").read_text(encoding="utf-8")
        action = "%sdoc1/%s" % (self.ecf_url(court), doc_id)
        hidden = ('<input type="hidden" name="caseid" value="%s"><input type="hidden" name="de_seq_num" value="%s">'
                  '<input type="hidden" name="got_receipt" value="1"><input type="hidden" name="pdf_toggle_possible" value="1">'
                  % (doc.case_id, doc.seq))
        text = re.sub(r'<form method="post" action="[^"]*"[^>]*>',
                      lambda m: '<form method="post" action="%s">%s' % (action, hidden), template, count=1)
        text = re.sub(r"<!-- saved from url=[^>]*-->\s*", "", text)
        text = text.replace("./CAND-ECF_files/", "/")
        text = re.sub(r"(Description:\s*</font></th><td[^>]*><font[^>]*>)[^<]*",
                      lambda m: m.group(1) + " Image%s-%s " % (doc.entry_number or "0", 0), text)
        text = re.sub(r"(Case Number:\s*</font></th><td[^>]*><font[^>]*>)[^<]*",
                      lambda m: m.group(1) + " %s" % html.escape(doc.docket_number), text)
        text = re.sub(r"(Client Code:\s*</font></th><td[^>]*><font[^>]*>)[^<]*",
                      lambda m: m.group(1) + "  ", text)
        text = re.sub(r"(Pacer Login:\s*</font></th><td[^>]*><font[^>]*>)[^<]*",
                      lambda m: m.group(1) + " %s " % html.escape(user), text, flags=re.I)
        now = dt.datetime.now().strftime("%a %b %d %H:%M:%S %Y").replace(" 0", "  ")
        text = re.sub(r'(<td colspan="4" align="CENTER"><font[^>]*>)[^<]*', lambda m: m.group(1) + now, text, count=1)
        text = self._receipt(text, user, pages, cost)
        return self._localize(text, court)

    def _attachment_page(self, court: str, doc: Document) -> Response:
        if doc.attachment_page is not None:
            return Response.text(self._localize(doc.attachment_page.read_bytes().decode("utf-8", "replace"), court))
        ecf = "https://ecf.%s.uscourts.gov" % court

        def row_link(d: Document, label):
            shown = d.doc_id[:3] + "1" + d.doc_id[4:]
            return ('<a href="%s/doc1/%s" onClick="goDLS(\'/doc1/%s\',\'%s\',\'%s\',\'\',\'\',\'1\',\'\',\'\',\'\');'
                    'return(false);">%s</a>' % (ecf, shown, shown, doc.case_id, doc.seq, label))

        def size(d):
            n = d.pdf.size if d.pdf else 0
            return "%.1f KB" % (n / 1024.0)

        main_pages = doc.pdf.page_count or 1 if doc.pdf else 1
        rows = ['<tr>\n<td colspan="2"><b>Document Number:</b></td>\n<td width="50px"><input type="checkbox" '
                'name="document_%s_0" value="%s"></td>\n<td>%s</td>\n<td>%d pages</td>\n<td>%s</td>\n</tr>\n'
                % (doc.entry_number, doc.doc_id[4:], row_link(doc, doc.entry_number or "1"), main_pages, size(doc)),
                '<tr height="50px">\n<td width="150px" colspan="2"><b>Attachment</b></td>\n<td width="200px" '
                'colspan="2"><b>Description</b></td>\n<td width="100px"><b>Pages</b></td>\n<td width="100px">'
                '<b>Size</b></td>\n</tr>\n']
        for number, description, att in doc.attachments:
            if att.pdf is None:
                self.document(court, att.doc_id)
            rows.append('<tr>\n<td width="50px"><input type="checkbox" name="document_%s_%s" value="%s"></td>\n'
                        '<td>%s</td>\n<td colspan="2">%s </td>\n<td>%d pages</td>\n<td>%s</td>\n</tr>\n'
                        % (doc.entry_number, number, att.doc_id[4:], row_link(att, number),
                           html.escape(description), att.pdf.page_count or 1, size(att)))
        text = (PACER_FIXTURES / "attachment_page.html").read_text(encoding="utf-8")
        text = text.replace("@@COURT@@", court.upper()).replace("@@ROWS@@", "".join(rows))
        return Response.text(self._localize(text, court))
