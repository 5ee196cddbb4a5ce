"""Spiders, callbacks and pipelines tested in this process: no `scrapy crawl`
subprocess, no socket, no waiting on download slots.

Built on Scrapy's own test utilities (``scrapy.utils.test.get_crawler``, the
``scrapy.http`` request and response classes) with the project's settings:

    spider = make_spider(CourtListenerSpider, "court=cand", "docket_number=3:20-cv-05910",
                         settings=archive_settings(tmp_path))
    out = run_callback(response_for(request, json={"results": [...], "next": None}))
    out.requests, out.items, out.of(DocketEntryItem)

    save(spider, out.items)                  # through the pipelines into ARCHIVE_DB

    net = Offline(CourtListenerServer(cases, token=TOKEN))
    run = crawl(CourtListenerSpider, "court=cand", "pacer_case_id=364733", net=net,
                settings=archive_settings(tmp_path), env={"COURTLISTENER_TOKEN": TOKEN})
    run.outcome, run.items, run.rows("select * from crawls")

``Offline`` answers requests with a ``tests/servers`` server's own handler
functions (the same pages, pagination, tokens, 429s and faults as over HTTP)
without starting it. ``crawl`` runs ``start()`` to the last callback through
the project's offsite, retry, Retry-After, redirect and credentials
middlewares (DOWNLOADER_CHAIN), the item pipelines (ITEM_PIPELINES or
``pipelines=``) and the extensions the crawler builds (log counts,
CrawlOutcome...), which hear spider_opened and spider_closed. Requests are
answered one at a time, at once: download slots, delays and Retry-After waits
are not kept. The real engine, scheduler, JOBDIR, HTTP cache, cookies, the
logging setup and the exit status are left to the end-to-end `scrapy crawl`
tests.

Everything asynchronous (``async def`` callbacks and pipelines, Scrapy's
Deferreds) runs on a private asyncio event loop (``run_async``), so a
Deferred is awaited as an asyncio Future (``maybe_deferred_to_future``).
"""
from __future__ import annotations

import asyncio
import contextlib
import http.client
import inspect
import itertools
import json as jsonlib
import logging
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

from scrapy import Request, signals
from scrapy.exceptions import CloseSpider, DropItem, IgnoreRequest, NotConfigured
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.spidermiddlewares.httperror import HttpError, HttpErrorMiddleware
from scrapy.utils.conf import build_component_list
from scrapy.utils.defer import ensure_awaitable
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from docket_spider import settings as project_settings
from tests.servers.base import Response as ServerResponse

logger = logging.getLogger(__name__)

# docket_spider/settings.py, less what scrapy.utils.test.get_reactor_settings
# decides from the reactor (if any) this process has
_REACTOR_SETTINGS = {"TWISTED_REACTOR", "TWISTED_REACTOR_ENABLED", "ASYNCIO_EVENT_LOOP",
                     "DOWNLOAD_HANDLERS"}
PROJECT_SETTINGS = {name: getattr(project_settings, name) for name in dir(project_settings)
                    if name.isupper() and name not in _REACTOR_SETTINGS}

# The downloader middlewares a crawl here goes through, in DOWNLOADER_MIDDLEWARES
# order; the others (cookies, cache, compression, the PACER ledger...) need the
# real downloader.
DOWNLOADER_CHAIN = (
    "docket_spider.middlewares.HostsOffsiteMiddleware",
    "scrapy.downloadermiddlewares.retry.RetryMiddleware",
    "docket_spider.middlewares.RetryAfterMiddleware",
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware",
    "docket_spider.middlewares.CredentialsMiddleware",
)

ARCHIVE_ONLY = {"docket_spider.pipelines.archive.ArchivePipeline": 300}
FILES_AND_ARCHIVE = {"docket_spider.pipelines.files.DocumentFilesPipeline": 100,
                     "docket_spider.pipelines.archive.ArchivePipeline": 300}


