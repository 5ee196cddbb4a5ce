"""The public site's derived tables: the federal courts by name, and one row
per case to find it by (the home page's list and the search of cases).

They live in the database the site serves (the public copy), never in the
operator's archive, and are made from that database's own tables
(``dockets``, ``parties``, ``attorneys``, ``docket_entries``, ``documents``):

- ``courts``: every federal court (``archive.site.courts``): ``id``, ``name``,
  ``short_name``, ``kind`` (district, bankruptcy, appellate, other),
  ``state``, ``circuit``.
- ``case_index``: one row per docket (``docket_id`` unique; ``id`` an
  integer key the full-text index follows): its court (``court_id``,
  ``court_name``, ``court_short``, ``court_kind``), ``docket_number`` and
  ``numbers`` (the printed forms a search matches: ``3:20-cv-05910
  3:20-cv-5910``), ``case_name`` and ``sort_name``, ``parties``,
  ``attorneys``, ``firms`` and ``judges`` (names joined with ``; ``),
  ``nature_of_suit``, ``chapter``, ``date_filed``, ``date_terminated``,
  ``date_last_filing`` (the later of the docket's own and its newest
  entry's), ``entries``, ``documents``, ``status`` (``open`` or
  ``terminated``).
- ``case_index_fts``: FTS5 over numbers, case_name, parties, attorneys,
  firms and judges (external content: ``case_index``), and the indexes the
  home page's filters and sorts use; and one index on a table of the
  archive, ``docket_entries (date_filed)``, for the search's date filter.

``ensure_shape(db)`` makes them when missing (idempotent); ``refresh(db,
docket_ids)`` recomputes the rows of those dockets (``None``: all) inside the
caller's transaction: it neither begins nor commits. The publisher calls both
on the public copy each time it syncs rows; ``python -m archive serve`` calls
them at start (the bridge until then).

The pages (``archive/site/home.py``, ``search.py``) read these tables and
keep working without them (an older archive): ``has_index(conn)``.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Iterable, Optional

from archive.site import courts as court_table

INDEX = "case_index"
FTS = "case_index_fts"
# full-text columns, in order, and their bm25 weights: a docket number or a
# case name outweighs a party, a party an attorney
FTS_COLUMNS = ("numbers", "case_name", "parties", "judges", "attorneys", "firms")
FTS_WEIGHTS = (10.0, 8.0, 3.0, 2.0, 2.0, 1.0)
BM25 = f"bm25({FTS}, " + ", ".join(str(w) for w in FTS_WEIGHTS) + ")"
MAX_LIST_CHARS = 20_000  # parties, attorneys and firms of one case, each (long creditor lists)

COLUMNS = {
    "id": "integer primary key",
    "docket_id": "text not null unique",
    "court_id": "text", "court_name": "text", "court_short": "text", "court_kind": "text",
    "docket_number": "text", "numbers": "text",
    "case_name": "text", "sort_name": "text",
    "parties": "text", "attorneys": "text", "firms": "text", "judges": "text",
    "nature_of_suit": "text", "chapter": "integer",
    "date_filed": "text", "date_terminated": "text", "date_last_filing": "text",
    "entries": "integer", "documents": "integer", "status": "text",
}
ROW_COLUMNS = [c for c in COLUMNS if c != "id"]

INDEXES = {
    "case_index_last_filing": "(date_last_filing, docket_id)",
    "case_index_filed": "(date_filed, docket_id)",
    "case_index_name": "(sort_name, docket_id)",
    "case_index_court": "(court_id, date_last_filing)",
    "case_index_court_name": "(court_name, docket_number)",
    "case_index_entries": "(entries, docket_id)",
    "case_index_status": "(status, date_last_filing)",
}

COURT_COLUMNS = ("id", "name", "short_name", "kind", "state", "circuit")


# --- shape ------------------------------------------------------------------

def _exists(conn, name: str) -> bool:
    return conn.execute("select 1 from sqlite_master where name = ?", [name]).fetchone() is not None


def has_index(conn) -> bool:
    """Whether ``conn``'s database has the case index (any sqlite3 connection)."""
    return _exists(conn, INDEX) and _exists(conn, FTS)


def ensure_shape(db) -> None:
    """Create ``courts``, ``case_index``, its FTS table and indexes if missing,
    and bring ``courts`` up to ``archive.site.courts``. Idempotent; run inside or
    outside a transaction (inside one it is a savepoint of it; it commits
    only a transaction it began)."""
    with db.atomic():
        _ensure_shape(db.conn)


