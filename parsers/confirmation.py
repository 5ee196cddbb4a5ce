"""PACER document purchase confirmation page (the page ``/doc1/<id>`` or an
appellate ``ShowDoc`` answers before it bills you), district or appellate.

``parse(text, court=None)`` returns ``{court_id, docket_number,
document_number, document_description, billable_pages (int), cost (float,
dollars), transaction_date (ISO datetime), pacer_doc_id, pacer_case_id,
file_size_str}`` (``None`` for what the page does not show).
``docket_number`` is the number as printed (judge initials kept).

Raises :class:`parsers.ParseError` for anything without a PACER transaction
receipt showing billable pages (error pages such as "You do not have
permission to view this document", login pages, attachment menus).
"""
from __future__ import annotations

import re

from . import ParseError, page_parser
from .common import (
    clean, court_from_links, go_dls_args, html_tree, pacer_doc_id_from_url, parse_datetime, text_content,
    to_float, to_int,
)

_CASE_DOC = re.compile(r"Case:\s*([^,]+?)\s*,\s*Document:\s*([\w\-]+)", re.I)
_DATETIME = re.compile(
    r"(\d{1,2}/\d{1,2}/\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?)"
    r"|([A-Z][a-z]{2}\s+[A-Z][a-z]{2}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}\s+\d{4})")
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def _txt(el) -> str:
    return clean(text_content(el).replace("&nbsp;", " "))


def _ctime(s: str):
    """'Thu Mar  2 13:53:33 2023' -> '2023-03-02T13:53:33'."""
    m = re.match(r"[A-Z][a-z]{2}\s+([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})", s)
    if not m or m.group(1).lower() not in _MONTHS:
        return None
    mon, day, hh, mm, ss, year = m.groups()
    return (f"{int(year):04d}-{_MONTHS[mon.lower()]:02d}-{int(day):02d}"
            f"T{int(hh):02d}:{mm}:{ss}")


def _receipt(root):
    """label -> value pairs of the PACER transaction receipt table, and the
    receipt's date line."""
    for table in root.iter("table"):
        text = _txt(table)
        if "Transaction Receipt" not in text or "Billable Pages" not in text:
            continue
        if any(t is not table and "Transaction Receipt" in _txt(t) for t in table.iter("table")):
            continue  # an outer layout table: use the inner receipt
        pairs = {}
        when = None
        for row in table.iter("tr"):
            cells = [c for c in row if c.tag in ("td", "th")]
            texts = [_txt(c) for c in cells]
            if len(cells) == 1 and texts[0]:
                m = _DATETIME.search(texts[0])
                if m:
                    when = m.group(0)
                continue
            for i in range(0, len(texts) - 1, 2):
                label = texts[i].rstrip(":").strip().lower()
                if label:
                    pairs[label] = texts[i + 1]
        return pairs, when
    return None, None


def receipt(text: str) -> dict | None:
    """The transaction receipt PACER adds to a report it bills (a docket
    report, an appellate docket): ``{billable_pages, cost}``, or None when the
    page shows none."""
    try:
        found = parse(text)
    except ParseError:
        return None
    return {"billable_pages": found["billable_pages"], "cost": found["cost"]}


@page_parser
def parse(text: str, court: str | None = None) -> dict:
    """Parse ``text``; ParseError when it is not this kind of page."""
    root = html_tree(text, "confirmation page")
    pairs, when = _receipt(root)
    if not pairs or "billable pages" not in pairs:
        body = root.find("body")
        visible = clean(text_content(body if body is not None else root))
        for inp in root.iter("input"):
            if (inp.get("type") or "").lower() == "password":
                raise ParseError("login page, not a purchase confirmation page (session expired?)")
        raise ParseError(f"no PACER transaction receipt: not a purchase confirmation page: {visible[:160]!r}")

    docket_number = pairs.get("case number") or None
    document_number = None
    criteria = pairs.get("search criteria", "")
    m = _CASE_DOC.search(criteria)
    if not m:
        m = _CASE_DOC.search(clean(text_content(root)))
    if m:
        docket_number = docket_number or clean(m.group(1))
        document_number = clean(m.group(2))
    if not docket_number and criteria:
        docket_number = criteria

    if when and "/" in when:
        transaction_date = parse_datetime(when)
    else:
        transaction_date = _ctime(when) if when else None

    pacer_doc_id = pacer_case_id = None
    for form in root.iter("form"):
        pacer_doc_id = pacer_doc_id_from_url(form.get("action"))
        args = go_dls_args(form.get("onsubmit"))
        if len(args) > 1:
            pacer_doc_id = pacer_doc_id or pacer_doc_id_from_url(args[0])
            pacer_case_id = args[1] or None
        if pacer_doc_id:
            break
    for inp in root.iter("input"):
        name = (inp.get("name") or "").lower()
        if name == "dls_id" and not pacer_doc_id:
            pacer_doc_id = clean(inp.get("value")) or None
        elif name == "caseid" and not pacer_case_id:
            pacer_case_id = clean(inp.get("value")) or None

    size = None
    for label, value in pairs.items():
        if "size" in label:
            size = value
    return {
        "court_id": court or court_from_links(root),
        "docket_number": docket_number,
        "document_number": document_number,
        "document_description": pairs.get("description", ""),
        "billable_pages": to_int(pairs.get("billable pages")),
        "cost": to_float(pairs.get("cost")),
        "transaction_date": transaction_date,
        "pacer_doc_id": pacer_doc_id,
        "pacer_case_id": pacer_case_id,
        "file_size_str": size,
    }
