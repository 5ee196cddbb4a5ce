"""What the local PACER's protocols share: the cases and documents it serves,
the fixtures folder, and reading a request's form fields, cookies and dates.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qsl

from ..cases import FIXTURES, PdfFile


PACER_FIXTURES = FIXTURES / "pacer"


def _normalize_doc_id(doc_id: str) -> str:
    """CM/ECF's 4th digit says "show the document itself" (1) or "the filing" (0)."""
    return doc_id[:3] + "0" + doc_id[4:] if len(doc_id) > 4 else doc_id


def _parse_date(value: str) -> Optional[dt.date]:
    value = (value or "").strip()
    for fmt in ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    return None


def _parse_body(request) -> dict:
    """Form fields of a POST body: urlencoded, multipart/form-data or JSON."""
    body = getattr(request, "body", b"") or b""
    ctype = request.headers.get("Content-Type") or ""
    if "multipart/form-data" in ctype:
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        fields = {}
        if m:
            boundary = b"--" + m.group(1).encode()
            for part in body.split(boundary):
                head, _, value = part.partition(b"\r\n\r\n")
                name = re.search(rb'name="([^"]*)"', head)
                if name:
                    fields[name.group(1).decode()] = value.rsplit(b"\r\n", 1)[0].decode("utf-8", "replace")
        return fields
    if "json" in ctype:
        try:
            data = json.loads(body.decode("utf-8") or "{}")
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _cookies(request) -> dict:
    out = {}
    for header in request.headers.get_all("Cookie") or []:
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                out[name] = value
    return out


# --- data ---------------------------------------------------------------------------
@dataclass
class Document:
    court: str
    case_id: str
    doc_id: str  # normalized (4th digit 0)
    description: str = ""
    docket_number: str = ""
    pdf: Optional[PdfFile] = None
    transcript: bool = False
    free: bool = False
    attachments: list = field(default_factory=list)  # [(number, description, Document)]
    attachment_page: Optional[Path] = None  # a real corpus attachment page
    entry_number: str = ""
    seq: str = ""

    @property
    def kind(self) -> str:
        """What the ledger calls buying it: "document" (a free opinion too, at cost 0)
        or "transcript" (uncapped)."""
        return "transcript" if self.transcript else "document"


@dataclass
class DistrictCase:
    court: str
    case_id: str
    docket_number: str
    title: str
    source: Optional[Path]
    html: Optional[str] = None  # loaded lazily; added entries are appended to it
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def text(self) -> str:
        with self.lock:
            if self.html is None:
                self.html = self.source.read_bytes().decode("utf-8", "replace")
            return self.html


@dataclass
class AppellateCase:
    court: str
    docket_number: str
    source: Path


@dataclass
class AcmsCase:
    court: str
    case_id: str  # GUID
    docket_number: str
    data: dict
