"""CM/ECF district (and bankruptcy) docket report, HTML output of DktRpt.pl.

``parse(text, court=None)`` returns::

    {court_id, pacer_case_id, docket_number, case_name, date_filed,
     date_terminated, date_converted, date_discharged, assigned_to_str,
     referred_to_str, nature_of_suit, cause, jury_demand, jurisdiction,
     demand, mdl_status, federal_dn_*,
     chapter, trustee_str,   # bankruptcy cases (None / "" otherwise)
     parties: [{name, type, extra_info, date_terminated,
                attorneys: [{name, roles, contact}], criminal_data?}],
     docket_entries: [{document_number, date_filed, date_entered,
                       description, pacer_doc_id, pacer_seq_no}]}

(bankruptcy courts' own rules: :mod:`parsers.bankruptcy_rules`) and raises
:class:`parsers.ParseError` for anything that is not a docket report:
login forms, CM/ECF error and warning pages, text-format reports, pages
for other reports, truncated junk.

The page is parsed once with lxml; everything after that walks elements
directly (no per-row XPath from the root, no regex over the whole page).
"""
from __future__ import annotations

import re

from . import ParseError, page_parser
from . import bankruptcy_rules as bk
from .common import (
    UNKNOWN_CASE_TITLE, clean, court_from_links, cut_short, element_lines, find_date, go_dls_args, harmonize_case_name,
    html_tree, normalize_docket_number, docket_number_parts, normalize_judge,
    normalize_party_type, pacer_doc_id_from_url, text_content as _tc,
)

# Messages CM/ECF shows instead of a docket report. Only consulted when the
# page has no docket header or no docket content of its own.
ERROR_MESSAGES = [
    "The report may take a long time to run because this case has many docket entries",
    "The page ID does not exist",
    "There are no documents in this case",
    "Incomplete request",
    "To accept charges shown below",
    "Unable to create PDF file",
    "This case was administratively closed",
    "The start date must be less than or equal to the end date",
    "The starting document number must be less than or equal to the ending document number",
    "Case not found",
    "Either you do not have permission to view the document, or the document does not exist",
    "Server timeout waiting for the HTTP request",
    "The case type was",
    "This case is in the process of being opened",
    "Submission already made",
    "Invalid date_from",
    "Invalid date_to",
    "Invalid date",
    "There are proceedings for case",
    "No such case",
    "Login failed",
    "You do not have permission",
    "Internal Server Error",
    "Service Unavailable",
    "Request Time-out",
]
_ERROR_RX = re.compile("|".join(re.escape(m) for m in ERROR_MESSAGES), re.I)
# CM/ECF prints this in place of the entries of a docket report when no entry
# falls in the dates or numbers asked for: the page is still the docket
# report (header, case facts, parties), so it is not refused for it.
_NO_ENTRIES_IN_RANGE_RX = re.compile(
    r"There\s+are\s+proceedings\s+for\s+case\s+\S+\s+but\s+none\s+satisfy\s+the\s+selection\s+criteria\.?",
    re.I)

_HEADER_RX = re.compile(
    r"(?:DOCKET\s+FOR\s+CASE\s*#|Bankruptcy\s+Petition\s*#|Adversary\s+Proceeding\s*#"
    r"|Case\s+#\s*:|DOCKET\s+FOR\s+CASE)\s*:?\s*(.*)", re.I | re.S)

_ENTERED_RX = re.compile(r"\(\s*Entered:\s*(\d{1,2}/\d{1,2}/\d{2,4})")
_TERMINATED_RX = re.compile(r"TERMINATED:\s*(\d{1,2}/\d{1,2}/\d{2,4})", re.I)
_DATE_CELL_RX = re.compile(r"^\s*\d{1,2}/\d{1,2}/\d{2,4}")
_CRIM_SECTION_RX = re.compile(
    r"(?P<counts>(?P<cstatus>pending|terminated)\s+counts)"
    r"|(?P<offense>highest\s+offense\s+level\s*\(\s*(?P<ostatus>opening|terminated)\s*\))"
    r"|(?P<complaints>^complaints)|(?P<disp>^disposition$)", re.I)

