"""CM/ECF district docket reports (parsers.district).

Golden files: every page in ../shared/corpus/pacer/district is parsed and
compared field by field (whitespace folded, names casefolded, as the scorer
does) with the reference JSON beside it; every page in not_dockets/ must be
refused with ParseError. Self-made pages in pages/ cover the edge cases.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from parsers import ParseError, parse
from parsers.common import (
    find_date, harmonize_case_name, normalize_docket_number, normalize_judge,
    normalize_party_type, pacer_doc_id_from_url, parse_datetime,
)

from .conftest import (
    CORPUS, PAGES, PROJECT, corpus_params, court_of, docket_mismatches, reference,
)

TOP = ["docket_number", "case_name", "date_filed", "date_terminated", "assigned_to_str",
       "referred_to_str", "nature_of_suit", "cause", "jury_demand", "jurisdiction", "demand"]

# Reference files that are {} although the page is a real docket report
# (juriscraper returns nothing for them); we parse them and check that.
REFERENCE_EMPTY_BUT_DOCKET = {"nysd_3.html"}


@pytest.mark.parametrize("path", corpus_params("district", "*.html"))
def test_district_golden(path):
    want = reference(path)
    text = path.read_bytes()
    if not want and path.name not in REFERENCE_EMPTY_BUT_DOCKET:
        with pytest.raises(ParseError):
            parse("district", text, court_of(path))
        return
    got = parse("district", text, court_of(path))
    if path.name in REFERENCE_EMPTY_BUT_DOCKET:
        assert got["docket_number"] and got["parties"]
        return
    assert docket_mismatches(want, got, TOP) == []
    for entry in got["docket_entries"]:
        assert set(entry) >= {"document_number", "date_filed", "date_entered", "description",
                              "pacer_doc_id", "pacer_seq_no"}
        assert entry["document_number"] is None or entry["document_number"].isdigit()


@pytest.mark.parametrize("path", corpus_params("not_dockets", "*.html"))
def test_not_dockets_are_refused(path):
    with pytest.raises(ParseError) as info:
        parse("district", path.read_bytes(), court_of(path))
    assert str(info.value)  # a human message


def test_edge_page_metadata():
    got = parse("district", (PAGES / "district_edge.html").read_bytes(), "test")
    assert got["court_id"] == "test"
    assert got["docket_number"] == "2:21-cv-00042"
    assert got["federal_dn_judge_initials_assigned"] == "ABC"
    assert got["federal_dn_judge_initials_referred"] == "DEF"
    assert got["case_name"] == "ACME CORP. v. United States"
    assert got["date_filed"] == "2021-01-05"
    assert got["date_terminated"] == "2022-03-04"  # two-digit year
    assert got["assigned_to_str"] == "Jane Q. Doe Jr."
    assert got["referred_to_str"] == "Rick Roe"
    assert got["demand"] == "$1,000"
    assert got["jurisdiction"] == "U.S. Government Defendant"
    assert got["pacer_case_id"] == "98765"


def test_edge_page_entries_unnumbered_and_continued_tables():
    got = parse("district", (PAGES / "district_edge.html").read_bytes(), "test")
    entries = got["docket_entries"]
    # the row with no date at all is dropped; unnumbered entries are kept in order;
    # the second table continues the first
    assert [e["document_number"] for e in entries] == ["1", None, "2", "3", None]
    first = entries[0]
    assert first["pacer_doc_id"] == "12345678901"
    assert first["pacer_seq_no"] == "2"
    assert first["date_entered"] == "2021-01-06"
    assert "against USA, filed" in first["description"]  # no " ," left by <i></i>
    assert entries[2]["pacer_doc_id"] is None  # number without a link (sealed)
    assert entries[4]["date_entered"] is None  # no "(Entered: ...)" in the text
    assert entries[3]["date_filed"] == "2021-02-01"


def test_edge_page_parties():
    got = parse("district", (PAGES / "district_edge.html").read_bytes(), "test")
    plaintiff, defendant = got["parties"]
    assert plaintiff["type"] == "Plaintiff" and plaintiff["name"] == "Acme Corp."
    assert plaintiff["date_terminated"] == "2022-02-01"
    ann = plaintiff["attorneys"][0]
    assert ann["name"] == "Ann B Lawyer"
    assert ann["roles"] == ["LEAD ATTORNEY", "ATTORNEY TO BE NOTICED"]  # bar status dropped
    assert "ann@example.com" in ann["contact"]
    # "(See above for address)" resolved from the earlier listing
    assert defendant["attorneys"][0]["contact"] == ann["contact"]
    assert plaintiff["attorneys"][1]["contact"] == ""  # see above, but never listed


def test_bankruptcy_layout():
    got = parse("district", (PAGES / "bankruptcy_docket.html").read_bytes(), "tstb")
    assert got["docket_number"] == "19-12345"
    assert got["case_name"] == "Jane Q. Debtor"
    assert got["date_discharged"] == "2019-10-01"
    assert got["assigned_to_str"] == "Pat Jones"
    assert [(p["name"], p["type"]) for p in got["parties"]] == [
        ("Jane Q. Debtor", "Debtor"), ("Tom Trustee", "Trustee")]
    assert [e["document_number"] for e in got["docket_entries"]] == ["1", None]
    assert got["docket_entries"][0]["pacer_doc_id"] == "123033396437"


@pytest.mark.parametrize("text", [
    "", "   ", "\x00\x01", "<html></html>", "<html><body><p>Hello</p></body></html>",
    "<?xml version='1.0'?><rss><channel/></rss>", "{\"json\": true}",
    "<html><body><h3>CIVIL DOCKET FOR CASE #: </h3></body></html>",
    "<table><tr><td>Docket Text</td></tr></table>",
])
def test_garbage_is_refused(text):
    with pytest.raises(ParseError):
        parse("district", text, "cand")


def test_login_page_is_refused():
    with pytest.raises(ParseError, match="login"):
        parse("district", (PAGES / "pacer_login.html").read_bytes(), "cand")


def test_truncated_real_page_never_crashes(shared):
    text = (CORPUS / "district" / "cand.html").read_text()
    for cut in range(0, len(text), max(1, len(text) // 60)):
        try:
            parse("district", text[:cut], "cand")
        except ParseError:
            pass


def test_cli_prints_one_json_line_per_path(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body>Case not found.</body></html>")
    proc = subprocess.run(
        [sys.executable, "-m", "parsers", "district", "--court", "test",
         str(PAGES / "district_edge.html"), str(bad)],
        cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["docket_number"] == "2:21-cv-00042"
    assert "error" in json.loads(lines[1])


def test_speed_sanity(shared):
    """Loose floor (CPU time, not wall): the target is >= 7,000 entries/s."""
    pages = [(p.read_text(errors="replace"), court_of(p))
             for p in sorted((CORPUS / "district").glob("*.html"))]
    entries = 0
    start = time.process_time()
    for text, court in pages:
        try:
            entries += len(parse("district", text, court)["docket_entries"])
        except ParseError:
            pass
    elapsed = time.process_time() - start
    assert entries > 1000
    assert entries / elapsed > 2000, f"{entries / elapsed:.0f} entries/s"


# ---------------------------------------------------------------- common helpers

@pytest.mark.parametrize("raw, want", [
    ("01/11/2008", "2008-01-11"), ("1/5/17", "2017-01-05"), ("2017-01-05", "2017-01-05"),
    ("Jan 5, 2017", "2017-01-05"), ("5 January 2017", "2017-01-05"),
    ("Entered: 13/45/2017", None), ("", None), (None, None), ("none", None),
])
def test_find_date(raw, want):
    assert find_date(raw) == want


def test_parse_datetime():
    assert parse_datetime("Thu, 19 Apr 2018 18:21:31 GMT") == "2018-04-19T18:21:31+00:00"
    assert parse_datetime("Fri, 03 Feb 2023 11:52:07 EST") == "2023-02-03T11:52:07-05:00"
    assert parse_datetime("2009-08-05 01:39:25") == "2009-08-05T01:39:25"
    assert parse_datetime("09/15/2022 3:02 PM") == "2022-09-15T15:02:00"
    assert parse_datetime("garbage") is None


@pytest.mark.parametrize("raw, want", [
    ("3:08-cv-00159-WHA", "3:08-cv-00159"), ("1:08-cv-00901-WKW-SRW", "1:08-cv-00901"),
    ("2:17-cr-00378-SPL-1", "2:17-cr-00378"), ("17-80033-CRJ7", "17-80033"),
    ("MDL No. 2168", "MDL No. 2168"), ("CIVIL DOCKET FOR CASE #: 6:07-cv-00354-JDL", "6:07-cv-00354"),
    ("nothing here", None), ("", None),
])
def test_normalize_docket_number(raw, want):
    assert normalize_docket_number(raw) == want


@pytest.mark.parametrize("raw, want", [
    ("Hon. William Alsup", "William Alsup"),
    ("Magistrate Judge John A Kazen", "John A. Kazen"),
    ("District Judge Stephen N. Limbaugh, Jr", "Stephen N. Limbaugh Jr."),
    ("JUDGE DAVID ALAN EZRA", "David Alan Ezra"),
    ("Magistrate Judge Ona T. Wang (Settlement)", "Ona T. Wang"),
    ("Chief Judge J. Randal Hall", "Randal Hall"),
    ("Not Assigned", "Not Assigned"), ("", ""),
])
def test_normalize_judge(raw, want):
    assert normalize_judge(raw) == want


@pytest.mark.parametrize("raw, want", [
    ("Defendant                               (1)", "Defendant"), ("surety", "Surety"),
    ("ADR Provider", "Adr Provider"), ("3rd Party Plaintiff", "Third Party Plaintiff"),
    ("Counter-Defendant", "Counter Defendant"),
])
def test_normalize_party_type(raw, want):
    assert normalize_party_type(raw) == want


@pytest.mark.parametrize("raw, want", [
    ("USA v. Santana-Esmeralda", "United States v. Santana-Esmeralda"),
    ("Balbo v. Tilton et al", "Balbo v. Tilton"),
    ("SunEdison, Inc., et al., and North Kern State Prison",
     "SunEdison, Inc., and North Kern State Prison"),
    ("- Adversary Proceeding", "Adversary Proceeding"),
    ("Jeffrey Cohen v. US", "Jeffrey Cohen v. United States"),
])
def test_harmonize_case_name(raw, want):
    assert harmonize_case_name(raw) == want


def test_pacer_doc_id_fourth_digit():
    assert pacer_doc_id_from_url("https://ecf.cand.uscourts.gov/doc1/03514231051") == "03504231051"
    assert pacer_doc_id_from_url("/doc1/127028213972") == "127028213972"
    assert pacer_doc_id_from_url("/cgi-bin/DktRpt.pl?123") is None


EXTRA_COLUMN = """<html><body><h3>U.S. District Court<br>CIVIL DOCKET FOR CASE #: 1:20-cv-00001-XY</h3>
<table><tr><td><br>Doe v. Roe<br>Assigned to: Judge Pat Smith</td><td><br>Date Filed: 01/02/2020</td></tr></table>
<table border=1><tr><th>Date Filed</th><th>Date Entered</th><th>#</th><th>Select</th><th>Docket Text</th></tr>
<tr><td>01/02/2020</td><td>01/03/2020</td><td><a href="/doc1/04501111111">1</a> (3 pgs)</td><td><input type=checkbox value="5"></td><td>COMPLAINT</td></tr>
<tr><td>01/04/2020</td><td>01/04/2020</td><td>&nbsp;</td><td></td><td>Minute entry</td></tr>
</table></body></html>"""


def test_extra_date_entered_column():
    got = parse("district", EXTRA_COLUMN, "test")
    first, second = got["docket_entries"]
    assert (first["document_number"], first["date_filed"], first["date_entered"]) == ("1", "2020-01-02", "2020-01-03")
    assert (first["pacer_doc_id"], first["pacer_seq_no"]) == ("04501111111", "5")
    assert (second["document_number"], second["date_entered"]) == (None, "2020-01-04")
    assert got["case_name"] == "Doe v. Roe"


def test_header_inside_a_wrapper():
    page = EXTRA_COLUMN.replace("<h3>", "<div><h3>").replace("</h3>", "</h3></div>")
    got = parse("district", page, "test")
    assert got["date_filed"] == "2020-01-02"
    assert got["assigned_to_str"] == "Pat Smith"
