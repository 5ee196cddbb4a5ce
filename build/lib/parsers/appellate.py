"""CM/ECF appellate docket report (the TransportRoom ``CaseSummary`` page).

Every circuit on appellate CM/ECF (and the bankruptcy appellate panels)
prints the same report: a case stub table (docket number, Docketed/Termed,
case name, Appeal From, Fee Status, Nature of Suit), case type, originating
court, prior/associated cases, panel, the party/attorney sheet and the docket
entries, each section opened by an HTML comment such as
``<!-- ... NEW SECTION - Case Stub ... -->``.  The sections are found by
those comments when present and by their bold labels otherwise; the tree is
walked once for comments and once for bold labels, never searched per entry.

Output fields follow CourtListener / juriscraper naming; dates are ISO 8601:
court_id, docket_number, case_name (tidied: one "v.", no "et al", "United
States" for USA), date_filed, date_terminated, nature_of_suit, appeal_from,
fee_status, panel, case_type_information, originating_court_information,
parties (name, type, attorneys [name, roles, contact]), docket_entries
(document_number, date_filed, date_entered, description, pacer_doc_id,
pacer_seq_no, and attachments when the page lists them inline) and
pacer_case_id (from the document links, when there are any).

Unlike juriscraper, the originating court's "Date Disposed"/"Disposition"
are read from that court's own table (not from the Prior Cases table), and
an "Originating Judge" counts as the assigned judge.

What makes a page this report is what every court's report has, not one
court's wording: a case number (the stub's "<court> Docket #:" label, or any
"Docket No./Case Number/Appeal No." label, or an unlabelled stub cell, the
report form's ``caseNum`` or the page title "NN-NNNN Docket"), with a case
stub (the "Case Stub" section, or a stub table of "Docketed:"/"Termed:") or
a docket entries table (its section, the ``dktEntry`` form, or rows of a
date, a number cell and a text stamped "[Entered: ...]"), and a caption (the
stub's case name or the "Case Caption" section) unless the entries table is
there. Anything less (a purchase confirmation, "Case Number Not Found", a
login page, a district docket) is refused, saying what was missing.
"""
from __future__ import annotations

import re

from lxml import etree

from . import ParseError, page_parser
from .appellate_attachment import attachment_rows
from .common import (
    ancestor, br_lines, clean, court_id_from_url, cut_short, doc_id_from_url, entered, find_date,
    harmonize_case_name, html_tree, is_element, label_value, norm_label, normalize_judge,
    text_content, text_of,
)

KIND = "appellate docket"

_DIST_DOCKET = re.compile(r"((?:\d{1,2}:)?\d\d-[a-zA-Z]{1,4}-\d{1,10})")
_PANEL_EMPTY = {"", "not available", "none", "null"}
_NULLS = {"null", "none", "-"}
_OGC_DATE_LABELS = {
    "date order/judgment": "date_judgment",
    "date order/judgment eod": "date_judgment_eod",
    "date noa filed": "date_filed_noa",
    "date rec'd coa": "date_received_coa",
    "date rec'd bap": "date_received_coa",
}
_SEE_ABOVE = {"(see above)", "see above"}
_PARTY_FIELDS = {"terminated": "date_terminated"}
_DOC_ONCLICK = re.compile(
    r"doDocPostURL\(\s*['\"](\d+)['\"](?:\s*,\s*['\"](\d+)['\"])?")
_CASE_ID = re.compile(r"[?&]caseId=(\d+)", re.I)
# an appellate case number: 21-1234, 18-90014, 2021-1234, a bankruptcy appellate
# panel's NC-15-1074 (never a district court's 3:20-cv-05910 or 17-13421-CMA)
_APPELLATE_NUMBER = re.compile(r"^(?:[A-Za-z]{1,3}-)?\d{2,4}-\d{1,6}[A-Za-z]?$")
_NUMBER_LABEL = re.compile(r"\b(?:docket|case|appeal)\s*(?:#|no\.?|number)$", re.I)
_TITLE_NUMBER = re.compile(r"^\s*((?:[A-Za-z]{1,3}-)?\d{2,4}-\d{1,6}[A-Za-z]?)\s+(?:docket|summary)\b",
                           re.I)
