"""archive.load: parsed records into the archive — RSS items that must never
collapse, entries first known from RSS met again in a docket report, and
records of an unexpected shape that cost only themselves (no network)."""
from __future__ import annotations

import sqlite_utils

from archive import db as adb
from archive.load import dockets_in, save_parsed_docket
from parsers import parse
from tests.parsers.conftest import PAGES

CASE = {"court_id": "cand", "docket_number": "3:20-cv-05910", "case_name": "A v. B",
        "pacer_case_id": "364733"}
DOCKET = "cand/3:20-cv-05910"


def fresh():
    db = sqlite_utils.Database(memory=True)
    adb.ensure_db_shape(db)
    return db


def entries(db):
    return list(db.query("select * from docket_entries where docket_id = ? order by id", [DOCKET]))


def rss_item(when, event, number=None, doc_id=None, seq=None, guid_seq=None):
    return {"document_number": number, "date_filed": when, "description": "",
            "short_description": event, "pacer_doc_id": doc_id, "pacer_seq_no": seq,
            "guid_seq_no": guid_seq}


def rss(db, *items, crawl=None):
    return save_parsed_docket(db, dict(CASE, docket_entries=list(items)), source="pacer_rss",
                              crawl_id=crawl)


def report(db, *rows):
    """A docket report's entries: (number, date, text, seq, doc id)."""
    return save_parsed_docket(db, dict(CASE, docket_entries=[
        {"document_number": str(n), "date_filed": day, "date_entered": day, "description": text,
         "pacer_seq_no": seq, "pacer_doc_id": doc} for n, day, text, seq, doc in rows]),
        source="pacer")


def test_distinct_rss_entries_of_a_day_never_collapse_and_a_later_feed_changes_nothing():
    db = fresh()
    feed = [rss_item("2020-11-03T19:55:04+00:00", "Scheduling Order"),
            rss_item("2020-11-03T19:52:41+00:00", "Order on Motion for Extension of Time"),
            rss_item("2020-11-03T18:30:00+00:00", "Order"),
            rss_item("2020-11-03T17:05:12+00:00", "Order"),
            # alike in every respect: two rows all the same
            rss_item("2020-11-03T16:00:00+00:00", "Clerk's Notice"),
            rss_item("2020-11-03T16:00:00+00:00", "Clerk's Notice")]
    assert rss(db, *feed)["added"] == 1 + 6
    assert len(entries(db)) == 6
    assert len({e["entry_key"] for e in entries(db)}) == 6
    # the feed an hour later: the same items (and a new one): the same rows
    counts = rss(db, rss_item("2020-11-03T20:40:00+00:00", "Order"), *feed)
    assert counts["added"] == 1 and counts.get("changed", 0) == 0
    assert len(entries(db)) == 7
    # the same items on their own, without their alike neighbour: still the same rows
    assert rss(db, feed[4])["added"] == 0 and len(entries(db)) == 7


def test_the_self_made_feeds_land_whole():
    db = fresh()
    for name in ("rss_same_case_no_links.xml", "rss_multi_event.xml"):
        for docket in dockets_in(parse("rss", (PAGES / name).read_bytes(), None)):
            save_parsed_docket(db, docket, source="import:rss")
    by_docket = {r["docket_id"]: r["n"] for r in db.query(
        "select docket_id, count(*) as n from docket_entries group by docket_id")}
    # 6 items, 5 entries (the last two alike in the same second are one: the field's
    # rule, issue 20); 3 entries of which one multi-event (2 items); 1; 1 (2 items)
    assert by_docket == {DOCKET: 5 + 2, "cand/3:20-cv-05911": 1, "cand/20-30123": 1}
    merged = db.execute("select description from docket_entries where id = ?",
                        [DOCKET + "#101"]).fetchone()[0]
    assert merged == "Order AND ~Util - Set Deadlines"


def test_an_rss_entry_meets_its_docket_report_entry_in_one_row():
    db = fresh()
    rss(db, rss_item("2020-11-03T22:33:59+00:00", "Order", number="101", doc_id="035019400010",
                     seq="420"),
        # a bankruptcy-style link without a number: known by its sequence and document
        rss_item("2020-11-03T22:40:00+00:00", "Notice", doc_id="035019400011", seq="421"),
        # no link, but the guid names the entry's sequence number
        rss_item("2020-11-03T22:45:00+00:00", "Stipulation", guid_seq="422"),
        # nothing but a time and an event name: matched by day and text
        rss_item("2020-11-03T19:55:04+00:00", "Scheduling Order"),
        # nothing to match with certainty: left as it is
        rss_item("2020-11-03T19:52:41+00:00", "Order on Motion for Extension of Time"),
        rss_item("2020-11-03T18:30:00+00:00", "Order"))
    assert len(entries(db)) == 6
    assert {d["entry_id"] for d in db.query("select entry_id from documents")} == \
        {DOCKET + "#101", DOCKET + "#seq-421"}
    counts = report(db, (101, "2020-11-03", "ORDER granting stipulation.", "420", "035019400010"),
                    (102, "2020-11-03", "NOTICE of appearance", "421", "035019400011"),
                    (103, "2020-11-03", "STIPULATION re schedule", "422", "035019400012"),
                    (104, "2020-11-03", "SCHEDULING ORDER: case management conference", None, None),
                    (105, "2020-11-03", "ORDER GRANTING 12 MOTION FOR EXTENSION OF TIME", None, None),
                    (106, "2020-11-03", "ORDER re status report", None, None),
                    (107, "2020-11-03", "ORDER setting hearing", None, None))
    assert counts.get("merged") == 1  # the Scheduling Order
    rows = {e["entry_key"]: e for e in entries(db)}
    numbered = sorted(k for k in rows if rows[k]["entry_number"] is not None)
    assert numbered == ["101", "102", "103", "104", "105", "106", "107"]
    # the two RSS rows that cannot be told for sure stay beside them (nothing is lost)
    assert sorted(rows[k]["description"] for k in rows if rows[k]["entry_number"] is None) == \
        ["Order", "Order on Motion for Extension of Time"]
    # the docket report's text and source won; the RSS entries' documents moved along
    assert rows["102"]["description"] == "NOTICE of appearance" and rows["102"]["source"] == "pacer"
    docs = {d["id"] for d in db.query("select id from documents")}
    assert docs == {DOCKET + "#101/0", DOCKET + "#102/0", DOCKET + "#103/0"}
    # the same report again: nothing moves
    again = report(db, (102, "2020-11-03", "NOTICE of appearance", "421", "035019400011"))
    assert again["added"] == 0 and len(entries(db)) == 9


