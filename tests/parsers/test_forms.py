"""parsers/forms.py: PACER's forms read as a browser submits them, on the
corpus's confirmation, attachment and docket pages and on pages made here."""
from __future__ import annotations

import re

import pytest

import parsers
from parsers import ParseError, confirmation, forms

from .conftest import corpus_params, court_of

NOW_MS = 1_700_000_000_000


def page_url(court: str) -> str:
    return f"https://ecf.{court}.uscourts.gov/doc1/000"


def confirmation_pages():
    """The corpus's confirmation pages that are one (with a receipt): not
    ca8_2 (an attachment list) or txwd_1 (a menu page)."""
    out = []
    for param in corpus_params("confirmation_pages", "*.html"):
        path = param.values[0]
        if path is not None:
            try:
                parsers.parse("confirmation", path.read_bytes(), court_of(path))
            except ParseError:
                continue
        out.append(param)
    return out


@pytest.mark.parametrize("path", confirmation_pages())
def test_every_confirmation_page_has_its_purchase_form(path):
    court = court_of(path)
    text = parsers.decode_page(path.read_bytes())
    receipt = parsers.parse("confirmation", text, court)
    form = forms.purchase_form(text, page_url(court), now_ms=NOW_MS)
    fields = form["fields"]
    # an absolute address on the court's own host, never a button's name or value
    assert re.match(rf"https://ecf\.{court}\.uscourts\.gov/", form["action"]), form["action"]
    assert not any(v in ("Accept Charges and Retrieve", "View Document") for v in fields.values())
    if "dls_id" in fields:  # CM/ECF appellate: ShowDoc, stamped as its script does
        assert fields["servlet"] == "ShowDoc"
        assert fields["dls_id"] == receipt["pacer_doc_id"]
        assert fields["caseId"] == receipt["pacer_case_id"]
        assert fields["recp"] == str(NOW_MS)
        assert fields["incPdfHeaderDisp"] == "Y"  # a checked box is sent
    else:  # CM/ECF district: goDLS('/doc1/..', caseid, de_seq_num, ...)
        assert "/doc1/" in form["action"]
        assert fields["caseid"] == receipt["pacer_case_id"]
        assert "de_seq_num" in fields
        assert fields["got_receipt"] == "1" and fields["pdf_header"] == "1"


def test_district_confirmation_sequence_number_from_godls(shared):
    text = parsers.decode_page((shared / "confirmation_pages" / "cand_1.html").read_bytes())
    form = forms.purchase_form(text, page_url("cand"))
    assert form == {"action": "https://ecf.cand.uscourts.gov/doc1/035122812318",
                    "fields": {"caseid": "330489", "de_seq_num": "2369", "got_receipt": "1",
                               "pdf_header": "1"}}


def test_appellate_recp_is_left_as_on_the_page_without_a_moment(shared):
    text = parsers.decode_page((shared / "confirmation_pages" / "ca9_1.html").read_bytes())
    assert forms.purchase_form(text, page_url("ca9"))["fields"]["recp"] == ""


@pytest.mark.parametrize("path", corpus_params("attachment_pages", "*.html"))
def test_attachment_menus_submit_no_unchecked_box(path):
    """A district attachment menu's boxes are unchecked: a browser sends none of them."""
    text = parsers.decode_page(path.read_bytes())
    try:
        form = forms.form(text, page_url(court_of(path)))
    except ParseError as exc:
        assert "no form" in str(exc)  # nysd's menus without a download form
        return
    assert not any(name.startswith("document_") for name in form["fields"])


def test_no_form_is_a_clear_error(shared):
    text = parsers.decode_page((shared / "confirmation_pages" / "txwd_1.html").read_bytes())
    with pytest.raises(ParseError, match="no form on the page"):
        forms.purchase_form(text, page_url("txwd"))
    with pytest.raises(ParseError, match="empty page"):
        forms.purchase_form("", page_url("cand"))


