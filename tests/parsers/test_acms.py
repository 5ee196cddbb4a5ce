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


# --- ACMS's sign-in pages (parsers.acms_session) ------------------------------------------------

SAML_PAGE = """<html><head><title>Working...</title></head><body onload="document.forms[0].submit()">
<form method="POST" name="hiddenform" action="https://ca9-showdoc.azurewebsites.us/Saml2/Acs">
<input type="hidden" name="SAMLResponse" value="PHNhbWxwOlJlc3BvbnNlPg==" />
<input type="hidden" name="RelayState" value="/23-2412?a=1&amp;b=2" />
<noscript><p>Script is disabled.</p><input type="submit" value="Submit" /></noscript>
</form></body></html>"""


def test_saml_form_reads_the_hidden_inputs():
    from parsers.acms_session import saml_form

    form = saml_form(SAML_PAGE)
    assert form == {"action": "https://ca9-showdoc.azurewebsites.us/Saml2/Acs",
                    "fields": {"SAMLResponse": "PHNhbWxwOlJlc3BvbnNlPg==",
                               "RelayState": "/23-2412?a=1&b=2"}}
    # inputs outside any form, the name in another case: still read
    loose = '<div><input type=hidden name=samlresponse value="abc"><input name="RelayState" value=""></div>'
    assert saml_form(loose) == {"action": None, "fields": {"samlresponse": "abc", "RelayState": ""}}


@pytest.mark.parametrize("page", [
    "", "   ", "<html><body>SAMLResponse</body></html>",
    '<form><input type="hidden" name="SAMLResponse" value="" /></form>',  # empty: not one
    '<form><input type="hidden" name="SAMLRequest" value="abc" /></form>',
    "not html at all", "\x00\x01", "{}",
])
def test_saml_form_none_without_a_saml_response(page):
    from parsers.acms_session import saml_form

    assert saml_form(page) is None


def test_saml_form_none_on_pacers_login_form():
    from parsers.acms_session import saml_form

    page = (Path(__file__).resolve().parents[1] / "fixtures" / "pacer" / "login.html").read_text()
    assert saml_form(page) is None


def test_saml_session_cookies():
    import datetime as dt

    from parsers.acms_session import saml_session_cookies

    signed_in = [b".AspNetCore.saml2=chunks-2; path=/; secure; samesite=none; httponly",
                 ".AspNetCore.saml2C1=CfDJ8aaa; path=/; secure; samesite=none; httponly",
                 ".AspNetCore.saml2C2=bbb; path=/; secure; samesite=none; httponly",
                 "ARRAffinity=0123abcd;Path=/;HttpOnly;Secure;Domain=ca9-showdoc.azurewebsites.us",
                 "ARRAffinitySameSite=0123abcd;Path=/;HttpOnly;SameSite=None;Secure"]
    assert saml_session_cookies(signed_in) == [".AspNetCore.saml2", ".AspNetCore.saml2C1",
                                               ".AspNetCore.saml2C2"]
    assert saml_session_cookies(signed_in[3:]) == []  # a rejected sign-in: ARRAffinity only
    assert saml_session_cookies(None) == [] and saml_session_cookies([]) == []
    now = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
    deleted = [".AspNetCore.saml2=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/",
               ".AspNetCore.saml2C1=x; max-age=0; path=/",
               ".AspNetCore.saml2C2=x; expires=Sat, 31 May 2025 23:59:59 GMT; path=/"]
    assert saml_session_cookies(deleted, now=now) == []
    later = [".AspNetCore.saml2=abc; expires=Sun, 01 Jun 2025 01:00:00 GMT; path=/"]
    assert saml_session_cookies(later, now=now) == [".AspNetCore.saml2"]
    # another cookie whose name merely contains it is not the session
    assert saml_session_cookies(["x.AspNetCore.saml2=1"]) == []


