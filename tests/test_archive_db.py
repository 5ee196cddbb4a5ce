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
