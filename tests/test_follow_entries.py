"""Issue 20 in the archive itself (no network): one entry per filing with
every source's version kept, the fullest text, kinds, events and their
superseded dates, the gaps view, appeals found from what the archive holds,
and what of it is public."""
from __future__ import annotations

import json
import sqlite3

import sqlite_utils

from archive import appeals as ap
from archive import db as adb
from archive import follow as fl
from archive import publish
from archive.load import dockets_in, save_parsed_docket
from parsers import parse
from tests.conftest import shared_or_skip
from tests.parsers.conftest import PAGES

CASE = {"court_id": "cand", "docket_number": "3:20-cv-05910", "case_name": "A v. B",
        "pacer_case_id": "364733"}
DOCKET = "cand/3:20-cv-05910"
LONG = ("MOTION for Preliminary Injunction filed by U.S. WeChat Users Alliance. Motion Hearing "
        "set for 10/1/2020 09:30 AM in San Francisco, Courtroom B, 15th Floor before Magistrate "
        "Judge Laurel Beeler. Responses due by 9/11/2020. Replies due by 9/18/2020.")


def fresh():
    db = sqlite_utils.Database(memory=True)
    adb.ensure_db_shape(db)
    return db


def save(db, source, *entries, **docket):
    return save_parsed_docket(db, dict(CASE, **docket, docket_entries=list(entries)),
                              source=source)


def rows(db, sql, params=()):
    return [dict(r) for r in db.query(sql, params)]


def test_one_filing_from_four_sources_is_one_entry_with_four_versions_and_the_fullest_text():
    db = fresh()
    # RSS first: the event name only, no number; its sequence number from the link
    save(db, "pacer_rss", {"document_number": None, "date_filed": "2020-08-28T23:01:00+00:00",
                           "description": "", "short_description": "Motion for Preliminary Injunction",
                           "pacer_doc_id": "035019230780", "pacer_seq_no": "52"},
         link="https://ecf.cand.uscourts.gov/cgi-bin/rss_outside.pl")
    [entry] = rows(db, "select * from docket_entries")
    assert entry["entry_number"] is None and entry["kind"] == "motion"
    # CourtListener: a shorter text than the docket report's, the number and sequence
    adb.save_entry(db, {**CASE, "source": "courtlistener", "entry_number": 17,
                        "pacer_sequence_number": "52", "description": LONG[:60],
                        "version_raw": json.dumps({"id": 1}), "version_url": "https://cl/e/1"})
    # the docket report: the full text; then the Internet Archive's copy, shorter again
    save(db, "pacer", {"document_number": "17", "date_filed": "2020-08-28", "description": LONG,
                       "pacer_seq_no": "52", "pacer_doc_id": "035019230780"},
         source_url="https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733")
    save(db, "internet_archive", {"document_number": "17", "date_filed": "2020-08-28",
                                  "description": LONG[:100], "pacer_seq_no": "52"})
    entries = rows(db, "select * from docket_entries")
    assert [e["id"] for e in entries] == [f"{DOCKET}#17"]
    assert entries[0]["description"] == LONG  # no cheaper or shorter source overwrote it
    versions = rows(db, "select * from entry_versions order by first_seen, id")
    assert {v["source"] for v in versions} == {"pacer_rss", "courtlistener", "pacer",
                                               "internet_archive"}
    assert {v["entry_id"] for v in versions} == {f"{DOCKET}#17"}
    assert {v["pacer_sequence_number"] for v in versions} == {"52"}  # what tied them
    by = {v["source"]: v for v in versions}
    assert by["pacer_rss"]["event_names"] == "Motion for Preliminary Injunction"
    assert by["pacer_rss"]["url"].endswith("rss_outside.pl")
    assert json.loads(by["courtlistener"]["raw"]) == {"id": 1}
    assert json.loads(by["pacer"]["raw"])["description"] == LONG
    # seen again: the same version, counted, not a new row
    save(db, "internet_archive", {"document_number": "17", "date_filed": "2020-08-28",
                                  "description": LONG[:100], "pacer_seq_no": "52"})
    again = rows(db, "select times_seen from entry_versions where source = 'internet_archive'")
    assert again == [{"times_seen": 2}]
    # its dates: a hearing and two deadlines
    events = rows(db, "select kind, what, date, time from events order by position")
    assert events == [
        {"kind": "hearing", "what": "Motion Hearing", "date": "2020-10-01", "time": "09:30"},
        {"kind": "deadline", "what": "Responses due", "date": "2020-09-11", "time": None},
        {"kind": "deadline", "what": "Replies due", "date": "2020-09-18", "time": None}]


