"""Datasette plugin: the archive's search, and its releases.

- ``/search?q=``: one box for cases and filings. Matching cases (the case
  index, ``archive.site.case_index``: names, docket numbers in any printed form,
  parties, attorneys, firms, judges) are listed first, the best five with a
  link to all of them on the home page; then the filings, **one result per
  document**: a document is found by its own text and description
  (``documents_fts``) or by its entry's description (``docket_entries_fts``),
  and shown once with both excerpts; an entry with no document is a result of
  its own. The count says how many documents (and such entries) match.
  Filters: court, case, date range, document type; 20 results a page.
- The query language (``archive.site.search_query``): words (all must appear),
  ``"phrases"``, ``OR``, ``NOT``/``-word``, ``inj*`` prefixes, parentheses,
  docket numbers as printed. Whatever is typed is a search, never an error.
- Ranking is bm25, bounded: a search found in more than ``RANK_CAP``
  documents (1,000) or entries (10,000) has only the newest of them ranked by
  relevance (the most recently archived: FTS5 walks its hits by rowid
  cheaply, while bm25 reads every position of every hit); the page says so,
  and a phrase, another word or a filter that narrows the hits ranks them all.
- The count is of documents (and entries without one). It is exact up to
  ``EXACT_ENTRIES`` entry hits and ``RANK_CAP`` document hits; beyond, it is
  an estimate ("about"): the documents found by their text, plus the entry
  hits' share that have a document (from the newest ``SAMPLE``) times the
  chance such a document was not found by its text already. With a filter,
  an index's hits past its ranking window are counted as the window's share
  of all its hits (filtering every hit of a common word is the slow part).
- Excerpts come from FTS5 ``snippet()`` with marker strings no court text
  can contain (random per request); the excerpt is escaped first and only
  then are the markers turned into ``<mark>``. A withheld document
  (``archive.publish.withheld_reason``) never shows its text or PDF, and is
  not a result for its text alone.
- ``/releases/{name}``: the files of the releases folder that ``latest.json``
  or a release manifest names (``dockets-YYYY-MM-DD.db`` and its
  ``.manifest.json``), and ``latest.json``; nothing else, no listing.
- ``/{database}/search`` and ``/{database}/feed.atom``, the canned queries
  these pages replace, redirect to them; the canned queries ``search`` and
  ``search_cases`` stay for JSON and CSV (``/dockets/search.json?q=``), their
  input made an FTS5 query by ``archive_fts()`` and ``archive_case_fts()``,
  registered here on every connection.

The home page (its list of cases) is ``home.py``'s; its release and download
box is this module's.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sqlite3
from urllib.parse import unquote, urlencode

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import AsgiFileDownload, NotFound, Response
from markupsafe import Markup, escape

from archive.site import courts as court_table
from archive.site import case_index as site_index, urls
from archive.publish import withheld_reason
from archive.site.search_query import parse
from parsers.kinds import KINDS

PLUGIN = "docket-archive"
PAGE_SIZE = 20
MAX_PAGE = 250           # offset at most 5,000 results in
CASES_SHOWN = 5          # matching cases listed above the filings
CASE_MENU = 300          # cases offered as a menu of the search's case filter, at most
# hits of one index ranked by bm25 at most (the newest): bm25 reads every
# position of a word in a hit, and a document holds many more than an entry
RANK_CAP = {"document": 1_000, "entry": 10_000}
# the count: exact (each entry hit's document checked against the documents
# found) up to these many entry hits and RANK_CAP document hits; beyond,
# estimated from the newest SAMPLE entry hits
EXACT_ENTRIES = 2_000
SAMPLE = 500
TYPES = {"": "documents and entries", "main": "main documents", "attachment": "attachments",
         "entry": "docket entries"}
RELEASE_NAME = re.compile(r"^dockets-\d{4}-\d{2}-\d{2}(?:-\d+)?\.(db|manifest\.json)$")  # -2: a second release that day
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _archive_db(datasette):
    return datasette.get_database()


def markers() -> tuple[str, str]:
    """The snippet's (start, end) markers for :func:`highlight`: private-use
    characters around a random token, which no court text holds (and
    highlight strips control characters before it looks for them)."""
    return ("\ue000" + secrets.token_hex(8) + "\ue001",
            "\ue002" + secrets.token_hex(8) + "\ue003")


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
        # the kind of filing (parsers.kinds): an order, an opinion, a motion...
        "kind": (args.get("kind") or "").strip().lower(),
    }
    notes = []
    for key in ("date_from", "date_to"):
        if chosen[key] and not DATE.match(chosen[key]):
            notes.append(f"The date {chosen[key]!r} is not YYYY-MM-DD: it was left out.")
            chosen[key] = ""
    if chosen["type"] not in TYPES:
        chosen["type"] = ""
    if chosen["kind"] not in KINDS:
        chosen["kind"] = ""
    return chosen, notes


NO_FILTERS = {"court": "", "case": "", "date_from": "", "date_to": "", "type": "", "kind": ""}


# --- the statements -----------------------------------------------------------
#
# A filter is one set of rowids, from the indexes of documents and
# docket_entries (a case's or a court's rows, entries filed between two
# dates: archive.site.case_index adds an index on docket_entries.date_filed), each
# hit tested against it. The set is tested with ``+rowid in``: the unary plus
# keeps SQLite from handing the set to FTS5 as rowids to look up one by one,
# each a walk over the terms' hits (seconds for a common word); and a set
# made once reads the indexes in order, where a test per hit would read a row
# of a big table at random.

def _conditions(kind: str, chosen: dict) -> tuple[str, dict]:
    fts = FTS_OF[kind]
    alias = "d" if kind == "document" else "e"
    where, params = [], {}
    if chosen["case"]:
        where.append(f"{alias}.docket_id = :case")
        params["case"] = chosen["case"]
    elif chosen["court"]:
        # a docket id is court/number: a court's rows are one range of the docket_id index
        where.append(f"{alias}.docket_id >= :court_low and {alias}.docket_id < :court_high")
        params.update(court_low=chosen["court"] + "/", court_high=chosen["court"] + "0")
    dates = []  # conditions on the entry (of a document, its entry's)
    for key, op in (("date_from", ">="), ("date_to", "<=")):
        if chosen[key]:
            dates.append(f"e.date_filed {op} :{key}")
            params[key] = chosen[key]
    if chosen.get("kind"):
        dates.append("e.kind = :kind")
        params["kind"] = chosen["kind"]
    if kind == "document":
        if chosen["type"] == "main":
            where.append("coalesce(d.attachment_number, 0) = 0")
        if chosen["type"] == "attachment":
            where.append("d.attachment_number > 0")
        rows = ("docket_entries e join documents d on d.entry_id = e.id" if dates
                else "documents d")
    else:
        rows = "docket_entries e"
    where += dates
    if not where:
        return "", params
    return (f" and +{fts}.rowid in (select {alias}.rowid from {rows} where "
            + " and ".join(where) + ")"), params


FTS_OF = {"document": "documents_fts", "entry": "docket_entries_fts"}


def _searched(chosen: dict) -> list[str]:
    """The indexes a search with these filters looks in."""
    kinds = []
    if chosen["type"] != "entry":
        kinds.append("document")
    if chosen["type"] in ("", "main", "entry"):
        kinds.append("entry")
    return kinds


BM25_OF = {"document": "bm25(documents_fts, 2.0, 1.0)", "entry": "bm25(docket_entries_fts)"}


def window_statement(kind: str, chosen: dict) -> tuple[str, dict]:
    """(hits, oldest): how many of the index's newest RANK_CAP hits there are
    (all its hits, when fewer) and the rowid of the oldest of them. FTS5 walks
    its hits newest first and stops there: the hits ranked are those at or
    above that rowid."""
    fts = FTS_OF[kind]
    where, params = _conditions(kind, chosen)
    return (f"select count(*), coalesce(min(rid), 0) from (select {fts}.rowid as rid from {fts} "
            f"where {fts} match :q{where} order by {fts}.rowid desc limit {RANK_CAP[kind]})",
            params)


def raw_counts_statement(kinds, floors: dict = None) -> str:
    """(documents, entries, all documents): every hit of each index, with no
    filter (at or above ``floors[kind]`` when given; FTS5 counts hits without
    reading their positions), and the documents' highest rowid (about how many
    there are)."""
    parts = []
    for kind in ("document", "entry"):
        fts = FTS_OF[kind]
        floor = int((floors or {}).get(kind) or 0)
        parts.append(f"(select count(*) from {fts} where {fts} match :q"
                     + (f" and {fts}.rowid >= {floor}" if floor else "") + ")"
                     if kind in kinds else "0")
    parts.append("(select coalesce(max(rowid), 0) from documents)")
    return "select " + ", ".join(parts)


# the document that stands for an entry (rowid ``{rid}``): its main document
# (attachment 0, or the first)
MAIN_DOCUMENT = ("(select m.rowid from docket_entries e join documents m on m.entry_id = e.id "
                 "where e.rowid = {rid} order by coalesce(m.attachment_number, 0), m.rowid "
                 "limit 1)")


def ranked_statement(kind: str, chosen: dict, keep: int, floor: int = 0) -> tuple[str, dict]:
    """One index's best ``keep`` hits at or above rowid ``floor``: (rid, score,
    main), ``main`` the main document of an entry hit."""
    fts = FTS_OF[kind]
    where, params = _conditions(kind, chosen)
    sql = (f"select {fts}.rowid as rid, {BM25_OF[kind]} as score from {fts} "
           f"where {fts} match :q and {fts}.rowid >= {int(floor)}{where} "
           f"order by score, rid limit {int(keep)}")
    main = MAIN_DOCUMENT.format(rid="h.rid") if kind == "entry" else "null"
    return f"select h.rid, h.score, {main} as main from ({sql}) h", params


def overlap_statement(chosen: dict, exact: bool) -> tuple[str, dict]:
    """(without_document, more_documents, checked) over the entry hits (all of
    them when ``exact``, else the newest SAMPLE): those with no document, and
    (exact only) those whose main document the documents' hits do not hold."""
    ewhere, params = _conditions("entry", chosen)
    entries = (f"select {MAIN_DOCUMENT.format(rid='docket_entries_fts.rowid')} as main "
               f"from docket_entries_fts where docket_entries_fts match :q{ewhere}")
    if not exact:
        entries += f" order by docket_entries_fts.rowid desc limit {SAMPLE}"
    more = "0"
    if exact and chosen["type"] != "entry":
        dwhere, p = _conditions("document", chosen)
        params.update(p)
        more = ("coalesce(sum(main is not null and main not in (select rowid from documents_fts "
                f"where documents_fts match :q{dwhere})), 0)")
    elif exact:
        more = "coalesce(sum(main is not null), 0)"
    return (f"select coalesce(sum(main is null), 0), {more}, count(*) from ({entries})", params)


