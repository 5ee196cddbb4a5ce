"""Internet Archive RECAP docket XML (``gov.uscourts.<court>.<id>.docket.xml``).

``parse(text, court=None)`` returns the docket fields of the district
parser (``docket_number``, ``case_name``, ``date_filed`` ...) plus
``pacer_case_id``, ``date_last_filing``, ``parties`` and ``docket_entries``.
Each entry carries its main document's fields (``document_number``,
``date_filed``, ``date_entered``, ``description``, ``short_description``,
``pacer_doc_id``, ``pacer_seq_no``), its ``attachments`` and a
``recap_documents`` list (main document first, attachment_number 0) with
``is_available``, ``sha1``, ``upload_date`` and ``ia_filename``, the name of
the PDF in the archive item, so a spider can build
``https://archive.org/download/gov.uscourts.<court>.<pacer_case_id>/<ia_filename>``.

A ``<document>`` or ``<party>`` that cannot be read (an attachment number
that is no number...) costs only itself: it is listed in ``bad_records``
(``{"what", "error"}``), the others are parsed.

Raises :class:`parsers.ParseError` for anything that is not well-formed
RECAP docket XML (HTML error pages, truncated downloads, other XML).
"""
from __future__ import annotations

import re

from . import ParseError, page_parser
from .common import (
    UNKNOWN_CASE_TITLE, clean, find_date, harmonize_case_name, normalize_judge, normalize_party_type,
    child_text, parse_datetime, xml_page_root,
)

ROOT_TAG = "gov_uscourts_docket"
_ENTERED = re.compile(r"\(\s*Entered:\s*(\d{1,2}/\d{1,2}/\d{2,4})")
_TERMINATED = re.compile(r"terminated:\s*([\d/\-]+)", re.I)
ARCHIVE_DOWNLOAD = "https://archive.org/download"


def ia_identifier(court: str, pacer_case_id) -> str:
    """The archive.org item holding a case: ``gov.uscourts.cand.364733``."""
    return f"gov.uscourts.{court}.{pacer_case_id}"


def pdf_filename(court: str, pacer_case_id, document_number, attachment_number=0) -> str:
    """``gov.uscourts.<court>.<case>.<doc>.<att>.pdf`` (att 0 = main document)."""
    return f"gov.uscourts.{court}.{pacer_case_id}.{document_number}.{attachment_number or 0}.pdf"


def pdf_url(court: str, pacer_case_id, document_number, attachment_number=0) -> str:
    """Download URL of a RECAP PDF on the Internet Archive."""
    return (f"{ARCHIVE_DOWNLOAD}/{ia_identifier(court, pacer_case_id)}/"
            f"{pdf_filename(court, pacer_case_id, document_number, attachment_number)}")


def docket_xml_url(court: str, pacer_case_id) -> str:
    """Download URL of a case's RECAP docket XML on the Internet Archive."""
    ident = ia_identifier(court, pacer_case_id)
    return f"{ARCHIVE_DOWNLOAD}/{ident}/{ident}.docket.xml"


def _ctext(node, tag) -> str:
    return clean(child_text(node, tag))


def _raw_lines(text: str) -> str:
    """Keep line breaks (addresses), tidy each line."""
    lines = [clean(x) for x in (text or "").splitlines()]
    return "\n".join(x for x in lines if x)


def _date(text):
    text = clean(text)
    if not text or text.startswith("0000"):
        return None
    return find_date(text)


def _parties(root, bad):
    parties = []
    seen = []
    known_contacts = {}
    plist = root.find("party_list")
    if plist is None:
        return parties
    for position, pnode in enumerate(plist.findall("party"), 1):
        try:
            party = _party(pnode, known_contacts)
        except Exception as exc:  # noqa: BLE001 - one unreadable party costs that party
            bad.append({"what": f"party {position}", "error": f"{type(exc).__name__}: {exc}"})
            continue
        if party is None or party in seen:
            continue
        seen.append(party)
        parties.append(party)
    return parties


def _party(pnode, known_contacts):
    """One <party>: its fields and attorneys, or None when it has no name."""
    name = _ctext(pnode, "name")
    if not name:
        return None
    extra = _raw_lines(child_text(pnode, "extra_info"))
    attorneys = []
    alist = pnode.find("attorney_list")
    for anode in (alist.findall("attorney") if alist is not None else []):
        aname = _ctext(anode, "attorney_name")
        if not aname:
            continue
        contact = _raw_lines(child_text(anode, "contact"))
        roles = []
        for role in child_text(anode, "attorney_role").splitlines():
            role = clean(role)
            if role and not role.lower().startswith(("bar status", "designation")):
                roles.append(role)
        if "see above" in contact.lower():
            contact = known_contacts.get(aname, "")
        elif contact:
            known_contacts[aname] = contact  # the closest listing above
        attorneys.append({"name": aname, "roles": roles, "contact": contact})
    m = _TERMINATED.search(extra)
    party = {
        "name": name,
        "type": normalize_party_type(_ctext(pnode, "type")),
        "extra_info": extra,
        "date_terminated": find_date(m.group(1)) if m else None,
        "attorneys": attorneys,
    }
    return party


