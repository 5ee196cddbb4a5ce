"""What the PACER spiders share: fee rules, the budget, the login session.

- ``fees``: PACER's fee rules in whole cents, the hard ``Budget`` and its
  ``Decision`` (what may be bought, and at what worst case).
- ``session``: credentials (from the environment only), PACER's login and
  ``PacerSpiderMixin`` (a session that survives expiry, the ledger).
- ``documents``: ``PacerDocumentsMixin``, buying a case's PDFs within the
  budget (confirmation page, purchase through the files pipeline).
- ``free_first``: ``CourtListenerFirstMixin``, CourtListener's copies of the
  docket and documents before PACER's (they cost nothing).

Everything importable from here before the split still is.
"""
from docket_spider.pacer.documents import PacerDocumentsMixin, document_label, us_date
from docket_spider.pacer.fees import (
    CAP_CENTS, CAP_PAGES, CAPPED, FREE, HTML_BYTES_PER_PAGE, PAGE_CENTS, UNCAPPED, Budget, Decision,
    billable_pages, cents, cost_cents, dollars, fmt, html_pages, report_cost_cents, worst_case_cents,
)
from docket_spider.pacer.free_first import CourtListenerFirstMixin, _int
from docket_spider.pacer.session import (
    CREDENTIALS_HELP, DOWNLOAD_META, MFA_WORDS, PASSWORD_CHANGE_WORDS, SECRET_ARG, PacerLoginError,
    PacerSpiderMixin, courtlistener_token, credentials_from_env, is_login_page, login_payload,
    read_login_answer, resend_meta,
)
from docket_spider.urls import strip_query

__all__ = [
    "PAGE_CENTS", "CAP_PAGES", "CAP_CENTS", "HTML_BYTES_PER_PAGE", "CAPPED", "UNCAPPED", "FREE",
    "cents", "dollars", "fmt", "billable_pages", "cost_cents", "html_pages", "report_cost_cents",
    "worst_case_cents", "Decision", "Budget",
    "SECRET_ARG", "MFA_WORDS", "PASSWORD_CHANGE_WORDS", "PacerLoginError", "credentials_from_env",
    "login_payload", "read_login_answer", "is_login_page", "strip_query", "CREDENTIALS_HELP",
    "PacerSpiderMixin", "DOWNLOAD_META", "resend_meta", "courtlistener_token",
    "_int", "us_date", "document_label", "CourtListenerFirstMixin", "PacerDocumentsMixin",
]