def estimate(documents: int, entries: int, all_documents: int, overlap,
             counted: bool = True) -> dict:
    """The count in documents (and entries without one) from the hits' counts
    and ``overlap`` (overlap_statement's row; None: no entry was searched).
    ``counted``: the hits' counts are exact, not estimates themselves."""
    if not entries or overlap is None:
        return {"documents": documents, "entries": 0, "estimated": not counted}
    without, more, checked = overlap
    if checked >= entries and counted:  # every entry hit was checked: exact
        return {"documents": documents + more, "entries": without, "estimated": False}
    share_without = without / checked if checked else 0
    # an entry's document was found by its own text about as often as any document
    found_anyway = min(1.0, documents / all_documents) if all_documents else 0
    return {"documents": documents + round(entries * (1 - share_without) * (1 - found_anyway)),
            "entries": round(entries * share_without), "estimated": True}


SNIPPETS = {
    "document": ("snippet(documents_fts, 1, :start, :end, '…', 32) as excerpt, "
                 "snippet(documents_fts, 0, :start, :end, '…', 32) as description_excerpt"),
    "entry": "snippet(docket_entries_fts, 0, :start, :end, '…', 48) as excerpt",
}
SNIPPET_GAP = 2_000


def snippets_statement(kind: str, rids) -> str:
    """The excerpts of these hits. FTS5 finds a row by rowid by walking the
    hits of the query's terms, which for a prefix (``inj*``) means each of its
    words: so the rows are read in runs, one walk over each run of nearby
    rowids, rather than one search per row."""
    fts = FTS_OF[kind]
    runs: list = []
    for rid in sorted({int(r) for r in rids}):
        if runs and rid - runs[-1][-1] <= SNIPPET_GAP:
            runs[-1].append(rid)
        else:
            runs.append([rid])
    return " union all ".join(
        f"select {fts}.rowid as rid, {SNIPPETS[kind]} from {fts} where {fts} match :q and "
        f"{fts}.rowid between {run[0]} and {run[-1]} and +{fts}.rowid in ({_ids(run)})"
        for run in runs)


