"""ACMS docket JSON (Ninth and Second Circuits).

Golden files: every ``*.acms_json`` in ../shared/corpus/pacer/acms/ against
the reference JSON beside it (whitespace folded); small JSON made here for
the edge cases.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from parsers import ParseError, parse
from parsers.acms import parse as parse_acms

from .conftest import CORPUS, SHARED, corpus_params as corpus_files  # noqa: F401


def fold(value):
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [fold(v) for v in value]
    if isinstance(value, dict):
        return {k: fold(v) for k, v in value.items()}
    return value


def assert_matches(want, got, path=""):
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: expected an object, got {got!r}"
        for key, value in want.items():
            assert key in got, f"{path}.{key} missing"
            assert_matches(value, got[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: length differs"
        for i, (a, b) in enumerate(zip(want, got)):
            assert_matches(a, b, f"{path}[{i}]")
    else:
        assert fold(want) == fold(got), f"{path}: want {want!r}, got {got!r}"


@pytest.mark.parametrize("path", corpus_files("acms", "*.acms_json"))
def test_acms_golden(path):
    want = json.loads(path.with_suffix(".json").read_text())
    court = path.name.split("_")[0]
    got = parse("acms", path.read_bytes(), court=court)
    assert_matches(want, got)
    json.dumps(got)


@pytest.mark.parametrize("path", corpus_files("appellate", "*.html"))
def test_html_docket_is_not_acms(path):
    with pytest.raises(ParseError):
        parse("acms", path.read_bytes())


@pytest.mark.parametrize("path", corpus_files("appellate_attachment_pages/acms", "*.compare.json"))
def test_attachment_json_is_not_a_docket(path):
    with pytest.raises(ParseError):
        parse("acms", path.read_bytes())


def made(**case):
    details = {
        "caseId": "c8d83e85-5b6e-ec11-b820-00155d36fcd4", "caseNumber": "25-6348",
        "name": "Stebbins v. Unknown Party", "caseOpened": "2025-10-08T00:00:00",
        "aNumber": None, "court": {"name": "San Francisco, Northern California",
                                   "abbreviatedName": "Northern District of California"},
        "caseType": "Civil", "caseSubType": "Private", "caseSubSubType": None,
        "districtCourtName": None, "feeStatus": "IFP Pending in COA",
        "natureOfSuit": "3890 Other Statutory Actions",
        "partyAttorneyList": (
            "<table><tr><td> DAVID STEBBINS<br>&nbsp;&nbsp;Petitioner - Appellant </td>"
            "<td><div>Mr. David Stebbins<br>[Pro Se]<br>Harrison, AR 72601</div>"
            "<div><p>&nbsp;</p></div></td></tr>"
            "<tr><td> UNKNOWN PARTY<br><strong>Terminated:</strong> 10/06/2025<br>"
            "&nbsp;Respondent - Appellee, </td><td></td></tr></table>"),
        "originatingCasesInformation": [{
            "originCaseNumber": "3:25-mc-80278-SK", "dateFiled": "2025-09-15T00:00:00",
            "judgmentDate": "2025-09-30T00:00:00",
            "originatingCasePeople": [{"firstName": "Sallie", "middleName": "",
                                       "lastName": "Kim", "roleName": "Trial Judge"}]}],
    }
    details.update(case)
    return {"caseDetails": details, "docketInfo": {"docketEntries": [
        {"endDate": "2025-10-30T00:00:00", "entryNumber": 4,
         "docketEntryText": "<p><strong>ORDER FILED.</strong> Briefing is stayed.<br>\n"
                            "Done. [Entered: 10/30/2025 09:47 PM]</p>",
         "docketEntryId": "32630b21-b0b5-f011-bbd3-001dd80b194b", "pageCount": 6},
        {"endDate": "2025-10-31", "entryNumber": 5, "docketEntryText": "No stamp here",
         "docketEntryId": "x-5", "pageCount": None},
        "not an entry",
    ]}}


def test_newer_acms_format():
    got = parse_acms(json.dumps(made()), court="ca9")
    assert got["court_id"] == "ca9"
    assert got["docket_number"] == "25-6348"
    assert got["date_filed"] == "2025-10-08"
    assert got["appeal_from"] == "San Francisco, Northern California"
    assert got["nature_of_suit"] == "3890 Other Statutory Actions"
    assert got["case_type_information"] == "Civil, Private"
    ogc = got["originating_court_information"]
    assert ogc["docket_number"] == "3:25-mc-80278-SK" and ogc["assigned_to"] == "Sallie Kim"
    assert ogc["date_filed"] == "2025-09-15" and ogc["date_judgment"] == "2025-09-30"
    e = got["docket_entries"]
    assert len(e) == 2
    assert e[0]["document_number"] == 4
    assert e[0]["date_filed"] == "2025-10-30T00:00:00"
    assert e[0]["date_entered"] == "2025-10-30T21:47:00"
    assert " ".join(e[0]["description"].split()) == (
        "ORDER FILED. Briefing is stayed. Done. [Entered: 10/30/2025 09:47 PM]")
    assert e[1]["date_entered"] is None and e[1]["date_filed"] == "2025-10-31T00:00:00"
    p = got["parties"]
    assert p[0]["name"] == "DAVID STEBBINS" and p[0]["type"] == "Petitioner - Appellant"
    assert p[0]["attorneys"] == [{"name": "Mr. David Stebbins", "roles": ["Pro Se"],
                                  "contact": "Harrison, AR 72601"}]
    assert p[1]["date_terminated"] == "2025-10-06" and p[1]["type"] == "Respondent - Appellee"
    assert p[1]["attorneys"] == []


def test_odd_types_do_not_break():
    got = parse_acms(json.dumps(made(court=None, name=None, feeStatus=7,
                                     partyAttorneyList=None, originatingCasesInformation="x")))
    assert got["appeal_from"] == "" and got["case_name"] == ""
    assert got["fee_status"] == "7" and got["parties"] == []


@pytest.mark.parametrize("text", [
    "", "  ", "null", "[]", "{}", '{"caseDetails": []}', "{bad json",
    '{"caseDetails": {"caseNumber": "1"}, "docketInfo": {"docketEntries": {}}}',
    '{"caseDetails": {}, "docketInfo": {}}',
    "<html><body>Login</body></html>", '"just a string"',
])
def test_not_acms(text):
    with pytest.raises(ParseError):
        parse_acms(text)


# --- the API's wire names (pcx_*, acms_*) read as the documented form ---------------------------

@pytest.mark.parametrize("path", corpus_files("acms", "*.acms_json"))
def test_wire_format_parses_like_the_web_app_form(path):
    """The local ACMS answers with the API's own names; read back through
    parsers.acms_api they parse exactly like the corpus sample."""
    from parsers import acms_api
    from tests.servers.pacer import _wire_case, _wire_docket_info

    data = json.loads(path.read_text())
    court = path.name.split("_")[0]
    wire_case = _wire_case(data["caseDetails"])
    wire_info = _wire_docket_info(data["docketInfo"])
    assert "caseNumber" not in wire_case and "matchingDocketEntries" in wire_info
    again = {"caseDetails": acms_api.case_details(wire_case),
             "docketInfo": acms_api.docket_info(wire_info)}
    assert parse("acms", json.dumps(again), court) == parse("acms", json.dumps(data), court)


@pytest.mark.parametrize("path", corpus_files("appellate_attachment_pages/acms", "*.compare.json"))
def test_wire_documents_read_back(path):
    from parsers import acms_api
    from tests.servers.pacer import _wire_document

    data = json.loads(path.read_text())
    wire = [_wire_document(d) for d in data["docketEntryDocuments"]]
    assert all("acms_docketdocumentdetailsid" in d for d in wire)
    back = acms_api.entry_documents(wire)
    want = [{k: v for k, v in d.items() if k != "selected"} for d in data["docketEntryDocuments"]]
    assert back == want
    body = acms_api.merge_request(back[:1])
    assert body["mergeScope"] == "External" and body["header"] is True
    item = body["docketEntryDocuments"][0]
    assert item["acms_docketdocumentdetailsid"] == want[0]["docketDocumentDetailsId"]
    assert item["billablepages"] == want[0]["billablePages"] and item["cost"] == want[0]["cost"]


def test_wire_helpers_never_crash_on_odd_input():
    from parsers import acms_api

    for odd in (None, [], "x", 3, {}, {"matchingDocketEntries": "no"}, {"docketEntryDocuments": {}}):
        acms_api.case_details(odd)
        acms_api.docket_info(odd)
        assert isinstance(acms_api.entry_documents(odd), list)
    assert acms_api.docket_info({"matchingDocketEntries": [{"pcx_enddate": "2024-01-02"}]}) == {
        "docketEntries": [{"endDate": "2024-01-02", "endDateFormatted": "01/02/2024"}]}
    both = acms_api.case_details({"pcx_casenumber": "1-1", "caseNumber": "2-2"})
    assert both == {"caseNumber": "2-2"}