_ROLE_LINE = re.compile(
    r"^(?:[-\s]*(?:plaintiffs?|defendants?|appellants?|appellees?|petitioners?|respondents?|"
    r"debtors?|intervenors?|movants?|amic[iu]s|cross|claimants?|real party|party)\b[\w\s,/-]*)$",
    re.I)
_VERSUS_LINE = re.compile(r"^(?:v\.?|vs\.?|versus)$", re.I)


@page_parser(kind=KIND)
def parse(text: str, court: str | None = None) -> dict:
    return _parse(text, court)


def _parse(text, court):
    root = html_tree(text, KIND, comments=True)

    sections = {}
    for comment in root.iter(etree.Comment):
        body = comment.text or ""
        if "SECTION" not in body and "SUBSECTION" not in body:
            continue
        for key in ("Case Stub", "Case Type", "Orig Court", "Panel Assignment",
                    "Party/Aty List", "Case Caption", "DOCKET ENTRIES",
                    "Prior Cases", "Assoc Cases"):
            if key in body and key not in sections:
                sections[key] = comment

    labels = {}
    for b in root.iter("b", "strong"):
        label = norm_label(text_content(b))
        if label and label not in labels:
            labels[label] = b

    docket_b = None
    for label, b in labels.items():
        if label.endswith("Docket #") or label.endswith("Docket No."):
            docket_b = b
            break
    if docket_b is not None:
        docket_number = label_value(docket_b)
        if not docket_number:
            raise ParseError(f"not an {KIND}: the case stub has no docket number")
        stub_table = ancestor(docket_b, "table")
    else:
        stub_table = _stub_table(sections, labels)
        docket_number, docket_b = _case_number(root, labels, stub_table)
    entry_rows = _entry_rows(sections.get("DOCKET ENTRIES"), root)
    caption = _caption(sections.get("Case Caption"))
    stub_name = _case_name(stub_table)
    has_stub = stub_table is not None or "Case Stub" in sections
    if (not docket_number or not (has_stub or entry_rows is not None)
            or not (stub_name or caption or entry_rows is not None)):
        raise ParseError(_not_a_docket_message(root, docket_number, has_stub,
                                               entry_rows is not None, stub_name or caption))
    problem = cut_short(text)
    if problem:
        raise ParseError(f"{KIND}: {problem}")

    stub_labels = {}
    if stub_table is not None:
        for b in stub_table.iter("b", "strong"):
            label = norm_label(text_content(b))
            if label and label not in stub_labels:
                stub_labels[label] = b

    def value(label, date=False):
        b = stub_labels.get(label)
        if b is None:
            b = labels.get(label)
        if b is None:
            return None if date else ""
        v = label_value(b)
        if date:
            return find_date(v)
        return "" if v.lower() in _NULLS else v

    data = {
        "court_id": court or "",
        "docket_number": docket_number,
        "case_name": harmonize_case_name(stub_name or _caption_name(caption)),
        "date_filed": value("Docketed", True),
        "date_terminated": value("Termed", True),
        "nature_of_suit": value("Nature of Suit"),
        "appeal_from": value("Appeal From"),
        "fee_status": value("Fee Status"),
        "panel": _panel(labels.get("Panel")),
        "case_type_information": _case_type(labels.get("Case Type Information")),
        "originating_court_information": _ogc(labels.get("Originating Court Information")),
        "parties": _parties(sections.get("Party/Aty List")),
        "docket_entries": _entries(entry_rows),
    }
    data["pacer_case_id"] = _case_id(root, data["docket_entries"])
    return data


def _case_id(root, entries):
    """PACER's case id, from the document links' ``doDocPostURL(doc, case)``
    calls (or the ``caseId=`` of a link) -- None when the page has no links."""
    for entry in entries:
        case_id = entry.pop("_case_id", None)
        if case_id:
            for rest in entries:
                rest.pop("_case_id", None)
            return case_id
    return None