DOCUMENT_ROWS = """
select d.rowid as rid, d.id, d.docket_id, d.entry_id, d.court_id, d.description,
       d.document_number, d.attachment_number, d.file_path, d.page_count, d.status,
       d.is_sealed, d.bad_redactions,
       e.rowid as entry_rid, e.entry_key, e.entry_number, e.date_filed,
       e.description as entry_description, k.docket_number, k.case_name
from documents d
left join docket_entries e on e.id = d.entry_id
left join dockets k on k.id = d.docket_id
where d.rowid in ({ids})
"""

ENTRY_ROWS = """
select e.rowid as rid, e.id as entry_id, e.docket_id, e.court_id, e.entry_key, e.entry_number,
       e.date_filed, e.description as entry_description, k.docket_number, k.case_name
from docket_entries e left join dockets k on k.id = e.docket_id
where e.rowid in ({ids})
"""


def _ids(values) -> str:
    return ", ".join(str(int(v)) for v in values)


def merge_units(doc_hits, entry_hits, mains: dict) -> list[dict]:
    """Hits -> results, one per document: a document's score is the better of
    its own and its entry's; an entry with no document is a result of its own.
    Best first (score, then kind and rowid: stable across pages)."""
    units: dict = {}
    for rid, score in doc_hits:
        unit = units.setdefault(("document", rid), {"kind": "document", "rid": rid,
                                                    "score": score, "entry_rid": None})
        unit["score"] = min(unit["score"], score)
    for rid, score in entry_hits:
        main = mains.get(rid)
        key = ("document", main) if main is not None else ("entry", rid)
        unit = units.setdefault(key, {"kind": key[0], "rid": key[1], "score": score,
                                      "entry_rid": None})
        unit["score"] = min(unit["score"], score)
        unit["entry_rid"] = rid
    return sorted(units.values(), key=lambda u: (u["score"], u["kind"], u["rid"]))


