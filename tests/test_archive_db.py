"""archive.db: shape, keys, idempotent saves and change records (no network)."""
import sqlite_utils

from archive import db as adb
from parsers.common import docket_number_key


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
    assert adb.docket_number_key is docket_number_key  # the one key, parsers' rules
    assert not hasattr(adb, "normalize_docket_number")  # no second rule left
    assert docket_number_key("3:20-cv-05910-LB") == "3:20-cv-05910"
    assert docket_number_key("3:20-CV-05910") == "3:20-cv-05910"
    assert docket_number_key("1:13-cr-00123-ABC-DEF") == "1:13-cr-00123"
    assert docket_number_key("20-16908") == "20-16908"
    assert adb.docket_key("cand", "3:20-cv-05910-LB") == "cand/3:20-cv-05910"


def test_one_case_is_one_docket_whatever_form_its_number_comes_in():
    db = fresh()
    for number in ("1:13-cr-00123", "1:13-cr-00123-1", "1:13-CR-123-ABC", "1:13-cr-00123-ABC-1"):
        adb.save_docket(db, {"court_id": "cand", "docket_number": number, "source": "test"})
    for number in ("17-80033", "17-80033-CRJ7", "CASE 17-80033"):
        adb.save_docket(db, {"court_id": "alnb", "docket_number": number, "source": "test"})
    assert [(r["id"], r["docket_number"]) for r in db.query("select * from dockets order by id")] == [
        ("alnb/17-80033", "17-80033"), ("cand/1:13-cr-00123", "1:13-cr-00123")]


# --- an archive written under the old key rule (archive.db's own
# normalize_docket_number kept "-1", bankruptcy suffixes and "CASE ...")