_FIELDS = {
    "date_filed": re.compile(r"^Date\s+filed\s*:\s*(.*)", re.I),
    "date_terminated": re.compile(r"^Date\s+terminated\s*:\s*(.*)", re.I),
    "date_converted": re.compile(r"^Date\s+converted\s*:\s*(.*)", re.I),
    "date_discharged": re.compile(r"^(?:Date|Debtor)\s+discharged\s*:\s*(.*)", re.I),
    "assigned_to_str": re.compile(r"^Assigned\s+to\s*:\s*(.*)", re.I),
    "referred_to_str": re.compile(r"^Referred\s+to\s*:\s*(.*)", re.I),
    "cause": re.compile(r"^Cause\s*:\s*(.*)", re.I),
    "nature_of_suit": re.compile(r"^Natures?(?:\s*\[s\])?\s+of\s+Suit\s*:\s*(.*)", re.I),
    "jury_demand": re.compile(r"^Jury\s+Demand\s*:\s*(.*)", re.I),
    "jurisdiction": re.compile(r"^Jurisdiction\s*:\s*(.*)", re.I),
    "demand": re.compile(r"^Demand\s*:\s*(.*)", re.I),
    "mdl_status": re.compile(r"^MDL\s+Status\s*:\s*(.*)", re.I),
}
_DATE_FIELDS = ("date_filed", "date_terminated", "date_converted", "date_discharged")
_LABEL_RX = re.compile(
    r"^(?:Case\s+title|Assigned\s+to|Referred\s+to|Date\s+\w+|Cause|Nature\s+of\s+Suit|Jury\s+Demand"
    r"|Jurisdiction|Demand|MDL\s+Status|Lead\s+case|Related\s+Cases?|Case\s+in\s+other\s+court"
    r"|Magistrate\s+judge\s+case\s+numbers?|Member\s+cases?|Other\s+court\s+case\s+numbers?"
    r"|Appeals\s+court\s+case\s+numbers?|Citation|Chapter|Previous\s+chapter|Original\s+chapter"
    r"|Voluntary|Involuntary|Asset|No\s+asset|Debtor\s+disposition|Joint\s+debtor\s+disposition"
    r"|Date\s+Ordered|Fee\s+status|Plan\s+confirmed|341\s+meeting|Deadline)\b", re.I)


def _cells(row):
    return [c for c in row if c.tag in ("td", "th")]


def _rows(table):
    out = []
    for child in table:
        tag = child.tag
        if tag == "tr":
            out.append(child)
        elif tag in ("tbody", "thead", "tfoot"):
            out.extend(c for c in child if c.tag == "tr")
    return out


def _tidy(text) -> str:
    """Docket text as CourtListener stores it: whitespace folded, no space
    before a comma (CM/ECF leaves one after empty <i></i> tags)."""
    return clean(text, commas=True)


# ------------------------------------------------------------------ checks

def _find_header(root):
    """The element holding 'DOCKET FOR CASE #: ...' (h3, or center/font on
    bankruptcy courts) and the docket-number text that follows it."""
    for el in root.iter("h3", "h2", "h1", "center", "font", "b"):
        txt = _tc(el)
        if "#" not in txt:
            continue
        m = _HEADER_RX.search(txt)
        if m and normalize_docket_number(m.group(1) or txt):
            return el, clean(txt)
    return None, ""


def _is_login_form(root) -> bool:
    for inp in root.iter("input"):
        if (inp.get("type") or "").lower() == "password":
            return True
    return False


def _reject(text: str, root) -> None:
    """Raise ParseError, quoting CM/ECF's own message when there is one."""
    body = root.find("body")
    lines = element_lines(body if body is not None else root)
    for pre in root.iter("pre"):
        t = _tc(pre) or ""
        if "Format: text" in t or _DATE_CELL_RX.match(t):
            raise ParseError("text-format docket report; ask CM/ECF for output_format=html")
    if _is_login_form(root):
        raise ParseError("login page, not a docket report (session expired?)")
    for line in lines[:400]:
        m = _ERROR_RX.search(line)
        if m:
            msg = line[max(0, line.rfind("***", 0, m.start()) + 3 if "***" in line[:m.start()] else 0):]
            msg = re.sub(r"^.*?\bLog\s*out\b\s*", "", msg, flags=re.I) if m.start() > 0 else msg
            raise ParseError(f"CM/ECF error page, not a docket report: {clean(msg).strip('* ')[:200]}")
    title = root.find(".//title")
    snippet = " ".join(lines)[:120] or (clean(_tc(title)) if title is not None else "")
    raise ParseError(f"not a CM/ECF docket report: {snippet!r}")


# ------------------------------------------------------------------ metadata

