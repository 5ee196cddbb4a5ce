"""The court's header stamp ("Case: 21-2728 Document: 138-2 Page: 1 Date Filed: 08/17/2022").

CM/ECF prints one line on every page of a filed PDF. Its shape differs by
court and by system generation; the pieces are always the same:

    Case: 21-2728 Document: 138-2 Page: 1 Date Filed: 08/17/2022       (ca3, ca1, ca5)
    Appellate Case: 21-800 Document: 010110462922 Date Filed: 01/11/2021 Page: 1   (ca10)
    Case 17-3510, Document 1-1, 10/31/2017, 2161300, Page1 of 2        (ca2)
    Appeal: 17-2218 Doc: 17 Filed: 10/31/2017 Pg: 1 of 1               (ca4)
    Case: 17-2400 Document: 3 Filed: 07/13/2017 Pages: 1               (ca7, Pages = count)
    Appellate Case: 22-1801 Page: 1 Date Filed: 01/19/2023 Entry ID: 5237514  (ca8, footer)
    Case 8:16-cv-01261-DOC-KES Document 40 Filed 08/05/16 Page 1 of 4 Page ID #:365  (district)
    Case: 1:13-cv-01234 Document #: 12 Filed: 01/02/13 Page 1 of 5 PageID #:123      (ilnd)

Pure functions, no PDF library needed: they work on text lines, so they
serve the text layer and OCR output alike.
"""
from __future__ import annotations

import re
from datetime import date

from .common import two_digit_year
from .links import same_number

# A case number: district "8:16-cv-01261-DOC-KES" / "1:13-cv-01234" / "2:15-cr-4",
# appellate "21-2728", "12-2209", "2022-1234" (cafc long form).
_CASE = r"(?:\d{1,2}:\d{2}-[a-zA-Z]{1,5}-\d{1,6}(?:-[A-Za-z0-9]{1,6})*|\d{2,4}-\d{1,6}(?:-[A-Za-z]{1,5}\b)?)"

# The line opens with the case label; OCR may mangle the colon or spacing.
_LEAD = re.compile(
    r"^\W{0,3}(?:Appellate\s+)?(?:USCA\d*\s+)?(?:Case|Appeal|USCA)(?:\s+No\.?)?\s*[:;.,#]?\s*(" + _CASE + r")\b",
    re.I,
)
# Anywhere in a line (for stamps not at the line start, e.g. OCR noise before them).
_ANY = re.compile(
    r"\b(?:Appellate\s+)?(?:Case|Appeal)(?:\s+No\.?)?\s*[:;.,#]?\s*(" + _CASE + r")\b"
    r"(?=.{0,80}\b(?:Document|Doc|Dkt|Filed|Page|Pg)\b)",
    re.I,
)
_DOC = re.compile(
    r"\b(?:DktEntry|Document|Doc|Dkt|DE)\.?\s*(?:No\.?|#)?\s*[:;.,]?\s*(\d{1,12})(?:\s*-\s*(\d{1,4}))?\b",
    re.I,
)
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b")
_FILED_DATE = re.compile(r"\b(?:Date\s+)?Filed\s*[:;.,]?\s*(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", re.I)
# "Page: 1", "Page 1 of 4", "Page1 of 2", "Pg: 1 of 1"; not "Page ID #:365" / "PageID".
_PAGE = re.compile(r"\b(?:Page|Pg)\s*[:;.,]?\s*(\d{1,5})(?:\s+of\s+(\d{1,5}))?\b", re.I)
_PAGES = re.compile(r"\bPages\s*[:;.,]?\s*(\d{1,5})\b", re.I)


def _iso(m: re.Match) -> str | None:
    month, day, year = int(m.group(1)), int(m.group(2)), m.group(3)
    y = int(year)
    if len(year) == 2:
        y = two_digit_year(y)
    try:
        return date(y, month, day).isoformat()
    except ValueError:
        return None


def is_stamp_line(line: str) -> bool:
    """True when a text line is (or holds) the court's header stamp."""
    s = line.strip()
    if len(s) < 12 or len(s) > 220:
        return False
    m = _LEAD.match(s) or _ANY.search(s)
    if not m:
        return False
    rest = s[m.end():]
    # a stamp carries at least two of: document number, filed date, page
    hits = sum(bool(p.search(rest)) for p in (_DOC, _DATE, _PAGE, _PAGES))
    return hits >= 2