def _old_archive():
    """Rows written directly, keyed the old way: the case cand 1:13-cr-00123 split
    in two (the old "-1" docket and the new one), a bankruptcy case keyed with its
    judge's suffix, one whose number is not the key's form, and one already right."""
    db = fresh()
    crawl = adb.start_crawl(db, "test", "cand", None, {})
    old, new, bk = "cand/1:13-cr-00123-1", "cand/1:13-cr-00123", "alnb/17-80033-CRJ7"
    db["dockets"].insert_all([
        {"id": old, "court_id": "cand", "docket_number": "1:13-cr-00123-1", "case_name": "USA v. Doe",
         "pacer_case_id": "111", "first_seen": "2020-01-01T00:00:00", "last_seen": "2020-02-01T00:00:00",
         "source": "pacer"},
        {"id": new, "court_id": "cand", "docket_number": "1:13-cr-00123", "case_name": "United States v. Doe",
         "first_seen": "2021-01-01T00:00:00", "last_seen": "2021-02-01T00:00:00", "source": "courtlistener"},
        {"id": bk, "court_id": "alnb", "docket_number": "17-80033-CRJ7", "case_name": "In re Roe"},
        # its id right, its number not in the key's form
        {"id": "cand/3:20-cv-05910", "court_id": "cand", "docket_number": "3:20-cv-05910-LB"},
        {"id": "ca9/20-16908", "court_id": "ca9", "docket_number": "20-16908"},
    ])
    db["docket_entries"].insert_all([
        # entry 1 is in both halves: the new one lacks its date entered
        {"id": f"{old}#1", "docket_id": old, "court_id": "cand", "entry_number": 1, "entry_key": "1",
         "description": "INDICTMENT", "date_entered": "2013-03-02", "source": "pacer"},
        {"id": f"{new}#1", "docket_id": new, "court_id": "cand", "entry_number": 1, "entry_key": "1",
         "description": "Indictment", "source": "courtlistener"},
        {"id": f"{old}#2", "docket_id": old, "court_id": "cand", "entry_number": 2, "entry_key": "2",
         "description": "ARREST", "source": "pacer"},
        {"id": f"{bk}#1", "docket_id": bk, "court_id": "alnb", "entry_number": 1, "entry_key": "1",
         "description": "Petition"},
        {"id": f"{bk}#rss-20170101T000000Z-abc", "docket_id": bk, "court_id": "alnb",
         "entry_key": "rss-20170101T000000Z-abc", "description": "Notice", "source": "pacer_rss"},
    ])
    db["documents"].insert_all([
        {"id": f"{old}#1/0", "docket_id": old, "entry_id": f"{old}#1", "court_id": "cand",
         "document_number": "1", "attachment_number": 0, "file_path": "cand/111/1.pdf",
         "clean_text": "the grand jury charges", "sha256": "aa"},
        {"id": f"{new}#1/0", "docket_id": new, "entry_id": f"{new}#1", "court_id": "cand",
         "document_number": "1", "attachment_number": 0, "description": "Indictment"},
        {"id": f"{old}#2/0", "docket_id": old, "entry_id": f"{old}#2", "court_id": "cand",
         "document_number": "2", "attachment_number": 0, "clean_text": "warrant for arrest"},
        {"id": f"{bk}#1/0", "docket_id": bk, "entry_id": f"{bk}#1", "court_id": "alnb",
         "document_number": "1", "attachment_number": 0},
    ])
    db["parties"].insert_all([
        {"id": f"{old}#john doe", "docket_id": old, "name": "John Doe", "party_type": "Defendant"},
        {"id": f"{new}#john doe", "docket_id": new, "name": "John Doe"},
        {"id": f"{old}#usa", "docket_id": old, "name": "USA", "party_type": "Plaintiff"},
    ])
    db["attorneys"].insert_all([
        {"id": f"{old}#ann lawyer", "docket_id": old, "name": "Ann Lawyer", "phone": "555"},
        {"id": f"{new}#ann lawyer", "docket_id": new, "name": "Ann Lawyer", "email": "ann@example.com"},
    ])
    db["party_attorneys"].insert_all([
        {"id": f"{old}#john doe|{old}#ann lawyer", "docket_id": old, "party_id": f"{old}#john doe",
         "attorney_id": f"{old}#ann lawyer", "roles": "LEAD ATTORNEY"},
        {"id": f"{new}#john doe|{new}#ann lawyer", "docket_id": new, "party_id": f"{new}#john doe",
         "attorney_id": f"{new}#ann lawyer", "roles": "ATTORNEY TO BE NOTICED"},
        {"id": f"{old}#usa|{old}#ann lawyer", "docket_id": old, "party_id": f"{old}#usa",
         "attorney_id": f"{old}#ann lawyer"},
    ])
    db["changes"].insert_all([
        {"crawl_id": crawl, "at": "2020-01-01", "table_name": "dockets", "row_id": old, "action": "added"},
        {"crawl_id": crawl, "at": "2020-01-01", "table_name": "docket_entries", "row_id": f"{old}#2",
         "action": "added"},
        {"crawl_id": crawl, "at": "2020-01-01", "table_name": "documents", "row_id": f"{old}#2/0",
         "action": "added"},
        {"crawl_id": crawl, "at": "2020-01-01", "table_name": "docket_entries",
         "row_id": f"{bk}#rss-x", "action": "merged", "fields": f"{bk}#1"},
        {"crawl_id": crawl, "at": "2020-01-01", "table_name": "dockets", "row_id": "ca9/20-16908",
         "action": "added"},
    ])
    db["pacer_charges"].insert({"crawl_id": crawl, "court_id": "cand", "docket_id": old,
                                "what": "docket", "cost": 0.3, "status": "charged"})
    return db


def _everything(db) -> dict:
    return {table: [dict(r) for r in db.query(f"select * from [{table}] order by 1")]
            for table in adb.TABLES}