def _ensure_shape(conn) -> None:
    conn.execute("create table if not exists courts (id text primary key, name text, "
                 "short_name text, kind text, state text, circuit text)")
    have = {(r[0], r[1], r[2], r[3], r[4], r[5])
            for r in conn.execute("select id, name, short_name, kind, state, circuit from courts")}
    rows = [tuple(c[k] for k in COURT_COLUMNS) for c in court_table.COURTS.values()]
    missing = [r for r in rows if r not in have]
    if missing:
        conn.executemany("insert or replace into courts (id, name, short_name, kind, state, "
                         "circuit) values (?, ?, ?, ?, ?, ?)", missing)
    if not _exists(conn, INDEX):
        conn.execute(f"create table {INDEX} ("
                     + ", ".join(f"{c} {t}" for c, t in COLUMNS.items()) + ")")
    else:
        have_columns = {r[1] for r in conn.execute(f"pragma table_info({INDEX})")}
        for column, kind in COLUMNS.items():
            if column not in have_columns:
                conn.execute(f"alter table {INDEX} add column {column} "
                             f"{kind.replace('not null unique', '')}")
    for name, columns in INDEXES.items():
        conn.execute(f"create index if not exists {name} on {INDEX} {columns}")
    # the search's date filter reads the entries filed between two dates in order
    if _exists(conn, "docket_entries"):
        conn.execute("create index if not exists site_docket_entries_date_filed "
                     "on docket_entries (date_filed)")
    if _exists(conn, FTS) and [r[1] for r in conn.execute(f"pragma table_info({FTS})")] \
            != list(FTS_COLUMNS):  # made by another version: made again
        conn.execute(f"drop table {FTS}")
    if not _exists(conn, FTS):
        conn.execute(f"create virtual table {FTS} using fts5("
                     + ", ".join(FTS_COLUMNS)
                     + f", content='{INDEX}', content_rowid='id', "
                       "tokenize='unicode61 remove_diacritics 2')")
        conn.execute(f"insert into {FTS}({FTS}) values ('rebuild')")


# --- one case's row -----------------------------------------------------------

_DISTRICT_NUMBER = re.compile(r"(?:(\d{1,2}):)?(\d{2})-([a-z]{1,5})-0*(\d{1,6})")


def number_forms(docket_number: Optional[str]) -> str:
    """The printed forms of a docket number a search should match, space
    separated: the archive's (``3:20-cv-05910``) and without the leading
    zeros (``3:20-cv-5910``). A phrase search matches a form's tail too
    (``20-cv-05910``, a bankruptcy ``10-70959`` of ``8-10-70959``)."""
    number = (docket_number or "").strip()
    forms = [number] if number else []
    m = _DISTRICT_NUMBER.fullmatch(number)
    if m:
        office, year, kind, digits = m.groups()
        forms.append(f"{office + ':' if office else ''}{year}-{kind}-{digits}")
    return " ".join(dict.fromkeys(forms))


_NOT_A_FIRM = re.compile(
    r"^(?:\d|#|\[|p\.?\s*o\.?\s*(?:box|drawer)|suite\b|ste\.?\b|floor\b|\d+(?:st|nd|rd|th)\s+floor|"
    r"e-?mail|fax|tel|phone|direct|firm:|designation|lead attorney|attorney to be noticed|"
    r"pro se|pro hac vice|terminated|bar status|.*\b[A-Z]{2}\s+\d{5}(?:-\d{4})?$|"
    r"\(?\d{3}\)?[\s.-]*\d{3}[\s.-]*\d{4})", re.I)


def firm_of(contact_raw: Optional[str]) -> Optional[str]:
    """The firm (or office) an attorney's contact block names: its first line
    that is not an address, phone, e-mail or role."""
    for line in (contact_raw or "").splitlines():
        line = " ".join(line.split())
        if line and any(ch.isalpha() for ch in line) and not _NOT_A_FIRM.match(line) \
                and "@" not in line:
            return line[:200]
    return None


def sort_name(case_name: Optional[str]) -> str:
    """A case name as the A-Z sort reads it: case folded, from its first letter or digit."""
    name = (case_name or "").casefold()
    m = re.search(r"[^\W_]", name)
    return name[m.start():] if m else name


def _joined(names: Iterable[str]) -> Optional[str]:
    out, size = [], 0
    for name in dict.fromkeys(n for n in names if n):
        if size + len(name) > MAX_LIST_CHARS:
            break
        out.append(name)
        size += len(name) + 2
    return "; ".join(out) or None


def _latest(*dates) -> Optional[str]:
    dates = [d for d in dates if d]
    return max(dates) if dates else None