def parse_stamp_line(line: str) -> dict | None:
    """Fields of one stamp line, or None when the line is not a stamp."""
    s = " ".join(line.split())
    if not is_stamp_line(s):
        return None
    m = _LEAD.match(s) or _ANY.search(s)
    rest = s[m.end():]
    out = {
        "case_number": m.group(1),
        "document_number": None,
        "attachment_number": None,
        "date_filed": None,
        "page": None,
        "page_count": None,
    }
    d = _DOC.search(rest)
    if d:
        out["document_number"] = d.group(1)
        out["attachment_number"] = d.group(2)
        rest_wo_doc = rest[: d.start()] + " " + rest[d.end():]
    else:
        rest_wo_doc = rest
    fd = _FILED_DATE.search(rest_wo_doc) or _DATE.search(rest_wo_doc)
    if fd:
        out["date_filed"] = _iso(fd)
    p = _PAGE.search(rest_wo_doc)
    if p:
        out["page"] = int(p.group(1))
        if p.group(2):
            out["page_count"] = int(p.group(2))
    ps = _PAGES.search(rest_wo_doc)
    if ps and out["page_count"] is None:
        # ca7 prints "Pages: N", the length of the filing
        out["page_count"] = int(ps.group(1))
    return out


def find_stamp(text: str, max_lines: int = 6) -> dict | None:
    """The stamp in a page's text: looked for in the first and last lines.

    The stamp is a header on most courts and a footer on some (ca8), so the
    first and last ``max_lines`` non-empty lines are searched, header first.
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return None
    head = lines[:max_lines]
    tail = lines[-max_lines:] if len(lines) > max_lines else []
    for ln in head + tail[::-1]:
        st = parse_stamp_line(ln)
        if st:
            return st
    return None


def merge_stamps(stamps: list[dict]) -> dict | None:
    """One stamp for the document from its pages' stamps.

    The case and document numbers are taken by majority over pages (an
    OCR'd page can misread a digit); ``page`` is the first stamped page's
    number, ``page_count`` the printed "of N" when any page has it.
    """
    stamps = [s for s in stamps if s]
    if not stamps:
        return None

    def vote(key):
        counts: dict = {}
        for s in stamps:
            v = s.get(key)
            if v is not None:
                counts[v] = counts.get(v, 0) + 1
        if not counts:
            return None
        return max(counts.items(), key=lambda kv: kv[1])[0]

    out = {k: vote(k) for k in ("case_number", "document_number", "attachment_number", "date_filed", "page_count")}
    # attachment goes with the chosen document number
    if out["document_number"] is not None:
        atts = [s.get("attachment_number") for s in stamps if s.get("document_number") == out["document_number"]]
        out["attachment_number"] = max(set(atts), key=atts.count) if atts else None
    out["page"] = stamps[0].get("page")
    return {
        "case_number": out["case_number"],
        "document_number": out["document_number"],
        "attachment_number": out["attachment_number"],
        "date_filed": out["date_filed"],
        "page": out["page"],
        "page_count": out["page_count"],
    }


def stamp_conflicts(stamp: dict | None, docket_number: str | None,
                    document_number: str | None = None, attachment_number: int | None = None,
                    appellate: bool = False) -> list[str]:
    """What a document's header stamp says that its place in the archive does
    not, in words: another case's number ("Case 8:16-cv-01261 Document 40" on a
    filing of 3:20-cv-05910), another document number, another attachment.
    Empty when they agree or the stamp says too little to tell.

    The document number is compared only when it is an entry number (a few
    digits: some courts of appeals stamp a long document id instead), and the
    attachment only for district courts ("Document 22-1"; "DktEntry: 5-1" is
    a court of appeals' own count).
    """
    if not stamp or not stamp.get("case_number") or not docket_number:
        return []
    if not same_number(stamp["case_number"], docket_number):
        return [f"The header stamp names case {stamp['case_number']}, not this case "
                f"({docket_number}): the PDF may be another case's filing (an exhibit copied "
                f"from it) or the wrong file."]
    out = []
    stamped = str(stamp.get("document_number") or "")
    ours = str(document_number or "")
    if stamped.isdigit() and len(stamped) <= 5 and ours.isdigit() and int(stamped) != int(ours):
        out.append(f"The header stamp names document {stamped}, not this entry's "
                   f"({ours}): the PDF may belong to another entry of the case.")
    elif not appellate and stamped.isdigit() and ours.isdigit():
        att = str(stamp.get("attachment_number") or "")
        if att.isdigit() and int(att) != int(attachment_number or 0):
            out.append(f"The header stamp names attachment {att} of document {stamped}, "
                       f"not this one ({int(attachment_number or 0) or 'the main document'}).")
    return out
