"""Credentials go only to their own hosts, and nothing from another host is
archived (issue 9, point 4).

The CourtListener token goes only to COURTLISTENER_API_URL's scheme, host
and port; PACER's session only to PACER's login, ECF and ACMS hosts. A
redirect or a link elsewhere is not followed. The "other host" is a real
server on 127.0.0.2 (tests/servers/other_host.py) that records what it
receives, and answers with rows that must never reach the archive.
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response as ScrapyResponse
from scrapy.utils.test import get_crawler

from docket_spider import settings as project_settings
from docket_spider.middlewares import CredentialsMiddleware, HostsOffsiteMiddleware
from docket_spider.pacer.documents import purchase_form
from tests.conftest import SHARED, rows, run_crawl
from tests.servers.base import Response
from tests.servers.cases import Case, docket_object, make_pdf
from tests.servers.courtlistener import CourtListenerServer
from tests.servers.other_host import MARK, OtherHost
from tests.servers.pacer import PacerServer

TOKEN = "cl-t0ken-not-for-others"
USER, PASSWORD = "hosts-user", "Hosts-pa55word!"
API = "https://www.courtlistener.com/api/rest/v4/"


# --- the middlewares on their own ----------------------------------------------

class FakeSpider:
    name = "fake"
    bearer = "acms-bearer"

    def credential_headers(self, request, realm):
        return {"courtlistener": {"Authorization": f"Token {TOKEN}"},
                "pacer": {"Cookie": "NextGenCSO=session"},
                "acms": {"Authorization": "Bearer acms-bearer"}}[realm]


def credentials_mw(**settings):
    names = ("COURTLISTENER_API_URL", "PACER_LOGIN_URL", "PACER_ECF_URL_TEMPLATE",
             "PACER_ACMS_URL_TEMPLATE", "PACER_ACMS_API_URL_TEMPLATE")
    crawler = get_crawler(settings_dict={**{n: getattr(project_settings, n) for n in names},
                                         **settings})
    crawler.spider = FakeSpider()
    return CredentialsMiddleware.from_crawler(crawler)


@pytest.mark.parametrize("url,flag,header", [
    (API + "dockets/?court=cand", "courtlistener_auth", "Authorization"),
    ("https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733", "pacer_session", "Cookie"),
    ("https://ecf.nysd.uscourts.gov/doc1/12345", "pacer_session", "Cookie"),
    ("https://pacer.login.uscourts.gov/services/cso-auth", "pacer_session", "Cookie"),
    ("https://ca9-showdocservices.azurewebsites.us/api/GetMergedFile?fileGuid=x", "acms_bearer",
     "Authorization"),
])
def test_credentials_go_to_their_own_hosts_and_come_off_again(url, flag, header):
    mw = credentials_mw()
    request = Request(url, meta={flag: True})
    assert mw.process_request(request) is None
    assert header.encode() in request.headers
    mw.process_response(request, ScrapyResponse(url))
    assert header.encode() not in request.headers


@pytest.mark.parametrize("url,flag", [
    ("https://127.0.0.2/api/rest/v4/parties/", "courtlistener_auth"),
    ("https://www.courtlistener.com:8443/api/rest/v4/parties/", "courtlistener_auth"),  # port
    ("http://www.courtlistener.com/api/rest/v4/parties/", "courtlistener_auth"),  # scheme
    ("https://storage.courtlistener.com/recap/x.pdf", "courtlistener_auth"),
    ("https://www.courtlistener.com.evil.example/api/rest/v4/", "courtlistener_auth"),
    ("https://ecf.cand.uscourts.gov/cgi-bin/x", "courtlistener_auth"),  # the token is not PACER's
    (API + "dockets/", "pacer_session"),  # and PACER's session is not CourtListener's
    ("https://ecf.cand.uscourts.gov.evil.example/cgi-bin/DktRpt.pl", "pacer_session"),
    ("https://evil.example/ecf.cand.uscourts.gov/", "pacer_session"),
    ("https://ecf.cand.uscourts.gov/cgi-bin/x", "acms_bearer"),  # the bearer is ACMS's only
])
def test_a_flagged_request_for_another_host_is_not_sent(url, flag):
    mw = credentials_mw()
    request = Request(url, meta={flag: True})
    with pytest.raises(IgnoreRequest, match="another host"):
        mw.process_request(request)
    assert b"Authorization" not in request.headers and b"Cookie" not in request.headers
    assert mw.crawler.stats.get_value(f"credentials/refused/{mw_realm(flag)}") == 1


def mw_realm(flag):
    return {"courtlistener_auth": "courtlistener", "pacer_session": "pacer",
            "acms_bearer": "acms"}[flag]


def test_a_redirect_elsewhere_is_not_followed_and_says_so():
    mw = credentials_mw()
    redirected = Request("http://127.0.0.2:8000/api/rest/v4/parties/",
                         meta={"courtlistener_auth": True,
                               "redirect_urls": [API + "parties/?docket=1"]})
    with pytest.raises(IgnoreRequest, match=r"redirected to .*not followed"):
        mw.process_request(redirected)
    assert not redirected.headers.get("Authorization")


def test_acms_jar_cookies_travel_with_the_pacer_session_and_come_off_again():
    """ACMS's / gets the court's jar cookies (Scrapy's CookiesMiddleware) and PACER's
    session (CredentialsMiddleware) in one Cookie header; on the way back the
    whole header goes, so a retried or queued request holds neither."""
    from docket_spider.middlewares import CookiesMiddleware

    crawler = get_crawler(settings_dict={"COOKIES_ENABLED": True})
    jar_mw = CookiesMiddleware.from_crawler(crawler)
    url = "https://ca9-showdoc.azurewebsites.us/"
    meta = {"cookiejar": "acms:ca9", "pacer_session": True}
    first = Request(url, meta=dict(meta))
    jar_mw.process_request(first)
    jar_mw.process_response(first, ScrapyResponse(url, headers={"Set-Cookie": [
        "ARRAffinity=aff1;Path=/;HttpOnly;Secure;Domain=ca9-showdoc.azurewebsites.us",
        ".AspNetCore.saml2C1=chunk-one; path=/; secure; httponly"]}))
    mw = credentials_mw()
    request = Request(url, meta=dict(meta))
    jar_mw.process_request(request)
    mw.process_request(request)
    sent = request.headers[b"Cookie"].decode()
    assert "ARRAffinity=aff1" in sent and ".AspNetCore.saml2C1=chunk-one" in sent
    assert "NextGenCSO=session" in sent
    mw.process_response(request, ScrapyResponse(url))
    assert b"Cookie" not in request.headers
    # the jar is the court's: ca2's has none of it, nor has a request without a jar
    other = Request("https://ca9-showdoc.azurewebsites.us/", meta={"cookiejar": "acms:ca2"})
    jar_mw.process_request(other)
    assert b"Cookie" not in other.headers
    # a jar's cookie alone also comes off again
    alone = Request(url + "Home/IndexContent", meta={"cookiejar": "acms:ca9"})
    jar_mw.process_request(alone)
    mw.process_request(alone)
    assert b"ARRAffinity" in alone.headers[b"Cookie"]
    mw.process_exception(alone, IOError("down"))
    assert b"Cookie" not in alone.headers


def test_cookie_jars_never_fetch_the_public_suffix_list(monkeypatch):
    """Scrapy's CookiesMiddleware fetches the public suffix list from the internet
    the first time a cookie comes; the project's uses the list tldextract ships."""
    import scrapy.downloadermiddlewares.cookies as scrapy_cookies

    from docket_spider.middlewares import CookiesMiddleware

    def no_network(*args, **kwargs):
        raise AssertionError("the public suffix list was looked up the networked way")

    monkeypatch.setattr(scrapy_cookies, "_split_domain", no_network)
    assert project_settings.DOWNLOADER_MIDDLEWARES[
        "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"] is None
    assert project_settings.DOWNLOADER_MIDDLEWARES["docket_spider.middlewares.CookiesMiddleware"] == 700
    mw = CookiesMiddleware.from_crawler(get_crawler(settings_dict={"COOKIES_ENABLED": True}))
    url = "https://ca9-showdoc.azurewebsites.us/Saml2/Acs"
    request = Request(url, meta={"cookiejar": "acms:ca9"})
    mw.process_response(request, ScrapyResponse(url, headers={"Set-Cookie": [
        "a=1; Domain=ca9-showdoc.azurewebsites.us; Path=/",
        "b=2; Domain=us; Path=/"]}))  # a public suffix: not for every .us host
    again = Request("https://ca9-showdoc.azurewebsites.us/Home/IndexContent",
                    meta={"cookiejar": "acms:ca9"})
    mw.process_request(again)
    assert again.headers[b"Cookie"] == b"a=1"


def test_a_request_with_a_secret_body_stays_out_of_the_job_folder(tmp_path):
    """PACER's login and ACMS's SAML POST (meta memory_only) are refused by the
    disk queues, so Scrapy's scheduler keeps them in memory only."""
    from scrapy import Spider

    from docket_spider.squeues import PickleFifoDiskQueue, PickleLifoDiskQueue

    class Job(Spider):
        name = "job"

        def parse(self, response):
            pass

    crawler = get_crawler(Job, settings_dict={})
    crawler.spider = Job.from_crawler(crawler)
    for queue_cls in (PickleLifoDiskQueue, PickleFifoDiskQueue):
        folder = tmp_path / queue_cls.__name__
        queue = queue_cls.from_crawler(crawler, str(folder))
        queue.push(Request("https://ecf.cand.uscourts.gov/x", callback=crawler.spider.parse))
        with pytest.raises(ValueError, match="memory only"):
            queue.push(Request("https://ca9-showdoc.azurewebsites.us/Saml2/Acs", method="POST",
                               body=b"SAMLResponse=s3cret-assertion",
                               callback=crawler.spider.parse, meta={"memory_only": True}))
        assert len(queue) == 1
        queue.close()
        assert not any(b"s3cret-assertion" in p.read_bytes()
                       for p in folder.rglob("*") if p.is_file())
    assert project_settings.SCHEDULER_DISK_QUEUE == "docket_spider.squeues.PickleLifoDiskQueue"
    assert project_settings.SCHEDULER_START_DISK_QUEUE == "docket_spider.squeues.PickleFifoDiskQueue"


def test_ports_count_for_local_servers():
    mw = credentials_mw(COURTLISTENER_API_URL="http://127.0.0.1:5001/api/rest/v4/")
    ok = Request("http://127.0.0.1:5001/api/rest/v4/dockets/", meta={"courtlistener_auth": True})
    mw.process_request(ok)
    assert ok.headers.get("Authorization") == f"Token {TOKEN}".encode()
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("http://127.0.0.1:5002/api/rest/v4/dockets/",
                                   meta={"courtlistener_auth": True}))