MADE = """<html><body>
<form name="one" action="search.pl"><input name="q" value="x"></form>
<form method="post" action="../cgi-bin/DktRpt.pl?1-L_1_0-1" onsubmit="check()">
<input type="hidden" name="all_case_ids" value="364733">
<input type="radio" name="date_range_type" value="Filed" checked>
<input type="radio" name="date_range_type" value="Entered">
<input type="text" name="date_from">
<input type="checkbox" name="list_of_parties_and_counsel" value="on" checked>
<input type="checkbox" name="terminated_parties" value="on">
<input type="checkbox" name="pdf_header" checked>
<select name="sort1"><option value="oldest date first">Oldest</option>
<option value="most recent date first" selected>Newest</option></select>
<select name="output_format"><option>html</option><option>pdf</option></select>
<textarea name="note">a note</textarea>
<input type="submit" name="button1" value="Run Report"><input type="reset" value="Clear">
<input type="image" name="go" src="go.png"><input value="no name">
</form></body></html>"""


def test_a_form_as_a_browser_submits_it():
    url = "https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733"
    form = forms.report_form(MADE, url)
    assert form["action"] == "https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?1-L_1_0-1"
    assert form["method"] == "POST"
    assert form["fields"] == {"all_case_ids": "364733", "date_range_type": "Filed",
                              "date_from": "", "list_of_parties_and_counsel": "on",
                              "pdf_header": "on", "sort1": "most recent date first",
                              "output_format": "html", "note": "a note"}
    first = forms.form(MADE, url)
    assert first["action"] == "https://ecf.cand.uscourts.gov/cgi-bin/search.pl"
    assert first["method"] == "GET" and first["fields"] == {"q": "x"}


def test_a_page_without_the_report_form_is_a_clear_error(shared):
    text = parsers.decode_page((shared / "district" / "cand.html").read_bytes())
    with pytest.raises(ParseError, match="no form posting to DktRpt.pl"):
        forms.report_form(text, "https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733")


def test_the_test_servers_report_form():
    from tests.servers.pacer.common import PACER_FIXTURES

    text = (PACER_FIXTURES / "report_form.html").read_text(encoding="utf-8")
    form = forms.report_form(text, "https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733")
    assert form["action"] == "https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?1-L_1_0-1"
    assert form["fields"]["date_range_type"] == "Filed"


def test_a_relative_or_empty_action_is_the_pages_own_address():
    url = "https://ecf.ca9.uscourts.gov/docs1/009127866428"
    page = '<form method="post"><input type="hidden" name="dls_id" value="9"></form>'
    assert forms.purchase_form(page, url, now_ms=5) == {
        "action": url, "fields": {"dls_id": "9", "recp": "5"}}
    page = '<form action="/n/beam/servlet/TransportRoom"><input name="recp" value="1"></form>'
    got = forms.purchase_form(page, url, now_ms=5)
    assert got["action"] == "https://ecf.ca9.uscourts.gov/n/beam/servlet/TransportRoom"
    assert got["fields"] == {"recp": "1", "got_receipt": "1", "pdf_header": "1"}


def test_a_form_posting_elsewhere_is_read_as_it_is():
    """Where a form posts is reported; whether to follow it is the spider's call."""
    page = '<form action="https://evil.example/steal"><input name="dls_id" value="1"></form>'
    got = forms.purchase_form(page, "https://ecf.ca9.uscourts.gov/docs1/1")
    assert got["action"] == "https://evil.example/steal"


@pytest.mark.parametrize("path", corpus_params("district", "*.html"))
def test_a_reports_receipt(path):
    """A docket report's receipt, when PACER added one: pages and cost."""
    text = parsers.decode_page(path.read_bytes())
    found = confirmation.receipt(text)
    if found is None:
        assert "Transaction Receipt" not in text or "Billable Pages" not in text
        return
    assert set(found) == {"billable_pages", "cost"}
    assert isinstance(found["billable_pages"], int) and found["billable_pages"] >= 0
    assert found["cost"] is None or found["cost"] >= 0
