"""Downloader middlewares."""
from __future__ import annotations

import email.utils
import logging
import time

from scrapy.exceptions import IgnoreRequest

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
        if wait is None:
            wait = self.default_wait
        times = request.meta.get("retry_after_times", 0) + 1
        stats = self.crawler.stats
        stats.inc_value(f"retry_after/{response.status}")
        if wait > self.max_wait or times > self.max_times:
            logger.error(
                "Rate limited by %s %d times (Retry-After %.0fs): giving up on %s. "
                "Run the crawl again later; nothing stored so far is lost.",
                request.url.split("?")[0], times, wait, request.url)
            stats.inc_value("retry_after/gave_up")
            raise IgnoreRequest(f"rate limited: Retry-After {wait:.0f}s")
        self._hold_slot(request, wait)
        logger.warning("Rate limited (HTTP %d): waiting %.1fs as the server asks, then "
                       "retrying %s", response.status, wait, request.url)
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


class CredentialsMiddleware:
    """Put credentials on a request only while it is being sent.

    A spider that needs them defines ``credential_headers(request) -> dict``.
    The headers are added here, next to the downloader, and taken off again
    as soon as the answer (or the error) comes back, so no request that is
    queued on disk (JOBDIR), retried, redirected, cached or logged ever
    carries a token, a password or a session cookie.
    """

    KEY = "_credential_headers"

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        provide = getattr(self.crawler.spider, "credential_headers", None)
        headers = provide(request) if provide else None
        if headers:
            for name, value in headers.items():
                request.headers[name] = value
            request.meta[self.KEY] = list(headers)
        return None

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
