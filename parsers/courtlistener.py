"""CourtListener REST API v4 records -> plain data: the fields of a docket, a
docket entry, a RECAP document, a party and an attorney, named as the
archive's items and columns (docket_spider/items.py, archive/db.py).

Pure functions of the JSON the API sent (no network, no Scrapy). A record of
an unexpected shape raises one of :data:`BAD_RECORD`, naming the field: the
caller skips that record and keeps the rest of its page.
"""
from __future__ import annotations

from urllib.parse import urljoin

from .common import to_int
from .links import origin_of_courtlistener

SOURCE = "courtlistener"
# CourtListener's attorney role codes (cl.people_db.models.Role).
ROLES = {
    1: "Attorney to be noticed", 2: "Lead attorney", 3: "Attorney in sealed group",
    4: "Pro hac vice", 5: "Self-terminated", 6: "Terminated", 7: "Suspended",
    8: "Inactive", 9: "Disbarred", 10: "Unknown",
}


def _str(value):
    return None if value in (None, "") else str(value)


# What reading a record of an unexpected shape raises.
BAD_RECORD = (AttributeError, KeyError, TypeError, ValueError, IndexError)


def int_field(value, what):
    """An integer field: None, an int, or a whole number in text; anything
    else is a bad record (naming ``what``)."""
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{what} is {type(value).__name__} {str(value)[:40]!r}, not a number")
    number = to_int(value, whole=True)
    if number is None:
        raise ValueError(f"{what} is {str(value)[:40]!r}, not a number")
    return number


def _text(value, what):
    """A text field: None or a string (a number is taken as its digits)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{what} is {type(value).__name__}, not text")


def _objects(value, what) -> list:
    """A list of JSON objects (None: none); anything else is a bad record."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        sample = value if not isinstance(value, list) else next(
            v for v in value if not isinstance(v, dict))
        raise TypeError(f"{what} holds {type(sample).__name__} {str(sample)[:60]!r}, "
                        "not objects")
    return value



def _id_from_url(url):
    if not url:
        return None
    try:
        return int(str(url).rstrip("/").rsplit("/", 1)[-1])
    except ValueError:
        return None


def parse_party(ctx, party: dict) -> dict:
    """A parties result; a bad record (BAD_RECORD) when it is not of the API's shape."""
    name = _text(party.get("name"), "its name")
    if not name:
        raise ValueError("it has no name")
    types = _objects(party.get("party_types"), "its party_types")
    names = list(dict.fromkeys(_text(t.get("name"), "a party type") for t in types
                               if t.get("name")))
    terminated = next((t.get("date_terminated") for t in types if t.get("date_terminated")), None)
    return dict(
        source=SOURCE, court_id=ctx["court_id"],
        docket_number=ctx["docket_number"], name=name,
        party_type=", ".join(names) or None,
        extra_info=_text(party.get("extra_info"), "its extra_info") or None,
        date_terminated=_text(terminated, "its date_terminated"),
        courtlistener_id=int_field(party.get("id"), "its id"),
    )


def parse_attorney(ctx, attorney: dict, party_names: dict) -> dict:
    """An attorneys result, linked to the parties (``party_names``: id -> name)
    it represents; a bad record (BAD_RECORD) when it is not of the API's shape
    (``parties_represented`` must hold objects with a ``party`` link and a role)."""
    name = _text(attorney.get("name"), "its name")
    if not name:
        raise ValueError("it has no name")
    parties: dict[str, list[str]] = {}
    for link in _objects(attorney.get("parties_represented"), "its parties_represented"):
        party_id = int_field(link.get("party_id"), "a party_id") or _id_from_url(
            _text(link.get("party"), "a party link"))
        party = party_names.get(party_id)
        if not party:
            continue
        role = link.get("role")
        parties.setdefault(party, []).append(ROLES.get(role, str(role)) if role else None)
    return dict(
        source=SOURCE, court_id=ctx["court_id"],
        docket_number=ctx["docket_number"], name=name,
        contact_raw=_text(attorney.get("contact_raw"), "its contact_raw") or None,
        phone=_text(attorney.get("phone"), "its phone") or None,
        fax=_text(attorney.get("fax"), "its fax") or None,
        email=_text(attorney.get("email"), "its email") or None,
        courtlistener_id=int_field(attorney.get("id"), "its id"),
        parties=[{"party": party, "roles": [r for r in roles if r]}
                 for party, roles in parties.items()],
    )


