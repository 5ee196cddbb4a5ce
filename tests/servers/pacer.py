"""A local PACER for the PACER spiders' tests: central login (cso-auth), the
district CM/ECF pages (possible case numbers, docket report form and report,
documents behind purchase confirmation pages, attachment pages, RSS), the
Ninth Circuit's CM/ECF (CaseSummary.jsp, ShowDoc) and its ACMS (the 2025
sign-in: SAML hand-off, ``.AspNetCore.saml2`` cookies, the bearer token in
``/Home/IndexContent``; then a JSON API with that token). Standard library only.

    with PacerServer() as pacer:
        pacer.settings()   # PACER_LOGIN_URL, PACER_ECF_URL_TEMPLATE, PACER_ACMS_URL_TEMPLATE, ...
        pacer.login_url    # http://127.0.0.1:PORT/services/cso-auth
        pacer.ecf_url("cand")  # http://127.0.0.1:PORT/ecf/cand/  (https://ecf.cand.uscourts.gov/)
        pacer.charges      # what PACER billed: [{what, court, case, pages, cost}, ...]

URL layout (one port stands for every host):

- ``/services/cso-auth``: pacer.login.uscourts.gov's login service.
- ``/ecf/<court>/...``: ``https://ecf.<court>.uscourts.gov/...``.
- ``/acms/<court>/...``: ``https://<court>-showdoc.azurewebsites.us/...``.
- ``/acms-api/<court>/api/...``: ``https://<court>-showdocservices.azurewebsites.us/api/...``.

ACMS sign-in, as the real one since 2025 (``/acms/<court>/``):

- ``GET /`` (any page but the two below) with a valid PACER session cookie:
  an auto-submitting form with hidden ``SAMLResponse`` and ``RelayState``;
  without one, PACER's login form.
- ``POST /Saml2/Acs``: a valid, unused ``SAMLResponse`` issued for this court
  sets the session cookies ``.AspNetCore.saml2`` (``chunks-2``),
  ``.AspNetCore.saml2C1``, ``.AspNetCore.saml2C2`` and Azure's ``ARRAffinity``
  and ``ARRAffinitySameSite`` (``acms_acs_redirect``: answered 303 to the
  RelayState, else 200). A rejected one (``acms_reject_saml`` rejects all):
  200 with ACMS's sign-in page and the ARRAffinity cookies only.
- ``GET /Home/IndexContent`` with the session cookies (all chunks): the web
  app's content, whose ``showDocViewModel`` script object holds
  ``AuthToken.Token`` and ``PacerUser`` (``CsoId``, ``ContactType``...);
  without them 401.
- The API wants ``Authorization: Bearer <Token>``, of this court; a token
  lives ``acms_token_ttl`` seconds (its ``AuthToken.Expiration``) and answers
  ``acms_token_uses`` calls (None: any number), then 401, as an expired one;
  ``expire_acms_tokens()`` expires them all.

Pages served are the real ones in ``<shared>/corpus/pacer/`` (district
and bankruptcy dockets, appellate dockets, ACMS JSON, attachment pages, confirmation pages,
possible case numbers, RSS) plus the hand-written ``tests/fixtures/pacer/``
(the WeChat case, cand 364733 and ca9 20-16908, whose documents are the same
files the local CourtListener serves). Absolute links to
``https://ecf.<court>.uscourts.gov/`` in served HTML are rewritten to this
server. Without ``../shared`` the fixtures and small self-made pages still work.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import math
import re
import secrets
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qsl, quote, unquote

from .base import Failures, LocalServer, Request, RequestLog, Response, ServerLifecycle
from .cases import FIXTURES, SYNTHETIC_PDFS, PdfFile, _resolve_shared, corpus_pdf, make_pdf, wechat_cases

PACER_FIXTURES = FIXTURES / "pacer"

# --- PACER's fee rules ---------------------------------------------------------------
PAGE_FEE = 0.10
PAGE_CAP = 30
BYTES_PER_PAGE = 4320


def report_pages(n_bytes: int) -> int:
    """Billable pages of an HTML report of ``n_bytes`` (4,320 bytes a page, capped at 30)."""
    return min(PAGE_CAP, max(1, math.ceil(n_bytes / BYTES_PER_PAGE)))


def document_pages(page_count: int, transcript: bool = False) -> int:
    """Billable pages of a document (30-page cap, except transcripts)."""
    pages = max(1, int(page_count or 1))
    return pages if transcript else min(PAGE_CAP, pages)


def cost_of(pages: int) -> float:
    return round(pages * PAGE_FEE, 2)


# --- messages PACER's login service answers with ---------------------------------------
BAD_LOGIN = "Login Failed. Invalid username or password."
MFA_REQUIRED = ("Login Failed. This account has multi-factor authentication enabled: "
                "enter the one-time passcode from your authentication app.")
BAD_OTP = "Login Failed. Invalid one-time passcode."
CHANGE_PASSWORD = "Password change required. Please log in to PACER to update your password."
PENDING_ACTIONS = "You have pending account actions. Please review your account at pacer.uscourts.gov."


def _normalize_doc_id(doc_id: str) -> str:
    """CM/ECF's 4th digit says "show the document itself" (1) or "the filing" (0)."""
    return doc_id[:3] + "0" + doc_id[4:] if len(doc_id) > 4 else doc_id


def _strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("\xa0", " ").strip()


def _parse_date(value: str) -> Optional[dt.date]:
    value = (value or "").strip()
    for fmt in ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    return None


def _docket_key(number: str) -> Optional[tuple]:
    """(office, yy, type, number) of a district docket number, parts may be None.
    Accepts 3:20-cv-05910-LB, 3:20-cv-5910, 20-05910, 2005910, 1203879."""
    number = (number or "").strip().lower()
    m = re.match(r"^(?:(\d):)?(\d{2})-?([a-z]{1,3})?-?(\d{1,5})(?:-.*)?$", number)
    if not m:
        return None
    office, yy, kind, num = m.groups()
    return office, yy, kind, int(num)


def _keys_match(query: tuple, case: tuple) -> bool:
    return (query[1] == case[1] and query[3] == case[3]
            and (query[0] is None or case[0] is None or query[0] == case[0])
            and (query[2] is None or case[2] is None or query[2] == case[2]))


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


