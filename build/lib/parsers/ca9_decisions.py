"""The Ninth Circuit's free decisions feeds (RSS 2.0, the latest 25 items each):

* ``https://www.ca9.uscourts.gov/decisions/opinions/index.xml``: published
  (precedential) opinions;
* ``https://www.ca9.uscourts.gov/decisions/memoranda/index.xml``:
  unpublished memoranda.

Each ``<item>`` carries the case name as ``<title>`` (``USA V. JOHN DOE``),
the PDF as ``<link>``
(``https://cdn.ca9.uscourts.gov/datastore/opinions/2026/03/13/25-5185.pdf``,
memoranda under ``/datastore/memoranda/``; the file name is the case number,
sometimes followed by a suffix), ``Date Filed MM/DD/YYYY`` somewhere in its
``<description>`` and a ``<pubDate>`` (RFC 822 or ``MM/DD/YYYY``).

``parse(text, court=None)`` returns::

    {"court_id": "ca9", "kind": "opinions" | "memoranda" | None,
     "decisions": [{"docket_number", "case_name", "date_filed", "url",
                    "precedential"}]}

in feed order. ``kind`` comes from the channel's title and link; an item's
``precedential`` from its PDF's folder (``opinions`` True, ``memoranda``
False), else from the feed's kind, else None. ``date_filed`` is the
description's "Date Filed", else the pubDate's date, else None. Items
without a usable link or without a case number in the PDF's name are left
out; the same PDF listed twice appears once.

Raises :class:`parsers.ParseError` for anything that is not an RSS feed of
Ninth Circuit decisions (HTML pages, PACER's CM/ECF RSS feeds, empty text,
XML without a ``<channel>``).
"""
from __future__ import annotations

import html
import re
from urllib.parse import unquote, urlsplit

from . import ParseError, page_parser
from .common import (
    child_text, clean, find_date, harmonize_case_name, parse_date, titlecase_if_shouting,
    xml_page_root,
)

COURT_ID = "ca9"

_CA9_HOST = re.compile(r"(?:^|\.)ca9\.uscourts\.gov$", re.I)
_NINTH = re.compile(r"\bninth\s+circuit\b|\bca9\b", re.I)
# /datastore/opinions/2026/03/13/25-5185.pdf (the folder names the kind)
_DATASTORE = re.compile(r"/datastore/(opinions|memoranda)/\d{4}/\d{1,2}/\d{1,2}/[^/]+$", re.I)
# /decisions/opinions/index.xml, /opinions/, /memoranda/ ... (the channel link)
_KIND_PATH = re.compile(r"/(opinions?|memoranda|memorandum|memos?)(?:/|$|\.|index)", re.I)
_KIND_WORD = re.compile(r"\b(opinions?|memoranda|memorandum|memos?)\b", re.I)
# the PDF's file name starts with the case number: 25-5185.pdf, 21-15295a.pdf, 20-16908-2.pdf
_FILE_DN = re.compile(r"^(\d{2})-(\d{1,6})(?!\d)")
_DATE_FILED = re.compile(r"date\s*filed\s*:?\s*(\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{2,4})", re.I)
_TAG = re.compile(r"<[^>]*>")
_INITIALISM = re.compile(r"^\(?(?:[A-Za-z]\.){2,}[,;:)]*$")


def _unescape(text: str) -> str:
    """Feeds sometimes escape twice (``&amp;amp;``): unescape what is left."""
    return html.unescape(text) if "&" in text else text


def _kind_of(*texts):
    for text in texts:
        m = _KIND_WORD.search(text or "")
        if m:
            return "opinions" if m.group(1).lower().startswith("opinion") else "memoranda"
    return None


def _channel_kind(title: str, link: str):
    path = urlsplit(link).path if link else ""
    m = _KIND_PATH.search(path)
    if m:
        return "opinions" if m.group(1).lower().startswith("opinion") else "memoranda"
    return _kind_of(title)