def parse_docket(d: dict) -> dict:
    """A dockets result."""
    panel = d.get("panel_str") or None
    return dict(
        source=SOURCE, court_id=d.get("court_id") or "",
        docket_number=d.get("docket_number") or "", case_name=d.get("case_name"),
        pacer_case_id=_str(d.get("pacer_case_id")), date_filed=d.get("date_filed"),
        date_terminated=d.get("date_terminated"),
        date_last_filing=d.get("date_last_filing"),
        assigned_to_str=d.get("assigned_to_str") or None,
        referred_to_str=d.get("referred_to_str") or None,
        nature_of_suit=d.get("nature_of_suit") or None, cause=d.get("cause") or None,
        jury_demand=d.get("jury_demand") or None,
        jurisdiction_type=d.get("jurisdiction_type") or None,
        appeal_from_str=d.get("appeal_from_str") or None, panel_str=panel,
        courtlistener_id=d.get("id"),
        source_url=urljoin("https://www.courtlistener.com/", d.get("absolute_url") or ""),
        # an appeal's originating case (original_court_info, appeal_from), or None
        origin=origin_of_courtlistener(d),
    )


def parse_entry(ctx, entry: dict, storage_url: str) -> tuple[dict, list[dict]]:
    """A docket-entries result: the entry and its RECAP documents, whole or
    not at all (a bad record raises)."""
    documents = _objects(entry.get("recap_documents"), "its recap_documents")
    row = dict(
        source=SOURCE, court_id=ctx["court_id"],
        docket_number=ctx["docket_number"],
        entry_number=int_field(entry.get("entry_number"), "its entry_number"),
        date_filed=_text(entry.get("date_filed"), "its date_filed"),
        time_filed=_text(entry.get("time_filed"), "its time_filed"),
        description=_text(entry.get("description"), "its description"),
        pacer_sequence_number=_str(entry.get("pacer_sequence_number")),
        recap_sequence_number=_str(entry.get("recap_sequence_number")),
        courtlistener_id=int_field(entry.get("id"), "its id"),
    )
    return row, [parse_document(ctx, entry, doc, storage_url) for doc in documents]


def parse_document(ctx, entry: dict, doc: dict, storage_url: str) -> dict:
    """A RECAP document of an entry; ``file_urls``: its PDF on the storage host."""
    filepath = _text(doc.get("filepath_local"), "a document's filepath_local")
    available = bool(doc.get("is_available"))
    urls = [urljoin(storage_url, filepath.lstrip("/"))] if available and filepath else []
    attachment = int_field(doc.get("attachment_number"), "a document's attachment_number")
    return dict(
        source=SOURCE, court_id=ctx["court_id"],
        docket_number=ctx["docket_number"], pacer_case_id=ctx.get("pacer_case_id"),
        entry_number=int_field(entry.get("entry_number"), "its entry_number"),
        pacer_sequence_number=_str(entry.get("pacer_sequence_number")),
        recap_sequence_number=_str(entry.get("recap_sequence_number")),
        document_number=_str(doc.get("document_number")) or _str(entry.get("entry_number")),
        attachment_number=attachment,
        document_type=int_field(doc.get("document_type"), "a document's document_type"),
        description=_text(doc.get("description"), "a document's description"),
        pacer_doc_id=_str(doc.get("pacer_doc_id")), is_available=available,
        is_sealed=doc.get("is_sealed"),
        page_count=int_field(doc.get("page_count"), "a document's page_count"),
        file_size=int_field(doc.get("file_size"), "a document's file_size"),
        sha1=_text(doc.get("sha1"), "a document's sha1") or None,
        courtlistener_id=int_field(doc.get("id"), "a document's id"), file_urls=urls,
    )
