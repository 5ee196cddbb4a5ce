"""CourtListener's REST API v4 as the crawls use it: the token, how a call
is made (one paced download slot; the token added as it is sent), where its
next page is, and its records (parsers/courtlistener.py) made into items.

Used by the courtlistener spider, the PACER spiders' free-first step
(docket_spider/pacer/free_first.py) and the update spider.
"""
from __future__ import annotations

import json
import os

from docket_spider.items import AttorneyItem, DocketEntryItem, DocketItem, DocumentItem, PartyItem
from docket_spider.urls import same_origin
from parsers import courtlistener as cl

API_SLOT = "courtlistener-api"
# An API call's headers and meta: its pace (API_SLOT, not AutoThrottle's), and
# the token, which CredentialsMiddleware adds as it is sent to COURTLISTENER_API_URL
HEADERS = {"Accept": "application/json"}
API_META = {"courtlistener_auth": True, "download_slot": API_SLOT,
            "autothrottle_dont_adjust_delay": True}
TOKEN_HELP = (
    "COURTLISTENER_TOKEN is not set. The CourtListener API needs a free account token: "
    "sign up at https://www.courtlistener.com/sign-in/, copy the token from "
    "https://www.courtlistener.com/profile/api/ and run `export COURTLISTENER_TOKEN=...`. "
    "Without one, `scrapy crawl internet_archive` fetches the Internet Archive's RECAP copy."
)


def token() -> str:
    """COURTLISTENER_TOKEN, from the environment only ("" when unset): never a
    setting or an argument, so it appears in no log line."""
    return os.environ.get("COURTLISTENER_TOKEN", "").strip()


def auth_headers(realm: str) -> dict:
    """The token's header for CredentialsMiddleware (``credential_headers``)."""
    found = token() if realm == "courtlistener" else ""
    return {"Authorization": f"Token {found}"} if found else {}


def next_page(response, data, api_url: str) -> tuple[str | None, str | None]:
    """``(link, None)``: the cursor's next page, on the API's own host;
    ``(None, link)``: one on another host, never followed (the token goes only
    to the API, and nothing from elsewhere is archived); ``(None, None)``: the
    last page."""
    link = data.get("next") if isinstance(data, dict) else None
    if not link:
        return None, None
    link = response.urljoin(str(link))
    return (link, None) if same_origin(link, api_url) else (None, link)


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
