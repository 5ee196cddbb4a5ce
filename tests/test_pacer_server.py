"""Tests of the local PACER server itself (plain urllib, no scrapy)."""
from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.servers import default_shared_dir, shared_available
from tests.servers.pacer import PacerServer, cost_of, document_pages, report_pages

SHARED = default_shared_dir()
needs_shared = pytest.mark.skipif(not shared_available(SHARED), reason="../shared not found: %s" % SHARED)

WECHAT = "364733"
ENTRY_DATES = re.compile(r'<td width="94" valign="top" nowrap="nowrap">(\d\d/\d\d/\d{4})</td>')


class Client:
    """A browser-ish client: a cookie jar, no exceptions on HTTP errors."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, url, data=None, headers=None, method=None):
        if isinstance(data, dict):
            data = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(url, data=data, headers=dict(headers or {}), method=method)
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def login(self, server, username="user", password="pass", **extra):
        body = dict({"loginId": username, "password": password, "redactFlag": "1"}, **extra)
        status, headers, data = self.request(server.login_url, json.dumps(body).encode(),
                                             {"Content-Type": "application/json", "Accept": "application/json"})
        assert status == 200
        return json.loads(data), headers

    def cookies(self):
        return {c.name: c.value for c in self.jar}


@pytest.fixture
def pacer():
    with PacerServer() as server:
        yield server


@pytest.fixture
def client(pacer):
    c = Client()
    c.login(pacer)
    return c


def report(client, pacer, **fields):
    fields = dict({"all_case_ids": WECHAT, "date_range_type": "Filed", "date_from": "", "date_to": "",
                   "documents_numbered_from_": "", "documents_numbered_to_": "",
                   "list_of_parties_and_counsel": "on", "terminated_parties": "on", "pdf_header": "1",
                   "output_format": "html", "sort1": "oldest date first"}, **fields)
    status, _, body = client.request(pacer.ecf_url("cand") + "cgi-bin/DktRpt.pl?1-L_1_0-1", fields)
    assert status == 200
    return body.decode("utf-8")


# --- settings and fees ------------------------------------------------------------------

def test_settings_name_the_base_urls(pacer):
    s = pacer.settings()
    assert s["PACER_LOGIN_URL"] == pacer.login_url and pacer.login_url.endswith("/services/cso-auth")
    assert s["PACER_ECF_URL_TEMPLATE"].format(court="cand") == pacer.ecf_url("cand")
    assert s["PACER_ACMS_URL_TEMPLATE"].format(court="ca9") == pacer.acms_url
    assert s["PACER_ACMS_API_URL_TEMPLATE"].format(court="ca9") == pacer.acms_api_url
    assert pacer.ecf_url("cand").startswith("http://127.0.0.1:")


def test_fee_rules():
    assert report_pages(1) == 1 and report_pages(4320) == 1 and report_pages(4321) == 2
    assert report_pages(10 ** 7) == 30
    assert document_pages(45) == 30 and document_pages(45, transcript=True) == 45
    assert cost_of(30) == 3.0 and cost_of(3) == 0.3


# --- login -------------------------------------------------------------------------------

def test_login_ok_sets_session_cookies(pacer):
    c = Client()
    body, headers = c.login(pacer)
    assert body["loginResult"] == "0" and body["nextGenCSO"]
    assert c.cookies()["NextGenCSO"] == body["nextGenCSO"] == c.cookies()["PacerSession"]
    assert "PacerClientCode" not in c.cookies()
    assert pacer.log.tally(kind="login") == 1 and pacer.charges == []


def test_login_with_client_code(pacer):
    c = Client()
    body, _ = c.login(pacer, clientCode="matter-7")
    assert body["loginResult"] == "0"
    assert c.cookies()["PacerClientCode"] == "matter-7"


def test_login_bad_password(pacer):
    c = Client()
    body, _ = c.login(pacer, password="wrong")
    assert body["loginResult"] == "1" and "Invalid username or password" in body["errorDescription"]
    assert "nextGenCSO" not in body and c.cookies() == {}


def test_login_mfa():
    with PacerServer(mfa=True, otp_code="654321") as pacer:
        c = Client()
        body, _ = c.login(pacer)
        assert body["loginResult"] == "1" and "one-time passcode" in body["errorDescription"]
        body, _ = c.login(pacer, otpCode="000000")
        assert body["loginResult"] == "1" and c.cookies() == {}
        body, _ = c.login(pacer, otpCode="654321")
        assert body["loginResult"] == "0" and c.cookies()["NextGenCSO"] == body["nextGenCSO"]


def test_login_password_change_required_and_pending_actions(pacer):
    pacer.add_account("changepw", "pw", state="change_password")
    pacer.add_account("pending", "pw", state="pending")
    c = Client()
    body, _ = c.login(pacer, "changepw", "pw")
    assert body["loginResult"] == "0" and body["errorDescription"] and "nextGenCSO" not in body
    assert c.cookies() == {}
    body, _ = c.login(pacer, "pending", "pw")
    assert body["loginResult"] == "0" and body["errorDescription"] and body["nextGenCSO"]


def test_pages_need_the_session_cookie(pacer):
    anonymous = Client()
    for url in [pacer.ecf_url("cand") + "cgi-bin/DktRpt.pl?" + WECHAT,
                pacer.ecf_url("cand") + "cgi-bin/possible_case_numbers.pl?3:20-cv-05910",
                pacer.ecf_url("cand") + "doc1/035019266101", pacer.acms_url]:
        status, _, body = anonymous.request(url)
        assert status == 200 and b"<title>PACER: Login</title>" in body, url
    assert pacer.charges == []


def test_expired_session_answers_the_login_form_until_logged_in_again(pacer, client):
    url = pacer.ecf_url("cand") + "cgi-bin/DktRpt.pl?" + WECHAT
    assert b"all_case_ids" in client.request(url)[2]
    pacer.expire_sessions()
    assert b"PACER: Login" in client.request(url)[2]
    client.login(pacer)
    assert b"all_case_ids" in client.request(url)[2]


# --- district ------------------------------------------------------------------------------

@pytest.mark.parametrize("number", ["3:20-cv-05910", "3:20-cv-05910-LB", "20-5910", "2005910"])
def test_possible_case_numbers_wechat(pacer, client, number):
    status, headers, body = client.request(pacer.ecf_url("cand") + "cgi-bin/possible_case_numbers.pl?" + number)
    assert status == 200 and "xml" in headers["Content-Type"]
    assert re.search(rb'<case number="3:20-cv-5910" id="364733"', body)
    assert b"3:20-cv-05910-LB U.S. WeChat Users Alliance" in body


def test_possible_case_numbers_unknown(pacer, client):
    body = client.request(pacer.ecf_url("cand") + "cgi-bin/possible_case_numbers.pl?3:99-cv-99999")[2]
    assert b"<message text=\"Cannot find case" in body and b"<case" not in body


@needs_shared
def test_possible_case_numbers_corpus_samples(pacer, client):
    body = client.request(pacer.ecf_url("azd") + "cgi-bin/possible_case_numbers.pl?16-01152")[2]
    assert body.count(b"<case ") == 4 and b'id="977547"' in body
    body = client.request(pacer.ecf_url("cand") + "cgi-bin/possible_case_numbers.pl?1202634")[2]
    assert b"Case Under Seal" in body
    assert pacer.charges == []  # free


def test_report_form(pacer, client):
    status, _, body = client.request(pacer.ecf_url("cand") + "cgi-bin/DktRpt.pl?" + WECHAT)
    text = body.decode()
    assert status == 200 and 'action="../cgi-bin/DktRpt.pl?1-L_1_0-1"' in text
    for name in ["all_case_ids", "date_range_type", "date_from", "date_to", "documents_numbered_from_",
                 "documents_numbered_to_", "list_of_parties_and_counsel", "terminated_parties", "pdf_header",
                 "output_format", "sort1"]:
        assert 'name="%s"' % name in text
    assert 'value="364733"' in text and pacer.charges == []


def test_full_report_and_its_charge(pacer, client):
    text = report(client, pacer)
    dates = ENTRY_DATES.findall(text)
    assert len(dates) == 11 and dates[0] == "08/21/2020" and dates[-1] == "10/23/2020"
    assert "CIVIL DOCKET FOR CASE #: 3:20-cv-05910-LB" in text
    assert pacer.ecf_url("cand") + "doc1/035019230780" in text  # links point back to the local server
    assert "https://ecf.cand.uscourts.gov" not in text
    n_bytes = len(text.encode())
    pages = -(-n_bytes // 4320)
    assert pacer.charges == [{"what": "docket_report", "court": "cand", "case": WECHAT, "pages": pages,
                              "cost": round(pages * 0.1, 2), "bytes": n_bytes}]
    assert re.search(r"Billable Pages: </font></th><td[^>]*><font[^>]*> %d </font>" % pages, text)


def test_report_filtered_by_date_and_number(pacer, client):
    full = report(client, pacer)
    by_date = report(client, pacer, date_from="09/19/2020")
    assert ENTRY_DATES.findall(by_date) == ["09/19/2020", "09/24/2020", "10/01/2020", "10/23/2020"]
    by_dates = report(client, pacer, date_from="09/01/2020", date_to="09/18/2020")
    assert ENTRY_DATES.findall(by_dates) == ["09/08/2020", "09/17/2020", "09/18/2020", "09/18/2020"]
    by_number = report(client, pacer, documents_numbered_from_="49", documents_numbered_to_="78")
    assert ENTRY_DATES.findall(by_number) == ["09/18/2020", "09/19/2020", "09/24/2020", "10/01/2020"]
    assert ">49</a>" in by_number and ">48</a>" not in by_number
    none = report(client, pacer, date_from="01/01/2021")
    assert ENTRY_DATES.findall(none) == [] and "no documents" in none
    assert "U.S. WeChat Users Alliance" in none  # the case header is still there
    assert len(pacer.charges) == 5
    assert pacer.charges[1]["bytes"] < pacer.charges[0]["bytes"] == len(full.encode())


def test_incremental_update_gets_only_the_new_entries(pacer, client):
    report(client, pacer)
    pacer.add_entry("cand", WECHAT, 97, "2020-11-02", "STIPULATION re briefing schedule filed by Donald J. Trump.",
                    doc_id="035019400001")
    pacer.add_entry("cand", WECHAT, 98, "11/03/2020", "ORDER granting stipulation. Signed by Judge Laurel Beeler.",
                    doc_id="035019400002", pdf=b"%PDF-1.4 tiny", page_count=1)
    new = report(client, pacer, documents_numbered_from_="97")
    assert ENTRY_DATES.findall(new) == ["11/02/2020", "11/03/2020"]
    assert "STIPULATION re briefing schedule" in new and "ORDER granting stipulation" in new
    assert ENTRY_DATES.findall(report(client, pacer, date_from="10/24/2020")) == ["11/02/2020", "11/03/2020"]
    assert len(ENTRY_DATES.findall(report(client, pacer))) == 13
    status, headers, body = client.request(pacer.ecf_url("cand") + "doc1/035019400002", {"got_receipt": "1"})
    assert headers["Content-Type"] == "application/pdf" and body == b"%PDF-1.4 tiny"
    assert pacer.charges[0]["cost"] > pacer.charges[1]["cost"]  # asking for less costs less


def test_unknown_case_report(pacer, client):
    text = report(client, pacer, all_case_ids="1")
    assert "not found" in text and pacer.charges == []


def test_multipart_report_form(pacer, client):
    boundary = "----docketarchive"
    parts = []
    for name, value in {"all_case_ids": WECHAT, "date_from": "10/01/2020"}.items():
        parts.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, name, value))
    data = ("".join(parts) + "--%s--\r\n" % boundary).encode()
    status, _, body = client.request(pacer.ecf_url("cand") + "cgi-bin/DktRpt.pl?1-L_1_0-1", data,
                                     {"Content-Type": "multipart/form-data; boundary=%s" % boundary})
    assert ENTRY_DATES.findall(body.decode()) == ["10/01/2020", "10/23/2020"]


@needs_shared
def test_corpus_docket_served_and_filtered(pacer, client):
    assert ("nysd", "4606") in pacer.district
    status, _, body = client.request(pacer.ecf_url("nysd") + "cgi-bin/DktRpt.pl?1-L_1_0-1", {"all_case_ids": "4606"})
    full = body.decode()
    assert "1:00-cv-01898" in full
    status, _, body = client.request(pacer.ecf_url("nysd") + "cgi-bin/DktRpt.pl?1-L_1_0-1",
                                     {"all_case_ids": "4606", "documents_numbered_from_": "4000"})
    assert 0 < len(body) < len(full.encode())


@needs_shared
def test_pages_that_are_not_dockets(pacer, client):
    """Corpus pages PACER answers instead of a docket (errors, warnings), keyed by
    the court and case id / number in their file names; not billed."""
    status, _, body = client.request(pacer.ecf_url("cacd") + "cgi-bin/DktRpt.pl?1-L_1_0-1", {"all_case_ids": "628915"})
    assert status == 200 and b"The start date must be less than or equal to the end date" in body
    body = client.request(pacer.ecf_url("ca9") + "n/beam/servlet/TransportRoom?servlet=CaseSummary.jsp"
                                                 "&caseNum=16-73537")[2]
    assert b"Court of Appeals Docket #" not in body and len(body) > 100
    assert pacer.charges == []


# --- documents -------------------------------------------------------------------------------

def test_confirmation_then_pdf(pacer, client):
    url = pacer.ecf_url("cand") + "doc1/035019266101"  # entry 49, no attachments: broken-mime.pdf (23 pages) or tiny
    status, headers, body = client.request(url)
    text = body.decode()
    assert status == 200 and "text/html" in headers["Content-Type"]
    doc = pacer.document("cand", "035019266101")
    pages = min(30, doc.pdf.page_count or 1)
    assert re.search(r"Billable Pages: </font></th><td[^>]*><font[^>]*> %d </font>" % pages, text)
    assert re.search(r"Cost: </font></th><td[^>]*><font[^>]*> %.2f </font>" % (pages * 0.1), text)
    assert "3:20-cv-05910-LB" in text
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', text, re.S)
    assert form and form.group(1) == url
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)))
    assert fields["caseid"] == WECHAT and fields["got_receipt"] == "1"
    assert pacer.charges == []  # looking at the receipt is free
    status, headers, data = client.request(url, fields)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert data == doc.pdf.read()
    assert pacer.charges == [{"what": "document", "court": "cand", "case": WECHAT, "pages": pages,
                              "cost": round(pages * 0.1, 2), "doc_id": "035019266101"}]


@needs_shared
def test_document_fee_is_capped_at_30_pages_except_transcripts(pacer, client):
    client.request(pacer.ecf_url("cand") + "doc1/035119212401", {"got_receipt": "1"})  # vector-pdf.pdf, 30 pages
    pacer.add_entry("cand", WECHAT, 99, "2020-11-05", "TRANSCRIPT of Proceedings held on 9/17/2020.",
                    doc_id="035019400099", pdf=b"%PDF-1.4 transcript", page_count=45, transcript=True)
    doc = pacer.document("cand", "035019400099")
    assert doc.pdf.page_count == 45
    client.request(pacer.ecf_url("cand") + "doc1/035019400099", {"got_receipt": "1"})
    assert [(c["what"], c["pages"], c["cost"]) for c in pacer.charges] == [("document", 30, 3.0),
                                                                          ("transcript", 45, 4.5)]


def test_free_opinion_costs_nothing(pacer, client):
    client.request(pacer.ecf_url("cand") + "doc1/035019268544", {"got_receipt": "1"})  # entry 59, is_free_on_pacer
    assert pacer.charges[0]["cost"] == 0.0 and pacer.charges[0]["what"] == "document"


def test_attachment_page_for_a_filing_with_attachments(pacer, client):
    status, _, body = client.request(pacer.ecf_url("cand") + "doc1/035019212401")  # entry 1: complaint + 2 attachments
    text = body.decode()
    assert status == 200 and "Document Number:" in text
    links = re.findall(r'href="[^"]*/doc1/(\d+)"', text)
    assert links == ["035119212401", "035119212402", "035119212403"]
    assert "Civil Cover Sheet" in text and "Exhibit A - Executive Order 13943" in text
    assert pacer.charges == []  # free
    # the main document itself (4th digit 1) is a confirmation page
    assert b"Billable Pages" in client.request(pacer.ecf_url("cand") + "doc1/035119212401")[2]


@needs_shared
def test_corpus_attachment_page(pacer, client):
    body = client.request(pacer.ecf_url("cand") + "doc1/035023513538")[2]
    assert b"Civil Cover Sheet" in body and pacer.ecf_url("cand").encode() + b"doc1/035123513539" in body


# --- RSS ----------------------------------------------------------------------------------------

@needs_shared
def test_rss_is_free_and_needs_no_login(pacer):
    status, headers, body = Client().request(pacer.ecf_url("nysd") + "cgi-bin/rss_outside.pl")
    assert status == 200 and b"Southern District of New York - Recent Entries" in body
    assert pacer.charges == []


def test_rss_carries_added_entries(pacer):
    pacer.add_entry("cand", WECHAT, 97, "2020-11-02", "STIPULATION re briefing schedule", doc_id="035019400001")
    status, _, body = Client().request(pacer.ecf_url("cand") + "cgi-bin/rss_outside.pl")
    assert status == 200 and b"<rss" in body and body.count(b"<item>") == 1
    assert b"3:20-cv-05910-LB" in body and b"doc1/035019400001" in body


# --- appellate ------------------------------------------------------------------------------------

def test_ca9_case_summary_and_showdoc(pacer, client):
    base = pacer.ecf_url("ca9") + "n/beam/servlet/TransportRoom"
    query = ("servlet=CaseSummary.jsp&caseNum=20-16908&incDktEntries=Y&incOrigDkt=Y&incPtyAty=Y"
             "&fullDocketReport=Y&actionType=Run+Docket+Report")
    status, _, body = client.request(base + "?" + query)
    text = body.decode("iso-8859-1")
    assert status == 200 and "Court of Appeals Docket #: </b>20-16908" in text
    assert "009031814408" in text and "Emergency Motion to stay" in text
    assert pacer.charges[0]["what"] == "appellate_docket" and pacer.charges[0]["cost"] > 0
    # the docket's links (docs1/<id>) and ShowDoc answer a Download Confirmation page ...
    link = re.search(r'HREF="([^"]*/docs1/009031822051)"', text).group(1)
    assert link.startswith(pacer.ecf_url("ca9"))
    status, _, body = client.request(link)
    page = body.decode("cp1252")
    assert "Download Confirmation" in page and "Case: 20-16908, Document: 16" in page
    assert re.search(r"Billable Pages:</font></th><td[^>]*>\s*<font[^>]*>(\d+)</font>", page)
    form = re.search(r'<form name="AccCharge" action="([^"]+)" method="post">(.*?)</form>', page, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)))
    assert form.group(1) == base and fields["servlet"] == "ShowDoc" and fields["dls_id"] == "009031822051"
    assert len(pacer.charges) == 1
    # ... whose form (POST) answers the PDF
    status, headers, data = client.request(form.group(1), fields)
    assert headers["Content-Type"] == "application/pdf" and data[:4] == b"%PDF"
    assert data == pacer.document("ca9", "009031822051").pdf.read()
    assert pacer.charges[1]["what"] == "document" and pacer.charges[1]["case"] == "20-16908"
    status, _, body = client.request(base + "?servlet=ShowDoc&dls_id=009031840330&caseId=310877")
    assert b"Download Confirmation" in body
    client.request(base, {"servlet": "ShowDoc", "dls_id": "009031840330", "caseId": "310877"})
    assert pacer.charges[2]["cost"] == 0.0  # the order is free
    assert b"No case found" in client.request(base + "?servlet=CaseSummary.jsp&caseNum=99-99999")[2]


def test_ca9_case_summary_from_a_date(pacer, client):
    base = pacer.ecf_url("ca9") + "n/beam/servlet/TransportRoom?servlet=CaseSummary.jsp&caseNum=20-16908"
    full = client.request(base + "&incDktEntries=Y")[2]
    dates = re.findall(rb"<tr><td valign=top>(\d\d/\d\d/\d{4})</td>", full)
    assert dates == [b"10/01/2020", b"10/02/2020", b"10/09/2020", b"10/26/2020", b"07/21/2021"]
    later = client.request(base + "&incDktEntries=Y&dateFrom=10%2F09%2F2020")[2]
    assert re.findall(rb"<tr><td valign=top>(\d\d/\d\d/\d{4})</td>", later) == dates[2:]
    assert b"Court of Appeals Docket #: </b>20-16908" in later
    assert [c["what"] for c in pacer.charges] == ["appellate_docket"] * 2
    assert pacer.charges[1]["cost"] <= pacer.charges[0]["cost"]


@needs_shared
def test_corpus_appellate_docket(pacer, client):
    body = client.request(pacer.ecf_url("ca9") + "n/beam/servlet/TransportRoom?servlet=CaseSummary.jsp"
                                                 "&caseNum=17-15589")[2]
    assert b"17-15589" in body and b"State of Hawaii" in body


# --- ACMS ---------------------------------------------------------------------------------------------

def acms_sign_in(pacer, client, court="ca9"):
    """GET / (the SAML form) then POST /Saml2/Acs: the client's jar has the session."""
    status, _, body = client.request(pacer.acms_url_for(court) + "23-2412")
    text = body.decode()
    form = re.search(r'action="([^"]+/Saml2/Acs)"', text)
    saml = re.search(r'name="SAMLResponse" value="([^"]+)"', text)
    assert status == 200 and form and saml
    status, headers, body = client.request(form.group(1), {"SAMLResponse": saml.group(1),
                                                           "RelayState": "/23-2412"})
    assert status == 200
    return headers


