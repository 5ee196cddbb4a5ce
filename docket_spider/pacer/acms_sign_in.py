"""Signing in to ACMS and keeping its API token: the flow since the court's
2025 move of ACMS to a new web front end.

1. PACER's central login (docket_spider.pacer), as for CM/ECF.
2. ``GET https://{court}-showdoc.azurewebsites.us/`` with PACER's session
   answers an auto-submitting form holding ``SAMLResponse`` and
   ``RelayState``. None there: PACER's session is no longer valid, so PACER
   is logged in to again, once; a second answer without one fails the crawl.
3. ``POST`` those inputs to ``/Saml2/Acs``. Signed in only if the answer sets
   ACMS's ``.AspNetCore.saml2`` session cookie (long values are split into
   ``…C1``, ``…C2``): a rejected sign-in also answers 200, with Azure's
   ``ARRAffinity`` cookies, and fails the crawl with a clear message. The
   cookies live in one Scrapy cookie jar per court (``meta["cookiejar"]``),
   never in a request that is queued, retried, cached or logged.
4. ``GET /Home/IndexContent`` (cookie-authenticated) holds the web app's
   ``showDocViewModel``: the bearer token (``AuthToken.Token``) and the user
   (``PacerUser``: ``CsoId``, ``ContactType``). Without one there (ACMS's
   session has ended) the spider signs in again, once.
5. The API takes ``Authorization: Bearer <Token>`` (CredentialsMiddleware adds
   it as a request is sent). An API answer 401 (the token expired) reads
   IndexContent again, once per expired token (calls refused meanwhile wait
   for it) and asks again; a token refused before any call got past it ends
   ACMS for the crawl, so nothing loops. A token close to its expiry is
   replaced before a bought file is handed to the files pipeline, which cannot
   ask for a new one.

The pages are read by parsers.acms_session. Neither the token nor a cookie is
ever logged.

``AcmsSignIn`` is the part of ACMS (docket_spider/pacer/acms_docket.py, the
case, its docket and documents) that owns the sign-in and the token. Its
``session(then)`` yields ``then()``'s requests once a token is there;
``api_request`` makes a call of the API; each API callback begins ``if
sign_in.refused(response): yield from sign_in.token_expired(response);
return``; ``pending`` is a budget decision to settle if signing in fails.
"""
from __future__ import annotations

import datetime as dt
import json

import parsers
from docket_spider.pacer.session import resend_meta
from docket_spider.urls import strip_query
from parsers import acms_session

ACMS_COURTS = ("ca2", "ca9")  # the courts of appeals with ACMS
ACMS_MAX_TOKENS = 20  # API tokens refused (401) in one crawl before giving up
# an ACMS file is fetched by the files pipeline, which cannot ask for a new token: a
# token this close to its expiry is replaced first
ACMS_TOKEN_MARGIN = dt.timedelta(minutes=2)


