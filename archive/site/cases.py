"""Datasette plugin: a case's page, a document's page, and the stored PDFs.

- ``/cases/{court_id}/{docket_number}`` (``archive.site.urls.case``): the docket's
  header, its links to the district docket it was appealed from or to its
  appeals, its entries in the court's order with their documents, a date
  filter (``?from=&to=``, YYYY, YYYY-MM or YYYY-MM-DD) and a search within
  the case (``?q=``: FTS over its entry descriptions and documents' text),
  parties and attorneys, filings per month in each court as inline SVG drawn
  here (no JavaScript), and its Atom feed (served by another plugin).
  The entries and their documents are one query; the page makes six or so in
  all whatever the docket's size (no query per entry).
- ``/cases/{court_id}/{docket_number}/documents/{entry_key}/{attachment}``
  (``archive.site.urls.document``): metadata, header stamp, the text page by page
  (pages are joined with form feeds in ``documents.text``, see
  ``parsers.pdf.PAGE_SEP``; OCR'd pages are those in ``ocr_pages``), its PDF,
  entry and case; ``....txt`` serves the plain text.
- ``/files/{file_path}`` (``archive.site.urls.stored_file``): a PDF of a folder
  store (plugin config ``files``), read-only, only a path a documents row
  names, never one outside the store (``..``, absolute, NUL, symlinks out),
  no listing. Its bytes are checked against ``documents.sha256`` before they
  are served (once per file version). For an ``s3://`` store the pages link a
  presigned URL made with boto3 (``AWS_ENDPOINT_URL`` for another S3), and
  ``/files/...`` redirects to one.
- A withheld document (``archive.publish.withheld_reason``: sealed,
  restricted, bad redaction) shows its entry and why it is withheld, and no
  text or PDF: the release leaves those out.

Court text reaches the templates as plain strings, escaped by Jinja.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sqlite3
import stat
import threading
from urllib.parse import unquote, urlparse

import jinja2
from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from archive import follow
from archive.publish import withheld_reason
from archive.site import urls
from archive.site.courts import name as court_name
from archive.site.feeds import kinds_asked
from archive.site.public import FileStream
from archive.site.search import highlight, markers
from archive.site.search_query import fts_query
from archive.site import filings
from parsers._pdf_clean import readable_pages
from parsers._pdf_stamp import stamp_conflicts
from parsers.common import docket_number_key
from parsers.kinds import KINDS
from parsers.links import is_appellate, state_of

PLUGIN = "docket-archive"
PRESIGN_SECONDS = 3600
EXCERPTS = 50  # documents of a case search shown with an excerpt: the best-ranked
CHUNK = 1 << 20
PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


# --- config ---------------------------------------------------------------

def _config(datasette) -> dict:
    return datasette.plugin_config(PLUGIN) or {}


def _title(datasette) -> str:
    return datasette.metadata("title") or "Docket Archive"


def _store(datasette):
    return _config(datasette).get("files") or None


_s3_clients: dict = {}
_s3_lock = threading.Lock()


def _s3_client():
    import boto3  # optional: only for a files store in S3

    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    with _s3_lock:
        if endpoint not in _s3_clients:
            _s3_clients[endpoint] = boto3.client("s3", endpoint_url=endpoint)
        return _s3_clients[endpoint]


def pdf_url(store, file_path) -> str | None:
    """Where a page links a stored PDF: /files/... for a folder store, a
    presigned URL (made now, valid an hour) for an s3:// store."""
    if not file_path or not store:
        return None
    if str(store).startswith("s3://"):
        parsed = urlparse(store)
        prefix = parsed.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return _s3_client().generate_presigned_url(
            "get_object", ExpiresIn=PRESIGN_SECONDS,
            Params={"Bucket": parsed.netloc, "Key": prefix + file_path,
                    "ResponseContentType": "application/pdf"})
    return urls.stored_file(file_path)


# --- dates, text ----------------------------------------------------------

