"""What a crawl's outcome is: ``finished``, ``failed``, ``incomplete`` or ``shutdown``.

A crawl ``finished`` only when nothing it was asked to fetch is left
unfetched or unrecorded: Scrapy closed it as finished, the spider did not
report a failure (wrong login, source unreachable, case not found), and no
request was lost on the way (an ERROR in the log other than the retry
middleware's "gave up": a page that could not be downloaded, a callback that
raised; or an HTTP error answer that no callback handled). A file that could not be downloaded is
not lost: it is recorded as ``download_failed`` and fetched again next time.

A record the source sent in a shape it should not have (an attorney whose
party links are not objects, an entry that is not one, an RSS item without a
docket number) is not lost by the crawl: the source holds it that way, and a
new crawl would get it the same way. It costs that record only, never its
page: a warning naming it and what was wrong (``bad_record``), a count in
``crawls.bad_records``, and a note in the crawl's message; the crawl still
``finished`` (exit status 0) unless something else went wrong. Whoever wants
to act on them finds them by that count.

The spider owns the outcome (docket_spider/spiders/base.py: ``fail``,
``missed``, ``bad_record``, ``summary``; ``crawl_failed`` and
``crawl_message`` for the archive pipeline, which records them in
``crawls``). This extension adds what the log and the stats show, and puts
the outcome in the stats, from which the project's ``crawl`` command takes
its exit status.
"""
from __future__ import annotations

import logging

from scrapy import signals

logger = logging.getLogger(__name__)


MISSED = "docket_archive/missed"
BAD_RECORDS = "docket_archive/bad_records"


def bad_record(crawler, source_logger, what: str, why) -> None:
    """One record of an unexpected shape was skipped, the others kept: logged
    as a warning naming the record (``what``: the record's kind, its id or
    name, where it came from: never a credential) and what was wrong
    (``why``), and counted for ``crawls.bad_records``."""
    if isinstance(why, BaseException):
        why = f"{type(why).__name__}: {why}"
    source_logger.warning("Skipped a bad record, %s: %s (the others are kept)", what, why)
    crawler.stats.inc_value(BAD_RECORDS)


class CrawlOutcome:
    def __init__(self, crawler):
        self.crawler = crawler
        # connected before the pipelines are built, so this runs before the
        # archive pipeline writes the crawl's row
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats
        # Scrapy's retry middleware logs each request it gives up on as an
        # ERROR; what then happens to it is what counts: an errback that copes
        # (an optional source), or a failure counted below.
        errors = (stats.get_value("log_count/ERROR", 0)
                  - stats.get_value("retry/max_reached", 0))
        # answers Scrapy dropped (an HTTP error no callback asked for), and requests
        # it never sent (a URL over URLLENGTH_LIMIT): lost pages
        ignored = (stats.get_value("httperror/response_ignored_count", 0)
                   + stats.get_value("urllength/request_ignored_count", 0)
                   + stats.get_value(MISSED, 0))
        exceptions = sum(v for k, v in stats.get_stats().items()
                         if k.startswith("spider_exceptions/"))
        if spider.crawl_failed:
            outcome = "failed"
        elif reason == "shutdown":
            outcome = "shutdown"
        elif reason != "finished":
            outcome = "failed"
            spider.incomplete(f"closed: {reason}")
        elif errors > 0 or exceptions or ignored:
            outcome = "incomplete"
            message = (f"{max(errors, 0)} error(s) in the log, {exceptions} in callbacks, "
                       f"{ignored} page(s) not obtained: some of what was asked for is missing; "
                       "run the crawl again")
            spider.incomplete(message)
            logger.error("Crawl incomplete: %s", message)
        else:
            outcome = "finished"
        stats.set_value("docket_archive/outcome", outcome)