MODEL = {"AuthToken": {"Token": "eyJ0eXAiOiJKV1Qi.payload.sig", "Expiration": "2025-03-01T12:00:00Z"},
         "PacerUser": {"CsoId": 1234567, "ContactType": "Pacer", "FirstName": "A"},
         "ApiUrl": "https://ca9-showdocservices.azurewebsites.us/api/"}


def js_single_quoted(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.mark.parametrize("script", [
    "var showDocViewModel = %s;" % json.dumps(MODEL),
    "window.showDocViewModel = %s\n" % json.dumps(MODEL, indent=2),
    "const showDocViewModel = JSON.parse(%s);" % js_single_quoted(json.dumps(MODEL)),
    "var showDocViewModel = %s;" % json.dumps(json.dumps(MODEL)),  # a JSON string holding it
    "var showDocViewModel = '%s';" % json.dumps(MODEL).replace('"', "\\u0022"),
    "var app = {showDocViewModel: %s};" % json.dumps(MODEL),
    "var model = %s;" % js_single_quoted(json.dumps(MODEL)),  # the pre-2025 SAML answer's
])
def test_view_model(script):
    import datetime as dt

    from parsers.acms_session import view_model

    page = f'<div id="showDocContent"><script type="text/javascript">\n{script}\n</script></div>'
    got = view_model(page)
    assert got == {"token": "eyJ0eXAiOiJKV1Qi.payload.sig", "cso_id": 1234567,
                   "contact_type": "Pacer", "expires": "2025-03-01T12:00:00Z",
                   "expires_at": dt.datetime(2025, 3, 1, 12, tzinfo=dt.timezone.utc)}


def test_view_model_other_letter_cases_and_shapes():
    from parsers.acms_session import view_model

    camel = {"authToken": {"token": "t1"}, "pacerUser": {"csoId": "77", "contactType": "Attorney"}}
    got = view_model("<script>var showDocViewModel = %s;</script>" % json.dumps(camel))
    assert (got["token"], got["cso_id"], got["contact_type"], got["expires_at"]) == \
        ("t1", "77", "Attorney", None)
    flat = {"AuthToken": "t2", "CsoId": 5}  # a token given as a string, the user at the top
    got = view_model("<script>showDocViewModel = %s</script>" % json.dumps(flat))
    assert (got["token"], got["cso_id"], got["contact_type"]) == ("t2", 5, "Pacer")
    odd = {"AuthToken": {"Token": "t3", "Expiration": "soon"}}
    assert view_model("<script>var showDocViewModel=%s;</script>" % json.dumps(odd))["expires_at"] is None


@pytest.mark.parametrize("page", [
    "", "<html><body>Sign in with PACER</body></html>",
    "<script>var showDocViewModel = {not json};</script>",
    "<script>var showDocViewModel = %s;</script>" % json.dumps({"AuthToken": {"Token": ""}}),
    "<script>var showDocViewModel = %s;</script>" % json.dumps({"PacerUser": {"CsoId": 1}}),
    "<script>var showDocViewModel = 'unterminated</script>",
    "<script>var showDocViewModel = [1, 2];</script>",
])
def test_view_model_without_a_token_is_a_parse_error(page):
    from parsers.acms_session import view_model

    with pytest.raises(ParseError):
        view_model(page)


def test_view_model_of_the_local_acms():
    """The local server's IndexContent page reads as the spider needs it."""
    from parsers.acms_session import view_model
    from tests.servers.pacer import PacerServer

    with PacerServer(None) as pacer:
        pacer.acms_sessions["s" * 128] = {"user": "user", "court": "ca9"}
        cookie = ".AspNetCore.saml2=chunks-2; .AspNetCore.saml2C1=%s; .AspNetCore.saml2C2=%s" % (
            "s" * 64, "s" * 64)
        import urllib.request

        req = urllib.request.Request(pacer.acms_url + "Home/IndexContent", headers={"Cookie": cookie})
        with urllib.request.urlopen(req, timeout=10) as resp:
            got = view_model(resp.read().decode())
    assert got["token"] in pacer.acms_tokens and got["cso_id"] == pacer.cso_id("user")
