"""archive.db: shape, keys, idempotent saves and change records (no network)."""
import sqlite_utils

from archive import db as adb


def fresh():
    db = sqlite_utils.Database(memory=True)
    adb.ensure_db_shape(db)
    return db


def test_shape_is_idempotent_and_complete():
    db = fresh()
    adb.ensure_db_shape(db)
    adb.ensure_db_shape(db)
    names = set(db.table_names())
    for table in ("dockets", "docket_entries", "documents", "parties", "attorneys",
                  "crawls", "changes", "documents_fts", "docket_entries_fts"):
        assert table in names
    cols = db["documents"].columns_dict
    for col in ("court_id", "document_number", "attachment_number", "pacer_doc_id",
                "page_count", "is_available", "sha256", "text", "status", "error"):
        assert col in cols
    fks = {(fk.table, fk.column, fk.other_table) for fk in db["documents"].foreign_keys}
    assert ("documents", "entry_id", "docket_entries") in fks
    assert "entries_with_documents" in db.view_names()


def test_shape_upgrades_an_older_archive():
    db = sqlite_utils.Database(memory=True)
    db["documents"].create({"id": str, "text": str}, pk="id")
    adb.ensure_db_shape(db)
    assert "sha256" in db["documents"].columns_dict


def test_shape_adds_the_bankruptcy_columns_to_an_older_dockets_table():
    db = sqlite_utils.Database(memory=True)
    db["dockets"].create({"id": str, "court_id": str, "docket_number": str}, pk="id")
    db["dockets"].insert({"id": "canb/09-31347", "court_id": "canb", "docket_number": "09-31347"})
    adb.ensure_db_shape(db)
    cols = db["dockets"].columns_dict
    assert (cols["chapter"], cols["trustee_str"]) == (int, str)
    assert (cols["date_converted"], cols["date_discharged"]) == (str, str)
    # the row already there is kept, and takes the new facts when saved again
    adb.save_docket(db, {"court_id": "canb", "docket_number": "09-31347", "chapter": 11,
                         "trustee_str": "Jane Trustee", "date_converted": "2010-01-02"})
    row = db["dockets"].get("canb/09-31347")
    assert (row["chapter"], row["trustee_str"], row["date_converted"], row["date_discharged"]) == \
        (11, "Jane Trustee", "2010-01-02", None)


def test_docket_numbers_accept_judge_initials():
    assert adb.normalize_docket_number("3:20-cv-05910-LB") == "3:20-cv-05910"
    assert adb.normalize_docket_number("3:20-CV-05910") == "3:20-cv-05910"
    assert adb.normalize_docket_number("1:13-cr-00123-ABC-DEF") == "1:13-cr-00123"
    assert adb.normalize_docket_number("20-16908") == "20-16908"
    assert adb.docket_key("cand", "3:20-cv-05910-LB") == "cand/3:20-cv-05910"


def test_saves_are_idempotent_and_record_changes():
    db = fresh()
    crawl = adb.start_crawl(db, "test", "cand", "3:20-cv-05910", {})
    docket = {"court_id": "cand", "docket_number": "3:20-cv-05910-LB", "case_name": "A v. B",
              "source": "test"}
    entry = {"court_id": "cand", "docket_number": "3:20-cv-05910", "entry_number": 59,
             "date_filed": "2020-09-19", "description": "ORDER granting PI", "source": "test"}
    doc = {"court_id": "cand", "docket_number": "3:20-cv-05910", "entry_number": 59,
           "document_number": "59", "attachment_number": None, "text": "The court grants",
           "clean_text": "The court grants", "stamp": {"document_number": "59"}, "source": "test"}
    assert adb.save_docket(db, docket, crawl)[1] == "added"
    assert adb.save_entry(db, entry, crawl)[1] == "added"
    doc_id, action = adb.save_document(db, doc, crawl)
    assert action == "added" and doc_id == "cand/3:20-cv-05910#59/0"
    # the same again: nothing new
    crawl2 = adb.start_crawl(db, "test", "cand", "3:20-cv-05910", {})
    assert adb.save_docket(db, docket, crawl2)[1] == "unchanged"
    assert adb.save_entry(db, entry, crawl2)[1] == "unchanged"
    assert adb.save_document(db, doc, crawl2)[1] == "unchanged"
    assert db["docket_entries"].count == 1 and db["documents"].count == 1
    # a changed description is an update, recorded with its field
    entry["description"] = "ORDER granting preliminary injunction"
    assert adb.save_entry(db, entry, crawl2)[1] == "changed"
    change = list(db.query("select * from changes where crawl_id = ?", [crawl2]))
    assert change == [dict(change[0], action="changed", fields="description",
                           table_name="docket_entries")]
    # a source that does not know a field leaves it alone
    assert adb.save_document(db, dict(doc, text=None), crawl2)[1] == "unchanged"
    assert db["documents"].get(doc_id)["text"] == "The court grants"
    row = adb.finish_crawl(db, crawl2, "finished", {"requests": 3})
    assert row["rows_changed"] == 1 and row["rows_added"] == 0


