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

ACMS's sign-in and API: see ``acms``. One module per protocol, each a mixin
of ``server.PacerServer``: ``login`` (PACER's login service), ``district``
(district and bankruptcy CM/ECF), ``appellate`` (appellate CM/ECF), ``acms``
(ACMS's web app and API), ``rss`` (CM/ECF's RSS); ``fees`` (what PACER
bills) and ``common`` (the cases and documents served, request helpers).

Pages served are the real ones in ``<shared>/corpus/pacer/`` (district
and bankruptcy dockets, appellate dockets, ACMS JSON, attachment pages, confirmation pages,
possible case numbers, RSS) plus the hand-written ``tests/fixtures/pacer/``
(the WeChat case, cand 364733 and ca9 20-16908, whose documents are the same
files the local CourtListener serves). Absolute links to
``https://ecf.<court>.uscourts.gov/`` in served HTML are rewritten to this
server. Without ``../shared`` the fixtures and small self-made pages still work.
"""
from .acms import (
    ACMS_COOKIE, CHUNK, AcmsMixin, _chunks, _utc_now, _wire_case, _wire_docket_info, _wire_document,
)
from .appellate import AppellateMixin
from .common import (
    PACER_FIXTURES, AcmsCase, AppellateCase, DistrictCase, Document, _cookies, _normalize_doc_id,
    _parse_body, _parse_date,
)
from .district import DistrictMixin, _docket_key, _keys_match, _strip_tags
from .fees import BYTES_PER_PAGE, PAGE_CAP, PAGE_FEE, cost_of, document_pages, report_pages
from .login import (
    BAD_LOGIN, BAD_OTP, CHANGE_PASSWORD, MFA_REQUIRED, PENDING_ACTIONS, LoginMixin,
)
from .rss import RssMixin
from .server import PacerServer

__all__ = [
    "PacerServer", "PACER_FIXTURES", "PAGE_FEE", "PAGE_CAP", "BYTES_PER_PAGE", "report_pages",
    "document_pages", "cost_of", "BAD_LOGIN", "MFA_REQUIRED", "BAD_OTP", "CHANGE_PASSWORD",
    "PENDING_ACTIONS", "Document", "DistrictCase", "AppellateCase", "AcmsCase", "ACMS_COOKIE", "CHUNK",
    "LoginMixin", "DistrictMixin", "AppellateMixin", "AcmsMixin", "RssMixin",
    "_normalize_doc_id", "_strip_tags", "_parse_date", "_docket_key", "_keys_match", "_parse_body",
    "_cookies", "_chunks", "_utc_now", "_wire_case", "_wire_docket_info", "_wire_document",
]
