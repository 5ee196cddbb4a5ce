"""CourtListener REST API v4: dockets, entries, RECAP documents, parties, attorneys.

    scrapy crawl courtlistener -a court=cand -a docket_number=3:20-cv-05910-LB
    scrapy crawl courtlistener -a court=ca9 -a docket_number=20-16908
    scrapy crawl courtlistener -a court=cand -a pacer_case_id=364733
    scrapy crawl courtlistener            # the default case, both courts

The token comes from the environment (COURTLISTENER_TOKEN), never from a
setting or argument, so it appears in no log line. API calls go through one
download slot paced at COURTLISTENER_RATE_PER_MINUTE; PDFs come from the
storage host, which is not an API call and is not held to that pace.

A record of an unexpected shape (an attorney whose ``parties_represented``
holds strings, an entry that is not an object, an entry number that is no
number...) costs that record only: it is logged as a bad record (outcome.py),
counted in the crawl's ``bad_records``, and the rest of its page is kept.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode, urljoin

import scrapy

from docket_spider import courtlistener as cl
from archive.cases import DISTRICT, default_cases
from docket_spider.courtlistener import (
    attorney_item, docket_item, entry_items, pace_api_slot, party_item,
)
from docket_spider.spiders.base import BaseSpider
from docket_spider.urls import allowed_hosts, strip_query
from parsers.common import docket_number_key
from parsers.courtlistener import BAD_RECORD, int_field

API_PAGE_SIZE = 20  # what the v4 API gives without asking


class CourtListenerSpider(BaseSpider):
    name = "courtlistener"

    def __init__(self, court=None, docket_number=None, pacer_case_id=None, **kwargs):
        super().__init__(**kwargs)
        if docket_number or pacer_case_id:
            self.targets = [{"court": court or DISTRICT["court"], "docket_number": docket_number,
                             "pacer_case_id": pacer_case_id}]
        else:
            self.targets = default_cases(court)
            if not self.targets:
                raise ValueError(f"no default case in court {court!r}; give -a docket_number=")
        self.crawl_args = {"court": court, "docket_number": docket_number,
                           "pacer_case_id": pacer_case_id}
        self._party_names: dict[int, str] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        settings = crawler.settings
        pace_api_slot(settings)
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.api_url = settings.get("COURTLISTENER_API_URL").rstrip("/") + "/"
        spider.storage_url = settings.get("COURTLISTENER_STORAGE_URL").rstrip("/") + "/"
        spider.page_size = settings.getint("COURTLISTENER_PAGE_SIZE", 20)
        # the API and the file storage, nothing else (OffsiteMiddleware)
        spider.allowed_domains = allowed_hosts(spider.api_url, spider.storage_url)
        return spider

    # --- requests -------------------------------------------------------------
    def api_request(self, path_or_url, callback, params=None, **meta):
        url = path_or_url if path_or_url.startswith("http") else urljoin(self.api_url, path_or_url)
        if params and "page_size" in params and params["page_size"] == API_PAGE_SIZE:
            params = {k: v for k, v in params.items() if k != "page_size"}
        if params:
            url = f"{url}?{urlencode(params)}"
        self.crawler.stats.inc_value(f"{self.name}/api_requests")
        return scrapy.Request(
            url, callback=callback, errback=self.request_failed, dont_filter=True,
            headers=cl.HEADERS,
            meta={**cl.API_META, "handle_httpstatus_list": [400, 401, 403, 404], **meta},
        )

    def credential_headers(self, request, realm):
        """Called by CredentialsMiddleware as the request is sent (never stored with
        it), once it has checked that the request goes to the API's own host."""
        return cl.auth_headers(realm)

    def next_page(self, response, data):
        """The cursor's next page, if it is on the API's own host. A link to
        another host is not followed (the token goes only to the API, and nothing
        from elsewhere is archived): a warning, and the crawl is marked failed,
        since the pages after this one are missing."""
        link, elsewhere = cl.next_page(response, data, self.api_url)
        if elsewhere:
            self.fail(f"CourtListener's next page after {strip_query(response.url)} points to "
                      f"another host ({strip_query(elsewhere)}): not followed; the rest of that "
                      "list is missing from this crawl.")
        return link

    async def start(self):
        if not cl.token():
            self.fail("no COURTLISTENER_TOKEN", log=cl.TOKEN_HELP)
            return
        for target in self.targets:
            params = {"court": target["court"]}
            if target.get("pacer_case_id") and not target.get("docket_number"):
                params["pacer_case_id"] = target["pacer_case_id"]
            else:
                params["docket_number"] = docket_number_key(target["docket_number"])
            yield self.api_request("dockets/", self.parse_dockets, params, target=target,
                                   tried=params.get("docket_number"))

    def _refused(self, response) -> bool:
        if response.status < 400:
            return False
        try:
            detail = json.loads(response.text).get("detail") or response.text[:300]
        except ValueError:
            detail = response.text[:300]
        if response.status in (401, 403):
            self.fail(f"CourtListener refused the token ({response.status}: {detail}). "
                      "Check COURTLISTENER_TOKEN.", close="unauthorized")
        self.fail(f"CourtListener answered {response.status} for {response.url}: {detail}")
        return True

    def _results(self, response, data, kind):
        """The page's ``results``: each one a JSON object, else a bad record."""
        results = data.get("results")
        if results in (None, ""):
            return
        if not isinstance(results, list):
            # not one record: the whole page's are missing (the crawl is incomplete)
            self.missed("CourtListener's %s page %s is not a list of results (%s): "
                        "none of its records could be read", kind, strip_query(response.url),
                        type(results).__name__)
            return
        for position, record in enumerate(results, 1):
            if isinstance(record, dict):
                yield record
            else:
                self._bad(response, f"{kind} #{position}", None,
                          f"{type(record).__name__} {str(record)[:60]!r}, not an object")

    def _bad(self, response, kind, record, why):
        """Log and count one record that is skipped (never the token: it is in no URL)."""
        ident = record.get("id") if isinstance(record, dict) else None
        name = record.get("name") if isinstance(record, dict) else None
        what = kind + (f" {ident}" if ident is not None else "") + (
            f" ({str(name)[:60]})" if isinstance(name, str) and name else "")
        self.bad_record(f"CourtListener {what} on {strip_query(response.url)}", why)

    def _json(self, response) -> dict:
        """The answer's JSON; a page that is not (maintenance, proxy error) stops the crawl."""
        try:
            data = response.json()
        except (ValueError, AttributeError):
            data = None
        if not isinstance(data, dict):
            snippet = " ".join(response.text[:200].split()) if hasattr(response, "text") else ""
            self.fail(f"CourtListener answered {strip_query(response.url)} with something that "
                      f"is not API JSON ({response.headers.get('Content-Type', b'').decode()}): "
                      f"{snippet!r}. Everything stored so far is kept; try again later.",
                      close="not_api_json")
        return data

    # --- callbacks ------------------------------------------------------------
    def parse_dockets(self, response):
        if self._refused(response):
            return
        target = response.meta["target"]
        results = self._json(response).get("results") or []
        wanted_case = target.get("pacer_case_id")
        if wanted_case and len(results) > 1:
            results = [d for d in results if str(d.get("pacer_case_id")) == str(wanted_case)] or results
        if not results:
            raw = target.get("docket_number")
            if raw and response.meta.get("tried") != raw:
                yield self.api_request("dockets/", self.parse_dockets,
                                       {"court": target["court"], "docket_number": raw},
                                       target=target, tried=raw)
                return
            self.fail(f"CourtListener has no docket {raw or wanted_case} in court "
                      f"{target['court']}.")
            return
        for docket in results:
            try:
                if not isinstance(docket, dict):
                    raise TypeError(f"{type(docket).__name__}, not an object")
                item = docket_item(docket)
                docket_id = int_field(docket.get("id"), "its id")
            except BAD_RECORD as exc:
                # the docket asked for cannot be read: its entries cannot be fetched
                self._bad(response, "docket", docket, exc)
                self.fail(f"CourtListener's docket record for {target['court']} "
                          f"{target.get('docket_number') or wanted_case} could not be read: {exc}")
                continue
            yield item
            context = {"court_id": item.court_id, "docket_number": item.docket_number,
                       "pacer_case_id": item.pacer_case_id}
            self.logger.info("Found %s %s (CourtListener docket %s): fetching entries",
                             item.court_id, item.docket_number, docket_id)
            yield self.api_request(
                "docket-entries/", self.parse_entries,
                {"docket": docket_id, "order_by": "id", "page_size": self.page_size,
                 "omit": "recap_documents__plain_text"},
                docket=context, docket_cl_id=docket_id)

    def parse_entries(self, response):
        if self._refused(response):
            return
        ctx = response.meta["docket"]
        data = self._json(response)
        for entry in self._results(response, data, "docket entry"):
            try:
                items = list(entry_items(ctx, entry, self.storage_url))
            except BAD_RECORD as exc:
                self._bad(response, "docket entry", entry, exc)
                continue
            yield from items
        link = self.next_page(response, data)
        if link:
            yield self.api_request(link, self.parse_entries, **self._carry(response))
        else:
            yield self.api_request(
                "parties/", self.parse_parties,
                {"docket": response.meta["docket_cl_id"], "filter_nested_results": "True",
                 "order_by": "id", "page_size": self.page_size},
                **self._carry(response))

    @staticmethod
    def _carry(response):
        return {k: response.meta[k] for k in ("docket", "docket_cl_id")}

    def parse_parties(self, response):
        if self._refused(response):
            return
        ctx = response.meta["docket"]
        data = self._json(response)
        for party in self._results(response, data, "party"):
            try:
                item = party_item(ctx, party)
            except BAD_RECORD as exc:
                self._bad(response, "party", party, exc)
                continue
            self._party_names[item.courtlistener_id] = item.name
            yield item
        link = self.next_page(response, data)
        if link:
            yield self.api_request(link, self.parse_parties, **self._carry(response))
        else:
            yield self.api_request(
                "attorneys/", self.parse_attorneys,
                {"docket": response.meta["docket_cl_id"], "filter_nested_results": "True",
                 "order_by": "id", "page_size": self.page_size},
                **self._carry(response))

    def parse_attorneys(self, response):
        if self._refused(response):
            return
        ctx = response.meta["docket"]
        data = self._json(response)
        for attorney in self._results(response, data, "attorney"):
            try:
                item = attorney_item(ctx, attorney, self._party_names)
            except BAD_RECORD as exc:
                self._bad(response, "attorney", attorney, exc)
                continue
            yield item
        link = self.next_page(response, data)
        if link:
            yield self.api_request(link, self.parse_attorneys, **self._carry(response))
        else:
            self.logger.info("Finished %s %s", ctx["court_id"], ctx["docket_number"])
