"""The archive's SQLite shape and the functions that write it.

Nothing outside ``archive/`` writes SQL. The shape lives in data (``TABLES``,
``FOREIGN_KEYS``, ``FTS``, ``VIEWS``); :func:`ensure_db_shape` applies it and
is safe to run on every open, so an older archive upgrades itself.

The ``save_*`` functions are pure with respect to the outside world: a dict
in, rows in the database out. Each returns what happened to the row
("added", "changed" or "unchanged") and records it in ``changes`` when a
crawl id is given, which is how a re-crawl reports what changed.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import socket
import sqlite3
import time
import uuid
from typing import Iterable, Iterator, Optional
from urllib.parse import quote

import sqlite_utils
from sqlite_utils.db import NotFoundError

from parsers.common import docket_number_key
from parsers.kinds import entry_kind
from parsers.schedule import events_in

from .processes import process_alive

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

# table -> {column: type}; the first column is the primary key unless noted.
TABLES: dict[str, dict[str, type]] = {
    "dockets": {
        "id": str, "court_id": str, "docket_number": str, "case_name": str,
        "pacer_case_id": str, "date_filed": str, "date_terminated": str,
        "date_last_filing": str, "assigned_to_str": str, "referred_to_str": str,
        "nature_of_suit": str, "cause": str, "jury_demand": str,
        "jurisdiction_type": str, "appeal_from_str": str, "panel_str": str,
        "courtlistener_id": int, "source": str, "source_url": str,
        "first_seen": str, "last_seen": str,
        # bankruptcy cases: the chapter (7, 11, 13 ...), the case trustee, and
        # when the case was converted to another chapter / the debtor discharged
        "chapter": int, "trustee_str": str, "date_converted": str, "date_discharged": str,
    },
    "docket_entries": {
        "id": str, "docket_id": str, "court_id": str, "entry_number": int,
        "entry_key": str, "date_filed": str, "date_entered": str, "time_filed": str,
        "description": str, "pacer_sequence_number": str,
        "recap_sequence_number": str, "courtlistener_id": int, "source": str,
        "first_seen": str, "last_seen": str,
        # issue 20: the entry's kind (parsers.kinds) and the CM/ECF event names a
        # source gave (an RSS item's "[Order(Other)]", joined with " AND ")
        "kind": str, "event_names": str,
    },
    "documents": {
        "id": str, "docket_id": str, "entry_id": str, "court_id": str,
        "document_number": str, "attachment_number": int, "document_type": int,
        "description": str, "pacer_doc_id": str, "is_available": int,
        "is_sealed": int, "page_count": int, "file_size": int, "sha1": str,
        "sha256": str, "file_path": str, "text": str, "clean_text": str,
        "status": str, "error": str, "extracted_by_ocr": int, "ocr_pages": str,
        "stamp_case_number": str, "stamp_document_number": str,
        "stamp_attachment_number": str, "stamp_date_filed": str,
        "bad_redactions": str, "extractor_version": str,
        "courtlistener_id": int, "source": str, "first_seen": str, "last_seen": str,
    },
    "parties": {
        "id": str, "docket_id": str, "name": str, "party_type": str,
        "extra_info": str, "date_terminated": str, "courtlistener_id": int,
        "source": str, "first_seen": str, "last_seen": str,
    },
    "attorneys": {
        "id": str, "docket_id": str, "name": str, "contact_raw": str, "phone": str,
        "fax": str, "email": str, "courtlistener_id": int, "source": str,
        "first_seen": str, "last_seen": str,
    },
    "party_attorneys": {
        "id": str, "docket_id": str, "party_id": str, "attorney_id": str, "roles": str,
    },
    "crawls": {
        "id": int, "spider": str, "court_id": str, "docket_number": str, "args": str,
        "started": str, "finished": str, "status": str, "requests": int,
        "api_requests": int, "pdfs_downloaded": int, "pdfs_already_stored": int,
        "documents_extracted": int, "extraction_errors": int, "rows_added": int,
        "rows_changed": int, "rows_unchanged": int, "message": str,
        "pid": int, "host": str,
        # records a source sent in a shape they should not have: skipped, the rest kept
        "bad_records": int,
    },
    "pacer_charges": {
        "id": int, "crawl_id": int, "at": str, "court_id": str, "docket_id": str,
        "pacer_case_id": str, "what": str, "description": str, "document_id": str,
        "pages": int, "cost": float, "pacer_cost": float, "status": str, "url": str,
        "job_id": str, "purchase_key": str, "pid": int, "message": str,
        # PACER billed it: 1 its answer was kept (spool or store), 0 its bytes were lost
        "answer_kept": int,
    },
    "changes": {
        "id": int, "crawl_id": int, "at": str, "table_name": str, "row_id": str,
        "action": str, "fields": str,
    },
    # an appeal's originating case, as its own record states it (archive/origins.py):
    # id is the appeal's docket id
    "docket_origins": {
        "id": str, "docket_id": str, "court_id": str, "docket_number": str,
        "date_filed_noa": str, "date_received_coa": str, "source": str,
    },
    # facts about this archive file: ``archive_id``, a random id given once, by
    # which a public copy knows the archive it was made from
    "archive_info": {"id": str, "value": str},
    # --- issue 20: every source's version of an entry, the calendar, the checks ---
    # One row per (source, the source's own key of the item, its content): the
    # RSS item, a docket report row, CourtListener's record, the Internet
    # Archive's, a saved page. ``id`` is the docket's id and a digest of those,
    # never the entry's row id, so it stays when the entry is re-keyed or an RSS
    # row is absorbed; ``entry_id`` follows the entry. ``raw``: the record as the source gave it
    # (JSON), ``url`` where it was read.
    "entry_versions": {
        "id": str, "entry_id": str, "docket_id": str, "court_id": str, "source": str,
        "source_key": str, "entry_number": int, "pacer_sequence_number": str,
        "date_filed": str, "description": str, "event_names": str, "url": str, "raw": str,
        "first_seen": str, "last_seen": str, "times_seen": int,
    },
    # Hearings and deadlines read from an entry's text (parsers.schedule), one
    # row each; ``superseded_by`` names the later event that moved or cancelled it.
    "events": {
        "id": str, "entry_id": str, "docket_id": str, "court_id": str, "position": int,
        "kind": str, "what": str, "date": str, "time": str, "place": str, "status": str,
        "supersedes_date": str, "supersedes_time": str, "superseded_by": str,
        "entry_date": str, "entry_number": int,
    },
    # When each source last looked at a case (``id``: "<docket id>#check-<source>"):
    # what the case page shows as "checked 2 h ago".
    "case_checks": {
        "id": str, "docket_id": str, "court_id": str, "source": str, "last_checked": str,
        "last_ok": str, "last_changed": str, "status": str, "detail": str,
    },
    # --- the operator's own (never public): the follow list and what update needs ---
    "follows": {
        "id": str, "docket_id": str, "court_id": str, "docket_number": str, "added": str,
        # an appeal found from a followed case: that case, and how it was found
        "parent_id": str, "found_by": str,
        "pacer_case_id": str, "acms_case_id": str, "documents": int,
        # CourtListener: its docket id and the docket's date_modified last fetched
        "cl_docket_id": int, "cl_modified": str, "cl_looked_up": str,
        # when the entries already there were taken as seen (no alerts for them)
        "baseline_at": str, "appeals_searched": str,
    },
    "court_feeds": {
        "id": str, "coverage": str, "kinds": str, "last_read": str, "last_ok": str,
        "status": str, "detail": str, "items": int, "next_probe": str,
    },
    "webhooks": {
        "id": int, "url": str, "docket_id": str, "secret_env": str, "secret_fingerprint": str,
        "created": str, "active": int,
    },
    # One alert per (webhook, entry) ever: ``id`` is the idempotency key the
    # receiver sees, made from the webhook and the entry's first version, so a
    # retry, a crash or a re-keyed entry never sends it under another key.
    "outbox": {
        "id": str, "webhook_id": int, "entry_id": str, "docket_id": str, "created": str,
        "payload": str, "status": str, "attempts": int, "next_attempt": str,
        "last_error": str, "sent_at": str,
    },
    # every version an alert (or the baseline of a follow) covers: (webhook, version)
    "alerted": {"id": str, "webhook_id": int, "version_id": str, "outbox_id": str, "at": str},
    # CourtListener calls: reserved before a run (a killed run's reservation counts)
    "api_calls": {"id": int, "source": str, "at": str, "calls": int, "status": str,
                  "run_id": int},
    "update_runs": {
        "id": int, "started": str, "finished": str, "pid": int, "status": str,
        "summary": str, "dry_run": int,
    },
}

FOREIGN_KEYS = [
    ("docket_entries", "docket_id", "dockets", "id"),
    ("documents", "docket_id", "dockets", "id"),
    ("documents", "entry_id", "docket_entries", "id"),
    ("parties", "docket_id", "dockets", "id"),
    ("attorneys", "docket_id", "dockets", "id"),
    ("party_attorneys", "party_id", "parties", "id"),
    ("party_attorneys", "attorney_id", "attorneys", "id"),
    ("changes", "crawl_id", "crawls", "id"),
    ("pacer_charges", "crawl_id", "crawls", "id"),
]

FTS = {
    "documents": ["description", "clean_text"],
    "docket_entries": ["description"],
}

INDEXES = [
    ("docket_entries", ["docket_id", "entry_number"]),
    # an entry found by its sequence number or its document's PACER id (save_entry)
    ("docket_entries", ["docket_id", "pacer_sequence_number"]),
    ("documents", ["docket_id", "pacer_doc_id"]),
    ("documents", ["entry_id"]),
    # covers the case page's listing, so it never reads past the long text columns
    ("documents", ["entry_id", "attachment_number", "id", "document_number", "description",
                   "page_count", "file_path", "status", "is_sealed", "bad_redactions",
                   "extracted_by_ocr", "ocr_pages", "is_available"]),
    ("documents", ["docket_id", "document_number", "attachment_number"]),
    ("documents", ["sha256"]),
    ("parties", ["docket_id"]),
    ("docket_origins", ["court_id", "docket_number"]),
    ("attorneys", ["docket_id"]),
    ("changes", ["crawl_id"]),
    ("pacer_charges", ["crawl_id"]),
    ("docket_entries", ["docket_id", "kind"]),
    ("entry_versions", ["entry_id"]),
    ("entry_versions", ["docket_id", "source"]),
    ("events", ["entry_id"]),
    ("events", ["docket_id", "date"]),
    ("case_checks", ["docket_id"]),
    ("outbox", ["status", "next_attempt"]),
    ("alerted", ["version_id"]),
    ("api_calls", ["source", "at"]),
    ("pacer_charges", ["docket_id", "at"]),
]

VIEWS = {
    "entries_with_documents": """
        select docket_entries.docket_id, docket_entries.entry_number,
               docket_entries.date_filed, docket_entries.description,
               documents.id as document_id, documents.attachment_number,
               documents.page_count, documents.status, documents.file_path
        from docket_entries
        left join documents on documents.entry_id = docket_entries.id
        order by docket_entries.docket_id, docket_entries.date_filed,
                 docket_entries.entry_number, documents.attachment_number
    """,
    # What a case's archive lacks (issue 20), one row per gap:
    # - ``missing numbers``: entry numbers between two the archive has, or below
    #   the first it has (numbers start at 1) (``entry_from`` to ``entry_to``;
    #   ``count`` of them);
    # - ``rss only``: an entry known only from an RSS item, on no docket report yet;
    # - ``not stored``: a document listed (a PACER id, or available) whose file the
    #   archive does not hold (a sealed one aside).
    # archive/follow.py's case_status() and the update plan read it; when each
    # source last checked a case is ``case_checks``.
    "gaps": """
        select docket_id, 'missing numbers' as kind, prev + 1 as entry_from,
               entry_number - 1 as entry_to, null as entry_id, null as document_id,
               entry_number - prev - 1 as count
        from (select docket_id, entry_number, coalesce(lag(entry_number) over
                     (partition by docket_id order by entry_number), 0) as prev
              from (select distinct docket_id, entry_number from docket_entries
                    where entry_number is not null))
        where entry_number - prev > 1
        union all
        select e.docket_id, 'rss only', e.entry_number, e.entry_number, e.id, null, 1
        from docket_entries e
        where e.source in ('pacer_rss', 'import:rss') and not exists (
            select 1 from entry_versions v where v.entry_id = e.id
            and v.source not in ('pacer_rss', 'import:rss'))
        union all
        select d.docket_id, 'not stored', e.entry_number, e.entry_number, d.entry_id, d.id, 1
        from documents d left join docket_entries e on e.id = d.entry_id
        where d.file_path is null and coalesce(d.is_sealed, 0) = 0
          and (d.pacer_doc_id is not null or d.is_available = 1)
          and coalesce(d.status, '') not in ('ok', 'ocr', 'empty', 'error', 'too_large', 'timeout')
    """,
}

# What the public sees (the site and every release): these tables, less the
# columns named. Every other table (the PACER ledger, the archive writer's
# bookkeeping, the public log itself...) is the operator's own. A withheld
# document (archive.publish.withheld_reason) loses its text and file too.
PUBLIC_TABLES: dict[str, tuple[str, ...]] = {
    "dockets": (), "docket_entries": (), "documents": (), "parties": (),
    "attorneys": (), "party_attorneys": (),
    "crawls": ("args", "message", "pid", "host"),
    "changes": (),
    "docket_origins": (),
    # issue 20: every source's version of an entry, the calendar, when sources checked
    "entry_versions": (), "events": (), "case_checks": (),
}

# Every insert, update and delete of a public table's row, whoever makes it (a
# crawl, the archive writer, an import, an extraction, a re-key), is logged
# here by a trigger, so that archive/publish.py can bring the public copy up
# to date with the rows logged since it last did. The publisher only reads the
# archive; the archive's own writers drop log rows older than PUBLIC_LOG_DAYS
# when a crawl finishes (a copy further behind is made again from every row).
PUBLIC_LOG = "public_log"
PUBLIC_LOG_DAYS = 7
_PUBLIC_LOG_SQL = (f"create table if not exists [{PUBLIC_LOG}] (id integer primary key "
                   "autoincrement, table_name text not null, row_id, "
                   "at integer not null default (cast(strftime('%s', 'now') as integer)))")
_LOG_TRIGGERS = {
    "insert": "insert into [{log}] (table_name, row_id) values ('{t}', new.id);",
    "update": ("insert into [{log}] (table_name, row_id) values ('{t}', old.id); "
               "insert into [{log}] (table_name, row_id) select '{t}', new.id "
               "where new.id is not old.id;"),
    "delete": "insert into [{log}] (table_name, row_id) values ('{t}', old.id);",
}


def _log_trigger_sql(table: str, event: str) -> tuple[str, str]:
    name = f"{PUBLIC_LOG}_{table}_{event}"
    body = _LOG_TRIGGERS[event].format(log=PUBLIC_LOG, t=table)
    return name, f"CREATE TRIGGER [{name}] AFTER {event.upper()} ON [{table}] BEGIN {body} END"


# Columns that move on every crawl and so never count as a change.
VOLATILE = {"first_seen", "last_seen"}


# A writer waits this long for another process's write to end before it
# fails with "database is locked" (crawls, imports and RSS runs share the file).
BUSY_TIMEOUT_MS = 30_000


def ro_uri(path: str) -> str:
    """The URI that opens ``path`` read-only (``mode=ro``: no write, no change
    of shape), its name quoted so that ``?``, ``#`` or ``%`` in it stay a name."""
    return f"file:{quote(os.path.abspath(path))}?mode=ro"


