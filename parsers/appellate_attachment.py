"""Appellate attachment pages: the documents filed under one docket entry.

Two forms:

* CM/ECF appellate (``docs1/<id>`` answered with "N Documents are attached
  to this filing"): a table with, per document, an optional checkbox
  (``sumDocSelected(this, pages, bytes, dls)``), the attachment number, a
  document link, the description, the page count and sometimes the size.
* ACMS (Ninth and Second Circuit) JSON: ``caseDetails``, ``docketEntry`` and
  ``docketEntryDocuments``.

Output (juriscraper naming): ``pacer_doc_id`` of the filing (the lowest
document id on a CM/ECF page; the entry's GUID on ACMS), ``pacer_case_id``,
``pacer_seq_no`` (CM/ECF) or ``entry_number``/``description``/dates (ACMS),
and ``attachments``: attachment_number, description, page_count,
pacer_doc_id (and file_size_bytes, acms_document_guid... when given).
"""
from __future__ import annotations

import json
import re
import unicodedata

from . import ParseError, page_parser
from .common import (
    clean, doc_id_from_url, find_date, html_tree, json_str, text_content, text_of, to_int,
)

KIND = "appellate attachment page"

_SUM_DOC = re.compile(r"sumDocSelected\(\s*this\s*,\s*(\d+)\s*,\s*(\d+)")
_DOC_ONCLICK = re.compile(r"doDocPostURL\(\s*['\"](\d+)['\"]")
_CASE_ID = re.compile(r"[?&]caseid=(\d+)", re.I)
_SEQ_NO = re.compile(r"[?&]d=(\d+)&outputForm", re.I)
_ATTACHED = re.compile(r"documents?\s+(?:are|is)\s+attached\s+to\s+this\s+filing", re.I)


@page_parser(kind=KIND)
def parse(text: str, court: str | None = None) -> dict:
    if isinstance(text, str) and text.lstrip()[:1] in ("{", "["):
        return _parse_acms(text)
    return _parse_html(text)


# ---------------------------------------------------------------- CM/ECF

def _doc_link(td):
    """(pacer_doc_id, link element) of the first document link in ``td``."""
    for a in td.iter("a"):
        doc_id = doc_id_from_url(a.get("href"), zero_fourth=True)
        if doc_id is None:
            m = _DOC_ONCLICK.search(a.get("onclick") or "")
            if m:
                doc_id = m.group(1)
                doc_id = doc_id[:3] + "0" + doc_id[4:] if len(doc_id) > 4 else doc_id
        if doc_id is None:
            doc_id = a.get("data-pacer-doc-id") or None
        if doc_id:
            return doc_id, a
    return None, None


def attachment_row(tr):
    """One document row -> dict, or None when the row is not one."""
    cells = [c for c in tr if c.tag == "td"]
    if len(cells) < 3:
        return None
    link_i = None
    doc_id = None
    for i, td in enumerate(cells):
        doc_id, _a = _doc_link(td)
        if doc_id:
            link_i = i
            break
    if link_i is None:
        return None
    number = None
    for td in cells[:link_i]:
        n = to_int(text_content(td), whole=True)
        if n is not None:
            number = n
    if number is None:
        return None
    rest = cells[link_i + 1:]
    row = {
        "attachment_number": number,
        "description": clean(text_content(rest[0]), commas=True) if rest else "",
        "pacer_doc_id": doc_id,
        "page_count": to_int(text_content(rest[1]), whole=True) if len(rest) > 1 else None,
    }
    for inp in tr.iter("input"):
        m = _SUM_DOC.search(inp.get("onclick") or "")
        if m:
            row["page_count"] = int(m.group(1))
            row["file_size_bytes"] = int(m.group(2))
        value = (inp.get("value") or "").split()
        if len(value) > 1 and value[0].isdigit():
            row["pacer_seq_no"] = value[0]
        break
    if len(rest) > 2:
        size = text_of(rest[2])
        if size:
            row["file_size_str"] = size
    return row


def attachment_rows(container) -> list:
    """All document rows in tables under ``container``, in page order."""
    rows = []
    for tr in container.iter("tr"):
        row = attachment_row(tr)
        if row is not None:
            rows.append(row)
    return rows


