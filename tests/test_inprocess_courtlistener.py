"""The CourtListener spider in this process (tests/inprocess.py): its requests,
callbacks, pagination, rate limits and bad records, and its items in the
archive, answered by the local CourtListener server's own handlers without a
socket. The real `scrapy crawl` (tokens in logs, kills, JOBDIR, exit status,
OCR) is tests/test_crawl_courtlistener.py's."""
from __future__ import annotations

import logging
import math
from urllib.parse import parse_qs, urlsplit

import pytest

from docket_spider.items import AttorneyItem, DocketEntryItem, DocketItem, DocumentItem, PartyItem
from docket_spider.outcome import BAD_RECORDS
from docket_spider.courtlistener import API_SLOT
from docket_spider.spiders.courtlistener import CourtListenerSpider
from tests.conftest import SHARED
from tests.inprocess import (
    ARCHIVE_ONLY, FILES_AND_ARCHIVE, Offline, archive_settings, crawl, make_spider, response_for,
    run_callback, start_requests,
)
from tests.servers.cases import synthetic_case, wechat_cases
from tests.servers.courtlistener import CourtListenerServer

TOKEN = "test-token-5f2c9a"
CAND = ("court=cand", "docket_number=3:20-cv-05910-LB")
CA9 = ("court=ca9", "docket_number=20-16908")


def wechat_server(**options):
    """The local CourtListener server with the WeChat case (both courts)."""
    return CourtListenerServer(wechat_cases(SHARED if SHARED.exists() else None), token=TOKEN,
                               **options)


@pytest.fixture
def net():
    """wechat_server(), answering in this process."""
    return Offline(wechat_server())


@pytest.fixture
def server(net):
    return net.servers[0]


def cl_crawl(net, tmp_path, *args, pipelines=ARCHIVE_ONLY, token=TOKEN, **settings):
    return crawl(CourtListenerSpider, *args, net=net, pipelines=pipelines,
                 settings=archive_settings(tmp_path, COURTLISTENER_RATE_PER_MINUTE=1200,
                                           **settings),
                 env={"COURTLISTENER_TOKEN": token} if token else None)


def case_of(server, court):
    return next(c for c in server.cases if c.docket["court_id"] == court)


def query(request) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def entries_page(spider, results, next_link=None, url=None):
    """A docket-entries answer to the spider's own request for CourtListener docket 1."""
    request = spider.api_request("docket-entries/", spider.parse_entries, {"docket": 1},
                                 docket={"court_id": "cand", "docket_number": "3:20-cv-05910",
                                         "pacer_case_id": "364733"}, docket_cl_id=1)
    return response_for(request, json={"next": next_link, "previous": None, "results": results},
                        url=url)


# --- start() and the first request ------------------------------------------------

def test_start_asks_for_the_normalized_docket_number_without_the_token(monkeypatch, server):
    monkeypatch.setenv("COURTLISTENER_TOKEN", TOKEN)
    spider = make_spider(CourtListenerSpider, *CAND, settings=server.settings())
    out = start_requests(spider)
    assert out.items == [] and len(out.requests) == 1
    request = out.requests[0]
    assert request.url.startswith(server.api_url + "dockets/?")
    assert query(request) == {"court": "cand", "docket_number": "3:20-cv-05910"}
    assert request.meta["download_slot"] == API_SLOT and request.meta["courtlistener_auth"]
    assert request.meta["target"]["docket_number"] == "3:20-cv-05910-LB"
    # the token is added only as the request is sent (CredentialsMiddleware)
    assert b"Authorization" not in request.headers and TOKEN not in request.url
    assert spider.credential_headers(request, "courtlistener") == {
        "Authorization": f"Token {TOKEN}"}
    assert spider.crawler.stats.get_value("courtlistener/api_requests") == 1


def test_start_by_pacer_case_id_and_without_a_token(monkeypatch, server):
    monkeypatch.setenv("COURTLISTENER_TOKEN", TOKEN)
    spider = make_spider(CourtListenerSpider, "court=cand", "pacer_case_id=364733",
                         settings=server.settings())
    assert query(start_requests(spider).requests[0]) == {"court": "cand",
                                                         "pacer_case_id": "364733"}
    monkeypatch.delenv("COURTLISTENER_TOKEN")
    spider = make_spider(CourtListenerSpider, *CAND, settings=server.settings())
    assert start_requests(spider).requests == []
    assert spider.crawl_failed and spider.crawl_message == "no COURTLISTENER_TOKEN"