def open_db(path: str) -> sqlite_utils.Database:
    """Open (creating if needed) the archive at ``path`` with its shape applied.

    WAL mode (readers such as Datasette never block a crawl's writes, nor it
    them), a busy timeout, and ``synchronous=NORMAL``: a killed process loses
    nothing committed; a power cut may lose the last transactions, never the
    file's integrity.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    db = sqlite_utils.Database(sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000))
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _retry_locked(db.enable_wal)
    db.execute("PRAGMA synchronous = NORMAL")
    ensure_db_shape(db)
    return db


def close_db(db: sqlite_utils.Database) -> None:
    """Move what the WAL holds into the file, then close: the ``.db`` alone is
    the whole archive, and a copy of it without its ``-wal`` is complete.

    Every command and crawl that wrote closes the archive this way. When
    another process still has the file open and is writing, the checkpoint
    does what it can; the last one to close finishes it.
    """
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as exc:  # busy: another process's turn to finish it
        log.info("WAL checkpoint left to the archive's last writer: %s", exc)
    finally:
        db.conn.close()


def _retry_locked(action, seconds: float = BUSY_TIMEOUT_MS / 1000):
    """Run ``action``, retrying while SQLite says the file is locked: a
    journal-mode switch, unlike a write, does not wait for the busy timeout."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction, all or nothing.

    ``BEGIN IMMEDIATE`` takes the write lock before anything is read, so a
    read-then-write (does this row exist? then insert it) cannot race another
    process: the other waits (busy timeout) and then sees this one's rows.
    Inside an open transaction it is a savepoint of that transaction.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def ensure_db_shape(db: sqlite_utils.Database) -> None:
    """Create or upgrade tables, foreign keys, indexes, FTS and views, and give
    dockets keyed under an older rule their id (:func:`rekey_dockets`). Idempotent.

    All in one ``BEGIN IMMEDIATE`` transaction: two processes opening a new
    file at once take turns, and the second finds the shape made.
    """
    with transaction(db):
        _apply_shape(db)
        rekey_dockets(db)
        derive_entries(db)


# Bumped when what is derived from an entry's text (its kind, its events) is
# read differently: an archive derived under another version is derived again.
DERIVED_VERSION = "1"


