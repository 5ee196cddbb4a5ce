"""What the PACER spiders share: fee rules, the budget, the login session.

Fees (https://pacer.uscourts.gov/pacer-pricing-how-fees-work):
$0.10 a page; a document or a case-specific report is capped at 30 pages
($3.00); HTML reports are billed one page per 4,320 bytes; transcripts and
non-case-specific reports are not capped. Money is counted in whole cents
(integers), so budget arithmetic never drifts.

The budget is hard: a purchase is started only when its *worst case* fits
in what is left after everything already spent and everything in flight.
Without a budget nothing is bought; the spider records what it would have
bought (ChargeItem status ``would_buy``) and at what price.

Credentials come from the environment only (PACER_USERNAME, PACER_PASSWORD,
optional PACER_CLIENT_CODE and PACER_OTP): Scrapy logs settings and spider
arguments, never the environment.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
import re
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Optional
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import scrapy
from lxml import html as lxml_html
from scrapy.exceptions import CloseSpider

import parsers
from archive import db as adb
from docket_spider.items import ChargeItem, DocumentItem
from docket_spider.purchases import PurchaseSpool, purchase_meta
from docket_spider.middlewares import allowed_hosts, same_origin

PAGE_CENTS = 10
CAP_PAGES = 30
CAP_CENTS = PAGE_CENTS * CAP_PAGES  # $3.00
HTML_BYTES_PER_PAGE = 4320

# What each kind of purchase is: (case specific -> capped, free)
CAPPED = {"docket_report", "appellate_docket", "acms_docket", "document", "attachment_page"}
UNCAPPED = {"transcript", "search"}
FREE = {"possible_cases", "rss", "login", "opinion"}


def cents(dollars) -> int:
    """Dollars (str, float, Decimal) -> whole cents. Raises ValueError."""
    try:
        value = Decimal(str(dollars).strip().lstrip("$"))
    except (InvalidOperation, AttributeError):
        raise ValueError(f"not an amount of dollars: {dollars!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not an amount of dollars: {dollars!r}")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def dollars(amount_cents: int) -> float:
    return round(amount_cents / 100, 2)


def fmt(amount_cents: int) -> str:
    return f"${amount_cents / 100:,.2f}"


def billable_pages(pages: int, what: str = "document") -> int:
    """Pages PACER bills for ``pages`` pages of ``what``."""
    pages = max(0, int(pages))
    if what in FREE:
        return 0
    if what in UNCAPPED:
        return pages
    return min(pages, CAP_PAGES)


def cost_cents(pages: int, what: str = "document") -> int:
    return billable_pages(pages, what) * PAGE_CENTS


def html_pages(nbytes: int) -> int:
    """Billable pages of an HTML report of ``nbytes`` bytes (before any cap)."""
    return max(1, math.ceil(max(0, int(nbytes)) / HTML_BYTES_PER_PAGE)) if nbytes else 0


def report_cost_cents(nbytes: int, what: str = "docket_report") -> int:
    return cost_cents(html_pages(nbytes), what)


def worst_case_cents(what: str, pages: Optional[int] = None) -> Optional[int]:
    """The most a purchase can cost; None when it cannot be bounded
    (an uncapped purchase of unknown length: never start one)."""
    if what in FREE:
        return 0
    if pages is not None:
        return cost_cents(pages, what)
    if what in UNCAPPED:
        return None
    return CAP_CENTS


@dataclass
class Decision:
    buy: bool
    status: str  # "buy", "would_buy", "over_budget"
    worst_cents: Optional[int]
    reason: str = ""


class Budget:
    """A hard spending limit in cents. ``limit_cents=None``: buy nothing."""

    def __init__(self, limit_cents: Optional[int] = None):
        self.limit = limit_cents
        self.spent = 0
        self.reserved = 0
        self.would_spend = 0  # what a run without a budget would have bought
        # From the ledger (:meth:`count_ledger`): what earlier runs of the same
        # crawl (a JOBDIR resume) committed, and the monthly cap across crawls.
        self.prior = 0
        self.monthly_limit: Optional[int] = None
        self.month_prior = 0

    def count_ledger(self, prior_cents: int, monthly_limit_cents: Optional[int] = None,
                     month_prior_cents: int = 0) -> None:
        self.prior = prior_cents
        self.monthly_limit = monthly_limit_cents
        self.month_prior = month_prior_cents

    @classmethod
    def from_arg(cls, max_cost) -> "Budget":
        if max_cost in (None, ""):
            return cls(None)
        return cls(cents(max_cost))

    @property
    def left(self) -> Optional[int]:
        if self.limit is None:
            return None
        left = self.limit - self.prior - self.spent - self.reserved
        if self.monthly_limit is not None:
            left = min(left, self.monthly_limit - self.month_prior - self.spent - self.reserved)
        return left

    @property
    def cap(self) -> int:
        """The smaller of the two limits, as a figure for messages."""
        if self.monthly_limit is None:
            return self.limit - self.prior
        return min(self.limit - self.prior, self.monthly_limit - self.month_prior)

    def decide(self, what: str, pages: Optional[int] = None) -> Decision:
        """May a purchase of ``what`` (``pages`` long, when known) start now?

        When it may, its worst case is reserved until :meth:`settle`.
        """
        worst = worst_case_cents(what, pages)
        if worst == 0:
            return Decision(True, "buy", 0, "free")
        if self.limit is None:
            self.would_spend += worst or 0
            return Decision(False, "would_buy", worst, "no budget given (-a max_cost=)")
        if worst is None:
            return Decision(False, "over_budget", None,
                            f"{what} of unknown length is not capped: its cost cannot be bounded")
        if worst > self.left:
            monthly = (self.monthly_limit is not None and self.monthly_limit - self.month_prior
                       < self.limit - self.prior)
            return Decision(False, "over_budget", worst,
                            f"could cost up to {fmt(worst)}, {fmt(max(self.left, 0))} left "
                            + (f"of the monthly {fmt(self.monthly_limit)} (PACER_MONTHLY_BUDGET)"
                               if monthly else f"of {fmt(self.limit)}"))
        self.reserved += worst
        return Decision(True, "buy", worst)

    def settle(self, decision: Decision, actual_cents: Optional[int]) -> None:
        """The purchase ``decision`` allowed is done: it cost ``actual_cents``
        (None: it did not happen, nothing was billed)."""
        if decision.buy and decision.worst_cents:
            self.reserved -= decision.worst_cents
        if actual_cents:
            self.spent += actual_cents

    def summary(self) -> str:
        if self.limit is None:
            return (f"PACER: spent {fmt(self.spent)}; no budget given (-a max_cost=), so nothing "
                    f"was bought; it would have cost up to {fmt(self.would_spend)}")
        earlier = (f" (and {fmt(self.prior)} in earlier runs of this crawl)"
                   if self.prior else "")
        return (f"PACER: spent {fmt(self.spent)}{earlier} of the {fmt(self.limit)} budget "
                f"({fmt(max(self.limit - self.prior - self.spent, 0))} left)")


# --- the session ------------------------------------------------------------

SECRET_ARG = re.compile(r"user|login|pass|otp|token|secret|cookie|client_code", re.I)
MFA_WORDS = re.compile(r"one[- ]time|otp|multi[- ]?factor|two[- ]factor|verification code|\bmfa\b", re.I)
PASSWORD_CHANGE_WORDS = re.compile(r"password.*(expired|change|reset)|(change|reset).*password", re.I)


class PacerLoginError(Exception):
    pass


def credentials_from_env() -> dict:
    return {
        "username": os.environ.get("PACER_USERNAME", "").strip(),
        "password": os.environ.get("PACER_PASSWORD", ""),
        "client_code": os.environ.get("PACER_CLIENT_CODE", "").strip(),
        "otp": os.environ.get("PACER_OTP", "").strip(),
    }


def login_payload(creds: dict) -> dict:
    body = {"loginId": creds["username"], "password": creds["password"], "redactFlag": "1"}
    if creds.get("client_code"):
        body["clientCode"] = creds["client_code"]
    if creds.get("otp"):
        body["otpCode"] = creds["otp"]
    return body


def read_login_answer(text: str, creds: dict) -> str:
    """The session token from PACER's login answer; PacerLoginError otherwise."""
    try:
        data = json.loads(text)
    except ValueError:
        raise PacerLoginError("PACER's login service did not answer JSON "
                              "(check PACER_LOGIN_URL)") from None
    if not isinstance(data, dict):
        raise PacerLoginError("PACER's login service answered something unexpected")
    result = str(data.get("loginResult", "")).strip()
    reason = str(data.get("errorDescription") or "").strip()
    token = data.get("nextGenCSO")
    if result == "0" and token:
        if reason and PASSWORD_CHANGE_WORDS.search(reason):
            raise PacerLoginError(
                f"PACER wants the password changed before it serves anything: {reason}. "
                "Log in at https://pacer.uscourts.gov/ , change it, then set PACER_PASSWORD.")
        return str(token)
    if reason and MFA_WORDS.search(reason) or (result not in ("0", "1", "") and not reason):
        if creds.get("otp"):
            raise PacerLoginError(
                f"PACER refused the one-time code: {reason or 'no reason given'}. "
                "Set a fresh PACER_OTP (codes expire within seconds) and run again.")
        raise PacerLoginError(
            f"This PACER account uses multi-factor login: {reason or 'a one-time code is needed'}. "
            "Set PACER_OTP to the current code from your authenticator and run again.")
    if reason and PASSWORD_CHANGE_WORDS.search(reason):
        raise PacerLoginError(
            f"PACER wants the password changed: {reason}. Log in at https://pacer.uscourts.gov/ , "
            "change it, then set PACER_PASSWORD.")
    if reason and "client code" in reason.lower():
        raise PacerLoginError(f"PACER login failed: {reason} Set PACER_CLIENT_CODE.")
    raise PacerLoginError(
        f"PACER login failed: {reason or 'no session was given'}. "
        "Check PACER_USERNAME and PACER_PASSWORD.")