def case_row(docket: dict, entries: int, documents: int, last_entry: Optional[str],
             parties: list[str], attorneys: list[tuple[str, Optional[str]]]) -> dict:
    """The case_index row of one docket, from its row and what hangs on it."""
    court = court_table.court(docket.get("court_id"))
    judges = [docket.get(k) for k in ("assigned_to_str", "referred_to_str", "panel_str")]
    people = list(parties) + ([docket["trustee_str"]] if docket.get("trustee_str") else [])
    return {
        "docket_id": docket["id"],
        "court_id": docket.get("court_id"), "court_name": court["name"],
        "court_short": court["short_name"], "court_kind": court["kind"],
        "docket_number": docket.get("docket_number"),
        "numbers": number_forms(docket.get("docket_number")),
        "case_name": docket.get("case_name"), "sort_name": sort_name(docket.get("case_name")),
        "parties": _joined(people),
        "attorneys": _joined(name for name, _ in attorneys),
        "firms": _joined(firm_of(contact) for _, contact in attorneys),
        "judges": _joined(judges),
        "nature_of_suit": docket.get("nature_of_suit"), "chapter": docket.get("chapter"),
        "date_filed": docket.get("date_filed"), "date_terminated": docket.get("date_terminated"),
        "date_last_filing": _latest(docket.get("date_last_filing"), last_entry),
        "entries": entries, "documents": documents,
        "status": "terminated" if docket.get("date_terminated") else "open",
    }


# --- refresh ----------------------------------------------------------------

DOCKET_COLUMNS = ("id", "court_id", "docket_number", "case_name", "assigned_to_str",
                  "referred_to_str", "panel_str", "trustee_str", "nature_of_suit", "chapter",
                  "date_filed", "date_terminated", "date_last_filing")


def _columns(conn, table: str) -> set:
    return {r[1] for r in conn.execute(f"pragma table_info([{table}])")}


def _select(conn, table: str, wanted: Iterable[str]) -> str:
    have = _columns(conn, table)
    return ", ".join(c if c in have else f"null as {c}" for c in wanted)


def refresh(db, docket_ids: Optional[Iterable[str]] = None) -> int:
    """Recompute ``case_index`` for these dockets (``None``: every docket) from
    the database's own tables; a docket no longer in ``dockets`` loses its row.
    Runs in the caller's transaction (never begins or commits: called
    outside one, sqlite3 opens one the caller commits). Returns the rows
    written."""
    conn = db.conn
    everything = docket_ids is None
    ids = None if everything else sorted({str(i) for i in docket_ids if i})
    if ids == []:
        return 0
    where = "" if everything else " where {col} in (select value from json_each(:ids))"
    params = {} if everything else {"ids": json.dumps(ids)}

    def query(sql, col):
        return conn.execute(sql.format(where=where.format(col=col)), params)

    dockets = [dict(zip(DOCKET_COLUMNS, r)) for r in query(
        f"select {_select(conn, 'dockets', DOCKET_COLUMNS)} from dockets{{where}}", "id")]
    entries = {r[0]: (r[1], r[2]) for r in query(
        "select docket_id, count(*), max(date_filed) from docket_entries{where} group by docket_id",
        "docket_id")}
    documents = dict(query("select docket_id, count(*) from documents{where} group by docket_id",
                           "docket_id").fetchall())
    parties = defaultdict(list)
    for docket_id, name in query("select docket_id, name from parties{where} order by rowid",
                                 "docket_id"):
        parties[docket_id].append(name)
    attorneys = defaultdict(list)
    for docket_id, name, contact in query(
            "select docket_id, name, contact_raw from attorneys{where} order by rowid",
            "docket_id"):
        attorneys[docket_id].append((name, contact))
    rows = []
    for docket in dockets:
        count, last = entries.get(docket["id"], (0, None))
        rows.append(case_row(docket, count, documents.get(docket["id"], 0), last,
                             parties.get(docket["id"], []), attorneys.get(docket["id"], [])))

    fts_columns = ", ".join(FTS_COLUMNS)
    mine = " where docket_id in (select value from json_each(:ids))"
    if everything:
        conn.execute(f"delete from {INDEX}")
    else:
        # the index forgets these rows as they are (external content), then they go
        conn.execute(f"insert into {FTS}({FTS}, rowid, {fts_columns}) "
                     f"select 'delete', id, {fts_columns} from {INDEX}{mine}", params)
        conn.execute(f"delete from {INDEX}{mine}", params)
    conn.executemany(
        f"insert into {INDEX} ({', '.join(ROW_COLUMNS)}) values ("
        + ", ".join(f":{c}" for c in ROW_COLUMNS) + ")", rows)
    if everything:
        conn.execute(f"insert into {FTS}({FTS}) values ('rebuild')")
    else:
        conn.execute(f"insert into {FTS}(rowid, {fts_columns}) "
                     f"select id, {fts_columns} from {INDEX}{mine}", params)
    return len(rows)


# --- reading it -----------------------------------------------------------------

