"""Datasette plugin: the archive's home page, its search, and its releases.

- ``/`` (Datasette's ``index.html``, in ``archive/templates``): the cases in
  the archive with their counts, one search box, the whole archive's feed,
  and the download of the latest release (``latest.json`` in the plugin
  config's ``releases`` folder), or of the live file when there is none.
- ``/search?q=``: one box across document text (``documents_fts``) and entry
  descriptions (``docket_entries_fts``) of every case, ranked with bm25,
  filtered by court, case, date range and document type, 20 results a page.
  Whatever is typed is a search: words are matched as words (FTS operators,
  ``*``, ``^``, ``:``, parentheses included), "balanced quotes" make a phrase
  and a lone quote is dropped. Excerpts come from FTS5 ``snippet()`` with
  marker strings no court text can contain (random per request); the excerpt
  is escaped first and only then are the markers turned into ``<mark>``.
- ``/releases/{name}``: the files of the releases folder that ``latest.json``
  or a release manifest names (``dockets-YYYY-MM-DD.db`` and its
  ``.manifest.json``), and ``latest.json``; nothing else, no listing.
- ``/{database}/search`` and ``/{database}/feed.atom``, the canned queries
  these pages replace, redirect to them; the canned query ``search`` stays
  for JSON and CSV (``/dockets/search.json?q=``), its input made an FTS5
  query by ``archive_fts()``, registered here on every connection.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sqlite3
from urllib.parse import unquote

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import AsgiFileDownload, NotFound, Response
from markupsafe import Markup, escape

from archive import urls

PLUGIN = "docket-archive"
PAGE_SIZE = 20
MAX_PAGE = 250           # offset at most 5,000 results in
MAX_QUERY_CHARS = 500
MAX_TERMS = 32
TYPES = {"": "documents and entries", "main": "main documents", "attachment": "attachments",
         "entry": "docket entries"}
RELEASE_NAME = re.compile(r"^dockets-\d{4}-\d{2}-\d{2}(?:-\d+)?\.(db|manifest\.json)$")  # -2: a second release that day
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _archive_db(datasette):
    return datasette.get_database()


# --- the query ------------------------------------------------------------

def fts_query(text: str) -> str:
    """What was typed -> an FTS5 query that cannot be a syntax error.

    Balanced "quoted phrases" stay phrases; every other run of non-space
    characters is one quoted word, so AND, OR, NOT, NEAR(, *, ^, :, - and
    parentheses are words to find. A term with no letter or digit (a lone
    ``*``) is left out. '' when nothing is left to look for.
    """
    text = (text or "")[:MAX_QUERY_CHARS]
    if text.count('"') % 2:  # the last quote has no partner: a character, not a phrase
        cut = text.rindex('"')
        text = text[:cut] + " " + text[cut + 1:]
    terms = []
    for phrase, word in re.findall(r'"([^"]*)"|([^\s"]+)', text):
        term = phrase if phrase else word
        if any(ch.isalnum() for ch in term):
            terms.append('"' + " ".join(term.split()) + '"')
    return " ".join(terms[:MAX_TERMS])


def highlight(excerpt, start: str, end: str) -> Markup:
    """Court text escaped, then the snippet's private markers made <mark>."""
    escaped = str(escape(CONTROL.sub(" ", excerpt or "")))
    opened = escaped.count(start)
    html = escaped.replace(start, "<mark>").replace(end, "</mark>")
    if opened > escaped.count(end):  # a snippet cut inside a match
        html += "</mark>" * (opened - escaped.count(end))
    return Markup(html)


def _filters(request):
    args = request.args
    chosen = {
        "court": (args.get("court") or "").strip(),
        "case": (args.get("case") or "").strip(),
        "date_from": (args.get("date_from") or "").strip(),
        "date_to": (args.get("date_to") or "").strip(),
        "type": (args.get("type") or "").strip(),
    }
    notes = []
    for key in ("date_from", "date_to"):
        if chosen[key] and not DATE.match(chosen[key]):
            notes.append(f"The date {chosen[key]!r} is not YYYY-MM-DD: it was left out.")
            chosen[key] = ""
    if chosen["type"] not in TYPES:
        chosen["type"] = ""
    return chosen, notes


def _where(kind: str, chosen: dict) -> tuple[str, dict]:
    """SQL conditions (after the MATCH) for one kind of hit, and their parameters."""
    clauses, params = [], {}
    table = "d" if kind == "document" else "e"
    if chosen["court"]:
        clauses.append(f"{table}.court_id = :court")
        params["court"] = chosen["court"]
    if chosen["case"]:
        clauses.append(f"{table}.docket_id = :case")
        params["case"] = chosen["case"]
    if chosen["date_from"]:
        clauses.append("e.date_filed >= :date_from")
        params["date_from"] = chosen["date_from"]
    if chosen["date_to"]:
        clauses.append("e.date_filed <= :date_to")
        params["date_to"] = chosen["date_to"]
    if kind == "document" and chosen["type"] == "main":
        clauses.append("coalesce(d.attachment_number, 0) = 0")
    if kind == "document" and chosen["type"] == "attachment":
        clauses.append("d.attachment_number > 0")
    return "".join(" and " + c for c in clauses), params


def _hits_sql(chosen: dict, score: bool = True, keep: int = 0) -> tuple[list[str], dict]:
    """One select per kind of hit searched: (kind, rid, score); without
    ``score``, only the rows (for counting them). A table is joined only when a
    filter needs its columns: on a word found in every document, joining each
    hit costs more than ranking it. With ``keep``, each select keeps only its
    ``keep`` best hits (the page's hits are among them): ranking happens in
    each table's own small top-k sort, not in one sort of every hit."""
    parts, params = [], {}
    order = f" order by score, rid limit {int(keep)}" if keep and score else ""
    if chosen["type"] != "entry":
        where, p = _where("document", chosen)
        params.update(p)
        join = ""
        if where:
            join = " join documents d on d.rowid = documents_fts.rowid"
            if chosen["date_from"] or chosen["date_to"]:
                join += " left join docket_entries e on e.id = d.entry_id"
        parts.append(
            "select 'document' as kind, documents_fts.rowid as rid"
            + (", bm25(documents_fts, 2.0, 1.0) as score" if score else "")
            + " from documents_fts" + join + " where documents_fts match :q" + where + order)
    if chosen["type"] in ("", "entry"):
        where, p = _where("entry", chosen)
        params.update(p)
        join = " join docket_entries e on e.rowid = docket_entries_fts.rowid" if where else ""
        parts.append(
            "select 'entry' as kind, docket_entries_fts.rowid as rid"
            + (", bm25(docket_entries_fts) as score" if score else "")
            + " from docket_entries_fts" + join + " where docket_entries_fts match :q" + where
            + order)
    return parts, params


def search_statements(chosen: dict, q: str, offset: int = 0) -> tuple[list[str], str, dict]:
    """The search page's statements for the FTS query ``q``: one per index
    searched (documents, entries), each giving its best ``offset + PAGE_SIZE
    + 1`` hits as (kind, rid, score), which :func:`merge_hits` makes the page's
    hits; the count of all hits; and their parameters."""
    parts, params = _hits_sql(chosen, keep=offset + PAGE_SIZE + 1)
    params["q"] = q
    counted, _ = _hits_sql(chosen, score=False)
    count = "select " + " + ".join(f"(select count(*) from ({part}))" for part in counted)
    return parts, count, params


def merge_hits(ranked: list, offset: int = 0) -> list:
    """The page's hits (PAGE_SIZE + 1 at most, to tell whether more follow)
    from each index's best ones, best first: by score, then kind and rowid."""
    hits = sorted((hit for rows in ranked for hit in rows),
                  key=lambda hit: (hit[2], hit[0], hit[1]))
    return hits[offset:offset + PAGE_SIZE + 1]


DOCUMENT_DETAILS = """
select documents_fts.rowid as rid, d.id, d.docket_id, d.entry_id, d.court_id, d.description,
       d.document_number, d.attachment_number, d.file_path, d.page_count, d.status,
       e.entry_key, e.entry_number, e.date_filed, e.description as entry_description,
       k.docket_number, k.case_name,
       snippet(documents_fts, 1, :start, :end, '…', 32) as excerpt,
       snippet(documents_fts, 0, :start, :end, '…', 32) as description_excerpt
from documents_fts join documents d on d.rowid = documents_fts.rowid
left join docket_entries e on e.id = d.entry_id
left join dockets k on k.id = d.docket_id
where documents_fts match :q and documents_fts.rowid in ({ids})
"""

ENTRY_DETAILS = """
select docket_entries_fts.rowid as rid, e.id, e.docket_id, e.id as entry_id, e.court_id,
       e.entry_key, e.entry_number, e.date_filed, e.description as entry_description,
       k.docket_number, k.case_name,
       m.description, m.document_number, m.attachment_number, m.file_path, m.page_count,
       m.status, m.id as document_id,
       snippet(docket_entries_fts, 0, :start, :end, '…', 32) as excerpt
from docket_entries_fts join docket_entries e on e.rowid = docket_entries_fts.rowid
left join dockets k on k.id = e.docket_id
left join documents m on m.id = (select id from documents where entry_id = e.id
                                 order by coalesce(attachment_number, 0) limit 1)
where docket_entries_fts match :q and docket_entries_fts.rowid in ({ids})
"""


def _result(kind: str, row: dict, start: str, end: str) -> dict:
    if start not in (row["excerpt"] or "") and row.get("description_excerpt"):
        row["excerpt"] = row["description_excerpt"]  # only the description matched
    docket_id = row["docket_id"] or ""
    court_id = row["court_id"] or docket_id.partition("/")[0]
    docket_number = row["docket_number"] or docket_id.partition("/")[2]
    entry_key = row["entry_key"] or (row["entry_id"] or "").partition("#")[2]
    has_document = kind == "document" or row.get("document_id")
    document_url = (urls.document(court_id, docket_number, entry_key, row["attachment_number"])
                    if has_document and entry_key else None)
    attachment = row["attachment_number"] or 0
    return {
        "kind": kind,
        "case_name": row["case_name"] or docket_id,
        "court_id": court_id,
        "docket_number": docket_number,
        "entry_number": row["entry_number"],
        "entry_key": entry_key,
        "date_filed": row["date_filed"],
        "description": row["description"] if has_document else None,
        "entry_description": row["entry_description"],
        "attachment_number": attachment if has_document else None,
        "page_count": row["page_count"] if has_document else None,
        "excerpt": highlight(row["excerpt"], start, end),
        "case_url": urls.case(court_id, docket_number),
        "entry_url": urls.entry(court_id, docket_number, entry_key) if entry_key else None,
        "document_url": document_url,
        "pdf_url": urls.stored_file(row["file_path"]) if has_document and row["file_path"] else None,
    }


async def run_search(db, q: str, chosen: dict, page: int) -> dict:
    """The page's results (dicts for search.html), their total and whether more follow."""
    offset = (page - 1) * PAGE_SIZE
    parts, count, params = search_statements(chosen, q, offset)
    # each index ranked, and all hits counted, at once on Datasette's SQL
    # threads (SQLite lets go of the GIL while it works: one core each)
    *ranked, total = await asyncio.gather(*(db.execute(part, params) for part in parts),
                                          db.execute(count, params))
    hits = merge_hits([answer.rows for answer in ranked], offset)
    total = total.rows[0][0]
    more = len(hits) > PAGE_SIZE
    hits = hits[:PAGE_SIZE]
    # private-use characters no tokenizer keeps and escape() leaves alone, and a
    # random part, so no court text can spell them
    start, end = "\ue000" + secrets.token_hex(8) + "\ue001", "\ue002" + secrets.token_hex(8) + "\ue003"
    details = {}
    for kind, sql in (("document", DOCUMENT_DETAILS), ("entry", ENTRY_DETAILS)):
        ids = [int(h["rid"]) for h in hits if h["kind"] == kind]
        if ids:
            rows = (await db.execute(sql.format(ids=", ".join(map(str, ids))),
                                     {"q": q, "start": start, "end": end})).rows
            for row in rows:
                details[(kind, row["rid"])] = _result(kind, dict(row), start, end)
    results = [details[(h["kind"], h["rid"])] for h in hits if (h["kind"], h["rid"]) in details]
    return {"results": results, "total": total, "more": more}


def _page_number(request) -> int:
    try:
        return min(max(int(request.args.get("page") or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


async def search_page(datasette, request):
    db = _archive_db(datasette)
    typed = request.args.get("q") or ""
    chosen, notes = _filters(request)
    page = _page_number(request)
    query = fts_query(typed)
    found = {"results": [], "total": 0, "more": False}
    if query:
        try:
            found = await run_search(db, query, chosen, page)
        except QueryInterrupted:
            notes.append("This search took too long: try fewer common words, a phrase, "
                         "or a court, case or dates.")
        except sqlite3.OperationalError as exc:  # never an error page for what was typed
            notes.append(f"This search could not be run ({exc}).")
    elif typed.strip():
        notes.append("There is no word to look for in that: type a word or a phrase.")
    courts = [r[0] for r in (await db.execute(
        "select distinct court_id from dockets where court_id is not null order by 1")).rows]
    cases = [dict(r) for r in (await db.execute(
        "select id, court_id, docket_number, case_name from dockets"
        " order by court_id, docket_number limit 1000")).rows]

    def page_url(n):
        return urls.search(typed, **chosen, page=n if n > 1 else None)

    return Response.html(await datasette.render_template("search.html", {
        "q": typed, "searched": bool(query), "chosen": chosen, "notes": notes,
        "types": TYPES, "courts": courts, "cases": cases, "page": page,
        "first_number": (page - 1) * PAGE_SIZE + 1,
        "previous_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if found["more"] and page < MAX_PAGE else None,
        "feed_url": urls.FEED, "search_url": urls.SEARCH, "metadata": datasette.metadata(),
        **found,
    }, request=request))


# --- the home page --------------------------------------------------------

CASES_SQL = """
select k.id, k.court_id, k.docket_number, k.case_name, k.assigned_to_str,
       max(coalesce(k.date_last_filing, ''),
           coalesce((select max(date_filed) from docket_entries where docket_id = k.id), ''))
         as last_filing,
       (select count(*) from docket_entries where docket_id = k.id) as entries,
       (select count(*) from documents where docket_id = k.id) as documents
from dockets k
order by last_filing desc, k.court_id, k.docket_number
limit 500
"""


def _size(n) -> str:
    try:
        n = float(n)
    except (TypeError, ValueError):
        return ""
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return ""


def _releases_folder(datasette):
    return (datasette.plugin_config(PLUGIN) or {}).get("releases")


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as fh:
            value = json.load(fh)
        return value if isinstance(value, dict) else None
    except (OSError, ValueError):
        return None


def _date_range(manifest: dict):
    value = manifest.get("date_range") or manifest.get("dates") or {}
    if isinstance(value, dict):
        low = value.get("from") or value.get("first") or value.get("start") or value.get("min")
        high = value.get("to") or value.get("last") or value.get("end") or value.get("max")
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = value
    else:
        return None
    return (low, high) if low or high else None


def _names(value):
    """A manifest's cases/courts (a list of ids or of dicts, or a count) -> (count, names)."""
    if isinstance(value, int):
        return value, []
    if not isinstance(value, list):
        return None, []
    names = []
    for item in value:
        if isinstance(item, dict):
            names.append(" ".join(str(item[k]) for k in ("court_id", "docket_number", "case_name")
                                  if item.get(k)) or str(item.get("id") or ""))
        else:
            names.append(str(item))
    return len(names), names


SHOWN_TABLES = ("dockets", "docket_entries", "documents", "parties", "attorneys")


def _counts(counts) -> dict:
    """A manifest's rows per table, the tables a reader cares about first (or only)."""
    if not isinstance(counts, dict):
        return {}
    counts = {k: v for k, v in counts.items() if isinstance(v, int)}
    shown = {k: counts[k] for k in SHOWN_TABLES if k in counts}
    return shown or counts


def _withheld(value):
    """How many documents a release left out (a count, or a dict or list of them)."""
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return value.get("count") if isinstance(value.get("count"), int) else None
    if isinstance(value, list):
        return len(value)
    return None


def latest_release(folder):
    """What the home page says of ``latest.json``, or None when there is no release."""
    if not folder:
        return None
    latest = _read_json(os.path.join(folder, "latest.json"))
    if not latest or not RELEASE_NAME.match(str(latest.get("db") or "")):
        return None
    db_file = os.path.join(folder, latest["db"])
    if not os.path.isfile(db_file):
        return None
    manifest_name = str(latest.get("manifest") or "")
    manifest = (_read_json(os.path.join(folder, manifest_name))
                if RELEASE_NAME.match(manifest_name) else None) or {}
    counts = manifest.get("counts") or manifest.get("tables") or {}
    cases_count, cases = _names(manifest.get("cases"))
    courts_count, courts = _names(manifest.get("courts"))
    return {
        "date": latest.get("date") or latest["db"][len("dockets-"):-len(".db")],
        "size": _size(latest.get("size") or os.path.getsize(db_file)),
        "sha256": latest.get("sha256") or manifest.get("sha256"),
        "url": urls.release(latest["db"]),
        "name": latest["db"],
        "manifest_url": urls.release(manifest_name) if manifest else None,
        "counts": _counts(counts),
        "cases_count": cases_count, "cases": cases[:20],
        "courts_count": courts_count, "courts": courts,
        "date_range": _date_range(manifest),
        "withheld": _withheld(manifest.get("withheld")),
    }


@hookimpl
def prepare_connection(conn):
    # for the canned query `search` (metadata.yml): '""' matches nothing, and is valid
    conn.create_function("archive_fts", 1, lambda text: fts_query(text) or '""',
                         deterministic=True)


@hookimpl
def extra_template_vars(view_name, datasette, request):
    if view_name != "index":
        return {}

    async def home():
        db = _archive_db(datasette)
        try:
            rows = (await db.execute(CASES_SQL)).rows
        except (sqlite3.OperationalError, QueryInterrupted):  # not an archive
            rows = []
        cases = [dict(r, case_url=urls.case(r["court_id"], r["docket_number"]),
                      feed_url=urls.case_feed(r["court_id"], r["docket_number"]))
                 for r in rows]
        live = None
        if not db.is_memory and datasette.setting("allow_download"):
            live = {"url": datasette.urls.database(db.name) + ".db", "name": db.name + ".db",
                    "size": _size(os.path.getsize(db.path)) if db.path else ""}
        return {"cases": cases, "release": latest_release(_releases_folder(datasette)),
                "live_download": live, "search_url": urls.SEARCH, "feed_url": urls.FEED}

    return home


# --- releases ---------------------------------------------------------------

def _release_files(folder) -> set:
    """The names /releases/ serves: latest.json, what it names, and each manifest with its db."""
    names = set()
    latest = _read_json(os.path.join(folder, "latest.json"))
    if latest is not None:
        names.add("latest.json")
        names.update(str(latest.get(k) or "") for k in ("db", "manifest"))
    try:
        listing = os.listdir(folder)
    except OSError:
        listing = []
    for name in listing:
        if name.endswith(".manifest.json") and RELEASE_NAME.match(name):
            names.update((name, name[:-len(".manifest.json")] + ".db"))
    return {n for n in names if n == "latest.json" or RELEASE_NAME.match(n)}


async def release_file(datasette, request):
    folder = _releases_folder(datasette)
    name = unquote(request.url_vars["name"])
    if not folder or name not in _release_files(folder):
        raise NotFound("No such release file")
    root = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.dirname(path) != root or not os.path.isfile(path):
        raise NotFound("No such release file")
    if name.endswith(".json"):
        return AsgiFileDownload(path, content_type="application/json; charset=utf-8")
    return AsgiFileDownload(path, filename=name, content_type="application/vnd.sqlite3")


# --- the canned queries these pages replace -----------------------------------

async def old_search(datasette, request):
    if request.url_vars["database"] not in datasette.databases:
        raise NotFound("Database not found")
    return Response.redirect(urls.search(request.args.get("q") or ""), status=302)


async def old_feed(datasette, request):
    if request.url_vars["database"] not in datasette.databases:
        raise NotFound("Database not found")
    return Response.redirect(urls.FEED, status=302)


@hookimpl
def register_routes(datasette):
    return [
        (r"^/search$", search_page),
        (r"^/releases/(?P<name>[^/]+)$", release_file),
        (r"^/(?P<database>[^/.]+)/search$", old_search),
        (r"^/(?P<database>[^/.]+)/feed\.atom$", old_feed),
    ]
