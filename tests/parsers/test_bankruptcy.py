"""CM/ECF bankruptcy court docket reports (parsers.bankruptcy; its own parts,
parsers.bankruptcy_rules, read by parsers.district).

Golden files: every page in ../shared/corpus/pacer/bankruptcy is parsed, as
the ``district`` kind (the court id tells it is a bankruptcy court) and as
the ``bankruptcy`` kind, and compared field by field with the reference JSON
beside it, as the scorer does, plus the bankruptcy dates. Self-made pages in
pages/ cover each layout rule on its own.
"""
from __future__ import annotations

import re

import pytest

from parsers import ParseError, parse
from parsers import bankruptcy_rules as bk

from .conftest import PAGES, corpus_params, court_of, docket_mismatches, reference

TOP = ["docket_number", "case_name", "date_filed", "date_terminated", "assigned_to_str",
       "referred_to_str", "nature_of_suit", "cause", "jury_demand", "jurisdiction", "demand",
       "date_converted", "date_discharged"]

# Where the reference is wrong about the page, what it gets wrong; every
# other field of these pages must still match.
REFERENCE_DEFECTS = {
    # a four-column entry table: the reference takes the page count cell
    # ("(1 pg)", or nothing) for the docket text and misses the entered dates
    "txnb_420776.html": re.compile(r"entry .* (description|date_entered): "),
    # the reference drops "(12 pgs)" from the docket text but keeps "(1 pg)"
    "txnb_300577.html": re.compile(r"entry .* description: want [\"']\(1 pg\) "),
    # entries whose document link reads "doc" instead of a number: the
    # reference leaves them out
    "lawb_18072.html": re.compile(r"entry \('', '[\d-]+', 1\) not in reference"),
}
# the reference records a script name (sho0_doc.pl) as the id of show_doc.pl
# links, which carry no document id; the scorer does not count it either
_SCRIPT_AS_DOC_ID = re.compile(r"pacer_doc_id: want '(?!\d+')")


def mismatches(path, got):
    bad = [m for m in docket_mismatches(reference(path), got, TOP) if not _SCRIPT_AS_DOC_ID.search(m)]
    known = REFERENCE_DEFECTS.get(path.name)
    return [m for m in bad if not (known and known.search(m))]


@pytest.mark.parametrize("path", corpus_params("bankruptcy", "*.html"))
@pytest.mark.parametrize("kind", ["district", "bankruptcy"])
def test_bankruptcy_golden(path, kind):
    got = parse(kind, path.read_bytes(), court_of(path))
    assert mismatches(path, got) == []
    assert isinstance(got["chapter"], (int, type(None))) and isinstance(got["trustee_str"], str)
    for entry in got["docket_entries"]:
        assert entry["document_number"] is None or entry["document_number"].isdigit()
        assert "DocLink(" not in entry["description"]


@pytest.mark.parametrize("path", corpus_params("not_dockets", "*.html"))
def test_not_dockets_are_refused_as_bankruptcy_too(path):
    with pytest.raises(ParseError):
        parse("bankruptcy", path.read_bytes(), court_of(path))


def test_corpus_chapter_and_trustee(shared):
    got = parse("district", (shared / "bankruptcy" / "txnb_300577.html").read_bytes(), "txnb")
    assert (got["chapter"], got["trustee_str"]) == (7, "Tim Truman")
    assert (got["date_converted"], got["date_discharged"]) == ("2008-07-02", "2008-10-20")
    # an adversary proceeding takes its lead case's chapter
    got = parse("district", (shared / "bankruptcy" / "canb_4.html").read_bytes(), "canb")
    assert got["chapter"] == 7 and got["trustee_str"] == ""