def match_sql(columns: str = "c.*", where: str = "", order: str = "score, c.docket_id",
              limit: str = ":limit") -> str:
    """The cases matching ``:q`` (an FTS5 query, ``archive.site.search_query``), best
    first: number, then name, then parties, judges, attorneys and firms."""
    return (f"select {columns}, {BM25} as score from {FTS} cross join {INDEX} c "
            f"on c.id = {FTS}.rowid where {FTS} match :q{where} order by {order} limit {limit}")


# --- the home page's list ---------------------------------------------------------

SORTS = {
    # name: (label, order by)
    "relevance": ("Best match", "score, c.date_last_filing desc, c.docket_id"),
    "last_filing": ("Last filing, newest first",
                    "c.date_last_filing is null, c.date_last_filing desc, c.docket_id"),
    "last_filing_asc": ("Last filing, oldest first",
                        "c.date_last_filing is null, c.date_last_filing, c.docket_id"),
    "filed": ("Filed, newest first", "c.date_filed is null, c.date_filed desc, c.docket_id"),
    "filed_asc": ("Filed, oldest first", "c.date_filed is null, c.date_filed, c.docket_id"),
    "name": ("Case name, A to Z", "c.sort_name, c.docket_id"),
    "court": ("Court", "c.court_name, c.docket_number, c.docket_id"),
    "entries": ("Most entries", "c.entries desc, c.docket_id"),
}
STATUSES = {"": "open or terminated", "open": "open", "terminated": "terminated"}
LIST_COLUMNS = ("c.docket_id, c.court_id, c.court_name, c.court_short, c.court_kind, "
                "c.docket_number, c.case_name, c.judges, c.date_filed, c.date_terminated, "
                "c.date_last_filing, c.entries, c.documents, c.status")

# an archive without the index: the same columns from dockets (slower; no parties)
FALLBACK_SOURCE = """(
select k.id as docket_id, k.court_id, k.court_id as court_name, k.court_id as court_short,
       null as court_kind, k.docket_number, k.case_name, lower(k.case_name) as sort_name,
       k.assigned_to_str as judges, k.date_filed, k.date_terminated,
       nullif(max(coalesce(k.date_last_filing, ''), coalesce((select max(date_filed)
         from docket_entries where docket_id = k.id), '')), '') as date_last_filing,
       (select count(*) from docket_entries where docket_id = k.id) as entries,
       (select count(*) from documents where docket_id = k.id) as documents,
       case when k.date_terminated is null then 'open' else 'terminated' end as status
from dockets k)"""


def list_cases_sql(chosen: dict, indexed: bool = True) -> tuple[str, str, dict]:
    """The home page's cases: (rows sql, count sql, params) for the filters in
    ``chosen``: ``case_fts`` (an FTS5 query of the case index, or a plain
    ``name`` text without the index), ``court``, ``status``, ``filed_from``/
    ``filed_to``, ``last_from``/``last_to`` (YYYY-MM-DD), ``sort`` (SORTS),
    ``limit``, ``offset``."""
    where, params = [], {}
    source = f"{INDEX} c" if indexed else f"{FALLBACK_SOURCE} c"
    score = "0"
    if chosen.get("case_fts") and indexed:
        source = f"{FTS} cross join {INDEX} c on c.id = {FTS}.rowid"
        where.append(f"{FTS} match :q")
        params["q"] = chosen["case_fts"]
        score = BM25
    elif chosen.get("name"):
        where.append("(c.case_name like :like or c.docket_id like :like)")
        params["like"] = "%" + chosen["name"].replace("%", "").replace("_", "") + "%"
    if chosen.get("court"):
        where.append("c.court_id = :court")
        params["court"] = chosen["court"]
    if chosen.get("status") in ("open", "terminated"):
        where.append("c.status = :status")
        params["status"] = chosen["status"]
    for key, column, op in (("filed_from", "date_filed", ">="), ("filed_to", "date_filed", "<="),
                            ("last_from", "date_last_filing", ">="),
                            ("last_to", "date_last_filing", "<=")):
        if chosen.get(key):
            where.append(f"c.{column} {op} :{key}")
            params[key] = chosen[key]
    sort = chosen.get("sort") or "last_filing"
    if sort == "relevance" and score == "0":
        sort = "last_filing"
    order = SORTS.get(sort, SORTS["last_filing"])[1]
    clause = (" where " + " and ".join(where)) if where else ""
    params.update(limit=int(chosen.get("limit") or 50), offset=int(chosen.get("offset") or 0))
    rows = (f"select {LIST_COLUMNS}, {score} as score from {source}{clause} "
            f"order by {order} limit :limit offset :offset")
    count = f"select count(*) from {source}{clause}"
    return rows, count, params
