"""CM/ECF appellate dockets and appellate attachment pages.

Golden files: every page in ../shared/corpus/pacer/{appellate,
appellate_attachment_pages} is parsed and compared, field by field with
whitespace folded, with the reference JSON beside it (juriscraper's output);
every page in not_appellate_dockets/ must be refused with ParseError.
Small pages made here cover the edge cases.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from parsers import ParseError, parse
from parsers.common import find_date, harmonize_case_name, normalize_judge
from parsers.appellate import parse as parse_appellate
from parsers.appellate_attachment import parse as parse_attachment

from .conftest import CORPUS, PROJECT, SHARED, corpus_params as corpus_files  # noqa: F401


def court_of(path: Path) -> str:
    return path.name.split(".")[0].split("_")[0].split("-")[0]


def fold(value):
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [fold(v) for v in value]
    if isinstance(value, dict):
        return {k: fold(v) for k, v in value.items()}
    return value


def assert_matches(want, got, path="", skip=()):
    """Every field of the reference is in ours, equal once whitespace is folded."""
    if path in skip:
        return
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: expected an object, got {got!r}"
        for key, value in want.items():
            assert key in got, f"{path}.{key} missing"
            assert_matches(value, got[key], f"{path}.{key}", skip)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (
            f"{path}: {len(want)} items wanted, got {len(got) if isinstance(got, list) else got!r}")
        for i, (a, b) in enumerate(zip(want, got)):
            assert_matches(a, b, f"{path}[{i}]", skip)
    else:
        assert fold(want) == fold(got), f"{path}: want {want!r}, got {got!r}"


# Where we knowingly differ from the reference parser:
# - it reads "Date Disposed"/"Disposition" from anywhere on the page (the
#   Prior Cases table); we read them from the originating court's table only;
# - it leaves assigned_to empty when the judge is labelled "Originating Judge".
OGC_KNOWN = (".originating_court_information.date_disposed",
             ".originating_court_information.disposition")


@pytest.mark.parametrize("path", corpus_files("appellate", "*.html"))
def test_appellate_golden(path):
    want = json.loads(path.with_suffix(".json").read_text())
    got = parse("appellate", path.read_bytes(), court=court_of(path))
    skip = set(OGC_KNOWN)
    if not (want.get("originating_court_information") or {}).get("assigned_to"):
        skip.add(".originating_court_information.assigned_to")
    assert_matches(want, got, skip=skip)
    json.dumps(got)  # plain data


@pytest.mark.parametrize("path", corpus_files("not_appellate_dockets", "*.html"))
def test_not_appellate_dockets_refused(path):
    with pytest.raises(ParseError):
        parse("appellate", path.read_bytes(), court=court_of(path))


@pytest.mark.parametrize("path", corpus_files("appellate_attachment_pages", "*.html"))
def test_attachment_golden(path):
    want = json.loads(path.with_suffix(".json").read_text())
    got = parse("appellate_attachment", path.read_bytes(), court=court_of(path))
    assert_matches(want, got)


@pytest.mark.parametrize("path", corpus_files("appellate_attachment_pages/acms", "*.compare.json"))
def test_acms_attachment_golden(path):
    want = json.loads(Path(str(path).replace(".compare.json", ".json")).read_text())
    got = parse("appellate_attachment", path.read_bytes(), court=court_of(path))
    assert_matches(want, got)


@pytest.mark.parametrize("path", corpus_files("appellate", "*.html"))
def test_docket_is_not_an_attachment_page(path):
    with pytest.raises(ParseError):
        parse("appellate_attachment", path.read_bytes())


# ------------------------------------------------------------ made pages

STUB = """<html><head><title>{number} Docket</title></head><body>
<table width=100% border=1 cellpadding=4>
<!-- ===================== NEW SECTION - Case Stub ======================== -->
<tr><td><table width=100% border=0>
 <tr><td><b>Court of Appeals Docket #: </b>{number}</td>
  <td valign=top align=right rowspan=2><b>Docketed:</b> 02/03/2021<BR><b>Termed:</b> {termed}</td></tr>
 <tr><td><b>Nature of Suit: </b> 3890 Other Statutory Actions</td></tr>
 <tr><td>{name}</td></tr>
 <tr><td><b>Appeal From:</b> {appeal_from}</td></tr>
 <tr><td><b>Fee Status:</b>  Paid</td></tr>
