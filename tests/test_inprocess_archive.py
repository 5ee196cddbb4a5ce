"""The archive pipeline in this process (tests/inprocess.py ``save``): items a
spider yields become rows of a tmp archive through archive/, a crawl saving
the same items again changes nothing, and a record the archive cannot take
costs that record only."""
from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from docket_spider.items import (
    AttorneyItem, DocketEntryItem, DocketItem, DocumentItem, PartyItem,
)
from docket_spider.outcome import BAD_RECORDS
from docket_spider.spiders.internet_archive import InternetArchiveSpider
from tests.inprocess import ARCHIVE_ONLY, archive_settings, make_spider, response_for, run_callback
from tests.inprocess import save, start_requests
from tests.servers.cases import FIXTURES

TABLES = ("dockets", "docket_entries", "documents", "parties", "attorneys", "party_attorneys")
WHERE = {"source": "internet_archive", "court_id": "cand", "docket_number": "3:20-cv-05910"}


def spider_for(tmp_path):
    return make_spider(InternetArchiveSpider, "court=cand", "pacer_case_id=364733",
                       settings=archive_settings(tmp_path))


@pytest.fixture(scope="module")
def wechat_items(tmp_path_factory):
    """What the Internet Archive spider makes of the WeChat docket XML."""
    spider = spider_for(tmp_path_factory.mktemp("unused"))
    request = start_requests(spider).requests[0]
    return run_callback(response_for(
        request, file=FIXTURES / "internet_archive" / "cand_364733.xml")).items


def saved(tmp_path, items):
    return save(spider_for(tmp_path), [dataclasses.replace(i) for i in items],
                pipelines=ARCHIVE_ONLY)


def counts(run) -> dict:
    return {t: run.rows(f"select count(*) n from {t}")[0]["n"] for t in TABLES}


def test_items_become_rows_and_saving_them_again_changes_nothing(tmp_path, wechat_items):
    first = saved(tmp_path, wechat_items)
    assert first.outcome == "finished" and not first.errors
    n = counts(first)
    docs = [i for i in wechat_items if isinstance(i, DocumentItem)]
    assert n["dockets"] == 1 and n["documents"] == len(docs)
    [docket] = [i for i in wechat_items if isinstance(i, DocketItem)]
    assert n["docket_entries"] == len(docket.entries)
    assert n["parties"] == len(docket.parties)
    assert n["attorneys"] >= 3 and n["party_attorneys"] >= n["attorneys"]
    [docket] = first.rows("select * from dockets")
    assert docket["id"] == "cand/3:20-cv-05910" and docket["pacer_case_id"] == "364733"
    # no file was fetched here: an unavailable document is "no_file", the others wait
    statuses = {(d["is_available"], d["status"]) for d in first.rows("select * from documents")}
    assert statuses == {(0, "no_file"), (1, None)}
    [crawl] = first.rows("select * from crawls")
    assert crawl["status"] == "finished" and crawl["spider"] == "internet_archive"
    # each row added once; an attorney of several parties is saved again, unchanged
    assert crawl["rows_added"] == first.stats["archive/rows_added"] == sum(n.values())
    assert crawl["rows_unchanged"] == first.stats["archive/rows_unchanged"] > 0

    again = saved(tmp_path, wechat_items)
    assert counts(again) == n
    last = again.rows("select * from crawls order by id desc limit 1")[0]
    assert (last["rows_added"], last["rows_changed"]) == (0, 0)
    # every save of the first run again, unchanged (a document is saved once, by its
    # own item)
    assert crawl["rows_changed"] == 0
    assert last["rows_unchanged"] == sum(first.stats.get(f"archive/rows_{a}", 0)
                                         for a in ("added", "changed", "unchanged"))
    assert again.rows("select count(*) n from changes where crawl_id = ?", [last["id"]]) == [
        {"n": 0}]