async def find_filings(execute, q: str, chosen: dict, page: int) -> dict:
    """The page's results for the FTS5 query ``q``, their count and notes.

    ``execute(statements)`` runs [(sql, params)] and returns each one's rows
    (Datasette's SQL threads at once, or one sqlite3 connection in turn: the
    benchmark's direct SQLite). Two rounds: each index's window of hits to
    rank and the raw counts; then the ranking (with each entry's document),
    what the count needs beyond, and the overlap of entries and documents."""
    offset = (page - 1) * PAGE_SIZE
    keep = offset + PAGE_SIZE + 1
    kinds = _searched(chosen)
    filtered = any(chosen[k] for k in ("court", "case", "date_from", "date_to", "type", "kind"))
    first = [(sql, {**params, "q": q}) for sql, params in
             (window_statement(kind, chosen) for kind in kinds)]
    first.append((raw_counts_statement(kinds), {"q": q}))
    *windows, raw = await execute(first)
    raw_documents, raw_entries, all_documents = raw[0]
    hits, floors = {}, {}
    for kind, window in zip(kinds, windows):
        hits[kind], oldest = window[0]
        floors[kind] = oldest if hits[kind] >= RANK_CAP[kind] else 0
    capped = [kind for kind in kinds if floors[kind]]
    second = {kind: ranked_statement(kind, chosen, keep, floors[kind]) for kind in kinds}
    second = {kind: (sql, {**params, "q": q}) for kind, (sql, params) in second.items()}
    # a filtered index past its window: its count is the window's share of all its hits
    scale = [kind for kind in capped if filtered]
    if scale:
        second["above"] = (raw_counts_statement(scale, floors), {"q": q})
    counts = {"document": raw_documents, "entry": raw_entries} if not filtered else dict(hits)
    if counts.get("entry"):
        exact = not capped and counts["entry"] <= EXACT_ENTRIES
        sql, params = overlap_statement(chosen, exact)
        second["overlap"] = (sql, {**params, "q": q})
    answers = dict(zip(second, await execute(list(second.values()))))
    if "above" in answers:
        above = dict(zip(("document", "entry"), answers["above"][0][:2]))
        every = {"document": raw_documents, "entry": raw_entries}
        for kind in scale:
            counts[kind] = round(RANK_CAP[kind] * every[kind] / max(above[kind], 1))
    doc_hits = [(r[0], r[1]) for r in answers.get("document", [])]
    entry_hits = [(r[0], r[1]) for r in answers.get("entry", [])]
    mains = {r[0]: r[2] for r in answers.get("entry", [])} if chosen["type"] != "attachment" \
        else {}
    overlap = tuple(answers["overlap"][0]) if "overlap" in answers else None
    units = merge_units(doc_hits, entry_hits, mains)
    count = estimate(counts.get("document", 0), counts.get("entry", 0), all_documents, overlap,
                     counted=not scale)
    return {"units": units[offset:offset + PAGE_SIZE], **count,
            "total": count["documents"] + count["entries"],
            "more": len(units) > offset + PAGE_SIZE, "capped": capped}


