"""Free first: what CourtListener (its API, COURTLISTENER_TOKEN set) already
has of a case costs nothing, so it is asked before PACER. For the docket
(``courtlistener_first``): its entries, so PACER is asked only for newer ones;
for documents (``cl_request``): the RECAP copies, so only the rest is bought.
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlencode, urljoin

import scrapy

from archive import db as adb
from docket_spider.courtlistener import API_SLOT, docket_item, entry_items
from docket_spider.items import DocumentItem
from docket_spider.pacer.session import courtlistener_token
from docket_spider.urls import same_origin, strip_query
from parsers.courtlistener import BAD_RECORD


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CourtListenerFirstMixin:
    """The CourtListener-first lookups of PacerDocumentsMixin (which sets
    ``cl_api_url``, ``cl_storage_url`` and the ``cl_*`` state in
    ``read_document_settings``; the documents it does not find go to its
    ``document_requests``).
    """

    # CourtListener first: what RECAP already has costs nothing
    def cl_request(self, url, candidates):
        return self.cl_api_request(url, self.parse_cl_documents, self.cl_failed,
                                   candidates=candidates)

    def cl_api_request(self, url, callback, errback, **meta):
        return scrapy.Request(url, callback=callback, errback=errback, dont_filter=True,
                              headers={"Accept": "application/json"},
                              meta={"courtlistener_auth": True, "dont_cache": True,
                                    "download_slot": API_SLOT,
                                    "autothrottle_dont_adjust_delay": True,
                                    "handle_httpstatus_list": [400, 401, 403, 404], **meta})

    # Free first for the docket: CourtListener's copy before PACER's report
    def asks_courtlistener_first(self) -> bool:
        return bool(courtlistener_token()) and not self.full

    def courtlistener_first(self, then: str, pacer_case_id=None):
        """With COURTLISTENER_TOKEN set (and no ``-a full=1``), load the case's
        entries and RECAP documents from CourtListener first; then the PACER
        steps (the spider's method named ``then``) ask only for entries filed
        from the last one CourtListener had (``self.cl_last_date``)."""
        if not self.asks_courtlistener_first():
            yield from getattr(self, then)()
            return
        params = {"court": self.court}
        if pacer_case_id:
            params["pacer_case_id"] = pacer_case_id
        else:
            params["docket_number"] = adb.docket_number_key(self.docket_number)
        yield self.cl_api_request(self.cl_api_url + "dockets/?" + urlencode(params),
                                  self.parse_cl_docket, self.cl_docket_failed, then=then)

    def cl_docket_failed(self, failure):
        self.logger.warning("CourtListener could not be asked for the docket (%s): PACER only",
                            failure.getErrorMessage())
        yield from getattr(self, failure.request.meta["then"])()

    def parse_cl_docket(self, response):
        then = response.meta["then"]
        try:
            found = (response.json().get("results") or []) if response.status < 400 else []
        except (ValueError, AttributeError):
            found = []
        if len(found) != 1:
            self.logger.info("CourtListener has %s: the docket comes from PACER only",
                             f"HTTP {response.status}" if response.status >= 400
                             else f"{len(found)} dockets matching {self.docket_number}")
            yield from getattr(self, then)()
            return
        docket = found[0]
        item = docket_item(docket)
        self.cl_case_id = item.pacer_case_id
        self.docket_number = self.docket_number or item.docket_number or None
        yield item
        ctx = {"court_id": item.court_id or self.court, "docket_number": item.docket_number,
               "pacer_case_id": item.pacer_case_id}
        params = {"docket": docket["id"], "order_by": "id", "omit": "recap_documents__plain_text"}
        yield self.cl_api_request(self.cl_api_url + "docket-entries/?" + urlencode(params),
                                  self.parse_cl_entries, self.cl_docket_failed, then=then,
                                  docket=ctx, entries=0)

    def parse_cl_entries(self, response):
        meta = response.meta
        try:
            data = response.json() if response.status < 400 else {}
        except (ValueError, AttributeError):
            data = {}
        entries = meta["entries"]
        results = data.get("results") if isinstance(data, dict) else None
        for entry in results if isinstance(results, list) else []:
            try:  # one entry of an unexpected shape costs that entry
                day = str(entry.get("date_filed") or "")[:10]
                items = list(entry_items(meta["docket"], entry, self.cl_storage_url))
            except BAD_RECORD as exc:
                what = entry.get("id") if isinstance(entry, dict) else type(entry).__name__
                self.bad_record(f"CourtListener docket entry {what} of {self.docket_number}", exc)
                continue
            entries += 1
            if day and (self.cl_last_date is None or day > self.cl_last_date):
                self.cl_last_date = day
            for item in items:
                if isinstance(item, DocumentItem) and item.file_urls:
                    self.cl_taken.add(self.cl_key(vars(item)))
                yield item
        link = self.cl_next_page(response, data)
        if link:
            yield self.cl_api_request(link, self.parse_cl_entries, self.cl_docket_failed,
                                      then=meta["then"], docket=meta["docket"], entries=entries)
            return
        if data.get("next"):  # not followed: PACER is asked for the whole docket
            self.cl_last_date = None
        self.crawler.stats.set_value("pacer/entries_from_courtlistener", entries)
        self.logger.info("CourtListener had %s entries of %s for free (last filed %s); %s "
                         "RECAP documents with it", entries, self.docket_number,
                         self.cl_last_date, len(self.cl_taken))
        yield from getattr(self, meta["then"])()

    def cl_failed(self, failure):
        self.logger.warning("CourtListener could not be asked (%s): buying from PACER instead",
                            failure.getErrorMessage())
        yield from self.document_requests(failure.request.meta["candidates"])

    def parse_cl_documents(self, response):
        candidates = response.meta["candidates"]
        if response.status >= 400:
            self.logger.warning("CourtListener answered %s: buying from PACER instead",
                                response.status)
            yield from self.document_requests(candidates)
            return
        data = response.json()
        for doc in data.get("results") or []:
            if doc.get("is_available") and doc.get("filepath_local") and doc.get("pacer_doc_id"):
                self.cl_docs[(str(doc["pacer_doc_id"]), int(doc.get("attachment_number") or 0))] = doc
        link = self.cl_next_page(response, data)
        if link:
            yield self.cl_request(link, candidates)
            return
        self.logger.info("CourtListener has %s documents of this case for free", len(self.cl_docs))
        rest = []
        for ctx in candidates:
            copy = self.cl_copy(ctx)
            if copy is not None:
                yield self.cl_document(ctx, copy)
            else:
                rest.append(ctx)
        yield from self.document_requests(rest)

    def cl_next_page(self, response, data):
        """CourtListener's next page, if it is on its API's host; a link elsewhere
        is not followed (the token goes only to the API), with a warning."""
        link = data.get("next")
        if not link:
            return None
        link = response.urljoin(str(link))
        if same_origin(link, self.cl_api_url):
            return link
        self.logger.warning("CourtListener's next page after %s points to another host (%s): "
                            "not followed; PACER is asked for what it would have given",
                            strip_query(response.url), strip_query(link))
        return None

    @staticmethod
    def cl_key(ctx) -> tuple:
        return (str(ctx.get("pacer_doc_id")), int(ctx.get("attachment_number") or 0))

    def cl_copy(self, ctx) -> Optional[dict]:
        """CourtListener's copy of a document (its PACER id and attachment number)."""
        return self.cl_docs.get(self.cl_key(ctx))

    def cl_document(self, ctx, doc) -> DocumentItem:
        self.crawler.stats.inc_value("pacer/documents_from_courtlistener")
        attachment = doc.get("attachment_number") or ctx.get("attachment_number") or 0
        return DocumentItem(
            source="courtlistener", court_id=self.court, docket_number=ctx["docket_number"],
            pacer_case_id=self.pacer_case_id, entry_number=_int(ctx.get("entry_number")),
            document_number=ctx.get("document_number") or doc.get("document_number"),
            attachment_number=int(attachment), document_type=2 if attachment else 1,
            description=ctx.get("description") or doc.get("description"),
            pacer_doc_id=ctx["pacer_doc_id"], is_available=True,
            page_count=doc.get("page_count"), sha1=doc.get("sha1") or None,
            courtlistener_id=doc.get("id"),
            file_urls=[urljoin(self.cl_storage_url, doc["filepath_local"].lstrip("/"))])