def _date_filter(request):
    chosen, notes = {"from": "", "to": ""}, []
    for key in ("from", "to"):
        value = (request.args.get(key) or "").strip()
        if value and not PARTIAL_DATE.match(value):
            notes.append(f"{value!r} is not a date (YYYY-MM-DD, YYYY-MM or YYYY): "
                         f"no '{key}' date was applied.")
            value = ""
        chosen[key] = value
    return chosen, notes


def split_pages(text: str | None) -> list[str]:
    """documents.text -> one string per page (parsers.pdf joins them with "\\n\\f\\n")."""
    if not text:
        return []
    pages = text.split("\f")
    out = []
    for i, page in enumerate(pages):
        if i > 0 and page.startswith("\n"):
            page = page[1:]
        if i < len(pages) - 1 and page.endswith("\n"):
            page = page[:-1]
        out.append(page)
    return out


def _page_set(value) -> set[int]:
    pages = set()
    for part in str(value or "").split(","):
        part = part.strip()
        if part.isdigit():
            pages.add(int(part))
    return pages


# --- the chart ------------------------------------------------------------

# One colour per kind of court, on every page: a district (trial) court, a court
# of appeals, a bankruptcy court, a bankruptcy appellate panel, another. Each
# holds white text at a contrast of at least 4.5:1 (the timeline's court marks).
COURT_COLOURS = {"district": "#1f5f8b", "appeals": "#a3440f", "bankruptcy": "#2e6b2e",
                 "bap": "#6f3a87", "other": "#6b5d12"}


def court_kind(court_id: str | None) -> str:
    court = court_id or ""
    if court.startswith("bap"):
        return "bap"
    if is_appellate(court):
        return "appeals"
    if state_of(court):
        return "bankruptcy" if court.endswith("b") else "district"
    return "other"