def test_no_entries_in_the_range_asked_is_still_a_docket(shared):
    """nysb_27: CM/ECF printed "There are proceedings for case ... but none
    satisfy the selection criteria" where the entries go; the page is the
    docket report (header, case facts, parties) with no entries."""
    got = parse("district", (shared / "bankruptcy" / "nysb_27.html").read_bytes(), "nysb")
    assert got["docket_number"] == "09-01535"
    assert got["case_name"] == "Lehman Brothers Holdings Inc. - Adversary Proceeding"
    assert [p["type"] for p in got["parties"]] == ["Plaintiff", "Defendant"]
    assert got["docket_entries"] == []


# ---------------------------------------------------------------- self-made pages

def page(name, kind="bankruptcy", court="tstb"):
    return parse(kind, (PAGES / name).read_bytes(), court)


def test_adversary_proceeding_header():
    got = page("bankruptcy_adversary.html")
    assert got["docket_number"] == "10-01234"
    assert got["federal_dn_judge_initials_assigned"] == "xyz"
    # the lead case's title (et al dropped), never "Lead BK Case: ..." or
    # "Show Associated Cases"
    assert got["case_name"] == "Acme Widgets, Inc. - Adversary Proceeding"
    assert got["nature_of_suit"] == ("11 Recovery of money/property - 542 turnover of property; "
                                     "72 Injunctive relief - other")
    assert got["chapter"] == 11  # Lead BK Chapter
    assert got["assigned_to_str"] == "Pat Q. Jones"
    assert (got["date_filed"], got["date_terminated"]) == ("2010-03-04", "2011-05-06")
    assert got["demand"] == "$25000"


def test_adversary_labels_over_dash_rules_inline():
    got = page("bankruptcy_adversary.html")
    assert [(p["name"], p["type"]) for p in got["parties"]] == [
        ("Pat Plaintiff", "Plaintiff"), ("Big Bank, N.A.", "Defendant"),
        ("Second Bank", "Counter-Defendant")]
    bank = got["parties"][1]
    assert bank["date_terminated"] == "2011-04-01"
    assert "-----" not in bank["extra_info"] and "Defendant" not in bank["extra_info"]
    assert [a["name"] for a in got["parties"][0]["attorneys"]] == ["Lee Lawyer"]
    # a pro se party is its own attorney, then CM/ECF's blank attorney slot
    assert [(a["name"], a["contact"]) for a in got["parties"][2]["attorneys"]] == [
        ("Second Bank", "PRO SE"), ("", "")]


def test_adversary_entries_with_show_doc_links():
    got = page("bankruptcy_adversary.html")
    first, second = got["docket_entries"]
    assert (first["document_number"], first["pacer_doc_id"], first["pacer_seq_no"]) == ("1", None, "4")
    assert (second["document_number"], second["pacer_doc_id"], second["pacer_seq_no"]) == (
        "2", "123012345678", "9")
    assert got["pacer_case_id"] == "333333"
    assert "DocLink" not in first["description"]


def test_adversary_labels_on_rows_of_their_own():
    got = page("bankruptcy_adversary_rows.html")
    # no lead case on the page
    assert got["case_name"] == "Unknown Case Title - Adversary Proceeding"
    assert got["chapter"] is None
    assert got["nature_of_suit"] == "91 Declaratory judgment"
    # a label row (one cell, or padded with empty ones) heads every party
    # below it, up to the next label
    assert [(p["name"], p["type"]) for p in got["parties"]] == [
        ("Terry Trustee, Chapter 7 Trustee for the Estate of Sam Smith", "Plaintiff"),
        ("First Fund LP", "Defendant"), ("Second Fund LP", "Defendant"),
        ("Third Fund LP", "Counter-Defendant")]
    assert got["parties"][2]["attorneys"][0]["contact"] == got["parties"][1]["attorneys"][0]["contact"]
    # a plaintiff who is a trustee is not the case trustee
    assert got["trustee_str"] == ""
    # "none satisfy the selection criteria": a docket report without entries
    assert got["docket_entries"] == []


def test_the_same_pages_as_the_district_kind():
    for name in ("bankruptcy_adversary.html", "bankruptcy_adversary_rows.html",
                 "bankruptcy_numbers_in_text.html"):
        assert page(name, kind="district") == page(name)