def derive_entries(db, force: bool = False) -> int:
    """Give every entry its kind and its events (issue 20): once for an archive
    made before they existed (or derived under another ``DERIVED_VERSION``),
    then only as entries are saved. Returns how many entries were read."""
    marker = db.execute("select value from archive_info where id = 'entries_derived'").fetchone()
    if marker and marker[0] == DERIVED_VERSION and not force:
        return 0
    rows = db.execute("select id, docket_id, description, event_names, kind "
                      "from docket_entries").fetchall()
    dockets = set()
    for entry_id, docket_id, description, event_names, kind in rows:
        new = _kind_of(description, event_names)
        if new != kind:
            db.execute("update docket_entries set kind = ? where id = ?", [new, entry_id])
        if description and refresh_events(db, entry_id, settle=False):
            dockets.add(docket_id)
    for docket_id in dockets:
        settle_events(db, docket_id)
    db.execute("insert or replace into archive_info (id, value) values ('entries_derived', ?)",
               [DERIVED_VERSION])
    if rows:
        log.info("Derived the kinds and dates of %s entries", len(rows))
    return len(rows)


def _apply_shape(db: sqlite_utils.Database) -> None:
    apply_tables(db, TABLES, FOREIGN_KEYS, INDEXES, FTS, VIEWS)
    _apply_public_log(db)
    if not db.execute("select 1 from archive_info where id = 'archive_id'").fetchone():
        db.execute("insert into archive_info (id, value) values ('archive_id', ?)",
                   [uuid.uuid4().hex])
    if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def apply_tables(db: sqlite_utils.Database, tables: dict, foreign_keys: list, indexes: list,
                 fts: dict, views: dict) -> None:
    """Create or upgrade ``tables`` (name -> {column: type}, ``id`` the key),
    their foreign keys, indexes, FTS tables (with triggers) and views: the
    archive's shape, or the public copy's (archive/publish.py)."""
    for name, columns in tables.items():
        table = db[name]
        if not table.exists():
            table.create(columns, pk="id", not_null={"id"} if columns["id"] is str else None)
        else:
            have = set(table.columns_dict)
            for column, kind in columns.items():
                if column not in have:
                    table.add_column(column, kind)
    existing_fks = {
        (fk.table, fk.column, fk.other_table, fk.other_column)
        for name in tables for fk in db[name].foreign_keys
    }
    missing = [fk for fk in foreign_keys if fk not in existing_fks]
    if missing:
        db.add_foreign_keys(missing)
    for name, columns in indexes:
        db[name].create_index(columns, if_not_exists=True)
    for name, columns in fts.items():
        table = db[name]
        fts_name = f"{name}_fts"
        if db[fts_name].exists():
            have = [c for c in db[fts_name].columns_dict]
            if have == columns:
                continue
            table.disable_fts()
        table.enable_fts(columns, create_triggers=True, tokenize="porter")
    for name, sql in views.items():
        have = db.execute("select sql from sqlite_master where type = 'view' and name = ?",
                          [name]).fetchone()
        if not have or sql.strip() not in have[0]:
            db.create_view(name, sql.strip(), replace=True)


def _apply_public_log(db: sqlite_utils.Database) -> None:
    db.execute(_PUBLIC_LOG_SQL)
    have = dict(db.execute("select name, sql from sqlite_master where type = 'trigger' "
                           "and name like ?", [f"{PUBLIC_LOG}_%"]).fetchall())
    for table in PUBLIC_TABLES:
        for event in _LOG_TRIGGERS:
            name, sql = _log_trigger_sql(table, event)
            if have.get(name) == sql:
                continue
            if name in have:
                db.execute(f"drop trigger [{name}]")
            db.execute(sql)


# --- keys -----------------------------------------------------------------

# The one docket-number key is parsers.common.docket_number_key (docket_spider
# still reaches it as ``archive.db.docket_number_key``: import it from parsers.common).


def docket_key(court_id: str, docket_number: str) -> str:
    """A docket's id: ``court/<docket_number_key(number)>`` (``cand/3:20-cv-05910``)."""
    return f"{court_id}/{docket_number_key(docket_number)}"


# --- re-keying dockets made under an older key rule ------------------------


# the tables whose rows' ids are made of their docket's id ("<docket id>#...")
_DOCKET_ROW_TABLES = ("docket_entries", "documents", "parties", "attorneys", "party_attorneys",
                      "entry_versions", "events", "case_checks", "follows", "outbox")


def rekey_dockets(db) -> list[str]:
    """Give every docket whose id is not ``docket_key(court_id, docket_number)``
    (an archive written under an older docket-number rule) that id, and its
    number the key's form, with every row that names it: its entries,
    documents, parties, attorneys and their links (ids and foreign keys), the
    ``changes`` records of those rows and its ``pacer_charges``.

    When the new id is already a docket (one case archived as two), the old
    one is merged into it: a row whose new id is free moves there; a row whose
    new id is taken gives the row there the values it lacks (NULL columns;
    a link's roles are joined; the earliest ``first_seen``, the latest
    ``last_seen``) and is then dropped. Each docket re-keyed is logged, with
    the rows merged. Returns those log lines; run again, it finds nothing to do.
    Call it inside a transaction (:func:`ensure_db_shape` does).
    """
    notes: list[str] = []
    for _ in range(3):  # a merge settles the survivor's number too: one pass does it
        todo = []
        for old_id, court_id, number in db.execute(
                "select id, court_id, docket_number from dockets "
                "where court_id is not null and docket_number is not null").fetchall():
            key = docket_number_key(number)
            if old_id != f"{court_id}/{key}" or number != key:
                todo.append((old_id, f"{court_id}/{key}", key))
        if not todo:
            break
        db.execute("PRAGMA defer_foreign_keys = ON")
        for old_id, new_id, key in todo:
            notes.append(_rekey_docket(db, old_id, new_id, key))
        _rename_in_changes(db, [(old, new) for old, new, _ in todo if old != new])
    for note in notes:
        log.warning("%s", note)
    return notes


def _renamed(row_id: Optional[str], old_id: str, new_id: str) -> Optional[str]:
    """``row_id`` with its docket id ``old_id`` (its start) made ``new_id``."""
    if row_id == old_id:
        return new_id
    if row_id and row_id.startswith(old_id + "#"):
        return new_id + row_id[len(old_id):]
    return row_id


def _rekey_docket(db, old_id: str, new_id: str, key: str) -> str:
    """Move (or merge) one docket and its rows; says what it did."""
    if old_id == new_id:
        db.execute("update dockets set docket_number = ? where id = ?", [key, old_id])
        return f"docket {old_id}: its number is now {key!r}"
    into = bool(db.execute("select 1 from dockets where id = ?", [new_id]).fetchone())
    _move_row(db, "dockets", old_id, new_id, {"docket_number": key})
    moved, merged = 0, []
    for table in _DOCKET_ROW_TABLES:
        refs = [c for c in ("entry_id", "party_id", "attorney_id") if c in TABLES[table]]
        for row_id, *values in db.execute(
                f"select id, {', '.join(['docket_id', *refs])} from [{table}] where docket_id = ?",
                [old_id]).fetchall():
            fields = {"docket_id": new_id}
            fields.update((c, _renamed(v, old_id, new_id)) for c, v in zip(refs, values[1:]))
            if table == "party_attorneys" and row_id == f"{values[1]}|{values[2]}":
                to_id = f"{fields['party_id']}|{fields['attorney_id']}"
            else:
                to_id = _renamed(row_id, old_id, new_id)
            if _move_row(db, table, row_id, to_id, fields):
                merged.append(f"{table} {row_id}")
            else:
                moved += 1
    db.execute("update pacer_charges set docket_id = ? where docket_id = ?", [new_id, old_id])
    if not into:
        return f"docket {old_id} is now {new_id}: {moved} row(s) re-keyed with it"
    return (f"docket {old_id} is now {new_id} (merged into the docket already there): "
            f"{moved} row(s) moved; " + (f"merged into rows already there: {', '.join(merged)}"
                                          if merged else "no row of it was there already"))


def _move_row(db, table: str, row_id: str, to_id: str, fields: dict) -> bool:
    """Give row ``row_id`` of ``table`` the id ``to_id`` and ``fields``; when a
    row ``to_id`` exists (and is another), merge into it and drop this one.
    Returns whether it merged."""
    if to_id == row_id or not db.execute(f"select 1 from [{table}] where id = ?", [to_id]).fetchone():
        sets = dict(fields, id=to_id)
        db.execute(f"update [{table}] set " + ", ".join(f"[{c}] = ?" for c in sets) + " where id = ?",
                   [*sets.values(), row_id])
        return False
    cursor = db.execute(f"select * from [{table}] where id in (?, ?)", [row_id, to_id])
    names = [d[0] for d in cursor.description]
    rows = {row[0]: dict(zip(names, row)) for row in cursor.fetchall()}
    old, new = rows[row_id], rows[to_id]
    gaps = {c: v for c, v in old.items() if c != "id" and c not in fields
            and v is not None and new.get(c) is None}
    if old.get("first_seen") and new.get("first_seen") and old["first_seen"] < new["first_seen"]:
        gaps["first_seen"] = old["first_seen"]
    if old.get("last_seen") and new.get("last_seen") and old["last_seen"] > new["last_seen"]:
        gaps["last_seen"] = old["last_seen"]
    if table == "party_attorneys" and old.get("roles") and new.get("roles"):
        roles = {r for text in (old["roles"], new["roles"]) for r in text.split(", ") if r}
        gaps["roles"] = ", ".join(sorted(roles))
    gaps.update((c, v) for c, v in fields.items() if new.get(c) != v)
    if gaps:
        db.execute(f"update [{table}] set " + ", ".join(f"[{c}] = ?" for c in gaps) + " where id = ?",
                   [*gaps.values(), to_id])
    db.execute(f"delete from [{table}] where id = ?", [row_id])
    return True


