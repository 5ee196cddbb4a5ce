"""The Internet Archive spider in this process (tests/inprocess.py): its
requests, its docket XML callback, bad records, and its items and files in the
archive, answered by the local archive.org server's own handlers (redirects
included) without a socket. The real `scrapy crawl` and `make archive` are
tests/test_crawl_internet_archive.py's."""
from __future__ import annotations

import logging

import pytest

from docket_spider.items import (
    DocketEntryItem, DocketItem, DocumentItem, PartyItem,
)
from docket_spider.outcome import BAD_RECORDS
from docket_spider.spiders.courtlistener import CourtListenerSpider
from docket_spider.spiders.internet_archive import InternetArchiveSpider, item_url
from tests.conftest import SHARED, shared_or_skip
from tests.inprocess import (
    ARCHIVE_ONLY, FILES_AND_ARCHIVE, Offline, archive_settings, crawl, make_spider, response_for,
    run_callback, start_requests,
)
from tests.servers.cases import FIXTURES, wechat_cases
from tests.servers.courtlistener import CourtListenerServer
from tests.servers.internet_archive import InternetArchiveServer

WECHAT_XML = FIXTURES / "internet_archive" / "cand_364733.xml"
CASE = ("court=cand", "pacer_case_id=364733")


def shared():
    return SHARED if SHARED.exists() else None


@pytest.fixture
def net():
    """The local archive.org with the corpus and the WeChat case, in this process."""
    return Offline(InternetArchiveServer(shared()))


@pytest.fixture
def ia(net):
    return net.servers[0]


def ia_crawl(net, tmp_path, *args, pipelines=ARCHIVE_ONLY, **settings):
    return crawl(InternetArchiveSpider, *args, net=net, pipelines=pipelines,
                 settings=archive_settings(tmp_path, **settings))


def test_the_default_case_is_asked_for_and_the_appellate_one_skipped(net, ia, caplog):
    spider = make_spider(InternetArchiveSpider, settings=net.settings())
    with caplog.at_level(logging.WARNING):
        out = start_requests(spider)
    [request] = out.requests
    assert request.url == ia.docket_xml_url("cand", "364733")
    assert request.callback == spider.parse_docket and request.errback == spider.request_failed
    assert request.meta["target"]["pacer_case_id"] == "364733"
    assert "no RECAP copy for ca9 20-16908" in caplog.text
    with pytest.raises(ValueError, match="PACER case id"):
        make_spider(InternetArchiveSpider, "court=nysd", settings=net.settings())


def test_the_docket_xml_becomes_the_docket_record_and_its_files():
    spider = make_spider(InternetArchiveSpider, *CASE)
    request = start_requests(spider).requests[0]
    out = run_callback(response_for(request, file=WECHAT_XML))
    assert out.requests == []
    # one DocketItem with the entries and parties of the page (archive/load.py's mapping,
    # as for every source's page), stored whole
    [docket] = out.of(DocketItem)
    assert (docket.source, docket.court_id, docket.docket_number, docket.pacer_case_id) == (
        "internet_archive", "cand", "3:20-cv-05910", "364733")
    assert docket.case_name.startswith("U.S. WeChat Users Alliance")
    assert docket.source_url == request.url
    assert len(docket.entries) > 5 and all(isinstance(e, DocketEntryItem) for e in docket.entries)
    alliance = next(p for p in docket.parties if p.name == "U.S. WeChat Users Alliance")
    assert isinstance(alliance, PartyItem) and alliance.party_type == "Plaintiff"
    assert [a["name"] for a in alliance.attorneys] == ["Michael W. Bien", "Angel Chi-Hsin Chen"]
    assert alliance.attorneys[0]["roles"] and "Rosen Bien" in alliance.attorneys[0]["contact"]
    # then each document once, on its own, with its PDF's URL for the files pipeline
    assert not any(e.documents for e in docket.entries)
    docs = out.of(DocumentItem)
    assert len(docs) == WECHAT_XML.read_text().count("<document ")
    for doc in docs:
        if doc.is_available:
            assert doc.file_urls == [item_url(
                spider.base_url, "cand", "364733",
                f"{doc.document_number}.{doc.attachment_number}.pdf")]
        else:
            assert doc.file_urls == []
        assert doc.document_type == (2 if doc.attachment_number else 1)
        assert doc.pacer_case_id == "364733" and doc.source == "internet_archive"
    assert any(d.is_available for d in docs) and any(not d.is_available for d in docs)
    assert not out.of(DocketEntryItem, PartyItem)
    assert spider.crawler.stats.get_value("internet_archive/api_requests") == 1


