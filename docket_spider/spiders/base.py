"""The base of every spider: it owns the crawl's outcome.

What a spider learns about its crawl, it says with one of these (outcome.py
says how they make the crawl ``finished``, ``failed`` or ``incomplete``):

- ``fail(message)``: the crawl cannot do what it was asked (a wrong login, a
  source that refuses, a case not found). Logged as an error; the crawl
  fails, and its message names every failure (the first three). With
  ``close="<reason>"`` the crawl stops at once, for that reason.
- ``missed(message, *args)``: one thing asked for was not obtained, though
  the crawl goes on (a listing that failed, a purchase not delivered). A
  warning; the crawl will not count as ``finished``.
- ``bad_record(what, why)``: one record of an unexpected shape was skipped,
  the others kept. A warning, counted in ``crawls.bad_records``; the crawl
  still finishes.
- ``summary(line)``: the closing line, the crawl's message when nothing failed.

``crawl_failed`` and ``crawl_message`` hold the outcome for the archive
pipeline, which records it in ``crawls``; ``crawl_args`` the arguments the
crawl is recorded (and locked) by.
"""
from __future__ import annotations

import scrapy
from scrapy.exceptions import CloseSpider

from archive import access, load
from docket_spider import outcome
from docket_spider.items import DocketItem
from docket_spider.urls import strip_query

SHOWN_FAILURES = 3  # failures named in the crawl's message; the others are counted


class BaseSpider(scrapy.Spider):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.crawl_args: dict = {}
        self.crawl_failed = False
        self.crawl_message = ""
        self._failures: list[str] = []

    # --- the outcome --------------------------------------------------------------
    def fail(self, message: str, *, close: str | None = None, log: str | None = None) -> None:
        """The crawl failed: ``message`` says why. The log says ``log`` (default:
        the message; ``""``: nothing, the caller said it)."""
        if log != "":
            self.logger.error(log or message)
        if message not in self._failures:
            self._failures.append(message)
        more = len(self._failures) - SHOWN_FAILURES
        self.crawl_message = "; ".join(self._failures[:SHOWN_FAILURES]) + (
            f"; and {more} more (see the log)" if more > 0 else "")
        self.crawl_failed = True
        if close:
            raise CloseSpider(close)

    def missed(self, message: str, *args) -> None:
        self.logger.warning(message, *args)
        self.crawler.stats.inc_value(outcome.MISSED)

    def bad_record(self, what: str, why) -> None:
        outcome.bad_record(self.crawler, self.logger, what, why)

    def summary(self, line: str) -> None:
        """The crawl's closing line: its message, unless it failed."""
        if not self.crawl_failed:
            self.crawl_message = line

    def incomplete(self, message: str) -> None:
        """What the log and the stats show is missing (outcome.CrawlOutcome): the
        crawl failed; what the spider said of it, if anything, stays its message."""
        self.crawl_failed = True
        self.crawl_message = self.crawl_message or message

    def request_failed(self, failure):
        """The errback of a request whose answer the crawl needs."""
        message = f"{strip_query(failure.request.url)}: {failure.getErrorMessage()}"
        self.fail(message, log=f"Could not fetch {message}. Everything stored so far is kept; "
                               "run the crawl again to continue.")

    # --- items -------------------------------------------------------------------------
    def docket_of(self, record: dict, *, source: str, court_id: str | None = None,
                  documents: bool = True) -> DocketItem:
        """A parsed page's docket as one DocketItem, with the entries (and, with
        ``documents``, their documents) and parties it holds (archive.load's
        mapping); a record of it of an unexpected shape is left out: a bad record."""
        fields, problems = load.docket_record(record, source=source, court_id=court_id,
                                              documents=documents)
        where = f"{source} {fields['court_id']} {fields['docket_number']}"
        for problem in problems:
            self.bad_record(f"{problem['what']} of {where}", problem["error"])
        return DocketItem.of(fields)

    # --- what the crawl reads ---------------------------------------------------------
    def archive(self) -> access.Archive:
        """What the archive has (archive.access: the file read-only, or the writer)."""
        return access.for_crawler(self.crawler)
