"""An item pipeline for tests: an archive that takes its time with some items
(``SLOW_ITEMS``: item class names; ``SLOW_ITEM_SECONDS``), as one busy with
another crawl would, so a test can kill a crawl after PACER's answer was kept
and before what it held was archived."""
from __future__ import annotations

import asyncio


class SlowItems:
    def __init__(self, kinds, seconds: float):
        self.kinds = set(kinds)
        self.seconds = seconds

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getlist("SLOW_ITEMS", ["DocketItem"]),
                   crawler.settings.getfloat("SLOW_ITEM_SECONDS", 5.0))

    async def process_item(self, item):
        if type(item).__name__ in self.kinds:
            await asyncio.sleep(self.seconds)
        return item