def archive_settings(tmp_path, **overrides) -> dict:
    """Settings for a crawl into ``tmp_path``: its archive and files store, one
    extraction worker, no OCR (test_pdf's), no autothrottle."""
    return {"ARCHIVE_DB": str(Path(tmp_path) / "dockets.db"),
            "FILES_STORE": str(Path(tmp_path) / "files"), "EXTRACT_WORKERS": 1,
            "EXTRACT_OCR": False, "AUTOTHROTTLE_ENABLED": False, **overrides}


# --- spiders ---------------------------------------------------------------------

def make_crawler(spidercls, settings=None):
    """A crawler (settings, stats, signals; no engine) for ``spidercls`` with the
    project's settings and ``settings`` over them."""
    return get_crawler(spidercls, {**PROJECT_SETTINGS, **(settings or {})})


def make_spider(spidercls, *args: str, settings=None, **kwargs):
    """``spidercls`` as `scrapy crawl` makes it: from its crawler (``from_crawler``),
    with ``args`` as ``-a name=value`` strings and/or ``kwargs``; bound to that
    crawler (``spider.crawler``, ``crawler.spider``)."""
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep:
            raise ValueError(f"a spider argument is name=value, not {arg!r}")
        kwargs[name] = value
    crawler = make_crawler(spidercls, settings)
    # `scrapy crawl` freezes the settings after from_crawler, which may set some
    # (the CourtListener spider paces its API slot); get_crawler froze them before
    crawler.settings = crawler.settings.copy()
    crawler.settings.frozen = False
    spider = crawler._create_spider(**kwargs)
    crawler.settings.freeze()
    crawler.spider = spider
    return spider


# --- responses -------------------------------------------------------------------

def response_for(request: Request, body=b"", *, file=None, json=None, status: int = 200,
                 headers=None, url=None, flags=None) -> Response:
    """The answer to ``request`` (its meta, cb_kwargs and callback kept: the
    response's ``request``), of the class Scrapy would pick from the headers, URL
    and body: ``body`` (bytes or str), the bytes of ``file``, or ``json`` (any
    JSON value, sent as application/json)."""
    headers = dict(headers or {})
    if file is not None:
        body = Path(file).read_bytes()
    elif json is not None:
        body = jsonlib.dumps(json).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    url = url or request.url
    cls = responsetypes.from_args(headers=Headers(headers), url=url, body=body)
    return cls(url=url, status=status, headers=headers, body=body, request=request,
               flags=list(flags or ()))


# --- callbacks -------------------------------------------------------------------

@dataclass
class Output:
    """What a callback (or ``start()``) yielded, split into requests and items."""

    requests: list = field(default_factory=list)
    items: list = field(default_factory=list)

    def add(self, value) -> None:
        if isinstance(value, Request):
            self.requests.append(value)
        elif value is not None:
            self.items.append(value)

    def of(self, *classes) -> list:
        """The items that are instances of ``classes``."""
        return [item for item in self.items if isinstance(item, classes)]


def run_async(coro):
    """Run ``coro`` to its end on a new asyncio event loop of its own (not the
    thread's current one, which a reactor may own), then close that loop."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()


async def _each(result):
    """The values of what a callback returned: None, one value, an iterable, a
    coroutine's result or an asynchronous generator's values."""
    if inspect.iscoroutine(result):
        result = await result
    if inspect.isasyncgen(result):
        async for value in result:
            yield value
    elif isinstance(result, (Request, dict)) or not hasattr(result, "__iter__"):
        if result is not None:
            yield result
    else:
        for value in result:
            yield value


async def _collect(result) -> Output:
    out = Output()
    async for value in _each(result):
        out.add(value)
    return out


def run_callback(response: Response, callback=None, **cb_kwargs) -> Output:
    """Call ``callback`` (default: the response's request's) on ``response`` and
    collect everything it yields. Its exceptions (CloseSpider too) propagate."""
    request = response.request
    callback = callback or request.callback
    if callback is None:
        raise ValueError("the request has no callback: give one")
    return run_async(_collect(callback(response, **{**request.cb_kwargs, **cb_kwargs})))


def start_requests(spider) -> Output:
    """What the spider's ``async def start()`` yields."""
    return run_async(_collect(spider.start()))


