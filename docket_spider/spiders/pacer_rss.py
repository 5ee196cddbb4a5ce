"""A district court's free PACER RSS feed: new entries of the cases we archive.

    scrapy crawl pacer_rss -a court=cand
    */30 * * * * cd /path/to/docket-archive && .venv/bin/scrapy crawl pacer_rss -a court=cand -L WARNING

``rss_outside.pl`` needs no login and costs nothing; it carries about a
day of recent entries (the channel description says which kinds). Only
entries of cases already in the archive are recorded (matched by docket
number); the crawl logs how many new entries it found per case.

Every distinct entry of the feed is its own row (parsers/rss.py says which
items are one entry; archive.load.entry_rows how an entry without a number is
keyed), and an item seen again in a later feed (feeds overlap) is the same
row. An item that cannot be read (no docket number in its title...) is a bad
record: logged, counted in the crawl's ``bad_records``, the others kept.
"""
from __future__ import annotations

import scrapy

import parsers
from archive import db as adb
from archive.cases import DISTRICT
from docket_spider.items import DocketItem
from docket_spider.spiders.base import BaseSpider
from docket_spider.urls import allowed_hosts, strip_query
from parsers.common import docket_number_key


class PacerRssSpider(BaseSpider):
    name = "pacer_rss"
    custom_settings = {"HTTPCACHE_ENABLED": False}  # a feed must be read fresh

    def __init__(self, court=None, **kwargs):
        super().__init__(**kwargs)
        self.court = (court or DISTRICT["court"]).strip().lower()
        self.crawl_args = {"court": self.court}
        self.new_entries = 0
        self.cases_matched = 0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.ecf_template = crawler.settings.get("PACER_ECF_URL_TEMPLATE")
        spider.allowed_domains = allowed_hosts(spider.ecf_template.format(court=spider.court))
        return spider

    async def start(self):
        url = self.ecf_template.format(court=self.court).rstrip("/") + "/cgi-bin/rss_outside.pl"
        yield scrapy.Request(url, callback=self.parse_feed, errback=self.request_failed,
                             dont_filter=True, meta={"handle_httpstatus_list": [404]})

    def parse_feed(self, response):
        if response.status == 404:
            self.fail(f"{self.court} has no RSS feed", log=f"{self.court} has no public RSS feed "
                      f"({strip_query(response.url)} answered 404).")
            return
        try:
            feed = parsers.parse("rss", response.body, self.court)
        except parsers.ParseError as exc:
            self.fail(f"not an RSS feed: {exc}", log=f"The answer of {strip_query(response.url)} "
                      f"is not an RSS feed: {exc}")
            return
        for bad in feed.get("unparsed_items") or []:
            self.bad_record(f"RSS item {bad.get('title')!r} ({bad.get('pub_date')}) of "
                            f"{self.court}'s feed", bad.get("error") or "not tied to a case")
        archive = self.archive()
        known = {docket_number_key(d["docket_number"]): d
                 for d in archive.dockets_in_court(self.court)}
        cases: dict[str, dict] = {}
        for item in feed.get("dockets") or []:
            number = docket_number_key(item.get("docket_number") or "")
            docket = known.get(number)
            if docket is None:
                continue
            case = cases.setdefault(number, {
                "court_id": self.court, "docket_number": docket["docket_number"],
                "pacer_case_id": docket.get("pacer_case_id") or item.get("pacer_case_id"),
                "docket_entries": []})
            case["docket_entries"].extend(item.get("docket_entries") or [])
        self.logger.info("RSS feed of %s: %s items, %s of them for %s archived cases",
                         self.court, len(feed.get("dockets") or []),
                         sum(len(c["docket_entries"]) for c in cases.values()), len(cases))
        for number, case in cases.items():
            item = self.docket_of(case, source=self.name, court_id=self.court)
            new = new_entries(archive, item)
            self.new_entries += new
            self.cases_matched += 1
            self.logger.info("%s %s: %s new entries", self.court, number, new)
            self.crawler.stats.inc_value("pacer_rss/new_entries", new)
            yield item

    def closed(self, reason):
        line = (f"PACER RSS {self.court}: {self.new_entries} new entries in "
                f"{self.cases_matched} archived cases; spent $0.00 (the feed is free)")
        self.logger.info(line)
        self.summary(line)


def new_entries(archive, item: DocketItem) -> int:
    """How many of a DocketItem's entries the archive lacks (the rows they will
    be saved in: alike RSS items told apart)."""
    return len({adb.entry_key(row) for row in (
        {k: v for k, v in vars(entry).items() if k != "documents"} for entry in item.entries)
        if not archive.entry_exists(item.court_id, item.docket_number, row)})