def test_offsite_also_holds_dont_filter_requests():
    crawler = get_crawler(settings_dict={})

    class Spider:
        name = "s"
        allowed_domains = ["127.0.0.1", "archive.org"]

    crawler.spider = Spider()
    mw = HostsOffsiteMiddleware.from_crawler(crawler)
    for url in ("http://127.0.0.1:9/x", "https://ia800.us.archive.org/x.pdf"):
        assert mw.process_request(Request(url, dont_filter=True)) is None
    with pytest.raises(IgnoreRequest, match="not one of this crawl's hosts"):
        mw.process_request(Request("http://127.0.0.2:9/x", dont_filter=True,
                                   meta={"redirect_urls": ["http://127.0.0.1:9/x"]}))
    assert mw.process_request(Request("http://127.0.0.2:9/x", meta={"allow_offsite": True})) is None


def test_a_purchase_form_posting_elsewhere_posts_to_the_page_itself():
    url = "https://ecf.cand.uscourts.gov/doc1/035019432270"
    page = ('<html><body><form method="post" action="https://evil.example/doc1/035019432270">'
            '<input type="hidden" name="caseid" value="364733"></form></body></html>')
    form = purchase_form(HtmlResponse(url, body=page.encode()), page)
    assert form["url"] == url and form["fields"]["caseid"] == "364733"
    page = page.replace("https://evil.example/doc1/035019432270", "/doc1/035019432270")
    form = purchase_form(HtmlResponse(url, body=page.encode()), page)
    assert form["url"] == url


