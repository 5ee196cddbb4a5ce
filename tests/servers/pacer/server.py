"""The local PACER: one server, one port for every host (see the package's
doc), built of one mixin per protocol; its state, the cases it loads from
the corpus and the fixtures, and the routing of requests.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import zlib
from pathlib import Path
from typing import Optional
from urllib.parse import unquote

from ..base import Failures, LocalServer, Request, RequestLog, Response, ServerLifecycle
from ..cases import SYNTHETIC_PDFS, PdfFile, _resolve_shared, corpus_pdf, make_pdf, wechat_cases
from .acms import AcmsMixin, _chunks
from .appellate import AppellateMixin
from .common import PACER_FIXTURES, AcmsCase, AppellateCase, DistrictCase, Document, _normalize_doc_id
from .district import DistrictMixin
from .login import LoginMixin
from .rss import RssMixin


class PacerServer(LoginMixin, DistrictMixin, AppellateMixin, AcmsMixin, RssMixin,
                  ServerLifecycle):
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
        # GetMergedFile's PDF ends in %%EOF and this many NULs, as real ACMS downloads do
        # (CourtListener's acms_test.pdf: a Second Circuit order, 23 KB of NULs after %%EOF)
        self.acms_padding = 23_000
        # seconds a purchase (document, docket report) takes before PACER answers; a
        # purchase whose client has gone by then is not billed, as PACER bills what it serves
        self.purchase_delay = 0.0
        # seconds a document's PDF takes to arrive once PACER has billed it (sent in parts)
        self.purchase_pace = 0.0
        # hold_purchases_after(n): the purchases after the first n wait until released
        self._gate: Optional[list] = None  # [n, purchases seen, threading.Event]
        self.waiting_at_gate = 0
        self.documents: dict[tuple, Document] = {}  # (court, normalized doc id) -> Document
        # pages that are not dockets, answered in place of a report: (court, case id or number) -> path
        self.not_dockets: dict[tuple, Path] = {}
        self.added: list[dict] = []  # entries added at runtime (also fed to RSS)
        # an RSS item's <guid>: "entry" the case's link and the entry's sequence
        # number (DktRpt.pl?CASE&SEQ, as nysd's), "case" the case's link only (as
        # many district feeds: every item of a case has the same guid)
        self.rss_guid = "entry"
        # court -> None (no feed: 404) or [CM/ECF types] (a partial feed); see RssMixin
        self.rss_types: dict = {}
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

    def hold_purchases_after(self, n: int) -> None:
        """The first ``n`` purchases are served; the next ones wait (PACER is busy
        preparing them: not billed yet) until :meth:`release_purchases`."""
        self._gate = [n, 0, threading.Event()]

    def release_purchases(self) -> None:
        if self._gate is not None:
            self._gate[2].set()

    def _at_gate(self) -> None:
        gate = self._gate
        if gate is None:
            return
        with self._lock:
            gate[1] += 1
            held = gate[1] > gate[0]
            if held:
                self.waiting_at_gate += 1
        if held:
            gate[2].wait()
            with self._lock:
                self.waiting_at_gate -= 1

    def purchases_received(self) -> list[dict]:
        """The purchase requests that reached PACER (billed or not: a request
        whose client was gone by the time its answer was ready is not billed),
        from the request log: ``{"what", "id"}``, ``id`` a document's or case's."""
        out = []
        for r in self.log.snapshot():
            if r["kind"] == "document" and r["method"] == "POST":
                out.append({"what": "document",
                            "id": _normalize_doc_id(r["path"].rstrip("/").rsplit("/", 1)[-1])})
            elif r["kind"] == "docket_report":
                out.append({"what": "docket_report", "id": None})
        return out

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