# --- pipelines -------------------------------------------------------------------

class Pipelines:
    """The crawler's item pipelines (ITEM_PIPELINES, or ``components``: class
    paths, classes or a {path: order} dict), built from the crawler and run in
    order as Scrapy's ItemPipelineManager runs them (sync or ``async def``)."""

    def __init__(self, crawler, components=None):
        if components is None or isinstance(components, dict):
            components = build_component_list(
                crawler.settings.getwithbase("ITEM_PIPELINES") if components is None
                else components)
        self.components = [build_from_crawler(load_object(c) if isinstance(c, str) else c,
                                              crawler) for c in components]

    async def _each(self, method: str):
        for component in self.components:
            if hasattr(component, method):
                await ensure_awaitable(getattr(component, method)())

    async def open(self) -> None:
        await self._each("open_spider")

    async def process(self, item):
        """``item`` through every pipeline; DropItem propagates."""
        for component in self.components:
            item = await ensure_awaitable(component.process_item(item))
        return item

    async def close(self) -> None:
        await self._each("close_spider")


# --- servers, in this process ---------------------------------------------------

class _Incoming:
    """A Scrapy request as a tests/servers handler sees one (base.Request's attributes)."""

    def __init__(self, request: Request):
        split = urlsplit(request.url)
        self.method = request.method
        self.raw_path = split.path + (f"?{split.query}" if split.query else "")
        self.path = split.path
        self.query_string = split.query
        self.query_items = parse_qsl(split.query, keep_blank_values=True)
        self.query = dict(self.query_items)
        self.headers = http.client.HTTPMessage()
        for name, values in request.headers.items():
            for value in values:
                self.headers[name.decode("latin-1")] = value.decode("latin-1")
        self.host = self.headers.get("Host") or split.netloc
        self.body = request.body

    @staticmethod
    def client_gone() -> bool:
        return False

    @property
    def url(self) -> str:
        return f"http://{self.host}{self.raw_path}"


class Offline:
    """Requests answered by local test servers' own handlers, in this process.

    ``servers``: tests/servers objects (CourtListenerServer, InternetArchiveServer...),
    which need not be started: a part of one on port 0 gets a made-up port, so
    that each part has its own URLs; nothing listens there. Each answer is
    logged in the server's ``log`` as over HTTP. A request for another host
    fails as a DNS lookup would."""

    _ports = itertools.count(47001)

    def __init__(self, *servers):
        self.servers = servers
        self.parts = []
        for server in servers:
            for part in server._parts():
                if not part.port and part.httpd is None:
                    part.port = next(self._ports)
                self.parts.append(part)

    def settings(self) -> dict:
        """The settings that point a spider at these servers."""
        out = {}
        for server in self.servers:
            out.update(server.settings())
        return out

    def answer(self, request: Request) -> Response:
        part = next((p for p in self.parts if request.url.startswith(p.base)), None)
        if part is None:
            hint = (" (were the server's settings read before Offline() gave it a port?)"
                    if urlsplit(request.url).port == 0 else "")
            raise DNSLookupError(f"no in-process server for {request.url}{hint}")
        incoming = _Incoming(request)
        try:
            answer = part.app(incoming)
        except Exception as exc:  # a bug in the server: a 500, as LocalServer answers
            logger.exception("test server error on %s", request.url)
            answer = ServerResponse.json({"detail": f"test server error: {exc!r}"}, 500)
        part.log.add({"method": incoming.method, "path": incoming.path,
                      "query": dict(incoming.query), "status": answer.status,
                      "kind": part.kind_of(incoming)})
        if answer.cut_after is not None:  # the server drops the connection
            raise ResponseDataLossError(f"{request.url}: the connection closed after "
                                        f"{answer.cut_after} bytes")
        headers = dict(answer.headers)
        body = answer.body if request.method != "HEAD" and answer.status != 304 else b""
        if answer.status != 304:
            headers["Content-Length"] = str(len(answer.body))
        return response_for(request, body, status=answer.status, headers=headers)