def test_what_changed_is_one_changed_row_and_what_a_source_omits_is_kept(tmp_path):
    docket = DocketItem(**WHERE, case_name="WeChat v. Trump", nature_of_suit="440")
    entry = DocketEntryItem(**WHERE, entry_number=1, description="COMPLAINT")
    saved(tmp_path, [docket, entry])
    run = saved(tmp_path, [dataclasses.replace(docket, nature_of_suit=None),
                           dataclasses.replace(entry, description="COMPLAINT (amended)")])
    last = run.rows("select * from crawls order by id desc limit 1")[0]
    assert (last["rows_added"], last["rows_changed"], last["rows_unchanged"]) == (0, 1, 1)
    assert run.rows("select nature_of_suit from dockets") == [{"nature_of_suit": "440"}]
    assert run.rows("select description from docket_entries") == [
        {"description": "COMPLAINT (amended)"}]


def test_a_document_whose_text_was_not_extracted_again_keeps_its_text(tmp_path):
    doc = DocumentItem(**WHERE, pacer_case_id="364733", entry_number=1, document_number="1",
                       attachment_number=0, is_available=True, file_path="cand/x.pdf",
                       sha256="ab" * 32, text="Complaint for injunctive relief",
                       clean_text="Complaint for injunctive relief", status="ok")
    saved(tmp_path, [doc])
    run = saved(tmp_path, [dataclasses.replace(doc, text=None, clean_text=None, status=None,
                                               extraction_skipped=True)])
    [row] = run.rows("select text, status, file_path from documents")
    assert row == {"text": "Complaint for injunctive relief", "status": "ok",
                   "file_path": "cand/x.pdf"}


def test_a_record_the_archive_cannot_take_costs_only_that_record(tmp_path, caplog):
    good = [DocketItem(**WHERE), PartyItem(**WHERE, name="Chihuo Inc."),
            DocketEntryItem(**WHERE, entry_number=1, description="COMPLAINT")]
    bad = [PartyItem(**WHERE, name="Brent Coulter", attorneys=[{"roles": ["LEAD"]}]),
           AttorneyItem(**WHERE, name="Michael W. Bien", parties=["Chihuo Inc."])]
    with caplog.at_level(logging.WARNING):
        run = saved(tmp_path, [good[0], bad[0], *good[1:], bad[1]])
    assert run.outcome == "finished" and not run.errors
    assert "Skipped a bad record, PartyItem Brent Coulter of internet_archive cand " \
           "3:20-cv-05910: KeyError" in caplog.text
    assert "AttorneyItem Michael W. Bien" in caplog.text
    assert run.stats[BAD_RECORDS] == 2
    n = counts(run)
    assert (n["dockets"], n["parties"], n["docket_entries"], n["attorneys"]) == (1, 1, 1, 0)
    [crawl] = run.rows("select * from crawls")
    assert crawl["status"] == "finished" and crawl["bad_records"] == 2
    assert crawl["message"].startswith("2 bad record(s) skipped")


def test_a_docket_the_archive_cannot_take_is_an_error_not_a_bad_record(tmp_path, caplog):
    with caplog.at_level(logging.ERROR):
        run = saved(tmp_path, [DocketItem(**WHERE, case_name={"not", "text"})])
    assert run.errors and "Error processing" in caplog.text
    assert run.stats.get(BAD_RECORDS) is None
    assert run.outcome == "incomplete"
    assert run.rows("select status from crawls") == [{"status": "failed"}]


def test_the_crawl_row_holds_no_secret_argument(tmp_path):
    spider = spider_for(tmp_path)
    spider.crawl_args = {**spider.crawl_args, "api_token": "s3cret", "password": "hunter2"}
    run = save(spider, [], pipelines=ARCHIVE_ONLY)
    [crawl] = run.rows("select args from crawls")
    args = json.loads(crawl["args"])
    assert args == {"court": "cand", "pacer_case_id": "364733", "docket_number": None}
