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

- SQL functions whose one call can outlast the time limit (Datasette stops a
  query between SQLite's steps, never inside one): ``printf``/``format``
  with a width or precision past ``max_value_bytes`` gives NULL at once,
  as SQLite's does after building the string (SQLite 3.40's
  ``printf('%.*c', 2147483647, 'x')`` runs for 25 s, then gives NULL);
  ``instr`` and ``replace`` are Python's ``str.find``/``str.replace``
  (linear-time string search; SQLite's compares at each offset, quadratic
  on long strings), and a ``replace`` whose result would pass
  ``max_value_bytes`` fails with SQLite's "string or blob too big" before
  it is built;
- the authorizer also refuses ``ATTACH`` and reads ``pragma_database_list``'s
  ``file`` column as NULL: the server's file paths are not public.

The values come from the ``docket-archive`` plugin configuration, which
``python -m archive serve`` fills from its options (see ``DEFAULTS``).
"""
from __future__ import annotations

import re
import sqlite3
import weakref

from datasette import hookimpl
# the module, not its hook implementation: a plugin module's hookimpls are all registered
from datasette import handle_exception as datasette_errors
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
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and arg1 == "pragma_database_list" and arg2 == "file":
        return sqlite3.SQLITE_IGNORE  # the column reads as NULL
    return sqlite3.SQLITE_OK




# %[flags][width][.precision]type; width and precision may be * (taken from the arguments)
_PRINTF_SPEC = re.compile(r"%([-+ 0#,!]*)(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])")


def _printf_widths(fmt: str, args: tuple) -> list[int]:
    """The widths and precisions a printf format asks for (``*`` read from ``args``)."""
    widths, next_arg = [], 0
    for match in _PRINTF_SPEC.finditer(fmt):
        if match.group(4) == "%":
            continue
        for part in (match.group(2), match.group(3)):
            if part == "*":
                value = args[next_arg] if next_arg < len(args) else 0
                next_arg += 1
                try:
                    widths.append(abs(int(value)))
                except (TypeError, ValueError):
                    widths.append(0)
            elif part:
                widths.append(int(part))
        next_arg += 1  # the value the conversion prints
    return widths


def _limited_functions(conn, max_bytes: int) -> None:
    """printf/format, instr and replace, bounded (see the module's docstring).
    printf's own formatting stays SQLite's: it runs on a private connection."""
    helper = sqlite3.connect(":memory:", check_same_thread=False)
    TOO_BIG = b"\0" * (max_bytes + 1)  # past SQLITE_LIMIT_LENGTH: SQLite's error, not ours
    helper.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_bytes)

    def printf(fmt, *args):
        if fmt is None:
            return None
        if any(w > max_bytes for w in _printf_widths(str(fmt), args)):
            return None  # what SQLite's printf gives for a string too big, at once
        marks = ", ".join("?" for _ in range(len(args) + 1))
        return helper.execute(f"select printf({marks})", (fmt, *args)).fetchone()[0]

    def instr(haystack, needle):
        if haystack is None or needle is None:
            return None
        if isinstance(haystack, bytes) and isinstance(needle, bytes) or \
                isinstance(haystack, str) and isinstance(needle, str):
            return haystack.find(needle) + 1
        return helper.execute("select instr(?, ?)", (haystack, needle)).fetchone()[0]

    def replace(text, old, new):
        if text is None or old is None or new is None:
            return None
        if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
            return helper.execute("select replace(?, ?, ?)", (text, old, new)).fetchone()[0]
        if not old:
            return text
        grows = len(new.encode()) - len(old.encode())
        if grows > 0 and len(text.encode()) + text.count(old) * grows > max_bytes:
            return TOO_BIG  # SQLite answers it with its own "string or blob too big"
        return text.replace(old, new)

    for name in ("printf", "format"):
        conn.create_function(name, -1, printf, deterministic=True)
    conn.create_function("instr", 2, instr, deterministic=True)
    conn.create_function("replace", 3, replace, deterministic=True)


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
    _limited_functions(conn, int(cfg["max_value_bytes"]))


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
    return datasette_errors.handle_exception(datasette, request, BadRequest(message))