def acms_model(pacer, client, court="ca9"):
    """The showDocViewModel of /Home/IndexContent (after signing in)."""
    from parsers import acms_session

    status, _, body = client.request(pacer.acms_url_for(court) + "Home/IndexContent")
    assert status == 200
    return acms_session.view_model(body.decode())


def acms_token(pacer, client):
    acms_sign_in(pacer, client)
    return acms_model(pacer, client)["token"]


def test_acms_sign_in_sets_chunked_session_cookies(pacer, client):
    from parsers import acms_session

    headers = acms_sign_in(pacer, client)
    names = acms_session.saml_session_cookies(headers.get_all("Set-Cookie"))
    assert names == [".AspNetCore.saml2", ".AspNetCore.saml2C1", ".AspNetCore.saml2C2"]
    jar = client.cookies()
    assert jar[".AspNetCore.saml2"] == "chunks-2" and jar["ARRAffinity"] and jar["ARRAffinitySameSite"]
    assert jar[".AspNetCore.saml2C1"] + jar[".AspNetCore.saml2C2"] in pacer.acms_sessions
    model = acms_model(pacer, client)
    assert model["token"] in pacer.acms_tokens
    assert model["cso_id"] == pacer.cso_id("user") and model["contact_type"] == "Pacer"
    # the session is the court's: ca2's IndexContent does not know it
    assert client.request(pacer.acms_url_for("ca2") + "Home/IndexContent")[0] == 401


