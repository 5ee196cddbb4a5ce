"""Datasette plugin: what following cases (issue 20) adds to the public site.

- ``/calendar/{court_id}/{docket_number}.ics``: one case's hearings and
  deadlines, iCal (RFC 5545; moved and vacated dates sent cancelled, so a
  subscribed calendar drops them);
- ``/calendar.ics``: every case of the archive (the followed cases' calendar
  is the operator's: ``python -m archive calendar --followed``, since the
  follow list is not public);
- ``/gaps`` (HTML) and ``/gaps.json``: each case's completeness: "checked 2 h
  ago; 3 gaps", when each source last checked it, entry numbers missing, RSS
  entries on no docket report yet, documents listed but not stored;
  ``/gaps/{court_id}/{docket_number}.json`` one case's, whole;
- ``/kinds.atom?kind=order,opinion[&case=cand/3:20-cv-05910]``: an Atom feed of
  entries of the given kinds (parsers.kinds), of one case or of all.

Everything is read from the public copy's tables (``case_checks``, the
``gaps`` view, ``events``, ``docket_entries.kind``) through archive/follow.py's
functions, which the case page, search and feeds can call too.
"""
from __future__ import annotations

import datetime as _dt
import html
from urllib.parse import unquote

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from archive import follow as fl
from archive import ical
from archive.site import urls
from parsers.common import docket_number_key

GAPS_LIMIT = 500


async def _docket(datasette, request) -> dict:
    db = datasette.get_database()
    court = unquote(request.url_vars["court_id"])
    number = unquote(request.url_vars["docket_number"])
    rows = (await db.execute("select * from dockets where court_id = :court and docket_number "
                             "in (:number, :key) limit 1",
                             {"court": court, "number": number,
                              "key": docket_number_key(number)})).rows
    if not rows:
        raise NotFound("No such case in the archive")
    return dict(rows[0])


def _ics(text: str, name: str) -> Response:
    return Response(text, content_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{name}.ics"'})


def _url_of(datasette, request):
    def url(ev):
        court, number = ev["docket_id"].split("/", 1)
        if not ev.get("entry_key"):
            return datasette.absolute_url(request, urls.case(court, ev.get("docket_number") or number))
        return datasette.absolute_url(request, urls.entry(court, ev.get("docket_number") or number,
                                                          ev["entry_key"]))
    return url


async def case_calendar(datasette, request):
    docket = await _docket(datasette, request)
    db = datasette.get_database()
    events = await db.execute_fn(lambda conn: ical.calendar_events(conn, [docket["id"]]))
    name = f"{docket['case_name'] or docket['id']} ({docket['court_id']} {docket['docket_number']})"
    return _ics(ical.calendar(events, name, domain=request.host or "docket-archive",
                              url_of=_url_of(datasette, request)), "calendar")


async def archive_calendar(datasette, request):
    db = datasette.get_database()
    events = await db.execute_fn(lambda conn: ical.calendar_events(conn, None))
    title = (datasette.metadata("title") or "Docket Archive") + ": hearings and deadlines"
    return _ics(ical.calendar(events, title, domain=request.host or "docket-archive",
                              url_of=_url_of(datasette, request)), "calendar")


def _all_status(conn, limit: int = GAPS_LIMIT) -> list[dict]:
    now = _dt.datetime.now(_dt.timezone.utc)
    rows = conn.execute(
        "select d.id, d.court_id, d.docket_number, d.case_name from dockets d where d.id in "
        "(select docket_id from case_checks union select docket_id from gaps) "
        f"order by d.court_id, d.docket_number limit {int(limit)}").fetchall()
    out = []
    for docket_id, court, number, name in rows:
        status = fl.case_status(conn, docket_id, now)
        out.append({"docket_id": docket_id, "court_id": court, "docket_number": number,
                    "case_name": name, **status})
    return out


async def gaps_json(datasette, request):
    db = datasette.get_database()
    return Response.json(await db.execute_fn(_all_status))


async def gaps_page(datasette, request):
    db = datasette.get_database()
    cases = await db.execute_fn(_all_status)
    rows = []
    for case in cases:
        checks = "; ".join(f"{c['name']} {c['ago']}" + ("" if c["status"] == "ok" else
                                                        f" ({c['status']})")
                           for c in case["by"].values()) or "never"
        link = urls.case(case["court_id"], case["docket_number"])
        rows.append(
            f"<tr><td><a href=\"{html.escape(link)}\">{html.escape(case['case_name'] or case['docket_id'])}"
            f"</a><br><small>{html.escape(case['court_id'])} {html.escape(case['docket_number'])}</small></td>"
            f"<td>{html.escape(case['line'])}</td><td>{case['missing']}</td><td>{case['rss_only']}</td>"
            f"<td>{case['not_stored']}</td><td>{html.escape(checks)}</td>"
            f"<td><a href=\"{html.escape(urls.case_gaps(case['court_id'], case['docket_number']))}\">"
            "details</a></td></tr>")
    body = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Gaps</title>"
            "</head><body><h1>What each case lacks</h1><p>Entry numbers missing between known "
            "ones, entries only an RSS item announced (on no docket report yet), documents "
            "listed but not stored, and when each source last checked the case.</p>"
            "<table><thead><tr><th>Case</th><th>Status</th><th>Missing entries</th>"
            "<th>RSS only</th><th>Documents not stored</th><th>Checked</th><th></th></tr>"
            "</thead><tbody>" + "".join(rows) + "</tbody></table>"
            "<p><a href=\"/gaps.json\">JSON</a></p></body></html>")
    return Response.html(body)


async def case_gaps(datasette, request):
    docket = await _docket(datasette, request)
    db = datasette.get_database()

    def read(conn):
        return {"docket_id": docket["id"], **fl.case_status(conn, docket["id"]),
                "gaps": fl.gaps_of(conn, docket["id"]),
                "next_dates": fl.next_dates(conn, docket["id"], limit=10)}

    return Response.json(await db.execute_fn(read), default=str)


async def kind_feed(datasette, request):
    """``/kinds.atom?kind=...&case=court/number``: the feeds' own ``?kind=`` now."""
    kinds = [k for k in (request.args.get("kind") or "").replace(" ", ",").split(",") if k]
    case = request.args.get("case")
    court, _, number = (case or "").partition("/")
    return Response.redirect(urls.kind_feed(kinds, court or None, number or None), status=301)


@hookimpl
def register_routes(datasette):
    return [
        (r"^/calendar\.ics$", archive_calendar),
        (r"^/calendar/(?P<court_id>[^/]+)/(?P<docket_number>[^/]+)\.ics$", case_calendar),
        (r"^/gaps$", gaps_page),
        (r"^/gaps\.json$", gaps_json),
        (r"^/gaps/(?P<court_id>[^/]+)/(?P<docket_number>[^/]+)\.json$", case_gaps),
        (r"^/kinds\.atom$", kind_feed),
    ]
