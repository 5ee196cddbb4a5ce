"""CM/ECF of the courts of appeals (``/ecf/<court>/``): the docket from
TransportRoom's CaseSummary.jsp (``dateFrom``/``dateTo``), and documents:
the Download Confirmation page (``docs1/<dls_id>``, or ``servlet=ShowDoc``
asked with GET), whose form (``ShowDoc``, POST) buys the PDF.
"""
from __future__ import annotations

import datetime as dt
import html
import re
import zlib

from ..base import Request, Response
from .common import _parse_body, _parse_date
from .fees import cost_of, document_pages, report_pages


class AppellateMixin:
    """PacerServer's appellate CM/ECF pages."""

    @staticmethod
    def filter_appellate(text: str, date_from: str = "", date_to: str = "") -> str:
        """Keep only the appellate docket entries filed from ``date_from`` to
        ``date_to`` (MM/DD/YYYY, inclusive; the CaseSummary.jsp ``dateFrom`` /
        ``dateTo`` parameters)."""
        start, end = _parse_date(date_from), _parse_date(date_to)
        if start is None and end is None:
            return text
        at = text.find("NEW SECTION - DOCKET ENTRIES")
        if at < 0:
            return text

        def keep(match):
            m = re.match(r"(?:<!--[^>]*-->\s*)?<tr><td valign=top>(\d\d/\d\d/\d{4})</td>", match.group(0), re.I)
            day = _parse_date(m.group(1)) if m else None
            if day is None:
                return match.group(0)
            if (start and day < start) or (end and day > end):
                return ""
            return match.group(0)

        rows = re.compile(r"(?:<!--[^>]*-->\s*)?<tr><td valign=top>\d\d/\d\d/\d{4}</td>.*?</tr>\s*", re.S | re.I)
        return text[:at] + rows.sub(keep, text[at:])

    def _transport_room(self, request: Request, court: str, user: str) -> Response:
        fields = dict(request.query)
        if request.method == "POST":
            fields.update(_parse_body(request))
        servlet = fields.get("servlet", "")
        if servlet.startswith(("CaseSummary", "DocketReport")):
            number = fields.get("caseNum", "")
            case = self.appellate.get((court, number))
            odd = self.not_dockets.get((court, number))
            if case is None and odd is not None:  # not a docket (not billed)
                return Response(200, self._localize(odd.read_bytes().decode("iso-8859-1"), court).encode(
                    "iso-8859-1", "replace"), content_type="text/html; charset=iso-8859-1")
            if case is None:
                return Response.text("<html><head><title>Case Search</title></head><body><b>No case found "
                                     "with the criteria entered: %s</b></body></html>" % html.escape(number))
            text = self._localize(case.source.read_bytes().decode("iso-8859-1"), court)
            text = self.filter_appellate(text, fields.get("dateFrom", ""), fields.get("dateTo", ""))
            pages = report_pages(len(text.encode("iso-8859-1", "replace")))
            cost = cost_of(pages)
            self._charge("appellate_docket", court, number, pages, cost)
            return Response(200, text.encode("iso-8859-1", "replace"), content_type="text/html; charset=iso-8859-1")
        if servlet.startswith("ShowDoc"):
            dls_id = fields.get("dls_id", "") or fields.get("docId", "") or servlet.partition("/")[2]
            if not dls_id.isdigit():
                return Response.text("<html><body><b>Document not found.</b></body></html>", 404)
            return self._appellate_document(request, court, dls_id, user, fields.get("caseId") or "")
        return Response.text("<html><body><b>Unknown servlet %s</b></body></html>" % html.escape(servlet), 404)

    def _appellate_document(self, request: Request, court: str, dls_id: str, user: str, case_id: str = "") -> Response:
        """GET: the Download Confirmation page; POST (its form: servlet=ShowDoc,
        dls_id, caseId, ...): the PDF, billed."""
        doc = self.document(court, dls_id)
        pages = document_pages(doc.pdf.page_count or 1, doc.transcript)
        cost = 0.0 if doc.free else cost_of(pages)
        if request.method == "POST":
            self._charge(doc.kind, court, doc.case_id or case_id, pages, cost, doc_id=dls_id)
            return Response(200, doc.pdf.read(), {"Content-Disposition": 'inline; filename="%s.pdf"' % dls_id},
                            content_type="application/pdf")
        number = doc.docket_number or case_id
        label = "Case: %s, Document: %s" % (number, doc.entry_number or "1")
        now = dt.datetime.now().strftime("%m/%d/%Y %H:%M:%S")
        page = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><title>Download Confirmation</title>
<style type="text/css" media="print">.noprint{display:none;}</style>
</head><body>
<script type="text/javascript">
function doSubmit() { document.AccCharge.recp.value = new Date().getTime() + ""; document.AccCharge.submit(); }
</script>
<center><strong><font size="5">Download Confirmation</font></strong><br><br>
<strong>Document: PDF Document (%(label)s) </strong><br><br>
Click on the "Accept Charges and Retrieve" button ONCE at the bottom of this page to download the document image.<br>
If you download this document, your PACER account will be billed according to the table below:<br>
<hr><center><table border="1" bgcolor="WHITE" width="500">
<tbody><tr><th colspan="4"><font size="+1" color="DARKRED">PACER Service Center</font></th></tr>
<tr><th colspan="4"><font color="DARKBLUE">Transaction Receipt</font></th></tr>
<tr></tr>
<tr></tr>
<tr><td colspan="4" align="CENTER">
<font size="-1" color="DARKBLUE">U.S. Court of Appeals - %(now)s</font></td></tr>
<tr><th align="LEFT"><font size="-1" color="DARKBLUE">PACER Login:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">%(user)s</font></td><th align="LEFT">
<font size="-1" color="DARKBLUE">Client Code:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">&nbsp;</font></td></tr><tr><th align="LEFT">
<font size="-1" color="DARKBLUE">Description:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">PDF Document</font></td><th align="LEFT">
<font size="-1" color="DARKBLUE">
Search Criteria:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">%(label)s</font></td></tr><tr><th align="LEFT">
<font size="-1" color="DARKBLUE">Billable Pages:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">%(pages)d</font></td><th align="LEFT">
<font size="-1" color="DARKBLUE">Cost:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">%(cost).2f</font></td></tr>
</tbody></table>
</center>
<hr><center>
<form name="AccCharge" action="%(action)s" method="post">
<input type="hidden" name="servlet" value="ShowDoc">
<input name="CSRF" type="hidden" value="csrf_%(csrf)s">
<input type="hidden" name="incPdfHeader" value="Y">
<input type="hidden" name="dls_id" value="%(dls_id)s">
<input type="hidden" name="caseId" value="%(case_id)s">
<input type="hidden" name="pacer" value="t">
<input type="hidden" name="recp" value="">
<br><br><input type="button" value="Accept Charges and Retrieve" onclick="doSubmit()">
</form></center>
</center></body></html>
""" % {"label": html.escape(label), "now": now, "user": html.escape(user), "pages": pages, "cost": cost,
               "action": self.ecf_url(court) + "n/beam/servlet/TransportRoom", "csrf": zlib.crc32(dls_id.encode()),
               "dls_id": dls_id, "case_id": html.escape(case_id or doc.case_id)}
        return Response(200, page.encode("cp1252", "replace"), content_type="text/html; charset=windows-1252")