def _metadata_lines(root, header_el, entry_table, party_tables):
    """Text lines of the case-information block under the header: the
    tables after it, up to the one with 'Date filed' (bankruptcy pages nest
    tables inside it), never reaching into the party or entry tables."""
    stop = set(id(t) for t in party_tables)
    if entry_table is not None:
        stop.add(id(entry_table))
    node = header_el
    for _ in range(4):  # the header may sit inside a wrapper (b, font, div)
        lines: list[str] = []
        tables = 0
        for sib in node.itersiblings():
            if not isinstance(sib.tag, str):
                continue
            if id(sib) in stop or any(id(t) in stop for t in sib.iter("table")):
                break
            if sib.tag == "table":
                sub = element_lines(sib)
                lines.extend(sub)
                tables += 1
                if tables >= 2 or any(_FIELDS["date_filed"].match(x) for x in sub):
                    break
        if lines:
            return lines
        node = node.getparent()
        if node is None or node.tag in ("body", "html"):
            break
    return []


def _field_values(lines):
    out = {}
    for line in lines:
        for key, rx in _FIELDS.items():
            if key in out:
                continue
            m = rx.match(line)
            if m:
                out[key] = clean(m.group(1))
                break
    return out


def _case_name_from_lines(lines):
    for line in lines:
        m = re.match(r"^Case\s+title\s*:\s*(.*)", line, re.I)
        if m:
            return m.group(1)
    for line in lines:
        if _LABEL_RX.match(line):
            continue
        if re.match(r"^[\d:\s/\-#]+$", line):
            continue
        return line
    return ""


def _nature_of_suit_table(root, entry_table, party_tables):
    """The natures of suit of an adversary proceeding, printed as a table of
    their own between the case facts and the parties."""
    stop = {id(t) for t in party_tables}
    if entry_table is not None:
        stop.add(id(entry_table))
    for table in root.iter("table"):
        if id(table) in stop:
            break
        found = bk.nature_of_suit_table(table)
        if found:
            return found
    return None


# ------------------------------------------------------------------ parties

def _bold_name(cell):
    """The first <b> in cell that is a name: not inside <i>, no <u>, no dashes."""
    for b in cell.iter("b", "strong"):
        parent = b.getparent()
        if parent is not None and parent.tag in ("i", "em"):
            continue
        if b.find("u") is not None or (parent is not None and parent.tag == "u"):
            continue
        txt = clean(_tc(b))
        if not txt or "-----" in txt:
            continue
        return b, txt
    return None, ""


def _italic_type(cell, name_el):
    """Bankruptcy party type: <i><b>Debtor</b></i> (or <b><i>..</i></b>)
    printed before the party's name in the same cell."""
    for i in cell.iter("i", "em", "b", "strong"):
        if i is name_el:
            return ""
        if i.tag not in ("i", "em"):
            continue
        for b in i.iter("b", "strong"):
            txt = clean(_tc(b))
            if txt:
                return txt
        parent = i.getparent()
        if parent is not None and parent.tag in ("b", "strong"):
            txt = clean(_tc(i))
            if txt:
                return txt
    return ""


def _underlined_header(cell):
    for u in cell.iter("u"):
        parent = u.getparent()
        inside_b = parent is not None and parent.tag in ("b", "strong")
        if inside_b or u.find("b") is not None:
            return clean(_tc(cell))
    return None


def _extra_info(cell, name_el, type_text):
    """Lines of the party cell other than the name (and bankruptcy type)."""
    lines: list[str] = []
    cur: list[str] = []

    def walk(node):
        if node.text and node is not name_el:
            cur.append(node.text)
        for child in node:
            tag = child.tag if isinstance(child.tag, str) else ""
            if child is name_el:
                pass
            elif tag == "br" or tag in ("p", "div", "tr", "table"):
                lines.append("".join(cur))
                cur.clear()
                if tag != "br":
                    walk(child)
                    lines.append("".join(cur))
                    cur.clear()
            elif tag in ("script", "style"):
                pass
            elif tag in ("b", "strong") and child.find("u") is None:
                # other bold text (type labels in bankruptcy)
                t = clean(_tc(child))
                if t and t != type_text:
                    cur.append(_tc(child))
            elif tag:
                walk(child)
            if child.tail:
                cur.append(child.tail)

    walk(cell)
    lines.append("".join(cur))
    out = []
    for line in lines:
        line = clean(line)
        if line and line != type_text:
            out.append(line)
    return out


_ROLE_SKIP = ("bar status", "designation")


