"""The base of the PACER spiders (pacer_district, pacer_appellate).

- **Arguments**: ``-a max_cost=`` (the hard budget, archive/fees.py;
  without it nothing is bought), ``-a documents=1``, ``-a full=1``, ``-a
  rebuy=1|all``. Credentials are never arguments (Scrapy logs those): they
  come from the environment (docket_spider/pacer/session.py).
- **The session**: ``start()`` logs in to PACER, then yields the spider's
  ``first_requests()``. A session that expires is logged in to again, once
  for every page waiting for it: each callback of a PACER page begins ``if
  self.needs_login(response): yield from self.relogin(response); return``.
- **Money**: purchases go through ``self.budget.decide(...)`` /
  ``settle(...)`` and the ledger (``charge_item``, ``purchase``,
  docket_spider/pacer/purchases.py); ``closed()`` says what was spent.
- **Documents** (``-a documents=1``): those the archive lacks, CourtListener's
  copies first (``self.free``, docket_spider/pacer/free_first.py), then the
  spider's ``document_requests(candidates)`` for the rest, whose
  confirmation pages go to ``buy_document``.

Parts: an object that speaks one protocol for the spider (``self.free``:
CourtListener; the appellate spider's CM/ECF and ACMS) has a ``name`` (its
attribute on the spider) and builds its requests with ``request`` or
``pacer_request``, its own methods as callbacks. Those are called through the
spider's ``answer``/``answer_failed`` with the method's name in the
request's meta, so that a request waiting in JOBDIR's queue can be written
down (Scrapy saves a callback by the name of a spider method).

A subclass sets ``court``, ``docket_number`` and ``pacer_case_id`` (None
until known), and defines ``first_requests()`` and
``document_requests(candidates)``.
"""
from __future__ import annotations

import datetime as _dt
import json
import time
from typing import Optional

import scrapy

import parsers
from docket_spider.arguments import SECRET_ARG
from docket_spider.courtlistener import auth_headers, pace_api_slot, token as courtlistener_token
from docket_spider.items import ChargeItem, DocumentItem
from docket_spider.outcome import MISSED
from docket_spider.pacer.documents import document_label, purchase_form
from archive.fees import Budget, Decision, cents, dollars, fmt
from docket_spider.pacer.free_first import CourtListenerFirst
from docket_spider.pacer.purchases import PurchaseRefused, account_for, purchase_meta
from docket_spider.pacer.session import (
    CREDENTIALS_HELP, PacerLoginError, credentials_from_env, is_login_page,
    login_payload, read_login_answer, resend_meta,
)
from docket_spider.spiders.base import BaseSpider
from docket_spider.urls import allowed_hosts, strip_query
from parsers.common import to_int

YES = ("1", "true", "yes", "on")