def _rename_in_changes(db, dockets: list[tuple[str, str]]) -> None:
    """The ``changes`` records of re-keyed dockets and of their rows (those
    still there and those since dropped) name them by their new ids, as does
    the ``merged`` record of an RSS entry the entry it was merged into: one
    pass over ``changes`` each, however many dockets moved."""
    if not dockets:
        return
    db.execute("create temp table if not exists _rekeyed (old text primary key, new text)")
    db.execute("delete from _rekeyed")
    db.conn.executemany("insert or replace into _rekeyed values (?, ?)", dockets)
    db.execute("update changes set row_id = (select m.new from _rekeyed m where m.old = changes.row_id) "
               "where table_name = 'dockets' and row_id in (select old from _rekeyed)")
    rows = ", ".join(f"'{t}'" for t in _DOCKET_ROW_TABLES)
    for column, which in (("row_id", f"table_name in ({rows})"),
                          ("fields", "table_name = 'docket_entries' and action = 'merged'")):
        # a row's id begins with its docket's, up to the first "#" (a link's id holds two)
        docket = f"substr(changes.{column}, 1, instr(changes.{column}, '#') - 1)"
        db.execute(f"update changes set {column} = (select replace(changes.{column}, m.old || '#', "
                   f"m.new || '#') from _rekeyed m where m.old = {docket}) "
                   f"where {which} and instr({column}, '#') and {docket} in (select old from _rekeyed)")
    db.execute("drop table _rekeyed")


def entry_key(entry: dict) -> str:
    """A stable key for an entry within its docket: its number, else its sequence,
    else its date and description.

    An RSS item without either (``published``: its publication time, not a
    column) is keyed by that time to the second and its description (the
    event names), and ``occurrence`` (the n-th item alike in every respect
    in the same feed, n > 1): two entries of one day are two rows, and the
    same item in a later feed is the same row.
    """
    number = entry.get("entry_number")
    if number not in (None, ""):
        return str(int(number))
    for field in ("pacer_sequence_number", "recap_sequence_number"):
        if entry.get(field) not in (None, ""):
            return f"seq-{entry[field]}"
    digest = hashlib.sha1((entry.get("description") or "").encode()).hexdigest()[:10]
    published = _instant(entry.get("published"))
    if published:
        occurrence = int(entry.get("occurrence") or 1)
        return f"rss-{published}-{digest}" + (f"-{occurrence}" if occurrence > 1 else "")
    return f"{entry.get('date_filed') or 'undated'}-{digest}"