def _attorneys(cell):
    """Attorneys in a 'represented by' cell: each starts at a <b> name."""
    attorneys = []
    current = None
    lines: list[str] = []
    buf: list[str] = []

    def flush_line():
        if buf:
            s = clean("".join(buf))
            buf.clear()
            if s and current is not None:
                lines.append(s)

    def finish():
        flush_line()
        if current is not None:
            current["contact"] = "\n".join(lines)
            attorneys.append(current)
        lines.clear()

    def walk(node):
        nonlocal current
        for child in node:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in ("b", "strong"):
                # every bold name opens an attorney; an empty one is the
                # blank slot CM/ECF prints after a pro se party's own listing
                finish()
                current = {"name": clean(_tc(child)), "roles": [], "contact": ""}
            elif tag in ("i", "em"):
                flush_line()
                role = clean(_tc(child))
                if current is not None and role:
                    low = role.lower()
                    if low.startswith(_ROLE_SKIP):
                        if low.startswith("designation"):
                            current["designation"] = clean(role.split(":", 1)[-1])
                    else:
                        current["roles"].append(role)
            elif tag == "br" or tag in ("p", "div"):
                flush_line()
                if tag != "br":
                    if child.text:
                        buf.append(child.text)
                    walk(child)
                    flush_line()
            elif tag in ("script", "style"):
                pass
            elif tag:
                if child.text:
                    buf.append(child.text)
                walk(child)
            if child.tail:
                buf.append(child.tail)

    if cell.text:
        buf.append(cell.text)
    walk(cell)
    finish()
    return attorneys


def _see_above(parties):
    """PACER prints '(See above for address)' for repeated attorneys."""
    known = {}
    for party in parties:
        for atty in party.get("attorneys", []):
            contact = atty.get("contact") or ""
            if re.search(r"see\s+above", contact, re.I):
                atty["contact"] = known.get(atty["name"], "")
            elif contact:
                known[atty["name"]] = contact  # the closest listing above


def _parse_parties(tables, adversary=False, bankruptcy=False):
    """Parties of the party tables. Labels are normalized the district way,
    or with ``bankruptcy`` by :func:`parsers.bankruptcy_rules.party_type` (a label
    over a rule of dashes, "Plaintiff<br>-------", as printed). A dash-rule
    label on a row of its own heads every party below it up to the next
    label, as do all labels of an adversary proceeding."""
    def label(text, printed=False):
        if bankruptcy:
            return bk.party_type(text, printed=printed)
        return normalize_party_type(re.split(r"-{3,}", clean(text))[0])
    parties = []
    seen = set()
    for table in tables:
        ptype = None
        sticky = False  # ptype came from a dash-rule row of its own
        party = None
        section = None  # criminal sub-section of the current party
        for row in _rows(table):
            cells = _cells(row)
            if not cells:
                continue
            c0 = cells[0]
            row_text = clean(_tc(row))
            if not row_text or row_text.lower() in ("v.", "v", "vs."):
                continue
            header = _underlined_header(c0)
            if header is not None:
                m = _CRIM_SECTION_RX.search(header)
                if m:
                    if m.group("counts"):
                        section = ("counts", m.group("cstatus").lower())
                    elif m.group("offense"):
                        section = ("offense", m.group("ostatus").lower())
                    elif m.group("complaints"):
                        section = ("complaints", None)
                    continue
                section = None
                ptype = label(header)
                sticky = False
                continue
            if "-----" in row_text and len(cells) == 1:
                # adversary proceedings: "Plaintiff ------------"
                ptype = label(_tc(c0), printed=True)
                sticky = True
                section = None
                continue
            if section is not None and party is not None:
                _criminal_row(party, section, cells)
                continue
            name_el, name = _bold_name(c0)
            btype = _italic_type(c0, name_el) if name_el is not None else ""
            if not name:
                if "-----" in clean(_tc(c0)):
                    # a label row of its own, padded with empty cells
                    ptype = label(_tc(c0), printed=True)
                    sticky = True
                    section = None
                elif len(cells) >= 3 and party is not None and not clean(_tc(c0)):
                    party["attorneys"].extend(_attorneys(cells[-1]))
                continue
            if "-----" in clean(_tc(c0)):
                ptype = label(_tc(c0), printed=True)
                sticky = False
            if btype:
                ptype = label(btype, printed="-----" in btype)
                sticky = False
            extra = _extra_info(c0, name_el, btype)
            extra_info = "\n".join(extra)
            m = _TERMINATED_RX.search(extra_info)
            party = {
                "name": name,
                "type": ptype or ("Service List" if "service list" in row_text.lower() else "Unknown"),
                "extra_info": extra_info,
                "date_terminated": find_date(m.group(1)) if m else None,
                "attorneys": [],
            }
            if len(cells) >= 3:
                mid = clean(_tc(cells[1])).lower()
                if "represented" in mid or cells[-1].find(".//b") is not None:
                    party["attorneys"] = _attorneys(cells[-1])
            key = (party["name"], party["type"], party["extra_info"],
                   tuple(a["name"] for a in party["attorneys"]))
            if key in seen:
                party = None
                continue
            seen.add(key)
            parties.append(party)
            if not (adversary or sticky):
                # every party of a district docket has its own type header
                ptype = None
    _see_above(parties)
    return parties


