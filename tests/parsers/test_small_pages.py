"""Attachment pages, possible_case_numbers answers and purchase confirmation
pages: golden files compared field by field with the reference JSON, plus
pages that must be refused."""
from __future__ import annotations

import pytest

from parsers import ParseError, parse
from parsers.possible_cases import best_match

from .conftest import CORPUS, PAGES, corpus_params, court_of, norm, reference

# ------------------------------------------------------------------ attachment pages

# nysd_12707998365 and nysd_12708012889 list attachments 2, 3, 4...: attachment
# 1 is not on the page (the checkbox names say document_16_2 ...). The
# reference renumbers them 1, 2, 3; we keep the court's numbers.
RENUMBERED_IN_REFERENCE = {"nysd_12707998365.html", "nysd_12708012889.html"}


@pytest.mark.parametrize("path", corpus_params("attachment_pages", "*.html"))
def test_attachment_golden(path):
    want = reference(path)
    got = parse("attachment", path.read_bytes(), court_of(path))
    for key, value in want.items():
        if key != "attachments":
            assert norm(got[key]) == norm(value), key
    assert len(got["attachments"]) == len(want["attachments"])
    for i, (w, g) in enumerate(zip(want["attachments"], got["attachments"])):
        for key, value in w.items():
            if key == "attachment_number" and path.name in RENUMBERED_IN_REFERENCE:
                continue
            assert norm(g[key]) == norm(value), (i, key)
    numbers = [a["attachment_number"] for a in got["attachments"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_attachment_numbers_as_printed(shared):
    got = parse("attachment", (CORPUS / "attachment_pages" / "nysd_12708012889.html").read_bytes())
    assert [a["attachment_number"] for a in got["attachments"]] == [2, 3, 4]


ATTACHMENT_PAGE = """<html><body><div id="cmecfMainContent">
<p><b>Document Selection Menu</b></p><table>
<tr><td colspan="2"><b>Document Number:</b></td><td><input type="checkbox" value="1-2048-3"></td>
<td><a href="/doc1/035123513538" onClick="goDLS('/doc1/035123513538','417880','10','','','1','','','');return(false);">1</a></td>
<td>3 pages</td><td> 2.0 KB</td></tr>
<tr><td colspan="2"><b>Attachment</b></td><td colspan="2"><b>Description</b></td><td><b>Pages</b></td><td><b>Size</b></td></tr>
<tr><td><input type="checkbox" value="1-100-1"></td><td><a href="/doc1/035123513539">1</a></td><td colspan="2">Exhibit A </td><td>1 page</td><td>100 bytes</td></tr>
<tr><td></td><td>2</td><td colspan="2">Sealed exhibit</td><td></td><td></td></tr>
</table></div></body></html>"""


def test_attachment_small_page():
    got = parse("attachment", ATTACHMENT_PAGE, "cand")
    assert (got["document_number"], got["pacer_doc_id"], got["pacer_case_id"]) == (1, "035023513538", "417880")
    assert (got["page_count"], got["file_size_bytes"], got["file_size_str"]) == (3, 2048, "2.0 KB")
    first, sealed = got["attachments"]
    assert (first["attachment_number"], first["description"], first["page_count"]) == (1, "Exhibit A", 1)
    assert first["pacer_doc_id"] == "035023513539"
    assert (sealed["attachment_number"], sealed["pacer_doc_id"]) == (2, None)


@pytest.mark.parametrize("text", [
    "", "<html><body>Error: The page ID does not exist.</body></html>",
    "<?xml version='1.0'?><request number='1'/>",
])
def test_attachment_refused(text):
    with pytest.raises(ParseError):
        parse("attachment", text, "cand")


def test_attachment_refuses_login_and_dockets():
    with pytest.raises(ParseError):
        parse("attachment", (PAGES / "pacer_login.html").read_bytes(), "cand")
    with pytest.raises(ParseError):
        parse("attachment", (PAGES / "district_edge.html").read_bytes(), "cand")


# ------------------------------------------------------------------ possible case numbers

@pytest.mark.parametrize("path", corpus_params("possible_case_numbers", "*.xml"))
def test_possible_cases_golden(path):
    got = parse("possible_cases", path.read_bytes(), None)
    ref = path.with_suffix(".json")
    if not ref.exists():  # no_results.xml, sealed_case.xml
        assert got["cases"] == [] and got["message"]
        return
    want = reference(path)
    assert any(all(norm(c.get(k)) == norm(v) for k, v in want.items()) for c in got["cases"])
    name = path.stem.replace("-", " ")
    assert best_match(got, name)["pacer_case_id"] == want["pacer_case_id"]


def test_possible_cases_fields():
    xml = ('<request number="16-01152"><case number="2:16-cv-1152" id="977547" '
           'title="2:16-cv-01152-JJT Armes v. Hot Pizzas LLC (closed 06/09/2017)" '
           'sortable="2:2016-cv-01152-JJT"/></request>')
    case = parse("possible_cases", xml)["cases"][0]
    assert case["docket_number"] == "2:16-cv-1152"
    assert case["docket_number_full"] == "2:16-cv-01152"
    assert case["case_name"] == "Armes v. Hot Pizzas LLC"
    assert case["date_terminated"] == "2017-06-09"


def test_possible_cases_unescaped_ampersand():
    xml = '<request number="1"><case number="1:16-cv-745" id="1" title="1:16-cv-00745 A & B v. C"/></request>'
    assert parse("possible_cases", xml)["cases"][0]["pacer_case_id"] == "1"


@pytest.mark.parametrize("text", [
    "", "<html><body>Login</body></html>", "<!DOCTYPE html><html></html>", "<foo/>", "garbage <<<",
])
def test_possible_cases_refused(text):
    with pytest.raises(ParseError):
        parse("possible_cases", text)


def test_possible_cases_login_page_refused():
    with pytest.raises(ParseError):
        parse("possible_cases", (PAGES / "pacer_login.html").read_bytes())


# ------------------------------------------------------------------ confirmation pages

@pytest.mark.parametrize("path", corpus_params("confirmation_pages", "*.html"))
def test_confirmation_golden(path):
    want = reference(path)
    if not want:
        with pytest.raises(ParseError):
            parse("confirmation", path.read_bytes(), court_of(path))
        return
    got = parse("confirmation", path.read_bytes(), court_of(path))
    for key, value in want.items():
        if key == "cost":
            assert got[key] == pytest.approx(float(value))
        elif key == "billable_pages":
            assert got[key] == int(value)
        else:
            assert norm(got[key]) == norm(value), key


def test_confirmation_ids(shared):
    got = parse("confirmation", (CORPUS / "confirmation_pages" / "cand_1.html").read_bytes(), "cand")
    assert got["pacer_doc_id"] == "035022812318"
    assert got["pacer_case_id"] == "330489"
    got = parse("confirmation", (CORPUS / "confirmation_pages" / "ca9_1.html").read_bytes(), "ca9")
    assert (got["pacer_doc_id"], got["pacer_case_id"]) == ("009127866428", "277767")


@pytest.mark.parametrize("text", [
    "", "<html><body>You do not have permission to view this document.</body></html>",
    "<html><table><tr><td>Transaction Receipt</td></tr></table></html>",
])
def test_confirmation_refused(text):
    with pytest.raises(ParseError):
        parse("confirmation", text, "cand")


def test_confirmation_refuses_login():
    with pytest.raises(ParseError, match="login"):
        parse("confirmation", (PAGES / "pacer_login.html").read_bytes(), "cand")
