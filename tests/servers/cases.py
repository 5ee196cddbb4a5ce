"""The data the local CourtListener server serves, as CourtListener API v4
objects.

- ``wechat_cases(shared_dir)``: the default case in N.D. Cal. (3:20-cv-05910)
  and the Ninth Circuit (20-16908), from the hand-written fixture
  ``tests/fixtures/courtlistener/wechat.json``; the PDFs behind available
  documents are real files from ``<shared>/corpus/pdfs/``.
- ``synthetic_case(shared_dir, n_entries)``: a generated docket for benchmarks.

Without ``../shared`` both still work: every PDF is then a tiny valid PDF made
on the fly (``make_pdf``).

Links to other API objects are stored with the placeholder ``API`` in front
(``API + "dockets/1/"``); the server swaps in its own base URL.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

API = "@@CLAPI@@/"  # replaced by the server's api_url when a response is written

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
WECHAT_FIXTURE = FIXTURES / "courtlistener" / "wechat.json"


def default_shared_dir() -> Path:
    """``$DOCKET_SHARED`` or ``<repo>/../shared``."""
    env = os.environ.get("DOCKET_SHARED")
    return Path(env) if env else (REPO / ".." / "shared").resolve()


def shared_available(shared_dir=None) -> bool:
    base = Path(shared_dir) if shared_dir else default_shared_dir()
    return (base / "corpus" / "pdfs").is_dir()


# --- PDFs ----------------------------------------------------------------------

def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(lines: list[str]) -> bytes:
    """A minimal valid one-page PDF (Helvetica text layer) showing ``lines``."""
    text = " ".join("(%s) '" % _pdf_escape(line.encode("latin-1", "replace").decode("latin-1")) for line in lines)
    stream = ("BT /F1 11 Tf 14 TL 72 740 Td %s ET" % text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    return pdf_of_objects(objects)


def pdf_of_objects(objects: list[bytes], header: bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n") -> bytes:
    """A PDF file of ``objects`` (numbered from 1; object 1 the catalog), with its
    cross-reference table and trailer."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# Page counts of the shared corpus PDFs (counted with pdfium); others are guessed.
CORPUS_PAGE_COUNTS = {
    "broken-mime.pdf": 23, "empty.pdf": None, "image-pdf.pdf": 2, "nda_document.pdf": 7,
    "ocr_pdf_variation.pdf": 1, "vector-pdf.pdf": 30,
    "recap_documents/ca10_010110462922.pdf": 1, "recap_documents/ca1_00117684624.pdf": 17,
    "recap_documents/ca2_1-1.pdf": 2, "recap_documents/ca3_003112692106.pdf": 2,
    "recap_documents/ca4_17.pdf": 1, "recap_documents/ca5_00516242060.pdf": 10,
    "recap_documents/ca6_1-3.pdf": 3, "recap_documents/ca7_3.pdf": 1, "recap_documents/ca8_.pdf": 2,
    "recap_documents/cafc_3.pdf": 2, "recap_documents/gov.uscourts.ca1.12-2209.00106475093.0.pdf": 2,
    "recap_extract/gov.uscourts.azd.1085839.3.0.pdf": 5,
    "recap_extract/gov.uscourts.cacd.652774.40.0.pdf": 4,
    "xray/rectangles_no.pdf": 1, "xray/rectangles_yes.pdf": 1,
}

# The real PDFs the synthetic case cycles through (not empty.pdf).
SYNTHETIC_PDFS = [name for name, pages in CORPUS_PAGE_COUNTS.items() if pages]


@lru_cache(maxsize=64)
def _read(path: str) -> bytes:
    return Path(path).read_bytes()


