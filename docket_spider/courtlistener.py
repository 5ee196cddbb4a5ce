"""CourtListener's REST API v4 as the crawls use it: the paced download slot
its calls share, and its records (parsers/courtlistener.py) made into items.

Used by the courtlistener spider, the PACER spiders' free-first step
(docket_spider/pacer/free_first.py) and the update spider.
"""
from __future__ import annotations

import json

from docket_spider.items import AttorneyItem, DocketEntryItem, DocketItem, DocumentItem, PartyItem
from parsers import courtlistener as cl

API_SLOT = "courtlistener-api"


def pace_api_slot(settings) -> None:
    """One download slot for API calls, paced at COURTLISTENER_RATE_PER_MINUTE
    (requests with ``meta["download_slot"] = API_SLOT``)."""
    rate = settings.getfloat("COURTLISTENER_RATE_PER_MINUTE", 5) or 5
    slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
    slots.setdefault(API_SLOT, {"concurrency": 1, "delay": 60.0 / rate, "jitter": 0})
    settings.set("DOWNLOAD_SLOTS", slots, priority="spider")


def docket_item(d) -> DocketItem:
    return DocketItem(**cl.parse_docket(d))


def entry_items(ctx, entry, storage_url):
    """A docket-entries result: the entry, then its RECAP documents (a bad
    record raises before anything is yielded)."""
    row, documents = cl.parse_entry(ctx, entry, storage_url)
    raw = {k: v for k, v in entry.items() if k != "recap_documents"}
    raw["recap_documents"] = [{k: v for k, v in d.items() if k != "plain_text"}
                              for d in entry.get("recap_documents") or [] if isinstance(d, dict)]
    row.update(version_raw=json.dumps(raw, sort_keys=True, default=str),
               version_url=entry.get("resource_uri") or None)
    return [DocketEntryItem(**row)] + [DocumentItem(**doc) for doc in documents]


def party_item(ctx, party: dict) -> PartyItem:
    return PartyItem(**cl.parse_party(ctx, party))


def attorney_item(ctx, attorney: dict, party_names: dict) -> AttorneyItem:
    return AttorneyItem(**cl.parse_attorney(ctx, attorney, party_names))