</table></td></tr>
<!-- ================= NEW SECTION - Panel Assignment ===================== -->
<tr><td><b>Panel Assignment:</b>&nbsp;&nbsp;&nbsp;{panel}</td></tr>
</table>
<!-- ===================NEW SECTION - Party/Aty List ====================== -->
<table width=100% border=1 cellpadding=0><tr><td><table>{parties}</table></td></tr></table>
<!-- ================= NEW SECTION - DOCKET ENTRIES =================== -->
<FORM name="dktEntry"><table><tr><td><table border=0 cellpadding=4>{entries}</table></td></tr></table></FORM>
</body></html>"""


def page(number="21-1234", termed="", name="Jane Roe v. John Doe", appeal_from="null",
         panel="", parties="", entries=""):
    return STUB.format(number=number, termed=termed, name=name, appeal_from=appeal_from,
                       panel=panel, parties=parties, entries=entries)


def test_minimal_docket():
    got = parse_appellate(page(), court="ca7")
    assert got["court_id"] == "ca7"
    assert got["docket_number"] == "21-1234"
    assert got["case_name"] == "Jane Roe v. John Doe"
    assert got["date_filed"] == "2021-02-03"
    assert got["date_terminated"] is None
    assert got["nature_of_suit"] == "3890 Other Statutory Actions"
    assert got["appeal_from"] == ""  # "null" on the page
    assert got["fee_status"] == "Paid"
    assert got["panel"] == []
    assert got["parties"] == [] and got["docket_entries"] == []
    assert got["originating_court_information"] == {}


def test_panel_and_case_name_harmonized():
    got = parse_appellate(page(name="USA, et al v. Ricardo Alvarado, et al",
                               panel="<BR><b>Panel:</b> SLL&nbsp;&nbsp;KVL&nbsp;RT<BR>"
                                     "<b>Date of Hearing:</b> 09/13/2016"))
    assert got["case_name"] == "United States v. Ricardo Alvarado"
    assert got["panel"] == ["SLL", "KVL", "RT"]


ENTRY = """<tr><td valign=top>{date}</td><td valign=top NOWRAP>
<input type=checkbox name='d' value='{seq}'>{link}
</td><td width=90% valign=top>{text}</td></tr>"""


def test_entries_numbers_links_and_stamps():
    entries = "".join([
        ENTRY.format(date="01/06/2016", seq="5967248",
                     link='<a HREF="https://ecf.ca1.uscourts.gov/docs1/00106941384">'
                          '<img src="doclock.gif"></a><BR><Font size=-2>3 pg, 0 KB</FONT>',
                     text="CASE docketed. [16-1033] (CP) [Entered: 01/06/2016 02:35 PM]"),
        ENTRY.format(date="01/08/2016", seq="5967929", link="&nbsp;2&nbsp;",
                     text="Fee paid , receipt <b>021876</b>."),
        ENTRY.format(date="02/30/2016", seq="1", link="", text="bad date: not an entry"),
        "<tr><td colspan=3>spacer</td></tr>",
        ENTRY.format(date="03/01/2016", seq="5967999",
                     link='<a href="/docs1/00106941999?caseId=1">&nbsp;3&nbsp;</a>',
                     text="ORDER"),
    ])
    got = parse_appellate(page(entries=entries))
    e = got["docket_entries"]
    assert [x["date_filed"] for x in e] == ["2016-01-06", "2016-01-08", "2016-03-01"]
    assert e[0]["document_number"] == e[0]["pacer_doc_id"] == "00106941384"
    assert e[0]["date_entered"] == "2016-01-06"
    assert e[0]["pacer_seq_no"] == "5967248"
    assert e[1]["document_number"] == "2" and e[1]["pacer_doc_id"] is None
    assert e[1]["description"] == "Fee paid, receipt 021876."
    assert e[1]["date_entered"] is None
    assert e[2]["document_number"] == "3" and e[2]["pacer_doc_id"] == "00106941999"


def test_no_docket_entries_found():
    got = parse_appellate(page(entries="<tr><td>No docket entries found.</td></tr>"))
    assert got["docket_entries"] == []


def test_parties_terminated_roles_and_see_above():
    parties = """