def _parse_html(text):
    root = html_tree(text, KIND)
    for b in root.iter("b"):
        if text_of(b).rstrip(":").strip().endswith("Docket #"):
            raise ParseError(f"not an {KIND}: this is a docket report")
    header = None
    for th in root.iter("th"):
        label = text_of(th).lower()
        if label == "description":
            header = th.getparent()
            break
    whole = None
    if header is None:
        whole = text_of(root)
        if not _ATTACHED.search(whole):
            raise ParseError(f"not an {KIND}: no table of attached documents found")
    table = header.getparent() if header is not None else root
    while table is not None and table.tag not in ("table",):
        table = table.getparent()
    rows = attachment_rows(table if table is not None else root)
    if not rows:
        raise ParseError(f"not an {KIND}: the page lists no documents")

    case_id = seq_no = None
    for script in root.iter("script"):
        body = script.text or ""
        if case_id is None:
            m = _CASE_ID.search(body)
            if m:
                case_id = m.group(1)
        if seq_no is None:
            m = _SEQ_NO.search(body)
            if m:
                seq_no = m.group(1)
    return {
        "pacer_doc_id": min(r["pacer_doc_id"] for r in rows),
        "pacer_case_id": case_id,
        "pacer_seq_no": seq_no,
        "attachments": rows,
    }


# ---------------------------------------------------------------- ACMS

def _date(value):
    value = json_str(value)
    if not value:
        return None
    return find_date(value)


def html_text(fragment) -> str:
    """Plain text of a small HTML fragment (ACMS docket text)."""
    if not isinstance(fragment, str):
        return ""
    if "<" not in fragment and "&" not in fragment:
        return fragment
    try:
        root = html_tree(fragment, "fragment")
    except ParseError:
        return fragment
    return text_content(root)


def _description(name: str) -> str:
    """``23-7246 005-01 - Agency Review Served - Agency Review Served.pdf``
    -> ``Agency Review Served`` (the file name's last part, no extension).
    Names of another shape are kept whole."""
    parts = name.split(" - ")
    if len(parts) != 3:
        return name
    return parts[-1].split(".")[0]


def _parse_acms(text):
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"not an {KIND}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not all(
            isinstance(data.get(k), t) for k, t in (
                ("caseDetails", dict), ("docketEntry", dict),
                ("docketEntryDocuments", list))):
        raise ParseError(f"not an {KIND}: JSON without caseDetails, docketEntry "
                         "and docketEntryDocuments")
    case = data["caseDetails"]
    entry = data["docketEntry"]
    entry_id = json_str(entry.get("docketEntryId"))
    result = {
        "pacer_doc_id": entry_id,
        "pacer_case_id": json_str(case.get("caseId")),
        "entry_number": entry.get("entryNumber") if isinstance(
            entry.get("entryNumber"), int) else json_str(entry.get("entryNumber")),
        "description": unicodedata.normalize(
            "NFKD", html_text(entry.get("docketEntryText"))),
        "date_filed": _date(entry.get("createdOn")),
        "date_end": _date(entry.get("endDate")),
        "attachments": [],
    }
    for doc in data["docketEntryDocuments"]:
        if not isinstance(doc, dict):
            continue
        number = json_str(doc.get("documentNumber")) or ""
        number = number.rsplit(".", 1)[-1].strip()
        name = json_str(doc.get("name")) or ""
        result["attachments"].append({
            "attachment_number": int(number) if number.isdigit() and number.isascii() else None,
            "description": _description(name),
            "page_count": doc.get("billablePages") if isinstance(
                doc.get("billablePages"), int) else None,
            "pacer_doc_id": entry_id,
            "acms_document_guid": json_str(doc.get("docketDocumentDetailsId")),
            "cost": doc.get("cost") if isinstance(doc.get("cost"), (int, float)) else None,
            "date_filed": _date(doc.get("createdOn")),
            "permission": json_str(doc.get("documentPermission")),
            "file_size": doc.get("fileSize") if isinstance(doc.get("fileSize"), (int, float)) else None,
        })
    return result