def _instant(value) -> Optional[str]:
    """An ISO datetime as ``YYYYMMDDTHHMMSSZ`` (UTC; naive ones as they are), or None."""
    if not value:
        return None
    text = str(value).strip()
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        digits = re.sub(r"\D", "", text)
        return digits or None
    if moment.tzinfo is not None:
        return moment.astimezone(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return moment.strftime("%Y%m%dT%H%M%S")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _clean(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, (list, dict)):
            value = json.dumps(value, sort_keys=True)
        out[key] = value
    return out


def save_row(db: sqlite_utils.Database, table: str, row: dict,
             crawl_id: Optional[int] = None, keep: Iterable[str] = (),
             clear: Iterable[str] = ()) -> str:
    """Insert or update one row by its ``id``; return added/changed/unchanged.

    Columns whose new value is None are left as they are when the row exists
    (a source that does not know a field does not erase it), as are the
    columns named in ``keep``; columns named in ``clear`` are set to NULL
    when the new value is None (a fact that no longer holds).

    The row and its ``changes`` record are written in one transaction, which
    holds the write lock from the read on: two processes saving the same row
    at once make one row and one "added" record, and lose neither's values.
    """
    with transaction(db):
        return _save_row(db, table, row, crawl_id, keep, set(clear))


def _save_row(db, table, row, crawl_id, keep, clear) -> str:
    row = _clean({k: v for k, v in row.items() if k in TABLES[table]})
    now = _now()
    try:
        existing = db[table].get(row["id"])
    except NotFoundError:
        existing = None
    if existing is None:
        if "last_seen" in TABLES[table]:
            row["first_seen"] = row["last_seen"] = now
        db[table].insert(row, pk="id", alter=True)
        _record(db, crawl_id, table, row["id"], "added", sorted(k for k in row if k not in VOLATILE))
        return "added"
    changed = {
        key: value for key, value in row.items()
        if key not in VOLATILE and key != "id" and key not in keep
        and (value is not None or key in clear) and existing.get(key) != value
    }
    if changed:
        if "last_seen" in TABLES[table]:
            changed["last_seen"] = now
        db[table].update(row["id"], changed)
        _record(db, crawl_id, table, row["id"], "changed", sorted(k for k in changed if k not in VOLATILE))
        return "changed"
    return "unchanged"


def _record(db, crawl_id, table, row_id, action, fields) -> None:
    if crawl_id is None:
        return
    db["changes"].insert({"crawl_id": crawl_id, "at": _now(), "table_name": table,
                          "row_id": row_id, "action": action, "fields": ",".join(fields)})


# --- save_* ---------------------------------------------------------------

def save_docket(db, docket: dict, crawl_id: Optional[int] = None,
                provisional: bool = False) -> tuple[str, str]:
    """Save one docket; ``provisional`` (RSS: a case name cut short, a feed for
    a source): its case name and source do not overwrite another source's."""
    row = dict(docket)
    if not row.get("court_id") or not row.get("docket_number"):
        raise ValueError(f"a docket needs its court and number (got {row.get('court_id')!r}, "
                         f"{row.get('docket_number')!r})")
    row["docket_number"] = docket_number_key(row["docket_number"])
    row["id"] = docket_key(row["court_id"], row["docket_number"])
    keep = ()
    if provisional:
        found = db.execute("select source from dockets where id = ?", [row["id"]]).fetchone()
        if found and found[0] != row.get("source"):
            keep = ("case_name", "source")
    return row["id"], save_row(db, "dockets", row, crawl_id, keep=keep)


# What a provisional source (RSS: event names, a publication time) says of an
# entry that does not overwrite what another source said.
PROVISIONAL_FIELDS = ("description", "date_filed", "date_entered", "source")


def _entry_row(entry: dict) -> tuple[dict, list[str]]:
    row = dict(entry)
    doc_ids = [str(d) for d in row.pop("pacer_doc_ids", None) or [] if d not in (None, "")]
    if not row.get("court_id") or not row.get("docket_number"):
        raise ValueError(f"an entry needs its docket's court and number (got "
                         f"{row.get('court_id')!r}, {row.get('docket_number')!r})")
    docket_id = docket_key(row["court_id"], row.pop("docket_number"))
    row["docket_id"] = docket_id
    row["entry_key"] = entry_key(row)
    row["id"] = f"{docket_id}#{row['entry_key']}"
    return row, doc_ids


def _known_entry(db, row: dict, doc_ids: list[str]) -> Optional[dict]:
    """The archived row that is this entry: the one with its id, else the one
    entry of the docket that shares its PACER sequence number or one of its
    documents' PACER ids (when the entry has a number, an unnumbered row only:
    an entry first known from an RSS item without its number)."""
    found = db.execute("select id, entry_key, entry_number, source from docket_entries "
                       "where id = ?", [row["id"]]).fetchone()
    if found:
        return dict(zip(("id", "entry_key", "entry_number", "source"), found))
    numbered = row.get("entry_number") not in (None, "")
    unnumbered = " and e.entry_number is null" if numbered else ""
    ids = set()
    seq = row.get("pacer_sequence_number")
    if seq not in (None, ""):
        ids.update(r[0] for r in db.execute(
            "select e.id from docket_entries e where e.docket_id = ? and "
            f"e.pacer_sequence_number = ?{unnumbered}", [row["docket_id"], str(seq)]))
    if doc_ids:
        marks = ", ".join("?" for _ in doc_ids)
        ids.update(r[0] for r in db.execute(
            "select distinct e.id from documents d join docket_entries e on e.id = d.entry_id "
            f"where d.docket_id = ? and d.pacer_doc_id in ({marks}){unnumbered}",
            [row["docket_id"], *doc_ids]))
    if len(ids) != 1:
        return None
    found = db.execute("select id, entry_key, entry_number, source from docket_entries "
                       "where id = ?", [ids.pop()]).fetchone()
    return dict(zip(("id", "entry_key", "entry_number", "source"), found))


def _rekey_entry(db, old_id: str, new_id: str, new_key: str) -> None:
    """An entry archived without its number gets it: its row, and its documents'
    rows, take the ids a numbered entry has (its versions and events follow)."""
    db.execute("update docket_entries set id = ?, entry_key = ? where id = ?",
               [new_id, new_key, old_id])
    for (doc_id,) in db.execute("select id from documents where entry_id = ?", [old_id]).fetchall():
        new_doc_id = new_id + doc_id[len(old_id):]
        if db.execute("select 1 from documents where id = ?", [new_doc_id]).fetchone():
            # the numbered entry's row of that document exists: the old one is
            # dropped unless it holds a file
            db.execute("delete from documents where id = ? and file_path is null", [doc_id])
            db.execute("update documents set entry_id = ? where id = ?", [new_id, doc_id])
            continue
        db.execute("update documents set id = ?, entry_id = ? where id = ?",
                   [new_doc_id, new_id, doc_id])
    _entry_moved(db, old_id, new_id)


def _entry_moved(db, old_id: str, new_id: str) -> None:
    """An entry's row is now ``new_id`` (re-keyed, or an RSS row absorbed into
    it): its versions and alerts follow it; its events are read again."""
    db.execute("update entry_versions set entry_id = ? where entry_id = ?", [new_id, old_id])
    db.execute("update outbox set entry_id = ? where entry_id = ?", [new_id, old_id])
    db.execute("delete from events where entry_id = ?", [old_id])


# --- issue 20: versions, kinds, the fullest text, events -------------------

# Not columns: what save_entry keeps in the entry's version row.
VERSION_FIELDS = ("version_raw", "version_url")
# Sources whose entries are RSS items (archive/load.py reads them as such): their
# version of an entry holds event names, not a text.
RSS_SOURCES = ("pacer_rss", "import:rss")


def _text_size(text) -> int:
    return len(" ".join(str(text or "").split()))


def fuller(new, old) -> bool:
    """Whether text ``new`` says more than ``old`` (the longer, spaces aside)."""
    return _text_size(new) > _text_size(old)


def _kind_of(description, event_names) -> Optional[str]:
    if not (description or event_names):
        return None
    return entry_kind(description or "", event_names or None)


def save_version(db, entry_id: str, row: dict, version: dict, source_key: str) -> str:
    """Record what one source said of an entry (see ``entry_versions``): a
    version seen again gets its ``last_seen`` and count moved on. Returns its id."""
    raw = version.get("version_raw")
    if raw is not None and not isinstance(raw, str):
        raw = json.dumps(raw, sort_keys=True, default=str)
    source = row.get("source") or "unknown"
    content = json.dumps([row.get("entry_number"), row.get("pacer_sequence_number"),
                          row.get("date_filed"), row.get("description"), row.get("event_names")],
                         default=str)
    digest = hashlib.sha1(content.encode()).hexdigest()
    # the docket's id first (as every docket row's id: the public copy, re-keying),
    # then what the source said, never the entry's own row id
    version_id = f"{row['docket_id']}#v-" + hashlib.sha1(
        f"{row['docket_id']}|{source}|{source_key}|{digest}".encode()).hexdigest()[:24]
    now = _now()
    db.execute(
        "insert into entry_versions (id, entry_id, docket_id, court_id, source, source_key, "
        "entry_number, pacer_sequence_number, date_filed, description, event_names, url, raw, "
        "first_seen, last_seen, times_seen) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
        "on conflict(id) do update set last_seen = excluded.last_seen, "
        "times_seen = coalesce(times_seen, 0) + 1, entry_id = excluded.entry_id, "
        "url = coalesce(excluded.url, url), raw = coalesce(excluded.raw, raw)",
        [version_id, entry_id, row["docket_id"], row.get("court_id"), source, source_key,
         row.get("entry_number"), row.get("pacer_sequence_number"), row.get("date_filed"),
         row.get("description"), row.get("event_names"), version.get("version_url"), raw,
         now, now])
    return version_id


def refresh_events(db, entry_id: str, settle: bool = True) -> int:
    """Read an entry's hearings and deadlines again (parsers.schedule) into
    ``events``, then settle which dates of its docket later ones supersede.
    Returns how many events the entry has."""
    found = db.execute("select docket_id, court_id, description, date_filed, entry_number, "
                       "source from docket_entries where id = ?", [entry_id]).fetchone()
    had = db.execute("select count(*) from events where entry_id = ?", [entry_id]).fetchone()[0]
    if found is None:
        if had:
            db.execute("delete from events where entry_id = ?", [entry_id])
        return 0
    docket_id, court_id, description, date_filed, number, source = found
    events = []
    if description and source not in RSS_SOURCES:  # RSS: event names, no text
        try:
            events = events_in(description, date_filed)
        except Exception as exc:  # noqa: BLE001 - a text the reader chokes on costs its events
            log.warning("Could not read the dates of entry %s: %s", entry_id, exc)
    rows = [{"id": f"{entry_id}~{n}", "entry_id": entry_id, "docket_id": docket_id,
             "court_id": court_id, "position": n, "kind": ev.get("kind"), "what": ev.get("what"),
             "date": ev.get("date"), "time": ev.get("time"), "place": ev.get("place"),
             "status": ev.get("status"),
             "supersedes_date": (ev.get("supersedes") or {}).get("date"),
             "supersedes_time": (ev.get("supersedes") or {}).get("time"),
             "entry_date": str(date_filed or "")[:10] or None, "entry_number": number}
            for n, ev in enumerate(events, 1)]
    if not rows and not had:
        return 0
    old = {r[0]: r for r in db.execute(
        "select id, kind, what, date, time, place, status, supersedes_date, supersedes_time, "
        "entry_date, entry_number from events where entry_id = ?", [entry_id]).fetchall()}
    new_ids = {r["id"] for r in rows}
    for gone in set(old) - new_ids:
        db.execute("delete from events where id = ?", [gone])
    columns = ("kind", "what", "date", "time", "place", "status", "supersedes_date",
               "supersedes_time", "entry_date", "entry_number")
    for row in rows:
        have = old.get(row["id"])
        if have is not None and tuple(have[1:]) == tuple(row[c] for c in columns):
            continue
        db.execute("insert or replace into events (id, entry_id, docket_id, court_id, position, "
                   + ", ".join(columns) + ", superseded_by) values (?, ?, ?, ?, ?, "
                   + ", ".join("?" for _ in columns) + ", null)",
                   [row["id"], entry_id, docket_id, court_id, row["position"],
                    *(row[c] for c in columns)])
    if settle:
        settle_events(db, docket_id)
    return len(rows)


def _what_key(what) -> str:
    words = re.sub(r"[^a-z ]+", " ", str(what or "").casefold()).split()
    return " ".join(w for w in words if w not in ("the", "a", "an", "set", "hearing", "due"))


def settle_events(db, docket_id: str) -> int:
    """Mark the events of a docket that later ones supersede (``superseded_by``).

    In the order the entries were filed: an event that is ``reset`` or
    ``continued`` supersedes the earlier event of the same kind on the date it
    names (``supersedes_date``), else the latest earlier event of the same kind
    and name still standing; a ``vacated`` one supersedes the earlier events of
    its kind on its date (and itself stands for no date to come). Returns how
    many rows changed."""
    rows = db.execute(
        "select id, kind, what, date, time, status, supersedes_date, supersedes_time, "
        "superseded_by from events where docket_id = ? order by coalesce(entry_date, ''), "
        "coalesce(entry_number, 0), entry_id, position", [docket_id]).fetchall()
    result: dict[str, Optional[str]] = {r[0]: None for r in rows}
    standing: list[tuple] = []
    for row in rows:
        event_id, kind, what, date, time_, status, sup_date, sup_time, _ = row
        targets = []
        if status in ("reset", "continued", "vacated"):
            wanted = sup_date or (date if status == "vacated" else None)
            if wanted:
                same_day = [s for s in standing if s[1] == kind and s[3] == wanted
                            and (not sup_time or not s[4] or s[4] == sup_time)]
                named = [s for s in same_day if _what_key(s[2]) == _what_key(what)]
                targets = named or same_day
            else:
                named = [s for s in standing if s[1] == kind and _what_key(s[2]) == _what_key(what)
                         and s[3] != date]
                targets = named[-1:]
        for target in targets:
            result[target[0]] = event_id
            standing.remove(target)
        if status != "vacated":
            standing.append(row)
    changed = 0
    for row in rows:
        if row[8] != result[row[0]]:
            db.execute("update events set superseded_by = ? where id = ?", [result[row[0]], row[0]])
            changed += 1
    return changed


def save_entry(db, entry: dict, crawl_id: Optional[int] = None,
               provisional: bool = False) -> tuple[str, str]:
    """Save one entry; return (its row id, added/changed/unchanged).

    The row that is this entry is found as :func:`_known_entry` says: an
    entry first archived without its number (an RSS item) and now saved with
    it keeps its row, re-keyed to the number; an unnumbered entry the archive
    holds numbered is that row. Optional ``pacer_doc_ids`` (not a column): its
    documents' PACER ids, to find it by. ``provisional``: what this source
    says of ``PROVISIONAL_FIELDS`` does not overwrite what another source said.

    Issue 20: what the source said is kept as a version of the entry
    (:func:`save_version`; optional ``version_raw`` and ``version_url``, not
    columns: the record as the source gave it and where). The entry shows the
    fullest text: a description shorter than the one it has never replaces
    it. Its ``kind`` (parsers.kinds) follows its text and event names, and its
    hearings and deadlines (``events``) are read again when its text changes.
    """
    row, doc_ids = _entry_row(entry)
    version = {name: row.pop(name, None) for name in VERSION_FIELDS}
    source_key = row["entry_key"]
    with transaction(db):
        known = _known_entry(db, row, doc_ids)
        moved = False
        if known is not None and known["id"] != row["id"]:
            if row.get("entry_number") not in (None, "") and known["entry_number"] is None:
                _rekey_entry(db, known["id"], row["id"], row["entry_key"])
                moved = True
            else:
                row["id"], row["entry_key"] = known["id"], known["entry_key"]
        keep = set()
        if provisional and known is not None and known["source"] != row.get("source"):
            keep.update(PROVISIONAL_FIELDS + ("event_names", "kind"))
        have = db.execute("select description, event_names from docket_entries where id = ?",
                          [row["id"]]).fetchone()
        old_text, old_events = have if have else (None, None)
        if have and "description" not in keep and old_text and row.get("description") \
                and fuller(old_text, row["description"]):
            keep.add("description")  # a shorter text never replaces a fuller one
        text = old_text if ("description" in keep or not row.get("description")) \
            else row["description"]
        if row.get("event_names") in (None, ""):
            row.pop("event_names", None)
        events = row.get("event_names") or old_events
        row["kind"] = _kind_of(text, events)
        action = save_row(db, "docket_entries", row, crawl_id, keep=tuple(keep))
        save_version(db, row["id"], row, version, source_key)
        if action == "added" or moved or text != old_text:
            refresh_events(db, row["id"])
        return row["id"], action


def document_key(document: dict) -> tuple[str, str, str]:
    """(docket id, entry id, document id) for a document dict."""
    docket_id = docket_key(document["court_id"], document["docket_number"])
    key_source = dict(document)
    if key_source.get("entry_number") in (None, "") and key_source.get("document_number"):
        try:
            key_source["entry_number"] = int(key_source["document_number"])
        except ValueError:
            pass
    # ``entry_id`` (as save_entry returned it) when the caller knows it
    entry_id = document.get("entry_id") or f"{docket_id}#{entry_key(key_source)}"
    return docket_id, entry_id, f"{entry_id}/{int(document.get('attachment_number') or 0)}"


def save_document(db, document: dict, crawl_id: Optional[int] = None,
                  provisional: bool = False) -> tuple[str, str]:
    """Save one document; ``provisional`` as for :func:`save_entry` (its
    description and source do not overwrite another source's)."""
    row = dict(document)
    docket_id, entry_id, doc_id = document_key(row)
    row.update(docket_id=docket_id, entry_id=entry_id, id=doc_id)
    keep = ()
    if provisional:
        found = db.execute("select source from documents where id = ?", [doc_id]).fetchone()
        if found and found[0] != row.get("source"):
            keep = ("description", "source")
    return doc_id, save_row(db, "documents", _flatten_stamp(row), crawl_id,
                            clear=_stale_error(row), keep=keep)


def _stale_error(row: dict) -> tuple[str, ...]:
    """A new status without an error (a document recovered on a rerun: it has
    its file now, status ok) clears the error a former status left."""
    if row.get("status") is not None and row.get("error") is None:
        row["error"] = None
        return ("error",)
    return ()


def party_key(docket_id: str, name: str) -> str:
    return f"{docket_id}#{' '.join(name.split()).casefold()}"


def save_party(db, party: dict, crawl_id: Optional[int] = None) -> tuple[str, list[str]]:
    row = dict(party)
    docket_id = docket_key(row["court_id"], row.pop("docket_number"))
    attorneys = row.pop("attorneys", None) or []
    row.update(docket_id=docket_id, id=party_key(docket_id, row["name"]))
    with transaction(db):  # the party with its attorneys and links, or nothing
        actions = [save_row(db, "parties", row, crawl_id)]
        for attorney in attorneys:
            atty = {"id": party_key(docket_id, attorney["name"]), "docket_id": docket_id,
                    "name": attorney["name"], "contact_raw": attorney.get("contact"),
                    "source": row.get("source")}
            actions.append(save_row(db, "attorneys", atty, crawl_id))
            actions.append(_save_link(db, docket_id, row["id"], atty["id"],
                                      attorney.get("roles"), crawl_id))
    return row["id"], actions


def save_attorney(db, attorney: dict, crawl_id: Optional[int] = None) -> tuple[str, list[str]]:
    row = dict(attorney)
    docket_id = docket_key(row["court_id"], row.pop("docket_number"))
    parties = row.pop("parties", None) or []
    row.update(docket_id=docket_id, id=party_key(docket_id, row["name"]))
    with transaction(db):  # the attorney with its links, or nothing
        actions = [save_row(db, "attorneys", row, crawl_id)]
        for party in parties:
            actions.append(_save_link(db, docket_id, party_key(docket_id, party["party"]),
                                      row["id"], party.get("roles"), crawl_id))
    return row["id"], actions


def _save_link(db, docket_id, party_id, attorney_id, roles, crawl_id) -> str:
    roles = sorted(set(roles or []))
    return save_row(db, "party_attorneys", {
        "id": f"{party_id}|{attorney_id}", "docket_id": docket_id, "party_id": party_id,
        "attorney_id": attorney_id, "roles": ", ".join(roles) if roles else None,
    }, crawl_id)


# --- crawls ---------------------------------------------------------------

def start_crawl(db, spider: str, court_id: Optional[str], docket_number: Optional[str],
                args: dict, pid: Optional[int] = None, host: Optional[str] = None) -> int:
    """Record a crawl as ``running`` with its process's pid and host (this
    process's, unless the archive writer records another's).

    First, any crawl still ``running`` whose process is gone (killed: it
    never wrote its end) is marked ``killed``.
    """
    with transaction(db):
        mark_killed_crawls(db)
        table = db["crawls"]
        table.insert({"spider": spider, "court_id": court_id, "docket_number": docket_number,
                      "args": json.dumps(args, sort_keys=True), "started": _now(),
                      "status": "running", "pid": pid or os.getpid(),
                      "host": host or socket.gethostname()})
        return table.last_pk


def mark_killed_crawls(db) -> list[int]:
    """Mark ``killed`` the ``running`` crawls of this host whose process is gone.

    A crawl of another host, or one recorded without a pid (by an older
    version), cannot be checked and is left as it is. Returns the ids marked.
    """
    host = socket.gethostname()
    marked = []
    with transaction(db):
        for crawl in db.execute_returning_dicts(
                "select id, pid, host, started from crawls where status = 'running' "
                "and pid is not null and host = ?", [host]):
            if process_alive(crawl["pid"], crawl["started"]):
                continue
            db["crawls"].update(crawl["id"], {
                "status": "killed", "message":
                f"its process ({crawl['pid']} on {host}) ended without finishing the crawl "
                f"(killed or crashed); noticed by process {os.getpid()} at {_now()}"})
            marked.append(crawl["id"])
    return marked


def finish_crawl(db, crawl_id: int, status: str, counts: dict, message: str = "") -> dict:
    with transaction(db):
        # rows: a row this crawl added and then filled in (a document's file and
        # text after its entry's record) is one row added, not also one changed
        actions = {row["action"]: row["n"] for row in db.query(
            "select c.action, count(*) as n from (select distinct table_name, row_id, action "
            "from changes where crawl_id = ?) c left join (select distinct table_name, row_id "
            "from changes where crawl_id = ? and action = 'added') a on c.action = 'changed' "
            "and a.table_name = c.table_name and a.row_id = c.row_id where a.row_id is null "
            "group by c.action", [crawl_id, crawl_id])}
        row = dict(counts)
        row.update(finished=_now(), status=status, message=message or None,
                   rows_added=actions.get("added", 0), rows_changed=actions.get("changed", 0))
        db["crawls"].update(crawl_id, {k: v for k, v in row.items() if k in TABLES["crawls"]})
        finished = db["crawls"].get(crawl_id)
        prune_public_log(db)
    tidy_fts(db, crawl_id)
    return finished


def prune_public_log(db, keep_seconds: int = PUBLIC_LOG_DAYS * 86400) -> int:
    """Drop the public log's rows older than ``keep_seconds``; returns how many."""
    return db.execute(f"delete from [{PUBLIC_LOG}] where at < cast(strftime('%s', 'now') "
                      "as integer) - ?", [keep_seconds]).rowcount


# An FTS index is rewritten as one segment (``optimize``) when a crawl has
# touched at least this share of its table's rows: a big crawl leaves the
# index as a release has it (one segment: searches read one b-tree per word,
# about 15% faster on the bench's 20,000 documents), while a small crawl on a
# big archive leaves FTS5's own automerge to do its bounded work.
FTS_OPTIMIZE_SHARE = 0.25


def _fts_segments(db, fts_name: str) -> int:
    """The number of segments in an FTS5 index: the second varint of its
    structure record (``%_data`` row 10), after a 4-byte cookie."""
    row = db.execute(f"select block from [{fts_name}_data] where id = 10").fetchone()
    if not row or not row[0]:
        return 0
    blob, i, values = row[0], 4, []
    while len(values) < 2 and i < len(blob):
        value = 0
        for _ in range(9):
            byte = blob[i]
            i += 1
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        values.append(value)
    return values[1] if len(values) == 2 else 0


def tidy_fts(db, crawl_id: int) -> list[str]:
    """Optimize each FTS index whose table the crawl changed by at least
    FTS_OPTIMIZE_SHARE of its rows (and that has more than one segment);
    returns the indexes optimized."""
    touched = {row["table_name"]: row["n"] for row in db.query(
        "select table_name, count(distinct row_id) as n from changes where crawl_id = ? "
        "and action in ('added', 'changed') group by table_name", [crawl_id])}
    done = []
    for table in FTS:
        fts_name = f"{table}_fts"
        if not touched.get(table) or not db[fts_name].exists():
            continue
        rows = db.execute(f"select count(*) from [{table}]").fetchone()[0]
        if touched[table] < FTS_OPTIMIZE_SHARE * rows or _fts_segments(db, fts_name) < 2:
            continue
        optimize_fts(db, fts_name)
        done.append(fts_name)
    return done


def optimize_fts(db, fts_name: str) -> None:
    """Merge an FTS5 index into one segment (FTS5's ``optimize``)."""
    with transaction(db):
        db.execute(f"insert into [{fts_name}]([{fts_name}]) values('optimize')")


# PACER's ledger (docket_spider/purchases.py). A purchase is recorded as it
# goes: ``started`` (handed to the HTTP client, not on the wire yet), ``sent``
# (its bytes are going to PACER), ``answered`` (PACER's answer is arriving: it
# billed it), then settled: ``charged`` or ``free`` (PACER's figure in
# ``pacer_cost``; ``answer_kept`` says whether what it bought was kept),
# ``not_billed`` (an error answer, or a request that never left), or
# ``unknown`` (it left and no answer came: PACER may have billed it). Rows that
# only price a purchase: ``would_buy`` (no budget given), ``over_budget``.
# Older archives may hold ``interrupted`` (read as ``unknown``) and ``failed``.
LEDGER_STATUSES = ("would_buy", "over_budget", "started", "sent", "answered", "charged", "free",
                   "not_billed", "unknown", "interrupted", "failed")
UNKNOWN = ("unknown", "interrupted")
IN_FLIGHT = ("started", "sent", "answered")
# What counts against a budget: what PACER billed, what it may be billing now,
# and what it may have billed for a request whose answer never came.
COMMITTED = ("charged", "free") + IN_FLIGHT + UNKNOWN


def save_charge(db, charge: dict) -> int:
    """Record one PACER purchase (or one it would have made: status ``would_buy``).

    ``cost`` is our estimate from PACER's fee rules; ``pacer_cost`` is PACER's
    own figure when the page shows one. Never holds credentials or cookies.
    With ``ledger_id`` the purchase's ``started`` row is settled instead.
    """
    row = {k: v for k, v in charge.items() if k in TABLES["pacer_charges"] and k != "id"}
    if row.get("docket_id") is None and row.get("court_id") and charge.get("docket_number"):
        row["docket_id"] = docket_key(row["court_id"], charge["docket_number"])
    ledger_id = charge.get("ledger_id")
    with transaction(db):
        if ledger_id is not None:
            update = {k: v for k, v in row.items() if v is not None and k not in ("crawl_id", "at")}
            db["pacer_charges"].update(int(ledger_id), update)
            if row.get("crawl_id") is not None:  # the crawl the purchase was sent in keeps it
                db.execute("update pacer_charges set crawl_id = ? where id = ? and crawl_id is null",
                           [row["crawl_id"], int(ledger_id)])
            return int(ledger_id)
        row.setdefault("at", _now())
        table = db["pacer_charges"]
        table.insert(row)
        return table.last_pk


def start_purchase(db, charge: dict) -> int:
    """The ``started`` row of a purchase about to be sent; its id settles it later."""
    return save_charge(db, dict(charge, status="started", ledger_id=None))


def settle_purchase(db, ledger_id: int, status: str, **fields) -> None:
    """A purchase's answer (or its absence): ``status`` and PACER's figures."""
    save_charge(db, dict(fields, status=status, ledger_id=ledger_id))


def earlier_purchase(db, purchase_key: str) -> Optional[dict]:
    """The latest row of a purchase whose outcome is ``unknown`` (PACER may
    have billed it) or ``charged``/``free`` (PACER billed it), if any."""
    return next(iter(db.query(
        "select * from pacer_charges where purchase_key = ? and status in "
        "('unknown', 'interrupted', 'charged', 'free') order by id desc limit 1",
        [purchase_key])), None)


def pacer_charge(db, ledger_id) -> Optional[dict]:
    """One row of the PACER ledger."""
    return next(iter(db.query("select * from pacer_charges where id = ?", [ledger_id])), None)


def purchases_in_flight(db) -> list[dict]:
    """Purchases not settled yet (``started``, ``sent``, ``answered``)."""
    return list(db.query("select * from pacer_charges where status in ('started', 'sent', "
                         "'answered') order by id"))


def spent(db, crawl_id: Optional[int] = None) -> float:
    """Dollars charged (status ``charged``), in one crawl or in all."""
    sql = "select coalesce(sum(coalesce(pacer_cost, cost)), 0) from pacer_charges where status = 'charged'"
    params = []
    if crawl_id is not None:
        sql += " and crawl_id = ?"
        params.append(crawl_id)
    return float(db.execute(sql, params).fetchone()[0])


def committed(db, job_id: Optional[str] = None, since: Optional[str] = None,
              docket_id: Optional[str] = None) -> float:
    """Dollars that count against a budget (``COMMITTED``): in one job (a crawl
    and its resumptions), since a time (``at >= since``, ISO), for one case
    (``docket_id``), or in all."""
    marks = ", ".join("?" for _ in COMMITTED)
    sql = ("select coalesce(sum(coalesce(pacer_cost, cost)), 0) from pacer_charges "
           f"where status in ({marks})")
    params: list = list(COMMITTED)
    if job_id is not None:
        sql += " and job_id = ?"
        params.append(job_id)
    if since is not None:
        sql += " and at >= ?"
        params.append(since)
    if docket_id is not None:
        sql += " and docket_id = ?"
        params.append(docket_id)
    return float(db.execute(sql, params).fetchone()[0])


# --- the archive writer (archive/writer.py) ------------------------------------

# Its own tables, made by the writer only: where it is in each stream (moved in
# the transaction of what it applied, so an item is applied once), the answers
# it owes (kept until sent: a writer killed between its commit and its answer
# sends them when it starts again) and the messages it could not apply.
WRITER_TABLES = {
    "writer_position": {"id": str, "last_id": str, "applied": int, "at": str},
    "writer_replies": {"id": str, "reply_key": str, "answer": str},
    "writer_rejects": {"id": str, "stream": str, "message": str, "error": str, "at": str},
}


def ensure_writer_shape(db) -> None:
    with transaction(db):
        for name, columns in WRITER_TABLES.items():
            if not db[name].exists():
                db[name].create(columns, pk="id", not_null={"id"})


def writer_position(db, stream: str) -> str:
    """The last stream id the writer applied (``0-0``: none)."""
    row = db.execute("select last_id from writer_position where id = ?", [stream]).fetchone()
    return row[0] if row else "0-0"


def move_writer(db, stream: str, last_id: str, applied: int,
                replies: Iterable[tuple[str, str, str]] = (),
                rejects: Iterable[tuple[str, str, str]] = ()) -> None:
    """Inside the writer's transaction: its new position, the answers it owes
    (``(entry id, reply key, JSON)``) and the messages it rejected
    (``(entry id, message JSON, error)``)."""
    db.execute("insert into writer_position (id, last_id, applied, at) values (?, ?, ?, ?) "
               "on conflict(id) do update set last_id = excluded.last_id, "
               "applied = coalesce(applied, 0) + excluded.applied, at = excluded.at",
               [stream, last_id, applied, _now()])
    db.conn.executemany("insert or replace into writer_replies (id, reply_key, answer) values (?, ?, ?)",
                   list(replies))
    db.conn.executemany("insert or replace into writer_rejects (id, stream, message, error, at) "
                   "values (?, ?, ?, ?, ?)", [(i, stream, m, e, _now()) for i, m, e in rejects])


def owed_replies(db) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in db.execute(
        "select id, reply_key, answer from writer_replies order by id").fetchall()]