# --- a whole crawl, in this process ----------------------------------------------

class _Engine:
    """What a media pipeline asks of the engine: its downloads."""

    downloader = None  # no download slots here: RetryAfterMiddleware holds none back

    def __init__(self, crawl: "Crawl"):
        self._crawl = crawl

    async def download_async(self, request: Request) -> Response:
        while True:
            result = self._crawl.fetch(request)
            if isinstance(result, Request):  # a retry or a redirect
                request = result
                continue
            if isinstance(result, Failure):
                result.raiseException()
            return result


class Crawl:
    """One crawl of ``spider`` (from ``make_spider``) answered by ``net`` (an
    ``Offline``, or anything with ``answer(request) -> Response``): ``run()``
    it, then look at ``items``, ``sent``, ``stats``, ``reason``, ``outcome``,
    ``errors`` and the archive (``rows``)."""

    def __init__(self, spider, net, *, pipelines=None, max_requests: int = 5000):
        self.spider = spider
        self.crawler = crawler = spider.crawler
        self.net = net
        self.max_requests = max_requests
        self.pipelines = Pipelines(crawler, pipelines)
        chain = set(DOWNLOADER_CHAIN)
        self.downloader = []
        for path in build_component_list(crawler.settings.getwithbase("DOWNLOADER_MIDDLEWARES")):
            if (path if isinstance(path, str) else f"{path.__module__}.{path.__name__}") in chain:
                with contextlib.suppress(NotConfigured):
                    self.downloader.append(build_from_crawler(load_object(path), crawler))
        self.httperror = HttpErrorMiddleware.from_crawler(crawler)
        crawler.engine = _Engine(self)
        self.items: list = []
        self.sent: list[Request] = []  # every request answered (retries and redirects too)
        self.errors: list[str] = []  # callbacks and pipelines that raised
        self.reason = None
        self._queue: deque = deque()
        self._seen: set = set()

    # -- results --
    @property
    def stats(self) -> dict:
        return self.crawler.stats.get_stats()

    @property
    def outcome(self):
        return self.crawler.stats.get_value("docket_archive/outcome")

    def rows(self, sql: str, params=()) -> list[dict]:
        from tests.conftest import rows

        return rows(self.crawler.settings.get("ARCHIVE_DB"), sql, params)

    def of(self, *classes) -> list:
        return [item for item in self.items if isinstance(item, classes)]

    # -- running --
    def run(self, env=None, items=None) -> "Crawl":
        """The crawl from ``start()`` to its close; ``env``: environment variables
        set meanwhile (a token). With ``items``, those go through the pipelines
        instead of what ``start()`` leads to."""
        with mock.patch.dict(os.environ, env or {}):
            run_async(self._run(items))
        return self

    async def _run(self, items) -> None:
        # the crawler's extensions (log counts, CrawlOutcome...) hear these signals
        self.crawler.signals.send_catch_log(signals.spider_opened, spider=self.spider)
        self.reason = "finished"
        try:
            await self.pipelines.open()
            if items is not None:
                for item in items:
                    await self._item(item)
            else:
                await self._take(self.spider.start(), None)
            while self._queue:
                if len(self.sent) >= self.max_requests:
                    raise AssertionError(f"more than {self.max_requests} requests: a loop?")
                await self._handle(self._queue.popleft())
        except CloseSpider as exc:
            self.reason = exc.reason
        finally:
            # as the engine closes a spider: its pipelines, then spider_closed (even
            # when the test fails here: locks, worker processes and log handlers go)
            await self.pipelines.close()
            self.crawler.signals.send_catch_log(signals.spider_closed, spider=self.spider,
                                                reason=self.reason)

    def fetch(self, request: Request):
        """``request`` through the downloader middlewares and ``net``: a
        Response, a Request to schedule instead (retry, redirect) or a Failure."""
        try:
            result = self._first("process_request", self.downloader, request)
            if result is None:
                self.sent.append(request)
                self.crawler.stats.inc_value("downloader/request_count")
                result = self.net.answer(request)
        except Exception as exc:
            result = self._first("process_exception", reversed(self.downloader), request, exc)
            if result is None:
                return Failure(exc)
        if isinstance(result, Request):
            return result
        response = result
        try:
            for mw in reversed(self.downloader):
                if hasattr(mw, "process_response"):
                    response = mw.process_response(request, response)
                    if isinstance(response, Request):
                        return response
        except Exception as exc:
            return Failure(exc)
        return response

    @staticmethod
    def _first(method: str, middlewares, *args):
        """What the first of ``middlewares`` whose ``method`` returns something returns."""
        for mw in middlewares:
            if hasattr(mw, method):
                result = getattr(mw, method)(*args)
                if result is not None:
                    return result
        return None

    async def _handle(self, request: Request) -> None:
        result = self.fetch(request)
        if isinstance(result, Request):
            self._queue.append(result)
            return
        if isinstance(result, Failure):
            if request.errback is not None:
                await self._errback(request, result, None)
            elif not result.check(IgnoreRequest):
                logger.error("Error downloading %s: %s", request, result.getErrorMessage())
            return
        try:
            self.httperror.process_spider_input(result)
        except HttpError as exc:
            if request.errback is not None:
                await self._errback(request, Failure(exc), result)
            else:
                self.httperror.process_spider_exception(result, exc)
            return
        callback = request.callback or self.spider._parse
        await self._take(callback(result, **request.cb_kwargs), result)

    async def _errback(self, request: Request, failure: Failure, response) -> None:
        failure.request = request  # as Scrapy's scraper gives it to an errback
        await self._take(request.errback(failure), response)

    async def _take(self, output, response) -> None:
        """A callback's output: requests scheduled, items through the pipelines.
        A callback that raises is an error in the log, as in a real crawl."""
        try:
            async for value in _each(output):
                if isinstance(value, Request):
                    self._schedule(value)
                elif value is not None:
                    await self._item(value)
        except CloseSpider:
            raise
        except Exception as exc:
            self.crawler.stats.inc_value(f"spider_exceptions/{type(exc).__name__}")
            self.errors.append(f"{type(exc).__name__}: {exc}")
            logger.error("Spider error processing %s", response, exc_info=True)

    def _schedule(self, request: Request) -> None:
        if not request.dont_filter:
            fingerprint = self.crawler.request_fingerprinter.fingerprint(request)
            if fingerprint in self._seen:
                return
            self._seen.add(fingerprint)
        self._queue.append(request)

    async def _item(self, item) -> None:
        self.items.append(item)
        try:
            await self.pipelines.process(item)
        except DropItem as exc:
            logger.info("Dropped: %s", exc)
        except Exception as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
            logger.error("Error processing %r", item, exc_info=True)


def crawl(spidercls, *args: str, net, settings=None, pipelines=None, env=None,
          **kwargs) -> Crawl:
    """A whole crawl of ``spidercls`` (``args``: ``-a`` strings) answered by
    ``net``, whose servers' settings come first, ``settings`` over them."""
    spider = make_spider(spidercls, *args, settings={**net.settings(), **(settings or {})},
                         **kwargs)
    return Crawl(spider, net, pipelines=pipelines).run(env=env)


class _Nothing:
    """A ``net`` for a crawl that must fetch nothing."""

    @staticmethod
    def answer(request):
        raise AssertionError(f"unexpected request {request.url}")


def save(spider, items, *, pipelines=None) -> Crawl:
    """``items`` through the spider's pipelines (``pipelines``: as for Pipelines)
    as a crawl that yields just them; nothing can be fetched (a media
    pipeline's download is a failed download)."""
    return Crawl(spider, _Nothing(), pipelines=pipelines).run(items=list(items))