# --- real crawls: hostile redirects and links ----------------------------------

@pytest.fixture
def other():
    with OtherHost() as srv:
        yield srv


def assert_other_host_untouched(other, db):
    assert other.credentials() == []
    assert other.received == [], other.received
    for table, column in (("docket_entries", "description"), ("parties", "name"),
                          ("attorneys", "name"), ("documents", "description"),
                          ("dockets", "case_name")):
        found = rows(db, f"select {column} from {table} where {column} like ?", [f"%{MARK}%"])
        assert found == [], (table, found)


def small_case() -> Case:
    docket = docket_object({
        "id": 8001, "court_id": "cand", "case_name": "Hosts v. Tokens",
        "docket_number": "3:21-cv-08001", "pacer_case_id": "8001", "date_filed": "2021-02-01",
        "date_created": "2021-02-01T10:00:00.000000-08:00",
        "date_modified": "2021-02-01T10:00:00.000000-08:00"})
    case = Case(docket=docket, next_entry_id=800100, next_document_id=800200)
    for n in range(1, 6):
        case.add_entry(n, "2021-02-%02d" % n, "ORDER number %d" % n,
                       documents=[{"description": "Order %d" % n, "pacer_doc_id": "0350800%d" % n,
                                   "pdf": make_pdf(["Hosts v. Tokens", "Order %d" % n])}])
    return case