<tr><td valign=top>ACME CORP<BR>&nbsp;&nbsp;Plaintiff&nbsp;-&nbsp;Appellant,</td>
<td valign=top>Ann Lawyer<br>Direct: 555-1212<br>[COR LD NTC Retained]<br>Firm LLP<br>1 Main St<BR><BR>
Bob Counsel<br>[NTC Retained]<br>Other LLP</td></tr>
<tr><td colspan=2>v.<BR><BR></td></tr>
<tr><td valign=top>JOHN DOE<BR><B>Terminated: </B>07/31/2017<BR>Defendant - Appellee</td>
<td valign=top></td></tr>
<tr><td valign=top>ACME HOLDINGS<BR>Plaintiff</td>
<td valign=top>Ann Lawyer<br>[COR NTC Retained]<BR>(see above)</td></tr>"""
    got = parse_appellate(page(parties=parties))
    p = got["parties"]
    assert [x["name"] for x in p] == ["ACME CORP", "JOHN DOE", "ACME HOLDINGS"]
    assert p[0]["type"] == "Plaintiff - Appellant"
    assert p[0]["attorneys"] == [
        {"name": "Ann Lawyer", "roles": ["COR LD NTC Retained"],
         "contact": "Direct: 555-1212\nFirm LLP\n1 Main St"},
        {"name": "Bob Counsel", "roles": ["NTC Retained"], "contact": "Other LLP"}]
    assert p[1]["date_terminated"] == "2017-07-31" and p[1]["attorneys"] == []
    assert p[2]["attorneys"][0]["contact"] == "Direct: 555-1212\nFirm LLP\n1 Main St"
    assert p[2]["attorneys"][0]["roles"] == ["COR NTC Retained"]


def test_originating_court():
    ogc = """<table>
<tr><td><table>
<tr><td colspan=4><b>Originating Court Information:</b></td></tr>
<tr><td colspan=4><B>District: </B>0975-1 : <A href="https://ecf.hid.uscourts.gov/cgi-bin/DktRpt.pl?x">1:17-cv-00050-DKW-KSC</A></td></tr>
<tr><td colspan=4><B>Trial Judge: </B>F. Dennis Saylor, IV, U.S. District Judge
<tr><td colspan=2><B>Date Filed: </B>02/03/2017</td></tr>
<TR><TD><B>Date Order/Judgment:</B></TD><TD><B>Date NOA Filed:</B></TD></TR>
<TR><TD>03/29/2017</TD><TD>03/30/2017</TD></TR>
</table></td></tr></table>"""
    got = parse_appellate(page().replace("</body>", ogc + "</body>"))
    o = got["originating_court_information"]
    assert o["docket_number"] == "1:17-cv-00050"
    assert o["court_id"] == "hid"
    assert o["assigned_to"] == "F. Dennis Saylor IV"
    assert o["date_filed"] == "2017-02-03"
    assert o["date_judgment"] == "2017-03-29" and o["date_filed_noa"] == "2017-03-30"


@pytest.mark.parametrize("text", [
    "", "   \n", "\x00\x00", "{}", '{"caseDetails": {}}', "<html></html>",
    "<html><body><h1>Login</h1><form><input name='loginid'></form></body></html>",
    "<html><body>Case Number Not Found</body></html>",
    "<b>Court of Appeals Docket #: </b>",  # a label, no number
    "<html><body><h3>UNITED STATES DISTRICT COURT</h3><b>Docket Text</b></body></html>",
    "\ufeff<?xml version='1.0' encoding='utf-8'?><rss></rss>",
    "plain text, not a page at all",
])
def test_not_a_docket(text):
    with pytest.raises(ParseError):
        parse_appellate(text)


def test_bytes_in_any_encoding():
    raw = page(name="Peña v. Müller").encode("cp1252")
    got = parse("appellate", raw)
    assert got["case_name"] == "Peña v. Müller"


def test_attachment_page_made():
    html = """<html><body><table><tr><th>4 Documents are attached to this filing</th></tr></table>
