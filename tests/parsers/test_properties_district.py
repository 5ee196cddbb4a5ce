"""Property tests: whatever the input - random text, CM/ECF-looking tag soup,
real pages cut short or mangled - the district-side parsers return a dict
or raise ParseError, never anything else."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from parsers import ParseError, parse

from .conftest import CORPUS, PAGES

KINDS = ["district", "ia", "rss", "attachment", "possible_cases", "confirmation"]
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(kind, text):
    try:
        out = parse(kind, text, "cand")
    except ParseError as exc:
        assert str(exc)
        return None
    assert isinstance(out, dict)
    return out


HTML_BITS = [
    "<html>", "</html>", "<body>", "<table>", "</table>", "<tbody>", "<tr>", "</tr>", "<td>",
    "</td>", "<th>", "<b>", "</b>", "<u>", "</u>", "<i>", "</i>", "<br>", "<center>", "<font>",
    "<h3>", "</h3>", "<pre>", "</pre>", "<form>", "<input type=checkbox value='12'>",
    "<input type=password>", "<!-- c -->", "<script>x<y</script>", "&nbsp;", "&amp;", "&#064;",
    "CIVIL DOCKET FOR CASE #: ", "Bankruptcy Petition #: ", "1:20-cv-00001-ABC", "17-80033",
    "Docket Text", "Date Filed", "Date Filed: ", "01/02/2020", "13/45/2020", "(Entered: 01/03/2020)",
    "Assigned to: Judge A B Cee", "Referred to: ", "Plaintiff", "Defendant (1)", "represented&nbsp;by",
    "<a href='/doc1/12315678901' onclick=\"goDLS('/doc1/12315678901','99','7','')\">", "</a>",
    "<a href='/doc1/'>", "1", "2", "doc", "v.", "Pending Counts", "Disposition", "-----",
    "TERMINATED: 01/01/2021", "(See above for address)", "Document Selection Menu",
    "Document Number:", "3 pages", "1.0 MB", "Transaction Receipt", "Billable Pages:", "Cost:",
    "0.30", "Case: 16-10109, Document: 1-1", "Search Criteria:", "Case not found.", "\x00", "\u00a0",
    "é", "<", ">", "\"", "'", " ", "\n",
]
XML_BITS = [
    "<?xml version='1.0'?>", "<gov_uscourts_docket>", "</gov_uscourts_docket>", "<case_details>",
    "</case_details>", "<court>cand</court>", "<docket_num>3:20-cv-05910</docket_num>",
    "<pacer_case_num>364733</pacer_case_num>", "<case_name>A v. B</case_name>",
    "<date_case_filed>2020-08-21</date_case_filed>", "<document_list>", "</document_list>",
    "<document doc_num='1' attachment_num='0'>", "<document doc_num='x' attachment_num='y'>",
    "<document>", "</document>", "<date_filed>0000-00-00</date_filed>", "<long_desc>t</long_desc>",
    "<party_list>", "</party_list>", "<party>", "</party>", "<name>N</name>", "<type>T</type>",
    "<rss version='2.0'>", "</rss>", "<channel>", "</channel>", "<item>", "</item>",
    "<title>1:18-cv-03365 Chau v. Donovan</title>", "<title>11-8 A v. B</title>", "<title>",
    "</title>", "<description>[Order] (&lt;a href='/doc1/1?de_seq_num=2'&gt;3&lt;/a&gt;)</description>",
    "<pubDate>Wed, 18 Apr 2018 00:09:55 GMT</pubDate>", "<pubDate>junk</pubDate>", "<guid>g</guid>",
    "<request number='1'>", "</request>", "<case number='1:16-cv-745' id='1' title='t'/>",
    "<case/>", "<message text='Cannot find case'/>", "&amp;", "&", "<", "]]>", "\x00", "é", " ",
]

soup_html = st.lists(st.sampled_from(HTML_BITS), max_size=80).map("".join)
soup_xml = st.lists(st.sampled_from(XML_BITS), max_size=60).map("".join)


def sample_pages():
    """Real pages when ../shared is there, plus the self-made ones."""
    pages = [p.read_text(errors="replace") for p in sorted(PAGES.glob("*.html"))]
    for folder, pattern in [("district", "cand*.html"), ("internet_archive", "cand*.xml"),
                            ("rss", "wvsd.xml"), ("attachment_pages", "cand_035023513538.html"),
                            ("possible_case_numbers", "armes*.xml"), ("confirmation_pages", "cand_1.html"),
                            ("not_dockets", "flsd_5*.html")]:
        path = CORPUS / folder
        if path.is_dir():
            pages += [p.read_text(errors="replace") for p in sorted(path.glob(pattern))[:2]]
    return pages


PAGES_TEXT = sample_pages()


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(text=st.text(max_size=400))
def test_random_text(kind, text):
    check(kind, text)


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(text=soup_html)
def test_html_soup(kind, text):
    check(kind, text)


@pytest.mark.parametrize("kind", ["ia", "rss", "possible_cases", "district"])
@SETTINGS
@given(text=soup_xml)
def test_xml_soup(kind, text):
    check(kind, text)


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_truncated_pages(kind, data):
    page = data.draw(st.sampled_from(PAGES_TEXT))
    cut = data.draw(st.integers(min_value=0, max_value=len(page)))
    check(kind, page[:cut])


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_mangled_pages(kind, data):
    page = data.draw(st.sampled_from(PAGES_TEXT))
    edits = data.draw(st.lists(st.tuples(st.integers(0, max(0, len(page) - 1)),
                                         st.integers(0, 40), st.text(max_size=8)), max_size=6))
    for pos, length, insert in edits:
        page = page[:pos] + insert + page[pos + length:]
    check(kind, page)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes(data):
    for kind in KINDS:
        check(kind, data)


def test_every_parse_result_is_json_serialisable():
    import json
    for text in PAGES_TEXT:
        for kind in KINDS:
            out = check(kind, text)
            if out is not None:
                json.dumps(out)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tag", ["font", "div", "b", "x"])
def test_deeply_nested_markup(kind, tag):
    deep = f"<{tag}>" * 20000
    page = ("<html><body><h3>CIVIL DOCKET FOR CASE #: 1:20-cv-00001</h3>"
            "<table><tr><td><b><u>Plaintiff</u></b></td></tr><tr><td><b>N</b></td>"
            f"<td>represented by</td><td>{deep}<b>A</b></td></tr></table>"
            "<table><tr><td>Date Filed</td><th>#</th><td>Docket Text</td></tr>"
            f"<tr><td>01/01/2020</td><td>1</td><td>{deep}text</td></tr></table></body></html>")
    check(kind, page)
    check(kind, f"<gov_uscourts_docket><case_details>{deep}</case_details></gov_uscourts_docket>")