def test_an_rss_item_does_not_overwrite_the_docket_report():
    db = fresh()
    report(db, (101, "2020-11-02", "ORDER granting stipulation. Signed by Judge Beeler.", "420",
                "035019400010"),
           (102, "2020-11-02", "NOTICE of appearance", "421", "035019400011"))
    counts = rss(db, rss_item("2020-11-03T22:33:59+00:00", "Order", number="101",
                              doc_id="035019400010", seq="420"),
                 rss_item("2020-11-03T22:40:00+00:00", "Notice", doc_id="035019400011",
                          seq="421"))
    assert counts["added"] == 0 and counts.get("changed", 0) == 0
    rows = {e["entry_key"]: e for e in entries(db)}
    assert set(rows) == {"101", "102"}
    assert rows["101"]["description"].startswith("ORDER granting stipulation")
    assert rows["101"]["date_filed"] == "2020-11-02" and rows["101"]["source"] == "pacer"
    assert adb.entry_exists(db, "cand", "3:20-cv-05910", {"entry_number": None,
                                                           "pacer_sequence_number": "421"})


def test_a_malformed_entry_or_party_costs_only_itself():
    db = fresh()
    record = dict(CASE, docket_entries=[
        {"document_number": "1", "date_filed": "2020-08-21", "description": "COMPLAINT"},
        "not an entry",
        {"document_number": "3", "date_filed": "2020-08-22", "description": "ORDER",
         "attachments": "Exhibit A"},
        {"document_number": "2", "date_filed": "2020-08-21", "description": "SUMMONS",
         "pacer_doc_id": "035019000002"},
    ], parties=[
        {"name": "U.S. WeChat Users Alliance", "type": "Plaintiff",
         "attorneys": [{"name": "Michael W. Bien", "roles": ["LEAD ATTORNEY"]}, "Jane Roe"]},
        {"name": {"first": "Donald"}, "type": "Defendant"},
        {"name": "Wilbur Ross", "type": "Defendant", "attorneys": []},
    ])
    counts = save_parsed_docket(db, record, source="pacer")
    assert counts["bad"] == 4
    problems = [f"{p['what']}: {p['error']}" for p in counts["problems"]]
    assert len(problems) == 4
    assert any("docket entry 2 (not an entry: not an entry)" in p for p in problems)
    assert any(p.startswith("docket entry 3 (number 3") and "AttributeError" in p
               for p in problems)
    assert any("attorney of party 1" in p and "Jane Roe" in p for p in problems)
    assert any(p.startswith("party 2 (") for p in problems)
    assert sorted(e["entry_number"] for e in entries(db)) == [1, 2]
    assert db.execute("select count(*) from documents").fetchone()[0] == 1
    assert sorted(r[0] for r in db.execute("select name from parties")) == \
        ["U.S. WeChat Users Alliance", "Wilbur Ross"]
    assert [r[0] for r in db.execute("select name from attorneys")] == ["Michael W. Bien"]


def test_crawls_count_bad_records():
    db = fresh()
    assert "bad_records" in db["crawls"].columns_dict
    crawl = adb.start_crawl(db, "test", "cand", None, {})
    row = adb.finish_crawl(db, crawl, "finished", {"bad_records": 2}, "ok")
    assert row["bad_records"] == 2


def test_what_a_parsed_docket_left_out_is_logged_and_counted(tmp_path, caplog):
    from scrapy.utils.test import get_crawler

    from docket_spider.items import DocketItem
    from docket_spider.outcome import BAD_RECORDS
    from docket_spider.pipelines.archive import ArchivePipeline
    from docket_spider.spiders.base import BaseSpider

    crawler = get_crawler(settings_dict={"ARCHIVE_DB": str(tmp_path / "a.db")})
    pipeline = ArchivePipeline(crawler)
    pipeline.db = adb.open_db(str(tmp_path / "a.db"))
    pipeline.crawl_id = adb.start_crawl(pipeline.db, "pacer_district", "cand", None, {})
    record = dict(CASE, docket_entries=[
        {"document_number": "1", "date_filed": "2020-08-21", "description": "COMPLAINT"},
        ["not", "an", "entry"]])
    spider = BaseSpider(name="pacer_district")
    spider.crawler = crawler
    with caplog.at_level("WARNING"):
        # the spider makes the DocketItem; what it leaves out is its bad record
        item = spider.docket_of(record, source="pacer", court_id="cand")
        pipeline.process_item(item)
    assert isinstance(item, DocketItem)
    assert crawler.stats.get_value(BAD_RECORDS) == 1
    assert ("Skipped a bad record, docket entry 2 (not an entry: ['not', 'an', 'entry']) of "
            "pacer cand 3:20-cv-05910: AttributeError") in caplog.text
    assert [e["entry_number"] for e in entries(pipeline.db)] == [1]
    assert pipeline.actions["added"] == 2  # the docket and its good entry