def _criminal_row(party, section, cells):
    data = party.setdefault("criminal_data", {
        "counts": [], "complaints": [],
        "highest_offense_level_opening": "",
        "highest_offense_level_terminated": ""})
    name = " ".join(element_lines(cells[0]))
    disposition = " ".join(element_lines(cells[2])) if len(cells) > 2 else ""
    kind, status = section
    if kind == "offense":
        data[f"highest_offense_level_{status}"] = name
        return
    if not name or name == "None":
        return
    if kind == "counts":
        data["counts"].append({"name": name, "disposition": disposition, "status": status})
    else:
        data["complaints"].append({"name": name, "disposition": disposition})


# ------------------------------------------------------------------ entries

def _entry_tables(header_row):
    """The table holding the 'Docket Text' header row, plus any following
    tables CM/ECF uses to continue a long list without repeating it."""
    table = header_row.getparent()
    if table is not None and table.tag in ("tbody", "thead"):
        table = table.getparent()
    rows = []
    found = False
    for row in _rows(table) if table is not None else []:
        if row is header_row:
            found = True
            continue
        if found:
            rows.append(row)
    if table is not None:
        for sib in table.itersiblings():
            if sib.tag != "table":
                if sib.tag in ("center", "hr", "form", "div"):
                    break
                continue
            more = _rows(sib)
            if more and _cells(more[0]) and _DATE_CELL_RX.match(_tc(_cells(more[0])[0]) or ""):
                rows.extend(more)
            else:
                break
    return table, rows


def _span(cell) -> int:
    try:
        return max(1, min(int(cell.get("colspan") or 1), 50))
    except ValueError:
        return 1


def _column_map(header_row) -> dict:
    """Column ranges of the entry table from its header row: 'filed',
    'entered', 'num', 'text' -> (first column, last column + 1)."""
    cols = {}
    pos = 0
    for c in _cells(header_row):
        span = _span(c)
        label = clean(_tc(c)).lower()
        if label in ("#", "no.", "no", "doc. no.", "doc no.", "doc #", "document number",
                     "number", "doc."):
            cols.setdefault("num", (pos, pos + span))
        elif "docket text" in label:
            cols.setdefault("text", (pos, pos + span))
        elif "date" in label and "enter" in label:
            cols.setdefault("entered", (pos, pos + span))
        elif "date" in label or "filing" in label:
            cols.setdefault("filed", (pos, pos + span))
        pos += span
    if "filed" not in cols and "entered" in cols:
        # a single date column (some courts label it "Date Entered")
        cols["filed"] = cols.pop("entered")
    if "text" not in cols or "filed" not in cols:
        return {}
    cols["width"] = pos
    return cols


def _number_of(text: str):
    """The entry number at the start of a '#' cell: '13', '13 (5 pgs)'."""
    words = text.split()
    if not words:
        return None
    m = re.match(r"^(\d+)(?![\d/:\-])", words[0])
    return m.group(1) if m else None


_SCRIPTS = ("script", "style", "noscript")


def _visible_text(el, skip=()) -> str:
    """The text of ``el`` without its scripts (CM/ECF puts a
    ``DocLink('document...')`` call beside the links of some courts) and
    without the elements in ``skip`` (their tails are kept)."""
    if not skip and next(el.iter(*_SCRIPTS), None) is None:
        return _tc(el)
    parts: list[str] = []

    def walk(node):
        if node.text:
            parts.append(node.text)
        for child in node:
            if not any(child is x for x in skip) and not (
                    isinstance(child.tag, str) and child.tag in _SCRIPTS):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return "".join(parts)


