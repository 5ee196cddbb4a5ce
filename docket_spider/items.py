"""Items: plain dataclasses, one per thing the court publishes.

Every source yields the same shapes. A docket is a ``DocketItem``; the
entries (each with its documents) and parties a source gives with it, in the
same page, come inside it (``entries``, ``parties``) and are stored with it,
whole or not at all: a PACER report, an ACMS docket, an RSS feed's items of
a case, a RECAP XML (archive/load.py's ``docket_record`` maps such a page).
A source that gives them page by page (CourtListener's API) sends each as
its own ``DocketEntryItem``, ``PartyItem``, ``AttorneyItem``. A document
whose file is to be fetched is always its own ``DocumentItem`` (the files
pipeline fetches one per item). ``ChargeItem`` is a PACER purchase.

Field names follow CourtListener's where one exists. Items carry no SQL and
no secrets; ``archive/`` decides how they are stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class DocketItem:
    source: str
    court_id: str
    docket_number: str
    case_name: Optional[str] = None
    pacer_case_id: Optional[str] = None
    date_filed: Optional[str] = None
    date_terminated: Optional[str] = None
    date_last_filing: Optional[str] = None
    assigned_to_str: Optional[str] = None
    referred_to_str: Optional[str] = None
    nature_of_suit: Optional[str] = None
    cause: Optional[str] = None
    jury_demand: Optional[str] = None
    jurisdiction_type: Optional[str] = None
    appeal_from_str: Optional[str] = None
    panel_str: Optional[str] = None
    courtlistener_id: Optional[int] = None
    source_url: Optional[str] = None
    # an appeal's originating case, as its record states it (parsers.links):
    # {court_id, docket_number, date_filed_noa, date_received_coa}
    origin: Optional[dict] = None
    # bankruptcy dockets
    chapter: Optional[int] = None
    trustee_str: Optional[str] = None
    date_converted: Optional[str] = None
    date_discharged: Optional[str] = None
    # what the same page said of the docket's entries and parties (see above)
    entries: list[DocketEntryItem] = field(default_factory=list)
    parties: list[PartyItem] = field(default_factory=list)

    @classmethod
    def of(cls, fields: dict) -> "DocketItem":
        """A DocketItem of its fields as plain data (archive.load.docket_record)."""
        fields = dict(fields)
        entries = [DocketEntryItem.of(e) for e in fields.pop("entries", None) or []]
        parties = [PartyItem(**p) for p in fields.pop("parties", None) or []]
        return cls(**fields, entries=entries, parties=parties)


@dataclass
class DocketEntryItem:
    source: str
    court_id: str
    docket_number: str
    entry_number: Optional[int] = None
    date_filed: Optional[str] = None
    date_entered: Optional[str] = None
    time_filed: Optional[str] = None
    description: Optional[str] = None
    pacer_sequence_number: Optional[str] = None
    recap_sequence_number: Optional[str] = None
    courtlistener_id: Optional[int] = None
    # the record as the source gave it, and where (kept as the entry's version)
    version_raw: Optional[Any] = None
    version_url: Optional[str] = None
    event_names: Optional[str] = None  # what an RSS item or a docket report calls it
    # what the archive finds an entry by, not columns: its documents' PACER ids, and
    # for an RSS item its publication time and rank among alike items (archive.db.entry_key)
    pacer_doc_ids: Optional[list[str]] = None
    published: Optional[str] = None
    occurrence: Optional[int] = None
    # its documents, when they came with it inside a DocketItem
    documents: list[DocumentItem] = field(default_factory=list)

    @classmethod
    def of(cls, fields: dict) -> "DocketEntryItem":
        fields = dict(fields)
        documents = [DocumentItem(**d) for d in fields.pop("documents", None) or []]
        return cls(**fields, documents=documents)


@dataclass
class DocumentItem:
    """A filing's main document or one of its attachments, with or without a file."""

    source: str
    court_id: str
    docket_number: str
    pacer_case_id: Optional[str] = None
    entry_number: Optional[int] = None
    # place documents of unnumbered entries
    pacer_sequence_number: Optional[str] = None
    recap_sequence_number: Optional[str] = None
    document_number: Optional[str] = None
    attachment_number: Optional[int] = None
    document_type: Optional[int] = None  # 1 main document, 2 attachment
    description: Optional[str] = None
    pacer_doc_id: Optional[str] = None
    is_available: Optional[bool] = None
    is_sealed: Optional[bool] = None
    page_count: Optional[int] = None
    file_size: Optional[int] = None
    sha1: Optional[str] = None
    courtlistener_id: Optional[int] = None
    # FilesPipeline's fields: the URL to fetch and what it stored.
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    # How the files pipeline asks for file_urls[0] when a plain GET will not do:
    # {"url", "formdata" (a POST), "meta" (flags such as pacer_session)}. Never a
    # cookie or token: CredentialsMiddleware adds those as the request is sent.
    file_request: dict[str, Any] = field(default_factory=dict)
    # Set by the pipelines.
    file_path: Optional[str] = None
    sha256: Optional[str] = None
    text: Optional[str] = None
    clean_text: Optional[str] = None
    status: Optional[str] = None
    error: Optional[str] = None
    extracted_by_ocr: Optional[bool] = None
    ocr_pages: Optional[str] = None
    stamp: Optional[dict[str, Any]] = None
    bad_redactions: Optional[str] = None
    extractor_version: Optional[str] = None
    extraction_skipped: bool = False


@dataclass
class PartyItem:
    source: str
    court_id: str
    docket_number: str
    name: str
    party_type: Optional[str] = None
    extra_info: Optional[str] = None
    date_terminated: Optional[str] = None
    courtlistener_id: Optional[int] = None
    # [{"name", "roles": [..], "contact"}]
    attorneys: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AttorneyItem:
    source: str
    court_id: str
    docket_number: str
    name: str
    contact_raw: Optional[str] = None
    phone: Optional[str] = None
    fax: Optional[str] = None
    email: Optional[str] = None
    courtlistener_id: Optional[int] = None
    # [{"party": party name, "roles": [..]}]
    parties: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ChargeItem:
    """A PACER purchase, made or (without a budget) only priced."""

    court_id: str
    what: str  # docket_report, document, attachment_page, acms_docket, ...
    status: str  # charged, would_buy, over_budget, free
    cost: float = 0.0
    pages: Optional[int] = None
    pacer_cost: Optional[float] = None
    docket_number: Optional[str] = None
    pacer_case_id: Optional[str] = None
    description: Optional[str] = None
    document_id: Optional[str] = None
    url: Optional[str] = None  # with no query string holding secrets
    job_id: Optional[str] = None  # the crawl and its resumptions (docket_spider.resume)
    purchase_key: Optional[str] = None  # what was bought, the same across runs
    ledger_id: Optional[int] = None  # settles the purchase's row
    message: Optional[str] = None
    answer_kept: Optional[int] = None  # PACER billed it: 0 when its answer was lost