async def result_details(execute, q: str, units: list[dict]) -> list[dict]:
    """The page's results with their rows and excerpts (dicts for search.html)."""
    start, end = markers()
    marks = {"q": q, "start": start, "end": end}
    doc_rids = [u["rid"] for u in units if u["kind"] == "document"]
    entry_rids = [u["entry_rid"] for u in units if u["entry_rid"] is not None]
    lone_entries = [u["rid"] for u in units if u["kind"] == "entry"]
    statements, names = [], []
    for name, sql, params in (
            # every document's: one found by its entry may match by its text too
            ("doc_snippets", doc_rids and snippets_statement("document", doc_rids), marks),
            ("entry_snippets", entry_rids and snippets_statement("entry", entry_rids), marks),
            ("doc_rows", doc_rids and DOCUMENT_ROWS.format(ids=_ids(doc_rids)), {}),
            ("entry_rows", lone_entries and ENTRY_ROWS.format(ids=_ids(lone_entries)), {})):
        if sql:
            statements.append((sql, params))
            names.append(name)
    found = {name: {r["rid"] if hasattr(r, "keys") else r[0]: r for r in rows}
             for name, rows in zip(names, await execute(statements))}
    results = []
    for unit in units:
        row = dict(found.get("doc_rows" if unit["kind"] == "document" else "entry_rows",
                             {}).get(unit["rid"]) or {})
        if not row:
            continue
        snippets = found.get("doc_snippets", {}).get(unit["rid"])
        entry_snippet = found.get("entry_snippets", {}).get(unit["entry_rid"]) \
            if unit["entry_rid"] is not None else None
        result = _result(unit["kind"], row, snippets, entry_snippet, start, end)
        if result:
            results.append(result)
    return results