def is_login_page(text: str) -> bool:
    """A CM/ECF or PACER page asking for a password instead of the report."""
    head = text[:200000].lower()
    return ('type="password"' in head or "type='password'" in head or "type=password" in head
            or "<title>pacer login" in head)


def strip_query(url: str) -> str:
    """A URL safe to store: no query string, no fragment, no user info."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


CREDENTIALS_HELP = (
    "PACER credentials are not set. The PACER spiders read them from the environment only: "
    "`export PACER_USERNAME=... PACER_PASSWORD=...` (optional PACER_CLIENT_CODE, and PACER_OTP "
    "for accounts with multi-factor login). A free account: https://pacer.uscourts.gov/register-account ."
)


class PacerSpiderMixin:
    """Login, a session that survives expiry, the budget and the ledger.

    A spider using it calls ``setup_pacer`` in ``__init__`` and
    ``read_pacer_settings`` in ``from_crawler``; ``start()`` checks
    ``have_credentials()`` and yields ``login_request(then)`` (``then``: a
    generator function yielding the first real requests). PACER requests are
    built with ``pacer_request`` (the session travels as a Cookie header, kept
    out of Scrapy's cookie jar and the cache); each callback starts with
    ``if self.needs_login(response): yield from self.relogin(response)``.
    Purchases go through ``self.budget.decide(...)`` / ``settle(...)`` and are
    recorded with ``charge_item``; ``closed()`` logs the one-line summary.
    """

    source = "pacer"

    def setup_pacer(self, max_cost=None, documents=None, full=None, extra_args=None):
        self.arg_error = None
        secret = sorted(k for k in (extra_args or {}) if SECRET_ARG.search(k))
        if secret:
            for name in secret:  # never keep it: Scrapy may log spider attributes
                if hasattr(self, name):
                    setattr(self, name, None)
            self.arg_error = (f"-a {', -a '.join(secret)}: PACER credentials are read from the "
                              "environment only (PACER_USERNAME, PACER_PASSWORD, PACER_OTP), "
                              "never from arguments, which Scrapy writes to its log.")
        try:
            self.budget = Budget.from_arg(max_cost)
        except ValueError:
            self.budget = Budget(None)
            self.arg_error = (f"-a max_cost={max_cost!r} is not an amount of dollars "
                              "(e.g. -a max_cost=5.00)")
        self.want_documents = str(documents or "").lower() in ("1", "true", "yes", "on")
        # a document bought before (its purchase interrupted by a kill, or its file
        # not storable) is bought again only when asked (docket_spider.purchases)
        self.rebuy = str((extra_args or {}).get("rebuy") or "").lower() in (
            "1", "true", "yes", "on")
        self.full = str(full or "").lower() in ("1", "true", "yes", "on")
        self.creds: dict = {}
        self.session_token: Optional[str] = None
        self.crawl_message = ""
        self.crawl_failed = False
        self.relogins = 0
        self.login_gen = 0  # bumped at each login; requests remember theirs
        self.logging_in = False
        self.waiting_for_login: list = []
        self.charges_count = {"charged": 0, "would_buy": 0, "over_budget": 0}

    def read_pacer_settings(self, settings):
        self.login_url = settings.get("PACER_LOGIN_URL")
        self.ecf_template = settings.get("PACER_ECF_URL_TEMPLATE")
        self.acms_template = settings.get("PACER_ACMS_URL_TEMPLATE")
        self.acms_api_template = settings.get("PACER_ACMS_API_URL_TEMPLATE")

    def ecf_url(self, court: str, path: str = "") -> str:
        return self.ecf_template.format(court=court).rstrip("/") + "/" + path.lstrip("/")

    def fail(self, message: str, close: bool = True):
        self.logger.error(message)
        self.crawl_message, self.crawl_failed = message, True
        if close:
            raise CloseSpider("pacer_failed")

    # --- login ------------------------------------------------------------
    def have_credentials(self) -> bool:
        if self.arg_error:
            self.logger.error(self.arg_error)
            self.crawl_message, self.crawl_failed = self.arg_error, True
            return False
        self.creds = credentials_from_env()
        if not self.creds["username"] or not self.creds["password"]:
            self.logger.error(CREDENTIALS_HELP)
            self.crawl_message, self.crawl_failed = "no PACER credentials", True
            return False
        self.count_ledger()
        return True

    def count_ledger(self) -> None:
        """The budget counts what the ledger says is already committed: by
        earlier runs of this crawl (its job, resumed with JOBDIR) and, with
        ``PACER_MONTHLY_BUDGET``, by every crawl this calendar month (UTC)."""
        settings = self.crawler.settings
        monthly = settings.get("PACER_MONTHLY_BUDGET")
        try:
            monthly_c = cents(monthly) if monthly not in (None, "") else None
        except ValueError:
            monthly_c = None
            self.logger.error("PACER_MONTHLY_BUDGET=%r is not an amount of dollars: ignored, "
                              "nothing over -a max_cost is bought", monthly)
        job_id = getattr(self, "job_id", None)
        month = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-01")
        db = adb.open_db(settings.get("ARCHIVE_DB"))
        try:
            prior = cents(adb.committed(db, job_id=job_id)) if job_id else 0
            month_prior = cents(adb.committed(db, since=month)) if monthly_c is not None else 0
        finally:
            db.conn.close()
        self.budget.count_ledger(prior, monthly_c, month_prior)
        if prior:
            self.logger.info("This crawl already committed %s in earlier runs (resumed): it "
                             "counts against -a max_cost", fmt(prior))
        if monthly_c is not None:
            self.logger.info("PACER_MONTHLY_BUDGET %s: %s committed this month", fmt(monthly_c),
                             fmt(month_prior))

    def login_request(self, then, **meta) -> scrapy.Request:
        return scrapy.Request(
            self.login_url, method="POST", body=json.dumps(login_payload(self.creds)),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            callback=self.after_login, errback=self.request_failed, dont_filter=True,
            # the password is in its body: never in JOBDIR's queue (docket_spider.squeues)
            meta={"dont_cache": True, "then": then, "handle_httpstatus_all": True,
                  "dont_merge_cookies": True, "memory_only": True, **meta},
        )

    def after_login(self, response):
        if response.status >= 400 and not response.text.lstrip().startswith("{"):
            self.fail(f"PACER's login service answered HTTP {response.status}.")
        try:
            self.session_token = read_login_answer(response.text, self.creds)
        except PacerLoginError as exc:
            self.fail(str(exc))
        note = ""
        try:
            note = str(json.loads(response.text).get("errorDescription") or "").strip()
        except (ValueError, AttributeError):
            pass
        self.login_gen += 1
        if note:
            self.logger.warning("Logged in to PACER, which says: %s", note)
        else:
            self.logger.info("Logged in to PACER")
        self.logging_in = False
        then = response.meta["then"]
        yield from then()
        waiting, self.waiting_for_login = self.waiting_for_login, []
        for resend in waiting:
            yield from resend()

    def session_cookies(self) -> dict:
        cookies = {}
        if self.session_token:
            cookies = {"NextGenCSO": self.session_token, "PacerSession": self.session_token}
        if self.creds.get("client_code"):
            cookies["PacerClientCode"] = self.creds["client_code"]
        return cookies

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.session_cookies().items())

    def with_session(self, headers=None) -> dict:
        """Headers for a request in this session. The session itself is not among
        them: requests carry ``meta["pacer_session"]`` and CredentialsMiddleware
        adds the cookie only while the request is sent, so no queued (JOBDIR),
        retried or cached request holds it."""
        return dict(headers or {})

    def credential_headers(self, request, realm) -> dict:
        """Called by CredentialsMiddleware as ``request`` is sent, once it has
        checked that the request's host is one of ``realm``'s own (PACER's
        login, ECF and ACMS hosts; CourtListener's API)."""
        if realm == "pacer":
            cookie = self.cookie_header()
            return {"Cookie": cookie} if cookie else {}
        if realm == "acms" and getattr(self, "bearer", None):
            return {"Authorization": f"Bearer {self.bearer}"}
        if realm == "courtlistener":
            token = courtlistener_token()
            return {"Authorization": f"Token {token}"} if token else {}
        return {}

    def pacer_hosts(self) -> list[str]:
        """PACER's hosts for this court (login, ECF, ACMS), for allowed_domains."""
        court = getattr(self, "court", None) or "court"
        return allowed_hosts(self.login_url, *(t.format(court=court) for t in (
            self.ecf_template, self.acms_template, self.acms_api_template) if t))

    def pacer_request(self, url, callback, *, method="GET", formdata=None, body=None,
                      headers=None, meta=None, **kwargs) -> scrapy.Request:
        meta = {"dont_cache": True, "dont_merge_cookies": True, "login_gen": self.login_gen,
                "pacer_session": True,
                "handle_httpstatus_list": [401, 403, 404], **(meta or {})}
        kw = dict(callback=callback, errback=self.request_failed, dont_filter=True,
                  meta=meta, headers=self.with_session(headers), **kwargs)
        if formdata is not None:
            return scrapy.FormRequest(url, formdata=formdata, method=method, **kw)
        return scrapy.Request(url, method=method, body=body, **kw)

    def needs_login(self, response) -> bool:
        """PACER answered with its login form (or 401/403) instead of the page."""
        if response.status in (401, 403):
            return True
        try:
            text = response.text
        except AttributeError:
            return False
        return is_login_page(text)

    MAX_LOGINS = 5  # per crawl: a session that keeps expiring is a problem to report

    def relogin(self, response):
        """Log in again and repeat ``response``'s request, once per request (a
        request answered with the login page twice stops the crawl with a clear
        message). Pages in flight when the session expired wait for the one new
        login, or go again at once if it is already done. A generator: callers
        ``yield from self.relogin(response)``."""
        request = response.request
        sent_with = request.meta.get("login_gen", 0)

        def again():
            headers = {k.decode(): b",".join(v).decode() for k, v in request.headers.items()
                       if k.lower() != b"cookie"}
            yield request.replace(headers=self.with_session(headers),
                                  meta={**resend_meta(request.meta), "login_gen": self.login_gen,
                                        "relogged": True})

        yield from self.not_billed(response, "PACER answered its login page")
        if request.meta.get("relogged"):
            self.fail("PACER keeps answering with its login page: the session is not "
                      "accepted. Check the account at https://pacer.uscourts.gov/ .")
        if sent_with < self.login_gen:  # a newer session exists already
            yield from again()
            return
        if self.logging_in:
            self.waiting_for_login.append(again)
            return
        if self.relogins >= self.MAX_LOGINS:
            self.fail("PACER's session keeps expiring: logged in again "
                      f"{self.relogins} times in this crawl. Try again later.")
        self.relogins += 1
        self.logging_in = True
        self.logger.warning("PACER answered with its login page (session expired?): "
                            "logging in again")
        yield self.login_request(again)

    def request_failed(self, failure):
        request = failure.request
        message = f"{strip_query(request.url)}: {failure.getErrorMessage()}"
        self.crawl_failed = True
        self.crawl_message = message
        self.logger.error("PACER request failed: %s. Everything stored so far is kept.", message)
        # a step that others wait for names what carries on without it
        then = request.meta.get("on_failure")
        if then:
            yield from getattr(self, then)(request.meta)

    # --- money --------------------------------------------------------------
    def charge_item(self, court, what, status, *, cost_c=0, pages=None, pacer_cost=None,
                    docket_number=None, pacer_case_id=None, description=None,
                    document_id=None, url=None, response=None) -> ChargeItem:
        """A ledger row. With ``response`` (PACER's answer to a purchase) it
        settles that purchase's ``started`` row (docket_spider.purchases)."""
        self.charges_count[status] = self.charges_count.get(status, 0) + 1
        return ChargeItem(court_id=court, what=what, status=status, cost=dollars(cost_c),
                          pages=pages, pacer_cost=pacer_cost, docket_number=docket_number,
                          pacer_case_id=pacer_case_id, description=description,
                          document_id=document_id, url=strip_query(url) if url else None,
                          job_id=getattr(self, "job_id", None),
                          ledger_id=response.meta.get("ledger_id") if response is not None else None)

    def purchase(self, key, what, decision, **fields) -> dict:
        """``meta["purchase"]`` for a request PACER bills (docket_spider.purchases)."""
        return purchase_meta(f"{self.court}/{key}/{what}", what, self.court,
                             cost=dollars(decision.worst_cents or 0),
                             job_id=getattr(self, "job_id", None), **fields)

    def not_billed(self, response, why: str):
        """Settle a purchase whose answer PACER does not bill (an error page,
        the login page, a page that is not the report)."""
        if response.meta.get("ledger_id") is not None:
            # what was kept of it would only answer the next attempt with the same page
            PurchaseSpool.from_settings(self.crawler.settings).remove(
                response.meta["purchase"]["key"])
            self.charges_count["not_billed"] = self.charges_count.get("not_billed", 0) + 1
            yield ChargeItem(court_id=self.court, what=response.meta["purchase"]["what"],
                             status="not_billed", cost=0.0, message=why,
                             ledger_id=response.meta["ledger_id"])

    def log_decision(self, decision: Decision, what: str, label: str):
        if decision.status == "would_buy":
            self.logger.info("Would buy %s %s for up to %s (no -a max_cost= given: buying nothing)",
                             what, label, fmt(decision.worst_cents or 0))
        elif decision.status == "over_budget":
            self.logger.warning("Not buying %s %s: %s", what, label, decision.reason)

    def closed(self, reason):
        budget = getattr(self, "budget", None)
        if budget is None:
            return
        line = (f"{budget.summary()}; {self.charges_count.get('charged', 0)} purchases, "
                f"{self.charges_count.get('free', 0)} free, "
                f"{self.charges_count.get('would_buy', 0)} would-buy, "
                f"{self.charges_count.get('over_budget', 0)} skipped over budget")
        self.logger.info(line)
        self.crawler.stats.set_value("pacer/spent_cents", budget.spent)
        if not self.crawl_message:
            self.crawl_message = line


# --- documents ------------------------------------------------------------------

# What Scrapy's middlewares put in a request's meta about its own download
# (latency, retries, redirects): not carried over to the request sent again.
DOWNLOAD_META = frozenset({"download_latency", "retry_times", "redirect_times", "redirect_ttl",
                           "redirect_urls", "redirect_reasons", "_dont_cache", "cache_timestamp",
                           "_auth_proxy", "_scheme_proxy"})


def resend_meta(meta) -> dict:
    """``meta`` for sending a request again (after a new login or a new token)."""
    return {k: v for k, v in meta.items() if k not in DOWNLOAD_META}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def courtlistener_token() -> str:
    """COURTLISTENER_TOKEN from the environment ("" when unset): free copies first."""
    return os.environ.get("COURTLISTENER_TOKEN", "").strip()


def us_date(iso) -> str:
    """2020-10-23 -> 10/23/2020, as PACER's report forms want dates."""
    return _dt.date.fromisoformat(str(iso)[:10]).strftime("%m/%d/%Y")


def document_label(ctx) -> str:
    """"document 12", or "document 12 attachment 3", for logs and the ledger."""
    return f"document {ctx['document_number']}" + (
        f" attachment {ctx['attachment_number']}" if ctx.get("attachment_number") else "")


class PacerDocumentsMixin(PacerSpiderMixin):
    """Buying a case's PDFs (``-a documents=1``), shared by the district and
    appellate spiders. Free first: documents the archive already holds are
    skipped, and what CourtListener's RECAP has (COURTLISTENER_TOKEN set) is
    fetched from there. The rest is asked for with ``document_request(ctx)``
    (the spider's own: district ``doc1/``, appellate ``docs1/``), whose
    confirmation page goes to :meth:`buy_document`: priced, bought only when
    the budget allows, then the purchase POST is made by the files pipeline
    (:meth:`media_request`) so the PDF is stored and extracted.

    The spider sets ``court``, ``pacer_case_id`` (or None), and calls
    ``read_document_settings`` in ``from_crawler``.
    """

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        from docket_spider.spiders.courtlistener import pace_api_slot

        pace_api_slot(crawler.settings)  # CourtListener calls keep its pace here too
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.read_pacer_settings(crawler.settings)
        spider.read_document_settings(crawler.settings)
        # PACER's hosts and CourtListener's, nothing else (OffsiteMiddleware)
        spider.allowed_domains = spider.pacer_hosts() + [
            h for h in allowed_hosts(spider.cl_api_url, spider.cl_storage_url)
            if h not in spider.pacer_hosts()]
        return spider

    def read_document_settings(self, settings):
        self.db_path = settings.get("ARCHIVE_DB")
        self.cl_api_url = settings.get("COURTLISTENER_API_URL").rstrip("/") + "/"
        self.cl_storage_url = settings.get("COURTLISTENER_STORAGE_URL").rstrip("/") + "/"
        self.purchases: dict[str, dict] = {}  # confirmation URL -> form of its page
        self.cl_docs: dict[tuple, dict] = {}  # (pacer_doc_id, attachment) -> CourtListener RECAP document
        self.cl_taken: set[tuple] = set()  # (pacer_doc_id, attachment) already taken from CourtListener
        self.cl_last_date: Optional[str] = None  # last entry CourtListener had of the docket
        self.cl_case_id: Optional[str] = None  # its pacer_case_id there (an ACMS case: a GUID)

    def archive(self):
        return adb.open_db(self.db_path)

    def document_request(self, ctx) -> scrapy.Request:
        raise NotImplementedError

    def documents_from_archive(self, docket_number=None):
        """Without a new report: the documents of the entries the archive has."""
        return self.documents_phase(docket_number or self.docket_number, [])

    def documents_phase(self, docket_number, entries):
        """Documents not yet stored: free from CourtListener when it has them
        (COURTLISTENER_TOKEN set), otherwise priced and bought on PACER."""
        yield from self.fetch_documents(docket_number,
                                        self.document_candidates(docket_number, entries))

    def fetch_documents(self, docket_number, candidates):
        """``candidates`` (documents the archive lacks): CourtListener's copies
        first, then :meth:`document_requests` for the rest."""
        candidates = [c for c in candidates if self.cl_key(c) not in self.cl_taken]
        self.logger.info("%s documents of %s are not in the archive yet", len(candidates),
                         docket_number)
        if not candidates:
            return
        if courtlistener_token() and self.pacer_case_id:
            params = {"docket_entry__docket__court": self.court,
                      "docket_entry__docket__pacer_case_id": self.pacer_case_id,
                      "is_available": "true", "order_by": "id"}
            yield self.cl_request(self.cl_api_url + "recap-documents/?" + urlencode(params),
                                  candidates)
        else:
            yield from self.document_requests(candidates)

    def document_candidates(self, docket_number, entries) -> list[dict]:
        out: dict[str, dict] = {}
        db = self.archive()
        try:
            for entry in entries:
                doc_id = entry.get("pacer_doc_id")
                if doc_id:
                    number = entry.get("document_number")
                    out.setdefault(doc_id, {
                        "docket_number": docket_number, "entry_number": number,
                        "document_number": str(number) if number else None,
                        "attachment_number": 0, "pacer_doc_id": doc_id,
                        "description": entry.get("description"),
                        "date_filed": str(entry.get("date_filed") or "")[:10] or None})
            docket = adb.find_docket(db, self.court, docket_number, self.pacer_case_id)
            if docket:
                for doc in adb.documents_without_file(db, docket["id"]):
                    out.setdefault(doc["pacer_doc_id"], {
                        "docket_number": docket["docket_number"],
                        "entry_number": doc["entry_number"],
                        "document_number": doc["document_number"],
                        "attachment_number": doc["attachment_number"] or 0,
                        "pacer_doc_id": doc["pacer_doc_id"], "description": doc["description"]})
            kept = []
            for ctx in out.values():
                if adb.document_stored(db, self.court, pacer_doc_id=ctx["pacer_doc_id"]):
                    self.crawler.stats.inc_value("pacer/documents_already_stored")
                    continue
                kept.append(ctx)
            return kept
        finally:
            db.conn.close()

    def document_requests(self, candidates):
        for ctx in candidates:
            yield self.document_request(ctx)

    # CourtListener first: what RECAP already has costs nothing
    def cl_request(self, url, candidates):
        return self.cl_api_request(url, self.parse_cl_documents, self.cl_failed,
                                   candidates=candidates)

    def cl_api_request(self, url, callback, errback, **meta):
        from docket_spider.spiders.courtlistener import API_SLOT

        return scrapy.Request(url, callback=callback, errback=errback, dont_filter=True,
                              headers={"Accept": "application/json"},
                              meta={"courtlistener_auth": True, "dont_cache": True,
                                    "download_slot": API_SLOT,
                                    "autothrottle_dont_adjust_delay": True,
                                    "handle_httpstatus_list": [400, 401, 403, 404], **meta})

    # Free first for the docket: CourtListener's copy before PACER's report
    def asks_courtlistener_first(self) -> bool:
        return bool(courtlistener_token()) and not self.full

    def courtlistener_first(self, then: str, pacer_case_id=None):
        """With COURTLISTENER_TOKEN set (and no ``-a full=1``), load the case's
        entries and RECAP documents from CourtListener first; then the PACER
        steps (the spider's method named ``then``) ask only for entries filed
        from the last one CourtListener had (``self.cl_last_date``)."""
        if not self.asks_courtlistener_first():
            yield from getattr(self, then)()
            return
        params = {"court": self.court}
        if pacer_case_id:
            params["pacer_case_id"] = pacer_case_id
        else:
            params["docket_number"] = adb.normalize_docket_number(self.docket_number)
        yield self.cl_api_request(self.cl_api_url + "dockets/?" + urlencode(params),
                                  self.parse_cl_docket, self.cl_docket_failed, then=then)

    def cl_docket_failed(self, failure):
        self.logger.warning("CourtListener could not be asked for the docket (%s): PACER only",
                            failure.getErrorMessage())
        yield from getattr(self, failure.request.meta["then"])()

    def parse_cl_docket(self, response):
        from docket_spider.spiders.courtlistener import docket_item

        then = response.meta["then"]
        try:
            found = (response.json().get("results") or []) if response.status < 400 else []
        except (ValueError, AttributeError):
            found = []
        if len(found) != 1:
            self.logger.info("CourtListener has %s: the docket comes from PACER only",
                             f"HTTP {response.status}" if response.status >= 400
                             else f"{len(found)} dockets matching {self.docket_number}")
            yield from getattr(self, then)()
            return
        docket = found[0]
        item = docket_item(docket)
        self.cl_case_id = item.pacer_case_id
        self.docket_number = self.docket_number or item.docket_number or None
        yield item
        ctx = {"court_id": item.court_id or self.court, "docket_number": item.docket_number,
               "pacer_case_id": item.pacer_case_id}
        params = {"docket": docket["id"], "order_by": "id", "omit": "recap_documents__plain_text"}
        yield self.cl_api_request(self.cl_api_url + "docket-entries/?" + urlencode(params),
                                  self.parse_cl_entries, self.cl_docket_failed, then=then,
                                  docket=ctx, entries=0)

    def parse_cl_entries(self, response):
        from docket_spider.outcome import bad_record
        from docket_spider.spiders.courtlistener import BAD_RECORD, entry_items

        meta = response.meta
        try:
            data = response.json() if response.status < 400 else {}
        except (ValueError, AttributeError):
            data = {}
        entries = meta["entries"]
        results = data.get("results") if isinstance(data, dict) else None
        for entry in results if isinstance(results, list) else []:
            try:  # one entry of an unexpected shape costs that entry
                day = str(entry.get("date_filed") or "")[:10]
                items = list(entry_items(meta["docket"], entry, self.cl_storage_url))
            except BAD_RECORD as exc:
                what = entry.get("id") if isinstance(entry, dict) else type(entry).__name__
                bad_record(self.crawler, self.logger,
                           f"CourtListener docket entry {what} of {self.docket_number}", exc)
                continue
            entries += 1
            if day and (self.cl_last_date is None or day > self.cl_last_date):
                self.cl_last_date = day
            for item in items:
                if isinstance(item, DocumentItem) and item.file_urls:
                    self.cl_taken.add(self.cl_key(vars(item)))
                yield item
        link = self.cl_next_page(response, data)
        if link:
            yield self.cl_api_request(link, self.parse_cl_entries, self.cl_docket_failed,
                                      then=meta["then"], docket=meta["docket"], entries=entries)
            return
        if data.get("next"):  # not followed: PACER is asked for the whole docket
            self.cl_last_date = None
        self.crawler.stats.set_value("pacer/entries_from_courtlistener", entries)
        self.logger.info("CourtListener had %s entries of %s for free (last filed %s); %s "
                         "RECAP documents with it", entries, self.docket_number,
                         self.cl_last_date, len(self.cl_taken))
        yield from getattr(self, meta["then"])()

    def cl_failed(self, failure):
        self.logger.warning("CourtListener could not be asked (%s): buying from PACER instead",
                            failure.getErrorMessage())
        yield from self.document_requests(failure.request.meta["candidates"])

    def parse_cl_documents(self, response):
        candidates = response.meta["candidates"]
        if response.status >= 400:
            self.logger.warning("CourtListener answered %s: buying from PACER instead",
                                response.status)
            yield from self.document_requests(candidates)
            return
        data = response.json()
        for doc in data.get("results") or []:
            if doc.get("is_available") and doc.get("filepath_local") and doc.get("pacer_doc_id"):
                self.cl_docs[(str(doc["pacer_doc_id"]), int(doc.get("attachment_number") or 0))] = doc
        link = self.cl_next_page(response, data)
        if link:
            yield self.cl_request(link, candidates)
            return
        self.logger.info("CourtListener has %s documents of this case for free", len(self.cl_docs))
        rest = []
        for ctx in candidates:
            copy = self.cl_copy(ctx)
            if copy is not None:
                yield self.cl_document(ctx, copy)
            else:
                rest.append(ctx)
        yield from self.document_requests(rest)

    def cl_next_page(self, response, data):
        """CourtListener's next page, if it is on its API's host; a link elsewhere
        is not followed (the token goes only to the API), with a warning."""
        link = data.get("next")
        if not link:
            return None
        link = response.urljoin(str(link))
        if same_origin(link, self.cl_api_url):
            return link
        self.logger.warning("CourtListener's next page after %s points to another host (%s): "
                            "not followed; PACER is asked for what it would have given",
                            strip_query(response.url), strip_query(link))
        return None

    @staticmethod
    def cl_key(ctx) -> tuple:
        return (str(ctx.get("pacer_doc_id")), int(ctx.get("attachment_number") or 0))

    def cl_copy(self, ctx) -> Optional[dict]:
        """CourtListener's copy of a document (its PACER id and attachment number)."""
        return self.cl_docs.get(self.cl_key(ctx))

    def cl_document(self, ctx, doc) -> DocumentItem:
        self.crawler.stats.inc_value("pacer/documents_from_courtlistener")
        attachment = doc.get("attachment_number") or ctx.get("attachment_number") or 0
        return DocumentItem(
            source="courtlistener", court_id=self.court, docket_number=ctx["docket_number"],
            pacer_case_id=self.pacer_case_id, entry_number=_int(ctx.get("entry_number")),
            document_number=ctx.get("document_number") or doc.get("document_number"),
            attachment_number=int(attachment), document_type=2 if attachment else 1,
            description=ctx.get("description") or doc.get("description"),
            pacer_doc_id=ctx["pacer_doc_id"], is_available=True,
            page_count=doc.get("page_count"), sha1=doc.get("sha1") or None,
            courtlistener_id=doc.get("id"),
            file_urls=[urljoin(self.cl_storage_url, doc["filepath_local"].lstrip("/"))])

    # PACER: the confirmation page, then the purchase
    def read_confirmation(self, response):
        """(receipt, text) of a purchase confirmation page; receipt None when the
        page is something else."""
        text = parsers.decode_page(response.body)
        try:
            return parsers.parse("confirmation", text, self.court), text
        except parsers.ParseError:
            return None, text

    def buy_document(self, response, ctx, receipt, text):
        pages = receipt.get("billable_pages")
        label = document_label(ctx)
        if receipt.get("cost") is not None and cents(receipt["cost"]) == 0:
            decision = Decision(True, "buy", 0, "free on PACER")  # opinions cost nothing
        else:
            decision = self.budget.decide("document", pages)
        common = dict(docket_number=ctx["docket_number"], pacer_case_id=self.pacer_case_id,
                      document_id=ctx["pacer_doc_id"], pages=pages, url=response.url)
        if not decision.buy:
            self.log_decision(decision, label, f"({pages} pages)")
            yield self.charge_item(self.court, "document", decision.status,
                                   cost_c=decision.worst_cents or 0,
                                   description=f"{label}; {decision.reason}", **common)
            return
        cost_c = decision.worst_cents or 0
        pacer_cost = receipt.get("cost")
        self.budget.settle(decision, cents(pacer_cost) if pacer_cost is not None else cost_c)
        free = pacer_cost is not None and cents(pacer_cost) == 0
        # The ledger row is written as the purchase is sent (started) and when
        # the PDF arrives (charged or free), by docket_spider.purchases.
        counted = "free" if free else "charged"
        self.charges_count[counted] = self.charges_count.get(counted, 0) + 1
        form = self.purchase_form(response, text)
        form["purchase"] = self.purchase(
            f"doc/{ctx['pacer_doc_id']}/{ctx.get('attachment_number') or 0}", "document", decision,
            settle="pdf", pacer_cost=float(pacer_cost) if pacer_cost is not None else None,
            pages=pages, docket_number=ctx["docket_number"], pacer_case_id=self.pacer_case_id,
            document_id=ctx["pacer_doc_id"],
            description=label + (" (free on PACER: an opinion)" if free else ""))
        self.purchases[response.url] = form
        yield self.document_item_for(ctx, "pacer", response.url, page_count=pages)

    def document_item_for(self, ctx, source, url, *, page_count=None, default_description=None):
        """The DocumentItem of a document ``ctx`` (a candidate) fetched from ``url``."""
        attachment = ctx.get("attachment_number") or 0
        return DocumentItem(
            source=source, court_id=self.court, docket_number=ctx["docket_number"],
            pacer_case_id=self.pacer_case_id, entry_number=_int(ctx.get("entry_number")),
            document_number=ctx.get("document_number"), attachment_number=attachment,
            document_type=2 if attachment else 1,
            description=ctx.get("description") or default_description,
            pacer_doc_id=ctx["pacer_doc_id"],
            is_available=True, page_count=page_count, file_urls=[url])

    @staticmethod
    def purchase_form(response, text) -> dict:
        """The confirmation page's form: where to POST and what (no secrets)."""
        fields, action = {}, response.url
        try:
            tree = lxml_html.fromstring(text)
            form = next(iter(tree.iter("form")), None)
            if form is not None:
                action = response.urljoin(form.get("action") or response.url)
                if not same_origin(action, response.url):  # the session stays on PACER
                    logging.getLogger(__name__).warning(
                        "The purchase form of %s posts to another host (%s): posting to the "
                        "page's own address instead", strip_query(response.url),
                        strip_query(action))
                    action = response.url
                for inp in form.iter("input"):
                    if inp.get("name") and (inp.get("type") or "").lower() not in ("submit", "button"):
                        fields[inp.get("name")] = inp.get("value") or ""
            from parsers.common import go_dls_args

            args = go_dls_args(form.get("onsubmit")) if form is not None else []
            if len(args) > 2:
                fields.setdefault("caseid", args[1])
                fields.setdefault("de_seq_num", args[2])
        except Exception:
            pass
        if "dls_id" in fields:  # CM/ECF appellate (ShowDoc): its page's script stamps recp
            if not fields.get("recp"):
                fields["recp"] = str(int(time.time() * 1000))
        else:  # CM/ECF district
            fields.setdefault("got_receipt", "1")
            fields.setdefault("pdf_header", "1")
        return {"url": action, "fields": fields}

    def media_request(self, item, request):
        """DocumentFilesPipeline asks: the purchase of a PDF is a POST with the session."""
        purchase = self.purchases.get(request.url)
        if purchase is None:
            return None
        return scrapy.FormRequest(purchase["url"], formdata=purchase["fields"],
                                  headers=self.with_session(),
                                  meta={**request.meta, "dont_cache": True, "pacer_session": True,
                                        "dont_merge_cookies": True, "expect_pdf": True,
                                        "purchase": purchase["purchase"]},
                                  callback=request.callback, dont_filter=True)