def court_colour(court_id: str | None) -> str:
    """The colour a court is drawn in, the same on every page."""
    return COURT_COLOURS[court_kind(court_id)]


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    ly, lm = int(last[:4]), int(last[5:7])
    out = []
    while (y, m) <= (ly, lm) and len(out) < 600:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def filings_chart(counts: list[dict], series: list[dict]) -> dict | None:
    """Bars of filings per month, one colour per docket (court), for the template.

    ``counts``: rows (docket_id, month "YYYY-MM", n); ``series``: the dockets
    in order (id, court_id, label), each drawn in its court's colour. Returns sizes, bars, axis labels and a legend: numbers and
    court names only, drawn by case.html as SVG.
    """
    counts = [c for c in counts if c["month"] and re.match(r"^\d{4}-\d{2}$", c["month"])]
    if not counts:
        return None
    months = _months(min(c["month"] for c in counts), max(c["month"] for c in counts))
    index = {m: i for i, m in enumerate(months)}
    order = {s["id"]: i for i, s in enumerate(series)}
    top = max(c["n"] for c in counts)
    width, height, left, bottom, top_pad = 760, 190, 36, 28, 10
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    slot = plot_w / len(months)
    n_series = max(1, len(series))
    bar_w = max(slot * 0.8 / n_series, 0.5)
    bars = []
    for c in counts:
        if c["month"] not in index or c["docket_id"] not in order:
            continue
        s = order[c["docket_id"]]
        h = plot_h * c["n"] / top
        x = left + index[c["month"]] * slot + slot * 0.1 + s * bar_w
        bars.append({"x": round(x, 2), "y": round(top_pad + plot_h - h, 2),
                     "w": round(bar_w, 2), "h": round(h, 2),
                     "colour": court_colour(series[s]["court_id"]), "n": c["n"],
                     "month": c["month"],
                     "label": series[s]["label"]})
    step = max(1, len(months) // 12)
    ticks = [{"x": round(left + i * slot + slot / 2, 2), "label": m}
             for i, m in enumerate(months) if i % step == 0]
    legend = [{"label": s["label"], "colour": court_colour(s["court_id"]),
               "total": sum(c["n"] for c in counts if c["docket_id"] == s["id"])}
              for i, s in enumerate(series)]
    return {"width": width, "height": height, "left": left, "top_pad": top_pad,
            "plot_w": plot_w, "plot_h": plot_h, "baseline": top_pad + plot_h, "max": top,
            "bars": bars, "ticks": ticks, "legend": legend,
            "first": months[0], "last": months[-1]}


# --- the case page --------------------------------------------------------

ENTRIES_SQL = """
select e.id as entry_id, e.docket_id, e.entry_key, e.entry_number, e.date_filed,
       e.date_entered, e.description as entry_description,
       d.id as document_id, d.attachment_number, d.document_number, d.description,
       d.page_count, d.file_path, d.status, d.is_sealed, d.bad_redactions,
       d.extracted_by_ocr, d.ocr_pages, d.is_available,
       -- the statuses whose documents.text holds pages read (parsers.pdf); from the
       -- covering index on documents(entry_id, ...), never the long text itself
       coalesce(d.status, '') in ('ok', 'ocr', 'too_large', 'timeout') as has_text
from docket_entries e
left join documents d on d.entry_id = e.id
where e.docket_id in ({dockets}) {where}
order by e.date_filed is null, e.date_filed, {docket_order}e.entry_number is null, e.entry_number,
         cast(e.pacer_sequence_number as integer), e.recap_sequence_number, e.id,
         coalesce(d.attachment_number, 0)
"""

MATCHING = """
 and (e.rowid in (select rowid from docket_entries_fts where docket_entries_fts match :q)
      or e.id in (select entry_id from documents where docket_id in ({dockets}) and rowid in
                  (select rowid from documents_fts where documents_fts match :q)))
"""

SNIPPETS_SQL = """
select d.id, snippet(documents_fts, -1, :start, :end, '…', 24) as excerpt
from documents_fts join documents d on d.rowid = documents_fts.rowid
where documents_fts match :q and d.docket_id in ({dockets})
order by rank
limit :excerpts
"""

PEOPLE_SQL = """
select p.id, p.name, p.party_type, p.extra_info, p.date_terminated,
       a.id as attorney_id, a.name as attorney, a.contact_raw, pa.roles
from parties p
left join party_attorneys pa on pa.party_id = p.id
left join attorneys a on a.id = pa.attorney_id
where p.docket_id = :docket
order by p.rowid, pa.rowid
"""

CHART_SQL = """
select docket_id, substr(date_filed, 1, 7) as month, count(*) as n
from docket_entries
where docket_id in ({ids}) and date_filed is not null
group by docket_id, month
"""


MISSING_SQL = """
select d.id, d.pacer_doc_id, d.source, k.source_url
from documents d join dockets k on k.id = d.docket_id
where d.id in ({ids})
"""

LINKS_SQL = """
select l.kind, l.other_court_id, l.other_docket_number, l.other_docket_id, l.entry_id, l.basis,
       k.case_name, e.entry_number, e.entry_key, e.date_filed, e.docket_id as entry_docket_id
from docket_links l
left join dockets k on k.id = l.other_docket_id
left join docket_entries e on e.id = l.entry_id
where l.docket_id = ?
order by l.kind, l.other_court_id, l.other_docket_number
"""


def _document(row: dict, court_id, docket_number, store) -> dict:
    reason = withheld_reason(row, row.get("entry_description"))
    doc = {
        "id": row["document_id"], "attachment_number": row["attachment_number"] or 0,
        "description": row["description"], "page_count": row["page_count"],
        "status": row["status"], "withheld": reason,
        "ocr": bool(row["extracted_by_ocr"]) or bool(row["ocr_pages"]),
        "ocr_pages": row["ocr_pages"],
        "url": urls.document(court_id, docket_number, row["entry_key"],
                             row["attachment_number"]),
        "pdf_url": None, "text_url": None, "missing": None,
    }
    if not reason:
        doc["pdf_url"] = pdf_url(store, row["file_path"])
        if row["has_text"]:
            doc["text_url"] = urls.document_text(court_id, docket_number, row["entry_key"],
                                                 row["attachment_number"])
    return doc


def missing_document(doc: dict, court_id: str, entry_description=None) -> dict:
    """Why the archive has no PDF of ``doc`` and where it can be had, for a page."""
    return {"why": filings.why_missing(doc),
            "where": filings.where_to_get(doc, court_id, doc.get("source_url"),
                                          entry_description)}


def _table_exists(conn, name: str) -> bool:
    return conn.execute("select 1 from sqlite_master where type = 'table' and name = ?",
                        [name]).fetchone() is not None


def _links(conn, docket_id: str) -> list[dict]:
    """The docket's links to its appeals or to the case it is appealed from
    (``docket_links``, archive/site/links.py); none when the table is absent."""
    if not _table_exists(conn, "docket_links"):
        return []
    out = []
    for row in conn.execute(LINKS_SQL, [docket_id]):
        link = dict(row)
        link["url"] = (urls.case(*link["other_docket_id"].split("/", 1))
                       if link["other_docket_id"] else None)
        link["colour"] = court_colour(link["other_court_id"])
        link["notice_url"] = None
        if link["entry_id"] and link["entry_key"]:
            court, number = link["entry_docket_id"].split("/", 1)
            link["notice_url"] = urls.entry(court, number, link["entry_key"])
        out.append(link)
    return out


def _family(conn, docket: dict, links: list[dict]) -> tuple[list[dict], list[dict]]:
    """The dockets of one case, district first then its appeals (all archived):
    what the timeline interleaves; and the district's links."""
    district = docket
    if is_appellate(docket["court_id"]):
        up = [l for l in links if l["kind"] == "appealed from" and l["other_docket_id"]]
        if up:
            found = conn.execute("select id, court_id, docket_number, case_name from dockets "
                                 "where id = ?", [up[0]["other_docket_id"]]).fetchone()
            district = dict(found) if found else docket
    district_links = links if district is docket else _links(conn, district["id"])
    family = [{k: district[k] for k in ("id", "court_id", "docket_number", "case_name")}]
    for l in district_links:
        if l["kind"] == "appeal" and l["other_docket_id"] and \
                l["other_docket_id"] not in {f["id"] for f in family}:
            family.append({"id": l["other_docket_id"], "court_id": l["other_court_id"],
                           "docket_number": l["other_docket_number"], "case_name": l["case_name"]})
    return family, district_links


def _case_data(conn, docket_id: str, q: str, dates: dict, all_courts: bool,
               kinds: list[str] = ()) -> dict | None:
    docket = conn.execute("select * from dockets where id = ?", [docket_id]).fetchone()
    if docket is None:
        return None
    docket = dict(docket)
    links = _links(conn, docket_id)
    family, district_links = _family(conn, docket, links)
    shown = [f["id"] for f in family] if all_courts and len(family) > 1 else [docket_id]
    marks = ", ".join(f":d{i}" for i in range(len(shown)))
    params = {f"d{i}": d for i, d in enumerate(shown)}
    order = ("case e.docket_id " + " ".join(f"when :d{i} then {i}" for i in range(len(shown)))
             + " end, ") if len(shown) > 1 else ""
    where = ""
    if dates["from"]:
        where += " and e.date_filed >= :from"
        params["from"] = dates["from"]
    if dates["to"]:
        where += " and substr(e.date_filed, 1, :to_len) <= :to"
        params.update(to=dates["to"], to_len=len(dates["to"]))
    if kinds:
        where += " and e.kind in (" + ", ".join(f":k{i}" for i in range(len(kinds))) + ")"
        params.update({f"k{i}": k for i, k in enumerate(kinds)})
    snippets = {}
    if q:
        where += MATCHING.format(dockets=marks)
        params["q"] = q
        start, end = markers()
        for row in conn.execute(SNIPPETS_SQL.format(dockets=marks),
                                dict(params, start=start, end=end, excerpts=EXCERPTS)):
            snippets[row["id"]] = highlight(row["excerpt"], start, end)
    rows = [dict(r) for r in conn.execute(
        ENTRIES_SQL.format(where=where, dockets=marks, docket_order=order), params)]
    # documents with no PDF: what the page needs to say where they can be had
    missing = [r["document_id"] for r in rows if r["document_id"] and not r["file_path"]]
    extra = {}
    for i in range(0, len(missing), 500):
        part = missing[i:i + 500]
        for r in conn.execute(MISSING_SQL.format(ids=", ".join("?" * len(part))), part):
            extra[r["id"]] = dict(r)
    for r in rows:
        if r["document_id"] in extra:
            r.update(extra[r["document_id"]])
    total = conn.execute(f"select count(*) from docket_entries e where e.docket_id in ({marks})",
                         {k: v for k, v in params.items() if k.startswith("d")}).fetchone()[0]
    people = [dict(r) for r in conn.execute(PEOPLE_SQL, {"docket": docket_id})]
    chart_ids = [f["id"] for f in family]
    counts = [dict(r) for r in conn.execute(
        CHART_SQL.format(ids=", ".join("?" for _ in chart_ids)), chart_ids)]
    return {"docket": docket, "rows": rows, "snippets": snippets, "total": total,
            "people": people, "links": links, "family": family, "shown": shown,
            "district_links": district_links,
            "counts": counts,
            # how complete and how fresh it is, and its hearings and deadlines to come
            "status": follow.case_status(conn, docket_id),
            "next_dates": follow.next_dates(conn, docket_id, limit=5)}


def _sync_templates(datasette) -> jinja2.Environment:
    """A synchronous Jinja environment on Datasette's own template loader (so a
    template folder given to Datasette overrides these templates too), for the
    parts of a page that loop over thousands of rows: Datasette's environment
    is async, which costs about twice as much per loop iteration."""
    env = getattr(datasette, "_docket_sync_templates", None)
    if env is None:
        env = jinja2.Environment(loader=datasette.jinja_env.loader, autoescape=True)
        datasette._docket_sync_templates = env
    return env


def _entries(rows, snippets, dockets: dict, store, notices: dict) -> list[dict]:
    """Entries with their documents, for the table. ``dockets``: id -> docket
    (court_id, docket_number) of the dockets shown; ``notices``: entry id ->
    the links that entry shows (a notice of appeal and its appeal)."""
    entries, by_id = [], {}
    for row in rows:
        entry = by_id.get(row["entry_id"])
        if entry is None:
            docket = dockets[row["docket_id"]]
            court_id, docket_number = docket["court_id"], docket["docket_number"]
            entry = {"id": row["entry_id"], "entry_key": row["entry_key"],
                     "anchor": docket["anchor_prefix"] + urls.entry_anchor(row["entry_key"]),
                     "entry_number": row["entry_number"], "date_filed": row["date_filed"],
                     "description": row["entry_description"], "documents": [],
                     "court_id": court_id, "docket_number": docket_number,
                     "badge": docket["badge"], "links": notices.get(row["entry_id"], [])}
            by_id[row["entry_id"]] = entry
            entries.append(entry)
        if row["document_id"]:
            doc = _document(row, court_id, docket_number, store)
            if not doc["withheld"] and row["document_id"] in snippets:
                doc["excerpt"] = snippets[row["document_id"]]
            if not doc["withheld"] and not doc["pdf_url"]:
                doc["missing"] = missing_document(dict(row, document_number=row["document_number"]),
                                                  court_id, row["entry_description"])
            entry["documents"].append(doc)
    return entries


def _parties(people) -> list[dict]:
    parties, by_id = [], {}
    for row in people:
        party = by_id.get(row["id"])
        if party is None:
            party = {k: row[k] for k in ("name", "party_type", "extra_info", "date_terminated")}
            party["attorneys"] = []
            by_id[row["id"]] = party
            parties.append(party)
        if row["attorney"]:
            contact = [ln.strip() for ln in (row["contact_raw"] or "").splitlines() if ln.strip()]
            party["attorneys"].append({"name": row["attorney"], "roles": row["roles"],
                                       "contact": contact})
    return parties


class _Missing(Exception):
    """A 404 answered here: Datasette's NotFound would first redirect a path
    with %-escapes to its ~-escaped form."""


async def _not_found(datasette, request, message):
    if request.path.endswith((".txt", ".pdf")) or request.path.startswith("/files/"):
        return Response.text(message + "\n", status=404)
    return Response.html(await datasette.render_template(
        "error.html", {"error": message, "status": 404, "title": "Not found"},
        request=request), status=404)


def _answers_404(view):
    async def inner(datasette, request):
        try:
            return await view(datasette, request)
        except _Missing as missing:
            return await _not_found(datasette, request, str(missing))
    inner.__name__ = view.__name__
    return inner


def _docket_id(request) -> tuple[str, str, str]:
    court_id = unquote(request.url_vars["court_id"])
    docket_number = unquote(request.url_vars["docket_number"])
    if "\x00" in court_id + docket_number:
        raise _Missing("No such case in the archive.")
    return court_id, docket_number, f"{court_id}/{docket_number}"


async def case_page(datasette, request):
    court_id, docket_number, docket_id = _docket_id(request)
    dates, notes = _date_filter(request)
    all_courts = request.args.get("courts") == "all"
    kinds = kinds_asked(request)
    typed = (request.args.get("q") or "")
    q = fts_query(typed)
    if typed.strip() and not q:
        notes.append("There is no word to look for in that: type a word or a phrase.")
    db = datasette.get_database()
    try:
        data = await db.execute_fn(lambda conn: _case_data(conn, docket_id, q, dates, all_courts,
                                                           kinds))
    except sqlite3.OperationalError as exc:  # what was typed is never an error page
        if not q:
            raise
        notes.append(f"This search could not be run ({exc}).")
        q = ""
        data = await db.execute_fn(lambda conn: _case_data(conn, docket_id, "", dates,
                                                           all_courts, kinds))
    if data is None:
        # a number as printed on filings (3:20-cv-05910-LB): the archive's own form
        normal = docket_number_key(docket_number)
        if normal != docket_number and (await db.execute(
                "select 1 from dockets where id = ?", [f"{court_id}/{normal}"])).rows:
            return Response.redirect(urls.case(court_id, normal))
        raise _Missing(f"No case {court_id} {docket_number} in the archive.")
    docket = data["docket"]
    store = _store(datasette)
    timeline = len(data["shown"]) > 1
    dockets = {}
    for f in data["family"]:
        mine = f["id"] == docket["id"]
        prefix = "" if mine or not timeline else f"{f['court_id']}-"
        dockets[f["id"]] = dict(f, colour=court_colour(f["court_id"]),
                                court_name=court_name(f["court_id"]),
                                anchor_prefix=re.sub(r"[^A-Za-z0-9_-]", "-", prefix),
                                url=urls.case(f["court_id"], f["docket_number"]))
    dockets.setdefault(docket["id"], dict(
        docket, colour=court_colour(docket["court_id"]), anchor_prefix="",
        court_name=court_name(docket["court_id"]),
        url=urls.case(docket["court_id"], docket["docket_number"])))
    for d in dockets.values():  # a timeline row's court mark, made once per court
        d["badge"] = Markup('<span class="court" style="background: {}" title="{}">{}</span>').format(
            d["colour"], d["court_name"], d["court_id"])
    notices: dict = {}  # entry id -> the appeals its notice of appeal started
    for link in data["district_links"] if timeline else data["links"]:
        if link["entry_id"] and link["kind"] == "appeal":
            notices.setdefault(link["entry_id"], []).append(link)
    entries = _entries(data["rows"], data["snippets"], dockets, store, notices)
    series = [{"id": f["id"], "court_id": f["court_id"],
               "label": f"{f['court_id']} {f['docket_number']}"} for f in data["family"]]
    documents = sum(len(e["documents"]) for e in entries)
    filtered = bool(q or dates["from"] or dates["to"] or kinds)
    case_url = urls.case(docket["court_id"], docket["docket_number"])
    here = case_url + ("?courts=all" if timeline else "")
    table = _sync_templates(datasette).get_template("_case_entries.html").render(
        entries=entries, filtered=filtered, case_url=here, timeline=timeline)
    this_total = data["total"] if not timeline else (await db.execute(
        "select count(*) from docket_entries where docket_id = ?", [docket_id])).rows[0][0]
    return Response.html(await datasette.render_template("case.html", {
        "docket": docket, "entries": entries, "entries_table": Markup(table),
        "total_entries": this_total, "shown_total": data["total"],
        "documents_shown": documents, "parties": _parties(data["people"]),
        "links": data["links"], "family": [dockets[f["id"]] for f in data["family"]],
        "timeline": timeline, "court_colour": court_colour(docket["court_id"]),
        "court_name": court_name(docket["court_id"]),
        "appellate": is_appellate(docket["court_id"]),
        "chart": filings_chart(data["counts"], series), "q": typed, "searched": bool(q),
        "dates": dates, "filtered": filtered, "notes": notes,
        "case_url": case_url, "here_url": here,
        "timeline_url": case_url + "?courts=all",
        "feed_url": urls.case_feed(docket["court_id"], docket["docket_number"]),
        "orders_feed_url": urls.case_feed(docket["court_id"], docket["docket_number"],
                                          ("opinion", "order", "judgment")),
        "kinds": KINDS, "chosen_kinds": kinds,
        "status": data["status"], "status_url": urls.case_gaps(docket["court_id"],
                                                              docket["docket_number"]),
        "next_dates": [dict(d, url=(urls.entry(docket["court_id"], docket["docket_number"],
                                               d["entry_key"]) if d.get("entry_key") else None))
                       for d in data["next_dates"]],
        "calendar_url": urls.case_calendar(docket["court_id"], docket["docket_number"]),
        "search_url": urls.SEARCH, "site_title": _title(datasette),
    }, request=request))


# --- the document page ----------------------------------------------------

DOCUMENT_SQL = """
select d.*, coalesce(e.entry_key, :entry_key) as entry_key, e.entry_number, e.date_filed,
       e.description as entry_description,
       k.case_name, k.court_id as docket_court_id, k.docket_number,
       k.source_url as docket_source_url
from documents d
left join docket_entries e on e.id = d.entry_id
join dockets k on k.id = d.docket_id
where d.id = :id
"""


async def _load_document(datasette, request) -> dict:
    court_id, docket_number, docket_id = _docket_id(request)
    entry_key = unquote(request.url_vars["entry_key"])
    doc_id = f"{docket_id}#{entry_key}/{int(request.url_vars['attachment'])}"
    result = await datasette.get_database().execute(DOCUMENT_SQL, {"id": doc_id,
                                                                   "entry_key": entry_key})
    if not result.rows:
        raise _Missing("No such document in the archive.")
    doc = dict(result.rows[0])
    doc["withheld"] = withheld_reason(doc, doc["entry_description"])
    return doc


async def document_page(datasette, request):
    doc = await _load_document(datasette, request)
    court_id, number = doc["docket_court_id"], doc["docket_number"]
    raw = request.args.get("text") == "raw"
    pages = []
    if not doc["withheld"]:
        ocr = _page_set(doc["ocr_pages"])
        texts = split_pages(doc["text"])
        # the reading view: no pleading line numbers, header stamps or running heads
        shown = texts if raw else readable_pages(texts)
        pages = [{"number": i, "text": text, "ocr": i in ocr}
                 for i, text in enumerate(shown, start=1)]
    stamp = {k: doc[f"stamp_{k}"] for k in
             ("case_number", "document_number", "attachment_number", "date_filed")
             if doc.get(f"stamp_{k}")}
    conflicts = stamp_conflicts(stamp, number, doc["document_number"], doc["attachment_number"],
                                appellate=is_appellate(court_id))
    pdf = None if doc["withheld"] else pdf_url(_store(datasette), doc["file_path"])
    missing = None
    if not doc["withheld"] and not pdf:
        missing = missing_document(dict(doc, source_url=doc["docket_source_url"]), court_id,
                                   doc["entry_description"])
    page_url = urls.document(court_id, number, doc["entry_key"], doc["attachment_number"])
    return Response.html(await datasette.render_template("document.html", {
        "doc": doc, "pages": pages, "stamp": stamp, "stamp_conflicts": conflicts,
        "pdf_url": pdf, "missing": missing, "raw": raw,
        "reading_url": page_url + "#text", "raw_url": page_url + "?text=raw#text",
        "text_url": (urls.document_text(court_id, number, doc["entry_key"],
                                        doc["attachment_number"])
                     if pages else None),
        "case_url": urls.case(court_id, number),
        "entry_url": urls.entry(court_id, number, doc["entry_key"]),
        "court_colour": court_colour(court_id),
        "feed_url": urls.case_feed(court_id, number), "site_title": _title(datasette),
    }, request=request))


async def document_text(datasette, request):
    doc = await _load_document(datasette, request)
    if doc["withheld"]:
        raise _Missing(f"This document is withheld ({doc['withheld']}): its text is not published.")
    if not doc["text"]:
        raise _Missing("The archive has no text for this document.")
    return Response.text(doc["text"], headers={"x-content-type-options": "nosniff"})


# --- stored PDFs ----------------------------------------------------------

_verified: dict = {}   # (dev, inode, size, mtime_ns) -> sha256 of that file version


def _open_stored(root: str, file_path: str, expected: set[str]):
    """An open file for ``file_path`` inside ``root`` whose SHA-256 is one of
    ``expected`` (when the archive recorded one), else None."""
    if not file_path or "\x00" in file_path or "\\" in file_path or file_path.startswith("/"):
        return None
    parts = file_path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    root = os.path.realpath(root)
    full = os.path.realpath(os.path.join(root, *parts))
    if not full.startswith(root + os.sep):
        return None   # a symlink that leads out of the store
    try:
        fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    handle = os.fdopen(fd, "rb")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            handle.close()
            return None
        if expected:
            key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
            digest = _verified.get(key)
            if digest is None:
                sha = hashlib.sha256()
                for chunk in iter(lambda: handle.read(CHUNK), b""):
                    sha.update(chunk)
                digest = sha.hexdigest()
                if len(_verified) > 10_000:
                    _verified.clear()
                _verified[key] = digest
                handle.seek(0)
            if digest not in expected:
                handle.close()
                return None
        return handle
    except BaseException:
        handle.close()
        raise


async def stored_file(datasette, request):
    missing = _Missing("No such file in the archive.")
    file_path = unquote(request.url_vars["path"])
    if "\x00" in file_path:
        raise missing
    store = _store(datasette)
    if not store:
        raise missing
    rows = (await datasette.get_database().execute(
        "select d.sha256, d.is_sealed, d.bad_redactions, d.status, d.description, "
        "e.description as entry_description from documents d "
        "left join docket_entries e on e.id = d.entry_id where d.file_path = :path",
        {"path": file_path})).rows
    public = [dict(r) for r in rows if not withheld_reason(dict(r), r["entry_description"])]
    if not public:
        raise missing
    if str(store).startswith("s3://"):
        return Response.redirect(pdf_url(store, file_path))
    expected = {r["sha256"] for r in public if r["sha256"]}
    handle = await asyncio.to_thread(_open_stored, store, file_path, expected)
    if handle is None:
        raise missing
    name = re.sub(r'[^A-Za-z0-9._-]', "_", os.path.basename(file_path))
    return FileStream(handle, [(b"content-type", b"application/pdf"),
                               (b"content-disposition", f'inline; filename="{name}"'.encode()),
                               (b"x-content-type-options", b"nosniff"),
                               (b"cache-control", b"public, max-age=3600")],
                      head=request.method == "HEAD")


@hookimpl
def register_routes(datasette):
    case = r"^/cases/(?P<court_id>[^/]+)/(?P<docket_number>[^/]+)"
    document = case + r"/documents/(?P<entry_key>[^/]+)/(?P<attachment>\d{1,6})"
    return [
        (case + r"$", _answers_404(case_page)),
        (document + r"$", _answers_404(document_page)),
        (document + r"\.txt$", _answers_404(document_text)),
        (r"^/files/(?P<path>.+)$", _answers_404(stored_file)),
    ]