def _case_name(title: str) -> str:
    """``U.S. WECHAT USERS ALLIANCE V. DONALD TRUMP`` ->
    ``U.S. Wechat Users Alliance v. Donald Trump``; ``USA V. JOHN DOE`` ->
    ``United States v. John Doe``."""
    title = clean(_unescape(title))
    if not title:
        return ""
    words = title.split(" ")
    cased = titlecase_if_shouting(title).split(" ")
    if len(cased) == len(words):
        # keep initialisms with periods (U.S., N.A., D.C.) as printed
        cased = [w if _INITIALISM.match(w) else c for w, c in zip(words, cased)]
    return harmonize_case_name(" ".join(cased))


def _url_parts(link: str):
    """(absolute url, path) of an http(s) link, or None."""
    link = clean(link)
    if not link:
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return link, unquote(parts.path)


def _item(item, feed_kind):
    found = _url_parts(_unescape(child_text(item, "link")))
    if found is None:
        return None
    url, path = found
    name = path.rstrip("/").rsplit("/", 1)[-1]
    m = _FILE_DN.match(name)
    if not m:
        return None
    docket_number = "%s-%s" % (m.group(1), m.group(2))

    store = _DATASTORE.search(path)
    kind = store.group(1).lower() if store else feed_kind
    precedential = {"opinions": True, "memoranda": False}.get(kind)

    desc = clean(_TAG.sub(" ", _unescape(child_text(item, "description"))))
    date_filed = None
    dm = _DATE_FILED.search(desc)
    if dm:
        date_filed = find_date(re.sub(r"\s+", "", dm.group(1)))
    if date_filed is None:
        date_filed = parse_date(_unescape(child_text(item, "pubDate")))

    return {
        "docket_number": docket_number,
        "case_name": _case_name(child_text(item, "title")),
        "date_filed": date_filed,
        "url": url,
        "precedential": precedential,
    }


def _is_ca9_link(link: str) -> bool:
    found = _url_parts(link)
    if found is None:
        return False
    host = (urlsplit(found[0]).hostname or "").lower()
    return bool(_CA9_HOST.search(host))


@page_parser(kind="Ninth Circuit decisions feed")
def parse(text: str, court: str | None = None) -> dict:
    """Parse ``text``; ParseError when it is not a Ninth Circuit decisions feed."""
    root = xml_page_root(text, "Ninth Circuit decisions feed", "rss", article="a ",
                         html_hint="(error page?)")
    channel = root.find("channel")
    if channel is None:
        raise ParseError("RSS feed without a <channel>")
    title = clean(_unescape(child_text(channel, "title")))
    link = clean(_unescape(child_text(channel, "link")))
    description = clean(_unescape(child_text(channel, "description")))
    items = channel.findall("item")

    # PACER's CM/ECF feeds (ecf.<court>.uscourts.gov) are another kind of page
    if re.search(r"\becf\.[a-z0-9]+\.uscourts\.gov", link, re.I):
        raise ParseError("a CM/ECF RSS feed (%s), not a Ninth Circuit decisions feed" % link)
    item_paths = []
    for item in items:
        found = _url_parts(_unescape(child_text(item, "link")))
        if found is not None:
            item_paths.append(found[1])
    ninth = (_is_ca9_link(link) or bool(_NINTH.search(title)) or bool(_NINTH.search(description))
             or any(_DATASTORE.search(p) for p in item_paths))
    if not ninth:
        raise ParseError("RSS feed %r is not a Ninth Circuit decisions feed" % (title or link or "untitled"))
    if court not in (None, "", COURT_ID):
        raise ParseError(f"the decisions feed is the Ninth Circuit's (ca9), not {court}'s")

    feed_kind = _channel_kind(title, link)
    decisions, seen = [], set()
    for item in items:
        decision = _item(item, feed_kind)
        if decision is None or decision["url"] in seen:
            continue
        seen.add(decision["url"])
        decisions.append(decision)
    return {"court_id": COURT_ID, "kind": feed_kind, "decisions": decisions}
