"""Datasette plugin: Atom feeds of new docket entries, written with lxml.

(Not feedgen: its 1.0 drops an entry link's ``rel``, so two links would both
be ``alternate``, which RFC 4287 forbids.)

- ``/feed.atom`` (archive.site.urls.FEED): the latest entries of every case;
  ``?kind=order,opinion`` (parsers.kinds.KINDS) of those kinds only, on this
  feed and every case's, e.g. a feed of orders and opinions;
- ``/cases/{court_id}/{docket_number}/feed.atom`` (archive.site.urls.case_feed):
  one case's entries; an unknown case is a 404, a case with no entries (or
  an empty archive) a valid feed with no entries.

Each entry's title says what was filed (``archive.site.filings.filing_title``:
"Order granting motion for preliminary injunction", with the entry's number,
and the case's name in the whole archive's feed). It links its main document's
page when it has one (``rel=alternate``, what a reader opens: the PDF and the
text are there, or why the document is withheld or missing), and its place on
the case page (``rel=related``; ``rel=alternate`` when it has no document). Its id is a tag: URI made
from the entry's id (court, docket number, entry number or sequence), never
a row number, so it stays the same across crawls and rebuilds. Its updated
time is the day it was filed (else when the archive first saw it), and the
court is its author. Court text goes in as text (lxml escapes it), with
the control characters XML cannot hold (form feeds from PDFs) made spaces.
"""
from __future__ import annotations

import datetime as _dt
import re
from urllib.parse import quote, unquote

from datasette import hookimpl
from datasette.utils.asgi import BadRequest, NotFound, Response
from lxml import etree

from archive.site import urls
from archive.site.courts import name as court_name
from archive.site.filings import filing_title
from parsers.kinds import KINDS
from parsers.common import docket_number_key

ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:docket-archive,2024:"  # never change: every id in every reader's feed hangs on it
ARCHIVE_LIMIT = 100
CASE_LIMIT = 200
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

ENTRIES_SQL = """
select e.id, e.docket_id, e.court_id, e.entry_key, e.entry_number, e.date_filed,
       e.description, e.first_seen, k.docket_number, k.case_name,
       m.attachment_number as document_attachment, m.id as document_id,
       m.description as document_description
from docket_entries e
join dockets k on k.id = e.docket_id
left join documents m on m.id = (select id from documents where entry_id = e.id
                                 order by coalesce(attachment_number, 0) limit 1)
{where}
order by coalesce(e.date_filed, substr(e.first_seen, 1, 10)) desc,
         e.entry_number desc, e.id desc
limit {limit}
"""


def tag_uri(kind: str, key: str) -> str:
    return TAG + kind + "/" + quote(key, safe="/:-._~,")


def _text(value) -> str:
    return CONTROL.sub(" ", value or "")


def _when(date_filed, first_seen):
    for value in (date_filed, first_seen):
        if not value:
            continue
        try:
            when = _dt.datetime.fromisoformat(str(value))
        except ValueError:
            continue
        return when if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)
    return None


def _title(row, with_case: bool) -> str:
    """What was filed, the entry's number (or date), and in the whole
    archive's feed the case: "Order granting motion for preliminary injunction
    — U.S. WeChat Users Alliance v. Trump, entry 59"."""
    what = filing_title(row["description"], row["document_description"])
    where = (f"entry {row['entry_number']}" if row["entry_number"] is not None
             else f"filed {row['date_filed']}" if row["date_filed"] else "")
    case = row["case_name"] or f"{row['court_id']} {row['docket_number']}"
    if with_case:
        return _text(f"{what} — {case}" + (f", {where}" if where else ""))
    return _text(f"{what} ({where})" if where else what)