def replies_sent(db, ids: Iterable[str]) -> None:
    ids = list(ids)
    if ids:
        with transaction(db):
            db.conn.executemany("delete from writer_replies where id = ?", [(i,) for i in ids])


def add_crawl_tally(db, crawl_id: int, unchanged: int = 0, bad: int = 0) -> None:
    """Inside the writer's transaction: rows left unchanged and bad records of
    a crawl whose items it applied (the crawl cannot count them itself)."""
    db.execute("update crawls set rows_unchanged = coalesce(rows_unchanged, 0) + ?, "
               "bad_records = coalesce(bad_records, 0) + ? where id = ?",
               [unchanged, bad, crawl_id])


def crawl_row(db, crawl_id: int) -> Optional[dict]:
    return next(iter(db.query("select * from crawls where id = ?", [crawl_id])), None)


def file_sha256(path: str) -> str:
    """The SHA-256 of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extraction_fields(result: dict) -> dict:
    """A document's fields from ``parsers.pdf.extract``'s result."""
    pages = result.get("pages") or []
    ocr_pages = [str(p.get("number")) for p in pages if p.get("ocr")]
    redactions = result.get("bad_redactions") or []
    fields = {
        "text": result.get("text"),
        "clean_text": result.get("clean_text") or result.get("text"),
        "status": result.get("status") or "error",
        "error": result.get("error"),
        "extracted_by_ocr": result.get("extracted_by_ocr"),
        "ocr_pages": ",".join(ocr_pages) or None,
        "stamp": result.get("stamp"),
        "bad_redactions": ",".join(str(p) for p in redactions) or None,
        "extractor_version": result.get("extractor_version"),
    }
    if result.get("page_count") is not None:
        fields["page_count"] = result["page_count"]
    return fields


def _flatten_stamp(row: dict) -> dict:
    stamp = row.pop("stamp", None) or {}
    for field in ("case_number", "document_number", "attachment_number", "date_filed"):
        if stamp.get(field) is not None:
            row[f"stamp_{field}"] = str(stamp[field])
    return row


def save_extraction(db, doc_id: str, fields: dict, sha256: Optional[str] = None,
                    crawl_id: Optional[int] = None) -> str:
    """Store a new extraction of an archived document's file."""
    row = _flatten_stamp(dict(fields, id=doc_id))
    if sha256:
        row["sha256"] = sha256
    # an error message that no longer applies must go, not survive as "unchanged"
    clear = ("error",) if row.get("error") is None else ()
    row["error"] = row.get("error")
    return save_row(db, "documents", row, crawl_id, clear=clear)


