"""``scrapy crawl`` that exits non-zero when the crawl did not finish.

Scrapy's own command exits 0 whenever the spider could start, so cron (and
``make archive``) could not tell a wrong password, an unreachable source, a
case not found or a crawl that lost requests from a good one. This one exits
0 only when the crawl's outcome (``docket_spider.outcome``) is ``finished``:
1 for a failed or incomplete crawl, 2 for one stopped early (Ctrl-C).
Arguments that cannot make a crawl (``docket_spider.arguments``: a docket
number too long for a URL...) are refused before it starts: a one-line
message and exit status 1.
"""
from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from docket_spider import arguments

EXIT_CODES = {"finished": 0, "failed": 1, "incomplete": 1, "shutdown": 2}


class Command(ScrapyCrawl):
    def run(self, args, opts) -> None:
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        refused = arguments.problem(opts.spargs)
        if refused:
            print(f"Error: {refused}", file=sys.stderr)
            self.exitcode = 1
            return
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        outcome = crawler.stats.get_value("docket_archive/outcome") if crawler.stats else None
        self.exitcode = EXIT_CODES.get(outcome, 1)
