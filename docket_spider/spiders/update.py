"""The free sources of ``python -m archive update`` (issue 20), in one crawl.

    scrapy crawl update -a plan=PLAN.json -a result=RESULT.json [-a phase=free|ia]

Run by archive/update.py, which writes the plan (archive/update.py's
``make_plan``) and reads the result; not meant to be run by hand.

``phase=free`` (the default), in this order:

1. **RSS**: each court's feed (``rss_outside.pl``) once, every followed case
   matched from that one answer (by docket number, or by PACER case id). The
   channel description says the court's coverage (full, or partial with the
   types it lists); a 404 or a page that is no feed means none. Items of
   followed cases are saved like ``pacer_rss``'s (provisional: a docket
   report's text wins).
2. **CourtListener**, within the run's allowance of API calls (the plan's,
   from the account's hourly and daily limits): first the courts whose
   followed cases the feeds just showed news for, then the plan's checks
   (courts whose feed is partial or missing first, then the oldest checks).
   One check is one ``dockets/`` call for all the followed cases of a court
   (their CourtListener ids' range, ``date_modified__gt`` the oldest of
   their marks); only the dockets modified since their own mark are fetched,
   and of those only the entries modified since (``docket-entries/`` ordered
   by ``date_modified``, so a case too big for one run goes on from its mark
   the next). Then new follows are looked up by docket number, and district
   cases are searched for appeals (their docket number in the court of
   appeals, each hit's originating case checked before it counts).

``phase=ia``: the **Internet Archive**'s RECAP copies of the cases the plan
names (those the sources above left with gaps, or that have no other free
source), with their PDFs.

What each source did is written to ``result`` when the crawl closes, and
recorded by archive/update.py only then: a killed crawl records nothing, so
the next update asks again for whatever it had not stored.
"""
from __future__ import annotations

import asyncio
import json
from typing import Optional
from urllib.parse import urlencode, urljoin

import scrapy
from scrapy import signals

import parsers
from archive.appeals import same_number
from archive.follow import feed_coverage, parse_time
from docket_spider import courtlistener as cl
from docket_spider.courtlistener import (
    attorney_item, docket_item, entry_items, pace_api_slot, party_item,
)
from docket_spider.files_store import write_atomically
from docket_spider.spiders.base import BaseSpider
from docket_spider.spiders.internet_archive import item_url, recap_items
from docket_spider.spiders.pacer_rss import new_entries
from docket_spider.urls import allowed_hosts, same_origin, strip_query
from parsers.common import docket_number_key
from parsers.courtlistener import BAD_RECORD

RSS_PATH = "cgi-bin/rss_outside.pl"


class CourtListenerRefused(Exception):
    """The token was refused, or the account is out of calls: no more CourtListener."""