def documents_to_extract(db, version: str, force: bool = False) -> list[dict]:
    """Stored documents whose text is missing or was made by another extractor version."""
    sql = "select id, file_path, sha256, extractor_version from documents where file_path is not null"
    if not force:
        sql += " and (extractor_version is null or extractor_version != ? or status is null)"
        return list(db.query(sql + " order by id", [version]))
    return list(db.query(sql + " order by id"))


def document_state(db, doc_id: str) -> Optional[dict]:
    """What the archive already knows of a document's file and its extraction."""
    try:
        row = db["documents"].get(doc_id)
    except NotFoundError:
        return None
    return {k: row.get(k) for k in ("file_path", "sha256", "extractor_version", "status",
                                    "error", "page_count")}


# --- PACER spiders: what the archive already has (free first) ---------------

def find_docket(db, court_id: str, docket_number: Optional[str] = None,
                pacer_case_id: Optional[str] = None) -> Optional[dict]:
    """The archived docket of a case, by docket number or PACER case id."""
    if docket_number:
        try:
            return dict(db["dockets"].get(docket_key(court_id, docket_number)))
        except NotFoundError:
            pass
    if pacer_case_id:
        rows = list(db.query("select * from dockets where court_id = ? and pacer_case_id = ? "
                             "limit 1", [court_id, str(pacer_case_id)]))
        if rows:
            return rows[0]
    return None


