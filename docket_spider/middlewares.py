"""Downloader middlewares."""
from __future__ import annotations

import email.utils
import logging
import re
import time

from scrapy.downloadermiddlewares.cookies import CookiesMiddleware as ScrapyCookiesMiddleware
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware as ScrapyOffsiteMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from tldextract import TLDExtract

from docket_spider.urls import origin, strip_query

logger = logging.getLogger(__name__)


def retry_after_seconds(value, now=None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class RetryAfterMiddleware:
    """Honour 429 (and 503 with Retry-After): wait as long as asked, then retry.

    Scrapy's RetryMiddleware retries at once and gives up after RETRY_TIMES;
    a rate limit needs the opposite: hold back the whole download slot (every
    request to that API) until Retry-After has passed, and never drop the
    request because of the limit. It gives up only past RETRY_AFTER_MAX_WAIT
    or RETRY_AFTER_MAX_TIMES, and says so.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.max_wait = settings.getfloat("RETRY_AFTER_MAX_WAIT", 24 * 3600)
        self.max_times = settings.getint("RETRY_AFTER_MAX_TIMES", 100)
        self.default_wait = settings.getfloat("RETRY_AFTER_DEFAULT", 60)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        if response.status != 429 and not (
            response.status == 503 and b"Retry-After" in response.headers
        ):
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        asked = wait is not None
        if not asked:
            wait = self.default_wait
        times = request.meta.get("retry_after_times", 0) + 1
        stats = self.crawler.stats
        stats.inc_value(f"retry_after/{response.status}")
        if wait > self.max_wait or times > self.max_times:
            logger.error(
                "Rate limited by %s %d times (Retry-After %.0fs): giving up on %s. "
                "Run the crawl again later; nothing stored so far is lost.",
                strip_query(request.url), times, wait, request.url)
            stats.inc_value("retry_after/gave_up")
            raise IgnoreRequest(f"rate limited: Retry-After {wait:.0f}s")
        self._hold_slot(request, wait)
        logger.warning("Rate limited (HTTP %d): waiting %.1fs %s, then retrying %s",
                       response.status, wait,
                       "as the server asks" if asked else
                       "(the server gave no Retry-After; RETRY_AFTER_DEFAULT)",
                       request.url)
        retry = request.replace(dont_filter=True, priority=request.priority + 1)
        retry.meta["retry_after_times"] = times
        return retry

    def _hold_slot(self, request, wait: float) -> None:
        """Keep every request of this slot back until ``wait`` seconds from now."""
        engine = self.crawler.engine
        downloader = getattr(engine, "downloader", None)
        if downloader is None:
            return
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is not None:
            # The downloader sends a slot's next request once
            # monotonic() - lastseen >= delay; a slot with no delay is never held.
            if slot.delay <= 0:
                slot.delay = 0.001
            slot.lastseen = max(slot.lastseen, time.monotonic() + wait - slot.delay)


# --- hosts: where a crawl may go, and where each credential may go -------------

_COURT_MARK = "xcourtmarkx"  # stands for {court} in a URL template's host


class OriginPattern:
    """An origin given by a URL or a URL template (``https://ecf.{court}.uscourts.gov/``:
    ``{court}`` in the host stands for any court id)."""

    def __init__(self, url_or_template: str):
        found = origin(str(url_or_template).replace("{court}", _COURT_MARK))
        if found is None:
            raise ValueError(f"not an http(s) URL: {url_or_template!r}")
        self.scheme, host, self.port = found
        self.label = f"{host.replace(_COURT_MARK, '{court}')}:{self.port}"
        self.host = re.compile(re.escape(host).replace(_COURT_MARK, "[a-z0-9]+") + r"\Z")

    def matches(self, url) -> bool:
        found = origin(url)
        return (found is not None and found[0] == self.scheme and found[2] == self.port
                and self.host.match(found[1]) is not None)


# A request asks for a credential with a meta flag; each credential has its realm,
# the hosts it may be sent to (from the settings, scheme and port included).
REALM_FLAGS = {"courtlistener_auth": "courtlistener", "pacer_session": "pacer",
               "acms_bearer": "acms"}
REALM_SETTINGS = {
    "courtlistener": ("COURTLISTENER_API_URL",),
    "pacer": ("PACER_LOGIN_URL", "PACER_ECF_URL_TEMPLATE", "PACER_ACMS_URL_TEMPLATE",
              "PACER_ACMS_API_URL_TEMPLATE"),
    "acms": ("PACER_ACMS_URL_TEMPLATE", "PACER_ACMS_API_URL_TEMPLATE"),
}
REALM_NAMES = {"courtlistener": "CourtListener token", "pacer": "PACER session",
               "acms": "ACMS bearer token"}


def credential_realms(settings) -> dict[str, list[OriginPattern]]:
    return {realm: [OriginPattern(settings.get(name)) for name in names if settings.get(name)]
            for realm, names in REALM_SETTINGS.items()}


class HostsOffsiteMiddleware(ScrapyOffsiteMiddleware):
    """Scrapy's OffsiteMiddleware (the spider's ``allowed_domains``), with two
    differences. ``dont_filter`` here means "not a duplicate" (retries,
    re-logins, cursor pages, polls), not "any host", so a redirect of such a
    request to another host is not followed either; only ``allow_offsite``
    lets a request out. And the check is made as a request is sent, not when
    it is scheduled, so the request's errback hears of it (a page dropped
    silently would leave a crawl "finished" without it), with a warning.
    """

    def request_scheduled(self, request, spider=None) -> None:
        return None

    def process_request(self, request):
        if request.meta.get("allow_offsite") or self.should_follow(request, self.crawler.spider):
            return None
        host = urlparse_cached(request).hostname
        came_from = (request.meta.get("redirect_urls") or [None])[-1]
        if came_from:
            message = (f"{strip_query(came_from)} redirected to {strip_query(request.url)}, on "
                       f"{host!r}, which is not one of this crawl's hosts: not followed")
        else:
            message = (f"{strip_query(request.url)} is on {host!r}, which is not one of this "
                       "crawl's hosts: not fetched")
        logger.warning(message)
        self.stats.inc_value("offsite/filtered")
        raise IgnoreRequest(message)


class CredentialsMiddleware:
    """Put credentials on a request only while it is being sent, and only to
    their own hosts.

    A request asks for a credential with a meta flag (``courtlistener_auth``,
    ``pacer_session``, ``acms_bearer``); the spider's
    ``credential_headers(request, realm) -> dict`` gives the headers. They
    are added here, next to the downloader, only if the request's scheme,
    host and port are among the realm's own (CourtListener's token:
    COURTLISTENER_API_URL; PACER's session: PACER_LOGIN_URL, the ECF and
    ACMS templates; ACMS's bearer: the ACMS templates). A flagged request for
    any other host, a redirect there included (its meta is the original's),
    is not sent at all: it fails with a warning, so nothing from another host
    reaches a callback. The headers are taken off again as soon as the answer
    (or the error) comes back, before the redirect, retry and cache
    middlewares see the request, so no request that is queued on disk
    (JOBDIR), retried, redirected, cached or logged ever carries a token, a
    password or a session cookie.

    A request with its own cookie jar (``meta["cookiejar"]``: ACMS's session,
    one jar per court) gets its ``Cookie`` header from Scrapy's
    CookiesMiddleware; a session cookie given here is added to that header,
    not put in its place, and the whole header is taken off again on the way
    back like the others (the jar keeps the cookies, the request does not).
    """

    KEY = "_credential_headers"

    def __init__(self, crawler):
        self.crawler = crawler
        self.realms = credential_realms(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def allows(self, realm: str, url: str) -> bool:
        return any(p.matches(url) for p in self.realms.get(realm, ()))

    def process_request(self, request):
        names = []
        if request.meta.get("cookiejar") is not None and b"Cookie" in request.headers:
            names.append("Cookie")  # the jar's: sent, then taken off again
            request.meta[self.KEY] = names
        realms = [realm for flag, realm in REALM_FLAGS.items() if request.meta.get(flag)]
        if not realms:
            return None
        refused = [realm for realm in realms if not self.allows(realm, request.url)]
        if refused:
            self._strip(request)
            self._refuse(request, refused)
        provide = getattr(self.crawler.spider, "credential_headers", None)
        for realm in realms if provide else ():
            for name, value in (provide(request, realm) or {}).items():
                if name.lower() == "cookie" and "Cookie" in names and b"Cookie" in request.headers:
                    value = request.headers[b"Cookie"].decode("latin-1") + "; " + value
                    name = "Cookie"
                request.headers[name] = value
                if name not in names:
                    names.append(name)
        if names:
            request.meta[self.KEY] = names
        return None

    def _refuse(self, request, refused):
        realm = refused[0]
        what = REALM_NAMES.get(realm, realm)
        own = ", ".join(p.label for p in self.realms.get(realm, ())) or "no host (not configured)"
        came_from = (request.meta.get("redirect_urls") or [None])[-1]
        if came_from:
            message = (f"{strip_query(came_from)} redirected to {strip_query(request.url)}, another "
                       f"host: not followed (the {what} goes only to {own})")
        else:
            message = (f"Not sending {strip_query(request.url)}: it is on another host, and the "
                       f"{what} goes only to {own}")
        logger.warning(message)
        self.crawler.stats.inc_value(f"credentials/refused/{realm}")
        raise IgnoreRequest(message)

    def _strip(self, request):
        for name in request.meta.pop(self.KEY, ()):
            if name in request.headers:
                del request.headers[name]

    def process_response(self, request, response):
        self._strip(request)
        return response

    def process_exception(self, request, exception):
        self._strip(request)
        return None


# The public suffix list that tldextract ships with; never fetched, never cached.
_SHIPPED_SUFFIXES = TLDExtract(cache_dir=None, suffix_list_urls=(),
                               include_psl_private_domains=True)


class CookiesMiddleware(ScrapyCookiesMiddleware):
    """Scrapy's cookie jars (``meta["cookiejar"]``: ACMS's session, one jar per
    court), judging cookie domains by the public suffix list tldextract ships
    with. Scrapy's own fetches that list from the internet the first time a
    cookie arrives: a blocking request, in the middle of a crawl, to a host
    that is none of the crawl's (and a traceback in the log without internet).
    As Scrapy's: a cookie for a public suffix is kept only for the exact host
    that set it."""

    def _process_cookies(self, cookies, *, jar, request):
        hostname = urlparse_cached(request).hostname
        if hostname is None:
            return
        request_domain = hostname.lower()
        for cookie in cookies:
            cookie_domain = cookie.domain.removeprefix(".")
            if cookie_domain and not _SHIPPED_SUFFIXES(cookie_domain).domain:
                if cookie_domain != request_domain:
                    continue
                cookie.domain = request_domain
            jar.set_cookie_if_ok(cookie, request)