def test_pacer_case_id_finds_the_docket(net, tmp_path):
    run = cl_crawl(net, tmp_path, "court=cand", "pacer_case_id=364733")
    assert run.outcome == "finished" and not run.errors
    assert run.rows("select id from dockets") == [{"id": "cand/3:20-cv-05910"}]


def test_an_unknown_case_is_reported(net, server, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        run = cl_crawl(net, tmp_path, "court=cand", "docket_number=3:99-cv-99999-XY")
    # the normalized number, then the number as given, then a clear error
    asked = [query(r)["docket_number"] for r in run.sent]
    assert asked == ["3:99-cv-99999", "3:99-cv-99999-XY"]
    assert "CourtListener has no docket 3:99-cv-99999-XY in court cand." in caplog.text
    assert "Traceback" not in caplog.text
    assert run.outcome == "failed"
    assert run.rows("select status from crawls") == [{"status": "failed"}]
    assert run.rows("select count(*) n from dockets") == [{"n": 0}]


# --- pagination and the next page's host --------------------------------------------

@pytest.mark.parametrize("spider_page, server_page", [(5, 20), (20, 4)])
def test_every_page_is_followed_with_its_docket(tmp_path, spider_page, server_page):
    """The spider's page size is sent unless it is the API's (20); either way the
    cursor's next links are followed to the end of entries, parties and attorneys."""
    case = synthetic_case(tmp_path / "no-shared", n_entries=11)
    server = CourtListenerServer([case], token=TOKEN, default_page_size=server_page)
    run = cl_crawl(Offline(server), tmp_path, "court=cand", "pacer_case_id=900001",
                   COURTLISTENER_PAGE_SIZE=spider_page)
    assert run.outcome == "finished"
    size = min(spider_page, server_page)
    entry_pages = [r for r in run.sent if "/docket-entries/" in r.url]
    assert len(entry_pages) == math.ceil(11 / size)
    assert [("page_size" in query(r)) for r in entry_pages[:1]] == [spider_page != 20]
    assert all("cursor" in query(r) for r in entry_pages[1:])
    for request in entry_pages:
        assert request.meta["docket_cl_id"] == case.id
        assert request.meta["docket"]["docket_number"] == case.docket["docket_number"]
    assert len(run.of(DocketEntryItem)) == len(run.of(DocumentItem)) == 11
    assert run.rows("select count(*) n from docket_entries") == [{"n": 11}]
    assert len(run.of(PartyItem)) == len(case.parties)
    # the last request of each list leads to the next list
    kinds = [urlsplit(r.url).path.rstrip("/").rsplit("/", 1)[-1] for r in run.sent]
    assert kinds == sorted(kinds, key=["dockets", "docket-entries", "parties",
                                       "attorneys"].index)


def test_a_relative_next_link_on_the_api_host_is_followed(server, caplog):
    spider = make_spider(CourtListenerSpider, *CAND, settings=server.settings())
    out = run_callback(entries_page(spider, [], "/api/rest/v4/docket-entries/?cursor=abc"))
    [request] = out.requests
    assert request.url == server.api_url + "docket-entries/?cursor=abc"
    assert request.callback == spider.parse_entries and request.meta["docket_cl_id"] == 1
    assert not spider.crawl_failed


@pytest.mark.parametrize("elsewhere", ["https://evil.example/api/rest/v4/docket-entries/?cursor=x",
                                       "http://127.0.0.1:1/api/rest/v4/docket-entries/?cursor=x"])
def test_a_next_page_on_another_host_is_not_followed(server, caplog, elsewhere):
    spider = make_spider(CourtListenerSpider, *CAND, settings=server.settings())
    with caplog.at_level(logging.WARNING):
        out = run_callback(entries_page(spider, [], elsewhere))
    # the parties are asked for instead, from the API; the crawl is marked failed
    [request] = out.requests
    assert request.url.startswith(server.api_url + "parties/?")
    assert request.callback == spider.parse_parties
    assert spider.crawl_failed and "points to another host" in spider.crawl_message
    assert "not followed; the rest of that list is missing" in caplog.text
    assert "cursor=x" not in caplog.text


# --- rate limits, server errors, refusals, pages that are not the API's ---------------

def test_a_rate_limit_is_waited_out_and_nothing_is_lost(tmp_path, caplog):
    """429 with Retry-After: RetryAfterMiddleware asks again (here without the wait);
    every record lands and crawls.api_requests counts the refused calls too."""
    server = wechat_server(throttle_every=3, retry_after=1)
    with caplog.at_level(logging.WARNING):
        run = cl_crawl(Offline(server), tmp_path, *CAND, COURTLISTENER_PAGE_SIZE=4)
    refused = server.log.tally(kind="api", status=429)
    assert refused >= 2 and run.stats["retry_after/429"] == refused
    assert "Rate limited (HTTP 429): waiting 1.0s as the server asks" in caplog.text
    assert run.outcome == "finished"
    case = case_of(server, "cand")
    assert run.rows("select count(*) n from docket_entries") == [{"n": len(case.entries)}]
    [row] = run.rows("select * from crawls")
    assert row["status"] == "finished"
    assert row["api_requests"] == run.stats["courtlistener/api_requests"] + refused


def test_a_rate_limit_past_its_bounds_fails_the_crawl_clearly(tmp_path, caplog):
    server = wechat_server(throttle_every=2, retry_after=1)
    with caplog.at_level(logging.WARNING):
        run = cl_crawl(Offline(server), tmp_path, *CAND, RETRY_AFTER_MAX_TIMES=0)
    assert run.stats["retry_after/gave_up"] >= 1
    assert "giving up on" in caplog.text
    # request_failed, the errback: everything stored so far is kept, the crawl failed
    assert "Everything stored so far is kept" in caplog.text
    assert run.outcome == "failed"
    [row] = run.rows("select status, message from crawls")
    assert row["status"] == "failed" and "rate limited" in row["message"]


def test_server_errors_are_retried(server, net, tmp_path):
    server.fail_next("docket-entries", status=500, times=2)
    run = cl_crawl(net, tmp_path, *CA9)
    assert server.log.tally(kind="api", status=500) == 2
    assert run.stats["retry/count"] == 2
    assert run.outcome == "finished"
    assert run.rows("select count(*) n from docket_entries") == [
        {"n": len(case_of(server, "ca9").entries)}]


def test_a_refused_token_closes_the_crawl(net, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        run = cl_crawl(net, tmp_path, *CAND, token="nope")
    assert run.reason == "unauthorized" and run.outcome == "failed"
    assert "CourtListener refused the token (401: Invalid token.)" in caplog.text
    assert "nope" not in caplog.text
    assert run.rows("select status from crawls") == [{"status": "failed"}]


class Maintenance:
    """A host that answers every request with an HTML maintenance page."""

    api_url = "http://maintenance.test/api/rest/v4/"

    def settings(self):
        return {"COURTLISTENER_API_URL": self.api_url}

    def answer(self, request):
        return response_for(request, "<html><body><h1>Down for maintenance</h1></body></html>",
                            headers={"Content-Type": "text/html"})


def test_a_page_that_is_not_api_json_is_a_clear_error(tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        run = cl_crawl(Maintenance(), tmp_path, *CAND)
    assert run.reason == "not_api_json" and len(run.sent) == 1
    assert "is not API JSON (text/html)" in caplog.text and "Down for maintenance" in caplog.text
    assert "Traceback" not in caplog.text and not run.errors
    assert run.rows("select status from crawls") == [{"status": "failed"}]


# --- bad records ------------------------------------------------------------------------

def test_a_record_of_an_unexpected_shape_costs_only_that_record(server, net, tmp_path, caplog):
    """An attorney whose ``parties_represented`` holds URLs (strings), an entry
    number that is no number, a bare number among the parties: each costs that
    record; every other record of those pages lands. A warning names the record
    and what was wrong, ``crawls.bad_records`` counts them, and the crawl
    finished: the source holds them that way."""
    case = case_of(server, "cand")
    bad_attorney = case.attorneys[0]

    def attorneys(results):
        return [dict(a, parties_represented=[p["party"] for p in a["parties_represented"]])
                if a["id"] == bad_attorney["id"] else a for a in results]

    def entries(results):
        if results and results[0]["id"] == case.entries[0]["id"]:
            results = [dict(results[1], entry_number="2a"), *results[:1], *results[2:]]
        return results

    server.tamper = {"attorneys": attorneys, "docket-entries": entries,
                     "parties": lambda results: [*results, 30155999]}
    with caplog.at_level(logging.WARNING):
        run = cl_crawl(net, tmp_path, "court=cand", "docket_number=3:20-cv-05910")
    assert run.outcome == "finished" and not run.errors
    assert TOKEN not in caplog.text
    assert (f"Skipped a bad record, CourtListener attorney {bad_attorney['id']} "
            f"({bad_attorney['name']})") in caplog.text
    assert "its parties_represented holds str" in caplog.text
    assert "its entry_number is '2a', not a number" in caplog.text
    assert "CourtListener party #" in caplog.text and "int '30155999', not an object" in caplog.text
    assert run.stats[BAD_RECORDS] == 3
    names = {r["name"] for r in run.rows("select name from attorneys")}
    assert names == {a["name"] for a in case.attorneys if a is not bad_attorney}
    assert run.rows("select count(*) n from parties") == [{"n": len(case.parties)}]
    assert run.rows("select count(*) n from docket_entries") == [{"n": len(case.entries) - 1}]
    assert run.rows("select count(*) n from party_attorneys")[0]["n"] >= 1
    [row] = run.rows("select * from crawls")
    assert row["status"] == "finished" and row["bad_records"] == 3
    assert "3 bad record(s) skipped" in row["message"]


def test_an_entries_page_whose_results_are_not_a_list_is_missed(server, caplog):
    spider = make_spider(CourtListenerSpider, *CAND, settings=server.settings())
    response = entries_page(spider, None)
    response = response_for(response.request, json={"next": None, "results": {"id": 1}})
    with caplog.at_level(logging.WARNING):
        out = run_callback(response)
    assert out.items == [] and len(out.requests) == 1  # on to the parties
    assert "is not a list of results (dict)" in caplog.text
    assert spider.crawler.stats.get_value("docket_archive/missed") == 1


# --- items and the archive ---------------------------------------------------------------

def test_both_courts_become_archive_rows(server, net, tmp_path):
    for args in (CAND, CA9):
        run = cl_crawl(net, tmp_path, *args)
        assert run.outcome == "finished" and not run.errors
    rows = run.rows
    dockets = rows("select * from dockets order by id")
    assert [d["id"] for d in dockets] == ["ca9/20-16908", "cand/3:20-cv-05910"]
    assert dockets[1]["pacer_case_id"] == "364733"
    assert dockets[1]["case_name"].startswith("U.S. WeChat")
    assert rows("select count(*) n from docket_entries") == [
        {"n": sum(len(c.entries) for c in server.cases)}]
    served = [d for c in server.cases for d in c.documents()]
    docs = rows("select * from documents")
    assert len(docs) == len(served)
    assert {d["pacer_doc_id"] for d in docs} == {d["pacer_doc_id"] or None for d in served}
    missing = [d for d in docs if not d["is_available"]]
    assert missing and all(d["status"] == "no_file" and d["file_path"] is None for d in missing)
    assert all(d["document_number"] or "#seq-" in d["entry_id"] for d in missing)
    assert rows("select count(*) n from parties")[0]["n"] >= 3
    assert rows("select count(*) n from attorneys")[0]["n"] >= 1
    assert rows("select count(*) n from party_attorneys")[0]["n"] >= 1
    assert [c["status"] for c in rows("select status from crawls order by id")] == [
        "finished", "finished"]
    # the available documents' files are on the storage host, not the paced API
    available = [d for d in run.of(DocumentItem) if d.is_available]
    assert available and all(len(d.file_urls) == 1 and d.file_urls[0].startswith(
        server.storage_url) for d in available)


def test_the_items_of_one_docket(server, net, monkeypatch):
    """parse_dockets -> one DocketItem and the entries request; the entries,
    parties and attorneys pages -> their items, attorneys linked to the parties."""
    spider = make_spider(CourtListenerSpider, *CAND, settings=net.settings())
    monkeypatch.setenv("COURTLISTENER_TOKEN", TOKEN)
    request = start_requests(spider).requests[0]
    case = case_of(server, "cand")
    items = []
    while request is not None:
        request.headers.update(spider.credential_headers(request, "courtlistener"))
        out = run_callback(net.answer(request))
        items += out.items
        request = out.requests[0] if out.requests else None
    [docket] = [i for i in items if isinstance(i, DocketItem)]
    assert (docket.court_id, docket.docket_number, docket.courtlistener_id) == (
        "cand", "3:20-cv-05910", case.id)
    assert docket.source_url.startswith("https://www.courtlistener.com/")
    assert len([i for i in items if isinstance(i, DocketEntryItem)]) == len(case.entries)
    attorneys = [i for i in items if isinstance(i, AttorneyItem)]
    assert {a.name for a in attorneys} == {a["name"] for a in case.attorneys}
    assert all(link["party"] in {p["name"] for p in case.parties}
               for a in attorneys for link in a.parties)
    assert any(link["roles"] for a in attorneys for link in a.parties)


def test_a_recrawl_adds_nothing_and_fetches_only_what_failed(server, net, tmp_path):
    """With the files pipeline: the first crawl stores each PDF (the server's
    zero-byte one is a recorded failure); the second adds and changes no row,
    downloads nothing stored, and asks again only for the file that failed."""
    first = cl_crawl(net, tmp_path, *CAND, pipelines=FILES_AND_ARCHIVE)
    assert first.outcome == "finished" and not first.errors
    docs = first.rows("select * from documents where is_available")
    failed = [d for d in docs if d["status"] == "download_failed"]
    stored = [d for d in docs if d not in failed]
    assert len(failed) == 1 and "empty file" in failed[0]["error"]
    for doc in stored:
        assert doc["sha256"] and len(doc["sha256"]) == 64
        assert (tmp_path / "files" / doc["file_path"]).exists()
    assert server.log.tally(kind="storage") == len(docs)

    tables = ("dockets", "docket_entries", "documents", "parties", "attorneys")
    before = {t: first.rows(f"select count(*) n from {t}") for t in tables}
    again = cl_crawl(net, tmp_path, *CAND, pipelines=FILES_AND_ARCHIVE)
    assert again.outcome == "finished"
    assert server.log.tally(kind="storage") == len(docs) + len(failed)
    assert {t: again.rows(f"select count(*) n from {t}") for t in tables} == before
    last = again.rows("select * from crawls order by id desc limit 1")[0]
    assert last["rows_added"] == 0 and last["rows_changed"] == 0
    assert last["pdfs_downloaded"] == 0 and last["pdfs_already_stored"] == len(stored)
    assert TOKEN.encode() not in (tmp_path / "dockets.db").read_bytes()


def test_text_is_extracted_once(tmp_path):
    """All three pipelines, on tiny generated PDFs: each new file's text is
    extracted; a re-crawl extracts nothing again."""
    case = synthetic_case(tmp_path / "no-shared", n_entries=3)
    net = Offline(CourtListenerServer([case], token=TOKEN))
    args = ("court=cand", "pacer_case_id=900001")
    first = cl_crawl(net, tmp_path, *args, pipelines=None)
    assert first.outcome == "finished" and not first.errors
    docs = first.rows("select status, text, page_count, sha256 from documents")
    assert len(docs) == 3
    assert all(d["status"] == "ok" and d["text"] and d["page_count"] == 1 for d in docs), docs
    again = cl_crawl(net, tmp_path, *args, pipelines=None)
    assert again.stats["extract/skipped_unchanged"] == 3
    last = again.rows("select * from crawls order by id desc limit 1")[0]
    assert last["documents_extracted"] == 0 and last["rows_changed"] == 0
    assert again.rows("select status, text, page_count, sha256 from documents") == docs