def test_a_page_that_is_not_docket_xml_fails_the_crawl_clearly(caplog):
    spider = make_spider(InternetArchiveSpider, *CASE)
    request = start_requests(spider).requests[0]
    with caplog.at_level(logging.ERROR):
        out = run_callback(response_for(request, "<html><body>Item not ready</body></html>",
                                        headers={"Content-Type": "text/html"}))
    assert out.items == [] and spider.crawl_failed
    assert "is not a RECAP docket XML" in spider.crawl_message
    assert "is not a RECAP docket XML" in caplog.text


def test_a_case_from_the_corpus(net, tmp_path):
    shared_or_skip("corpus", "pacer", "internet_archive", "cand_194617.xml")
    run = ia_crawl(net, tmp_path, "court=cand", "pacer_case_id=194617")
    assert run.outcome == "finished" and not run.errors
    assert run.rows("select docket_number from dockets") == [{"docket_number": "5:07-cv-03950"}]
    assert run.rows("select count(*) n from docket_entries")[0]["n"] > 10


def test_a_missing_item_is_reported(net, tmp_path, caplog):
    with caplog.at_level(logging.ERROR):
        run = ia_crawl(net, tmp_path, "court=cand", "pacer_case_id=1")
    assert "has no RECAP copy of cand case 1 (404 for" in caplog.text
    assert "Traceback" not in caplog.text
    assert run.outcome == "failed"
    assert run.rows("select status from crawls") == [{"status": "failed"}]


def test_a_record_of_an_unexpected_shape_costs_only_that_record(tmp_path, caplog):
    """The WeChat docket XML with one <document> whose attachment number is no
    number: that document is skipped, logged and counted in crawls.bad_records;
    every other entry, document and party lands, and the crawl finished."""
    source = WECHAT_XML.read_text(encoding="utf-8")
    bad = '<document doc_num="1" attachment_num="2">'
    assert source.count(bad) == 1
    folder = tmp_path / "xml"
    folder.mkdir()
    (folder / WECHAT_XML.name).write_text(source.replace(bad, bad.replace('"2"', '"2x"')),
                                          encoding="utf-8")
    plain = ia_crawl(Offline(InternetArchiveServer(None)), tmp_path / "plain", *CASE)
    assert plain.outcome == "finished" and plain.stats.get(BAD_RECORDS) is None
    with caplog.at_level(logging.WARNING):
        run = ia_crawl(Offline(InternetArchiveServer(None, extra_xml_dirs=[folder])), tmp_path,
                       *CASE)
    assert run.outcome == "finished" and not run.errors
    assert ("Skipped a bad record, Internet Archive document 1 attachment '2x' of cand case "
            "364733") in caplog.text
    for table in ("docket_entries", "parties", "attorneys"):
        sql = f"select count(*) n from {table}"
        assert run.rows(sql) == plain.rows(sql), table
    sql = "select count(*) n from documents"
    assert run.rows(sql)[0]["n"] == plain.rows(sql)[0]["n"] - 1
    [row] = run.rows("select * from crawls")
    assert row["bad_records"] == 1 and row["status"] == "finished"
    assert "1 bad record(s) skipped" in row["message"]


def test_files_follow_redirects_and_a_document_is_stored_once_for_both_sources(tmp_path):
    """The PDFs come through archive.org's redirects; CourtListener's copy of a
    document already stored from the Internet Archive is not fetched again."""
    ia = InternetArchiveServer(shared())
    cl = CourtListenerServer(wechat_cases(shared()), token="t")
    net = Offline(ia, cl)
    first = ia_crawl(net, tmp_path, *CASE, pipelines=FILES_AND_ARCHIVE)
    assert first.outcome == "finished" and not first.errors
    assert ia.log.tally(status=302) > 0
    stored = first.rows("select * from documents where sha256 is not null")
    assert stored and all((tmp_path / "files" / d["file_path"]).exists() for d in stored)
    assert first.rows("select count(*) n from documents where not is_available "
                      "and file_path is null")[0]["n"] > 0

    second = crawl(CourtListenerSpider, "court=cand", "docket_number=3:20-cv-05910", net=net,
                   pipelines=FILES_AND_ARCHIVE, env={"COURTLISTENER_TOKEN": "t"},
                   settings=archive_settings(tmp_path, COURTLISTENER_RATE_PER_MINUTE=1200))
    assert second.outcome == "finished" and not second.errors
    row = second.rows("select * from crawls order by id desc limit 1")[0]
    assert row["pdfs_already_stored"] > 0
    available = [d for c in cl.cases if c.docket["court_id"] == "cand" for d in c.documents()
                 if d["is_available"]]
    assert cl.log.tally(kind="storage") == len(available) - row["pdfs_already_stored"]