def test_acms_index_content_needs_every_chunk(pacer, client):
    acms_sign_in(pacer, client)
    url = pacer.acms_url_for("ca9") + "Home/IndexContent"
    jar = client.cookies()
    for missing in (".AspNetCore.saml2C2", ".AspNetCore.saml2"):
        cookie = "; ".join("%s=%s" % (k, v) for k, v in jar.items() if k != missing)
        status, _, body = Client().request(url, headers={"Cookie": cookie})
        assert status == 401 and b"showDocViewModel" not in body
    assert Client().request(url)[0] == 401


def test_acms_without_pacer_session_answers_the_login_form(pacer, client):
    pacer.expire_pacer_sessions()
    status, _, body = client.request(pacer.acms_url)
    assert status == 200 and b"SAMLResponse" not in body and b"PACER: Login" in body


def test_acms_rejected_saml_is_200_with_affinity_only(pacer, client):
    from parsers import acms_session

    body = client.request(pacer.acms_url)[2].decode()
    saml = re.search(r'name="SAMLResponse" value="([^"]+)"', body).group(1)
    pacer.acms_reject_saml = True
    fresh = Client()  # no ARRAffinity yet: the rejection hands it out
    status, headers, page = fresh.request(pacer.acms_url + "Saml2/Acs", {"SAMLResponse": saml})
    assert status == 200 and b"Sign in with PACER" in page
    assert acms_session.saml_session_cookies(headers.get_all("Set-Cookie")) == []
    assert sorted(fresh.cookies()) == ["ARRAffinity", "ARRAffinitySameSite"]
    assert fresh.request(pacer.acms_url + "Home/IndexContent")[0] == 401