# "(3 pgs)", "(1 pg)", "(4 pgs; 2 docs)": the size of the entry's document
_PAGE_COUNT_RX = re.compile(r"^\(\s*\d+\s*pgs?\s*(?:;\s*\d+\s*docs?\s*)?\)$", re.I)


def _leading_number(cell):
    """``(link, page count)`` when an entry's text starts with its number
    (courts whose report has no '#' column print ``&nbsp; <a ..>12</a>
    <nobr>(3 pgs)</nobr> Motion ...``); ``(None, None)`` otherwise. The page
    count element is None when there is none."""
    while not clean(cell.text) and len(cell) == 1 and isinstance(cell[0].tag, str) \
            and cell[0].tag in ("font", "span", "div", "p", "nobr", "b") and not clean(cell[0].tail):
        cell = cell[0]  # a wrapper around the whole text
    if clean(cell.text):
        return None, None
    link = None
    for child in cell:
        scripted = not isinstance(child.tag, str) or child.tag in _SCRIPTS
        if link is None:
            if scripted:
                pass
            elif child.tag == "a" and re.fullmatch(r"\d{1,6}", clean(_tc(child))):
                link = child
            else:
                return None, None
        elif not scripted:
            if _PAGE_COUNT_RX.match(clean(_tc(child))):
                return link, child
            return link, None
        if clean(child.tail):
            return link, None
    return link, None


_SHOW_DOC_RX = re.compile(r"[?&](caseid|de_seq_num)=(\d+)", re.I)
# bankruptcy courts' links named for their DocLink() script:
# id='documentKcaseidV371219Kde_seq_numV1548Kdm_idV13133026Kdoc_numV465...'
_DOC_LINK_ID_RX = re.compile(r"(?:^|K)(caseid|de_seq_num)V(\d+)(?=K|$)", re.I)


def _document_link(a):
    """``(pacer_doc_id, pacer_case_id, pacer_seq_no)`` of an entry's document
    link, or None when ``a`` links no document. The case and sequence come
    from its ``goDLS('/doc1/..', case, seq, ..)`` call, else from the URL's
    ``caseid=`` and ``de_seq_num=`` (bankruptcy courts' ``/doc1/..?caseid=``
    and ``show_doc.pl?caseid=..`` links, which have no document id), else from
    the link's ``id`` that bankruptcy courts' ``DocLink()`` script reads
    (``documentKcaseidV<case>Kde_seq_numV<seq>K...``)."""
    href = a.get("href") or ""
    doc_id = pacer_doc_id_from_url(href)
    params = {k.lower(): v for k, v in _SHOW_DOC_RX.findall(href)}
    if doc_id is None and "show_doc" not in href:
        return None
    args = go_dls_args(a.get("onclick"))
    if len(args) > 2:
        return doc_id, args[1] or None, args[2] or None
    for key, value in _DOC_LINK_ID_RX.findall(a.get("id") or ""):
        params.setdefault(key.lower(), value)
    return doc_id, params.get("caseid"), params.get("de_seq_num")