class PdfFile:
    """The bytes behind one stored file: a real file (optionally with a suffix
    appended so that copies differ), or bytes made in memory."""

    def __init__(self, path: Optional[Path] = None, data: Optional[bytes] = None,
                 suffix: bytes = b"", origin: str = "", page_count: Optional[int] = None):
        self.path = Path(path) if path else None
        self._data = data
        self.suffix = suffix
        self.origin = origin or (str(path) if path else "generated")
        self._sha1 = None
        self._size = None
        self._page_count = page_count

    def read(self) -> bytes:
        if self._data is not None:
            return self._data
        return _read(str(self.path)) + self.suffix

    @property
    def sha1(self) -> str:
        if self._sha1 is None:
            self._sha1 = hashlib.sha1(self.read()).hexdigest()
        return self._sha1

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = len(self.read())
        return self._size

    @property
    def page_count(self) -> Optional[int]:
        if self._page_count is None:
            data = self.read()
            found = len(re.findall(rb"/Type\s*/Page(?!s)", data))
            self._page_count = found or None
        return self._page_count


def corpus_pdf(shared_dir: Optional[Path], name: str, fallback_lines: list[str], suffix: bytes = b"") -> PdfFile:
    """``<shared>/corpus/pdfs/<name>``, or a tiny generated PDF when shared is absent."""
    if shared_dir is not None:
        path = Path(shared_dir) / "corpus" / "pdfs" / name
        if path.is_file():
            return PdfFile(path=path, suffix=suffix, origin=name, page_count=CORPUS_PAGE_COUNTS.get(name))
    if name == "empty.pdf":
        return PdfFile(data=b"", origin="generated:empty.pdf")
    return PdfFile(data=make_pdf(fallback_lines), origin="generated:" + name, page_count=1)


# --- API objects -----------------------------------------------------------------

def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace(".", "")).strip("-")[:75]


DOCKET_FIELDS = [
    "resource_uri", "id", "court", "court_id", "original_court_info", "idb_data", "clusters",
    "audio_files", "assigned_to", "referred_to", "bankruptcy_information", "absolute_url",
    "date_created", "date_modified", "source", "appeal_from_str", "assigned_to_str",
    "referred_to_str", "panel_str", "date_last_index", "date_cert_granted", "date_cert_denied",
    "date_argued", "date_reargued", "date_reargument_denied", "date_filed", "date_terminated",
    "date_last_filing", "case_name_short", "case_name", "case_name_full", "slug", "docket_number",
    "docket_number_core", "docket_number_raw", "docket_number_source", "federal_dn_office_code",
    "federal_dn_case_type", "federal_dn_judge_initials_assigned",
    "federal_dn_judge_initials_referred", "federal_defendant_number", "pacer_case_id", "cause",
    "nature_of_suit", "jury_demand", "jurisdiction_type", "appellate_fee_status",
    "appellate_case_type_information", "mdl_status", "filepath_ia", "filepath_ia_json",
    "ia_upload_failure_count", "ia_needs_upload", "ia_date_first_change", "date_blocked",
    "blocked", "appeal_from", "parent_docket", "tags", "panel",
]
_DOCKET_LISTS = {"clusters", "audio_files", "tags", "panel"}
_DOCKET_NULLS = {
    "id", "original_court_info", "idb_data", "assigned_to", "referred_to", "bankruptcy_information",
    "date_last_index", "date_cert_granted", "date_cert_denied", "date_argued", "date_reargued",
    "date_reargument_denied", "date_filed", "date_terminated", "date_last_filing",
    "federal_defendant_number", "pacer_case_id", "ia_upload_failure_count", "ia_needs_upload",
    "ia_date_first_change", "date_blocked", "appeal_from", "parent_docket", "docket_number_source",
}