def test_an_archive_keyed_the_old_way_is_rekeyed_and_its_split_case_merged(caplog):
    db = _old_archive()
    caplog.set_level("WARNING", logger="archive.db")
    adb.ensure_db_shape(db)
    new, bk = "cand/1:13-cr-00123", "alnb/17-80033"
    # every docket's id is its key, and the number is the key's form
    dockets = {r["id"]: r for r in db.query("select * from dockets")}
    assert sorted(dockets) == [bk, "ca9/20-16908", new, "cand/3:20-cv-05910"]
    for row in dockets.values():
        assert row["id"] == adb.docket_key(row["court_id"], row["docket_number"])
    assert dockets[bk]["docket_number"] == "17-80033" and dockets[bk]["case_name"] == "In re Roe"
    assert dockets["cand/3:20-cv-05910"]["docket_number"] == "3:20-cv-05910"
    # the merged docket keeps its own values and takes what it lacked from the old one
    merged = dockets[new]
    assert (merged["case_name"], merged["source"], merged["pacer_case_id"]) == \
        ("United States v. Doe", "courtlistener", "111")
    assert (merged["first_seen"], merged["last_seen"]) == ("2020-01-01T00:00:00", "2021-02-01T00:00:00")
    # rows: moved where their new id was free, merged where it was taken
    entries = {r["id"]: r for r in db.query("select * from docket_entries")}
    assert sorted(entries) == [f"{bk}#1", f"{bk}#rss-20170101T000000Z-abc", f"{new}#1", f"{new}#2"]
    assert (entries[f"{new}#1"]["description"], entries[f"{new}#1"]["date_entered"]) == \
        ("Indictment", "2013-03-02")
    docs = {r["id"]: r for r in db.query("select * from documents")}
    assert sorted(docs) == [f"{bk}#1/0", f"{new}#1/0", f"{new}#2/0"]
    assert (docs[f"{new}#1/0"]["description"], docs[f"{new}#1/0"]["file_path"]) == \
        ("Indictment", "cand/111/1.pdf")
    assert docs[f"{new}#2/0"]["entry_id"] == f"{new}#2"
    parties = {r["id"]: r for r in db.query("select * from parties")}
    assert sorted(parties) == [f"{new}#john doe", f"{new}#usa"]
    assert parties[f"{new}#john doe"]["party_type"] == "Defendant"
    attorneys = {r["id"]: r for r in db.query("select * from attorneys")}
    assert list(attorneys) == [f"{new}#ann lawyer"]
    assert (attorneys[f"{new}#ann lawyer"]["phone"], attorneys[f"{new}#ann lawyer"]["email"]) == \
        ("555", "ann@example.com")
    links = {r["id"]: r for r in db.query("select * from party_attorneys")}
    assert sorted(links) == [f"{new}#john doe|{new}#ann lawyer", f"{new}#usa|{new}#ann lawyer"]
    assert links[f"{new}#john doe|{new}#ann lawyer"]["roles"] == "ATTORNEY TO BE NOTICED, LEAD ATTORNEY"
    # every foreign key and every id names a row that is there
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for table in ("docket_entries", "documents", "parties", "attorneys", "party_attorneys"):
        for row in db.query(f"select * from [{table}]"):
            assert row["docket_id"] in dockets and row["id"].startswith(row["docket_id"] + "#")
    for row in db.query("select * from party_attorneys"):
        assert row["id"] == f"{row['party_id']}|{row['attorney_id']}"
    for row in db.query("select * from documents"):
        assert row["entry_id"] in entries and row["id"].startswith(row["entry_id"] + "/")
    assert [r["docket_id"] for r in db.query("select * from pacer_charges")] == [new]
    assert [(r["table_name"], r["row_id"], r["fields"]) for r in db.query("select * from changes order by id")] == [
        ("dockets", new, None), ("docket_entries", f"{new}#2", None), ("documents", f"{new}#2/0", None),
        ("docket_entries", f"{bk}#rss-x", f"{bk}#1"), ("dockets", "ca9/20-16908", None)]
    # the full-text index follows the documents it indexes
    db.execute("insert into documents_fts(documents_fts) values('integrity-check')")
    assert [r["id"] for r in db.query(
        "select d.id from documents_fts f join documents d on d.rowid = f.rowid "
        "where documents_fts match 'grand'")] == [f"{new}#1/0"]
    # what was merged is logged
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"docket cand/1:13-cr-00123-1 is now {new} (merged into the docket already there)" in logged
    assert "docket_entries cand/1:13-cr-00123-1#1" in logged and f"alnb/17-80033-CRJ7 is now {bk}" in logged


def test_rekeying_twice_changes_nothing():
    db = _old_archive()
    adb.ensure_db_shape(db)
    once = _everything(db)
    adb.ensure_db_shape(db)
    assert _everything(db) == once
    assert adb.rekey_dockets(db) == []
    # a save under the new key finds the merged docket's rows
    adb.save_entry(db, {"court_id": "cand", "docket_number": "1:13-cr-00123-1", "entry_number": 2,
                        "description": "ARREST", "source": "pacer"})
    assert db["docket_entries"].count == len(once["docket_entries"])


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


def test_process_alive_tells_a_live_process_from_a_dead_a_zombie_and_a_later_one():
    import os
    import subprocess
    import sys
    import time

    from archive.processes import process_alive

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert process_alive(child.pid)
        assert process_alive(str(child.pid), time.time())  # started now: it is the one
        assert not process_alive(child.pid, time.time() - 3600)  # a later process, same pid
        assert process_alive(os.getpid(), "2000-01-01T00:00:00+00:00")  # this one, always
        assert process_alive(1)  # another user's (init): alive
        child.kill()
        for _ in range(100):  # killed, not reaped yet: a zombie
            if not process_alive(child.pid):
                break
            time.sleep(0.05)
        assert not process_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not process_alive(child.pid)
    assert not process_alive(None) and not process_alive("x") and not process_alive(0)


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