def _parse_entries(rows, header_row=None):
    entries = []
    case_ids = []
    cols = _column_map(header_row) if header_row is not None else {}
    for row in rows:
        cells = _cells(row)
        if len(cells) < 2:
            continue
        seq_from_box = None
        for c in cells:
            for inp in c.iter("input"):
                if (inp.get("type") or "").lower() == "checkbox" and inp.get("value"):
                    seq_from_box = inp.get("value").strip()
                break
        by_col = None
        if cols:
            pos = 0
            placed = []
            for c in cells:
                placed.append((pos, c))
                pos += _span(c)
            if pos == cols["width"]:
                by_col = placed
        if by_col is not None:
            def pick(name):
                lo, hi = cols.get(name, (-1, -1))
                return [c for p, c in by_col if lo <= p < hi]
            date_cells = pick("filed")
            text_cells = pick("text")
            num_cells = pick("num")
            entered_cells = pick("entered")
            if not date_cells or not text_cells:
                continue
            date_cell, desc_cell = date_cells[0], text_cells[-1]
        else:
            kept = [c for c in cells
                    if not (c.find(".//input") is not None and not clean(_tc(c)))]
            if len(kept) < 2:
                continue
            date_cell, desc_cell = kept[0], kept[-1]
            num_cells = kept[1:-1]
            entered_cells = []
        date_text = _tc(date_cell)
        lead_link = pages = None
        if not num_cells and not (cols and "num" in cols):
            # no number column: the number is the text's leading link
            lead_link, pages = _leading_number(desc_cell)
        description = _tidy(_visible_text(desc_cell, skip=tuple(
            x for x in (lead_link, pages) if x is not None)))
        date_filed = find_date(date_text)
        if date_filed is None:
            if not clean(date_text):
                # rows without a date (some old dockets) carry no entry
                continue
            if "docket text" in description.lower() and len(description) < 20:
                continue
        number = None
        doc_id = None
        seq = None
        for c in num_cells:
            ctext = clean(_tc(c))
            if ctext:
                number = _number_of(ctext)
                break
        if number is not None:
            for c in num_cells:
                link = next((a for a in c.iter("a") if clean(_tc(a)) == number
                             and _document_link(a) is not None), None)
                if link is not None:
                    doc_id, case_id, seq = _document_link(link)
                    if case_id:
                        case_ids.append(case_id)
                    break
        if lead_link is not None:
            number = clean(_tc(lead_link))
            doc_id, case_id, seq = _document_link(lead_link) or (None, None, None)
            if case_id:
                case_ids.append(case_id)
        if seq is None and seq_from_box:
            seq = seq_from_box
        entered = None
        if "ntered" in description:
            last = None
            for last in _ENTERED_RX.finditer(description):
                pass
            if last is not None:
                entered = find_date(last.group(1))
        if entered is None and entered_cells:
            entered = find_date(_tc(entered_cells[0]))
        entries.append({
            "document_number": number,
            "date_filed": date_filed,
            "date_entered": entered,
            "description": description,
            "pacer_doc_id": doc_id,
            "pacer_seq_no": seq,
        })
    return entries, case_ids


# ------------------------------------------------------------------ main

@page_parser
def parse(text: str, court: str | None = None) -> dict:
    """Parse ``text``; ParseError when it is not this kind of page."""
    return parse_report(text, court)