def _marked(text, start) -> bool:
    return bool(text) and start in text


def _result(kind: str, row: dict, snippets, entry_snippet, start: str, end: str):
    docket_id = row.get("docket_id") or ""
    court_id = row.get("court_id") or docket_id.partition("/")[0]
    docket_number = row.get("docket_number") or docket_id.partition("/")[2]
    entry_key = row.get("entry_key") or (row.get("entry_id") or "").partition("#")[2]
    is_document = kind == "document"
    withheld = withheld_reason(row, row.get("entry_description")) if is_document else None
    text_excerpt = description_excerpt = None
    if snippets is not None:
        text_excerpt, description_excerpt = snippets[1], snippets[2]
    entry_matched = entry_snippet is not None and _marked(entry_snippet[1], start)
    description_matched = _marked(description_excerpt, start)
    text_matched = _marked(text_excerpt, start)
    if withheld:
        text_matched = False  # its text is not public: neither shown nor a reason to list it
        if not (entry_matched or description_matched):
            return None
    attachment = row.get("attachment_number") or 0
    court = court_table.court(court_id)
    return {
        "kind": kind,
        "case_name": row.get("case_name") or docket_id,
        "court_id": court_id, "court_name": court["name"], "court_short": court["short_name"],
        "docket_number": docket_number,
        "entry_number": row.get("entry_number"),
        "document_number": row.get("document_number") if is_document else None,
        "entry_key": entry_key,
        "date_filed": row.get("date_filed"),
        "description": (highlight(description_excerpt, start, end) if description_matched
                        else row.get("description")) if is_document else None,
        "entry_description": (highlight(entry_snippet[1], start, end) if entry_matched
                              else _shortened(row.get("entry_description"))),
        "attachment_number": attachment if is_document else None,
        "page_count": row.get("page_count") if is_document else None,
        "excerpt": highlight(text_excerpt, start, end) if text_matched else None,
        "found_in": [where for where, found in (("the document's text", text_matched),
                                                ("its description", description_matched),
                                                ("the docket entry", entry_matched)) if found],
        "withheld": bool(withheld),
        "case_url": urls.case(court_id, docket_number),
        "entry_url": urls.entry(court_id, docket_number, entry_key) if entry_key else None,
        "document_url": (urls.document(court_id, docket_number, entry_key, attachment)
                         if is_document and entry_key else None),
        "pdf_url": (urls.stored_file(row["file_path"])
                    if is_document and row.get("file_path") and not withheld else None),
    }


def _shortened(text, limit: int = 300):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


# --- cases above filings ------------------------------------------------------

async def find_cases(db, case_q: str, chosen: dict) -> dict:
    """The best CASES_SHOWN cases matching ``case_q`` and how many match (the
    case index; none without it)."""
    if not case_q or chosen["case"]:
        return {"cases": [], "count": 0}
    if not await db.execute_fn(site_index.has_index):
        return {"cases": [], "count": 0, "unindexed": True}
    where, params = "", {"q": case_q, "limit": CASES_SHOWN}
    if chosen["court"]:
        where, params["court"] = " and c.court_id = :court", chosen["court"]
    rows, count = await asyncio.gather(
        db.execute(site_index.match_sql(where=where), params),
        db.execute(f"select count(*) from {site_index.FTS} cross join {site_index.INDEX} c "
                   f"on c.id = {site_index.FTS}.rowid where {site_index.FTS} match :q{where}",
                   params))
    cases = [dict(r, case_url=urls.case(r["court_id"], r["docket_number"])) for r in rows.rows]
    return {"cases": cases, "count": count.rows[0][0]}


