"""ACMS, the courts of appeals' case system since 2023: its web app
(``/acms/<court>/``: ``https://<court>-showdoc.azurewebsites.us/``) and
its JSON API (``/acms-api/<court>/api/``:
``https://<court>-showdocservices.azurewebsites.us/api/``).

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
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re
import secrets
import uuid
import zlib
from typing import Optional
from urllib.parse import quote

from ..base import Request, Response
from ..cases import PdfFile, make_pdf
from .common import AcmsCase, _cookies, _parse_body
from .fees import PAGE_CAP, cost_of, report_pages


class AcmsMixin:
    """PacerServer's ACMS: the web app's sign-in and the API."""

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
            return Response(200, merged["pdf"].read() + b"\0" * self.acms_padding,
                            content_type="application/pdf",
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
