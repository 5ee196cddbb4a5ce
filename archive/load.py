"""Load a parsed docket (the plain dicts ``parsers`` returns) into the archive.

One mapping for every page kind — district and appellate docket reports,
ACMS JSON, RECAP XML, RSS items — used by ``archive import`` for pages a
user saved from PACER, and by the spiders, which send what it makes of a
page as one DocketItem (``docket_record``). ``save_item`` saves any item
of a crawl (``ITEMS``).
"""
from __future__ import annotations

import collections
from typing import Optional

from parsers.common import docket_number_key
from parsers.links import origin_of_record

from . import db as adb
from . import origins

# Sources whose entries are RSS items: a publication time for a date, the
# event names for a description (provisional: a docket report's win), and for
# an item without a document link nothing else to tell two entries apart by.
RSS_SOURCES = adb.RSS_SOURCES
# What a record of an unexpected shape raises here (a string where a dict
# should be, a missing name...): that record is skipped, the others saved.
BAD_RECORD = (AttributeError, KeyError, TypeError, ValueError, IndexError)

DOCKET_FIELDS = {  # parsed name -> archive column
    "docket_number": "docket_number", "case_name": "case_name", "pacer_case_id": "pacer_case_id",
    "date_filed": "date_filed", "date_terminated": "date_terminated",
    "date_last_filing": "date_last_filing", "assigned_to_str": "assigned_to_str",
    "referred_to_str": "referred_to_str", "nature_of_suit": "nature_of_suit", "cause": "cause",
    "jury_demand": "jury_demand", "jurisdiction": "jurisdiction_type",
    "appeal_from": "appeal_from_str", "source_url": "source_url",
    # bankruptcy dockets
    "chapter": "chapter", "trustee_str": "trustee_str",
    "date_converted": "date_converted", "date_discharged": "date_discharged",
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
    added/changed/unchanged. An entry (with its documents) or a party (with
    its attorneys) of an unexpected shape costs only itself: it is left out,
    the others are saved, and the counts have ``bad`` (how many) and
    ``problems`` (``{what, error}`` for each), for the caller to log.
    """
    fields, problems = docket_record(record, source=source, court_id=court_id)
    counts = save_docket_item(db, fields, crawl_id)
    if problems:
        counts["bad"] = counts.get("bad", 0) + len(problems)
        counts["problems"] = problems + counts.get("problems", [])
    return counts


def docket_record(record: dict, *, source: str, court_id: Optional[str] = None,
                  documents: bool = True) -> tuple[dict, list[dict]]:
    """A parsed docket as a DocketItem's fields (docket_spider/items.py): its
    columns and ``origin``, its ``entries`` (each row with its ``documents``,
    unless ``documents`` is false) and its ``parties`` (each with its
    ``attorneys``); and the problems (``{what, error}``) of the records left
    out. ValueError when the docket itself has no court or number."""
    court = record.get("court_id") or court_id
    if not court:
        raise ValueError("the court is not known: give --court")
    number = record.get("docket_number")
    if not number:
        raise ValueError("the page has no docket number")
    problems: list[dict] = []

    def bad(what, exc):
        problems.append({"what": what, "error": f"{type(exc).__name__}: {exc}"})

    docket = {column: _blank_to_none(record.get(name)) for name, column in DOCKET_FIELDS.items()}
    docket.update(court_id=court, docket_number=number, source=source,
                  date_filed=_date(record.get("date_filed")),
                  date_terminated=_date(record.get("date_terminated")),
                  date_converted=_date(record.get("date_converted")),
                  date_discharged=_date(record.get("date_discharged")),
                  chapter=_number(record.get("chapter")), origin=origin_of_record(record))
    if record.get("panel"):
        docket["panel_str"] = ", ".join(record["panel"])
    if docket.get("pacer_case_id") is not None:
        docket["pacer_case_id"] = str(docket["pacer_case_id"])
    entries = []
    for i, (entry, row, error) in enumerate(entry_rows(record, source=source, court_id=court)):
        if error is None:
            try:
                row["documents"] = _document_rows(entry, row) if documents else []
            except BAD_RECORD as exc:
                error = exc
            else:
                entries.append(row)
        if error is not None:
            bad(f"docket entry {i + 1} ({_entry_label(entry)})", error)
    base = {"court_id": court, "docket_number": number, "source": source}
    parties = []
    found = record.get("parties") or []
    for i, party in enumerate(found if isinstance(found, list) else [found]):
        try:
            if not party.get("name"):
                continue
            attorneys = []
            for attorney in party.get("attorneys") or []:
                name = attorney.get("name") if isinstance(attorney, dict) else None
                if not isinstance(attorney, dict) or (name and not isinstance(name, str)):
                    bad(f"attorney of party {i + 1} ({_label(party.get('name'))})",
                        TypeError(f"not an attorney: {_label(attorney)}"))
                    continue
                if name:
                    attorneys.append({"name": name, "roles": list(attorney.get("roles") or []),
                                      "contact": _blank_to_none(attorney.get("contact"))})
            parties.append(dict(base, name=party["name"],
                                party_type=_blank_to_none(party.get("type")),
                                extra_info=_blank_to_none(party.get("extra_info")),
                                date_terminated=_date(party.get("date_terminated")),
                                attorneys=attorneys))
        except BAD_RECORD as exc:
            bad(f"party {i + 1} ({_label(party.get('name') if isinstance(party, dict) else party)})",
                exc)
    return dict(docket, entries=entries, parties=parties), problems


def save_docket_item(db, fields: dict, crawl_id: Optional[int] = None) -> dict:
    """Save a DocketItem's fields: the docket, its origin, and the entries
    (each with its documents) and parties (each with its attorneys) it came
    with, in one transaction. An entry or party that cannot be saved costs
    only itself (``bad``, ``problems`` in the counts returned)."""
    with adb.transaction(db):
        return _save_docket_item(db, fields, crawl_id)


def _save_docket_item(db, fields: dict, crawl_id: Optional[int]) -> dict:
    docket = dict(fields)
    entries = docket.pop("entries", None) or []
    parties = docket.pop("parties", None) or []
    origin = docket.pop("origin", None)
    court, number, source = docket["court_id"], docket["docket_number"], docket.get("source")
    counts = {"added": 0, "changed": 0, "unchanged": 0}

    def count(action):
        counts[action] = counts.get(action, 0) + 1

    def bad(what, exc):
        counts["bad"] = counts.get("bad", 0) + 1
        counts.setdefault("problems", []).append(
            {"what": what, "error": f"{type(exc).__name__}: {exc}"})

    provisional = source in RSS_SOURCES
    count(adb.save_docket(db, docket, crawl_id, provisional=provisional)[1])
    origins.save_origin(db, court, number, origin, source, crawl_id)
    for i, entry in enumerate(entries):
        try:
            with adb.transaction(db):  # the entry with its documents, or neither
                actions = _save_entry(db, entry, crawl_id, provisional)
        except BAD_RECORD as exc:
            bad(f"docket entry {i + 1} ({_entry_label(_raw_of(entry))})", exc)
            continue
        for action in actions:
            count(action)
    if not provisional and entries:
        # RSS items the archive had without a number that this docket's entries stand for
        merged = adb.absorb_provisional_entries(db, adb.docket_key(court, number), RSS_SOURCES,
                                                crawl_id)
        if merged:
            counts["merged"] = merged
    for i, party in enumerate(parties):
        try:
            actions = adb.save_party(db, party, crawl_id)[1]  # the party with its attorneys, or none
        except BAD_RECORD as exc:
            bad(f"party {i + 1} ({_label(party.get('name'))})", exc)
            continue
        for action in actions:
            count(action)
    return counts


def _raw_of(entry: dict) -> dict:
    """The parsed entry an entry row was made of (its version)."""
    raw = entry.get("version_raw") if isinstance(entry, dict) else None
    return raw if isinstance(raw, dict) else entry


def _label(value, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _entry_label(entry) -> str:
    if not isinstance(entry, dict):
        return f"not an entry: {_label(entry)}"
    return _label(f"number {entry.get('document_number')}, filed {entry.get('date_filed')}")


def entry_row(entry: dict, *, court_id: str, docket_number: str, source: str) -> dict:
    """The row :func:`archive.db.save_entry` takes for one parsed entry (with
    ``pacer_doc_ids`` to find it by; for an RSS item also ``published``)."""
    entry_number = _number(entry.get("document_number"))
    seq = _blank_to_none(entry.get("pacer_seq_no"))
    if seq is None and source in RSS_SOURCES:
        seq = _blank_to_none(entry.get("guid_seq_no"))
    row = {"court_id": court_id, "docket_number": docket_number, "source": source,
           "entry_number": entry_number, "date_filed": _date(entry.get("date_filed")),
           "date_entered": _blank_to_none(entry.get("date_entered")),
           "description": entry.get("description") or entry.get("short_description"),
           "event_names": _blank_to_none(entry.get("short_description")),
           "pacer_sequence_number": str(seq) if seq is not None else None,
           # the entry as the source gave it, kept as its version (archive.db.save_version)
           "version_raw": _raw(entry)}
    doc_ids = [doc.get("pacer_doc_id") for doc in _documents(entry) if doc.get("pacer_doc_id")]
    if doc_ids:
        row["pacer_doc_ids"] = [str(d) for d in doc_ids]
    if source in RSS_SOURCES and entry.get("date_filed"):
        row["published"] = str(entry["date_filed"])
    return row


def _raw(entry: dict) -> dict:
    """A parsed entry as its version keeps it (its text and fields, not the
    extracted text of its documents)."""
    return {k: v for k, v in entry.items() if k not in ("plain_text", "text")}


def entry_rows(record: dict, *, source: str, court_id: Optional[str] = None) -> list[tuple]:
    """``(entry, row, error)`` for each entry of a parsed record, in order: its
    :func:`entry_row`, or None and what is wrong with it.

    RSS items alike in every respect (same publication time and event names,
    no number, sequence or document) are told apart by ``occurrence``, their
    rank among their likes: none is lost, and the same items in a later feed
    are the same rows.
    """
    court = record.get("court_id") or court_id
    number = record.get("docket_number")
    seen = collections.Counter()
    rows = []
    entries = record.get("docket_entries") or []
    for entry in entries if isinstance(entries, list) else [entries]:
        try:
            row = entry_row(entry, court_id=court, docket_number=number, source=source)
        except BAD_RECORD as exc:
            rows.append((entry, None, exc))
            continue
        where = record.get("source_url") or record.get("link")
        if where:
            row["version_url"] = str(where)
        if row.get("published") and row["entry_number"] is None \
                and row["pacer_sequence_number"] is None and not row.get("pacer_doc_ids"):
            like = (row["published"], row["description"] or "")
            seen[like] += 1
            row["occurrence"] = seen[like]
        rows.append((entry, row, None))
    return rows


def _document_rows(entry: dict, row: dict) -> list[dict]:
    """The rows of the documents a parsed entry names, as :func:`archive.db.save_document`
    takes them (less ``entry_id``, which is the entry's row once saved)."""
    base = {"court_id": row["court_id"], "docket_number": row["docket_number"],
            "source": row["source"]}
    entry_number = row["entry_number"]
    rows = []
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
        rows.append(doc_row)
    return rows


def _save_entry(db, entry: dict, crawl_id, provisional: bool) -> list[str]:
    """An entry row and the rows of its documents (``entry["documents"]``)."""
    row = {k: v for k, v in entry.items() if k != "documents"}
    entry_id, action = adb.save_entry(db, row, crawl_id, provisional=provisional)
    actions = [action]
    for doc in entry.get("documents") or []:
        doc_row = {k: v for k, v in doc.items() if k not in DOCUMENT_TRANSIENT}
        doc_row["entry_id"] = entry_id
        actions.append(adb.save_document(db, doc_row, crawl_id, provisional=provisional)[1])
    return actions


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
    """An RSS feed holds many dockets (one per case: the items of a case are
    its entries, in feed order); every other kind holds one."""
    if "dockets" not in record:
        return [record]
    cases: dict = {}
    for docket in record["dockets"]:
        key = (docket.get("court_id"), docket_number_key(docket.get("docket_number") or ""))
        case = cases.get(key)
        if case is None:
            cases[key] = dict(docket, docket_entries=list(docket.get("docket_entries") or []))
        else:
            case["docket_entries"].extend(docket.get("docket_entries") or [])
    return list(cases.values())


# --- a crawl's items -----------------------------------------------------------

# Each kind of item a crawl yields (docket_spider/items.py, as a plain dict) and
# how it becomes rows: the archive.db function that saves it, and the fields the
# crawl needs but the archive does not keep. ArchivePipeline (one process) and
# the archive writer (archive/writer.py, items from a queue) both save through
# :func:`save_item`.
ITEMS = {
    # with the entries and parties it came with: one transaction (save_docket_item)
    "DocketItem": {"save": "save_docket_item"},
    "DocketEntryItem": {"save": "save_entry", "transient": ("documents",)},
    "DocumentItem": {"save": "save_document",
                     "transient": ("file_urls", "files", "file_request", "extraction_skipped")},
    "PartyItem": {"save": "save_party"},
    "AttorneyItem": {"save": "save_attorney"},
    "ChargeItem": {"save": "save_charge"},
}
DOCUMENT_TRANSIENT = ITEMS["DocumentItem"]["transient"]
# A document whose file was not extracted again (unchanged) keeps what the archive has.
EXTRACTION_FIELDS = ("text", "clean_text", "status", "error", "extracted_by_ocr", "ocr_pages",
                     "stamp", "bad_redactions", "extractor_version")
# Items of one record each: one that cannot be saved costs that record, not the crawl.
ONE_RECORD = ("DocketEntryItem", "DocumentItem", "PartyItem", "AttorneyItem")


def item_label(kind: str, data: dict) -> str:
    """The record an item is, for a warning."""
    if kind == "DocketItem":
        return f"{data.get('source')} {data.get('court_id')} {data.get('docket_number')}"
    name = data.get("name") or data.get("entry_number")
    return (f"{kind} {name if name is not None else ''} of {data.get('source')} "
            f"{data.get('court_id')} {data.get('docket_number')}")


def save_item(db, kind: str, data: dict, crawl_id: Optional[int] = None) -> dict:
    """Save one item (``kind`` is its class's name, ``data`` its fields).

    Returns ``{"actions": {added/changed/unchanged: n}, "problems": [{what,
    error}]}``: the parts of a parsed docket that were left out, or the item
    itself when it is a single record of a shape that cannot be saved (an
    unexpected shape of a docket, or of anything else, raises).
    """
    spec = ITEMS.get(kind)
    if spec is None:
        raise ValueError(f"{kind!r} is not a kind of item the archive keeps")
    data = dict(data)
    skipped, status = data.get("extraction_skipped"), data.get("status")
    for name in spec.get("transient", ()):
        data.pop(name, None)
    actions: collections.Counter = collections.Counter()
    problems: list[dict] = []
    try:
        if kind == "DocketItem":
            counts = save_docket_item(db, data, crawl_id)
            counts.pop("bad", None)
            where = item_label(kind, data)
            problems = [{"what": f"{p['what']} of {where}", "error": p["error"]}
                        for p in counts.pop("problems", [])]
            actions.update(counts)
        elif kind == "ChargeItem":
            adb.save_charge(db, dict(data, crawl_id=crawl_id))
        else:
            if kind == "DocumentItem":
                if skipped or status is None:
                    for name in EXTRACTION_FIELDS:
                        data.pop(name, None)
                if data.get("file_path") is None and status is None:
                    data["status"] = "no_file" if not data.get("is_available") else None
            _, out = getattr(adb, spec["save"])(db, data, crawl_id)
            actions.update([out] if isinstance(out, str) else out)
    except BAD_RECORD as exc:
        if kind not in ONE_RECORD:
            raise
        problems = [{"what": item_label(kind, data), "error": f"{type(exc).__name__}: {exc}"}]
    return {"actions": dict(actions), "problems": problems}
