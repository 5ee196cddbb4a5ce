"""The public archive's addresses: one place builds them, so pages, feeds and
search results link alike and links stay stable across crawls.

- home ``/``; search ``/search?q=``; the whole archive's feed ``/feed.atom``
- a case ``/cases/{court_id}/{docket_number}`` (the number as in
  ``dockets.docket_number``, e.g. ``/cases/cand/3:20-cv-05910``), its feed
  ``.../feed.atom``, an entry's place on it ``#entry-{entry_key}``
- a document ``/cases/{court_id}/{docket_number}/documents/{entry_key}/{attachment}``,
  its text ``....txt``
- a stored PDF ``/files/{file_path}`` (a folder store; an S3 store's PDFs are
  linked by URL when a page is drawn)
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, urlencode

SAFE = ":-._~"  # kept as they are in a path segment (docket numbers have ':' and '-')


@lru_cache(maxsize=8192)
def _quoted(text: str) -> str:
    return quote(text, safe=SAFE)


def segment(value) -> str:
    return _quoted(str(value))


def case(court_id: str, docket_number: str) -> str:
    return f"/cases/{segment(court_id)}/{segment(docket_number)}"


def _kinds(kinds) -> str:
    return f"?kind={','.join(sorted(set(kinds)))}" if kinds else ""


def case_feed(court_id: str, docket_number: str, kinds=()) -> str:
    """A case's Atom feed; of the entries of ``kinds`` only (order, opinion ...) when given."""
    return case(court_id, docket_number) + "/feed.atom" + _kinds(kinds)


def entry_anchor(entry_key: str) -> str:
    return f"entry-{segment(entry_key)}"


def entry(court_id: str, docket_number: str, entry_key: str) -> str:
    return f"{case(court_id, docket_number)}#{entry_anchor(entry_key)}"


def document(court_id: str, docket_number: str, entry_key: str, attachment_number) -> str:
    return (f"{case(court_id, docket_number)}/documents/{segment(entry_key)}/"
            f"{int(attachment_number or 0)}")


def document_text(court_id: str, docket_number: str, entry_key: str, attachment_number) -> str:
    return document(court_id, docket_number, entry_key, attachment_number) + ".txt"


def stored_file(file_path: str) -> str:
    return "/files/" + "/".join(segment(part) for part in file_path.split("/"))


SEARCH = "/search"
FEED = "/feed.atom"


def feed(kinds=()) -> str:
    """The whole archive's Atom feed; of the entries of ``kinds`` only when given."""
    return FEED + _kinds(kinds)


def search(q: str = "", **filters) -> str:
    """The search page for ``q`` with its filters (court, case, date_from, date_to, type, page)."""
    params = [(k, v) for k, v in (("q", q), *filters.items()) if v not in (None, "")]
    return SEARCH + ("?" + urlencode(params) if params else "")


def release(name: str) -> str:
    """A file of the releases folder (``dockets-YYYY-MM-DD.db``, its manifest)."""
    return "/releases/" + segment(name)


# --- following cases (issue 20: archive/site/following.py) -----------------------

CALENDAR = "/calendar.ics"
GAPS = "/gaps"


def case_calendar(court_id: str, docket_number: str) -> str:
    """A case's hearings and deadlines, iCal."""
    return f"/calendar/{segment(court_id)}/{segment(docket_number)}.ics"


def case_gaps(court_id: str, docket_number: str) -> str:
    """What a case lacks, and when each source checked it (JSON)."""
    return f"/gaps/{segment(court_id)}/{segment(docket_number)}.json"


def kind_feed(kinds, court_id: str = None, docket_number: str = None) -> str:
    """An Atom feed of entries of ``kinds`` (order, opinion ...), of one case or all."""
    if court_id and docket_number:
        return case_feed(court_id, docket_number, kinds)
    return feed(kinds)