def test_courtlistener_token_and_rows_stay_on_the_api_host(tmp_path, other):
    case = small_case()
    # entry 1's file is said to be on the other host (not CourtListener's storage)
    first = case.entries[0]["recap_documents"][0]
    case.files[other.url("recap/elsewhere.pdf")] = case.files.pop(first["filepath_local"])
    first["filepath_local"] = other.url("recap/elsewhere.pdf")
    with CourtListenerServer([case], token=TOKEN, page_size_max=2) as server:
        original = server._list

        def hostile(request, endpoint):
            if endpoint == "parties":  # a 302 to the other host
                return Response(302, b"", {"Location": other.url(
                    "api/rest/v4/parties/?" + request.query_string)}, content_type="text/html")
            answer = original(request, endpoint)
            data = json.loads(answer.body)
            if endpoint == "docket-entries" and data.get("next"):  # a cursor link there
                data["next"] = other.url("api/rest/v4/docket-entries/?" +
                                         urlsplit(data["next"]).query)
                answer = Response(answer.status, json.dumps(data).encode(), answer.headers)
            return answer

        server._list = hostile
        storage_auth = []
        storage_app = server._storage.app

        def storage(request):
            storage_auth.append(request.headers.get("Authorization"))
            return storage_app(request)

        server._storage.app = storage
        db = tmp_path / "dockets.db"
        code, log = run_crawl(
            "courtlistener", args=("court=cand", "docket_number=3:21-cv-08001"),
            env={"COURTLISTENER_TOKEN": TOKEN}, db=db, files=tmp_path / "files",
            settings={**server.settings(), "COURTLISTENER_RATE_PER_MINUTE": "6000",
                      "COURTLISTENER_PAGE_SIZE": "2", "EXTRACT_OCR": "False",
                      "EXTRACT_WORKERS": "1"}, timeout=120)
    assert "Traceback" not in log, log[-3000:]
    assert_other_host_untouched(other, db)
    assert TOKEN not in log
    # the cursor link elsewhere was not followed: the first page only
    assert "next page after" in log and "points to another host" in log
    entries = rows(db, "select entry_number from docket_entries order by entry_number")
    assert [e["entry_number"] for e in entries] == [1, 2]
    # the redirect from parties/ was not followed
    assert "redirected to" in log and "not followed" in log
    assert rows(db, "select count(*) n from parties")[0]["n"] == 0
    # PDFs from CourtListener's storage host (another port, no token) still come
    docs = {d["document_number"]: d for d in rows(db, "select * from documents")}
    assert docs["2"]["file_path"] and docs["2"]["sha256"]
    assert storage_auth and not any(storage_auth)
    # the file said to be on the other host is not fetched; the document is recorded
    assert docs["1"]["file_path"] is None and docs["1"]["status"] == "download_failed"
    assert rows(db, "select status from crawls")[0]["status"] == "failed"