def test_petition_case_facts():
    got = page("bankruptcy_numbers_in_text.html")
    assert got["docket_number"] == "12-34567"
    assert got["federal_dn_judge_initials_assigned"] == "qrs"  # chapter digits dropped
    assert got["chapter"] == 7  # not the previous chapter
    assert (got["date_filed"], got["date_converted"], got["date_discharged"], got["date_terminated"]) == (
        "2012-01-02", "2012-03-04", "2012-07-08", "2012-09-10")
    assert got["trustee_str"] == "Toni Trustee"
    assert got["assigned_to_str"] == "Morgan Lee"  # run-together initials dropped
    # the debtor's name as printed, "et al." kept
    assert got["case_name"] == "Riley Q. Public, et al."


def test_petition_party_labels():
    got = page("bankruptcy_numbers_in_text.html")
    assert [(p["name"], p["type"]) for p in got["parties"]] == [
        ("Riley Q. Public, et al.", "Debtor"), ("Toni Trustee", "Trustee"),
        ("Office of the Trustee Program", "U.S. Trustee"), ("Assistant in Charge", "U.S. Trustee"),
        ("Public Holdings LLC", "Jointly Administered Debtor")]
    assert "aka Riley Public" in got["parties"][0]["extra_info"]


def test_entry_numbers_inside_the_docket_text():
    """No '#' column: the number is the docket text's leading link, followed
    by a DocLink script and a page count that are not docket text."""
    got = page("bankruptcy_numbers_in_text.html")
    assert [(e["document_number"], e["date_filed"]) for e in got["docket_entries"]] == [
        ("1", "2012-01-02"), (None, "2012-01-02"), ("2", "2012-01-03"), ("3", "2012-03-04")]
    one, receipt, two, three = got["docket_entries"]
    assert one["description"] == "Chapter 13 voluntary petition. Fee Amount $235 Filed by Riley Q. Public"
    assert (one["pacer_doc_id"], one["pacer_seq_no"]) == (None, "2")  # a show_doc.pl link
    assert receipt["description"].startswith("Receipt of filing fee for Voluntary petition")
    # a link to a related document inside the text stays text, as does its number
    assert two["description"] == ("Notice of deficiency (RE: related document(s) 1 Voluntary "
                                  "petition). (Clerk, B) (Entered: 01/04/2012)")
    assert (two["pacer_doc_id"], two["date_entered"]) == ("176011112222", "2012-01-04")
    assert three["description"] == "Order converting case to chapter 7."  # text in a <font>
    assert got["pacer_case_id"] == "666666"


def test_old_bankruptcy_page_still_reads():
    got = page("bankruptcy_docket.html")
    assert got["case_name"] == "Jane Q. Debtor"
    assert (got["chapter"], got["trustee_str"]) == (7, "Tom Trustee")
    assert got["date_discharged"] == "2019-10-01"


def test_a_district_docket_has_no_bankruptcy_facts():
    got = parse("district", (PAGES / "district_edge.html").read_bytes(), "test")
    assert (got["chapter"], got["trustee_str"]) == (None, "")


# ---------------------------------------------------------------- helpers

@pytest.mark.parametrize("raw, printed, want", [
    ("Plaintiff-----------------------", True, "Plaintiff"),
    ("Counter-Defendant\n-----------", True, "Counter-Defendant"),
    ("3rd Pty Defendant -----", True, "3rd Pty Defendant"),
    ("US Trustee", False, "U.S. Trustee"),
    ("U. S. Trustee", False, "U.S. Trustee"),
    ("United States Trustee", False, "U.S. Trustee"),
    ("Assistant U.S. Trustee", False, "Assistant U.S. Trustee"),
    ("JointAdmin Debtor", False, "Jointly Administered Debtor"),
    ("Debtor In Possession", False, "Debtor in Possession"),
    ("Debtor 2", False, "Debtor"),
    ("Trustee", False, "Trustee"),
    ("", False, ""),
])
def test_party_type(raw, printed, want):
    assert bk.party_type(raw, printed=printed) == want