class AcmsSignIn:
    """ACMS's sign-in and API token, for the ACMS part of a PACER spider."""

    name = "acms.sign_in"  # where the spider finds it (spider.acms.sign_in)

    def __init__(self, spider):
        self.spider = spider
        self.bearer = None  # the API token: never logged
        self.token_gen = 0  # bumped at each token read; API requests remember theirs
        self.token_worked = 0  # the latest token some API call was answered with
        self.token_expires = None  # when the token expires (UTC), if ACMS says
        self.refreshes = 0
        self.busy = False  # a sign-in or token read is on its way
        self.waiting: list = []  # what waits for it (generator functions)
        self.pending = None  # a budget decision waiting for ACMS, settled if it fails
        self.given_up = False  # signing in failed: ACMS is not asked again this crawl
        self.contact = {"csoId": None, "contactType": "Pacer"}

    @property
    def court(self) -> str:
        return self.spider.court

    @property
    def logger(self):
        return self.spider.logger

    # --- the API -------------------------------------------------------------------
    def api_url(self, path):
        return self.spider.acms_api_template.format(court=self.court).rstrip("/") + "/" + path

    def api_request(self, path, callback, *, method="GET", data=None, meta=None):
        """A call of ACMS's API (``{court}-showdocservices``), with the bearer token
        (added as it is sent: CredentialsMiddleware) and the number of the token
        it goes with, so a 401 tells an expired token from an older one."""
        headers = {"Accept": "application/json"}
        body = None
        if data is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(data)
        return self.spider.pacer_request(self.api_url(path), callback, method=method, body=body,
                                         headers=headers,
                                         meta={**(meta or {}), "acms_bearer": True,
                                               "acms_token_gen": self.token_gen})

    # --- signing in and the token ----------------------------------------------------
    def session(self, then):
        """Yield ``then()``'s requests as soon as ACMS has given a bearer token:
        the first time by signing in, later (the token expired) by reading the
        session's page content again. Asked while a token is on its way, ``then``
        waits for that one."""
        if self.given_up:
            return
        self.waiting.append(then)
        if self.busy:
            return
        self.busy = True
        yield self.index_request(False) if self.bearer else self.sign_in_request()

    def web_request(self, path, callback, *, formdata=None, meta=None, pacer_session=False):
        """A request to ACMS's web app (``{court}-showdoc``), in this court's own
        cookie jar (Scrapy's CookiesMiddleware, ``meta["cookiejar"]``); the jar's
        Cookie header is on the request only while it is sent
        (CredentialsMiddleware). Redirects are not followed: each answer's own
        Set-Cookie is what is judged."""
        meta = {"dont_cache": True, "cookiejar": f"acms:{self.court}", "dont_merge_cookies": False,
                "pacer_session": pacer_session, "login_gen": self.spider.login_gen,
                "dont_redirect": True,
                "handle_httpstatus_list": [301, 302, 303, 307, 308, 401, 403, 404], **(meta or {})}
        url = self.spider.acms_template.format(court=self.court).rstrip("/") + "/" + path
        return self.spider.request(url, callback, formdata=formdata, meta=meta)

    def sign_in_request(self):
        self.spider.crawler.stats.inc_value("pacer/acms_sign_ins")
        return self.web_request("", self.parse_sign_in, pacer_session=True)

    def parse_sign_in(self, response):
        """ACMS's ``/``: the SAML hand-off form, posted to ``/Saml2/Acs``. No
        SAMLResponse on it (PACER's login form instead): PACER's session is no
        longer valid, so log in to PACER again, once."""
        form = acms_session.saml_form(parsers.decode_page(response.body))
        if form is None:
            if response.meta.get("relogged"):
                self.failed(
                    f"ACMS ({self.court}) still answers without a SAMLResponse (HTTP "
                    f"{response.status}) after a new PACER login: it does not take this PACER "
                    "session. Check that the account can use the court of appeals' ACMS "
                    "(https://pacer.uscourts.gov/), then run again.")
                return
            self.logger.warning("ACMS (%s) answered without a SAMLResponse: PACER's session is no "
                                "longer valid", self.court)
            yield from self.spider.relogin(response)
            return
        # the body is a credential: it stays out of JOBDIR (docket_spider.squeues)
        yield self.web_request("Saml2/Acs", self.parse_acs, formdata=form["fields"],
                               meta={"memory_only": True})

    def parse_acs(self, response):
        """``/Saml2/Acs``'s answer. Signed in only if it set ACMS's session cookie
        (``.AspNetCore.saml2``): a rejected sign-in also answers 200, with ACMS's
        own sign-in page and Azure's ARRAffinity cookies."""
        names = acms_session.saml_session_cookies(response.headers.getlist("Set-Cookie"))
        if not names:
            self.failed(
                f"ACMS ({self.court}) rejected the SAML sign-in: its answer (HTTP "
                f"{response.status}) set no {acms_session.SESSION_COOKIE} session cookie. PACER's "
                "login worked, but ACMS did not accept it; check that the PACER account can use "
                "ACMS, then run again.")
            return
        self.logger.info("Signed in to ACMS (%s): %s session cookie(s)", self.court, len(names))
        yield self.index_request(True)

    def index_request(self, signed_in):
        return self.web_request("Home/IndexContent", self.parse_index,
                                meta={"acms_signed_in": signed_in})

    def parse_index(self, response):
        """``/Home/IndexContent``: its showDocViewModel holds the bearer token
        (AuthToken.Token) and the user (PacerUser: CsoId, ContactType). None
        there: ACMS's session has ended, so sign in again, once."""
        model, why = None, f"HTTP {response.status}"
        if response.status == 200:
            try:
                model = acms_session.view_model(parsers.decode_page(response.body))
            except parsers.ParseError as exc:
                why = str(exc)
        if model is None:
            if response.meta.get("acms_signed_in"):
                self.failed(f"ACMS ({self.court}) signed in, but its page content "
                            f"(Home/IndexContent) gave no API token: {why}.")
                return
            self.logger.info("ACMS's session has ended (Home/IndexContent: %s): signing in again",
                             why)
            yield self.sign_in_request()
            return
        self.bearer = model["token"]
        self.token_expires = model.get("expires_at")
        self.token_gen += 1
        self.contact = {"csoId": model["cso_id"], "contactType": model["contact_type"]}
        self.spider.crawler.stats.inc_value("pacer/acms_tokens")
        self.logger.info("ACMS (%s) gave an API token%s", self.court,
                         f" (valid until {model['expires']})" if model.get("expires") else "")
        self.busy = False
        waiting, self.waiting = self.waiting, []
        for then in waiting:
            yield from then()

    def with_fresh_token(self, item, label):
        """``item`` (a bought ACMS file, fetched by the files pipeline with the
        token of that moment) once the token is not about to expire: when it
        is, or a new one is on its way, after the new one."""
        if not (self.busy or self.token_expiring()):
            yield item
            return
        if not self.busy:
            self.logger.info("ACMS's token expires at %s: reading a new one before fetching %s",
                             self.token_expires, label)
        yield from self.session(lambda: iter([item]))

    def token_expiring(self) -> bool:
        return (self.token_expires is not None
                and self.token_expires - dt.datetime.now(dt.timezone.utc) < ACMS_TOKEN_MARGIN)

    def failed(self, message):
        """Signing in to ACMS failed: nothing of ACMS can be had in this crawl."""
        self.busy, self.waiting, self.given_up = False, [], True
        if self.pending is not None:
            self.spider.budget.settle(self.pending, None)
            self.pending = None
        self.spider.fail(message)

    def refused(self, response) -> bool:
        """The API answered 401: the token expired (or was never good). Any
        other answer shows the token it was sent with works."""
        if response.status == 401:
            return True
        self.token_worked = max(self.token_worked, response.meta.get("acms_token_gen", 0))
        return False

    def token_expired(self, response):
        """Ask again with a new token: read once per expired token (requests
        refused with the same token wait for that one), and a request refused
        again with the token read for it stops ACMS with a clear message. A
        generator: ``yield from sign_in.token_expired(response)``."""
        request = response.request
        sent_with = request.meta.get("acms_token_gen", 0)

        def again():
            yield request.replace(meta={**resend_meta(request.meta),
                                        "acms_token_gen": self.token_gen,
                                        "acms_token_retry": self.token_gen})

        if sent_with < self.token_gen:  # a newer token exists already
            yield from again()
            return
        if request.meta.get("acms_token_retry") == sent_with and self.token_worked < sent_with:
            # sent again with a token read after its first 401, which no call got past
            if request.meta.get("decision") is not None:
                self.spider.budget.settle(request.meta["decision"], None)
            self.failed(
                f"ACMS's API refused (HTTP 401) the token ACMS had just given "
                f"({strip_query(request.url).rsplit('/api/', 1)[-1]}): its sign-in works but the "
                "API does not take it. Try again later.")
            return
        if not self.busy:
            if self.refreshes >= ACMS_MAX_TOKENS:
                self.failed(f"ACMS's API token keeps expiring: read {self.refreshes} "
                            "times in this crawl. Try again later.")
                return
            self.refreshes += 1
            self.logger.warning("ACMS's API answered 401 (its token expired): reading a new one")
        yield from self.session(again)
