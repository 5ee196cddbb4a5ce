"""parsers.common, the one toolkit: the docket-number key every source's form
of a case shares, the two-digit-year rule, and the text helpers."""
from __future__ import annotations

import datetime
import json
import re

import pytest
from lxml import etree

from parsers import decode_page
from parsers.common import (
    child_text, clean, docket_number_key, find_date, html_tree, normalize_docket_number, strip_query,
    text_content, text_of, to_int, two_digit_year, xml_tree,
)

from .conftest import corpus_params

# ---------------------------------------------------------------- the key


@pytest.mark.parametrize("raw, want", [
    ("1:13-cr-00123-1", "1:13-cr-00123"),  # a defendant number
    ("1:13-cr-00123-ABC-DEF", "1:13-cr-00123"),  # judges' initials
    ("17-80033-CRJ7", "17-80033"),  # a bankruptcy judge and chapter
    ("07-02023-8-RDD", "07-02023"),  # a bankruptcy office and judge
    ("CASE 22-1234", "22-1234"),
    ("3:20-CV-05910", "3:20-cv-05910"),  # the case type lower case
    ("3:20-cv-5910", "3:20-cv-05910"),  # the case's number five digits
    ("  3:20-cv-05910 \n", "3:20-cv-05910"),
    ("3 : 20 - cv - 05910 - LB", "3:20-cv-05910"),
    ("8:18-bk-00997-CED", "8:18-bk-00997"),
    ("8-09-78584", "8-09-78584"),
    ("20-16908", "20-16908"),  # appellate numbers as they are
    ("23-7222-cv", "23-7222"),
    ("MDL No. 2168", "MDL No. 2168"),
    ("MDL 2168", "MDL No. 2168"),
    # no docket number found: the text itself, folded, so nothing is lost
    ("22-21", "22-21"), ("2020-1234", "2020-1234"), ("A  B", "A B"), ("", ""), (None, ""),
])
def test_docket_number_key(raw, want):
    assert docket_number_key(raw) == want
    assert docket_number_key(want) == want  # a key is its own key


def test_the_key_is_the_parsers_number_when_there_is_one():
    for raw in ("3:08-cv-00159-WHA", "17-80033-CRJ7", "MDL No. 2168", "CASE 22-1234"):
        assert docket_number_key(raw) == normalize_docket_number(raw)
    assert normalize_docket_number("2020-1234") is None and docket_number_key("2020-1234") == "2020-1234"


# One case as each source writes it: CourtListener, PACER's docket report
# header, an RSS item's title, the Internet Archive's RECAP XML, ACMS,
# PACER's case-number lookup, an appeal's originating case.
ONE_CASE_FORMS = [
    ["1:13-cr-00123", "1:13-cr-00123-ABC-1", "1:13-cr-00123-1 USA v. Doe", "1:13-cr-123",
     "1:13-CR-123"],
    ["3:20-cv-05910", "3:20-cv-05910-LB", "3:20-cv-05910-LB U.S. WeChat Users Alliance v. Trump",
     "3:20-cv-5910"],
    ["17-80033", "17-80033-CRJ7", "17-80033-crj7 In re Doe"],
    ["07-02023", "07-02023-8-RDD", "07-02023-8-RDD Smith"],
    ["8:18-bk-00997", "8:18-bk-00997-CED", "8:18-bk-00997-CED Jones"],
    ["22-1234", "CASE 22-1234", "22-1234 Doe v. Roe", "22-1234"],
    ["MDL No. 2168", "MDL 2168"],
]


@pytest.mark.parametrize("forms", ONE_CASE_FORMS, ids=[f[0] for f in ONE_CASE_FORMS])
def test_every_form_of_one_case_gives_one_key(forms):
    assert {docket_number_key(f) for f in forms} == {forms[0]}


_REPORT_NUMBER = re.compile(
    r"#\s*:?\s*((?:\d{1,2}\s*[:-]\s*)?\d{2}\s*-\s*[\w-]+)|(MDL\s+No\.?\s*\d+)", re.I)


def _reference(page):
    return json.loads(page.with_suffix(".json").read_text())


@pytest.mark.parametrize("page", corpus_params("district", "*.html") + corpus_params("bankruptcy", "*.html"))
def test_a_docket_reports_number_has_courtlisteners_key(page):
    """The number in a docket report's header ("Case #: 1:13-cr-00123-ABC-1",
    "Bankruptcy Petition #: 09-51807-rbk") and the reference's (the form
    CourtListener stores) are one key."""
    want = _reference(page).get("docket_number")
    if not want:
        pytest.skip("not a docket report")
    m = _REPORT_NUMBER.search(text_of(html_tree(decode_page(page.read_bytes()))))
    assert m, "no number in the header"
    assert docket_number_key(m.group(1) or m.group(2)) == docket_number_key(want)


