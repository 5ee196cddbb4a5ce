"""The public copy: exactly what a release holds, kept current for the site.

The operator's archive holds what the public must never see: the PACER
ledger, each crawl's arguments, host and process, the archive writer's
bookkeeping, and the text and files of withheld documents. The site does
not serve the archive. It serves a *public copy*, a second SQLite file that
holds only what a release holds:

- the tables of :data:`archive.db.PUBLIC_TABLES`, less their private columns
  (each crawl's ``args``, ``message``, ``pid``, ``host``), and of ``changes``
  only the records of those tables;
- every document, but a withheld one (:func:`withheld_reason`: sealed,
  restricted, a bad redaction) without its text, clean text, file, SHA-256,
  error and OCR pages, and with ``withheld`` saying why;
- the public-only tables derived from those rows (:data:`DERIVED`: the case
  index, court names, links between a case and its appeals).

:func:`publish` brings a copy up to date with its archive. The archive's
triggers log every insert, update and delete of a public row (``public_log``,
:mod:`archive.db`), whoever writes it; the copy keeps the position in that log
it has applied (``_publish_state``). A publish applies the rows logged since,
in one transaction on the copy, reading the archive through a read-only
attachment: a reader in WAL mode, it never blocks a crawl, nor a crawl it,
and it never writes the archive (crawls drop log rows a week old). A first
publish, a copy of another archive, a new public shape, or a log already cut
past the copy's position (a copy left behind for over a week) copies every
row instead.

Readers of the copy (Datasette, in WAL mode) see the old state or the new,
never half. A killed publish leaves nothing but SQLite's own rollback, which
the next open undoes. The copy's pages freed by a document that became
withheld are zeroed (``secure_delete``) and its FTS index rewritten, so that
neither the file nor its download holds the withheld text.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import re
import sqlite3
import time
from typing import Optional

import sqlite_utils

from archive import db as adb

log = logging.getLogger(__name__)

# Document statuses that mean the court restricts the document. The crawlers'
# statuses today (ok, ocr, empty, error, too_large, timeout, download_failed,
# no_file) mark none; a source that reports a restriction as a status uses these.
RESTRICTED_STATUSES = {"sealed", "restricted"}

# What CM/ECF writes in a docket text when a document is sealed or its access
# restricted. Upper case where the court's stamp is upper case, so that an order
# saying something "shall be filed as a restricted document" is not taken for one.
DESCRIPTION_MARKS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"ACCESS TO THE PDF DOCUMENT IS RESTRICTED", re.I), "restricted"),
    (re.compile(r"\bRESTRICTED DOCUMENT\b"), "restricted"),
    (re.compile(r"\(Restricted\)", re.I), "restricted"),
    (re.compile(r"\bSEALED DOCUMENT\b"), "sealed"),
    (re.compile(r"\bDOCUMENTS? (?:IS|ARE) SEALED\b", re.I), "sealed"),
    (re.compile(r"\((?:Sealed|SEALED)\b"), "sealed"),
    (re.compile(r"^\W*SEALED\b"), "sealed"),
]
# Every mark above holds one of these words: a text without them is not read
# against each mark (the case page asks this of every document it lists).
MAY_MARK = re.compile(r"seal|restrict", re.I)

# Columns a withheld document loses.
WITHHELD_CLEARED = ("text", "clean_text", "file_path", "sha256", "error", "ocr_pages")

# Modules whose tables are derived from the public rows, for the public copy
# only: each has ensure_shape(db) and refresh(db, docket_ids) (None: all).
DERIVED = ("archive.site.case_index", "archive.site.links")

STATE = "_publish_state"
# How long a publish waits for another publish of the same copy to end.
BUSY_SECONDS = 60


def withheld_reason(doc: dict, entry_description: Optional[str] = None) -> Optional[str]:
    """Why a document must not be published, or None.

    Withheld: ``is_sealed`` set by the source (CourtListener's RECAP
    documents); ``bad_redactions`` (the extractor found text under black
    boxes: the redaction failed, so the text is what the court meant to hide);
    a ``status`` in :data:`RESTRICTED_STATUSES`; or a sealing or restriction
    notice (:data:`DESCRIPTION_MARKS`) in the document's description or in its
    entry's, which covers all the entry's documents.
    """
    reasons = []
    if doc.get("is_sealed"):
        reasons.append("sealed: the source marks it sealed")
    if (doc.get("status") or "").lower() in RESTRICTED_STATUSES:
        reasons.append(f"restricted: status {doc['status']}")
    for label, text in (("its description", doc.get("description")),
                        ("its entry", entry_description)):
        if not text or not MAY_MARK.search(text):
            continue
        for pattern, kind in DESCRIPTION_MARKS:
            match = pattern.search(text or "")
            if match:
                reasons.append(f"{kind}: {label} says {match.group(0).strip()!r}")
                break
    if doc.get("bad_redactions"):
        reasons.append(f"bad redaction: text under black boxes on page(s) {doc['bad_redactions']}")
    return "; ".join(reasons) or None


def _withheld_sql(is_sealed, status, description, entry_description, bad_redactions):
    return withheld_reason({"is_sealed": is_sealed, "status": status, "description": description,
                            "bad_redactions": bad_redactions}, entry_description)


# --- the shape ----------------------------------------------------------------

def public_columns(table: str) -> dict[str, type]:
    columns = {c: t for c, t in adb.TABLES[table].items() if c not in adb.PUBLIC_TABLES[table]}
    if table == "documents":
        columns["withheld"] = str
    return columns


def _derived_modules() -> list:
    found = []
    for name in DERIVED:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def shape_version() -> str:
    """A digest of the public shape, the withholding rule included: a copy made
    under another shape or rule is copied anew (a mark added later withholds, in
    the copy too, what it now covers)."""
    rule = ([(p.pattern, p.flags, kind) for p, kind in DESCRIPTION_MARKS], MAY_MARK.pattern,
            sorted(RESTRICTED_STATUSES), WITHHELD_CLEARED)
    spec = repr(([(t, sorted(public_columns(t))) for t in adb.PUBLIC_TABLES],
                 sorted(adb.FTS.items()), sorted(adb.VIEWS.items()),
                 [getattr(m, "VERSION", m.__name__) for m in _derived_modules()], rule))
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def ensure_public_shape(db: sqlite_utils.Database) -> None:
    """The public tables, their keys, indexes, FTS and views, the derived
    tables and the publish state, in the copy ``db`` (inside a transaction)."""
    public = {t: public_columns(t) for t in adb.PUBLIC_TABLES}
    adb.apply_tables(
        db, public,
        [fk for fk in adb.FOREIGN_KEYS if fk[0] in public and fk[2] in public],
        [ix for ix in adb.INDEXES if ix[0] in public],
        {t: c for t, c in adb.FTS.items() if t in public}, adb.VIEWS)
    db.execute(f"create table if not exists [{STATE}] (id integer primary key check (id = 1), "
               "archive_id text, position integer, shape text, published text)")
    for module in _derived_modules():
        module.ensure_shape(db)


# --- publishing -------------------------------------------------------------------

def _connect(target: str) -> sqlite3.Connection:
    con = sqlite3.connect(target, isolation_level=None, timeout=BUSY_SECONDS, uri=False)
    con.execute(f"pragma busy_timeout = {BUSY_SECONDS * 1000}")
    if con.execute("pragma journal_mode").fetchone()[0].lower() != "wal":
        adb._retry_locked(lambda: con.execute("pragma journal_mode = wal"))
    con.execute("pragma synchronous = normal")
    con.execute("pragma secure_delete = on")  # freed pages hold no withheld text
    con.create_function("archive_withheld", 5, _withheld_sql, deterministic=True)
    return con


def _touched(table: str, alias: str) -> str:
    return f"{alias}.id in (select row_id from temp._touched where table_name = '{table}')"


def _source_columns(con, table: str) -> set:
    """The columns ``table`` has in the archive (an archive not opened since an
    upgrade lacks the newest: they are copied as NULL)."""
    return {r[1] for r in con.execute(f"pragma src.table_info([{table}])")}


def _select(table: str, only_touched: bool, have: set) -> tuple[str, str]:
    """(column list, SELECT) copying ``table``'s public rows from the archive
    attached as ``src`` (whose columns are ``have``): all of them, or those
    named in ``temp._touched``."""
    columns = list(public_columns(table))
    names = ", ".join(f"[{c}]" for c in columns)

    def column(alias, name):
        return f"{alias}.[{name}]" if name in have else "null"

    if table == "documents":
        exprs = ["s.reason" if c == "withheld" else
                 f"case when s.reason is null then {column('s', c)} end" if c in WITHHELD_CLEARED
                 else column("s", c) for c in columns]
        where = f" where {_touched(table, 'd')}" if only_touched else ""
        reason = ", ".join(column("d", c) if c != "entry" else "e.description" for c in (
            "is_sealed", "status", "description", "entry", "bad_redactions"))
        return names, (f"select {', '.join(exprs)} from (select d.*, archive_withheld({reason}) "
                       "as reason from src.documents d left join src.docket_entries e "
                       f"on e.id = d.entry_id{where}) s")
    filters = [_touched(table, "s")] if only_touched else []
    if table == "changes":
        filters.append("s.table_name in (" + ", ".join(f"'{t}'" for t in adb.PUBLIC_TABLES) + ")")
    where = (" where " + " and ".join(filters)) if filters else ""
    return names, f"select {', '.join(column('s', c) for c in columns)} from src.[{table}] s{where}"


def _docket_of(row_id) -> str:
    """The docket id a row id of a docket's table begins with (``court/number#...``)."""
    return str(row_id).split("#", 1)[0]


