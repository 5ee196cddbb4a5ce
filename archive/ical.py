"""iCalendar (RFC 5545) of a case's hearings and deadlines (issue 20).

``calendar(events, name)`` writes a VCALENDAR of ``events`` rows (archive
``events`` joined with their case, as :func:`archive.follow.next_dates` returns
them): one VEVENT each, whose UID is the event's row id (stable across
updates, so a calendar client moves an event rather than duplicating it); a
superseded or vacated date is sent ``STATUS:CANCELLED`` with the same UID, so
a client that had it drops it. A hearing with a time lasts an hour (the court
gives no end), a deadline or a hearing without one is an all-day event.
Times are the court's local time, written floating (no zone): the docket
gives none.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Iterable, Optional

from .follow import _dicts

PRODID = "-//Docket Archive//follow//EN"


def _escape(text) -> str:
    return (str(text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with a leading space."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    out, chunk = [], b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(chunk) + len(b) > (75 if not out else 74):
            out.append(chunk.decode("utf-8"))
            chunk = b""
        chunk += b
    out.append(chunk.decode("utf-8"))
    return "\r\n ".join(out)


def _uid(event_id: str, domain: str) -> str:
    return hashlib.sha1(event_id.encode()).hexdigest()[:24] + "@" + domain


def calendar(events: Iterable[dict], name: str, *, domain: str = "docket-archive",
             url_of=None, now: Optional[_dt.datetime] = None) -> str:
    """The VCALENDAR text (CRLF lines) of ``events``; ``url_of(event)`` -> a
    link to the entry that set it (optional)."""
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{_escape(name)}"]
    for ev in events:
        if not ev.get("date"):
            continue
        day = ev["date"].replace("-", "")
        summary = ev.get("what") or ("Hearing" if ev.get("kind") == "hearing" else "Deadline")
        case = " ".join(x for x in (ev.get("case_name"), ev.get("docket_number")) if x)
        lines += ["BEGIN:VEVENT", f"UID:{_uid(ev['id'], domain)}", f"DTSTAMP:{stamp}"]
        if ev.get("time") and ev.get("kind") == "hearing":
            start = _dt.datetime.strptime(day + ev["time"].replace(":", "")[:4], "%Y%m%d%H%M")
            end = start + _dt.timedelta(hours=1)
            lines += [f"DTSTART:{start:%Y%m%dT%H%M%S}", f"DTEND:{end:%Y%m%dT%H%M%S}"]
        else:
            following = _dt.date.fromisoformat(ev["date"]) + _dt.timedelta(days=1)
            lines += [f"DTSTART;VALUE=DATE:{day}", f"DTEND;VALUE=DATE:{following:%Y%m%d}"]
        lines.append(f"SUMMARY:{_escape(summary + (' - ' + case if case else ''))}")
        if ev.get("place"):
            lines.append(f"LOCATION:{_escape(ev['place'])}")
        note = [f"{(ev.get('kind') or 'event').title()} {ev.get('status') or 'set'}"]
        if ev.get("entry_number") is not None:
            note.append(f"by entry {ev['entry_number']}")
        if ev.get("entry_date"):
            note.append(f"of {ev['entry_date']}")
        if ev.get("entry_description"):
            note.append("\n" + " ".join(str(ev["entry_description"]).split())[:500])
        lines.append(f"DESCRIPTION:{_escape(' '.join(note))}")
        link = url_of(ev) if url_of else None
        if link:
            lines.append(f"URL:{link}")
        cancelled = ev.get("superseded_by") or ev.get("status") == "vacated"
        lines.append("STATUS:CANCELLED" if cancelled else "STATUS:CONFIRMED")
        lines.append("CATEGORIES:" + ("HEARING" if ev.get("kind") == "hearing" else "DEADLINE"))
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def calendar_events(conn, docket_ids: Optional[list] = None, since: Optional[str] = None,
                    limit: int = 2000) -> list[dict]:
    """The events a calendar holds: those of ``docket_ids`` (None: every case)
    dated from ``since`` on (default: 90 days ago), the superseded ones too
    (sent cancelled), soonest first."""
    since = since or (_dt.date.today() - _dt.timedelta(days=90)).isoformat()
    where, params = ["ev.date >= ?"], [since]
    if docket_ids is not None:
        where.append(f"ev.docket_id in ({', '.join('?' for _ in docket_ids) or 'null'})")
        params.extend(docket_ids)
    return _dicts(conn, "select ev.*, e.entry_key, e.description as entry_description, "
                  "d.docket_number, d.case_name from events ev left join docket_entries e on "
                  "e.id = ev.entry_id left join dockets d on d.id = ev.docket_id where "
                  + " and ".join(where) + f" order by ev.date, coalesce(ev.time, ''), ev.id "
                  f"limit {int(limit)}", params)