def test_full_text_search_finds_documents_and_entries():
    db = fresh()
    adb.save_entry(db, {"court_id": "cand", "docket_number": "1:1-cv-1", "entry_number": 1,
                        "description": "Motion for preliminary injunction"})
    adb.save_document(db, {"court_id": "cand", "docket_number": "1:1-cv-1", "entry_number": 1,
                           "document_number": "1", "clean_text": "WeChat users alliance"})
    assert [r["id"] for r in db["documents"].search("wechat")] == ["cand/1:1-cv-1#1/0"]
    assert len(list(db["docket_entries"].search("injunction"))) == 1


def test_unnumbered_entries_keep_their_own_rows():
    db = fresh()
    for seq, text in (("2020-09-19.001", "Minute entry"), ("2020-09-20.001", "Clerk's notice")):
        adb.save_entry(db, {"court_id": "cand", "docket_number": "1:1-cv-1", "entry_number": None,
                            "recap_sequence_number": seq, "description": text})
    assert db["docket_entries"].count == 2


def test_parties_and_attorneys_link():
    db = fresh()
    adb.save_party(db, {"court_id": "cand", "docket_number": "1:1-cv-1", "name": "Chihuo Inc.",
                        "party_type": "Plaintiff",
                        "attorneys": [{"name": "Michael Bien", "roles": ["LEAD ATTORNEY"],
                                       "contact": "Rosen Bien"}]})
    adb.save_attorney(db, {"court_id": "cand", "docket_number": "1:1-cv-1", "name": "Michael Bien",
                           "email": "mb@example.com",
                           "parties": [{"party": "Chihuo Inc.", "roles": ["Lead attorney"]}]})
    assert db["attorneys"].count == 1
    assert db["party_attorneys"].count == 1
    assert db["attorneys"].get("cand/1:1-cv-1#michael bien")["email"] == "mb@example.com"


def test_a_recovered_document_loses_its_old_error():
    db = fresh()
    doc = {"court_id": "cand", "docket_number": "1:1-cv-1", "entry_number": 3,
           "document_number": "3", "is_available": True}
    doc_id, _ = adb.save_document(db, dict(doc, status="download_failed",
                                           error="could not download x: connection lost"))
    # a source that says nothing of the file leaves status and error alone
    assert adb.save_document(db, dict(doc, description="Motion"))[1] == "changed"
    assert db["documents"].get(doc_id)["error"] == "could not download x: connection lost"
    crawl = adb.start_crawl(db, "test", "cand", "1:1-cv-1", {})
    action = adb.save_document(db, dict(doc, file_path="cand/x.pdf", sha256="ab" * 32,
                                        status="ok", error=None, text="text"), crawl)
    assert action[1] == "changed"
    row = db["documents"].get(doc_id)
    assert row["status"] == "ok" and row["error"] is None and row["file_path"] == "cand/x.pdf"
    change = list(db.query("select fields from changes where crawl_id = ?", [crawl]))
    assert "error" in change[0]["fields"].split(",")
    # a new error replaces the old one
    adb.save_document(db, dict(doc, status="error", error="damaged"))
    assert db["documents"].get(doc_id)["error"] == "damaged"
    adb.save_extraction(db, doc_id, {"status": "ok", "text": "t"})
    assert db["documents"].get(doc_id)["error"] is None