<table><tr><td><table>
<tr><th colspan=2>Document</th><th>Description</th><th>Pages</th></tr>
<tr><td>1</td><td><a href="https://ecf.ca9.uscourts.gov/docs1/009129838553">x</a></td><td>Brief</td><td>11</td></tr>
<tr><td>2</td><td><a href="https://ecf.ca9.uscourts.gov/docs1/009129838552">x</a></td><td> Exhibit  A </td><td>3</td></tr>
</table></td></tr></table>
<script>window.open('TransportRoom?servlet=ShowDoc&caseId=299715&dls_id=1');
location='TransportRoom?servlet=ShowDocMulti&d=10793356&outputForm=view'</script></body></html>"""
    got = parse_attachment(html)
    assert got["pacer_doc_id"] == "009029838552"  # the lowest id is the main document
    assert got["pacer_case_id"] == "299715" and got["pacer_seq_no"] == "10793356"
    assert got["attachments"] == [
        {"attachment_number": 1, "description": "Brief", "pacer_doc_id": "009029838553",
         "page_count": 11},
        {"attachment_number": 2, "description": "Exhibit A", "pacer_doc_id": "009029838552",
         "page_count": 3}]


@pytest.mark.parametrize("text", ["", "<html><body>Nothing here</body></html>", "[]", "{}",
                                  '{"caseDetails": {}, "docketEntry": {}}', "{not json"])
def test_not_an_attachment_page(text):
    with pytest.raises(ParseError):
        parse_attachment(text)


def test_helpers():
    # the appellate parsers use the one toolkit's helpers (parsers.common)
    assert find_date("13/45/2020") is None and find_date("") is None
    assert find_date("1/2/99") == "1999-01-02"
    assert harmonize_case_name("U.S.A. vs. Smith et al.") == "United States v. Smith"
    assert harmonize_case_name("In re: Sealed Case") == "In re: Sealed Case"
    assert normalize_judge("Derrick Kahala Watson, District Judge") == "Derrick Kahala Watson"
    assert normalize_judge("F. Dennis Saylor, IV, U.S. District Judge") == "F. Dennis Saylor IV"
    assert normalize_judge("") == ""


def test_cli_prints_error_for_non_docket(tmp_path):
    bad = tmp_path / "login.html"
    bad.write_text("<html><body>Login</body></html>")
    good = tmp_path / "docket.html"
    good.write_text(page())
    proc = subprocess.run([sys.executable, "-m", "parsers", "appellate", "--court", "ca9",
                           str(bad), str(good)], cwd=PROJECT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "error" in lines[0]
    assert lines[1]["docket_number"] == "21-1234" and lines[1]["court_id"] == "ca9"


# ------------------------------------------------- other courts' layouts (self-made)
# tests/parsers/pages/cavc_*.html: self-made pages (no court's own) laid out as a
# special court of appeals might print its CM/ECF report, without the stub's
# "Docket #" label, each beside the record it holds (written for it).

from .conftest import PAGES  # noqa: E402

CAVC_PAGES = sorted(PAGES.glob("cavc_*.html"))


@pytest.mark.parametrize("path", CAVC_PAGES, ids=lambda p: p.name)
def test_a_report_without_the_docket_label_is_read(path):
    want = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    got = parse("appellate", path.read_bytes(), court="cavc")
    assert got == want


@pytest.mark.parametrize("path", CAVC_PAGES, ids=lambda p: p.name)
def test_a_report_without_the_docket_label_is_no_attachment_page(path):
    with pytest.raises(ParseError):
        parse("appellate_attachment", path.read_bytes(), court="cavc")


def test_the_caption_names_the_case_when_the_stub_does_not():
    text = (PAGES / "cavc_case_number_label.html").read_text(encoding="utf-8")
    row = "<tr><td>Harold B. Example v. Denis McDonough</td></tr>"
    assert text.count(row) == 1
    got = parse_appellate(text.replace(row, ""), court="cavc")
    assert got["case_name"] == "HAROLD B. EXAMPLE v. DENIS MCDONOUGH, Secretary of Veterans Affairs"
    assert len(got["docket_entries"]) == 4


def test_entries_without_a_stub_are_a_report():
    """A report printed without its stub (number from the report form, entries
    stamped [Entered: ...]) is still one."""
    text = (PAGES / "cavc_no_sections.html").read_text(encoding="utf-8")
    start, end = text.index("<table width=\"100%\" cellpadding=\"4\""), text.index("<br>\n<table")
    got = parse_appellate(text[:start] + text[end:], court="cavc")
    assert got["docket_number"] == "24-1122" and len(got["docket_entries"]) == 3


@pytest.mark.parametrize("text, why", [
    # a purchase confirmation names the case (caseNum) but is no report
    ('<html><head><title>Download Confirmation</title></head><body><form>'
     '<input type="hidden" name="caseNum" value="17-2229"><input type="submit" '
     'value="Accept Charges and Retrieve"></form></body></html>',
     "case number 17-2229 but no case stub and no docket entries table and no caption"),
    ("<html><head><title>17-2160 Summary</title></head><body>17-2160 Case Number Not Found"
     "</body></html>", "case number 17-2160 but no case stub"),
    # a district docket: its number is no appellate number, its entries say (Entered: ...)
    ("<html><body><h3>U.S. District Court</h3><b>Case #: 3:20-cv-05910-LB</b><table>"
     "<tr><td>08/21/2020</td><td>1</td><td>COMPLAINT (Entered: 08/21/2020)</td></tr></table>"
     "</body></html>", "no case number was found"),
    # a bankruptcy case number, with a stub-like table but no appellate report
    ("<html><body><table><tr><td><b>Bankruptcy Petition #: 17-13421-CMA</b></td></tr>"
     "<tr><td><b>Docketed:</b> 01/02/2017</td></tr></table></body></html>",
     "no case number was found"),
])
def test_what_is_not_a_report_is_refused_saying_why(text, why):
    with pytest.raises(ParseError) as caught:
        parse_appellate(text)
    assert why in str(caught.value)
    assert "a CM/ECF appellate docket report has a case number" in str(caught.value)
