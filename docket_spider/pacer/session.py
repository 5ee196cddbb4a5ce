"""The PACER session: credentials, PACER's login, a session that survives
expiry, the budget and the ledger of a spider (PacerSpiderMixin).

Credentials come from the environment only (PACER_USERNAME, PACER_PASSWORD,
optional PACER_CLIENT_CODE and PACER_OTP): Scrapy logs settings and spider
arguments, never the environment.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
from typing import Optional

import scrapy

from archive import access
from docket_spider.items import ChargeItem
from docket_spider.outcome import MISSED
from docket_spider.pacer.fees import Budget, Decision, cents, dollars, fmt
from docket_spider.pacer.purchases import PurchaseRefused, account_for, purchase_meta
from docket_spider.urls import allowed_hosts, strip_query

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


CREDENTIALS_HELP = (
    "PACER credentials are not set. The PACER spiders read them from the environment only: "
    "`export PACER_USERNAME=... PACER_PASSWORD=...` (optional PACER_CLIENT_CODE, and PACER_OTP "
    "for accounts with multi-factor login). A free account: https://pacer.uscourts.gov/register-account ."
)


# What Scrapy's middlewares put in a request's meta about its own download
# (latency, retries, redirects): not carried over to the request sent again.
DOWNLOAD_META = frozenset({"download_latency", "retry_times", "redirect_times", "redirect_ttl",
                           "redirect_urls", "redirect_reasons", "_dont_cache", "cache_timestamp",
                           "_auth_proxy", "_scheme_proxy"})


def resend_meta(meta) -> dict:
    """``meta`` for sending a request again (after a new login or a new token)."""
    return {k: v for k, v in meta.items() if k not in DOWNLOAD_META}


def courtlistener_token() -> str:
    """COURTLISTENER_TOKEN from the environment ("" when unset): free copies first."""
    return os.environ.get("COURTLISTENER_TOKEN", "").strip()


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
        # what was bought before with its outcome left open (unknown, or billed and
        # lost) is bought again only when asked: -a rebuy=1; -a rebuy=all also buys
        # again a document PACER sold whose file could not be stored
        # (docket_spider.pacer.purchases)
        rebuy = str((extra_args or {}).get("rebuy") or "").strip().lower()
        self.rebuy = "all" if rebuy == "all" else rebuy in ("1", "true", "yes", "on")
        self.full = str(full or "").lower() in ("1", "true", "yes", "on")
        self.creds: dict = {}
        self.session_token: Optional[str] = None
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

    # --- login ------------------------------------------------------------
    def have_credentials(self) -> bool:
        if self.arg_error:
            self.fail(self.arg_error)
            return False
        self.creds = credentials_from_env()
        if not self.creds["username"] or not self.creds["password"]:
            self.fail("no PACER credentials", log=CREDENTIALS_HELP)
            return False
        self.count_ledger()
        account = account_for(self.crawler)
        account.buying = self.budget.limit is not None
        if account.disk_full:  # no room for what would be bought: buy nothing at all
            return False
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
        archive = access.for_crawler(self.crawler)
        prior = cents(archive.committed(job_id=job_id)) if job_id else 0
        month_prior = cents(archive.committed(since=month)) if monthly_c is not None else 0
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
            self.fail(f"PACER's login service answered HTTP {response.status}.",
                      close="pacer_failed")
        try:
            self.session_token = read_login_answer(response.text, self.creds)
        except PacerLoginError as exc:
            self.fail(str(exc), close="pacer_failed")
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
                      "accepted. Check the account at https://pacer.uscourts.gov/ .",
                      close="pacer_failed")
        if sent_with < self.login_gen:  # a newer session exists already
            yield from again()
            return
        if self.logging_in:
            self.waiting_for_login.append(again)
            return
        if self.relogins >= self.MAX_LOGINS:
            self.fail("PACER's session keeps expiring: logged in again "
                      f"{self.relogins} times in this crawl. Try again later.", close="pacer_failed")
        self.relogins += 1
        self.logging_in = True
        self.logger.warning("PACER answered with its login page (session expired?): "
                            "logging in again")
        yield self.login_request(again)

    def request_failed(self, failure):
        request = failure.request
        if failure.check(PurchaseRefused):  # not bought: the ledger's summary says why
            then = request.meta.get("on_failure")
            if then:
                yield from getattr(self, then)(request.meta)
            return
        super().request_failed(failure)
        # a step that others wait for names what carries on without it
        then = request.meta.get("on_failure")
        if then:
            yield from getattr(self, then)(request.meta)

    # --- money --------------------------------------------------------------
    def charge_item(self, court, what, status, *, cost_c=0, pages=None, pacer_cost=None,
                    docket_number=None, pacer_case_id=None, description=None,
                    document_id=None, url=None, response=None, answer_kept=None) -> ChargeItem:
        """A ledger row. With ``response`` (PACER's answer to a purchase) it
        settles that purchase's row (docket_spider.pacer.purchases)."""
        self.charges_count[status] = self.charges_count.get(status, 0) + 1
        ledger_id = response.meta.get("ledger_id") if response is not None else None
        if ledger_id is not None and not response.meta.get("spooled"):
            account_for(self.crawler).note(ledger_id, status, cost=dollars(cost_c),
                                           pacer_cost=pacer_cost, answer_kept=answer_kept)
        return ChargeItem(court_id=court, what=what, status=status, cost=dollars(cost_c),
                          pages=pages, pacer_cost=pacer_cost, docket_number=docket_number,
                          pacer_case_id=pacer_case_id, description=description,
                          document_id=document_id, url=strip_query(url) if url else None,
                          job_id=getattr(self, "job_id", None), ledger_id=ledger_id,
                          answer_kept=answer_kept)

    def purchase(self, key, what, decision, **fields) -> dict:
        """``meta["purchase"]`` for a request PACER bills (docket_spider.pacer.purchases)."""
        return purchase_meta(f"{self.court}/{key}/{what}", what, self.court,
                             cost=dollars(decision.worst_cents or 0),
                             job_id=getattr(self, "job_id", None), **fields)

    def not_billed(self, response, why: str):
        """Settle a purchase whose answer PACER does not bill (an error page,
        the login page, a page that is not the report)."""
        if response.meta.get("ledger_id") is not None:
            account = account_for(self.crawler)
            # what was kept of it would only answer the next attempt with the same page
            account.stored(response.meta["purchase"]["key"])
            if not response.meta.get("spooled"):
                account.note(response.meta["ledger_id"], "not_billed")
            self.charges_count["not_billed"] = self.charges_count.get("not_billed", 0) + 1
            yield ChargeItem(court_id=self.court, what=response.meta["purchase"]["what"],
                             status="not_billed", cost=0.0, message=why,
                             ledger_id=response.meta["ledger_id"])

    def answer_used(self, response) -> None:
        """What PACER's answer to a purchase held is stored (or held nothing new):
        the spool need not keep it."""
        key = (response.meta.get("purchase") or {}).get("key")
        if key:
            account_for(self.crawler).stored(key)

    def purchase_not_made(self, request) -> None:
        """A purchase was not made after all (an earlier one is open, the disk
        is full, its answer was kept from an earlier crawl, its file is stored
        already): what the budget counted for it is not spent."""
        if request.meta.get("not_made"):
            return
        request.meta["not_made"] = True
        decision = request.meta.get("decision")
        if decision is not None:  # a report: settled by its callback, which will not run
            self.budget.settle(decision, None)
            return
        purchase = request.meta.get("purchase") or {}
        counted = purchase.get("budget_cents")
        if counted:
            self.budget.spent -= counted
            status = purchase.get("counted_as")
            if status and self.charges_count.get(status):
                self.charges_count[status] -= 1

    def log_decision(self, decision: Decision, what: str, label: str):
        if decision.status == "would_buy":
            self.logger.info("Would buy %s %s for up to %s (no -a max_cost= given: buying nothing)",
                             what, label, fmt(decision.worst_cents or 0))
        elif decision.status == "over_budget":
            self.logger.warning("Not buying %s %s: %s", what, label, decision.reason)

    def closed(self, reason):
        """The summary: the budget, then the ledger of this crawl (charged, not
        billed, unknown) with every purchase or document left open. The crawl
        is complete only when nothing it was asked for is missing."""
        budget = getattr(self, "budget", None)
        if budget is None:
            return
        line = (f"{budget.summary()}; "
                f"{self.charges_count.get('would_buy', 0)} would-buy, "
                f"{self.charges_count.get('over_budget', 0)} skipped over budget")
        self.logger.info(line)
        self.crawler.stats.set_value("pacer/spent_cents", budget.spent)
        account = account_for(self.crawler, create=False)
        missing = 0
        if account is not None:
            account.close()
            ledger, missing = account.report(self.logger)
            line = f"{line}; {ledger.replace('PACER ledger of this crawl: ', 'ledger: ')}"
        if missing:
            self.crawler.stats.inc_value(MISSED, missing)
            line = (f"{line}; {missing} thing(s) asked for are missing (see the log): "
                    "incomplete")
        self.summary(line)