def _state(con) -> Optional[dict]:
    row = con.execute(f"select archive_id, position, shape from main.[{STATE}] where id = 1").fetchone()
    return dict(zip(("archive_id", "position", "shape"), row)) if row else None


def _source_log(con) -> dict:
    """What the archive says of itself and of its log, in the open read transaction."""
    tables = {r[0] for r in con.execute("select name from src.sqlite_master where type = 'table'")}
    info = {"archive_id": None, "logged": 0, "lowest": None, "highest": None, "has_log": False}
    if "archive_info" in tables:
        row = con.execute("select value from src.archive_info where id = 'archive_id'").fetchone()
        info["archive_id"] = row[0] if row else None
    if adb.PUBLIC_LOG in tables:
        info["has_log"] = True
        row = con.execute("select seq from src.sqlite_sequence where name = ?",
                          [adb.PUBLIC_LOG]).fetchone()
        info["logged"] = row[0] if row else 0
        info["lowest"], info["highest"] = con.execute(
            f"select min(id), max(id) from src.[{adb.PUBLIC_LOG}]").fetchone()
    return info


def _needs_everything(state: Optional[dict], source: dict, shape: str) -> Optional[str]:
    """Why the copy must be made from every row, or None (only the logged rows)."""
    if state is None:
        return "a new public copy"
    if not source["has_log"] or not source["archive_id"]:
        return "the archive keeps no public log yet (an older archive: open it once)"
    if state["archive_id"] != source["archive_id"]:
        return "the copy was made from another archive"
    if state["shape"] != shape:
        return "the public shape changed"
    position = state["position"] or 0
    if position < source["logged"] and (source["lowest"] is None or source["lowest"] > position + 1):
        return "the archive's log was cut past this copy's position"
    return None