class PacerSpider(BaseSpider):
    source = "pacer"
    MAX_LOGINS = 5  # per crawl: a session that keeps expiring is a problem to report

    def __init__(self, court=None, max_cost=None, documents=None, full=None, rebuy=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.court = court
        self.pacer_case_id: Optional[str] = None
        self.arg_error = None
        secret = sorted(k for k in kwargs if SECRET_ARG.search(k))
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
        self.want_documents = str(documents or "").lower() in YES
        # what was bought before with its outcome left open (unknown, or billed and
        # lost) is bought again only when asked: -a rebuy=1; -a rebuy=all also buys
        # again a document PACER sold whose file could not be stored
        # (docket_spider.pacer.purchases)
        rebuy = str(rebuy or "").strip().lower()
        self.rebuy = "all" if rebuy == "all" else rebuy in YES
        self.full = str(full or "").lower() in YES
        self.creds: dict = {}
        self.session_token: Optional[str] = None
        self.relogins = 0
        self.login_gen = 0  # bumped at each login; requests remember theirs
        self.logging_in = False
        self.waiting_for_login: list = []
        self.charges_count = {"charged": 0, "would_buy": 0, "over_budget": 0}
        self.documents_decided: set[str] = set()  # purchases decided on (bought or priced)
        self.free = CourtListenerFirst(self)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        pace_api_slot(crawler.settings)  # CourtListener calls keep its pace here too
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.login_url = settings.get("PACER_LOGIN_URL")
        spider.ecf_template = settings.get("PACER_ECF_URL_TEMPLATE")
        spider.acms_template = settings.get("PACER_ACMS_URL_TEMPLATE")
        spider.acms_api_template = settings.get("PACER_ACMS_API_URL_TEMPLATE")
        spider.free.read_settings(settings)
        # PACER's hosts and CourtListener's, nothing else (OffsiteMiddleware)
        pacer = spider.pacer_hosts()
        spider.allowed_domains = pacer + [h for h in spider.free.hosts() if h not in pacer]
        return spider

    async def start(self):
        if self.have_credentials():
            yield self.login_request(self.first_requests)

    def first_requests(self):
        raise NotImplementedError

    def document_requests(self, candidates):
        """Requests that price and buy ``candidates`` on PACER (their
        confirmation pages go to :meth:`buy_document`)."""
        raise NotImplementedError

    # --- requests, and the parts' callbacks --------------------------------------------
    def request(self, url, callback, *, errback=None, formdata=None, meta=None,
                **kwargs) -> scrapy.Request:
        """A request whose callback (and errback: ``request_failed`` unless
        given) may be a part's method (see the module's doc)."""
        meta = dict(meta or {})
        callback = self._routed(callback, meta, "step", self.answer)
        errback = self._routed(errback or self.request_failed, meta, "on_error",
                               self.answer_failed)
        kw = dict(callback=callback, errback=errback, meta=meta, dont_filter=True, **kwargs)
        if formdata is not None:
            return scrapy.FormRequest(url, formdata=formdata, **kw)
        return scrapy.Request(url, **kw)

    def _routed(self, method, meta, key, through):
        owner = getattr(method, "__self__", None)
        if owner is None or owner is self:
            return method
        meta[key] = f"{owner.name}.{method.__name__}"
        return through

    def step(self, name: str):
        """The method a request's meta names: ``"acms.parse_details"`` (a part's)
        or ``"docket_steps"`` (the spider's)."""
        target = self
        for attribute in name.split("."):
            target = getattr(target, attribute)
        return target

    def answer(self, response):
        return self.step(response.meta["step"])(response)

    def answer_failed(self, failure):
        return self.step(failure.request.meta["on_error"])(failure)

    def pacer_request(self, url, callback, *, method="GET", formdata=None, body=None,
                      headers=None, meta=None, **kwargs) -> scrapy.Request:
        """A request in PACER's session: CredentialsMiddleware adds the session
        cookie only while it is sent (``meta["pacer_session"]``), so no queued
        (JOBDIR), retried or cached request holds it."""
        meta = {"dont_cache": True, "dont_merge_cookies": True, "login_gen": self.login_gen,
                "pacer_session": True,
                "handle_httpstatus_list": [401, 403, 404], **(meta or {})}
        if formdata is None:
            kwargs["body"] = body
        return self.request(url, callback, method=method, formdata=formdata, meta=meta,
                            headers=dict(headers or {}), **kwargs)

    def ecf_url(self, court: str, path: str = "") -> str:
        return self.ecf_template.format(court=court).rstrip("/") + "/" + path.lstrip("/")

    def pacer_hosts(self) -> list[str]:
        """PACER's hosts for this court (login, ECF, ACMS), for allowed_domains."""
        court = self.court or "court"
        return allowed_hosts(self.login_url, *(t.format(court=court) for t in (
            self.ecf_template, self.acms_template, self.acms_api_template) if t))

    def credential_headers(self, request, realm) -> dict:
        """Called by CredentialsMiddleware as ``request`` is sent, once it has
        checked that the request's host is one of ``realm``'s own (PACER's
        login, ECF and ACMS hosts; CourtListener's API)."""
        if realm == "pacer":
            cookie = self.cookie_header()
            return {"Cookie": cookie} if cookie else {}
        return auth_headers(realm)  # CourtListener's token; none for another realm

    def request_failed(self, failure):
        request = failure.request
        if not failure.check(PurchaseRefused):  # not bought: the ledger's summary says why
            super().request_failed(failure)
        # a step that others wait for names what carries on without it
        then = request.meta.get("on_failure")
        if then:
            yield from self.step(then)(request.meta)

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
        archive = self.archive()
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
        """PACER's login, then ``then()`` (a generator function: the requests to make)."""
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
        yield from response.meta["then"]()
        waiting, self.waiting_for_login = self.waiting_for_login, []
        for resend in waiting:
            yield from resend()

    def cookie_header(self) -> str:
        cookies = {}
        if self.session_token:
            cookies = {"NextGenCSO": self.session_token, "PacerSession": self.session_token}
        if self.creds.get("client_code"):
            cookies["PacerClientCode"] = self.creds["client_code"]
        return "; ".join(f"{k}={v}" for k, v in cookies.items())

    def needs_login(self, response) -> bool:
        """PACER answered with its login form (or 401/403) instead of the page."""
        if response.status in (401, 403):
            return True
        try:
            text = response.text
        except AttributeError:
            return False
        return is_login_page(text)

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
            yield request.replace(headers=headers,
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
                      f"{self.relogins} times in this crawl. Try again later.",
                      close="pacer_failed")
        self.relogins += 1
        self.logging_in = True
        self.logger.warning("PACER answered with its login page (session expired?): "
                            "logging in again")
        yield self.login_request(again)

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
        line = (f"{self.budget.summary()}; "
                f"{self.charges_count.get('would_buy', 0)} would-buy, "
                f"{self.charges_count.get('over_budget', 0)} skipped over budget")
        self.logger.info(line)
        self.crawler.stats.set_value("pacer/spent_cents", self.budget.spent)
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

    # --- documents -------------------------------------------------------------
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
        candidates = [c for c in candidates if not self.free.taken(c)]
        self.logger.info("%s documents of %s are not in the archive yet", len(candidates),
                         docket_number)
        if not candidates:
            return
        if courtlistener_token() and self.pacer_case_id:
            yield self.free.documents(candidates)
        else:
            yield from self.document_requests(candidates)

    def document_candidates(self, docket_number, entries) -> list[dict]:
        out: dict[str, dict] = {}
        archive = self.archive()
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
        docket = archive.find_docket(self.court, docket_number, self.pacer_case_id)
        if docket:
            for doc in archive.documents_without_file(docket["id"]):
                out.setdefault(doc["pacer_doc_id"], {
                    "docket_number": docket["docket_number"],
                    "entry_number": doc["entry_number"],
                    "document_number": doc["document_number"],
                    "attachment_number": doc["attachment_number"] or 0,
                    "pacer_doc_id": doc["pacer_doc_id"], "description": doc["description"]})
        kept = []
        for ctx in out.values():
            if archive.document_stored(self.court, pacer_doc_id=ctx["pacer_doc_id"]):
                self.crawler.stats.inc_value("pacer/documents_already_stored")
                continue
            kept.append(ctx)
        return kept

    def read_confirmation(self, response):
        """(receipt, text) of a purchase confirmation page; receipt None when the
        page is something else."""
        text = parsers.decode_page(response.body)
        try:
            return parsers.parse("confirmation", text, self.court), text
        except parsers.ParseError:
            return None, text

    def buy_document(self, response, ctx, receipt, text):
        """A confirmation page's document: priced, and bought when the budget
        allows, by the files pipeline posting the page's form (the item's
        ``file_request``), so the PDF is stored and extracted."""
        pages = receipt.get("billable_pages")
        label = document_label(ctx)
        key = f"doc/{ctx['pacer_doc_id']}/{ctx.get('attachment_number') or 0}"
        if key in self.documents_decided:  # reached twice (its entry, its filing's menu)
            return
        self.documents_decided.add(key)
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
        try:
            form = purchase_form(response, text, now_ms=int(time.time() * 1000))
        except parsers.ParseError as exc:
            self.budget.settle(decision, None)
            self.missed("%s of %s: PACER's confirmation page has no purchase form (%s): not bought",
                        label, ctx["docket_number"], exc)
            return
        cost_c = decision.worst_cents or 0
        pacer_cost = receipt.get("cost")
        counted_c = cents(pacer_cost) if pacer_cost is not None else cost_c
        self.budget.settle(decision, counted_c)
        free = pacer_cost is not None and cents(pacer_cost) == 0
        # The ledger row is written as the purchase is sent (started) and when
        # the PDF arrives (charged or free), by docket_spider.pacer.purchases.
        counted = "free" if free else "charged"
        self.charges_count[counted] = self.charges_count.get(counted, 0) + 1
        purchase = self.purchase(
            key, "document", decision,
            settle="pdf", pacer_cost=float(pacer_cost) if pacer_cost is not None else None,
            budget_cents=counted_c, counted_as=counted, pages=pages,
            docket_number=ctx["docket_number"], pacer_case_id=self.pacer_case_id,
            document_id=ctx["pacer_doc_id"],
            description=label + (" (free on PACER: an opinion)" if free else ""))
        # the files pipeline POSTs the form in the session (no cookie in the item)
        yield self.document_item_for(ctx, "pacer", response.url, page_count=pages, file_request={
            "url": form["url"], "formdata": form["fields"],
            "meta": {"dont_cache": True, "pacer_session": True, "dont_merge_cookies": True,
                     "expect_pdf": True, "purchase": purchase}})

    def document_item_for(self, ctx, source, url, *, page_count=None, default_description=None,
                          file_request=None):
        """The DocumentItem of a document ``ctx`` (a candidate) fetched from ``url``."""
        attachment = ctx.get("attachment_number") or 0
        return DocumentItem(
            source=source, court_id=self.court, docket_number=ctx["docket_number"],
            pacer_case_id=self.pacer_case_id, entry_number=to_int(ctx.get("entry_number")),
            document_number=ctx.get("document_number"), attachment_number=attachment,
            document_type=2 if attachment else 1,
            description=ctx.get("description") or default_description,
            pacer_doc_id=ctx["pacer_doc_id"],
            is_available=True, page_count=page_count, file_urls=[url],
            file_request=file_request or {})