@pytest.fixture
def pacer():
    with PacerServer(SHARED if SHARED.exists() else None, username=USER, password=PASSWORD) as srv:
        yield srv


def pacer_crawl(pacer, tmp_path, *args):
    return run_crawl("pacer_district", args=args,
                     env={"PACER_USERNAME": USER, "PACER_PASSWORD": PASSWORD},
                     db=tmp_path / "dockets.db", files=tmp_path / "files",
                     settings={**pacer.settings(), "CA9_OPINIONS_FEED_URL": "",
                               "CA9_MEMORANDA_FEED_URL": ""}, timeout=120)


@pytest.mark.parametrize("host", ["127.0.0.2", "127.0.0.1"])
def test_pacer_session_does_not_follow_a_redirect_elsewhere(tmp_path, pacer, host):
    """Another host (stopped by allowed_domains), or PACER's own host on another
    port (stopped by CredentialsMiddleware: the session is bound to the port too)."""
    with OtherHost(host=host) as other:
        log = redirect_elsewhere(tmp_path, pacer, other)
    if host == "127.0.0.1":
        assert "the PACER session goes only to 127.0.0.1:%d" % pacer._server.port in log
    else:
        assert "which is not one of this crawl's hosts" in log


def redirect_elsewhere(tmp_path, pacer, other):
    other.answers["/"] = Response.text(
        f'<request number="3:20-cv-05910"><case number="3:20-cv-5910" id="999999" '
        f'title="3:20-cv-05910-LB {MARK}" sortable="3:2020-cv-05910"/></request>',
        content_type="text/xml")
    pacer._possible = lambda court, query: Response(302, b"", {"Location": other.url(
        f"ecf/{court}/cgi-bin/possible_case_numbers.pl?{query}")}, content_type="text/html")
    code, log = pacer_crawl(pacer, tmp_path, "docket_number=3:20-cv-05910-LB", "max_cost=3")
    assert "Traceback" not in log, log[-3000:]
    assert_other_host_untouched(other, tmp_path / "dockets.db")
    assert pacer.log.tally(kind="possible_case_numbers") == 1
    assert "redirected to" in log and "not followed" in log
    assert pacer.charges == [] and rows(tmp_path / "dockets.db", "select * from dockets") == []
    assert PASSWORD not in log
    return log


def test_pacer_report_form_posting_elsewhere_is_not_followed(tmp_path, pacer, other):
    original = pacer._report_form

    def hostile(court, query):
        answer = original(court, query)
        body = answer.body.decode().replace('action="../cgi-bin/DktRpt.pl',
                                            f'action="{other.url("cgi-bin/DktRpt.pl")}')
        assert other.base_url in body
        return Response.text(body)

    pacer._report_form = hostile
    code, log = pacer_crawl(pacer, tmp_path, "pacer_case_id=364733", "max_cost=3")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert_other_host_untouched(other, tmp_path / "dockets.db")
    assert "posts to another host" in log
    # the report was bought from PACER, at the documented address, once
    assert len(pacer.charges) == 1 and pacer.log.tally(kind="docket_report") == 1
    docket = rows(tmp_path / "dockets.db", "select * from dockets")
    assert len(docket) == 1 and docket[0]["pacer_case_id"] == "364733"
    assert rows(tmp_path / "dockets.db", "select count(*) n from docket_entries")[0]["n"] > 0