@pytest.mark.parametrize("raw, office, judges", [
    ("09-80591-JAC7", None, ["JAC"]), ("07-02023-8-RDD", "8", ["RDD"]),
    ("09-12515-1-rel", "1", ["rel"]), ("17-90266-BHL-13", None, ["BHL"]),
    ("8-09-78584-ast", None, ["ast"]), ("95-00236", None, []),
])
def test_bankruptcy_docket_number_parts(raw, office, judges):
    assert bk.docket_number_parts(raw) == {"office": office, "judges": judges}
    assert bk.docket_number_parts("no number") is None


def test_case_name_rule():
    debtor = [{"name": "Sam  Smith", "type": "Debtor"}]
    lines = ["Lead BK Case: 10-55555", "Lead BK Title: Big Co., et al", "Show Associated Cases"]
    assert bk.case_name(debtor, lines, adversary=True) == "Sam Smith"
    assert bk.case_name([], lines, adversary=True) == "Big Co. - Adversary Proceeding"
    assert bk.case_name([], ["Show Associated Cases"], adversary=True) == \
        "Unknown Case Title - Adversary Proceeding"
    assert bk.case_name([], [], adversary=False) == "Unknown Case Title"


def test_sequence_number_from_the_doc_link_id():
    """Bankruptcy courts whose document links carry the entry's case and
    sequence only in the ``id`` their DocLink() script reads (no goDLS, no
    ``de_seq_num=`` in the URL): the sequence number and case id come from it."""
    text = (PAGES / "bankruptcy_docket.html").read_text().replace(
        '<a href="/doc1/123033396437">1</a>',
        "<a href='https://ecf.testb.uscourts.gov/doc1/123033396437' "
        "id='documentKcaseidV371219Kde_seq_numV1548Kdm_idV13133026Kdoc_numV1Kpdf_headerV1' "
        "onclick='this.style.color = document.vlinkColor'>1</a>"
        "<SCRIPT>DocLink('documentKcaseidV371219Kde_seq_numV1548Kdm_idV13133026Kdoc_numV1"
        "Kpdf_headerV1');</SCRIPT>")
    got = parse("bankruptcy", text, "testb")
    entry = got["docket_entries"][0]
    assert (entry["document_number"], entry["pacer_doc_id"], entry["pacer_seq_no"]) == (
        "1", "123033396437", "1548")
    assert got["pacer_case_id"] == "371219"
    assert "DocLink" not in entry["description"]
    # another id (not the DocLink form) gives nothing
    other = text.replace("documentKcaseidV371219Kde_seq_numV1548K", "xcaseid371219de_seq_num1548K")
    entry = parse("bankruptcy", other, "testb")["docket_entries"][0]
    assert entry["pacer_seq_no"] is None


def test_corpus_doc_link_ids_give_sequence_numbers(shared):
    """Every corpus entry whose document link has a DocLink id gets that id's
    sequence number (canb.html: entry 465 is sequence 1548)."""
    got = parse("bankruptcy", (shared / "bankruptcy" / "canb.html").read_bytes(), "canb")
    by_number = {e["document_number"]: e for e in got["docket_entries"]}
    assert by_number["465"]["pacer_seq_no"] == "1548"
    assert got["pacer_case_id"] == "371219"
    missing = 0
    for path in sorted((shared / "bankruptcy").glob("*.html")):
        raw = path.read_bytes().decode("latin-1")
        if "documentKcaseidV" not in raw:
            continue
        seqs = set(re.findall(r"documentKcaseidV\d+Kde_seq_numV(\d+)K", raw))
        try:
            entries = parse("bankruptcy", raw, court_of(path))["docket_entries"]
        except ParseError:
            continue
        missing += sum(1 for e in entries if e["pacer_doc_id"] and not e["pacer_seq_no"])
        assert seqs & {e["pacer_seq_no"] for e in entries}, path.name
    assert missing == 0