def test_acms_token_expires_and_index_content_gives_a_new_one(pacer, client):
    pacer.acms_token_uses = 1
    token = acms_token(pacer, client)
    url = pacer.acms_api_url + "CaseDetailsByCaseId/00000000-0000-0000-0000-000000000000"
    auth = {"Authorization": "Bearer " + token}
    assert client.request(url, headers=auth)[0] == 404  # its one call
    assert client.request(url, headers=auth)[0] == 401  # then expired
    again = acms_model(pacer, client)["token"]
    assert again != token and client.request(url, headers={"Authorization": "Bearer " + again})[0] == 404
    pacer.acms_token_uses = None
    fresh = acms_model(pacer, client)["token"]
    pacer.expire_acms_tokens()
    assert client.request(url, headers={"Authorization": "Bearer " + fresh})[0] == 401
    # a ca9 token is no good on ca2's API
    other = acms_model(pacer, client)["token"]
    assert client.request(pacer.acms_api_url_for("ca2") + "CaseDetailsByCaseId/x",
                          headers={"Authorization": "Bearer " + other})[0] == 401


@needs_shared
def test_acms_token_flow_and_api(pacer, client):
    """The API answers with ACMS's wire names (pcx_*, acms_*, matchingDocketEntries)."""
    token = acms_token(pacer, client)
    guid = next(case.case_id for case in pacer.acms.values() if case.docket_number == "23-2412")
    api = pacer.acms_api_url
    auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    status, _, body = client.request(api + "CaseDetailsByCaseId/" + guid, headers=auth)
    details = json.loads(body)
    assert status == 200 and details["pcx_casenumber"] == "23-2412" and details["pcx_caseid"] == guid
    assert "caseNumber" not in details
    assert client.request(api + "DocketEntriesByCaseId/" + guid,
                          json.dumps({"csoId": 1, "contactType": "Pacer"}).encode(), auth)[0] == 400
    status, _, body = client.request(api + "DocketEntriesByCaseId/" + guid,
                                     json.dumps({"csoId": pacer.cso_id("user"),
                                                 "contactType": "Pacer"}).encode(), auth)
    info = json.loads(body)
    assert status == 200 and len(info["matchingDocketEntries"]) == 8
    with_docs = next(e for e in info["matchingDocketEntries"] if e["documentCount"])
    status, _, body = client.request(api + "DocketEntryDocumentsByDocketId/" + with_docs["pcx_eventid"],
                                     b"{}", auth)
    docs = json.loads(body)
    assert status == 200 and len(docs) == with_docs["documentCount"]
    assert docs[0]["acms_docketdocumentdetailsid"] and docs[0]["billablePages"] >= 1
    assert [c["what"] for c in pacer.charges] == ["acms_docket"]  # listing documents is free
    assert pacer.charges[0]["pages"] == -(-info["byteCount"] // 4320)
    # no or a wrong token: 401
    assert client.request(api + "CaseDetailsByCaseId/" + guid)[0] == 401
    assert client.request(api + "CaseDetailsByCaseId/" + guid, headers={"Authorization": "Bearer nope"})[0] == 401


@needs_shared
def test_acms_document_purchase(pacer, client):
    """MergePDFFiles (billed) -> Durable Functions status until Completed -> GetMergedFile."""
    from parsers import acms_api

    token = acms_token(pacer, client)
    auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    api = pacer.acms_api_url
    case = next(c for c in pacer.acms.values() if c.docket_number == "22-21")
    entry = next(e for e in case.data["docketInfo"]["docketEntries"] if e["entryNumber"] == 33)
    status, _, body = client.request(api + "DocketEntryDocumentsByDocketId/" + entry["docketEntryId"],
                                     json.dumps({"isUserCaseParticipant": False,
                                                 "restrictedPartyFilingDocketEntry": False}).encode(), auth)
    docs = acms_api.entry_documents(json.loads(body))
    assert status == 200 and len(docs) == 2  # the corpus's own listing of this entry
    want = docs[1]
    status, headers, body = client.request(api + "MergePDFFiles",
                                           json.dumps(acms_api.merge_request([want])).encode(), auth)
    started = json.loads(body)
    assert status == 202 and started["statusQueryGetUri"]
    assert pacer.charges == [{"what": "document", "court": "ca9", "case": "22-21", "acms": True,
                              "pages": want["billablePages"], "cost": want["cost"],
                              "document": want["docketDocumentDetailsId"], "case_id": case.case_id}]
    status, _, body = client.request(started["statusQueryGetUri"], headers=auth)
    assert status == 202 and json.loads(body)["runtimeStatus"] == "Running"
    status, _, body = client.request(started["statusQueryGetUri"], headers=auth)
    done = json.loads(body)
    assert status == 200 and done["runtimeStatus"] == "Completed" and done["output"]
    status, headers, body = client.request(api + "GetMergedFile?fileGuid=" + done["output"], headers=auth)
    assert status == 200 and body.startswith(b"%PDF")
    assert client.request(api + "GetMergedFile?fileGuid=" + done["output"])[0] == 401
    assert client.request(api + "GetMergedFile?fileGuid=nope", headers=auth)[0] == 404
    # an unknown document is not sold
    bad = acms_api.merge_request([dict(want, docketDocumentDetailsId="0" * 8)])
    assert client.request(api + "MergePDFFiles", json.dumps(bad).encode(), auth)[0] == 404
    assert len(pacer.charges) == 1


def test_acms_saml_response_is_single_use(pacer, client):
    body = client.request(pacer.acms_url)[2].decode()
    saml = re.search(r'name="SAMLResponse" value="([^"]+)"', body).group(1)
    acs = pacer.acms_url + "Saml2/Acs"
    first = client.request(acs, {"SAMLResponse": saml})
    second = client.request(acs, {"SAMLResponse": saml})
    assert first[0] == second[0] == 200  # a rejected login answers 200 too...
    # ...but only the first sets the session cookie
    assert any(".AspNetCore.saml2C1=" in h for h in first[1].get_all("Set-Cookie"))
    assert not any(".AspNetCore.saml2" in h for h in second[1].get_all("Set-Cookie") or [])
    assert b"Sign in with PACER" in second[2]


# --- failures and the log ---------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 429])
def test_fail_next(pacer, client, status):
    pacer.fail_next("DktRpt.pl", status)
    got, headers, _ = client.request(pacer.ecf_url("cand") + "cgi-bin/DktRpt.pl?1-L_1_0-1", {"all_case_ids": WECHAT})
    assert got == status
    if status == 429:
        assert headers["Retry-After"] == "1"
    assert "Date Filed" in report(client, pacer)  # only the next one fails
    assert len(pacer.charges) == 1


def test_request_log_kinds(pacer, client):
    report(client, pacer)
    client.request(pacer.ecf_url("cand") + "doc1/035019266101")
    kinds = [r["kind"] for r in pacer.log.snapshot()]
    assert kinds == ["login", "docket_report", "doc1"]