def docket_object(meta: dict) -> dict:
    """A full ``dockets/`` object from the fields given (the rest defaulted)."""
    obj = {}
    for name in DOCKET_FIELDS:
        if name in _DOCKET_LISTS:
            obj[name] = []
        elif name in _DOCKET_NULLS:
            obj[name] = None
        else:
            obj[name] = ""
    obj.update({k: v for k, v in meta.items() if k in obj})
    docket_id = obj["id"]
    slug = obj["slug"] or _slugify(obj["case_name"])
    obj["slug"] = slug
    obj["resource_uri"] = API + "dockets/%d/" % docket_id
    obj["court"] = API + "courts/%s/" % obj["court_id"]
    obj["absolute_url"] = "/docket/%d/%s/" % (docket_id, slug)
    obj["source"] = meta.get("source", 1)  # RECAP
    obj["blocked"] = meta.get("blocked", False)
    if meta.get("appeal_from") and "/" not in meta["appeal_from"]:  # an id: the API's URL
        obj["appeal_from"] = API + "courts/%s/" % meta["appeal_from"]
    if isinstance(obj["original_court_info"], dict):  # nested, with its own resource_uri
        obj["original_court_info"] = dict(
            obj["original_court_info"],
            resource_uri=API + "originating-court-information/%s/"
            % obj["original_court_info"].get("id", docket_id))
    if obj["pacer_case_id"] and obj["court_id"] not in ("ca9",):
        obj["filepath_ia"] = "https://www.archive.org/download/gov.uscourts.{c}.{p}/gov.uscourts.{c}.{p}.docket.xml".format(
            c=obj["court_id"], p=obj["pacer_case_id"])
    return obj


def _at(date: str, seconds: int) -> str:
    """An ISO timestamp (Pacific time, as CourtListener writes them) on ``date``."""
    day = dt.date.fromisoformat(date)
    moment = dt.datetime(day.year, day.month, day.day, 9, 0, 0) + dt.timedelta(seconds=seconds)
    return moment.isoformat(timespec="microseconds") + "-07:00"


def storage_path(court_id: str, pacer_case_id: Optional[str], docket_number: str,
                 document_number: str, attachment_number: Optional[int]) -> str:
    """``recap/gov.uscourts.<court>.<case>/gov.uscourts.<court>.<case>.<doc>.<att>.pdf``."""
    case = pacer_case_id or docket_number
    base = "gov.uscourts.%s.%s" % (court_id, case)
    return "recap/%s/%s.%s.%s.pdf" % (base, base, document_number, attachment_number or 0)


def document_object(*, doc_id: int, docket: dict, entry_number, document_number: str,
                    attachment_number: Optional[int], description: str, pacer_doc_id: str,
                    date_filed: str, pdf: Optional[PdfFile], ocr_status=None, is_sealed=False,
                    is_free_on_pacer=False, filepath_local: Optional[str] = None, stamp: int = 0) -> dict:
    available = pdf is not None
    slug = docket["slug"]
    if entry_number is None:
        absolute_url = "/docket/%d/%s/" % (docket["id"], slug)
    elif attachment_number:
        absolute_url = "/docket/%d/%s/%s/%s/" % (docket["id"], document_number, attachment_number, slug)
    else:
        absolute_url = "/docket/%d/%s/%s/" % (docket["id"], document_number, slug)
    if available and filepath_local is None:
        filepath_local = storage_path(docket["court_id"], docket["pacer_case_id"], docket["docket_number"],
                                      document_number, attachment_number)
    return {
        "resource_uri": API + "recap-documents/%d/" % doc_id,
        "id": doc_id,
        "tags": [],
        "absolute_url": absolute_url,
        "date_created": _at(date_filed, 3600 + stamp),
        "date_modified": _at(date_filed, 7200 + stamp),
        "sha1": pdf.sha1 if available else "",
        "page_count": pdf.page_count if available else None,
        "file_size": pdf.size if available else None,
        "filepath_local": filepath_local if available else None,
        "filepath_ia": "",
        "ia_upload_failure_count": None,
        "thumbnail": None,
        "thumbnail_status": 0,
        "plain_text": "",
        "ocr_status": (ocr_status if ocr_status is not None else 2) if available else None,
        "date_upload": _at(date_filed, 3600 + stamp) if available else None,
        "document_number": document_number,
        "attachment_number": attachment_number,
        "pacer_doc_id": pacer_doc_id,
        "is_available": available,
        "is_free_on_pacer": bool(is_free_on_pacer),
        "is_sealed": bool(is_sealed),
        "document_type": 2 if attachment_number else 1,
        "description": description,
        "acms_document_guid": "",
    }