def _not_a_docket_message(root, number="", has_stub=False, has_entries=False,
                          caption="") -> str:
    title = ""
    for t in root.iter("title"):
        title = text_of(t)
        break
    body = text_of(root)[:80]
    what = title or body or "no text"
    if not number:
        why = "no case number was found"
    else:
        missing = []
        if not has_stub and not has_entries:
            missing.append("no case stub and no docket entries table")
        if not caption and not has_entries:
            missing.append("no caption")
        why = f"case number {number} but {' and '.join(missing)}"
    return (f"not an {KIND} (a CM/ECF appellate docket report has a case number, a case "
            f"stub or docket entries, and a caption): {why} (page: {what!r})")


def _stub_table(sections, labels):
    """The case stub's table without its docket number label: the table after
    the "Case Stub" section comment, else the one labelled "Docketed:"."""
    comment = sections.get("Case Stub")
    if comment is not None:
        for sib in comment.itersiblings():
            if not is_element(sib):
                continue
            if sib.tag == "table":
                return sib
            for table in sib.iter("table"):
                return table
            break
    for label in ("Docketed", "Termed"):
        b = labels.get(label)
        if b is not None:
            table = ancestor(b, "table")
            if table is not None:
                return table
    return None


def _case_number(root, labels, stub_table):
    """(number, its label or None) for a report without a "Docket #" label: a
    label naming the case number, an unlabelled stub cell, the report form's
    ``caseNum``, the title -- only values shaped like an appellate number."""
    for label, b in labels.items():
        if _NUMBER_LABEL.search(label):
            value = label_value(b)
            if _APPELLATE_NUMBER.match(value):
                return value, b
    if stub_table is not None:
        for td in stub_table.iter("td"):
            value = clean(text_content(td), commas=True)
            if _APPELLATE_NUMBER.match(value):
                return value, None
    for node in root.iter("input"):
        if (node.get("name") or "").lower() == "casenum":
            value = clean(node.get("value"), commas=True)
            if _APPELLATE_NUMBER.match(value):
                return value, None
    for t in root.iter("title"):
        m = _TITLE_NUMBER.match(text_of(t))
        if m:
            return m.group(1), None
        break
    return "", None


def _case_name(stub_table) -> str:
    if stub_table is None:
        return ""
    for td in stub_table.iter("td"):
        if any(True for _ in td.iter("b", "strong", "table")):
            continue
        name = clean(text_content(td), commas=True)
        if name and not _APPELLATE_NUMBER.match(name):
            return name
    return ""


def _caption(comment) -> list:
    """The lines of the "Case Caption" section's table (empty, none)."""
    if comment is None:
        return []
    for sib in comment.itersiblings():
        if not is_element(sib) or sib.tag in ("h1", "br", "hr", "p"):  # the page break
            continue
        if sib.tag != "table":
            break
        lines = [clean(t, commas=True) for t, _label in br_lines(sib)]
        return [line for line in lines if line and not set(line) <= {"-"}]
    return []


def _caption_name(lines) -> str:
    """"A v. B" from a caption's lines: the name before and after "v.", each
    the first line of its block that is not a role ("Appellant")."""
    for i, line in enumerate(lines):
        if not _VERSUS_LINE.match(line):
            continue
        before = [x for x in lines[:i] if not _ROLE_LINE.match(x)]
        after = [x for x in lines[i + 1:] if not _ROLE_LINE.match(x)]
        if before and after:
            return f"{before[-1].rstrip(',')} v. {after[0].rstrip(',')}"
    names = [x for x in lines if not _ROLE_LINE.match(x)]
    return names[0].rstrip(",") if names else ""


def _panel(b) -> list:
    if b is None:
        return []
    value = label_value(b)
    if value.lower() in _PANEL_EMPTY:
        return []
    return value.split()


