"""A short progress view of a crawl on the terminal (``-s PROGRESS=True``).

`make archive` sends Scrapy's full log to a file (``LOG_FILE``) and turns this
on instead: one line per source, redrawn in place, saying what was found,
downloaded and extracted, with a bar while PDFs are extracted (the long part),
then one closing line. Nothing here goes to the log file.
"""
from __future__ import annotations

import sys
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from docket_spider.items import DocketEntryItem, DocketItem, DocumentItem

BAR = 24


def bar(done: int, total: int) -> str:
    if total <= 0:
        return ""
    filled = min(BAR, round(BAR * done / total))
    return "[" + "#" * filled + "." * (BAR - filled) + f"] {done}/{total}"


class ProgressView:
    def __init__(self, crawler, stream=None):
        self.crawler = crawler
        self.stream = stream or sys.__stderr__
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.entries = self.documents = self.with_file = 0
        self.started = time.monotonic()
        self.last = ""
        self.loop = task.LoopingCall(self.draw)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("PROGRESS"):
            raise NotConfigured
        return cls(crawler)

    def opened(self, spider):
        args = getattr(spider, "crawl_args", {}) or {}
        case = " ".join(str(args[k]) for k in ("court", "docket_number", "pacer_case_id")
                        if args.get(k))
        self.label = f"{spider.name}{' ' + case if case else ''}"
        self.loop.start(1.0 if self.tty else 15.0, now=False)

    def item_scraped(self, item, spider):
        if isinstance(item, DocketEntryItem):
            self.entries += 1
        elif isinstance(item, DocketItem):
            self.entries += len(item.entries)
        elif isinstance(item, DocumentItem):
            self.documents += 1
            self.with_file += bool(item.file_path)

    def line(self) -> str:
        stats = self.crawler.stats
        downloaded = stats.get_value("file_status_count/downloaded", 0)
        stored = stats.get_value("file_status_count/uptodate", 0)
        failed = stats.get_value("file_status_count/failed", 0)
        extracted = stats.get_value("extract/documents", 0)
        skipped = stats.get_value("extract/skipped_unchanged", 0)
        to_extract = max(downloaded - skipped, extracted)
        parts = [f"{self.entries} entries", f"{self.documents} documents",
                 f"{downloaded} PDFs downloaded" + (f" ({stored} already stored)" if stored else "")
                 + (f", {failed} failed" if failed else "")]
        if to_extract:
            parts.append(f"text {bar(extracted, to_extract)}")
        return f"{self.label}: " + ", ".join(parts)

    def draw(self):
        text = self.line()
        if text == self.last:
            return
        self.last = text
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def closed(self, spider, reason):
        if self.loop.running:
            self.loop.stop()
        outcome = self.crawler.stats.get_value("docket_archive/outcome") or reason
        text = f"{self.line()} -- {outcome} in {time.monotonic() - self.started:.0f} s"
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()