def entry_object(*, entry_id: int, docket: dict, entry_number, date_filed: str, description: str,
                 pacer_sequence_number=None, recap_sequence_number: str = "", time_filed=None,
                 documents: list[dict], stamp: int = 0) -> dict:
    return {
        "resource_uri": API + "docket-entries/%d/" % entry_id,
        "id": entry_id,
        "docket": API + "dockets/%d/" % docket["id"],
        "recap_documents": documents,
        "date_created": _at(date_filed, 3000 + stamp),
        "date_modified": _at(date_filed, 7200 + stamp),
        "date_filed": date_filed,
        "time_filed": time_filed,
        "entry_number": entry_number,
        "recap_sequence_number": recap_sequence_number,
        "pacer_sequence_number": pacer_sequence_number,
        "description": description,
        "tags": [],
    }


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=-7))).isoformat(
        timespec="microseconds")


def _later(a: str, b: str) -> str:
    return a if dt.datetime.fromisoformat(a) >= dt.datetime.fromisoformat(b) else b


@dataclass
class Case:
    """One docket with its entries (documents nested), parties, attorneys and
    the files behind its available documents (keyed by ``filepath_local``)."""

    docket: dict
    entries: list = field(default_factory=list)
    parties: list = field(default_factory=list)
    attorneys: list = field(default_factory=list)
    files: dict = field(default_factory=dict)
    next_entry_id: int = 0
    next_document_id: int = 0
    version: int = 0
    live: bool = False  # once built, additions are stamped with the current time, as on the real site
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @property
    def id(self) -> int:
        return self.docket["id"]

    def documents(self):
        for entry in self.entries:
            yield from entry["recap_documents"]

    def add_entry(self, entry_number, date_filed: str, description: str, documents=None,
                  pacer_sequence_number=None, modified: Optional[str] = None) -> dict:
        """Add a docket entry (as when the court dockets something new).

        ``documents``: a list of dicts with ``description``, optional
        ``attachment_number``, ``pacer_doc_id`` and ``pdf`` (a PdfFile, bytes,
        or None for a document that is not available); by default one main
        document with a generated PDF. The docket's ``date_modified`` and
        ``date_last_filing`` move on; ``modified`` (ISO datetime) sets the
        entry's and the docket's ``date_modified`` (default, once the case is
        built: now).
        """
        with self.lock:
            if modified is None and self.live:
                modified = _now()
            if documents is None:
                documents = [{"description": description[:60],
                              "pdf": make_pdf([description[:90], "Entry %s" % entry_number])}]
            stamp = len(self.entries)
            docs = []
            for spec in documents:
                pdf = spec.get("pdf")
                if isinstance(pdf, (bytes, bytearray)):
                    pdf = PdfFile(data=bytes(pdf), origin="added")
                doc_number = spec.get("document_number", "" if entry_number is None else str(entry_number))
                doc = document_object(
                    doc_id=self.next_document_id, docket=self.docket, entry_number=entry_number,
                    document_number=doc_number, attachment_number=spec.get("attachment_number"),
                    description=spec.get("description", ""), pacer_doc_id=spec.get("pacer_doc_id", ""),
                    date_filed=date_filed, pdf=pdf, ocr_status=spec.get("ocr_status"),
                    is_free_on_pacer=spec.get("is_free_on_pacer", False), stamp=stamp,
                    filepath_local=spec.get("filepath_local"))
                if pdf is not None and spec.get("filepath_suffix"):  # stored names may carry a suffix
                    doc["filepath_local"] = doc["filepath_local"][:-4] + spec["filepath_suffix"] + ".pdf"
                self.next_document_id += 1
                if pdf is not None:
                    self.files[doc["filepath_local"]] = pdf
                docs.append(doc)
            entry = entry_object(entry_id=self.next_entry_id, docket=self.docket, entry_number=entry_number,
                                 date_filed=date_filed, description=description,
                                 pacer_sequence_number=pacer_sequence_number, documents=docs, stamp=stamp)
            self.next_entry_id += 1
            if modified:
                for obj in [entry] + docs:
                    obj["date_modified"] = modified
                    if self.live:
                        obj["date_created"] = modified
            self.entries.append(entry)
            self.docket["date_modified"] = _later(self.docket["date_modified"], entry["date_modified"])
            last = self.docket["date_last_filing"]
            self.docket["date_last_filing"] = max(last, date_filed) if last else date_filed
            self.version += 1
            return entry

    def touch(self, entry: dict, description: Optional[str] = None, modified: Optional[str] = None) -> None:
        """Change an entry (new description) and move its ``date_modified`` on."""
        with self.lock:
            if description is not None:
                entry["description"] = description
            entry["date_modified"] = modified or _now()
            self.docket["date_modified"] = _later(self.docket["date_modified"], entry["date_modified"])
            self.version += 1