def _entries(root, court, pacer_case_id, bad):
    dlist = root.find("document_list")
    if dlist is None:
        return []
    entries = []
    by_number = {}
    prev_date = None
    for dnode in dlist.findall("document"):
        number = clean(dnode.get("doc_num"))
        att = clean(dnode.get("attachment_num")) or "0"
        if not number:
            continue
        if not att.isdigit():
            bad.append({"what": f"document {number} attachment {att!r}",
                        "error": "its attachment number is not a number"})
            continue
        date_filed = _date(child_text(dnode, "date_filed"))
        if date_filed:
            prev_date = date_filed
        elif att == "0":
            prev_date = None
        available = _ctext(dnode, "available")
        upload = _ctext(dnode, "upload_date")
        doc = {
            "document_number": number,
            "attachment_number": int(att) if att.isdigit() else att,
            "pacer_doc_id": _ctext(dnode, "pacer_doc_id") or None,
            "description": _ctext(dnode, "short_desc") if att != "0" else
            (_ctext(dnode, "long_desc") or _ctext(dnode, "short_desc")),
            "is_available": available in ("1", "true", "True"),
            "sha1": _ctext(dnode, "sha1") or None,
            "upload_date": (parse_datetime(upload) or upload or None),
            "ia_filename": (pdf_filename(court, pacer_case_id, number, att)
                            if court and pacer_case_id else None),
        }
        entry = by_number.get(number)
        if att == "0" or entry is None:
            if att == "0" and entry is not None and entry.get("_has_main"):
                # a second main document with the same number: its own entry
                entry = None
            if entry is None:
                entry = {
                    "document_number": number,
                    "date_filed": date_filed or prev_date,
                    "date_entered": None,
                    "description": "",
                    "short_description": "",
                    "pacer_doc_id": None,
                    "pacer_seq_no": None,
                    "attachments": [],
                    "recap_documents": [],
                    "_has_main": False,
                }
                by_number[number] = entry
                entries.append(entry)
            if att == "0":
                long_desc = _ctext(dnode, "long_desc")
                entered = _date(child_text(dnode, "date_entered"))
                if entered is None:
                    m = _ENTERED.search(long_desc)
                    entered = find_date(m.group(1)) if m else None
                entry.update({
                    "date_filed": date_filed or entry["date_filed"],
                    "date_entered": entered,
                    "description": _ctext(dnode, "long_desc").replace(" ,", ","),
                    "short_description": _ctext(dnode, "short_desc"),
                    "pacer_doc_id": doc["pacer_doc_id"],
                    "pacer_seq_no": _ctext(dnode, "pacer_de_seq_num") or None,
                    "_has_main": True,
                })
                entry["recap_documents"].insert(0, doc)
                continue
        entry["attachments"].append({
            "attachment_number": att,
            "description": doc["description"],
            "pacer_doc_id": doc["pacer_doc_id"],
            "pacer_seq_no": _ctext(dnode, "pacer_de_seq_num") or None,
        })
        entry["recap_documents"].append(doc)
    for entry in entries:
        entry.pop("_has_main", None)
        if not entry["attachments"]:
            del entry["attachments"]
    return entries


@page_parser
def parse(text: str, court: str | None = None) -> dict:
    """Parse ``text``; ParseError when it is not this kind of page."""
    root = xml_page_root(text, "RECAP docket XML", ROOT_TAG)
    details = root.find("case_details")
    if details is None:
        raise ParseError("RECAP docket XML without <case_details>")
    xml_court = _ctext(details, "court")
    court_id = court or xml_court or None
    pacer_case_id = _ctext(details, "pacer_case_num") or None
    docket_number = _ctext(details, "docket_num")
    bad: list[dict] = []
    data = {
        "court_id": court_id,
        "pacer_case_id": pacer_case_id,
        "docket_number": docket_number or None,
        "case_name": harmonize_case_name(_ctext(details, "case_name")) or UNKNOWN_CASE_TITLE,
        "date_filed": _date(child_text(details, "date_case_filed")),
        "date_terminated": _date(child_text(details, "date_case_terminated")),
        "date_last_filing": _date(child_text(details, "date_last_filing")),
        "date_converted": None,
        "date_discharged": None,
        "assigned_to_str": normalize_judge(_ctext(details, "assigned_to")),
        "referred_to_str": normalize_judge(_ctext(details, "referred_to")),
        "cause": _ctext(details, "case_cause"),
        "nature_of_suit": _ctext(details, "nature_of_suit"),
        "jury_demand": _ctext(details, "jury_demand"),
        "jurisdiction": _ctext(details, "jurisdiction"),
        "demand": _ctext(details, "demand"),
        "parties": _parties(root, bad),
        "docket_entries": _entries(root, xml_court or court, pacer_case_id, bad),
        "bad_records": bad,
    }
    if not data["docket_number"] and not data["docket_entries"] and not data["parties"]:
        raise ParseError("RECAP docket XML without a docket number, parties or entries")
    return data