class PacerServer(ServerLifecycle):
    """A local PACER. ``username``/``password``: the account that logs in;
    ``mfa``: it needs a one-time code (``otp_code``); ``client_code``: if set,
    logins must send it. More accounts: ``add_account``.

    ``charges``: PACER's own ledger of what it billed (list of dicts: what,
    court, case, pages, cost); ``total_cost()`` sums it.
    """

    def __init__(self, shared_dir=None, username: str = "user", password: str = "pass", mfa: bool = False,
                 otp_code: str = "123456", client_code: Optional[str] = None, host: str = "127.0.0.1",
                 port: int = 0, rewrite_links: bool = True):
        self.shared = _resolve_shared(shared_dir)
        self.corpus = self.shared / "corpus" / "pacer" if self.shared is not None else None
        self.log = RequestLog()
        self.failures = Failures()
        self.charges: list[dict] = []
        self.rewrite_links = rewrite_links
        self._lock = threading.RLock()
        self.accounts: dict[str, dict] = {}
        self.add_account(username, password, mfa=mfa, otp_code=otp_code, client_code=client_code)
        self.sessions: dict[str, str] = {}  # token -> username
        self.acms_tokens: dict[str, dict] = {}  # AuthToken.Token -> {user, court, uses}
        self.acms_sessions: dict[str, dict] = {}  # .AspNetCore.saml2 value -> {user, court}
        self.acms_affinity: list[str] = []  # ARRAffinity values handed out
        self._saml: dict[str, tuple] = {}  # SAMLResponse -> (username, court)
        self.saml_responses: list[str] = []  # every SAMLResponse issued (for secret checks)
        self.acms_reject_saml = False  # /Saml2/Acs rejects every SAMLResponse
        self.acms_acs_redirect = False  # a good sign-in answers 303 to the RelayState (else 200)
        self.acms_token_uses: Optional[int] = None  # API calls a token answers before it expires
        self.acms_token_ttl = 3600.0  # seconds a token lives (its AuthToken.Expiration)
        self.acms_tokens_issued: list[str] = []  # every token handed out, expired ones too
        self.district: dict[tuple, DistrictCase] = {}
        self.appellate: dict[tuple, AppellateCase] = {}
        self.acms: dict[tuple, AcmsCase] = {}
        self.acms_entry_docs: dict[str, list] = {}  # entry GUID -> its documents (web app names)
        self.acms_doc_index: dict[str, dict] = {}  # document GUID -> case, entry, doc, pdf
        self.acms_merges: dict[str, dict] = {}  # MergePDFFiles instance id -> state
        self.acms_merged: dict[str, dict] = {}  # merged file GUID -> pdf
        self.acms_merge_polls = 1  # status answers "Running" this many times before "Completed"
        # seconds a purchase (document, docket report) takes before PACER answers; a
        # purchase whose client has gone by then is not billed, as PACER bills what it serves
        self.purchase_delay = 0.0
        self.documents: dict[tuple, Document] = {}  # (court, normalized doc id) -> Document
        # pages that are not dockets, answered in place of a report: (court, case id or number) -> path
        self.not_dockets: dict[tuple, Path] = {}
        self.added: list[dict] = []  # entries added at runtime (also fed to RSS)
        # an RSS item's <guid>: "entry" the case's link and the entry's sequence
        # number (DktRpt.pl?CASE&SEQ, as nysd's), "case" the case's link only (as
        # many district feeds: every item of a case has the same guid)
        self.rss_guid = "entry"
        self._pool = None
        self._load()
        self._server = LocalServer(self._answer, self._kind, self.log, host, port)

    # -- URLs and settings --
    @property
    def login_url(self) -> str:
        return self.base_url + "services/cso-auth"

    def ecf_url(self, court: str) -> str:
        return "%secf/%s/" % (self.base_url, court)

    @property
    def acms_url(self) -> str:
        return self.acms_url_for("ca9")

    @property
    def acms_api_url(self) -> str:
        return self.acms_api_url_for("ca9")

    def acms_url_for(self, court: str) -> str:
        return "%sacms/%s/" % (self.base_url, court)

    def acms_api_url_for(self, court: str) -> str:
        return "%sacms-api/%s/api/" % (self.base_url, court)

    def settings(self) -> dict:
        return {
            "PACER_LOGIN_URL": self.login_url,
            "PACER_ECF_URL_TEMPLATE": self.base_url + "ecf/{court}/",
            "PACER_ACMS_URL_TEMPLATE": self.base_url + "acms/{court}/",
            "PACER_ACMS_API_URL_TEMPLATE": self.base_url + "acms-api/{court}/api/",
        }

    def scrapy_args(self) -> list:
        out = []
        for name, value in self.settings().items():
            out += ["-s", "%s=%s" % (name, value)]
        return out

    # -- accounts and sessions --
    def add_account(self, username: str, password: str, mfa: bool = False, otp_code: str = "123456",
                    client_code: Optional[str] = None, state: str = "ok") -> None:
        """``state``: "ok", "pending" (logged in, with pending account actions)
        or "change_password" (loginResult 0 with a message and no token: a failure)."""
        self.accounts[username] = {"password": password, "mfa": mfa, "otp_code": otp_code,
                                   "client_code": client_code, "state": state}

    def expire_sessions(self) -> None:
        """Forget every session (as when PACER times one out): pages answer the login form;
        ACMS's cookie sessions and tokens go too."""
        with self._lock:
            self.sessions.clear()
            self.acms_tokens.clear()
            self.acms_sessions.clear()

    def expire_pacer_sessions(self) -> None:
        """Forget PACER's sessions only (ACMS's own cookie session and token stay)."""
        with self._lock:
            self.sessions.clear()

    def expire_acms_tokens(self) -> None:
        """Every ACMS bearer token expires (the API answers 401); the cookie sessions
        stay, so /Home/IndexContent hands out a new one."""
        with self._lock:
            self.acms_tokens.clear()

    def acms_secrets(self) -> list[str]:
        """Every ACMS secret handed out: SAMLResponses, session cookie values and
        their chunks, ARRAffinity values, bearer tokens."""
        with self._lock:
            out = list(self.saml_responses) + list(self.acms_tokens) + list(self.acms_affinity)
            for value in self.acms_sessions:
                out += [value] + list(_chunks(value))
            out += list(self.acms_tokens_issued)
        return out

    @staticmethod
    def cso_id(user: str) -> int:
        """The PACER account's CsoId (stable per user name)."""
        return int(hashlib.md5(user.encode()).hexdigest()[:7], 16) % 10 ** 7

    def total_cost(self) -> float:
        return round(sum(c["cost"] for c in self.charges), 2)

    def _charge(self, what: str, court: str, case: str, pages: int, cost: float, **extra) -> None:
        with self._lock:
            self.charges.append(dict({"what": what, "court": court, "case": case, "pages": pages,
                                      "cost": cost}, **extra))

    # -- loading --
    def _load(self) -> None:
        c = self.corpus
        if c is not None:
            # bankruptcy courts' docket reports are DktRpt.pl pages like district ones
            for folder in ("district", "bankruptcy"):
                for path in sorted((c / folder).glob("*.html")):
                    self._index_district(path)
            for path in sorted((c / "appellate").glob("*.html")):
                ref = self._reference(path)
                court = path.name.split("_")[0].split(".")[0]
                if ref.get("docket_number"):
                    self.appellate.setdefault((court, ref["docket_number"]), AppellateCase(court, ref["docket_number"], path))
            for path in sorted((c / "acms").glob("*.acms_json")):
                data = json.loads(path.read_text(encoding="utf-8"))
                details = data.get("caseDetails") or {}
                court = path.name.split("_")[0]
                if details.get("caseId"):
                    self.acms[(court, details["caseId"])] = AcmsCase(court, details["caseId"],
                                                                     details.get("caseNumber", ""), data)
            for folder in ("not_dockets", "not_appellate_dockets"):
                for path in sorted((c / folder).glob("*.html")):
                    m = re.match(r"([a-z0-9]+)_([0-9][0-9-]*[0-9])(?:_\d)?\.html$", path.name)
                    if m:
                        self.not_dockets.setdefault((m.group(1), m.group(2)), path)
            for path in sorted((c / "attachment_pages").glob("*.html")):
                m = re.match(r"([a-z0-9]+)_(\d+)\.html$", path.name)
                if not m:
                    continue
                court, doc_id = m.groups()
                ref = self._reference(path)
                doc = self._document(court, doc_id, case_id=str(ref.get("pacer_case_id") or ""))
                doc.attachment_page = path
                doc.entry_number = str(ref.get("document_number") or "")
                for att in ref.get("attachments") or []:
                    if att.get("pacer_doc_id"):
                        self._document(court, att["pacer_doc_id"], case_id=doc.case_id,
                                       description=att.get("description") or "")
        for path in sorted(PACER_FIXTURES.glob("*.html")):
            m = re.match(r"(ca\d+|cadc|cafc)_(\d\d-\d+)\.html$", path.name)
            if m:
                self.appellate[(m.group(1), m.group(2))] = AppellateCase(m.group(1), m.group(2), path)
                continue
            m = re.match(r"([a-z0-9]+)_(\d+)\.html$", path.name)
            if m:
                self._index_district(path, case_id=m.group(2))
        self._load_wechat_documents()

    @staticmethod
    def _reference(path: Path) -> dict:
        ref = path.with_suffix(".json")
        try:
            return json.loads(ref.read_text(encoding="utf-8")) if ref.is_file() else {}
        except ValueError:
            return {}

    def _index_district(self, path: Path, case_id: Optional[str] = None) -> None:
        text = path.read_bytes().decode("utf-8", "replace")
        if "Date Filed" not in text and "Docket Text" not in text:
            return
        ref = self._reference(path)
        court = ref.get("court_id") or path.name.split("_")[0].split(".")[0]
        if not case_id:
            found = re.findall(r"goDLS\('[^']*','(\d+)'", text)
            m = re.match(r"[a-z0-9]+_(\d{4,})\.html$", path.name)
            if found:
                case_id = max(set(found), key=found.count)
            elif m:
                case_id = m.group(1)
            else:
                case_id = str(900000 + zlib.crc32(path.name.encode()) % 90000)
        number = ref.get("docket_number")
        if not number:
            m = re.search(r"DOCKET FOR CASE #:\s*([0-9]:\d\d-[a-z]{2,3}-\d+(?:-[A-Z]+)*)", text)
            number = m.group(1) if m else ""
        title = ref.get("case_name") or ""
        if not title:
            m = re.search(r'<td width="60%" valign="top"><br>([^<]+)<br>', text)
            title = html.unescape(m.group(1)).strip() if m else ""
        # the hand-written fixtures win over corpus pages with the same id
        self.district[(court, case_id)] = DistrictCase(court, case_id, number, title, path)

    def _load_wechat_documents(self) -> None:
        for case in wechat_cases(self.shared):
            court = case.docket["court_id"]
            case_id = str(case.docket.get("pacer_case_id") or case.docket["docket_number"])
            for entry in case.entries:
                docs = entry["recap_documents"]
                mains = [d for d in docs if d.get("document_type") == 1 and d.get("pacer_doc_id")]
                for d in docs:
                    if not d.get("pacer_doc_id"):
                        continue
                    pdf = case.files.get(d.get("filepath_local") or "")
                    if pdf is None:
                        label = "%s No. %s" % (case.docket["docket_number"], entry["entry_number"])
                        pdf = PdfFile(data=make_pdf([case.docket["case_name"], label, d.get("description", "")]),
                                      origin="generated", page_count=1)
                    doc = self._document(court, d["pacer_doc_id"], case_id=case_id,
                                         description=d.get("description") or "", pdf=pdf)
                    doc.docket_number = case.docket.get("docket_number_raw") or case.docket["docket_number"]
                    doc.free = bool(d.get("is_free_on_pacer"))
                    doc.entry_number = str(entry["entry_number"] or "")
                    doc.seq = str(entry.get("pacer_sequence_number") or "")
                if mains:
                    main = self.documents[(court, _normalize_doc_id(mains[0]["pacer_doc_id"]))]
                    for d in docs:
                        if d.get("document_type") == 2 and d.get("pacer_doc_id"):
                            att = self.documents[(court, _normalize_doc_id(d["pacer_doc_id"]))]
                            main.attachments.append((d.get("attachment_number"), d.get("description") or "", att))

    def pool(self) -> list[PdfFile]:
        if self._pool is None:
            self._pool = [corpus_pdf(self.shared, n, ["PACER document", n]) for n in SYNTHETIC_PDFS]
        return self._pool

    def _document(self, court: str, doc_id: str, case_id: str = "", description: str = "",
                  pdf: Optional[PdfFile] = None) -> Document:
        key = (court, _normalize_doc_id(doc_id))
        with self._lock:
            doc = self.documents.get(key)
            if doc is None:
                doc = Document(court, case_id, key[1], description)
                self.documents[key] = doc
            if case_id and not doc.case_id:
                doc.case_id = case_id
            if description and not doc.description:
                doc.description = description
            if pdf is not None:
                doc.pdf = pdf
            return doc

    def document(self, court: str, doc_id: str) -> Document:
        """The document behind ``doc1/<doc_id>``: any id is served (a real corpus
        PDF picked by the id's hash when nothing else is known about it)."""
        doc = self._document(court, doc_id)
        if doc.pdf is None:
            if self.shared is None:
                doc.pdf = PdfFile(data=make_pdf(["PACER %s document %s" % (court, doc_id)]),
                                  origin="generated", page_count=1)
            else:
                pool = self.pool()
                doc.pdf = pool[zlib.crc32(doc.doc_id.encode()) % len(pool)]
        if not doc.case_id:
            for case in self.district.values():
                if case.court == court and case.source and doc_id[4:] in case.text():
                    doc.case_id = case.case_id
                    doc.docket_number = doc.docket_number or case.docket_number
                    break
        return doc

    # -- tests change the world --
    def add_entry(self, court: str, case_id: str, number, date: str, description: str,
                  doc_id: Optional[str] = None, pdf=None, page_count: Optional[int] = None,
                  transcript: bool = False, published: Optional[dt.datetime] = None,
                  events: Optional[list] = None) -> dict:
        """Docket a new entry (appended to the case's docket report; also in RSS).

        RSS: ``published`` its pubDate (default now); ``events`` the event names
        it was entered under, one feed item each (default: the description's
        first 60 characters), as CM/ECF announces a multi-event entry.

        ``date``: YYYY-MM-DD or MM/DD/YYYY. ``doc_id``: its document's pacer_doc_id
        (None: an entry without a document); ``pdf``: bytes, a PdfFile or None
        (a generated one-page PDF)."""
        case = self.district[(court, str(case_id))]
        day = _parse_date(date)
        if day is None:
            raise ValueError("bad date %r" % date)
        mdy = day.strftime("%m/%d/%Y")
        seq = str(900 + len(self.added))
        if doc_id:
            if isinstance(pdf, (bytes, bytearray)):
                pdf = PdfFile(data=bytes(pdf), origin="added", page_count=page_count)
            elif pdf is None:
                pdf = PdfFile(data=make_pdf([description[:90], "Entry %s" % number]), origin="added",
                              page_count=page_count or 1)
            doc = self._document(court, doc_id, case_id=str(case_id), description=description[:60], pdf=pdf)
            doc.transcript = transcript
            doc.docket_number = case.docket_number
            doc.entry_number = str(number or "")
            doc.seq = seq
            numcell = ('<a href="https://ecf.%s.uscourts.gov/doc1/%s" onclick="goDLS(\'/doc1/%s\',\'%s\',\'%s\','
                       '\'\',\'\',\'1\',\'\',\'\');return(false);">%s</a>'
                       % (court, doc_id, doc_id, case_id, seq, number))
        else:
            numcell = "" if number is None else str(number)
        row = ('<tr><td width="94" valign="top" nowrap="nowrap">%s</td><td style="white-space:nowrap" valign="top" '
               'align="right">%s&nbsp;</td><td valign="top">%s (Entered: %s)</td></tr>\n'
               % (mdy, numcell, html.escape(description, quote=False), mdy))
        with case.lock:
            text = case.text()
            span = self._entries_span(text)
            if span is None:
                raise ValueError("no docket entries table in %s" % case.source)
            case.html = text[:span[1]] + row + text[span[1]:]
        record = {"court": court, "case_id": str(case_id), "number": number, "date": day.isoformat(),
                  "description": description, "doc_id": doc_id, "docket_number": case.docket_number,
                  "title": case.title, "added_at": published or dt.datetime.now(dt.timezone.utc),
                  "seq": seq, "events": list(events or [description[:60]])}
        with self._lock:
            self.added.append(record)
        return record

    # -- district pages --
    @staticmethod
    def _entries_span(text: str) -> Optional[tuple]:
        """(start, end) of the docket entry rows (after the header row, before
        ``</table>``) of a CM/ECF docket report."""
        for m in re.finditer(r"<t[dh][^>]*>\s*(?:<[^>]+>\s*)*Date Filed", text, re.I):
            head_end = text.find("</tr>", m.end())
            if head_end < 0:
                continue
            header = text[m.start():head_end]
            if "Docket Text" not in header and "#" not in header:
                continue
            start = head_end + len("</tr>")
            end = text.lower().find("</table>", start)
            if end > start:
                return start, end
        return None

    @staticmethod
    def _row_fields(row: str) -> tuple:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S | re.I)
        filed = entered = None
        number = None
        if cells:
            m = re.search(r"\d\d?/\d\d?/\d{4}", _strip_tags(cells[0]))
            filed = _parse_date(m.group(0)) if m else None
        if len(cells) > 1:
            m = re.match(r"^\s*(\d+)\s*$", _strip_tags(cells[1]))
            number = int(m.group(1)) if m else None
        m = re.search(r"Entered:\s*(\d\d?/\d\d?/\d{4})", row)
        entered = _parse_date(m.group(1)) if m else filed
        return filed, entered, number

    def filter_report(self, text: str, fields: dict) -> str:
        """Keep only the entry rows the report form asked for: ``date_from`` /
        ``date_to`` (filed, or entered when ``date_range_type`` is Entered) and
        ``documents_numbered_from_`` / ``documents_numbered_to_`` (inclusive; as
        on PACER, unnumbered entries drop out of a number range)."""
        date_from = _parse_date(fields.get("date_from", ""))
        date_to = _parse_date(fields.get("date_to", ""))
        by_entered = (fields.get("date_range_type") or "").lower().startswith("entered")
        num_from = fields.get("documents_numbered_from_", "").strip()
        num_to = fields.get("documents_numbered_to_", "").strip()
        num_from = int(num_from) if num_from.isdigit() else None
        num_to = int(num_to) if num_to.isdigit() else None
        if not any(v is not None for v in (date_from, date_to, num_from, num_to)):
            return text
        span = self._entries_span(text)
        if span is None:
            return text
        body = text[span[0]:span[1]]
        kept = []
        for row in re.findall(r"<tr.*?</tr>\s*", body, re.S | re.I):
            filed, entered, number = self._row_fields(row)
            day = entered if by_entered else filed
            if date_from and (day is None or day < date_from):
                continue
            if date_to and (day is None or day > date_to):
                continue
            if num_from is not None or num_to is not None:
                if number is None:
                    continue
                if num_from is not None and number < num_from:
                    continue
                if num_to is not None and number > num_to:
                    continue
            kept.append(row)
        if not kept:
            return (text[:text.rfind("<table", 0, span[0])]
                    + "<b>There are no documents in this case that match the selection criteria.</b>"
                    + text[span[1] + len("</table>"):])
        return text[:span[0]] + "\n" + "".join(kept) + text[span[1]:]

    @staticmethod
    def filter_appellate(text: str, date_from: str = "", date_to: str = "") -> str:
        """Keep only the appellate docket entries filed from ``date_from`` to
        ``date_to`` (MM/DD/YYYY, inclusive; the CaseSummary.jsp ``dateFrom`` /
        ``dateTo`` parameters)."""
        start, end = _parse_date(date_from), _parse_date(date_to)
        if start is None and end is None:
            return text
        at = text.find("NEW SECTION - DOCKET ENTRIES")
        if at < 0:
            return text

        def keep(match):
            m = re.match(r"(?:<!--[^>]*-->\s*)?<tr><td valign=top>(\d\d/\d\d/\d{4})</td>", match.group(0), re.I)
            day = _parse_date(m.group(1)) if m else None
            if day is None:
                return match.group(0)
            if (start and day < start) or (end and day > end):
                return ""
            return match.group(0)

        rows = re.compile(r"(?:<!--[^>]*-->\s*)?<tr><td valign=top>\d\d/\d\d/\d{4}</td>.*?</tr>\s*", re.S | re.I)
        return text[:at] + rows.sub(keep, text[at:])

    def _localize(self, text: str, court: Optional[str] = None) -> str:
        if not self.rewrite_links:
            return text
        return re.sub(r"https?://ecf\.([a-z0-9]+)\.uscourts\.gov/",
                      lambda m: self.ecf_url(m.group(1)), text)

    # -- HTTP --
    @staticmethod
    def _kind(request: Request) -> str:
        p = request.path
        if p.startswith("/services/cso-auth"):
            return "login"
        if "possible_case_numbers" in p:
            return "possible_case_numbers"
        if "DktRpt.pl" in p:
            return "docket_report" if request.method == "POST" else "report_form"
        if "/doc1/" in p:
            return "document" if request.method == "POST" else "doc1"
        if "/docs1/" in p:
            return "appellate_document" if request.method == "POST" else "appellate_confirmation"
        if "rss_outside" in p:
            return "rss"
        if "TransportRoom" in p:
            servlet = request.query.get("servlet", "")
            if servlet.startswith(("CaseSummary", "DocketReport")):
                return "appellate_docket"
            return "appellate_document" if request.method == "POST" else "appellate_confirmation"
        if p.startswith("/acms-api/"):
            if "/runtime/" in p:
                return "acms_merge_status"
            if p.endswith("/MergePDFFiles"):
                return "acms_merge"
            if p.endswith("/GetMergedFile"):
                return "acms_file"
            if "/DocketEntryDocumentsByDocketId/" in p:
                return "acms_documents"
            return "acms_api"
        if p.startswith("/acms/") or p.startswith("/Saml2/"):
            if "/Saml2/" in p:
                return "acms_saml"
            if p.endswith("/Home/IndexContent"):
                return "acms_index"
            return "acms"
        return "other"

    def _answer(self, request: Request) -> Response:
        failed = self.failures.answer(request, "<html><body><h1>Error %d</h1></body></html>")
        if failed:
            return failed
        parts = [unquote(p) for p in request.path.split("/") if p]
        if parts[:2] == ["services", "cso-auth"]:
            return self._login(request)
        if len(parts) >= 2 and parts[0] == "ecf":
            return self._ecf(request, parts[1], parts[2:])
        if len(parts) >= 2 and parts[0] == "acms":
            return self._acms(request, parts[1], parts[2:])
        if parts[:2] == ["Saml2", "Acs"]:  # a client that posts to the root of the showdoc host
            return self._acms(request, "ca9", parts)
        if len(parts) >= 3 and parts[0] == "acms-api" and parts[2] == "api":
            return self._acms_api(request, parts[1], parts[3:])
        if len(parts) >= 3 and parts[0] == "acms-api" and parts[2] == "runtime":
            return self._acms_runtime(request, parts[1], parts[3:])
        return Response.text("<html><body><h1>Not Found</h1></body></html>", 404)

    # login
    def _login(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.text("Method not allowed", 405)
        data = _parse_body(request)
        username = str(data.get("loginId") or "")
        account = self.accounts.get(username)

        def fail(message):
            return Response.json({"loginResult": "1", "errorDescription": message})

        if account is None or str(data.get("password") or "") != account["password"]:
            return fail(BAD_LOGIN)
        if account["mfa"]:
            otp = str(data.get("otpCode") or "")
            if not otp:
                return fail(MFA_REQUIRED)
            if otp != account["otp_code"]:
                return fail(BAD_OTP)
        if account["client_code"] and data.get("clientCode") != account["client_code"]:
            return fail("A valid client code is required for this account.")
        if account["state"] == "change_password":
            return Response.json({"loginResult": "0", "errorDescription": CHANGE_PASSWORD})
        token = secrets.token_hex(64)
        with self._lock:
            self.sessions[token] = username
        body = {"nameFirst": "Test", "nameLast": "User", "nameMiddle": "", "loginResult": "0",
                "nextGenCSO": token, "errorDescription": "", "redactFlag": "1"}
        if account["state"] == "pending":
            body["errorDescription"] = PENDING_ACTIONS
        cookies = ["NextGenCSO=%s; Path=/; HttpOnly" % token, "PacerSession=%s; Path=/; HttpOnly" % token]
        if data.get("clientCode"):
            cookies.append("PacerClientCode=%s; Path=/" % quote(str(data["clientCode"])))
        return Response.json(body, headers={"Set-Cookie": cookies})

    def session_user(self, request: Request) -> Optional[str]:
        cookies = _cookies(request)
        for name in ("NextGenCSO", "PacerSession"):
            user = self.sessions.get(cookies.get(name, ""))
            if user:
                return user
        return None

    def login_page(self) -> Response:
        """What PACER shows in place of a page asked for without a session (status 200)."""
        text = (PACER_FIXTURES / "login.html").read_text(encoding="utf-8")
        return Response.text(text, 200)

    # district and appellate CM/ECF
    def _ecf(self, request: Request, court: str, parts: list) -> Response:
        path = "/".join(parts)
        if path == "cgi-bin/rss_outside.pl":
            return self._rss(court)
        user = self.session_user(request)
        if user is None:
            return self.login_page()
        if path == "cgi-bin/possible_case_numbers.pl":
            return self._possible(court, unquote(request.query_string))
        if path == "cgi-bin/DktRpt.pl":
            if request.method == "POST":
                return self._report(request, court, user)
            return self._report_form(court, request.query_string)
        if len(parts) == 2 and parts[0] == "doc1" and parts[1].isdigit():
            return self._doc1(request, court, parts[1], user)
        if path == "n/beam/servlet/TransportRoom":
            return self._transport_room(request, court, user)
        if len(parts) == 2 and parts[0] == "docs1" and parts[1].isdigit():
            return self._appellate_document(request, court, parts[1], user, request.query.get("caseid", ""))
        return Response.text(self._error_page(court, "Error: the page you requested does not exist."), 404)

    def _error_page(self, court: str, message: str) -> str:
        return ("<html><head><title>CM/ECF - %s</title></head><body><div id=\"cmecfMainContent\">"
                "<b>%s</b><p><input type=\"button\" value=\"Back\" onclick=\"history.back()\"></p></div>"
                "</body></html>" % (court, html.escape(message)))

    def _possible(self, court: str, query: str) -> Response:
        query = query.strip()
        key = _docket_key(query)
        xml = None
        if self.corpus is not None:
            for path in sorted((self.corpus / "possible_case_numbers").glob("*.xml")):
                text = path.read_text(encoding="utf-8")
                m = re.search(r"<request number=[\"']([^\"']+)", text)
                if m and key is not None and _docket_key(m.group(1)) == key and path.name != "no_results.xml":
                    xml = text
                    break
        if xml is None and key is not None:
            found = []
            for case in self.district.values():
                ck = _docket_key(case.docket_number)
                if case.court == court and ck and _keys_match(key, ck):
                    found.append(case)
            if found:
                rows = []
                for case in found:
                    office, yy, kind, num = _docket_key(case.docket_number)
                    short = "%s:%s-%s-%d" % (office, yy, kind, num)
                    full = "%s:%s-%s-%05d" % (office, yy, kind, num)
                    suffix = re.sub(r"^\d:\d\d-[a-z]+-\d+", "", case.docket_number)
                    rows.append('    <case number="%s" id="%s"\n          title="%s%s %s"\n          sortable="%s:20%s-%s-%05d%s"/>'
                                % (short, case.case_id, html.escape(full), suffix, html.escape(case.title, quote=True),
                                   office, yy, kind, num, suffix))
                xml = '<request number="%s">\n%s\n</request>\n' % (html.escape(query), "\n".join(rows))
        if xml is None:
            xml = '<request number="%s">\n    <message text="Cannot find case %s"/>\n</request>\n' % (
                html.escape(query), html.escape(query))
        return Response.text(xml, 200, content_type="text/xml")

    def _report_form(self, court: str, query: str) -> Response:
        case_id = query.split("&")[0]
        case = self.district.get((court, case_id))
        if case is None:
            return Response.text(self._error_page(court, "Error: case %s not found." % case_id))
        text = (PACER_FIXTURES / "report_form.html").read_text(encoding="utf-8")
        text = (text.replace("@@COURT@@", court).replace("@@CASE_ID@@", case_id)
                .replace("@@DOCKET_NUMBER@@", html.escape(case.docket_number))
                .replace("@@TITLE@@", html.escape(case.title)))
        return Response.text(text)

    def _report(self, request: Request, court: str, user: str) -> Response:
        fields = _parse_body(request)
        case_id = (fields.get("all_case_ids") or fields.get("case_id") or "").strip()
        case = self.district.get((court, case_id))
        if case is None:
            odd = self.not_dockets.get((court, case_id))
            if odd is not None:  # PACER answered something that is not a docket (not billed)
                return Response.text(self._localize(odd.read_bytes().decode("utf-8", "replace"), court))
            return Response.text(self._error_page(court, "Error: case %s not found." % case_id))
        body = self._localize(self.filter_report(case.text(), fields), court)
        pages = report_pages(len(body.encode("utf-8")))
        for _ in range(5):  # the receipt states the bill of the page that carries it
            text = self._receipt(body, user, pages, cost_of(pages))
            actual = report_pages(len(text.encode("utf-8")))
            if actual == pages:
                break
            pages = actual
        n_bytes = len(text.encode("utf-8"))
        if not self._still_wanted(request):
            return Response.text(text)  # nobody to serve it to: not billed
        self._charge("docket_report", court, case_id, pages, cost_of(pages), bytes=n_bytes)
        return Response.text(text)

    def _still_wanted(self, request: Request) -> bool:
        """After ``purchase_delay``: is the client still there to be served?"""
        if self.purchase_delay:
            import time

            time.sleep(self.purchase_delay)
        return not request.client_gone()

    @staticmethod
    def _receipt(text: str, user: str, pages: int, cost: float) -> str:
        """Fill in the Transaction Receipt of a served page."""
        def cell(label, value, t):
            return re.sub(r"(%s:?\s*</font></th><td[^>]*><font[^>]*>)[^<]*(</font>)" % label,
                          lambda m: m.group(1) + " %s " % value + m.group(2), t, flags=re.I)
        text = cell("Billable Pages", pages, text)
        text = cell("Cost", "%.2f" % cost, text)
        text = cell("PACER Login", html.escape(user), text)
        return text

    def _doc1(self, request: Request, court: str, doc_id: str, user: str) -> Response:
        doc = self.document(court, doc_id)
        wants_filing = len(doc_id) > 4 and doc_id[3] == "0"
        if request.method == "GET" and wants_filing and (doc.attachments or doc.attachment_page):
            return self._attachment_page(court, doc)
        pages = document_pages(doc.pdf.page_count or 1, doc.transcript)
        cost = 0.0 if doc.free else cost_of(pages)
        if request.method == "POST":
            data = doc.pdf.read()
            if not self._still_wanted(request):
                return Response(200, data, content_type="application/pdf")  # not billed
            self._charge(doc.kind, court, doc.case_id, pages, cost, doc_id=doc.doc_id)
            return Response(200, data, {"Content-Disposition": 'inline; filename="%s.pdf"' % doc_id},
                            content_type="application/pdf")
        return Response.text(self._confirmation(court, doc, doc_id, user, pages, cost))

    def _confirmation(self, court, doc: Document, doc_id: str, user: str, pages: int, cost: float) -> str:
        template = None
        if self.corpus is not None:
            path = self.corpus / "confirmation_pages" / "cand_1.html"
            if path.is_file():
                template = path.read_text(encoding="utf-8")
        if template is None:
            template = (PACER_FIXTURES / "confirmation.html").read_text(encoding="utf-8")
        action = "%sdoc1/%s" % (self.ecf_url(court), doc_id)
        hidden = ('<input type="hidden" name="caseid" value="%s"><input type="hidden" name="de_seq_num" value="%s">'
                  '<input type="hidden" name="got_receipt" value="1"><input type="hidden" name="pdf_toggle_possible" value="1">'
                  % (doc.case_id, doc.seq))
        text = re.sub(r'<form method="post" action="[^"]*"[^>]*>',
                      lambda m: '<form method="post" action="%s">%s' % (action, hidden), template, count=1)
        text = re.sub(r"<!-- saved from url=[^>]*-->\s*", "", text)
        text = text.replace("./CAND-ECF_files/", "/")
        text = re.sub(r"(Description:\s*</font></th><td[^>]*><font[^>]*>)[^<]*",
                      lambda m: m.group(1) + " Image%s-%s " % (doc.entry_number or "0", 0), text)
        text = re.sub(r"(Case Number:\s*</font></th><td[^>]*><font[^>]*>)[^<]*",
                      lambda m: m.group(1) + " %s" % html.escape(doc.docket_number), text)
        text = re.sub(r"(Client Code:\s*</font></th><td[^>]*><font[^>]*>)[^<]*",
                      lambda m: m.group(1) + "  ", text)
        text = re.sub(r"(Pacer Login:\s*</font></th><td[^>]*><font[^>]*>)[^<]*",
                      lambda m: m.group(1) + " %s " % html.escape(user), text, flags=re.I)
        now = dt.datetime.now().strftime("%a %b %d %H:%M:%S %Y").replace(" 0", "  ")
        text = re.sub(r'(<td colspan="4" align="CENTER"><font[^>]*>)[^<]*', lambda m: m.group(1) + now, text, count=1)
        text = self._receipt(text, user, pages, cost)
        return self._localize(text, court)

    def _attachment_page(self, court: str, doc: Document) -> Response:
        if doc.attachment_page is not None:
            return Response.text(self._localize(doc.attachment_page.read_bytes().decode("utf-8", "replace"), court))
        ecf = "https://ecf.%s.uscourts.gov" % court

        def row_link(d: Document, label):
            shown = d.doc_id[:3] + "1" + d.doc_id[4:]
            return ('<a href="%s/doc1/%s" onClick="goDLS(\'/doc1/%s\',\'%s\',\'%s\',\'\',\'\',\'1\',\'\',\'\',\'\');'
                    'return(false);">%s</a>' % (ecf, shown, shown, doc.case_id, doc.seq, label))

        def size(d):
            n = d.pdf.size if d.pdf else 0
            return "%.1f KB" % (n / 1024.0)

        main_pages = doc.pdf.page_count or 1 if doc.pdf else 1
        rows = ['<tr>\n<td colspan="2"><b>Document Number:</b></td>\n<td width="50px"><input type="checkbox" '
                'name="document_%s_0" value="%s"></td>\n<td>%s</td>\n<td>%d pages</td>\n<td>%s</td>\n</tr>\n'
                % (doc.entry_number, doc.doc_id[4:], row_link(doc, doc.entry_number or "1"), main_pages, size(doc)),
                '<tr height="50px">\n<td width="150px" colspan="2"><b>Attachment</b></td>\n<td width="200px" '
                'colspan="2"><b>Description</b></td>\n<td width="100px"><b>Pages</b></td>\n<td width="100px">'
                '<b>Size</b></td>\n</tr>\n']
        for number, description, att in doc.attachments:
            if att.pdf is None:
                self.document(court, att.doc_id)
            rows.append('<tr>\n<td width="50px"><input type="checkbox" name="document_%s_%s" value="%s"></td>\n'
                        '<td>%s</td>\n<td colspan="2">%s </td>\n<td>%d pages</td>\n<td>%s</td>\n</tr>\n'
                        % (doc.entry_number, number, att.doc_id[4:], row_link(att, number),
                           html.escape(description), att.pdf.page_count or 1, size(att)))
        text = (PACER_FIXTURES / "attachment_page.html").read_text(encoding="utf-8")
        text = text.replace("@@COURT@@", court.upper()).replace("@@ROWS@@", "".join(rows))
        return Response.text(self._localize(text, court))

    def _rss(self, court: str) -> Response:
        feed = None
        path = self.rss_feeds().get(court)
        if path is not None:
            feed = path.read_bytes().decode("iso-8859-1")
        items = []
        added = sorted((r for r in self.added if r["court"] == court), key=lambda r: r["added_at"])
        for rec in reversed(added):  # newest first, as PACER's
            ecf = "https://ecf.%s.uscourts.gov" % court
            link = ""
            if rec["doc_id"]:
                link = ' (<a href="%s/doc1/%s?caseid=%s&de_seq_num=%s" >%s</a>)' % (
                    ecf, rec["doc_id"], rec["case_id"], rec["seq"], rec["number"] or "")
            guid = "%s/cgi-bin/DktRpt.pl?%s" % (ecf, rec["case_id"])
            if self.rss_guid == "entry":
                guid += "&amp;%s" % rec["seq"]
            for event in rec["events"]:
                items.append(
                    "<item>\n<title>%s %s</title>\n<link>%s/cgi-bin/DktRpt.pl?%s</link>\n<description>%s</description>\n"
                    "<guid isPermaLink=\"true\">%s</guid>\n<pubDate>%s</pubDate>\n</item>\n"
                    % (html.escape(rec["docket_number"]), html.escape(rec["title"]), ecf, rec["case_id"],
                       html.escape("[%s]%s" % (event, link)), guid,
                       rec["added_at"].astimezone(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")))
        if feed is None:
            feed = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n\n<rss version="2.0">\n\n<channel>\n'
                    "<title>%s - Recent Entries</title>\n<link>https://ecf.%s.uscourts.gov</link>\n"
                    "<description>Docket entries of type: all</description>\n<lastBuildDate>%s</lastBuildDate>\n\n"
                    "</channel>\n</rss>\n" % (court.upper(), court,
                                              dt.datetime.now(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")))
        if items:
            at = feed.find("<item>")
            at = at if at >= 0 else feed.find("</channel>")
            feed = feed[:at] + "".join(items) + feed[at:]
        return Response(200, self._localize(feed, court).encode("iso-8859-1", "xmlcharrefreplace"),
                        content_type="application/rss+xml")

    def rss_feeds(self) -> dict:
        """court -> the corpus RSS feed served for it (the court is read from
        the channel's link: file names are not always court ids)."""
        if getattr(self, "_rss_feeds", None) is None:
            feeds = {}
            if self.corpus is not None:
                for path in sorted((self.corpus / "rss").glob("*.xml")):
                    head = path.read_bytes()[:2000].decode("iso-8859-1")
                    m = re.search(r"<link>\s*https?://ecf\.([a-z0-9]+)\.uscourts\.gov", head)
                    court = m.group(1) if m else path.name.split("_")[0].split(".")[0]
                    feeds.setdefault(court, path)
            self._rss_feeds = feeds
        return self._rss_feeds

    def _transport_room(self, request: Request, court: str, user: str) -> Response:
        fields = dict(request.query)
        if request.method == "POST":
            fields.update(_parse_body(request))
        servlet = fields.get("servlet", "")
        if servlet.startswith(("CaseSummary", "DocketReport")):
            number = fields.get("caseNum", "")
            case = self.appellate.get((court, number))
            odd = self.not_dockets.get((court, number))
            if case is None and odd is not None:  # not a docket (not billed)
                return Response(200, self._localize(odd.read_bytes().decode("iso-8859-1"), court).encode(
                    "iso-8859-1", "replace"), content_type="text/html; charset=iso-8859-1")
            if case is None:
                return Response.text("<html><head><title>Case Search</title></head><body><b>No case found "
                                     "with the criteria entered: %s</b></body></html>" % html.escape(number))
            text = self._localize(case.source.read_bytes().decode("iso-8859-1"), court)
            text = self.filter_appellate(text, fields.get("dateFrom", ""), fields.get("dateTo", ""))
            pages = report_pages(len(text.encode("iso-8859-1", "replace")))
            cost = cost_of(pages)
            self._charge("appellate_docket", court, number, pages, cost)
            return Response(200, text.encode("iso-8859-1", "replace"), content_type="text/html; charset=iso-8859-1")
        if servlet.startswith("ShowDoc"):
            dls_id = fields.get("dls_id", "") or fields.get("docId", "") or servlet.partition("/")[2]
            if not dls_id.isdigit():
                return Response.text("<html><body><b>Document not found.</b></body></html>", 404)
            return self._appellate_document(request, court, dls_id, user, fields.get("caseId") or "")
        return Response.text("<html><body><b>Unknown servlet %s</b></body></html>" % html.escape(servlet), 404)

    def _appellate_document(self, request: Request, court: str, dls_id: str, user: str, case_id: str = "") -> Response:
        """GET: the Download Confirmation page; POST (its form: servlet=ShowDoc,
        dls_id, caseId, ...): the PDF, billed."""
        doc = self.document(court, dls_id)
        pages = document_pages(doc.pdf.page_count or 1, doc.transcript)
        cost = 0.0 if doc.free else cost_of(pages)
        if request.method == "POST":
            self._charge(doc.kind, court, doc.case_id or case_id, pages, cost, doc_id=dls_id)
            return Response(200, doc.pdf.read(), {"Content-Disposition": 'inline; filename="%s.pdf"' % dls_id},
                            content_type="application/pdf")
        number = doc.docket_number or case_id
        label = "Case: %s, Document: %s" % (number, doc.entry_number or "1")
        now = dt.datetime.now().strftime("%m/%d/%Y %H:%M:%S")
        page = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><title>Download Confirmation</title>
<style type="text/css" media="print">.noprint{display:none;}</style>
</head><body>
<script type="text/javascript">
function doSubmit() { document.AccCharge.recp.value = new Date().getTime() + ""; document.AccCharge.submit(); }
</script>
<center><strong><font size="5">Download Confirmation</font></strong><br><br>
<strong>Document: PDF Document (%(label)s) </strong><br><br>
Click on the "Accept Charges and Retrieve" button ONCE at the bottom of this page to download the document image.<br>
If you download this document, your PACER account will be billed according to the table below:<br>
<hr><center><table border="1" bgcolor="WHITE" width="500">
<tbody><tr><th colspan="4"><font size="+1" color="DARKRED">PACER Service Center</font></th></tr>
<tr><th colspan="4"><font color="DARKBLUE">Transaction Receipt</font></th></tr>
<tr></tr>
<tr></tr>
<tr><td colspan="4" align="CENTER">
<font size="-1" color="DARKBLUE">U.S. Court of Appeals - %(now)s</font></td></tr>
<tr><th align="LEFT"><font size="-1" color="DARKBLUE">PACER Login:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">%(user)s</font></td><th align="LEFT">
<font size="-1" color="DARKBLUE">Client Code:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">&nbsp;</font></td></tr><tr><th align="LEFT">
<font size="-1" color="DARKBLUE">Description:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">PDF Document</font></td><th align="LEFT">
<font size="-1" color="DARKBLUE">
Search Criteria:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">%(label)s</font></td></tr><tr><th align="LEFT">
<font size="-1" color="DARKBLUE">Billable Pages:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">%(pages)d</font></td><th align="LEFT">
<font size="-1" color="DARKBLUE">Cost:</font></th><td align="LEFT">
<font size="-1" color="DARKBLUE">%(cost).2f</font></td></tr>
</tbody></table>
</center>
<hr><center>
<form name="AccCharge" action="%(action)s" method="post">
<input type="hidden" name="servlet" value="ShowDoc">
<input name="CSRF" type="hidden" value="csrf_%(csrf)s">
<input type="hidden" name="incPdfHeader" value="Y">
<input type="hidden" name="dls_id" value="%(dls_id)s">
<input type="hidden" name="caseId" value="%(case_id)s">
<input type="hidden" name="pacer" value="t">
<input type="hidden" name="recp" value="">
<br><br><input type="button" value="Accept Charges and Retrieve" onclick="doSubmit()">
</form></center>
</center></body></html>
""" % {"label": html.escape(label), "now": now, "user": html.escape(user), "pages": pages, "cost": cost,
               "action": self.ecf_url(court) + "n/beam/servlet/TransportRoom", "csrf": zlib.crc32(dls_id.encode()),
               "dls_id": dls_id, "case_id": html.escape(case_id or doc.case_id)}
        return Response(200, page.encode("cp1252", "replace"), content_type="text/html; charset=windows-1252")

    # ACMS
    def _acms(self, request: Request, court: str, parts: list) -> Response:
        """ACMS's web app (``<court>-showdoc.azurewebsites.us``): the SAML sign-in
        and the page content holding the API's bearer token."""
        cookies = _cookies(request)
        affinity = self._affinity_cookies(court, cookies)
        if parts[:2] == ["Saml2", "Acs"]:
            return self._acms_acs(request, court, affinity)
        if parts == ["Home", "IndexContent"]:
            return self._acms_index(court, cookies, affinity)
        user = self.session_user(request)
        if user is None:
            return self.login_page()
        saml = base64.b64encode((
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_%s\" "
            "Destination=\"%sSaml2/Acs\"><saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">"
            "<saml:NameID>%s</saml:NameID></saml:Assertion></samlp:Response>"
            % (secrets.token_hex(16), self.acms_url_for(court), html.escape(user))).encode()).decode()
        with self._lock:
            self._saml[saml] = (user, court)
            self.saml_responses.append(saml)
        acs = self.acms_url_for(court) + "Saml2/Acs"
        page = ("<html><head><title>Working...</title></head><body onload=\"document.forms[0].submit()\">\n"
                "<form method=\"POST\" name=\"hiddenform\" action=\"%s\">\n"
                "<input type=\"hidden\" name=\"SAMLResponse\" value=\"%s\" />\n"
                "<input type=\"hidden\" name=\"RelayState\" value=\"/%s\" />\n"
                "<noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" />"
                "</noscript></form></body></html>\n" % (acs, saml, html.escape("/".join(parts))))
        return Response.text(page, headers={"Set-Cookie": affinity} if affinity else None)

    def _affinity_cookies(self, court: str, cookies: dict) -> list:
        """Azure's ARRAffinity cookies, set on a client that has none yet."""
        if cookies.get("ARRAffinity"):
            return []
        value = secrets.token_hex(32)
        with self._lock:
            self.acms_affinity.append(value)
        path = "/acms/%s/" % court
        return ["ARRAffinity=%s;Path=%s;HttpOnly" % (value, path),
                "ARRAffinitySameSite=%s;Path=%s;HttpOnly;SameSite=None" % (value, path)]

    def _acms_sign_in_page(self, court: str, headers=None, status: int = 200) -> Response:
        page = ("<!DOCTYPE html>\n<html><head><title>Sign In - ACMS</title></head><body>\n"
                "<h1>Appellate Case Management System</h1>\n"
                "<p>Your session has ended or your sign-in could not be completed.</p>\n"
                "<p><a href=\"%s\">Sign in with PACER</a></p>\n</body></html>\n" % self.acms_url_for(court))
        return Response.text(page, status, headers=headers)

    def _acms_acs(self, request: Request, court: str, affinity: list) -> Response:
        fields = dict(request.query)
        if request.method == "POST":
            fields.update(_parse_body(request))
        saml = fields.get("SAMLResponse", "")
        with self._lock:
            issued = self._saml.pop(saml, None)
        if issued is None or issued[1] != court or self.acms_reject_saml:
            # rejected: ACMS's own sign-in page, 200, and no session cookie
            return self._acms_sign_in_page(court, headers={"Set-Cookie": affinity} if affinity else None)
        user = issued[0]
        value = secrets.token_urlsafe(96)  # 128 characters: two chunks
        with self._lock:
            self.acms_sessions[value] = {"user": user, "court": court}
        path = "/acms/%s/" % court
        chunks = _chunks(value)
        cookies = ["%s=chunks-%d; path=%s; samesite=none; httponly" % (ACMS_COOKIE, len(chunks), path)]
        cookies += ["%sC%d=%s; path=%s; samesite=none; httponly" % (ACMS_COOKIE, n, chunk, path)
                    for n, chunk in enumerate(chunks, 1)]
        headers = {"Set-Cookie": cookies + affinity}
        relay = fields.get("RelayState") or "/"
        if self.acms_acs_redirect:
            headers["Location"] = self.acms_url_for(court) + relay.lstrip("/")
            return Response.text("", 303, headers=headers)
        page = ("<!DOCTYPE html>\n<html><head><title>ACMS - Case Documents</title></head><body>\n"
                "<div id=\"showDocApp\" data-content=\"%sHome/IndexContent\"></div>\n"
                "<script src=\"/js/showdoc.js\"></script>\n</body></html>\n" % self.acms_url_for(court))
        return Response.text(page, headers=headers)

    def acms_session_user(self, court: str, cookies: dict) -> Optional[str]:
        """The user of the request's ``.AspNetCore.saml2`` session (all its chunks), for ``court``."""
        base = cookies.get(ACMS_COOKIE, "")
        m = re.fullmatch(r"chunks-(\d+)", base)
        if m:
            parts = [cookies.get("%sC%d" % (ACMS_COOKIE, n)) for n in range(1, int(m.group(1)) + 1)]
            if not all(parts):
                return None
            base = "".join(parts)
        session = self.acms_sessions.get(base)
        if session is None or session["court"] != court:
            return None
        return session["user"]

    def _acms_index(self, court: str, cookies: dict, affinity: list) -> Response:
        """The web app's page content: its showDocViewModel holds the bearer token."""
        user = self.acms_session_user(court, cookies)
        headers = {"Set-Cookie": affinity} if affinity else None
        if user is None:
            return self._acms_sign_in_page(court, headers=headers, status=401)
        token = secrets.token_urlsafe(48)
        until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.acms_token_ttl)
        with self._lock:
            self.acms_tokens[token] = {"user": user, "court": court, "uses": self.acms_token_uses,
                                       "until": until}
            self.acms_tokens_issued.append(token)
        expires = until.strftime("%Y-%m-%dT%H:%M:%SZ")
        model = {"AuthToken": {"Token": token, "Expiration": expires, "TokenType": "Bearer"},
                 "PacerUser": {"CsoId": self.cso_id(user), "ContactType": "Pacer", "LoginId": user,
                               "FirstName": "Test", "LastName": "User"},
                 "ApiUrl": self.acms_api_url_for(court), "CourtId": court}
        page = ("<div class=\"container-fluid\" id=\"showDocContent\">\n"
                "<div id=\"caseSearch\"></div>\n"
                "<script type=\"text/javascript\">\n"
                "    var showDocViewModel = %s;\n"
                "    ShowDoc.init(showDocViewModel);\n"
                "</script>\n</div>\n" % json.dumps(model))
        return Response.text(page, headers=headers)

    def acms_token_user(self, request: Request, court: str) -> Optional[str]:
        """The user whose bearer token the API request carries (one use of it), or None."""
        auth = request.headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with self._lock:
            known = self.acms_tokens.get(token)
            if known is None or known["court"] != court:
                return None
            if known["until"] <= dt.datetime.now(dt.timezone.utc):
                del self.acms_tokens[token]
                return None
            if known["uses"] is not None:
                if known["uses"] <= 0:
                    del self.acms_tokens[token]
                    return None
                known["uses"] -= 1
            return known["user"]

    def _acms_api(self, request: Request, court: str, parts: list) -> Response:
        """ACMS's API. Answers use its wire names (``pcx_casenumber``,
        ``matchingDocketEntries``, ``acms_pagecount``...), not the camelCase of the
        corpus samples (the ACMS web app's names), as the real service does."""
        user = self.acms_token_user(request, court)
        if user is None:
            return Response.json({"message": "Authorization has been denied for this request."}, 401,
                                 headers={"WWW-Authenticate": "Bearer"})
        if parts == ["MergePDFFiles"] and request.method == "POST":
            return self._acms_merge(request, court, user)
        if parts == ["GetMergedFile"] and request.method == "GET":
            merged = self.acms_merged.get(request.query.get("fileGuid", ""))
            if merged is None or merged["user"] != user:
                return Response.json({"message": "File not found."}, 404)
            return Response(200, merged["pdf"].read(), content_type="application/pdf",
                            headers={"Content-Disposition": 'attachment; filename="%s"' % merged["name"]})
        if len(parts) != 2:
            return Response.json({"message": "No HTTP resource was found that matches the request URI."}, 404)
        action, ident = parts
        if action == "CaseDetailsByCaseId" and request.method == "GET":
            case = self.acms.get((court, ident))
            if case is None:
                return Response.json({"message": "Case not found."}, 404)
            return Response.json(_wire_case(case.data.get("caseDetails") or {}))
        if action == "DocketEntriesByCaseId" and request.method == "POST":
            case = self.acms.get((court, ident))
            if case is None:
                return Response.json({"message": "Case not found."}, 404)
            asked = _parse_body(request)
            if str(asked.get("csoId")) != str(self.cso_id(user)):
                return Response.json({"message": "The contact is not valid for this user."}, 400)
            info = case.data.get("docketInfo") or {}
            body = json.dumps(_wire_docket_info(info)).encode("utf-8")
            pages = report_pages(int(info.get("byteCount") or len(body)))
            self._charge("acms_docket", court, case.docket_number, pages, cost_of(pages), case_id=case.case_id)
            return Response(200, body)
        if action == "DocketEntryDocumentsByDocketId" and request.method == "POST":
            for case in self.acms.values():
                for entry in (case.data.get("docketInfo") or {}).get("docketEntries") or []:
                    if entry.get("docketEntryId") == ident:
                        docs = self._acms_documents(case, entry)
                        return Response.json([_wire_document(d) for d in docs])
            return Response.json({"message": "Docket entry not found."}, 404)
        return Response.json({"message": "No HTTP resource was found that matches the request URI."}, 404)

    def _acms_documents(self, case: AcmsCase, entry: dict) -> list:
        """The documents of an ACMS entry: the corpus's own listing of it when there
        is one (appellate_attachment_pages/acms), else made up from its counts."""
        entry_id = entry.get("docketEntryId")
        with self._lock:
            if entry_id in self.acms_entry_docs:
                return self.acms_entry_docs[entry_id]
        docs = None
        if self.corpus is not None:
            for path in sorted((self.corpus / "appellate_attachment_pages" / "acms").glob("*.compare.json")):
                data = json.loads(path.read_text(encoding="utf-8"))
                if (data.get("docketEntry") or {}).get("docketEntryId") == entry_id:
                    docs = [dict(d) for d in data.get("docketEntryDocuments") or []]
                    break
        if docs is None:
            docs = []
            count = int(entry.get("documentCount") or 0)
            for n in range(count):
                seed = hashlib.md5(("%s/%d" % (entry_id, n)).encode()).hexdigest()
                guid = "%s-%s-%s-%s-%s" % (seed[:8], seed[8:12], seed[12:16], seed[16:20], seed[20:32])
                pages = max(1, int(entry.get("pageCount") or 1) - (count - 1)) if n == 0 else 1
                number = "%s.%d" % (entry.get("entryNumber"), n + 1)
                name = "%s %03d-%02d - Document.pdf" % (case.docket_number, int(entry.get("entryNumber") or 0), n + 1)
                docs.append({"docketDocumentDetailsId": guid, "name": name,
                             "documentUrl": "https://%s.sharepoint.com/sites/ACMS/Docket/%s" % (case.court, quote(name)),
                             "caseFilingDocumentUrl": None, "documentPermission": "Public",
                             "pageCount": pages, "fileSize": 100 * pages, "createdOn": entry.get("createdOn"),
                             "billablePages": min(PAGE_CAP, pages), "cost": cost_of(min(PAGE_CAP, pages)),
                             "documentNumber": number,
                             "searchValue": "Case: %s, Document: %s" % (case.docket_number, number),
                             "searchTransaction": "Case: %s, Document: %s" % (case.docket_number, number)})
        pool = self.pool() if self.shared is not None else None
        with self._lock:
            for doc in docs:
                guid = doc["docketDocumentDetailsId"]
                if pool:
                    pdf = pool[zlib.crc32(guid.encode()) % len(pool)]
                else:
                    pdf = PdfFile(data=make_pdf(["ACMS %s document %s" % (case.court, doc.get("documentNumber"))]),
                                  origin="generated", page_count=1)
                self.acms_doc_index[guid] = {"case": case, "entry": entry, "doc": doc, "pdf": pdf}
            self.acms_entry_docs[entry_id] = docs
        return docs

    def _acms_merge(self, request: Request, court: str, user: str) -> Response:
        """``POST MergePDFFiles``: the purchase. ACMS runs it as an Azure Durable
        Functions orchestration: 202 with the instance's status URL, polled until
        ``runtimeStatus`` is ``Completed``; its ``output`` is the merged file's
        GUID, fetched from ``GetMergedFile?fileGuid=``. Billed here, per document."""
        try:
            body = json.loads((request.body or b"").decode("utf-8"))
        except ValueError:
            return Response.json({"message": "The request is invalid."}, 400)
        items = body.get("docketEntryDocuments") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return Response.json({"message": "No documents to merge."}, 400)
        found = []
        for item in items:
            known = self.acms_doc_index.get(str((item or {}).get("acms_docketdocumentdetailsid") or ""))
            if known is None or known["case"].court != court:
                return Response.json({"message": "Document not found."}, 404)
            found.append(known)
        for known in found:
            doc = known["doc"]
            pages = min(PAGE_CAP, int(doc.get("billablePages") or doc.get("pageCount") or 1))
            self._charge("document", court, known["case"].docket_number, pages, cost_of(pages), acms=True,
                         document=doc["docketDocumentDetailsId"], case_id=known["case"].case_id)
        instance = secrets.token_hex(16)
        file_guid = str(uuid.uuid4())
        name = found[0]["doc"].get("name") or "%s.pdf" % file_guid
        with self._lock:
            self.acms_merges[instance] = {"user": user, "polls": self.acms_merge_polls, "file_guid": file_guid,
                                          "created": _utc_now()}
            self.acms_merged[file_guid] = {"user": user, "pdf": found[0]["pdf"], "name": name}
        status = "%sruntime/webhooks/durabletask/instances/%s?taskHub=ShowDocHub&connection=Storage&code=%s" % (
            self.acms_api_url_for(court)[:-len("api/")], instance, secrets.token_urlsafe(12))
        return Response.json({"id": instance, "statusQueryGetUri": status,
                              "sendEventPostUri": status.replace("?", "/raiseEvent/{eventName}?", 1),
                              "terminatePostUri": status.replace("?", "/terminate?reason={text}&", 1),
                              "purgeHistoryDeleteUri": status}, 202, headers={"Location": status})

    def _acms_runtime(self, request: Request, court: str, parts: list) -> Response:
        """The Durable Functions status endpoint of a MergePDFFiles instance."""
        if len(parts) != 4 or parts[:3] != ["webhooks", "durabletask", "instances"]:
            return Response.json({"message": "Not found."}, 404)
        with self._lock:
            merge = self.acms_merges.get(parts[3])
            if merge is None:
                return Response.json({"message": "Instance not found."}, 404)
            merge["polls"] -= 1
            running = merge["polls"] >= 0
        state = {"name": "MergePDFFilesOrchestrator", "instanceId": parts[3],
                 "runtimeStatus": "Running" if running else "Completed", "input": None,
                 "customStatus": None, "output": None if running else merge["file_guid"],
                 "createdTime": merge["created"], "lastUpdatedTime": _utc_now()}
        if running:
            return Response.json(state, 202, headers={"Location": request.url})
        return Response.json(state)


ACMS_COOKIE = ".AspNetCore.saml2"
CHUNK = 64  # characters of an ACMS session cookie chunk (ASP.NET's are ~4,000)


def _chunks(value: str) -> list:
    """A long cookie value split as ASP.NET's chunking cookie manager does (…C1, …C2)."""
    return [value[i:i + CHUNK] for i in range(0, len(value), CHUNK)] or [""]


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _wire_case(details: dict) -> dict:
    """A corpus caseDetails (the web app's names) as the API sends it."""
    names = {"caseId": "pcx_caseid", "caseNumber": "pcx_casenumber",
             "originatingCaseNumber": "pcx_originatingcasenumber", "name": "pcx_name",
             "caseOpened": "acms_caseopened", "aNumber": "acms_anumber", "receivedDate": "pcx_receiveddate",
             "decisionDate": "acms_decisiondate", "partyAttorneyList": "acms_partyattorneylist",
             "shortCaption": "acms_raw_html"}
    lookups = {"caseType": ("pcx_casetype", "pcx_casetypename"),
               "caseSubType": ("pcx_casesubtype", "pcx_casesubtypename"),
               "caseSubSubType": ("pcx_casesubsubtype", "pcx_casesubsubtypename"),
               "districtCourtName": ("acms_DistrictCourt", "pcx_districtname"),
               "feeStatus": ("acms_feestatusid", "acms_feestatusname"),
               "natureOfSuit": ("acms_NatureofSuit", "acms_name")}
    out = {}
    for key, value in details.items():
        if key in lookups:
            obj, field_name = lookups[key]
            out[obj] = {field_name: value} if value is not None else None
        elif key == "court" and isinstance(value, dict):
            out["pcx_court"] = {{"name": "pcx_name", "abbreviatedName": "acms_abbreviatedname"}.get(k, k): v
                                for k, v in value.items()}
        else:
            out[names.get(key, key)] = value
    return out


def _wire_docket_info(info: dict) -> dict:
    names = {"endDate": "pcx_enddate", "entryNumber": "pcx_entrynumber",
             "docketEntryText": "pcx_eventdescription", "docketEntryId": "pcx_eventid", "createdOn": "createdon"}
    out = {k: v for k, v in info.items() if k != "docketEntries"}
    out["matchingDocketEntries"] = [
        {names.get(k, k): v for k, v in row.items() if k not in ("endDateFormatted", "selected")}
        for row in info.get("docketEntries") or []]
    return out


def _wire_document(doc: dict) -> dict:
    names = {"docketDocumentDetailsId": "acms_docketdocumentdetailsid", "name": "acms_name",
             "documentUrl": "acms_documenturl", "caseFilingDocumentUrl": "acms_casefilingdocumenturl",
             "documentPermission": "acms_documentpermission", "pageCount": "acms_pagecount",
             "fileSize": "acms_filesize", "createdOn": "createdon", "documentNumber": "acms_documentnumber"}
    return {names.get(k, k): v for k, v in doc.items() if k != "selected"}


if __name__ == "__main__":  # python -m tests.servers.pacer [port]
    import sys
    import time

    with PacerServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0) as _pacer:
        for _name, _value in _pacer.settings().items():
            print("%s=%s" % (_name, _value))
        print("login: user / pass; Ctrl-C stops", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