def _build_case(spec: dict, shared_dir: Optional[Path]) -> Case:
    docket = docket_object(spec["docket"])
    case = Case(docket=docket, next_entry_id=spec["entry_id_base"], next_document_id=spec["document_id_base"])
    for index, e in enumerate(spec["entries"]):
        docs = []
        for d in e["documents"]:
            pdf = None
            if d.get("pdf"):
                label = "%s No. %s" % (docket["docket_number"], e["entry_number"])
                pdf = corpus_pdf(shared_dir, d["pdf"], [docket["case_name"], label, d.get("description", "")])
            docs.append(dict(d, pdf=pdf))
        entry = case.add_entry(e["entry_number"], e["date_filed"], e["description"], documents=docs,
                               pacer_sequence_number=e.get("pacer_sequence_number"))
        entry["recap_sequence_number"] = "%s.%03d" % (e["date_filed"], index + 1)
    case.docket["date_modified"] = spec["docket"]["date_modified"]
    case.docket["date_last_filing"] = spec["docket"].get("date_last_filing", case.docket["date_last_filing"])

    attorney_ids = {}
    for n, a in enumerate(spec["attorneys"]):
        attorney_id = spec["attorney_id_base"] + n
        attorney_ids[a["name"]] = attorney_id
        case.attorneys.append({
            "resource_uri": API + "attorneys/%d/" % attorney_id,
            "id": attorney_id,
            "parties_represented": [],
            "date_created": docket["date_created"],
            "date_modified": docket["date_created"],
            "name": a["name"],
            "contact_raw": a.get("contact_raw", ""),
            "phone": a.get("phone", ""),
            "fax": a.get("fax", ""),
            "email": a.get("email", ""),
        })
    by_attorney = {a["id"]: a for a in case.attorneys}
    for n, p in enumerate(spec["parties"]):
        party_id = spec["party_id_base"] + n
        roles = []
        for link in p.get("attorneys", []):
            attorney_id = attorney_ids[link["name"]]
            for role in link["roles"]:
                roles.append({
                    "attorney": API + "attorneys/%d/" % attorney_id,
                    "attorney_id": attorney_id,
                    "date_action": None,
                    "docket": API + "dockets/%d/" % docket["id"],
                    "docket_id": docket["id"],
                    "role": role,
                })
                by_attorney[attorney_id]["parties_represented"].append({
                    "role": role,
                    "docket": API + "dockets/%d/" % docket["id"],
                    "party": API + "parties/%d/" % party_id,
                    "date_action": None,
                })
        case.parties.append({
            "resource_uri": API + "parties/%d/" % party_id,
            "id": party_id,
            "attorneys": roles,
            "party_types": [{
                "docket": API + "dockets/%d/" % docket["id"],
                "docket_id": docket["id"],
                "name": p["type"],
                "date_terminated": None,
                "extra_info": "",
                "highest_offense_level_opening": "",
                "highest_offense_level_terminated": "",
                "criminal_counts": [],
                "criminal_complaints": [],
            }],
            "date_created": docket["date_created"],
            "date_modified": docket["date_created"],
            "name": p["name"],
            "extra_info": p.get("extra_info", ""),
        })
    case.version += 1
    case.live = True
    return case


def _resolve_shared(shared_dir) -> Optional[Path]:
    base = Path(shared_dir) if shared_dir is not None else default_shared_dir()
    return base if (base / "corpus" / "pdfs").is_dir() else None


