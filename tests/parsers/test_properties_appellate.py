"""Property tests: whatever the input, the appellate parsers return a dict or
raise ParseError, never anything else.

Inputs: random text, random tag soup built from the pieces appellate pages
are made of, real corpus pages cut at random points or with random spans
removed (when ../shared is present), and random JSON for the ACMS kinds.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import ParseError
from parsers.acms import parse as parse_acms
from parsers.appellate import parse as parse_appellate
from parsers.appellate_attachment import parse as parse_attachment

PROJECT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("DOCKET_SHARED", PROJECT.parent / "shared")).resolve()
CORPUS = SHARED / "corpus" / "pacer"

PARSERS = [parse_appellate, parse_acms, parse_attachment]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _load(folder, pattern):
    path = CORPUS / folder
    return [p.read_bytes().decode("utf-8", "replace") for p in sorted(path.glob(pattern))] \
        if path.is_dir() else []


REAL_HTML = _load("appellate", "*.html") + _load("appellate_attachment_pages", "*.html")
REAL_JSON = _load("acms", "*.acms_json") + _load("appellate_attachment_pages/acms", "*.compare.json")

PIECES = [
    "<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<td colspan=2>", "<br>", "<BR>",
    "<b>", "</b>", "<strong>", "</strong>", "<form name='dktEntry'>", "</form>", "<font>",
    "</font>", "<div>", "</div>", "<th>Description</th>", "&nbsp;", "&#0;", "&bogus;",
    "<!-- NEW SECTION - Case Stub -->", "<!-- NEW SECTION - DOCKET ENTRIES -->",
    "<!-- NEW SECTION - Party/Aty List -->", "<!--", "-->", "Court of Appeals Docket #:",
    "Docketed:", "Termed:", "Panel:", "Terminated:", "Originating Court Information:",
    "District:", "Date Filed:", "Date NOA Filed:", "Case Type Information:", "1)",
    "21-1234", "01/06/2016", "99/99/9999", "[Entered: 01/06/2016 02:35 PM]", "[COR NTC]",
    "(see above)", "Documents are attached to this filing",
    "<a href='https://ecf.ca1.uscourts.gov/docs1/00106941384'>", "<a href='/docs1/'>",
    "<a href=''>", "</a>", "<input type=checkbox name='d' value='5967248'>",
    "<input name=md onclick='sumDocSelected(this,1,2, 3)'>", "<script>caseId=12&d=3&outputForm",
    "</script>", "v.", "USA", " et al", "\x00", "\ufeff", "\u00a0", "é", "\n", " ",
]

soup = st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=80).map("".join)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from(PIECES),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["caseDetails", "docketInfo", "docketEntries", "docketEntry",
                         "docketEntryDocuments", "caseNumber", "caseId", "name", "court",
                         "caseOpened", "endDate", "entryNumber", "docketEntryText",
                         "docketEntryId", "partyAttorneyList", "documentNumber",
                         "originatingCasesInformation", "billablePages", "x"]),
        children, max_size=6),
    max_leaves=30)


def check(parser, text):
    try:
        result = parser(text)
    except ParseError as exc:
        # The parsers turn an unexpected internal error into a ParseError
        # starting "could not read" (so callers never see a traceback); here
        # that would be a bug to fix, so it must not happen.
        assert not str(exc).startswith("could not read"), str(exc)
        return
    assert isinstance(result, dict)
    json.dumps(result)


@SETTINGS
@given(st.text(max_size=300))
def test_random_text(text):
    for parser in PARSERS:
        check(parser, text)


@SETTINGS
@given(soup)
def test_tag_soup(text):
    for parser in PARSERS:
        check(parser, text)


@SETTINGS
@given(json_values)
def test_random_json(value):
    text = json.dumps(value)
    for parser in PARSERS:
        check(parser, text)


def _real_pages_mutated(pages):
    if not pages:
        return st.just("")
    return st.tuples(st.sampled_from(pages), st.integers(0, 10**6), st.integers(0, 10**6),
                     st.integers(0, 3)).map(_mutate)


def _mutate(args):
    text, a, b, how = args
    a, b = sorted((a % (len(text) + 1), b % (len(text) + 1)))
    if how == 0:
        return text[:a]           # truncated
    if how == 1:
        return text[:a] + text[b:]  # a span removed
    if how == 2:
        return text[a:]           # starts mid-page
    return text[:a] + text[a:b][::-1] + text[b:]  # a span garbled


@SETTINGS
@given(_real_pages_mutated(REAL_HTML))
def test_real_html_cut(text):
    for parser in (parse_appellate, parse_attachment):
        check(parser, text)


@SETTINGS
@given(_real_pages_mutated(REAL_JSON))
def test_real_json_cut(text):
    for parser in (parse_acms, parse_attachment):
        check(parser, text)