def _case_type(b) -> str:
    if b is None:
        return ""
    table = ancestor(b, "table")
    if table is None:
        return ""
    parts = []
    for node in table.iter("b", "strong"):
        if node is b:
            continue
        tail = clean(node.tail, commas=True)
        if tail and tail.lower() not in _NULLS:
            parts.append(tail)
    return ", ".join(parts)


def _ogc(b) -> dict:
    """Originating court information, read from its own table only."""
    if b is None:
        return {}
    table = ancestor(b, "table")
    if table is None:
        return {}
    labels = {}
    for node in table.iter("b", "strong"):
        if node is b:
            continue
        label = norm_label(text_content(node))
        if label and label not in labels:
            labels[label] = node
    if not labels:
        return {}

    info = {}
    district = labels.get("District")
    if district is not None:
        raw = label_value(district)
        m = _DIST_DOCKET.search(raw)
        if m:
            number = m.group(1)
        else:
            number = raw.split(":", 1)[1].strip() if ":" in raw else raw
        if re.match(r"A[0-9-]+$", number):
            info["RESTRICTED_ALIEN_NUMBER"] = number
        else:
            info["docket_number"] = number
    court_id = ""
    for a in table.iter("a"):
        court_id = court_id_from_url(a.get("href"))
        if court_id:
            break
    info["court_id"] = court_id

    def v(label):
        node = labels.get(label)
        return label_value(node) if node is not None else ""

    judge = v("Trial Judge") or v("Originating Judge")
    info["assigned_to"] = normalize_judge(judge)
    info["ordering_judge"] = normalize_judge(v("Ordering Judge"))
    info["court_reporter"] = v("Court Reporter")
    info["date_filed"] = find_date(v("Date Filed"))
    info["date_disposed"] = find_date(v("Date Disposed"))
    info["disposition"] = v("Disposition")

    # The dates row: a row of bold labels, then a row of values beneath.
    for tr in table.iter("tr"):
        cells = [c for c in tr if c.tag == "td"]
        if not cells or not all(any(True for _ in c.iter("b")) for c in cells):
            continue
        names = [norm_label(text_content(c)).lower() for c in cells]
        if not any(n in _OGC_DATE_LABELS for n in names):
            continue
        nxt = tr.getnext()
        while nxt is not None and nxt.tag != "tr":
            nxt = nxt.getnext()
        if nxt is None:
            break
        values = [text_content(c) for c in nxt if c.tag == "td"]
        for name, val in zip(names, values):
            key = _OGC_DATE_LABELS.get(name)
            if key and key not in info:
                info[key] = find_date(val)
        break
    return info


def _parties(comment) -> list:
    if comment is None:
        return []
    table = None
    for sib in comment.itersiblings():
        if sib.tag == "table":
            table = sib
            break
    if table is None:
        return []
    parties = []
    contacts_seen = {}
    for tr in table.iter("tr"):
        cells = [c for c in tr if c.tag == "td"]
        if len(cells) < 2:
            continue
        party = _party_cell(cells[0])
        if party is None:
            continue
        party["attorneys"] = _attorneys(cells[1], contacts_seen)
        parties.append(party)
    return parties


def _party_cell(td):
    lines = [(clean(t), label) for t, label in br_lines(td)]
    lines = [(t, label) for t, label in lines if t]
    if not lines:
        return None
    party = {"name": lines[0][0], "type": ""}
    if len(lines) > 1:
        party["type"] = lines[-1][0].rstrip(",").strip()
    unparsed = []
    for text, label in lines[1:-1]:
        if label:
            key = norm_label(label)
            val = clean(text[len(clean(label)):]) if text.startswith(clean(label)) else text
            field = _PARTY_FIELDS.get(key.lower())
            if field:
                party[field] = find_date(val)
            else:
                party[key.lower().replace(" ", "_")] = val
        else:
            unparsed.append(text)
    if unparsed:
        party["unparsed"] = unparsed
    return party