def wechat_cases(shared_dir=None) -> list[Case]:
    """[N.D. Cal. 3:20-cv-05910, 9th Cir. 20-16908], fresh copies each call."""
    spec = json.loads(WECHAT_FIXTURE.read_text(encoding="utf-8"))
    shared = _resolve_shared(shared_dir)
    return [_build_case(copy.deepcopy(d), shared) for d in spec["dockets"]]


_SYNTHETIC_KINDS = [
    ("MOTION to Compel Discovery filed by {p}. Responses due by {d}. (Attachments: # 1 Proposed Order)", "Motion to Compel"),
    ("ORDER re discovery dispute. Signed by Judge Laurel Beeler on {d}.", "Order"),
    ("DECLARATION of Jane Doe in Support of {n} filed by {p}. (Related document(s) {n})", "Declaration"),
    ("STIPULATION WITH PROPOSED ORDER to Extend Time filed by {p}.", "Stipulation"),
    ("REPLY (re {n} MOTION ) filed by {p}.", "Reply"),
    ("CLERK'S NOTICE re hearing set for {d}.", "Clerk's Notice"),
]


def synthetic_case(shared_dir=None, n_entries: int = 500, court: str = "cand", pacer_case_id: str = "900001",
                   docket_id: Optional[int] = None, unique_files: bool = True, pdfs: Optional[list[str]] = None) -> Case:
    """A generated docket of ``n_entries`` entries, each with one available main
    document whose PDF is a real corpus PDF (cycled through ``pdfs``, default
    every non-empty corpus PDF). With ``unique_files`` each stored copy gets a
    trailing PDF comment after ``%%EOF`` so every file has its own sha1."""
    shared = _resolve_shared(shared_dir)
    number = int(re.sub(r"\D", "", pacer_case_id) or 1)
    docket_id = docket_id or 50_000_000 + number
    year = 21
    docket = docket_object({
        "id": docket_id, "court_id": court,
        "case_name": "Synthetic Holdings, Inc. v. Benchmark Corp. (%s)" % pacer_case_id,
        "docket_number": "3:%d-cv-%05d" % (year, number % 100000), "pacer_case_id": pacer_case_id,
        "assigned_to_str": "Laurel Beeler", "cause": "28:1332 Diversity-Breach of Contract",
        "nature_of_suit": "190 Contract: Other", "jury_demand": "Plaintiff",
        "jurisdiction_type": "Diversity", "date_filed": "2021-01-04",
        "date_created": "2021-01-04T10:00:00.000000-08:00", "date_modified": "2021-01-04T10:00:00.000000-08:00",
    })
    case = Case(docket=docket, next_entry_id=docket_id * 100_000, next_document_id=docket_id * 100_000 + 50_000)
    names = pdfs or SYNTHETIC_PDFS
    start = dt.date(2021, 1, 4)
    for i in range(n_entries):
        number_i = i + 1
        day = (start + dt.timedelta(days=i // 3)).isoformat()
        template, short = _SYNTHETIC_KINDS[i % len(_SYNTHETIC_KINDS)]
        description = template.format(p="Synthetic Holdings, Inc.", d=day, n=max(1, number_i - 1))
        if number_i == 1:
            description, short = "COMPLAINT against Benchmark Corp. Filed by Synthetic Holdings, Inc.", "Complaint"
        name = names[i % len(names)]
        suffix = b"\n%% docket-archive synthetic copy " + str(number_i).encode() + b"\n" if unique_files else b""
        pdf = corpus_pdf(shared, name, [docket["case_name"], "Document %d" % number_i, description[:80]], suffix=suffix)
        if shared is None and unique_files:
            pdf = PdfFile(data=make_pdf([docket["case_name"], "Document %d" % number_i, description[:80]]),
                          origin="generated", page_count=1)
        entry = case.add_entry(number_i, day, description,
                               documents=[{"description": short, "pacer_doc_id": "0350%08d" % (number * 1000 + number_i),
                                           "pdf": pdf}],
                               pacer_sequence_number=number_i)
        entry["recap_sequence_number"] = "%s.%03d" % (day, i % 3 + 1)
    case.live = True
    return case