class UpdateSpider(BaseSpider):
    name = "update"
    custom_settings = {"HTTPCACHE_ENABLED": False}  # feeds and checks must be read fresh

    def __init__(self, plan=None, result=None, phase="free", **kwargs):
        super().__init__(**kwargs)
        if not plan:
            raise ValueError("give -a plan=FILE (python -m archive update writes it)")
        with open(plan, encoding="utf-8") as fh:
            self.plan = json.load(fh)
        self.result_path = result
        self.phase = phase
        self.crawl_args = {"phase": phase, "cases": len(self.plan.get("cases") or [])}
        self.cl_calls = 0
        self.cl_allowance = int((self.plan.get("courtlistener") or {}).get("allowance") or 0)
        self.result = {"phase": phase, "feeds": {}, "courtlistener": {
            "calls": 0, "dockets": {}, "checked": [], "lookups": {}, "searched": {},
            "appeals": [], "stopped": None}, "internet_archive": {}}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        settings = crawler.settings
        pace_api_slot(settings)
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.ecf_template = settings.get("PACER_ECF_URL_TEMPLATE")
        spider.api_url = settings.get("COURTLISTENER_API_URL").rstrip("/") + "/"
        spider.storage_url = settings.get("COURTLISTENER_STORAGE_URL").rstrip("/") + "/"
        spider.page_size = settings.getint("COURTLISTENER_PAGE_SIZE", 20)
        spider.base_url = settings.get("INTERNET_ARCHIVE_URL").rstrip("/") + "/"
        courts = sorted({f["court"] for f in spider.plan.get("feeds") or []})
        crawler.signals.connect(spider.item_failed, signal=signals.item_error)
        spider.allowed_domains = allowed_hosts(
            spider.api_url, spider.storage_url, spider.base_url, "https://archive.org/",
            *(spider.ecf_template.format(court=c) for c in courts))
        return spider

    # --- plumbing -------------------------------------------------------------
    async def fetch(self, request: scrapy.Request):
        """One request through the downloader middlewares (retries, Retry-After,
        credentials, offsite); its answer whatever its status, or the error."""
        return await self.crawler.engine.download_async(request)

    def credential_headers(self, request, realm):
        return cl.auth_headers(realm)

    def item_failed(self, item, response, spider, failure):
        self.result["item_errors"] = self.result.get("item_errors", 0) + 1

    def closed(self, reason):
        self.result["courtlistener"]["calls"] = self.cl_calls
        self.result["reason"] = reason
        if self.result_path:
            write_atomically(self.result_path,
                             json.dumps(self.result, indent=1, sort_keys=True).encode())

    async def start(self):
        if self.phase == "ia":
            async for item in self.ia_phase():
                yield item
            return
        async for item in self.rss_phase():
            yield item
        async for item in self.courtlistener_phase():
            yield item

    # --- RSS --------------------------------------------------------------------
    def feed_url(self, court: str) -> str:
        return self.ecf_template.format(court=court).rstrip("/") + "/" + RSS_PATH

    async def rss_phase(self):
        feeds = [f for f in self.plan.get("feeds") or [] if f.get("read")]
        requests = [scrapy.Request(self.feed_url(f["court"]), dont_filter=True,
                                   meta={"handle_httpstatus_all": True}) for f in feeds]
        answers = await asyncio.gather(*(self._fetch_or_error(r) for r in requests))
        for feed, answer in zip(feeds, answers):
            for item in self.read_feed(feed, answer):
                yield item

    async def _fetch_or_error(self, request):
        try:
            return await self.fetch(request)
        except Exception as exc:  # noqa: BLE001 - the court's feed could not be read
            return exc

    def read_feed(self, feed: dict, answer):
        court = feed["court"]
        out = {"ok": False, "coverage": None, "kinds": [], "items": 0, "matched": {}}
        self.result["feeds"][court] = out
        if isinstance(answer, Exception):
            out["detail"] = f"{type(answer).__name__}: {answer}"
            self.fail(f"The RSS feed of {court} could not be read: {out['detail']}")
            return
        self.crawler.stats.inc_value("update/rss_requests")
        if answer.status == 404:
            out.update(coverage="none", detail="no feed (404)")
            self.logger.info("%s has no RSS feed (404)", court)
            return
        if answer.status >= 400:
            out["detail"] = f"answered {answer.status}"
            self.fail(f"The RSS feed of {court} answered {answer.status}")
            return
        try:
            parsed = parsers.parse("rss", answer.body, court)
        except parsers.ParseError as exc:
            out.update(coverage="none", detail=f"not a feed: {exc}")
            self.logger.warning("%s's rss_outside.pl is not a feed: %s", court, exc)
            return
        coverage, kinds = feed_coverage(parsed.get("feed_description"))
        out.update(ok=True, coverage=coverage, kinds=kinds, items=len(parsed.get("dockets") or []),
                   build_date=parsed.get("last_build_date"))
        for bad in parsed.get("unparsed_items") or []:
            self.bad_record(f"RSS item {bad.get('title')!r} ({bad.get('pub_date')}) of {court}'s "
                            "feed", bad.get("error") or "not tied to a case")
        followed = {c["docket_id"]: c for c in feed.get("cases") or []}
        by_number = {docket_number_key(c["docket_number"]): c for c in followed.values()}
        by_case_id = {str(c["pacer_case_id"]): c for c in followed.values() if c.get("pacer_case_id")}
        cases: dict[str, dict] = {}
        for item in parsed.get("dockets") or []:
            case = by_number.get(docket_number_key(item.get("docket_number") or "")) or \
                by_case_id.get(str(item.get("pacer_case_id") or ""))
            if case is None:
                continue
            record = cases.setdefault(case["docket_id"], {
                "court_id": court, "docket_number": case["docket_number"],
                "pacer_case_id": item.get("pacer_case_id") or case.get("pacer_case_id"),
                "case_name": item.get("case_name"), "link": answer.url, "docket_entries": []})
            record["docket_entries"].extend(item.get("docket_entries") or [])
        archive = self.archive()
        for docket_id, record in cases.items():
            item = self.docket_of(record, source="pacer_rss", court_id=court)
            new = new_entries(archive, item)
            out["matched"][docket_id] = {"items": len(record["docket_entries"]), "new": new,
                                         "pacer_case_id": record.get("pacer_case_id")}
            self.crawler.stats.inc_value("update/rss_new_entries", new)
            yield item
        self.logger.info("RSS %s (%s): %s items, %s for %s followed cases", court, coverage,
                         out["items"], sum(m["items"] for m in out["matched"].values()),
                         len(out["matched"]))

    # --- CourtListener ------------------------------------------------------------
    def api(self, path: str, params: Optional[dict] = None) -> str:
        url = path if path.startswith("http") else urljoin(self.api_url, path)
        return url + ("?" + urlencode(params) if params else "")

    async def cl_get(self, url: str) -> dict:
        """One API call, within the allowance; its JSON. Raises CourtListenerRefused
        when the allowance is spent, the token refused or the answer unusable."""
        if self.cl_calls >= self.cl_allowance:
            raise CourtListenerRefused(f"this run's {self.cl_allowance} CourtListener calls are spent")
        if not same_origin(url, self.api_url):
            raise CourtListenerRefused(f"a link to another host ({strip_query(url)}) is not followed")
        self.cl_calls += 1
        self.crawler.stats.inc_value(f"{self.name}/api_requests")
        request = scrapy.Request(url, dont_filter=True, headers=cl.HEADERS,
                                 meta={**cl.API_META, "handle_httpstatus_all": True})
        response = await self.fetch(request)
        if response.status in (401, 403):
            raise CourtListenerRefused(f"CourtListener refused the token ({response.status}): "
                                       "check COURTLISTENER_TOKEN")
        if response.status == 429:
            raise CourtListenerRefused("CourtListener says the account is out of calls (429)")
        try:
            data = json.loads(response.text)
        except (ValueError, AttributeError):
            data = None
        if response.status >= 400 or not isinstance(data, dict):
            raise ValueError(f"CourtListener answered {response.status} for {strip_query(url)}")
        return data

    async def cl_pages(self, url: str):
        """The results of a list and of its next pages (each page one call)."""
        while url:
            data = await self.cl_get(url)
            results = data.get("results")
            yield [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []
            link = data.get("next")
            url = urljoin(url, str(link)) if link else None

    async def courtlistener_phase(self):
        plan = self.plan.get("courtlistener") or {}
        if not cl.token() or not self.cl_allowance:
            self.result["courtlistener"]["stopped"] = (
                "no COURTLISTENER_TOKEN" if not cl.token() else "no calls left this run")
            return
        groups = list(plan.get("groups") or [])
        news = {d for f in self.result["feeds"].values() for d, m in f.get("matched", {}).items()
                if m.get("new")}
        # the courts the feeds just showed news for, then the checks due (the
        # plan's order: most overdue first), new cases, then appeal searches
        first = [g for g in groups if set(g["dockets"]) & news]
        due = [g for g in groups if g.get("due") and g not in first]
        tasks = [("check", g) for g in first + due] \
            + [("lookup", c) for c in plan.get("lookups") or []] \
            + [("search", s) for s in plan.get("appeal_searches") or []]
        for kind, task in tasks:
            try:
                if kind == "check":
                    async for item in self.cl_check(task):
                        yield item
                elif kind == "lookup":
                    async for item in self.cl_lookup(task):
                        yield item
                else:
                    await self.cl_search(task)
            except CourtListenerRefused as exc:
                self.result["courtlistener"]["stopped"] = str(exc)
                if "refused the token" in str(exc):
                    self.fail(str(exc))
                else:
                    self.logger.info("CourtListener: %s; the rest waits for the next update", exc)
                return
            except Exception as exc:  # noqa: BLE001 - a 500 after retries, a refused connection
                self.fail(f"CourtListener {kind} of "
                          f"{task.get('court') or task.get('docket_id')} failed: {exc}")
                self.result["courtlistener"].setdefault("errors", []).append(
                    f"{kind} {task.get('court') or task.get('docket_id')}: {exc}")

    async def cl_check(self, group: dict):
        """One call for every followed case of a court; then what changed."""
        marks = {d: m for d, m in zip(group["dockets"], group["marks"])}
        ids = {cl_id: d for d, cl_id in zip(group["dockets"], group["ids"])}
        params = {"court": group["court"], "id__gte": min(ids), "id__lte": max(ids),
                  "order_by": "date_modified"}
        if group.get("since"):
            params["date_modified__gt"] = group["since"]
        changed = []
        async for page in self.cl_pages(self.api("dockets/", params)):
            for docket in page:
                docket_id = ids.get(docket.get("id"))
                if docket_id is None:
                    continue  # another case of the court, modified meanwhile
                mark = marks.get(docket_id)
                if mark and not _later(docket.get("date_modified"), mark):
                    continue
                changed.append((docket_id, docket))
        self.result["courtlistener"]["checked"].extend(group["dockets"])
        for docket_id, docket in changed:
            async for item in self.cl_fetch(docket_id, docket, marks.get(docket_id)):
                yield item

    async def cl_fetch(self, docket_id: str, docket: dict, mark: Optional[str],
                       lookup: bool = False):
        """A docket CourtListener changed since ``mark``: its record, and its
        entries modified since (all of them without a mark)."""
        try:
            item = docket_item(docket)
        except BAD_RECORD as exc:
            self.bad_record(f"CourtListener docket {docket.get('id')}", exc)
            return
        court, number = docket_id.split("/", 1)
        # the followed case's court and number: CourtListener may print it otherwise
        item.court_id, item.docket_number = court, number
        yield item
        ctx = {"court_id": court, "docket_number": number, "pacer_case_id": item.pacer_case_id}
        state = self.result["courtlistener"]["dockets"].setdefault(docket_id, {})
        state.update(cl_docket_id=docket.get("id"), pacer_case_id=item.pacer_case_id,
                     date_modified=docket.get("date_modified"), complete=False, entries=0,
                     date_filed=docket.get("date_filed"),
                     original_court_info=docket.get("original_court_info"),
                     appeal_from=docket.get("appeal_from"))
        params = {"docket": docket.get("id"), "order_by": "date_modified",
                  "omit": "recap_documents__plain_text"}
        if self.page_size != 20:
            params["page_size"] = self.page_size
        if mark:
            params["date_modified__gte"] = mark
        progress = mark
        async for page in self.cl_pages(self.api("docket-entries/", params)):
            for entry in page:
                try:
                    items = entry_items(ctx, entry, self.storage_url)
                except BAD_RECORD as exc:
                    self.bad_record(f"CourtListener docket entry {entry.get('id')}", exc)
                    continue
                state["entries"] += 1
                for one in items:
                    yield one
                if entry.get("date_modified") and _later(entry["date_modified"], progress):
                    progress = entry["date_modified"]
            state["progress"] = progress  # how far the entries were read, if the run stops
        state["complete"] = True
        state["mark"] = max((m for m in (docket.get("date_modified"), progress) if m),
                            key=_moment, default=None)
        if lookup:
            names: dict = {}
            for path, make in (("parties/", party_item), ("attorneys/", None)):
                if self.cl_calls + 1 >= self.cl_allowance:
                    break
                url = self.api(path, {"docket": docket.get("id"), "filter_nested_results": "True",
                                      "order_by": "id"})
                data = await self.cl_get(url)
                for record in data.get("results") or []:
                    try:
                        one = party_item(ctx, record) if make else attorney_item(ctx, record, names)
                    except BAD_RECORD as exc:
                        self.bad_record(f"CourtListener {path} record", exc)
                        continue
                    if make:
                        names[one.courtlistener_id] = one.name
                    yield one

    async def cl_lookup(self, case: dict):
        """A new follow: its docket on CourtListener by number, then all of it."""
        params = {"court": case["court"], "docket_number": case["docket_number"]}
        data = await self.cl_get(self.api("dockets/", params))
        results = [r for r in data.get("results") or [] if isinstance(r, dict)]
        if case.get("pacer_case_id") and len(results) > 1:
            results = [r for r in results if str(r.get("pacer_case_id")) == str(case["pacer_case_id"])] \
                or results
        self.result["courtlistener"]["lookups"][case["docket_id"]] = (
            results[0].get("id") if results else None)
        if not results:
            self.logger.info("CourtListener has no docket %s %s", case["court"],
                             case["docket_number"])
            return
        async for item in self.cl_fetch(case["docket_id"], results[0], None, lookup=True):
            yield item

    async def cl_search(self, batch: dict):
        """Appeals CourtListener knows of for several district cases of one
        circuit, in one search call (their numbers joined with OR); each hit's
        originating case checked before it counts (one call each)."""
        cases = batch["cases"]
        params = {"type": "d", "court": batch["circuit"], "order_by": "dateFiled desc",
                  "q": " OR ".join(f"\"{c['docket_number']}\"" for c in cases)}
        if batch.get("filed_after"):
            params["filed_after"] = batch["filed_after"]
        data = await self.cl_get(self.api("search/", params))
        known = {i for c in cases for i in c.get("known_ids") or []}
        found = {c["docket_id"]: 0 for c in cases}
        for hit in (data.get("results") or [])[:2 * len(cases)]:
            cl_id = hit.get("docket_id") if isinstance(hit, dict) else None
            if not cl_id or cl_id in known:
                continue
            detail = await self.cl_get(self.api("dockets/", {"id": cl_id}))
            for docket in detail.get("results") or []:
                origin = docket.get("original_court_info")
                number = origin.get("docket_number") if isinstance(origin, dict) else None
                court = docket.get("appeal_from")
                court = court.rstrip("/").rsplit("/", 1)[-1] if isinstance(court, str) else None
                for case in cases:
                    if number and same_number(number, case["docket_number"]) and \
                            (not court or court == case["court"]):
                        found[case["docket_id"]] += 1
                        self.result["courtlistener"]["appeals"].append({
                            "parent_id": case["docket_id"], "docket": {
                                k: docket.get(k) for k in (
                                    "id", "court_id", "docket_number", "pacer_case_id",
                                    "case_name", "date_filed", "original_court_info",
                                    "appeal_from", "appeal_from_str")}})
        self.result["courtlistener"]["searched"].update(found)

    # --- the Internet Archive -------------------------------------------------------
    async def ia_phase(self):
        for case in self.plan.get("internet_archive") or []:
            court, number = case["court"], case["docket_number"]
            url = item_url(self.base_url, court, case["pacer_case_id"], "docket.xml")
            out = {"ok": False}
            self.result["internet_archive"][case["docket_id"]] = out
            try:
                response = await self.fetch(scrapy.Request(
                    url, dont_filter=True, meta={"handle_httpstatus_list": [403, 404]}))
            except Exception as exc:  # noqa: BLE001
                out["detail"] = f"{type(exc).__name__}: {exc}"
                self.fail(f"The Internet Archive could not be read for {case['docket_id']}: {exc}")
                continue
            self.crawler.stats.inc_value("update/ia_requests")
            if response.status in (403, 404):
                out.update(ok=True, copy=False, detail="no RECAP copy there")
                continue
            if response.status >= 400:
                out["detail"] = f"answered {response.status}"
                self.fail(f"The Internet Archive answered {response.status} for "
                          f"{case['docket_id']}")
                continue
            try:
                docket = parsers.parse("ia", response.body, court=court)
            except parsers.ParseError as exc:
                out["detail"] = f"not a RECAP docket: {exc}"
                continue
            case_id = str(docket.get("pacer_case_id") or case["pacer_case_id"])
            out.update(ok=True, copy=True, entries=len(docket.get("docket_entries") or []))
            for item in recap_items(self, dict(docket, court_id=court, docket_number=number,
                                               pacer_case_id=case_id, source_url=response.url),
                                    self.base_url):
                yield item


def _moment(value):
    return parse_time(value) or parse_time("1970-01-01T00:00:00+00:00")


def _later(a, b) -> bool:
    """Whether time ``a`` is after ``b`` (no ``b``: yes)."""
    if not b:
        return True
    if not a:
        return False
    return _moment(a) > _moment(b)