def _page_number(request) -> int:
    try:
        return min(max(int(request.args.get("page") or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


def _on_threads(db):
    async def execute(statements):
        answers = await asyncio.gather(*(db.execute(sql, params) for sql, params in statements))
        return [answer.rows for answer in answers]
    return execute


async def search_page(datasette, request):
    db = _archive_db(datasette)
    typed = request.args.get("q") or ""
    chosen, notes = _filters(request)
    page = _page_number(request)
    query = parse(typed)
    notes += query.notes
    found = {"results": [], "total": 0, "documents": 0, "entries": 0, "more": False,
             "estimated": False, "capped": []}
    cases = {"cases": [], "count": 0}
    execute = _on_threads(db)
    if query.fts:
        try:
            search = asyncio.ensure_future(find_filings(execute, query.fts, chosen, page))
            if page == 1:
                cases = await find_cases(db, query.case_fts, chosen)
            found.update(await search)
            found["results"] = await result_details(execute, query.fts, found.pop("units"))
        except QueryInterrupted:
            notes.append("This search took too long: try fewer common words, a phrase, "
                         "or a court, case or dates.")
        except sqlite3.OperationalError as exc:  # never an error page for what was typed
            notes.append(f"This search could not be run ({exc}).")
    elif typed.strip() and not query.notes:
        notes.append("There is no word to look for in that: type a word or a phrase.")
    courts, case_choices = await _choices(db, chosen)

    def page_url(n):
        return urls.search(typed, **chosen, page=n if n > 1 else None)

    return Response.html(await datasette.render_template("search.html", {
        "q": typed, "searched": bool(query.fts), "chosen": chosen, "notes": notes,
        "types": TYPES, "kinds": KINDS, "courts": courts, "cases": case_choices, "page": page,
        "case_hits": cases["cases"], "case_count": cases["count"],
        "all_cases_url": "/?" + _encode({"q": typed, "court": chosen["court"]}),
        "rank_cap": RANK_CAP,
        "first_number": (page - 1) * PAGE_SIZE + 1,
        "previous_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if found["more"] and page < MAX_PAGE else None,
        "feed_url": urls.FEED, "search_url": urls.SEARCH, "metadata": datasette.metadata(),
        **found,
    }, request=request))


def _encode(params: dict) -> str:
    return urlencode([(k, v) for k, v in params.items() if v])


async def _choices(db, chosen: dict):
    """The court and case menus: courts named in words; the cases when there
    are few enough to choose from a list (a chosen case always)."""
    courts = [{"id": r[0], "name": court_table.name(r[0]), "kind": court_table.court(r[0])["kind"]}
              for r in (await db.execute("select distinct court_id from dockets "
                                         "where court_id is not null order by 1")).rows]
    courts.sort(key=lambda c: (court_table.KINDS.index(c["kind"]), c["name"]))
    cases = [dict(r) for r in (await db.execute(
        "select id, court_id, docket_number, case_name from dockets"
        f" order by court_id, docket_number limit {CASE_MENU + 1}")).rows]
    if len(cases) > CASE_MENU:
        cases = []
    if chosen["case"] and all(c["id"] != chosen["case"] for c in cases):
        cases += [dict(r) for r in (await db.execute(
            "select id, court_id, docket_number, case_name from dockets where id = ?",
            [chosen["case"]])).rows]
    return courts, cases


# --- the home page's download box ---------------------------------------------------

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
    # for the canned queries `search` and `search_cases` (metadata.yml): '""'
    # matches nothing, and is valid
    conn.create_function("archive_fts", 1, lambda text: parse(text).fts or '""',
                         deterministic=True)
    conn.create_function("archive_case_fts", 1, lambda text: parse(text).case_fts or '""',
                         deterministic=True)


@hookimpl
def extra_template_vars(view_name, datasette, request):
    """The home page's download box: the latest release, or the live file."""
    if view_name != "index":
        return {}

    async def home():
        db = _archive_db(datasette)
        live = None
        if not db.is_memory and datasette.setting("allow_download"):
            live = {"url": datasette.urls.database(db.name) + ".db", "name": db.name + ".db",
                    "size": _size(os.path.getsize(db.path)) if db.path else ""}
        return {"release": latest_release(_releases_folder(datasette)),
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
