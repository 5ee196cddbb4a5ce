"""The Internet Archive's RECAP copy of a docket: free, no account.

    scrapy crawl internet_archive                          # the default case (N.D. Cal.)
    scrapy crawl internet_archive -a court=cand -a pacer_case_id=364733

Items are named ``gov.uscourts.<court>.<pacer_case_id>``; the docket XML is
``<item>.docket.xml`` and each available PDF ``<item>.<doc>.<att>.pdf``.
The base URL is the setting INTERNET_ARCHIVE_URL.

A ``<document>`` or ``<party>`` of an unexpected shape costs only itself:
logged as a bad record (outcome.py), counted in the crawl's ``bad_records``,
and the rest of the docket is kept.
"""
from __future__ import annotations

import scrapy

from archive.cases import DISTRICT, default_cases
from docket_spider.spiders.base import BaseSpider
from docket_spider.urls import allowed_hosts
from parsers import ParseError, parse
from parsers.common import docket_number_key

ARCHIVE_ORG = "archive.org"  # downloads are redirected to its ia*.us.archive.org hosts


def _str(value):
    return None if value in (None, "") else str(value)


class InternetArchiveSpider(BaseSpider):
    name = "internet_archive"

    def __init__(self, court=None, pacer_case_id=None, docket_number=None, **kwargs):
        super().__init__(**kwargs)
        self.crawl_args = {"court": court, "pacer_case_id": pacer_case_id,
                           "docket_number": docket_number}
        if pacer_case_id:
            self.targets = [{"court": court or DISTRICT["court"],
                             "pacer_case_id": str(pacer_case_id)}]
        else:
            cases = default_cases(court)
            if docket_number:
                wanted = docket_number_key(docket_number)
                cases = [c for c in cases if docket_number_key(c["docket_number"]) == wanted]
            self.targets = [c for c in cases if c.get("pacer_case_id")]
            self.skipped = [c for c in cases if not c.get("pacer_case_id")]
            if not self.targets and not self.skipped:
                raise ValueError(
                    "The Internet Archive names dockets by PACER case id: "
                    "give -a court=... -a pacer_case_id=... (e.g. cand 364733).")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.base_url = crawler.settings.get("INTERNET_ARCHIVE_URL").rstrip("/") + "/"
        # its download host, and archive.org's, where downloads are redirected
        spider.allowed_domains = allowed_hosts(spider.base_url, f"https://{ARCHIVE_ORG}/")
        return spider

    async def start(self):
        for case in getattr(self, "skipped", []):
            self.logger.warning(
                "The Internet Archive has no RECAP copy for %s %s (appellate dockets are "
                "not uploaded there); use `scrapy crawl courtlistener` with a token.",
                case["court"], case["docket_number"])
        for target in self.targets:
            yield scrapy.Request(
                item_url(self.base_url, target["court"], target["pacer_case_id"], "docket.xml"),
                callback=self.parse_docket, errback=self.request_failed,
                meta={"target": target, "handle_httpstatus_list": [403, 404]},
            )

    def parse_docket(self, response):
        target = response.meta["target"]
        self.crawler.stats.inc_value(f"{self.name}/api_requests")
        if response.status in (403, 404):
            self.fail(f"The Internet Archive has no RECAP copy of {target['court']} case "
                      f"{target['pacer_case_id']} ({response.status} for {response.url}).")
            return
        try:
            docket = parse("ia", response.body, court=target["court"])
        except ParseError as exc:
            self.fail(f"{response.url} is not a RECAP docket XML: {exc}")
            return
        court = docket.get("court_id") or target["court"]
        case_id = _str(docket.get("pacer_case_id")) or target["pacer_case_id"]
        number = docket.get("docket_number") or target.get("docket_number") or ""
        where = f"{court} case {case_id} ({response.url})"
        for problem in docket.get("bad_records") or []:
            self.bad_record(f"Internet Archive {problem['what']} of {where}", problem["error"])
        yield from recap_items(self, dict(docket, court_id=court, docket_number=number,
                                          pacer_case_id=case_id, source_url=response.url),
                               self.base_url)


def item_url(base_url: str, court: str, case_id: str, suffix: str) -> str:
    """A file of the Internet Archive's item of a case (``docket.xml``, ``<doc>.<att>.pdf``)."""
    ident = f"gov.uscourts.{court}.{case_id}"
    return f"{base_url}{ident}/{ident}.{suffix}"


def recap_items(spider, record: dict, base_url: str):
    """A RECAP docket XML's items (the internet_archive and update spiders'):
    its DocketItem, with its entries and parties, then each of its documents
    as a DocumentItem, with its PDF's address when the Internet Archive has it."""
    item = spider.docket_of(record, source="internet_archive", court_id=record["court_id"])
    documents = []
    for entry in item.entries:  # the documents travel on their own, for the files pipeline
        documents.extend(entry.documents)
        entry.documents = []
    yield item
    for doc in documents:
        doc.pacer_case_id = item.pacer_case_id
        doc.is_available = bool(doc.is_available)
        if doc.is_available and doc.document_number:
            doc.file_urls = [item_url(base_url, item.court_id, item.pacer_case_id,
                                      f"{doc.document_number}.{doc.attachment_number}.pdf")]
        yield doc
