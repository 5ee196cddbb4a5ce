"""Free first: what CourtListener (its API, COURTLISTENER_TOKEN set) already
has of a case costs nothing, so a PACER spider asks it before PACER. For the
docket (``docket``): its entries, so PACER is asked only for newer ones; for
documents (``documents``): the RECAP copies, so only the rest is bought.

A part of the PACER spiders (``spider.free``, docket_spider/spiders/pacer_base.py):
it keeps what CourtListener had of the case, and its requests' callbacks are
its own methods, called through the spider.
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlencode, urljoin

from docket_spider import courtlistener as cl
from docket_spider.items import DocumentItem
from docket_spider.urls import allowed_hosts, strip_query
from parsers.common import docket_number_key, to_int
from parsers.courtlistener import BAD_RECORD


class CourtListenerFirst:
    name = "free"

    def __init__(self, spider):
        self.spider = spider
        self.docs: dict[tuple, dict] = {}  # (pacer_doc_id, attachment) -> its RECAP document
        self.taken_keys: set[tuple] = set()  # (pacer_doc_id, attachment) taken from CourtListener
        self.last_date: Optional[str] = None  # the last entry CourtListener had of the docket
        self.case_id: Optional[str] = None  # its pacer_case_id there (an ACMS case: a GUID)
        self.api_url = self.storage_url = ""

    def read_settings(self, settings) -> None:
        self.api_url = settings.get("COURTLISTENER_API_URL").rstrip("/") + "/"
        self.storage_url = settings.get("COURTLISTENER_STORAGE_URL").rstrip("/") + "/"

    def hosts(self) -> list[str]:
        return allowed_hosts(self.api_url, self.storage_url)

    @property
    def logger(self):
        return self.spider.logger

    def asked(self) -> bool:
        """Whether CourtListener is asked for the docket: a token, and no -a full=1."""
        return bool(cl.token()) and not self.spider.full

    def request(self, url, callback, errback, **meta):
        return self.spider.request(url, callback, errback=errback, headers=cl.HEADERS,
                                   meta={**cl.API_META, "dont_cache": True,
                                         "handle_httpstatus_list": [400, 401, 403, 404], **meta})

    # --- the docket -----------------------------------------------------------------
    def docket(self, then: str, pacer_case_id=None):
        """With COURTLISTENER_TOKEN set (and no ``-a full=1``), the case's entries
        and RECAP documents from CourtListener; then the PACER steps (the
        spider's method named ``then``) ask only for entries filed from the last
        one CourtListener had (``last_date``)."""
        if not self.asked():
            yield from self.spider.step(then)()
            return
        params = {"court": self.spider.court}
        if pacer_case_id:
            params["pacer_case_id"] = pacer_case_id
        else:
            params["docket_number"] = docket_number_key(self.spider.docket_number)
        yield self.request(self.api_url + "dockets/?" + urlencode(params), self.parse_docket,
                           self.docket_failed, then=then)

    def docket_failed(self, failure):
        self.logger.warning("CourtListener could not be asked for the docket (%s): PACER only",
                            failure.getErrorMessage())
        yield from self.spider.step(failure.request.meta["then"])()

    def parse_docket(self, response):
        spider, then = self.spider, response.meta["then"]
        try:
            found = (response.json().get("results") or []) if response.status < 400 else []
        except (ValueError, AttributeError):
            found = []
        if len(found) != 1:
            self.logger.info("CourtListener has %s: the docket comes from PACER only",
                             f"HTTP {response.status}" if response.status >= 400
                             else f"{len(found)} dockets matching {spider.docket_number}")
            yield from spider.step(then)()
            return
        docket = found[0]
        item = cl.docket_item(docket)
        self.case_id = item.pacer_case_id
        spider.docket_number = spider.docket_number or item.docket_number or None
        yield item
        ctx = {"court_id": item.court_id or spider.court, "docket_number": item.docket_number,
               "pacer_case_id": item.pacer_case_id}
        params = {"docket": docket["id"], "order_by": "id", "omit": "recap_documents__plain_text"}
        yield self.request(self.api_url + "docket-entries/?" + urlencode(params),
                           self.parse_entries, self.docket_failed, then=then, docket=ctx,
                           entries=0)

    def parse_entries(self, response):
        spider, meta = self.spider, response.meta
        try:
            data = response.json() if response.status < 400 else {}
        except (ValueError, AttributeError):
            data = {}
        entries = meta["entries"]
        results = data.get("results") if isinstance(data, dict) else None
        for entry in results if isinstance(results, list) else []:
            try:  # one entry of an unexpected shape costs that entry
                day = str(entry.get("date_filed") or "")[:10]
                items = list(cl.entry_items(meta["docket"], entry, self.storage_url))
            except BAD_RECORD as exc:
                what = entry.get("id") if isinstance(entry, dict) else type(entry).__name__
                spider.bad_record(f"CourtListener docket entry {what} of {spider.docket_number}",
                                  exc)
                continue
            entries += 1
            if day and (self.last_date is None or day > self.last_date):
                self.last_date = day
            for item in items:
                if isinstance(item, DocumentItem) and item.file_urls:
                    self.taken_keys.add(key(vars(item)))
                yield item
        link = self.next_page(response, data)
        if link:
            yield self.request(link, self.parse_entries, self.docket_failed, then=meta["then"],
                               docket=meta["docket"], entries=entries)
            return
        if data.get("next"):  # not followed: PACER is asked for the whole docket
            self.last_date = None
        spider.crawler.stats.set_value("pacer/entries_from_courtlistener", entries)
        self.logger.info("CourtListener had %s entries of %s for free (last filed %s); %s "
                         "RECAP documents with it", entries, spider.docket_number,
                         self.last_date, len(self.taken_keys))
        yield from spider.step(meta["then"])()

    # --- documents ------------------------------------------------------------------
    def documents(self, candidates):
        """The request for the case's RECAP documents; CourtListener's copies of
        ``candidates`` are taken, the rest go to the spider's document_requests."""
        params = {"docket_entry__docket__court": self.spider.court,
                  "docket_entry__docket__pacer_case_id": self.spider.pacer_case_id,
                  "is_available": "true", "order_by": "id"}
        return self.documents_request(self.api_url + "recap-documents/?" + urlencode(params),
                                      candidates)

    def documents_request(self, url, candidates):
        return self.request(url, self.parse_documents, self.documents_failed,
                            candidates=candidates)

    def documents_failed(self, failure):
        self.logger.warning("CourtListener could not be asked (%s): buying from PACER instead",
                            failure.getErrorMessage())
        yield from self.spider.document_requests(failure.request.meta["candidates"])

    def parse_documents(self, response):
        candidates = response.meta["candidates"]
        if response.status >= 400:
            self.logger.warning("CourtListener answered %s: buying from PACER instead",
                                response.status)
            yield from self.spider.document_requests(candidates)
            return
        data = response.json()
        for doc in data.get("results") or []:
            if doc.get("is_available") and doc.get("filepath_local") and doc.get("pacer_doc_id"):
                self.docs[key(doc)] = doc
        link = self.next_page(response, data)
        if link:
            yield self.documents_request(link, candidates)
            return
        self.logger.info("CourtListener has %s documents of this case for free", len(self.docs))
        rest = []
        for ctx in candidates:
            copy = self.copy(ctx)
            if copy is not None:
                yield self.document(ctx, copy)
            else:
                rest.append(ctx)
        yield from self.spider.document_requests(rest)

    def next_page(self, response, data):
        """CourtListener's next page, if it is on its API's host; a link elsewhere
        is not followed (the token goes only to the API), with a warning."""
        link, elsewhere = cl.next_page(response, data, self.api_url)
        if elsewhere:
            self.logger.warning("CourtListener's next page after %s points to another host (%s): "
                                "not followed; PACER is asked for what it would have given",
                                strip_query(response.url), strip_query(elsewhere))
        return link

    def taken(self, ctx) -> bool:
        """Whether the document ``ctx`` came with CourtListener's entries."""
        return key(ctx) in self.taken_keys

    def copy(self, ctx) -> Optional[dict]:
        """CourtListener's copy of a document (its PACER id and attachment number)."""
        return self.docs.get(key(ctx))

    def document(self, ctx, doc) -> DocumentItem:
        """The DocumentItem of CourtListener's copy ``doc`` of the candidate ``ctx``."""
        spider = self.spider
        spider.crawler.stats.inc_value("pacer/documents_from_courtlistener")
        attachment = doc.get("attachment_number") or ctx.get("attachment_number") or 0
        return DocumentItem(
            source="courtlistener", court_id=spider.court, docket_number=ctx["docket_number"],
            pacer_case_id=spider.pacer_case_id, entry_number=to_int(ctx.get("entry_number")),
            document_number=ctx.get("document_number") or doc.get("document_number"),
            attachment_number=int(attachment), document_type=2 if attachment else 1,
            description=ctx.get("description") or doc.get("description"),
            pacer_doc_id=ctx["pacer_doc_id"], is_available=True,
            page_count=doc.get("page_count"), sha1=doc.get("sha1") or None,
            courtlistener_id=doc.get("id"),
            file_urls=[urljoin(self.storage_url, doc["filepath_local"].lstrip("/"))])


def key(ctx) -> tuple:
    """A document's (PACER doc id, attachment number)."""
    return (str(ctx.get("pacer_doc_id")), int(ctx.get("attachment_number") or 0))
