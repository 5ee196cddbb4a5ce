"""ACMS docket JSON (the Ninth Circuit since 2023-10-01, the Second Circuit).

ACMS serves a docket as JSON: ``caseDetails`` (case number, name, opening
date, fee status, originating court, an HTML party/attorney table) and
``docketInfo.docketEntries`` (entry number, end date, HTML docket text,
entry GUID, page count).  Output fields follow CourtListener / juriscraper.

Entry dates: ACMS gives no filing date, only the day the entry was made
(``endDate``) and the ``[Entered: ...]`` stamp in the text.  As the field's
reference parser does, ``date_filed`` is that day as an ISO datetime at
midnight and ``date_entered`` the stamp's local date and time.
"""
from __future__ import annotations

import json

from . import ParseError, page_parser
from .common import br_lines, clean, entered, find_date, html_tree, json_str, norm_label
from .appellate_attachment import html_text

KIND = "ACMS docket"


@page_parser(kind=KIND)
def parse(text: str, court: str | None = None) -> dict:
    return _parse(text, court)


def _day(value):
    value = json_str(value)
    return find_date(value) if value else None


def _parse(text, court):
    if not isinstance(text, str) or not text.strip():
        raise ParseError(f"not an {KIND}: the page is empty")
    if text.lstrip()[:1] != "{":
        raise ParseError(f"not an {KIND}: not JSON (starts with {text.strip()[:30]!r})")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"not an {KIND}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ParseError(f"not an {KIND}: JSON is not an object")
    case = data.get("caseDetails")
    info = data.get("docketInfo")
    if not isinstance(case, dict) or not isinstance(info, dict):
        raise ParseError(f"not an {KIND}: JSON without caseDetails and docketInfo")
    entries_json = info.get("docketEntries")
    if entries_json is None:
        entries_json = []
    if not isinstance(entries_json, list):
        raise ParseError(f"not an {KIND}: docketEntries is not a list")
    docket_number = json_str(case.get("caseNumber"))
    if not docket_number:
        raise ParseError(f"not an {KIND}: no caseNumber")

    court_json = case.get("court") if isinstance(case.get("court"), dict) else {}
    data_out = {
        "court_id": court or "",
        "pacer_case_id": json_str(case.get("caseId")),
        "docket_number": docket_number,
        "case_name": clean(json_str(case.get("name"))),
        "date_filed": _day(case.get("caseOpened")),
        "appeal_from": json_str(court_json.get("name")) or "",
        "fee_status": json_str(case.get("feeStatus")) or "",
        "case_type_information": ", ".join(
            v for v in (json_str(case.get(k)) for k in ("caseType", "caseSubType", "caseSubSubType"))
            if v),
    }
    nos = json_str(case.get("natureOfSuit"))
    if nos:
        data_out["nature_of_suit"] = nos
    ogc = _originating(case, court_json)
    if ogc:
        data_out["originating_court_information"] = ogc
    data_out["parties"] = _parties(case.get("partyAttorneyList"))
    data_out["docket_entries"] = [e for e in map(_entry, entries_json) if e is not None]
    return data_out


def _originating(case, court_json) -> dict:
    ogc = {}
    name = json_str(court_json.get("name"))
    if name:
        ogc["name"] = name
    ident = json_str(court_json.get("identifier")) or json_str(court_json.get("abbreviatedName"))
    if ident:
        ogc["identifier"] = ident
    district = json_str(case.get("districtCourtName"))
    if district:
        ogc["name"] = district
    a_number = json_str(case.get("aNumber"))
    if a_number:
        ogc["RESTRICTED_ALIEN_NUMBER"] = a_number
    origin = case.get("originatingCasesInformation")
    if isinstance(origin, list) and origin and isinstance(origin[0], dict):
        first = origin[0]
        number = json_str(first.get("originCaseNumber"))
        if number:
            ogc["docket_number"] = number
        for key, field in (("dateFiled", "date_filed"), ("judgmentDate", "date_judgment"),
                           ("dateJudgmentEod", "date_judgment_eod"),
                           ("noticeOfAppealFiled", "date_filed_noa"),
                           ("dateNoaReceivedCoa", "date_received_coa")):
            day = _day(first.get(key))
            if day:
                ogc[field] = day
        people = first.get("originatingCasePeople")
        if isinstance(people, list):
            for person in people:
                if isinstance(person, dict) and json_str(person.get("roleName")) == "Trial Judge":
                    full = " ".join(filter(None, (
                        json_str(person.get("firstName")), json_str(person.get("middleName")),
                        json_str(person.get("lastName")))))
                    if full:
                        ogc["assigned_to"] = full
                    break
    return ogc


def _entry(row):
    if not isinstance(row, dict):
        return None
    html = json_str(row.get("docketEntryText")) or ""
    description = html_text(html)
    day = _day(row.get("endDate"))
    number = row.get("entryNumber")
    if isinstance(number, bool) or not isinstance(number, (int, str)):
        number = None
    return {
        "document_number": number,
        "date_filed": day + "T00:00:00" if day else None,
        "date_entered": entered(description, with_time=True),
        "description": description,
        "description_html": html,
        "pacer_doc_id": json_str(row.get("docketEntryId")),
        "page_count": row.get("pageCount") if isinstance(row.get("pageCount"), int) else None,
    }


def _parties(html) -> list:
    """The ``partyAttorneyList`` table: party cell, then one div per attorney."""
    if not isinstance(html, str) or "<" not in html:
        return []
    try:
        root = html_tree(html, "party list")
    except ParseError:
        return []
    parties = []
    for tr in root.iter("tr"):
        cells = [c for c in tr if c.tag == "td"]
        if len(cells) < 2:
            continue
        lines = [(clean(t), raw, label) for raw, label in br_lines(cells[0])
                 for t in (raw,)]
        lines = [line for line in lines if line[0]]
        if not lines:
            continue
        party = {"name": lines[0][0], "type": ""}
        if len(lines) > 1:
            party["type"] = lines[-1][0].rstrip(",").strip()
        unparsed = []
        for text, raw, label in lines[1:-1]:
            if label:
                key = norm_label(label).lower()
                value = text[len(clean(label)):].strip() if text.startswith(clean(label)) else text
                if key == "terminated":
                    party["date_terminated"] = find_date(value)
                else:
                    party[key.replace(" ", "_")] = value
            else:
                unparsed.append(raw)
        if unparsed:
            party["unparsed"] = unparsed
        party["attorneys"] = _attorneys(cells[1])
        parties.append(party)
    return parties


def _attorneys(td) -> list:
    blocks = [child for child in td if child.tag in ("div", "p")]
    if not blocks:
        blocks = [td]
    attorneys = []
    for block in blocks:
        lines = [clean(t) for t, _label in br_lines(block)]
        lines = [line for line in lines if line]
        if not lines:
            continue
        name = lines[0]
        roles, contact = [], []
        for line in lines[1:]:
            if line.startswith("[") and line.endswith("]"):
                roles.append(line[1:-1].strip())
            else:
                contact.append(line)
        attorneys.append({"name": name, "roles": roles, "contact": "\n".join(contact)})
    return attorneys