def test_a_reset_or_vacated_date_supersedes_the_one_it_replaces():
    db = fresh()
    save(db, "pacer",
         {"document_number": "17", "date_filed": "2020-08-28", "description": LONG},
         {"document_number": "30", "date_filed": "2020-09-20",
          "description": "CLERK'S NOTICE: Motion Hearing reset from 10/1/2020 to 10/8/2020 "
                         "09:30 AM."},
         {"document_number": "31", "date_filed": "2020-09-21",
          "description": "ORDER: the deadline for Replies is extended. Replies due by 9/25/2020."},
         {"document_number": "40", "date_filed": "2020-10-02",
          "description": "ORDER: The Motion Hearing set for 10/8/2020 is VACATED."})
    events = {(e["what"], e["date"], e["status"]): e for e in rows(db, "select * from events")}
    first = events[("Motion Hearing", "2020-10-01", "set")]
    moved = events[("Motion Hearing", "2020-10-08", "reset")]
    vacated = events[("Motion Hearing", "2020-10-08", "vacated")]
    assert first["superseded_by"] == moved["id"] and moved["superseded_by"] == vacated["id"]
    assert events[("Replies due", "2020-09-18", "set")]["superseded_by"] is None  # no words tie them
    soon = fl.next_dates(db.conn, DOCKET, today="2020-09-22")
    assert [(e["what"], e["date"]) for e in soon] == [("Replies due", "2020-09-25")]
    assert fl.next_dates(db.conn, DOCKET, today="2020-09-01")[0]["what"] == "Responses due"


def test_the_held_out_feed_style_gives_one_entry_per_filing_and_the_report_absorbs_it():
    """Link-less items of one filing in one second are one entry; items minutes
    (or a second) apart stay two; the later docket report's one row per filing
    absorbs it one to one, and the RSS item stays as a version."""
    db = fresh()
    feed = parse("rss", (PAGES / "rss_no_links_same_second.xml").read_bytes(), "cand")
    for docket in dockets_in(feed):
        save_parsed_docket(db, docket, source="pacer_rss")
    mine = rows(db, "select * from docket_entries where docket_id = ? order by date_filed", [DOCKET])
    # 9 items of this case: 5 filings (two of them announced under two events each)
    assert len(mine) == 5
    merged = sorted(e["event_names"] for e in mine if " AND " in (e["event_names"] or ""))
    assert merged == ["Clerk's Notice AND Clerk's Notice", "Order AND Order(Other)"]
    assert {e["kind"] for e in mine if e["event_names"] == "Order AND Order(Other)"} == {"order"}
    save(db, "pacer", {"document_number": "39", "date_filed": "2020-09-17",
                       "date_entered": "2020-09-17",
                       "description": "CLERK'S NOTICE re scheduling of the hearing."})
    mine = rows(db, "select * from docket_entries where docket_id = ?", [DOCKET])
    assert len(mine) == 5 and f"{DOCKET}#39" in {e["id"] for e in mine}
    sources = [r["source"] for r in rows(db, "select source from entry_versions where entry_id = ? "
                                             "order by source", [f"{DOCKET}#39"])]
    assert sources == ["pacer", "pacer_rss"]  # the RSS item stays, as a version of entry 39
    # the other four (entry 40 too: numbered, but on no docket report) are still RSS only
    assert len([g for g in fl.gaps_of(db.conn, DOCKET) if g["kind"] == "rss only"]) == 4


