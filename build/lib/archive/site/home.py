"""Datasette plugin: the home page, ``/``, a list of the archive's cases to
find one by.

- How many cases there are, and how many the filters keep.
- Filters: a search of the cases (names, docket numbers in any printed form,
  parties, attorneys, firms and judges: ``archive.site.search_query`` on the case
  index), the court (named in words, grouped by kind), open or terminated,
  dates filed and of the last filing (from, to).
- Sorted by last filing (default), date filed, name, court, number of
  entries, or best match when searching; 50 a page.
- Read from the derived ``case_index`` (``archive.site.case_index``); an archive
  without it (an older one, or one the publisher has not indexed yet) is
  listed from ``dockets`` with a note, its search a match on names and numbers.

The page is ``index.html``, rendered here rather than by Datasette's own
index view (which inspects every table on each request); its download box
comes from ``search.py``'s ``extra_template_vars``.
"""
from __future__ import annotations

import asyncio
import re
import sqlite3
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response

from archive.site import courts as court_table
from archive.site import case_index as site_index, urls
from archive.site.search_query import parse

PAGE_SIZE = 50
MAX_PAGE = 2000
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_FILTERS = {"filed_from": "Filed from", "filed_to": "Filed to",
                "last_from": "Last filing from", "last_to": "Last filing to"}
# the tables a reader looks at first, in this order; the rest follow by name
FIRST_TABLES = ("dockets", "docket_entries", "documents", "parties", "attorneys",
                "party_attorneys", "case_index", "courts")
# the table header's sort links: column -> (sort when first clicked, sort when clicked again)
HEADER_SORTS = {"case": ("name", "name"), "court": ("court", "court"),
                "filed": ("filed", "filed_asc"), "last": ("last_filing", "last_filing_asc"),
                "entries": ("entries", "entries")}


def _choices(request) -> tuple[dict, list]:
    args = request.args
    chosen = {key: (args.get(key) or "").strip()[:200]
              for key in ("q", "court", "status", "sort", *DATE_FILTERS)}
    notes = []
    for key, label in DATE_FILTERS.items():
        if chosen[key] and not DATE.match(chosen[key]):
            notes.append(f"{label} {chosen[key]!r} is not a date (YYYY-MM-DD): it was left out.")
            chosen[key] = ""
    if chosen["status"] not in site_index.STATUSES:
        chosen["status"] = ""
    if chosen["sort"] not in site_index.SORTS:
        chosen["sort"] = ""
    try:
        page = min(max(int(args.get("page") or 1), 1), MAX_PAGE)
    except ValueError:
        page = 1
    return {**chosen, "page": page}, notes


def _url(chosen: dict, **changes) -> str:
    params = {**chosen, **changes}
    if params.get("page") == 1:
        params["page"] = None
    query = urlencode([(k, v) for k, v in params.items() if v not in (None, "")])
    return "/" + ("?" + query if query else "")


async def _tables(datasette, db, request) -> list[dict]:
    names = await db.table_names()
    hidden = set(await db.hidden_table_names())
    shown = []
    for name in names:
        if name in hidden or name.startswith("sqlite_"):
            continue
        visible, _ = await datasette.check_visibility(request.actor, "view-table", (db.name, name))
        if visible:
            shown.append(name)
    for name in await db.view_names():
        visible, _ = await datasette.check_visibility(request.actor, "view-table", (db.name, name))
        if visible:
            shown.append(name)
    order = {name: i for i, name in enumerate(FIRST_TABLES)}
    shown.sort(key=lambda n: (order.get(n, len(order)), n))
    return [{"name": n, "url": datasette.urls.table(db.name, n)} for n in shown]