@pytest.mark.parametrize("page", corpus_params("internet_archive", "*.xml"))
def test_the_internet_archives_number_has_courtlisteners_key(page):
    raw = child_text(xml_tree(page.read_text()).find("case_details"), "docket_num")
    assert docket_number_key(raw) == docket_number_key(_reference(page)["docket_number"])


@pytest.mark.parametrize("page", corpus_params("acms", "*.acms_json"))
def test_an_acms_number_has_courtlisteners_key(page):
    raw = re.search(r'"caseNumber"\s*:\s*"([^"]*)"', page.read_text()).group(1)
    assert docket_number_key(raw) == docket_number_key(_reference(page)["docket_number"])


@pytest.mark.parametrize("page", corpus_params("rss", "*.xml"))
def test_rss_titles_have_courtlisteners_keys(page):
    titles = [child_text(item, "title") for item in xml_tree(page.read_text()).iter("item")]
    keys = {docket_number_key(t.split(" ")[0]) for t in titles if t.strip()}
    assert {docket_number_key(d["docket_number"]) for d in _reference(page)} <= keys


# ---------------------------------------------------------------- two-digit years

@pytest.mark.parametrize("yy, year", [
    (26, 2026), (27, 2027), (28, 1928), (69, 1969), (99, 1999), (0, 2000), (5, 2005),
])
def test_two_digit_year_pivots_on_the_year_after_today(yy, year):
    assert two_digit_year(yy, today=datetime.date(2026, 12, 1)) == year


def test_two_digit_year_follows_the_calendar():
    assert two_digit_year(0, today=datetime.date(2099, 6, 1)) == 2100  # one year ahead
    assert two_digit_year(99, today=datetime.date(2099, 6, 1)) == 2099
    this_year = datetime.date.today().year
    assert two_digit_year(this_year % 100) == this_year
    assert two_digit_year((this_year + 2) % 100) == this_year + 2 - 100


def test_dates_read_two_digit_years_by_the_rule():
    this_year = datetime.date.today().year
    assert find_date("1/2/99") == "1999-01-02"
    assert find_date("1/2/69") == "1969-01-02"  # not 2069
    assert find_date(f"03/04/{(this_year + 1) % 100:02d}") == f"{this_year + 1}-03-04"
    assert find_date(f"03/04/{(this_year + 2) % 100:02d}") == f"{this_year + 2 - 100}-03-04"


# ---------------------------------------------------------------- text

def test_clean_folds_whitespace_and_optionally_commas():
    assert clean("  a \u00a0 b\n\tc\x07 ") == "a b c"
    assert clean("Smith , Jones") == "Smith , Jones"
    assert clean("Smith , Jones", commas=True) == "Smith, Jones"
    assert clean(None) == "" and clean(12) == "12"


def test_text_of_is_folded_text_content_is_raw():
    root = html_tree("<html><body><p>a\n  <b>b</b> ,c</p><!-- note --></body></html>", comments=True)
    p = root.find(".//p")
    assert text_content(p) == "a\n  b ,c"
    assert text_of(p) == "a b ,c"
    assert text_of(None) == "" and text_content(None) == ""
    assert len(list(root.iter(etree.Comment))) == 1  # kept when asked (the appellate report's sections)
    assert not list(html_tree("<p>x<!-- note --></p>").iter(etree.Comment))


def test_numbers_in_the_keys_form_are_their_own_key_by_the_full_rules():
    """docket_number_key returns such numbers without running the rules (the
    archive checks every docket's key on open): the rules agree."""
    forms = [f"{office}{yy:02d}-{kind}-{n:05d}" for office in ("", "1:", "12:") for yy in (0, 9, 20, 99)
             for kind in ("cv", "cr", "bk", "mj", "a", "abcd") for n in (1, 5910, 99999)]
    forms += [f"{office}{yy:02d}-{n}" for office in ("", "1-", "12-") for yy in (0, 17, 99)
              for n in ("123", "80033", "016908", "999999")]
    for form in forms:
        assert normalize_docket_number(form) == form
        assert docket_number_key(form) == form


# ---------------------------------------------------------------- numbers and URLs


def test_to_int_reads_the_first_number_or_with_whole_only_a_number():
    assert to_int(" 1,234 ") == 1234 and to_int("12 pages") == 12 and to_int("-3") == -3
    assert to_int(None) is None and to_int("none") is None and to_int(True) is None
    assert to_int(" 1,234\xa0", whole=True) == 1234 and to_int(17, whole=True) == 17
    for value in ("12 pages", "Doc 3", "-3", "", "²", "1.5", None, False):
        assert to_int(value, whole=True) is None, value


@pytest.mark.parametrize("url, want", [
    ("redis://:secret@127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("redis://user:secret@queue.example:6380/2?ssl_cert_reqs=none", "redis://queue.example:6380/2"),
    ("https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733#top",
     "https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl"),
    ("https://host:notaport/x", "https://host/x"),
    (None, ""),
])
def test_strip_query_leaves_no_secret(url, want):
    assert strip_query(url) == want
