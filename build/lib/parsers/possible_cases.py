"""CM/ECF ``possible_case_numbers.pl`` answer (docket number -> case ids).

The court answers XML like::

    <request number="16-01152">
      <case number="2:16-cv-1152" id="977547"
            title="2:16-cv-01152-JJT Armes v. Hot Pizzas LLC (closed 06/09/2017)"
            sortable="2:2016-cv-01152-JJT"/>
      ...
    </request>

or ``<message text="Cannot find case ..."/>`` / ``"Case Under Seal"``.

``parse(text, court=None)`` returns ``{"request": <number asked>,
"message": <court's message or "">, "cases": [{docket_number, pacer_case_id,
title, sortable, docket_number_full, case_name, date_terminated}]}``:
``docket_number`` and ``pacer_case_id`` exactly as the court gives them
(``number``/``id`` attributes); ``docket_number_full`` the normalised
number with its judge initials stripped (``2:16-cv-01152``), ``case_name``
the title without number and ``(closed ...)`` note. No results is an empty
list, not an error; an HTML page (login, error) raises ParseError.

:func:`best_match` picks the case for a known case name.
"""
from __future__ import annotations

import re

from lxml import etree

from . import ParseError, page_parser
from .common import clean, find_date, normalize_docket_number, xml_tree

_RECOVER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
_CLOSED = re.compile(r"\(\s*closed\s+([\d/]+)\s*\)\s*$", re.I)


def _case(node) -> dict:
    title = clean(node.get("title"))
    number = clean(node.get("number"))
    rest = title
    m = re.match(r"^(\S+)\s+(.*)$", title)
    if m and normalize_docket_number(m.group(1)):
        rest = m.group(2)
    closed = _CLOSED.search(rest)
    name = _CLOSED.sub("", rest).strip()
    return {
        "docket_number": number or None,
        "pacer_case_id": clean(node.get("id")) or None,
        "title": title,
        "sortable": clean(node.get("sortable")),
        "docket_number_full": normalize_docket_number(title.split(" ")[0] if title else number)
        or normalize_docket_number(number),
        "case_name": name,
        "date_terminated": find_date(closed.group(1)) if closed else None,
    }


@page_parser
def parse(text: str, court: str | None = None) -> dict:
    """Parse ``text``; ParseError when it is not this kind of page."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("empty answer, not possible_case_numbers XML")
    head = text.lstrip("\ufeff \t\r\n")[:300].lower()
    if head.startswith(("<!doctype", "<html", "<head", "<body")) or "<html" in head:
        raise ParseError("HTML page, not possible_case_numbers XML (login or error page?)")
    try:
        root = xml_tree(text, "possible_case_numbers answer")
    except ParseError:
        # courts do not always escape '&' in titles: salvage a <request>
        if "<request" not in text[:500]:
            raise
        try:
            root = etree.fromstring(text.strip().encode("utf-8", "replace"), parser=_RECOVER)
        except (etree.XMLSyntaxError, ValueError):
            root = None
        if root is None:
            raise
    if root.tag != "request":
        raise ParseError(f"XML root is <{root.tag}>, not <request>: not a possible_case_numbers answer")
    messages = [clean(m.get("text") or "".join(m.itertext())) for m in root.iter("message")]
    cases = [_case(node) for node in root.iter("case")]
    return {
        "court_id": court,
        "request": clean(root.get("number")),
        "message": "; ".join(m for m in messages if m),
        "cases": cases,
    }


def _words(s: str) -> set:
    return set(re.findall(r"[a-z0-9]+", (s or "").lower())) - {"v", "vs", "et", "al", "the", "of", "inc", "llc"}


def best_match(result: dict, case_name: str | None = None, docket_number: str | None = None):
    """The most likely case among ``result["cases"]``: the only one; else the
    civil/criminal one whose number matches ``docket_number`` and whose
    title shares most words with ``case_name``. ``None`` when there are none."""
    cases = result.get("cases") or []
    if not cases:
        return None
    if len(cases) == 1:
        return cases[0]
    pool = cases
    if docket_number:
        want = normalize_docket_number(docket_number)
        same = [c for c in cases if c["docket_number_full"] == want]
        pool = same or cases
    if case_name:
        target = _words(case_name)
        pool = sorted(pool, key=lambda c: -len(target & _words(c["case_name"])))
    return pool[0]