def parse_report(text: str, court: str | None = None, bankruptcy: bool | None = None) -> dict:
    """The docket report in ``text``. ``bankruptcy``: read it as a bankruptcy
    court's report (True), a district court's (False), or tell from the page
    header and the court id (None)."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("empty page, not a docket report")
    if text.lstrip()[:7].lower() == "<script":
        raise ParseError("page carries injected script before <html>; not a docket report as served by CM/ECF")
    root = html_tree(text, "docket report")

    header_el, header_text = _find_header(root)
    if header_el is None:
        _reject(text, root)
    problem = cut_short(text)
    if problem:
        raise ParseError(f"docket report {problem}")

    entry_table, entry_rows, entry_header = (None, [], None)
    for table in root.iter("table"):
        rows = _rows(table)
        if not rows:
            continue
        if any(clean(_tc(c)) == "Docket Text" for c in _cells(rows[0])):
            entry_header = rows[0]
            entry_table, entry_rows = _entry_tables(rows[0])
            break

    party_tables = []
    # party labels: <b><u> (district), <i><b> (bankruptcy), and a bold label
    # over a rule of dashes, "Plaintiff<br>------" (adversary proceedings)
    for mark in root.xpath("//b/u | //u/b | //i/b | //b/i | //strong/u | //i/strong"
                           " | //b[text()[contains(., '-----')]]"
                           " | //strong[text()[contains(., '-----')]]"):
        cell = mark.getparent()
        while cell is not None and cell.tag != "td":
            cell = cell.getparent()
        if cell is None:
            continue
        row = cell.getparent()
        if row is None or row.tag != "tr" or _cells(row)[0] is not cell:
            continue
        table = row.getparent()
        if table is not None and table.tag in ("tbody", "thead"):
            table = table.getparent()
        if table is None or table is entry_table or (party_tables and party_tables[-1] is table):
            continue
        if entry_table is not None and any(a is entry_table for a in table.iterancestors("table")):
            continue
        if table not in party_tables:
            party_tables.append(table)
    # keep the innermost tables only
    party_tables = [t for t in party_tables
                    if not any(o is not t and any(a is t for a in o.iterancestors("table"))
                               for o in party_tables)]

    body = root.find("body")
    if entry_table is None and not party_tables:
        visible = " ".join(element_lines(body if body is not None else root))
        if _ERROR_RX.search(_NO_ENTRIES_IN_RANGE_RX.sub(" ", visible)):
            _reject(text, root)
        for pre in root.iter("pre"):
            if _DATE_CELL_RX.match(_tc(pre) or ""):
                raise ParseError("text-format docket report; ask CM/ECF for output_format=html")
    if entry_table is None:
        for pre in root.iter("pre"):
            t = _tc(pre) or ""
            if "Format: text" in t or _DATE_CELL_RX.match(t):
                raise ParseError("text-format docket report; ask CM/ECF for output_format=html")

    lines = _metadata_lines(root, header_el, entry_table, party_tables)
    values = _field_values(lines)
    if "assigned_to_str" not in values or "referred_to_str" not in values:
        # criminal dockets print the judge inside the party table
        for table in party_tables:
            for line in table.itertext():
                if "ssigned" not in line and "eferred" not in line:
                    continue
                line = clean(line)
                for key in ("assigned_to_str", "referred_to_str"):
                    if key not in values:
                        m = _FIELDS[key].match(line)
                        if m:
                            values[key] = clean(m.group(1))

    is_bankruptcy = bankruptcy if bankruptcy is not None else (
        bool(re.search(r"Bankruptcy\s+Petition|Adversary\s+Proceeding", header_text, re.I))
        or bool(court and court.endswith("b") and court not in ("nmib",)))
    after_hash = header_text.split("#", 1)[-1]
    docket_number = normalize_docket_number(after_hash, bankruptcy=is_bankruptcy)
    parts = docket_number_parts(after_hash)
    if parts is None and is_bankruptcy:
        bk_parts = bk.docket_number_parts(after_hash)
        if bk_parts:
            parts = {"office": bk_parts["office"], "case_type": None,
                     "judges": bk_parts["judges"], "defendant_number": None}

    adversary = bool(re.search(r"Adversary\s+Proceeding", header_text, re.I))
    parties = _parse_parties(party_tables, adversary, bankruptcy=is_bankruptcy)
    entries, case_ids = _parse_entries(entry_rows, entry_header)

    if is_bankruptcy:
        case_name = bk.case_name(parties, lines, adversary)
        # an adversary proceeding's natures of suit: a table, one a row
        nos = _nature_of_suit_table(root, entry_table, party_tables)
        if nos:
            values["nature_of_suit"] = nos
    else:
        case_name = _case_name_from_lines(lines)
    if not case_name:
        plaintiff = next((p["name"] for p in parties if p["type"] == "Plaintiff"), None)
        defendant = next((p["name"] for p in parties if p["type"] == "Defendant"), None)
        if plaintiff and defendant:
            case_name = f"{plaintiff} v. {defendant}"

    pacer_case_id = case_ids[0] if case_ids else None
    if pacer_case_id is None:
        for inp in root.iter("input"):
            if (inp.get("name") or "").lower() == "caseid" and (inp.get("value") or "").strip().isdigit():
                pacer_case_id = inp.get("value").strip()
                break

    if not docket_number and not entries and not parties:
        _reject(text, root)

    data = {
        "court_id": court or court_from_links(root),
        "pacer_case_id": pacer_case_id,
        "docket_number": docket_number,
        "case_name": ((case_name if is_bankruptcy else harmonize_case_name(case_name))
                      or (UNKNOWN_CASE_TITLE if docket_number else "")),
        "date_filed": None, "date_terminated": None,
        "date_converted": None, "date_discharged": None,
        "assigned_to_str": normalize_judge(values.get("assigned_to_str", "")),
        "referred_to_str": normalize_judge(values.get("referred_to_str", "")),
        "nature_of_suit": values.get("nature_of_suit", ""),
        "cause": values.get("cause", ""),
        "jury_demand": values.get("jury_demand", ""),
        "jurisdiction": values.get("jurisdiction", ""),
        "demand": values.get("demand", ""),
        "mdl_status": values.get("mdl_status", ""),
        "federal_dn_office_code": parts["office"] if parts else None,
        "federal_dn_case_type": parts["case_type"] if parts else None,
        "federal_dn_judge_initials_assigned": (parts["judges"][0] if parts and parts["judges"] else None),
        "federal_dn_judge_initials_referred": (parts["judges"][1] if parts and len(parts["judges"]) > 1 else None),
        "federal_defendant_number": parts["defendant_number"] if parts else None,
        "chapter": bk.chapter(lines) if is_bankruptcy else None,
        "trustee_str": bk.trustee_name(parties) if is_bankruptcy else "",
        "parties": parties,
        "docket_entries": entries,
    }
    for key in _DATE_FIELDS:
        data[key] = find_date(values.get(key))
    return data