def _attorneys(td, contacts_seen) -> list:
    """Attorneys are separated by ``<br><br>``; lines by ``<br>``."""
    attorneys = []
    block = []
    for text, _label in br_lines(td) + [["", None]]:
        line = clean(text)
        if line:
            block.append(line)
            continue
        if not block:
            continue
        name, rest = block[0], block[1:]
        block = []
        roles, contact = [], []
        for line in rest:
            if line.startswith("[") and line.endswith("]"):
                roles.append(line[1:-1].strip())
            else:
                contact.append(line)
        if any(line.lower() in _SEE_ABOVE for line in contact):
            contact_text = contacts_seen.get(name) or "\n".join(
                line for line in contact if line.lower() not in _SEE_ABOVE)
        else:
            contact_text = "\n".join(contact)
            if contact_text and name not in contacts_seen:
                contacts_seen[name] = contact_text
        attorneys.append({"name": name, "roles": roles, "contact": contact_text})
    return attorneys


def _entry_rows(comment, root):
    """The docket entries' rows: after the section comment, else in the
    ``dktEntry`` form, else the table whose rows are a date, a number cell and
    a text stamped "[Entered: ...]"; None when the page has no entries table."""
    if comment is not None:
        for sib in comment.itersiblings():
            if sib.tag in ("table", "form"):
                return list(sib.iter("tr"))
    for form in root.iter("form"):
        if form.get("name") == "dktEntry":
            return list(form.iter("tr"))
    for tr in root.iter("tr"):
        cells = [c for c in tr if c.tag == "td"]
        if (len(cells) == 3 and find_date(text_of(cells[0]))
                and "[Entered:" in text_content(cells[2])):
            table = tr.getparent()
            if table is not None and table.tag == "tbody":
                table = table.getparent()
            return list(table.iter("tr")) if table is not None else [tr]
    return None


def _entries(rows) -> list:
    if rows is None:
        return []
    entries = []
    for tr in rows:
        cells = [c for c in tr if c.tag == "td"]
        if len(cells) < 3:
            if len(cells) == 1 and text_of(cells[0]) == "No docket entries found.":
                break
            continue
        entry = _entry(cells)
        if entry is not None:
            entries.append(entry)
        elif entries and any(True for _ in cells[-1].iter("table")):
            # The documents of the previous entry, shown inline.
            attachments = attachment_rows(cells[-1])
            if attachments:
                entries[-1]["attachments"] = attachments
    return entries


def _entry(cells):
    date_filed = find_date(text_content(cells[0]))
    if date_filed is None:
        return None
    num_cell = cells[1]
    pacer_doc_id = None
    pacer_seq_no = None
    number = None
    case_id = None
    for el in num_cell.iter():
        tag = el.tag
        if tag == "a" and pacer_doc_id is None:
            href = el.get("href") or ""
            onclick = el.get("onclick") or ""
            pacer_doc_id = doc_id_from_url(href)
            m = _DOC_ONCLICK.search(onclick)
            if pacer_doc_id is None and m:
                pacer_doc_id = m.group(1)
            if case_id is None:
                if m and m.group(2):
                    case_id = m.group(2)
                else:
                    m = _CASE_ID.search(href)
                    case_id = m.group(1) if m else None
            if pacer_doc_id is None:
                pacer_doc_id = el.get("data-pacer-doc-id") or None
        elif tag == "input" and pacer_seq_no is None and el.get("name") == "d":
            pacer_seq_no = (el.get("value") or "").strip() or None
        if number is None and is_element(el):
            if tag != "font" and el.text:
                t = el.text.strip()
                if t.isdigit() and t.isascii():
                    number = t
            if number is None and el is not num_cell and el.tail:
                parent = el.getparent()
                if parent is not None and parent.tag != "font":
                    t = el.tail.strip()
                    if t.isdigit() and t.isascii():
                        number = t
    description = clean(text_content(cells[2]), commas=True)
    entry = {
        "document_number": number or pacer_doc_id,
        "date_filed": date_filed,
        "date_entered": entered(description),
        "description": description,
        "pacer_doc_id": pacer_doc_id,
    }
    if pacer_seq_no:
        entry["pacer_seq_no"] = pacer_seq_no
    if case_id:
        entry["_case_id"] = case_id
    return entry
