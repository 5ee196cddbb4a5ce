"""CM/ECF district/bankruptcy attachment page ("Document Selection Menu").

``parse(text, court=None)`` returns ``{court_id, document_number,
pacer_doc_id, pacer_case_id, pacer_seq_no, page_count, file_size_str,
file_size_bytes, attachments: [{attachment_number, description, page_count,
file_size_str, file_size_bytes, pacer_doc_id, pacer_seq_no}]}``.
Numbers are ints; ids strings; unknown values ``None``.

Raises :class:`parsers.ParseError` when the page is not an attachment menu.
"""
from __future__ import annotations

import re

from . import ParseError, page_parser
from .common import clean, court_from_links, go_dls_args, html_tree, pacer_doc_id_from_url, text_content

_PAGES = re.compile(r"^(\d[\d,]*)\s+pages?$", re.I)
_SIZE = re.compile(r"^\d[\d,.]*\s*(?:[kmg]?b|bytes?)$", re.I)


def _cells(row):
    return [c for c in row if c.tag in ("td", "th")]


def _doc_row(row):
    """The fields of one document row, or None when the row is not one."""
    cells = _cells(row)
    if len(cells) < 2:
        return None
    link = None
    for a in row.iter("a"):
        if pacer_doc_id_from_url(a.get("href")) or "goDLS" in (a.get("onclick") or ""):
            link = a
            break
    number = None
    description = ""
    pages = None
    size = None
    size_bytes = None
    texts = [clean(text_content(c)) for c in cells]
    if link is not None:
        number = clean(text_content(link))
    for c, t in zip(cells, texts):
        if _PAGES.match(t):
            pages = int(_PAGES.match(t).group(1).replace(",", ""))
        elif _SIZE.match(t) and size is None:
            size = t
    for inp in row.iter("input"):
        if (inp.get("type") or "").lower() == "checkbox":
            parts = (inp.get("value") or "").split("-")
            if len(parts) >= 2 and parts[1].isdigit():
                size_bytes = int(parts[1])
    if number is None:
        # sealed or unavailable attachments: a bare number, no link
        for t in texts:
            if t.isdigit():
                number = t
                break
    if number is None or not number.isdigit():
        return None
    for c, t in zip(cells, texts):
        if not t or t == number or _PAGES.match(t) or (_SIZE.match(t) and t == size):
            continue
        if t.rstrip(":").lower() in ("document number", "attachment", "description", "pages", "size"):
            continue
        description = t
        break
    doc_id = seq = case_id = None
    if link is not None:
        doc_id = pacer_doc_id_from_url(link.get("href"))
        args = go_dls_args(link.get("onclick"))
        if doc_id is None and args:
            doc_id = pacer_doc_id_from_url(args[0])
        if len(args) > 2:
            case_id = args[1] or None
            seq = args[2] or None
    return {
        "number": int(number),
        "description": description,
        "page_count": pages,
        "file_size_str": size,
        "file_size_bytes": size_bytes,
        "pacer_doc_id": doc_id,
        "pacer_seq_no": seq,
        "pacer_case_id": case_id,
        "is_main_label": "document number" in " ".join(texts).lower(),
    }


@page_parser
def parse(text: str, court: str | None = None) -> dict:
    """Parse ``text``; ParseError when it is not this kind of page."""
    root = html_tree(text, "attachment page")
    body = root.find("body")
    visible = clean(text_content(body if body is not None else root))
    if "Docket Text" in visible and "Document Selection Menu" not in visible:
        raise ParseError("docket report, not an attachment page")
    docs = []
    for row in root.iter("tr"):
        if any(child.tag == "tr" for child in row.iter("tr") if child is not row):
            continue
        found = _doc_row(row)
        if found is not None:
            docs.append(found)
    if not docs:
        for inp in root.iter("input"):
            if (inp.get("type") or "").lower() == "password":
                raise ParseError("login page, not an attachment page (session expired?)")
        raise ParseError(f"not a CM/ECF attachment page: {visible[:120]!r}")
    main_i = next((i for i, d in enumerate(docs) if d["is_main_label"]), 0)
    main = docs[main_i]
    attachments = []
    for d in docs[main_i + 1:]:
        attachments.append({
            "attachment_number": d["number"],
            "description": d["description"],
            "page_count": d["page_count"],
            "file_size_str": d["file_size_str"],
            "file_size_bytes": d["file_size_bytes"],
            "pacer_doc_id": d["pacer_doc_id"],
            "pacer_seq_no": d["pacer_seq_no"],
        })
    if not attachments and "Document Selection Menu" not in visible:
        raise ParseError(f"not a CM/ECF attachment page: {visible[:120]!r}")
    return {
        "court_id": court or court_from_links(root),
        "document_number": main["number"],
        "pacer_doc_id": main["pacer_doc_id"],
        "pacer_case_id": main["pacer_case_id"] or next(
            (d["pacer_case_id"] for d in docs if d["pacer_case_id"]), None),
        "pacer_seq_no": main["pacer_seq_no"],
        "page_count": main["page_count"],
        "file_size_str": main["file_size_str"],
        "file_size_bytes": main["file_size_bytes"],
        "attachments": attachments,
    }