def test_the_gaps_view_and_case_status():
    db = fresh()
    save(db, "pacer", *[{"document_number": str(n), "date_filed": "2020-09-01",
                         "description": f"Entry {n}", "pacer_doc_id": f"0350192{n:05d}"}
                        for n in (1, 2, 5, 9)])
    save(db, "pacer_rss", {"document_number": None, "date_filed": "2020-09-02T10:00:00+00:00",
                           "short_description": "Order", "description": ""})
    adb.save_document(db, {**CASE, "entry_number": 1, "document_number": "1",
                           "pacer_doc_id": "035019200001", "file_path": "a.pdf", "status": "ok"})
    gaps = fl.gaps_of(db.conn, DOCKET)
    missing = [(g["entry_from"], g["entry_to"], g["count"]) for g in gaps
               if g["kind"] == "missing numbers"]
    assert missing == [(3, 4, 2), (6, 8, 3)]  # 1 is the first: none missing below it
    assert [g["kind"] for g in gaps].count("rss only") == 1
    assert [g["kind"] for g in gaps].count("not stored") == 3  # listed with a PACER id, no file
    fl.record_check(db, DOCKET, "rss", ok=True, detail="0 new")
    fl.record_check(db, DOCKET, "courtlistener", ok=True, has_copy=False)
    status = fl.case_status(db.conn, DOCKET)
    assert status["line"] == "checked just now; 6 gaps; 3 documents not stored"
    assert (status["missing"], status["rss_only"]) == (5, 1)
    assert status["by"]["courtlistener"]["status"] == "no copy"


def test_an_archive_made_before_kinds_and_events_gets_them_once():
    db = fresh()
    save(db, "pacer", {"document_number": "17", "date_filed": "2020-08-28", "description": LONG})
    with adb.transaction(db):
        db.execute("update docket_entries set kind = null")
        db.execute("delete from events")
        db.execute("delete from archive_info where id = 'entries_derived'")
    adb.ensure_db_shape(db)
    assert rows(db, "select kind from docket_entries") == [{"kind": "motion"}]
    assert db["events"].count == 3
    assert adb.derive_entries(db) == 0  # once


def test_appeals_from_the_docket_and_from_an_acms_originating_case_number():
    db = fresh()
    district, _ = fl.follow_case(db, "cand", "3:20-cv-05910")
    save(db, "pacer",
         {"document_number": "78", "date_filed": "2020-10-01",
          "description": "NOTICE OF APPEAL to the 9th Circuit Court of Appeals as to 59 Order"},
         {"document_number": "81", "date_filed": "2020-10-02",
          "description": "USCA Case Number 20-16908 9th Circuit Court of Appeals for 78 Notice "
                         "of Appeal filed by Donald J. Trump."})
    found = ap.find_and_follow(db)
    assert [(a, p) for a, p, _ in found["followed"]] == [("ca9/20-16908", district)]
    # an ACMS appeal whose record names another followed case as its origin
    casd, _ = fl.follow_case(db, "casd", "3:23-cv-01111")
    path = shared_or_skip("corpus", "pacer", "acms", "ca9_23-2435.acms_json")
    record = parse("acms", path.read_bytes(), "ca9")
    record["originating_court_information"]["docket_number"] = "3:23-cv-01111-ABC"
    save_parsed_docket(db, record, source="acms", court_id="ca9")
    found = ap.find_and_follow(db)
    assert [(a, p) for a, p, _ in found["followed"]] == [("ca9/23-2435", casd)]
    row = db["follows"].get("ca9/23-2435")
    assert "originating case number" in row["found_by"]
    # a notice of appeal whose appeal is not known: CourtListener is searched for it
    fl.follow_case(db, "nvd", "2:21-cv-00001")
    adb.save_entry(db, {"court_id": "nvd", "docket_number": "2:21-cv-00001", "entry_number": 9,
                        "source": "pacer", "description": "NOTICE OF APPEAL as to 5 Order"})
    assert "nvd/2:21-cv-00001" in ap.find_and_follow(db)["notices"]


def test_what_is_public_and_what_is_the_operators(tmp_path):
    path = str(tmp_path / "dockets.db")
    db = adb.open_db(path)
    save(db, "pacer", {"document_number": "17", "date_filed": "2020-08-28", "description": LONG})
    fl.follow_case(db, "cand", "3:20-cv-05910")
    fl.record_check(db, DOCKET, "rss")
    from archive import alerts

    alerts.add_webhook(db, "https://hooks.example/secret-token-in-path")
    adb.close_db(db)
    live = str(tmp_path / "public.db")
    publish.publish(path, live)
    con = sqlite3.connect(live)
    tables = {r[0] for r in con.execute("select name from sqlite_master where type in ('table', 'view')")}
    assert {"entry_versions", "events", "case_checks", "gaps"} <= tables
    assert not tables & {"follows", "webhooks", "outbox", "alerted", "api_calls", "update_runs",
                         "court_feeds"}
    assert con.execute("select count(*) from entry_versions").fetchone()[0] == 1
    assert con.execute("select count(*) from events").fetchone()[0] == 3
    assert b"secret-token-in-path" not in open(live, "rb").read()
