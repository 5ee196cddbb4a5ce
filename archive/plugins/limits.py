"""Datasette plugin: no query can exhaust the server's memory or read a pointer.

Every SQLite connection Datasette opens gets

- SQLite's own limits (``Connection.setlimit``): the longest string or blob a
  query may build or read (``max_value_bytes``), the longest SQL text, the
  most result columns;
- a ceiling on what SQLite itself may allocate, across all connections
  (``PRAGMA hard_heap_limit``, ``sqlite_heap_bytes``);
- a budget for the rows one query hands to Python (``max_result_bytes``): the
  rows Datasette fetches (at most ``max_returned_rows``) are counted as they
  arrive and the query stops with an error past the budget;
- an authorizer that refuses ``fts3_tokenizer()`` (its one-argument form
  returns a raw memory address). Datasette sets no authorizer of its own.

The values come from the ``docket-archive`` plugin configuration, which
``python -m archive serve`` fills from its options (see ``DEFAULTS``).
"""
from __future__ import annotations

import sqlite3
import weakref

from datasette import hookimpl
from datasette.handle_exception import handle_exception as default_handle_exception
from datasette.utils.asgi import BadRequest

PLUGIN = "docket-archive"
MB = 1_000_000

DEFAULTS = {
    # text of a 300-page filing is about 1 MB (3 MB OCR'd densely): 10 MB leaves room
    "max_value_bytes": 10 * MB,
    "max_result_bytes": 64 * MB,
    "sqlite_heap_bytes": 128 * MB,
    "max_sql_bytes": 100_000,
    "max_columns": 100,
}

DENIED_FUNCTIONS = {"fts3_tokenizer"}


class ResultTooLarge(sqlite3.DataError):
    """Raised while fetching: a DatabaseError, so Datasette shows it as a query error."""


def limits(datasette) -> dict:
    return {**DEFAULTS, **(datasette.plugin_config(PLUGIN) or {})}


def _authorizer(action, arg1, arg2, db_name, source):
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _budgeted_rows(max_bytes: int):
    """A row factory making sqlite3.Row (as Datasette does) that counts bytes per cursor."""
    spent = weakref.WeakKeyDictionary()

    def row_factory(cursor, row):
        size = sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
        total = spent.get(cursor, 0) + size
        if total > max_bytes:
            raise ResultTooLarge(
                f"results too large: this query's rows pass {max_bytes // MB} MB; "
                "ask for fewer rows (_size=, limit) or fewer columns")
        spent[cursor] = total
        return sqlite3.Row(cursor, row)

    return row_factory


@hookimpl
def prepare_connection(conn, database, datasette):
    cfg = limits(datasette)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, int(cfg["max_value_bytes"]))
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, int(cfg["max_sql_bytes"]))
    conn.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, int(cfg["max_columns"]))
    # process-wide, so setting it again on each connection is harmless
    conn.execute(f"PRAGMA hard_heap_limit = {int(cfg['sqlite_heap_bytes'])}")
    conn.set_authorizer(_authorizer)
    conn.row_factory = _budgeted_rows(int(cfg["max_result_bytes"]))


@hookimpl
def handle_exception(datasette, request, exception):
    # Datasette shows a query's errors on the query page, but a table page's as a 500
    if isinstance(exception, sqlite3.DataError):  # ResultTooLarge, "string or blob too big"
        message = str(exception)
    # SQLite past hard_heap_limit answers SQLITE_NOMEM, which Python raises as MemoryError
    elif isinstance(exception, MemoryError):
        message = ("This query needs more memory than the server allows "
                   f"({limits(datasette)['sqlite_heap_bytes'] // MB} MB): ask for less.")
    else:
        return None
    # answered as Datasette answers any bad request (its error page, or JSON)
    return default_handle_exception(datasette, request, BadRequest(message))