def pending(source: str, target: str) -> bool:
    """Whether ``target`` is behind ``source`` (cheap: two small reads, no lock)."""
    if not os.path.exists(target):
        return True
    try:
        with contextlib.closing(sqlite3.connect(adb.ro_uri(target), uri=True)) as copy, \
                contextlib.closing(sqlite3.connect(adb.ro_uri(source), uri=True)) as archive:
            row = copy.execute(f"select archive_id, position, shape from [{STATE}]").fetchone()
            logged = archive.execute("select seq from sqlite_sequence where name = ?",
                                     [adb.PUBLIC_LOG]).fetchone()
    except sqlite3.DatabaseError:
        return True
    return (not row or row[2] != shape_version() or not logged or (row[1] or 0) < logged[0])


def has_log(source: str) -> bool:
    """Whether the archive keeps the public log (an archive not opened since the
    upgrade that made it does not), read without a write lock."""
    try:
        with contextlib.closing(sqlite3.connect(adb.ro_uri(source), uri=True)) as con:
            return bool(con.execute("select 1 from sqlite_master where type = 'table' and "
                                    "name = ?", [adb.PUBLIC_LOG]).fetchone())
    except sqlite3.DatabaseError:
        return False


def publish(source: str, target: str, *, everything: bool = False) -> dict:
    """Bring the public copy ``target`` up to date with the archive ``source``.

    Returns what it did: ``{"mode": "rows"|"everything"|"none", "why": ...,
    "rows": n copied, "dockets": n refreshed, "position": log position,
    "seconds": ...}``. ``everything``: copy every row whatever the log says.
    """
    started = time.monotonic()
    if not os.path.exists(source):
        raise FileNotFoundError(f"{source} does not exist: run `make archive` first")
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    con = _connect(target)
    try:
        con.execute("attach database ? as src", [adb.ro_uri(source)])
        shape = shape_version()
        con.execute("begin immediate")
        try:
            db = sqlite_utils.Database(con)
            ensure_public_shape(db)
            state = _state(con)
            info = _source_log(con)
            why = "asked for every row" if everything else _needs_everything(state, info, shape)
            upto = max(info["logged"] or 0, info["highest"] or 0)
            if why is None and upto <= (state["position"] or 0):
                con.execute("rollback")
                return {"mode": "none", "why": "up to date", "rows": 0, "dockets": 0,
                        "position": upto, "seconds": time.monotonic() - started}
            if why is None:
                copied, dockets, tidy = _copy_logged(con, state["position"] or 0, upto)
            else:
                copied, dockets, tidy = _copy_everything(con), None, True
            for module in _derived_modules():
                module.refresh(db, dockets)
            if tidy:  # a document became withheld: no index segment may keep its words
                for table in adb.FTS:
                    con.execute(f"insert into [{table}_fts]([{table}_fts]) values('optimize')")
            con.execute(f"insert into [{STATE}] (id, archive_id, position, shape, published) "
                        "values (1, ?, ?, ?, ?) on conflict(id) do update set "
                        "archive_id = excluded.archive_id, position = excluded.position, "
                        "shape = excluded.shape, published = excluded.published",
                        [info["archive_id"], upto, shape, adb._now()])
            con.execute("commit")
        except BaseException:
            if con.in_transaction:
                con.execute("rollback")
            raise
        con.execute("detach database src")
        _checkpoint(con)
    finally:
        con.close()
    return {"mode": "everything" if why else "rows", "why": why or "logged rows",
            "rows": copied, "dockets": len(dockets) if dockets is not None else None,
            "position": upto, "seconds": time.monotonic() - started}