async def list_cases(db, chosen: dict) -> dict:
    """The page's cases, how many match, how many there are, and the courts."""
    indexed = await db.execute_fn(site_index.has_index)
    query = parse(chosen["q"]) if chosen["q"] else None
    spec = {"court": chosen["court"], "status": chosen["status"],
            "sort": chosen["sort"] or ("relevance" if query else "last_filing"),
            "limit": PAGE_SIZE, "offset": (chosen["page"] - 1) * PAGE_SIZE,
            **{k: chosen[k] for k in DATE_FILTERS}}
    notes = list(query.notes) if query is not None else []
    nothing = False
    if query is not None and indexed:
        spec["case_fts"] = query.case_fts
        nothing = not query.case_fts
        if nothing:
            notes.append("There is no word to look for in that: type a name, a number or "
                         "a word.")
    elif query is not None:
        spec["name"] = " ".join(query.words) or chosen["q"]
    rows_sql, count_sql, params = site_index.list_cases_sql(spec, indexed)
    if indexed:
        courts_sql = ("select court_id, court_name, court_kind, count(*) from case_index "
                      "group by court_id order by court_id")
    else:
        courts_sql = ("select court_id, court_id, null, count(*) from dockets "
                      "group by court_id order by court_id")
    if nothing:
        rows, count = [], 0
        total, courts = await asyncio.gather(db.execute("select count(*) from dockets"),
                                             db.execute(courts_sql))
    else:
        answers = await asyncio.gather(db.execute(rows_sql, params), db.execute(count_sql, params),
                                       db.execute("select count(*) from dockets"),
                                       db.execute(courts_sql))
        rows, count, total, courts = answers[0].rows, answers[1].rows[0][0], answers[2], answers[3]
    cases = []
    for row in rows:
        case = dict(row)
        court = court_table.court(case["court_id"])
        if not indexed:
            case.update(court_name=court["name"], court_short=court["short_name"])
        case["case_url"] = urls.case(case["court_id"], case["docket_number"])
        cases.append(case)
    court_options = {}
    for court_id, name, kind, n in courts.rows:
        if not court_id:
            continue
        known = court_table.court(court_id)
        kind = kind or known["kind"]
        court_options.setdefault(kind, []).append(
            {"id": court_id, "name": name if indexed else known["name"], "count": n})
    groups = [{"label": court_table.KIND_NAMES[kind],
               "courts": sorted(court_options[kind], key=lambda c: c["name"])}
              for kind in court_table.KINDS if kind in court_options]
    return {"cases": cases, "count": count, "total": total.rows[0][0], "court_groups": groups,
            "indexed": indexed, "notes": notes, "sort": spec["sort"]}


def _header_links(chosen: dict, sort: str) -> dict:
    links = {}
    for column, (first, again) in HEADER_SORTS.items():
        target = again if sort == first and again != first else first
        direction = None
        if sort in (first, again):
            direction = "ascending" if sort in ("name", "court", "filed_asc",
                                                "last_filing_asc") else "descending"
        links[column] = {"url": _url(chosen, sort=target, page=None), "aria_sort": direction}
    return links


async def home_page(datasette, request):
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    db = datasette.get_database()
    chosen, notes = _choices(request)
    try:
        found = await list_cases(db, chosen)
    except QueryInterrupted:
        found = None
        notes.append("Listing the cases took too long: try a court or fewer words.")
    except sqlite3.OperationalError as exc:
        found = None
        notes.append(f"The cases could not be listed ({exc}).")
    if found is None:
        found = {"cases": [], "count": 0, "total": 0, "court_groups": [], "indexed": True,
                 "notes": [], "sort": "last_filing"}
    notes += found.pop("notes")
    count, page = found["count"], chosen["page"]
    pages = max(1, -(-count // PAGE_SIZE))
    filtered = any(chosen[k] for k in ("q", "court", "status", *DATE_FILTERS))
    sorts = [{"value": key, "label": label} for key, (label, _) in site_index.SORTS.items()
             if key != "relevance" or chosen["q"]]
    context = {
        **found,
        "chosen": chosen, "notes": notes, "filtered": filtered,
        "first_number": (page - 1) * PAGE_SIZE + 1 if found["cases"] else 0,
        "last_number": (page - 1) * PAGE_SIZE + len(found["cases"]),
        "page": page, "pages": pages,
        "previous_url": _url(chosen, page=page - 1) if page > 1 else None,
        "next_url": _url(chosen, page=page + 1) if page < pages else None,
        "reset_url": "/", "first_page_url": _url(chosen, page=1),
        "sorts": sorts, "statuses": site_index.STATUSES,
        "headers": _header_links(chosen, found["sort"]),
        "search_filings_url": urls.search(chosen["q"]) if chosen["q"] else None,
        "tables": await _tables(datasette, db, request),
        "database_name": db.name, "database_url": datasette.urls.database(db.name),
        "metadata": datasette.metadata(),
        "search_url": urls.SEARCH, "feed_url": urls.FEED,
    }
    return Response.html(await datasette.render_template(
        "index.html", context, request=request, view_name="index"))


@hookimpl
def register_routes(datasette):
    # before Datasette's own index view, which answers "/" otherwise
    return [(r"^/$", home_page)]
