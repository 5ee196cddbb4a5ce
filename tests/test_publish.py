"""The public copy (archive/publish.py): exactly what a release holds, kept current.

Rows logged by the archive's triggers reach the copy, and the copy kept
current row by row equals one made from every row; withheld text leaves no
trace in the file; operator tables and columns are never copied; a copy that
cannot trust the log is made from every row; a failed publish changes nothing;
a crawl writing the archive is never blocked.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading

import pytest

from archive import db as adb
from archive import publish
from tests.conftest import PROJECT

CASE = {"court_id": "cand", "docket_number": "3:20-cv-05910"}
PUBLIC_ORDER = {t: "id" for t in adb.PUBLIC_TABLES}


def rows_of(path, table):
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f"select * from [{table}] order by id")]
    finally:
        con.close()


def same_public_rows(a, b):
    for table in adb.PUBLIC_TABLES:
        assert rows_of(a, table) == rows_of(b, table), table


def fts_ids(path, word):
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute(
            "select documents.id from documents_fts join documents on documents.rowid = "
            "documents_fts.rowid where documents_fts match ?", [word])}
    finally:
        con.close()


def file_bytes(path):
    data = b""
    for suffix in ("", "-wal"):
        try:
            with open(str(path) + suffix, "rb") as fh:
                data += fh.read()
        except FileNotFoundError:
            pass
    return data


@pytest.fixture
def archive(tmp_path):
    path = str(tmp_path / "dockets.db")
    db = adb.open_db(path)
    crawl = adb.start_crawl(db, "courtlistener", "cand", CASE["docket_number"],
                            {"files": str(tmp_path / "private-files")})
    adb.save_docket(db, {**CASE, "case_name": "U.S. WeChat Users Alliance v. Trump"}, crawl)
    for n, text in ((1, "COMPLAINT"), (2, "MOTION for Preliminary Injunction")):
        adb.save_entry(db, {**CASE, "entry_number": n, "date_filed": "2020-09-01",
                            "description": text}, crawl)
        adb.save_document(db, {**CASE, "entry_number": n, "description": text, "status": "ok",
                               "text": f"document {n} says zebrafinch{n}",
                               "clean_text": f"document {n} says zebrafinch{n}",
                               "file_path": f"cand/{n}.pdf", "sha256": "ab" * 32}, crawl)
    adb.save_party(db, {**CASE, "name": "U.S. WeChat Users Alliance", "party_type": "Plaintiff",
                        "attorneys": [{"name": "Michael Bien", "contact": "Rosen Bien",
                                       "roles": ["LEAD ATTORNEY"]}]}, crawl)
    adb.save_charge(db, {"crawl_id": crawl, "court_id": "cand", "what": "docket", "cost": 3.0,
                         "status": "charged"})
    adb.finish_crawl(db, crawl, "finished", {"requests": 3}, f"stored in {tmp_path}")
    yield path, db, crawl
    db.conn.close()


def test_logged_rows_reach_the_copy_and_equal_a_copy_of_every_row(archive, tmp_path):
    path, db, crawl = archive
    live = str(tmp_path / "public" / "dockets.db")
    assert publish.publish(path, live)["mode"] == "everything"
    assert not publish.pending(path, live)
    assert publish.publish(path, live)["mode"] == "none"

    # every kind of write: new rows, a changed text, an unnumbered RSS entry that
    # gets its number (re-keyed), a row deleted, a new crawl
    adb.save_entry(db, {**CASE, "entry_number": 3, "description": "ORDER granting", "date_filed":
                        "2020-09-19"}, crawl)
    adb.save_document(db, {**CASE, "entry_number": 3, "description": "Order", "status": "ok",
                           "text": "the order", "clean_text": "the order"}, crawl)
    adb.save_extraction(db, "cand/3:20-cv-05910#1/0", {"text": "new text zebrafinch9",
                                                        "clean_text": "new text zebrafinch9"})
    adb.save_entry(db, {**CASE, "pacer_sequence_number": "140", "description": "NOTICE OF APPEAL",
                        "published": "2020-09-21T10:00:00-07:00"}, crawl)
    assert publish.publish(path, live)["mode"] == "rows"
    adb.save_entry(db, {**CASE, "entry_number": 78, "pacer_sequence_number": "140",
                        "description": "NOTICE OF APPEAL to the 9th Circuit"}, crawl)
    with adb.transaction(db):
        db.execute("delete from documents where id = 'cand/3:20-cv-05910#2/0'")
    adb.finish_crawl(db, adb.start_crawl(db, "rss", "cand", None, {"secret": "x"}), "finished", {})
    done = publish.publish(path, live)
    assert done["mode"] == "rows" and done["dockets"] == 1

    fresh = str(tmp_path / "fresh.db")
    publish.publish(path, fresh, everything=True)
    same_public_rows(live, fresh)
    ids = {r["id"] for r in rows_of(live, "docket_entries")}
    assert "cand/3:20-cv-05910#78" in ids and not any("seq-140" in i for i in ids)
    assert fts_ids(live, "zebrafinch9") == {"cand/3:20-cv-05910#1/0"}
    assert fts_ids(live, "zebrafinch1") == set()


def test_operator_tables_and_columns_are_never_copied(archive, tmp_path):
    path, db, _ = archive
    live = str(tmp_path / "public.db")
    publish.publish(path, live)
    con = sqlite3.connect(live)
    tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
    assert not tables & {"pacer_charges", "public_log", "archive_info", "writer_position"}
    assert "args" not in rows_of(live, "crawls")[0] and "host" not in rows_of(live, "crawls")[0]
    assert {r["table_name"] for r in rows_of(live, "changes")} <= set(adb.PUBLIC_TABLES)
    assert str(tmp_path).encode() not in file_bytes(live)


def test_a_document_withheld_later_leaves_no_trace(archive, tmp_path):
    path, db, crawl = archive
    live = str(tmp_path / "public.db")
    publish.publish(path, live)
    assert fts_ids(live, "zebrafinch2") == {"cand/3:20-cv-05910#2/0"}
    reader = sqlite3.connect(live)  # a reader (the site) holds the copy open throughout
    reader.execute("select count(*) from documents").fetchone()
    adb.save_entry(db, {**CASE, "entry_number": 2,
                        "description": "SEALED DOCUMENT: motion for preliminary injunction"}, crawl)
    assert publish.publish(path, live)["mode"] == "rows"
    doc = {r["id"]: r for r in rows_of(live, "documents")}["cand/3:20-cv-05910#2/0"]
    assert doc["text"] is None and doc["file_path"] is None and "sealed" in doc["withheld"]
    assert fts_ids(live, "zebrafinch2") == set()
    data = file_bytes(live)
    assert b"zebrafinch2" not in data  # not in a free page, not in an FTS segment
    assert b"zebrafinch1" in data  # the public one is still there
    reader.close()


def test_a_withholding_mark_added_later_reaches_an_existing_copy(archive, tmp_path,
                                                                  monkeypatch):
    """The rule is part of the copy's shape: a mark a later release adds withholds,
    in the copy made before it, what it now covers (no row of it was logged)."""
    import re

    path, db, crawl = archive
    live = str(tmp_path / "public.db")
    publish.publish(path, live)
    assert fts_ids(live, "zebrafinch2") == {"cand/3:20-cv-05910#2/0"}
    monkeypatch.setattr(publish, "DESCRIPTION_MARKS", publish.DESCRIPTION_MARKS + [
        (re.compile(r"\bPRELIMINARY INJUNCTION\b", re.I), "sealed")])
    monkeypatch.setattr(publish, "MAY_MARK", re.compile(r"seal|restrict|injunction", re.I))
    done = publish.publish(path, live)
    assert done["mode"] == "everything" and "shape" in done["why"]
    doc = {r["id"]: r for r in rows_of(live, "documents")}["cand/3:20-cv-05910#2/0"]
    assert doc["text"] is None and "sealed" in doc["withheld"]
    assert b"zebrafinch2" not in file_bytes(live)


def test_a_copy_that_cannot_trust_the_log_is_made_from_every_row(archive, tmp_path):
    path, db, crawl = archive
    first, second = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    publish.publish(path, first)
    publish.publish(path, second)
    adb.save_entry(db, {**CASE, "entry_number": 4, "description": "ORDER"}, crawl)
    assert publish.publish(path, first)["mode"] == "rows"
    with adb.transaction(db):  # a week later: crawls drop what is that old
        assert adb.prune_public_log(db, keep_seconds=-1) > 0
    done = publish.publish(path, second)
    assert done["mode"] == "everything" and "cut past" in done["why"]
    same_public_rows(first, second)
    # a copy of another archive at the same path
    other = str(tmp_path / "other.db")
    adb.open_db(other).conn.close()
    assert "another archive" in publish.publish(other, first)["why"]
    assert rows_of(first, "dockets") == []


def test_a_failed_publish_changes_nothing(archive, tmp_path, monkeypatch):
    path, db, crawl = archive
    live = str(tmp_path / "public.db")
    publish.publish(path, live)
    before = {t: rows_of(live, t) for t in adb.PUBLIC_TABLES}
    adb.save_entry(db, {**CASE, "entry_number": 5, "description": "ORDER"}, crawl)

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish, "_checkpoint", fail)  # after the commit: applied, then fails
    monkeypatch.setattr(publish, "_derived_modules", lambda: [type("M", (), {
        "ensure_shape": staticmethod(lambda db: None), "refresh": staticmethod(fail)})])
    with pytest.raises(OSError):
        publish.publish(path, live)
    assert {t: rows_of(live, t) for t in adb.PUBLIC_TABLES} == before
    monkeypatch.undo()
    assert publish.publish(path, live)["mode"] != "none"
    assert "cand/3:20-cv-05910#5" in {r["id"] for r in rows_of(live, "docket_entries")}


def test_a_killed_publish_is_undone_and_done_again(tmp_path):
    path = str(tmp_path / "dockets.db")
    db = adb.open_db(path)
    crawl = adb.start_crawl(db, "test", "cand", CASE["docket_number"], {})
    adb.save_docket(db, {**CASE, "case_name": "WeChat"}, crawl)
    with adb.transaction(db):
        for n in range(1, 3001):
            adb.save_entry(db, {**CASE, "entry_number": n, "description": f"entry {n} " * 40}, crawl)
    adb.close_db(db)
    live = str(tmp_path / "public.db")
    code = ("import sys; from archive import publish\n"
            f"publish.publish({path!r}, {live!r}, everything=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT)
    # killed while its transaction is open (the copy of 3,000 entries takes a while)
    for _ in range(400):
        if (tmp_path / "public.db-wal").exists() and (tmp_path / "public.db-wal").stat().st_size:
            break
        threading.Event().wait(0.01)
    proc.kill()
    proc.wait()
    done = publish.publish(path, live)
    assert done["mode"] in ("everything", "none")  # "none": it had committed before the kill
    assert len(rows_of(live, "docket_entries")) == 3000
    fresh = str(tmp_path / "fresh.db")
    publish.publish(path, fresh, everything=True)
    same_public_rows(live, fresh)


def test_a_crawl_writing_the_archive_is_never_blocked(archive, tmp_path):
    path, db, crawl = archive
    live = str(tmp_path / "public.db")
    publish.publish(path, live)
    errors, written = [], []

    def crawl_writes():
        writer = sqlite3.connect(path, timeout=0, isolation_level=None)  # no waiting at all
        try:
            for n in range(200):
                writer.execute("begin immediate")
                writer.execute("insert into docket_entries (id, docket_id, court_id, entry_number, "
                               "description) values (?, 'cand/3:20-cv-05910', 'cand', ?, 'x')",
                               [f"cand/3:20-cv-05910#{1000 + n}", 1000 + n])
                writer.execute("commit")
                written.append(n)
        except sqlite3.OperationalError as exc:
            errors.append(exc)
        finally:
            writer.close()

    # the publisher only reads the archive (WAL mode: a reader never blocks its writer)
    thread = threading.Thread(target=crawl_writes)
    thread.start()
    while thread.is_alive():
        publish.publish(path, live)
    thread.join()
    assert not errors and len(written) == 200
    publish.publish(path, live)
    assert len(rows_of(live, "docket_entries")) == 202


def test_an_archive_of_an_older_shape_is_published(archive, tmp_path):
    """An archive not opened since an upgrade (no public log, no newest tables and
    columns): copied from every row, what it lacks is NULL or empty."""
    path, db, _ = archive
    older = str(tmp_path / "older.db")
    db.execute("vacuum into ?", [older])
    con = sqlite3.connect(older)
    con.execute("drop view gaps")
    for (name,) in con.execute("select name from sqlite_master where type = 'trigger' "
                               "and name like 'public_log%'").fetchall():
        con.execute(f"drop trigger [{name}]")
    for table in ("entry_versions", "events", "case_checks", "docket_origins", "public_log"):
        con.execute(f"drop table if exists [{table}]")
    con.execute("drop index idx_docket_entries_docket_id_kind")
    con.execute("alter table docket_entries drop column kind")
    con.commit()
    con.close()
    live = str(tmp_path / "public.db")
    done = publish.publish(older, live)
    assert done["mode"] == "everything"
    entries = rows_of(live, "docket_entries")
    assert len(entries) == 2 and all(e["kind"] is None for e in entries)
    assert rows_of(live, "events") == []
    # and again: with no log to go by, every row once more
    assert "no public log" in publish.publish(older, live)["why"]