def test_a_record_is_stored_whole_or_not_at_all():
    from archive.load import save_parsed_docket

    db = fresh()
    crawl = adb.start_crawl(db, "test", "cand", "1:1-cv-1", {})
    entries = [{"document_number": n, "description": f"Entry {n}"} for n in range(1, 6)]
    entries[3]["description"] = object()  # cannot be stored: fails mid-way
    record = {"court_id": "cand", "docket_number": "1:1-cv-1", "docket_entries": entries}
    import pytest
    with pytest.raises(Exception):
        save_parsed_docket(db, record, source="test", crawl_id=crawl)
    assert db["dockets"].count == 0 and db["docket_entries"].count == 0
    assert db["changes"].count == 0
    # a party whose third attorney cannot be stored: none of it
    with pytest.raises(KeyError):
        adb.save_party(db, {"court_id": "cand", "docket_number": "1:1-cv-1", "name": "P",
                            "attorneys": [{"name": "A"}, {"name": "B"}, {"roles": []}]}, crawl)
    assert db["parties"].count == 0 and db["attorneys"].count == 0 and db["changes"].count == 0
    entries[3]["description"] = "Entry 4"
    assert save_parsed_docket(db, record, source="test", crawl_id=crawl)["added"] == 6
    assert db["changes"].count == 6


def test_an_archive_file_is_opened_in_wal_mode_with_a_busy_timeout(tmp_path):
    db = adb.open_db(str(tmp_path / "a.db"))
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert db.execute("pragma busy_timeout").fetchone()[0] >= 30_000
    with adb.transaction(db):  # nested: a savepoint of the outer transaction
        adb.save_entry(db, {"court_id": "cand", "docket_number": "1:1-cv-1", "entry_number": 1})
        with adb.transaction(db):
            adb.save_entry(db, {"court_id": "cand", "docket_number": "1:1-cv-1",
                                "entry_number": 2})
    assert db["docket_entries"].count == 2


def test_a_crawl_whose_process_is_gone_is_marked_killed():
    import datetime as dt
    import os
    import socket
    import subprocess
    import sys

    db = fresh()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        hour_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat()
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        host = socket.gethostname()
        for pid, started, where in ((gone.pid, now, host),      # process ended
                                    (later.pid, hour_ago, host),  # pid reused since
                                    (os.getppid(), now, host),  # alive, older than the row
                                    (gone.pid, now, "elsewhere"),  # another host's
                                    (None, now, None)):          # no pid recorded
            db["crawls"].insert({"spider": "t", "status": "running", "pid": pid,
                                 "host": where, "started": started})
        adb.start_crawl(db, "next", "cand", None, {})
        statuses = [r["status"] for r in db.query("select status from crawls order by id")]
        assert statuses == ["killed", "killed", "running", "running", "running", "running"]
        message = db["crawls"].get(1)["message"]
        assert str(gone.pid) in message and host in message
    finally:
        later.kill()
        later.wait()


def test_a_big_crawl_leaves_its_search_index_in_one_segment_a_small_one_leaves_it(tmp_path):
    db = adb.open_db(str(tmp_path / "a.db"))
    crawl = adb.start_crawl(db, "test", "cand", "1:1-cv-1", {})
    for n in range(1, 41):  # one transaction each: one FTS segment each, merged by automerge
        adb.save_document(db, {"court_id": "cand", "docket_number": "1:1-cv-1", "entry_number": n,
                               "document_number": str(n), "clean_text": f"order number{n}"},
                          crawl)
    assert adb._fts_segments(db, "documents_fts") > 1
    adb.finish_crawl(db, crawl, "finished", {})
    assert adb._fts_segments(db, "documents_fts") == 1
    assert [r["id"] for r in db["documents"].search("number7")] == ["cand/1:1-cv-1#7/0"]
    small = adb.start_crawl(db, "test", "cand", "1:1-cv-1", {})
    adb.save_document(db, {"court_id": "cand", "docket_number": "1:1-cv-1", "entry_number": 41,
                           "document_number": "41", "clean_text": "order number41"}, small)
    adb.finish_crawl(db, small, "finished", {})
    assert adb._fts_segments(db, "documents_fts") == 2  # 1 of 41 rows: left to automerge
    assert len(list(db["documents"].search("order"))) == 41