def last_entry(db, docket_id: str, exclude_sources: Iterable[str] = ("pacer_rss",)) -> Optional[dict]:
    """The latest entry the archive has for a docket: highest date filed, then number.

    Entries known only from ``exclude_sources`` do not count: an RSS item's
    date is when it was published, not when it was filed.
    Returns ``{date_filed, entry_number, max_entry_number, entries}`` or None.
    """
    excluded = list(exclude_sources)
    marks = ", ".join("?" for _ in excluded) or "''"
    row = next(iter(db.query(
        "select max(date_filed) as date_filed, max(entry_number) as max_entry_number, "
        "count(*) as entries from docket_entries where docket_id = ? "
        f"and coalesce(source, '') not in ({marks})", [docket_id, *excluded])), None)
    if not row or not row["entries"]:
        return None
    return {"date_filed": row["date_filed"], "entry_number": row["max_entry_number"],
            "max_entry_number": row["max_entry_number"], "entries": row["entries"]}


def document_stored(db, court_id: str, pacer_doc_id: Optional[str] = None,
                    doc_id: Optional[str] = None) -> bool:
    """Whether the archive already holds a file for a document."""
    if doc_id:
        try:
            if db["documents"].get(doc_id).get("file_path"):
                return True
        except NotFoundError:
            pass
    if pacer_doc_id:
        rows = list(db.query("select 1 from documents where court_id = ? and pacer_doc_id = ? "
                             "and file_path is not null limit 1", [court_id, str(pacer_doc_id)]))
        return bool(rows)
    return False


def dockets_in_court(db, court_id: str) -> list[dict]:
    """Every archived docket of a court (id, docket_number, pacer_case_id)."""
    return list(db.query("select id, docket_number, pacer_case_id, case_name from dockets "
                         "where court_id = ? order by id", [court_id]))


def _words(text) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", str(text or "")).casefold().split())


def absorb_provisional_entries(db, docket_id: str, sources: Iterable[str],
                               crawl_id: Optional[int] = None) -> int:
    """Drop the unnumbered rows of provisional ``sources`` (RSS items without a
    number or document) that one of the docket's numbered entries (from a
    docket report) now stands for; returns how many.

    Decided only when it is one to one: exactly one numbered entry not from
    those sources, entered (or filed) on the item's publication day or the day
    before (the feed's clock is UTC, the court's is behind it), whose text
    begins with one of the item's event names and whose sequence number is
    not another's, and no other such item matching that entry. Anything less
    sure is left as it is: a duplicate row costs less than a lost entry.
    """
    sources = list(sources)
    marks = ", ".join("?" for _ in sources) or "''"
    provisional = db.execute(
        "select id, date_filed, description, pacer_sequence_number from docket_entries e "
        f"where docket_id = ? and entry_number is null and source in ({marks}) and not exists "
        "(select 1 from documents d where d.entry_id = e.id)", [docket_id, *sources]).fetchall()
    if not provisional:
        return 0
    numbered = db.execute(
        "select id, date_filed, date_entered, description, pacer_sequence_number "
        "from docket_entries where docket_id = ? and entry_number is not null "
        f"and coalesce(source, '') not in ({marks})", [docket_id, *sources]).fetchall()
    matches: dict[str, list[str]] = {}
    claimed: dict[str, int] = {}
    for row_id, day, description, seq in provisional:
        try:
            published = _dt.date.fromisoformat(str(day)[:10])
        except ValueError:
            continue
        days = {published.isoformat(), (published - _dt.timedelta(days=1)).isoformat()}
        events = [_words(e) for e in str(description or "").split(" AND ") if _words(e)]
        found = [nid for nid, filed, entered, text, nseq in numbered
                 if str(entered or "")[:10] in days or str(filed or "")[:10] in days
                 if not (seq and nseq and str(seq) != str(nseq))
                 if any(_words(text).startswith(e) for e in events)]
        matches[row_id] = found
        for nid in found:
            claimed[nid] = claimed.get(nid, 0) + 1
    absorbed = 0
    for row_id, found in matches.items():
        if len(found) == 1 and claimed[found[0]] == 1:
            # the RSS item stays, as a version of the entry it was (issue 20)
            _entry_moved(db, row_id, found[0])
            db.execute("delete from docket_entries where id = ?", [row_id])
            _record(db, crawl_id, "docket_entries", row_id, "merged", [found[0]])
            absorbed += 1
    return absorbed


def entry_exists(db, court_id: str, docket_number: str, entry: dict) -> bool:
    """Whether the archive has this entry: the row :func:`save_entry` would save it in
    (``entry_number``/sequence/date+description, or found by sequence or document)."""
    row, doc_ids = _entry_row(dict(entry, court_id=court_id, docket_number=docket_number))
    return _known_entry(db, row, doc_ids) is not None


def documents_without_file(db, docket_id: str) -> list[dict]:
    """Documents of a docket the archive knows of (with a PACER id) but holds no file for."""
    return list(db.query(
        "select documents.id, documents.pacer_doc_id, documents.document_number, "
        "documents.attachment_number, documents.description, docket_entries.entry_number "
        "from documents left join docket_entries on docket_entries.id = documents.entry_id "
        "where documents.docket_id = ? and documents.pacer_doc_id is not null "
        "and documents.file_path is null order by docket_entries.entry_number, "
        "documents.attachment_number", [docket_id]))