def _copy_everything(con) -> int:
    copied = 0
    for table in adb.PUBLIC_TABLES:
        con.execute(f"delete from main.[{table}]")
        have = _source_columns(con, table)
        if not have:  # a table of a newer shape than the archive's
            continue
        names, select = _select(table, only_touched=False, have=have)
        copied += con.execute(f"insert into main.[{table}] ({names}) {select}").rowcount
    return copied


def _copy_logged(con, position: int, upto: int) -> tuple[int, set, bool]:
    """Copy the rows logged in (position, upto]; returns (rows, dockets touched,
    whether a document that was public is now withheld)."""
    con.execute("create temp table if not exists _touched (table_name text, row_id, "
                "primary key (table_name, row_id))")
    con.execute("delete from temp._touched")
    con.execute(f"insert or ignore into temp._touched select table_name, row_id "
                f"from src.[{adb.PUBLIC_LOG}] where id > ? and id <= ?", [position, upto])
    # a document's entry says whether it is sealed: its documents follow the entry
    con.execute("insert or ignore into temp._touched select 'documents', d.id from src.documents d "
                "where d.entry_id in (select row_id from temp._touched where table_name = "
                "'docket_entries') union select 'documents', d.id from main.documents d "
                "where d.entry_id in (select row_id from temp._touched where table_name = "
                "'docket_entries')")
    was_public = {r[0] for r in con.execute(
        "select id from main.documents where withheld is null and "
        + _touched("documents", "main.documents"))}
    copied = 0
    for table in adb.PUBLIC_TABLES:
        con.execute(f"delete from main.[{table}] where " + _touched(table, f"main.[{table}]"))
        have = _source_columns(con, table)
        if not have:
            continue
        names, select = _select(table, only_touched=True, have=have)
        copied += con.execute(f"insert into main.[{table}] ({names}) {select}").rowcount
    now_withheld = {r[0] for r in con.execute(
        "select id from main.documents where withheld is not null and "
        + _touched("documents", "main.documents"))}
    dockets = {_docket_of(r[0]) for r in con.execute(
        "select row_id from temp._touched where table_name not in ('crawls', 'changes')")}
    return copied, dockets, bool(was_public & now_withheld)


def _checkpoint(con) -> None:
    """The copy's WAL into its file, as far as its readers allow."""
    con.execute("pragma busy_timeout = 2000")
    try:
        con.execute("pragma wal_checkpoint(truncate)")
    except sqlite3.OperationalError:
        con.execute("pragma wal_checkpoint(passive)")
