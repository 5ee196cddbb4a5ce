"""Load a parsed docket (the plain dicts ``parsers`` returns) into the archive.

One mapping for every page kind — district and appellate docket reports,
ACMS JSON, RECAP XML, RSS items — used by ``archive import`` for pages a
user saved from PACER, and by spiders' items alike.
"""
from __future__ import annotations

from typing import Optional

from . import db as adb

DOCKET_FIELDS = {  # parsed name -> archive column
    "docket_number": "docket_number", "case_name": "case_name", "pacer_case_id": "pacer_case_id",
    "date_filed": "date_filed", "date_terminated": "date_terminated",
    "date_last_filing": "date_last_filing", "assigned_to_str": "assigned_to_str",
    "referred_to_str": "referred_to_str", "nature_of_suit": "nature_of_suit", "cause": "cause",
    "jury_demand": "jury_demand", "jurisdiction": "jurisdiction_type",
    "appeal_from": "appeal_from_str",
}


def _date(value):
    return str(value)[:10] if value else None


def _number(value) -> Optional[int]:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _blank_to_none(value):
    return None if value in ("", [], {}) else value


def save_parsed_docket(db, record: dict, *, source: str, court_id: Optional[str] = None,
                       crawl_id: Optional[int] = None) -> dict:
    """Save one parsed docket with its entries, documents and parties.

    All in one transaction: a docket is stored whole or (on an error, or a
    process killed mid-way) not at all, never half. Returns counts of rows
    added/changed/unchanged.
    """
    with adb.transaction(db):
        return _save_parsed_docket(db, record, source=source, court_id=court_id,
                                   crawl_id=crawl_id)


def _save_parsed_docket(db, record: dict, *, source: str, court_id: Optional[str],
                        crawl_id: Optional[int]) -> dict:
    court = record.get("court_id") or court_id
    if not court:
        raise ValueError("the court is not known: give --court")
    number = record.get("docket_number")
    if not number:
        raise ValueError("the page has no docket number")
    counts = {"added": 0, "changed": 0, "unchanged": 0}

    def count(action):
        counts[action] = counts.get(action, 0) + 1

    docket = {column: _blank_to_none(record.get(name)) for name, column in DOCKET_FIELDS.items()}
    docket.update(court_id=court, docket_number=number, source=source,
                  date_filed=_date(record.get("date_filed")),
                  date_terminated=_date(record.get("date_terminated")))
    if record.get("panel"):
        docket["panel_str"] = ", ".join(record["panel"])
    if docket.get("pacer_case_id") is not None:
        docket["pacer_case_id"] = str(docket["pacer_case_id"])
    count(adb.save_docket(db, docket, crawl_id)[1])

    base = {"court_id": court, "docket_number": number, "source": source}
    for entry in record.get("docket_entries") or []:
        entry_number = _number(entry.get("document_number"))
        seq = _blank_to_none(entry.get("pacer_seq_no"))
        row = dict(base, entry_number=entry_number, date_filed=_date(entry.get("date_filed")),
                   date_entered=_blank_to_none(entry.get("date_entered")),
                   description=entry.get("description") or entry.get("short_description"),
                   pacer_sequence_number=str(seq) if seq is not None else None)
        count(adb.save_entry(db, row, crawl_id)[1])
        for doc in _documents(entry):
            doc_row = dict(base, entry_number=entry_number,
                           pacer_sequence_number=row["pacer_sequence_number"],
                           document_number=_blank_to_none(str(doc.get("document_number") or "")) or
                           (str(entry_number) if entry_number is not None else None),
                           attachment_number=_number(doc.get("attachment_number")) or 0,
                           description=doc.get("description"),
                           pacer_doc_id=_blank_to_none(doc.get("pacer_doc_id")),
                           page_count=_number(doc.get("page_count")),
                           is_available=doc.get("is_available"), sha1=doc.get("sha1"))
            doc_row["document_type"] = 2 if doc_row["attachment_number"] else 1
            count(adb.save_document(db, doc_row, crawl_id)[1])
    for party in record.get("parties") or []:
        if not party.get("name"):
            continue
        row = dict(base, name=party["name"], party_type=_blank_to_none(party.get("type")),
                   extra_info=_blank_to_none(party.get("extra_info")),
                   date_terminated=_date(party.get("date_terminated")),
                   attorneys=[{"name": a["name"], "roles": a.get("roles") or [],
                               "contact": _blank_to_none(a.get("contact"))}
                              for a in party.get("attorneys") or [] if a.get("name")])
        for action in adb.save_party(db, row, crawl_id)[1]:
            count(action)
    return counts


def _documents(entry: dict) -> list[dict]:
    """The documents a parsed entry names: RECAP's list, or its own doc id plus attachments."""
    if entry.get("recap_documents"):
        return entry["recap_documents"]
    docs = []
    if entry.get("pacer_doc_id"):
        docs.append({"pacer_doc_id": entry["pacer_doc_id"], "attachment_number": 0,
                     "description": entry.get("short_description")})
    for attachment in entry.get("attachments") or []:
        if _number(attachment.get("attachment_number")):
            docs.append(attachment)
    return docs


def dockets_in(record: dict) -> list[dict]:
    """An RSS feed holds many dockets; every other kind holds one."""
    return record["dockets"] if "dockets" in record else [record]