def _rfc3339(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")


def _el(parent, tag, text=None, **attrs):
    node = etree.SubElement(parent, f"{{{ATOM}}}{tag}",
                            {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        node.text = _text(text)
    return node


def build_feed(datasette, request, *, feed_id, title, self_path, page_path, rows,
               subtitle=None, fallback_updated=None, with_case=True) -> bytes:
    """An Atom 1.0 document (RFC 4287), newest entry first. lxml escapes the text."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _el(feed, "id", feed_id)
    _el(feed, "title", title)
    if subtitle:
        _el(feed, "subtitle", subtitle)
    _el(feed, "link", href=datasette.absolute_url(request, self_path), rel="self",
        type="application/atom+xml")
    _el(feed, "link", href=datasette.absolute_url(request, page_path), rel="alternate",
        type="text/html")
    updated_node = _el(feed, "updated")
    _el(feed, "generator", "Docket Archive")
    newest = None
    for row in rows:
        court_id = row["court_id"] or row["docket_id"].partition("/")[0]
        docket_number = row["docket_number"]
        entry = _el(feed, "entry")
        _el(entry, "id", tag_uri("entry", row["id"]))
        _el(entry, "title", _title(row, with_case))
        updated = (_when(row["date_filed"], row["first_seen"]) or fallback_updated
                   or _dt.datetime.now(_dt.timezone.utc))
        _el(entry, "updated", _rfc3339(updated))
        _el(entry, "published", _rfc3339(updated))
        newest = max(newest, updated) if newest else updated
        author = _el(entry, "author")
        _el(author, "name", court_name(court_id))
        place = datasette.absolute_url(request, urls.entry(court_id, docket_number,
                                                           row["entry_key"]))
        if row["document_id"]:
            _el(entry, "link", rel="alternate", type="text/html", title="the document",
                href=datasette.absolute_url(request, urls.document(
                    court_id, docket_number, row["entry_key"], row["document_attachment"])))
            _el(entry, "link", rel="related", type="text/html", title="the docket entry",
                href=place)
        else:
            _el(entry, "link", rel="alternate", type="text/html", href=place)
        _el(entry, "content", row["description"] or "(no description)", type="text")
    updated_node.text = _rfc3339(newest or fallback_updated or _dt.datetime.now(_dt.timezone.utc))
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _atom(body: bytes) -> Response:
    return Response(body, content_type="application/atom+xml; charset=utf-8")


def kinds_asked(request) -> list[str]:
    """The kinds of entry a feed is asked for: ``?kind=order&kind=opinion`` or
    ``?kind=order,opinion`` (parsers.kinds.KINDS); BadRequest for another."""
    asked = [k.strip().lower() for value in request.args.getlist("kind")
             for k in value.replace(" ", ",").split(",") if k.strip()]
    unknown = [k for k in asked if k not in KINDS]
    if unknown:
        raise BadRequest(f"kind= is one or more of {', '.join(KINDS)} (not {', '.join(unknown)})")
    return sorted(set(asked))


def _kind_filter(kinds: list[str]) -> tuple[str, dict, str]:
    """(SQL condition on e.kind, its parameters, the words a title adds)."""
    if not kinds:
        return "", {}, ""
    marks = ", ".join(f":k{i}" for i in range(len(kinds)))
    return (f"e.kind in ({marks})", {f"k{i}": k for i, k in enumerate(kinds)},
            " of the kinds " + ", ".join(kinds))


async def archive_feed(datasette, request):
    db = datasette.get_database()
    kinds = kinds_asked(request)
    condition, params, words = _kind_filter(kinds)
    rows = (await db.execute(ENTRIES_SQL.format(where=f"where {condition}" if condition else "",
                                                limit=ARCHIVE_LIMIT), params)).rows
    last_seen = (await db.execute("select max(last_seen) from dockets")).rows[0][0]
    title = (datasette.metadata("title") or "Docket Archive") + f": new docket entries{words}"
    return _atom(build_feed(
        datasette, request, feed_id=tag_uri("feed", "all" + (f"?kind={','.join(kinds)}"
                                                             if kinds else "")),
        title=title, subtitle=f"The latest docket entries{words} of every case in the archive.",
        self_path=urls.feed(kinds), page_path="/", rows=rows,
        fallback_updated=_when(None, last_seen)))


async def case_feed(datasette, request):
    db = datasette.get_database()
    court_id = unquote(request.url_vars["court_id"])
    docket_number = unquote(request.url_vars["docket_number"])
    found = (await db.execute(
        "select * from dockets where court_id = :court and docket_number in (:number, :normal)"
        " order by docket_number = :number desc limit 1",
        {"court": court_id, "number": docket_number,
         "normal": docket_number_key(docket_number)})).rows
    if not found:
        raise NotFound("No such case in the archive")
    docket = dict(found[0])
    kinds = kinds_asked(request)
    condition, params, words = _kind_filter(kinds)
    rows = (await db.execute(ENTRIES_SQL.format(
        where="where e.docket_id = :docket" + (f" and {condition}" if condition else ""),
        limit=CASE_LIMIT), {"docket": docket["id"], **params})).rows
    return _atom(build_feed(
        datasette, request, feed_id=tag_uri("case", docket["id"] + (
            f"?kind={','.join(kinds)}" if kinds else "")),
        title=f"{docket['case_name'] or docket['id']} ({docket['court_id']} "
              f"{docket['docket_number']}): docket entries{words}",
        subtitle=court_name(docket["court_id"]),
        self_path=urls.case_feed(docket["court_id"], docket["docket_number"], kinds),
        page_path=urls.case(docket["court_id"], docket["docket_number"]), rows=rows,
        fallback_updated=_when(None, docket.get("last_seen")), with_case=False))


@hookimpl
def register_routes(datasette):
    return [
        (r"^/feed\.atom$", archive_feed),
        (r"^/cases/(?P<court_id>[^/]+)/(?P<docket_number>[^/]+)/feed\.atom$", case_feed),
    ]
