"""PACER court of appeals docket: CM/ECF (TransportRoom CaseSummary) or ACMS.

    export PACER_USERNAME=... PACER_PASSWORD=...
    scrapy crawl pacer_appellate                                  # ca9 20-16908, priced only
    scrapy crawl pacer_appellate -a max_cost=3.00                 # buy, never over $3.00
    scrapy crawl pacer_appellate -a docket_number=23-2412 -a acms_case_id=<case GUID> -a max_cost=3
    scrapy crawl pacer_appellate -a documents=1 -a max_cost=10    # and the PDFs (CM/ECF cases)

Cases opened since 2023-10-01 in the Ninth Circuit (and the Second
Circuit's) live in ACMS: a JSON API behind the PACER login. Signing in (the
court's 2025 front end): PACER's login, then ACMS's ``/`` answers a SAML form
that is posted to ``/Saml2/Acs``, which sets ACMS's session cookies
(``.AspNetCore.saml2``, kept in one cookie jar per court); the API's bearer
token and the user's CsoId then come from ``/Home/IndexContent``
(docket_spider/pacer/acms_sign_in.py; parsers/acms_session.py reads the pages). A token
that expires (the API answers 401) is read again from there, once per expiry.

ACMS finds a case by its GUID only. For a ca2/ca9 docket number the GUID is
taken from ``-a acms_case_id=<GUID>``, else from the archive (an earlier
crawl), else from CourtListener (an ACMS docket's pacer_case_id is its GUID);
with a GUID the docket comes from ACMS, without one from CM/ECF, and the log
says which. Without ``-a max_cost=`` nothing is bought.

``-a documents=1`` (CM/ECF cases): each entry's document not yet in the
archive is priced on its Download Confirmation page (``docs1/<dls_id>``) and
bought, within the budget, by submitting that page's form (``ShowDoc``).

The spider is the steps both systems share (which system, the court's free
decisions); each system's own steps are a mixin: docket_spider/pacer/cmecf_appellate.py
(CM/ECF) and docket_spider/pacer/acms_docket.py (ACMS's docket and documents).
"""
from __future__ import annotations

import re

import scrapy

import parsers
from docket_spider.items import ParsedDocketItem
from docket_spider.pacer import PacerDocumentsMixin
from docket_spider.pacer.acms_docket import GUID, AcmsDocketMixin
from docket_spider.pacer.acms_sign_in import ACMS_COURTS, AcmsSessionMixin
from docket_spider.pacer.cmecf_appellate import CmecfAppellateMixin
from docket_spider.spiders.base import BaseSpider
from docket_spider.urls import allowed_hosts

DEFAULT = {"court": "ca9", "docket_number": "20-16908"}
CA9_CDN_HOST = "cdn.ca9.uscourts.gov"  # where the decisions feeds' PDFs are


class PacerAppellateSpider(CmecfAppellateMixin, AcmsDocketMixin, AcmsSessionMixin,
                           PacerDocumentsMixin, BaseSpider):
    name = "pacer_appellate"

    def __init__(self, court=None, docket_number=None, max_cost=None, documents=None,
                 full=None, acms_case_id=None, **kwargs):
        super().__init__(**kwargs)
        self.court = court or DEFAULT["court"]
        if not docket_number:
            if self.court != DEFAULT["court"]:
                raise ValueError(f"no default case in court {self.court!r}; give -a docket_number=")
            docket_number = DEFAULT["docket_number"]
        self.docket_number = docket_number.strip()
        self.use_acms = bool(acms_case_id)
        self.acms_case_id = acms_case_id
        self.setup_pacer(max_cost, documents, full, kwargs)
        self.crawl_args = {"court": self.court, "docket_number": self.docket_number,
                           "max_cost": max_cost, "documents": documents, "full": full,
                           "acms_case_id": acms_case_id}
        self.pacer_case_id = None  # CM/ECF's own id of the case, read from its docket
        self.setup_acms()
        self.acms_guid_from = "-a acms_case_id" if acms_case_id else None
        self.acms_candidates: list[dict] = []
        self.acms_listings = 0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.acms_poll_interval = crawler.settings.getfloat("ACMS_POLL_INTERVAL", 2.0)
        spider.acms_poll_max = crawler.settings.getint("ACMS_POLL_MAX", 60)
        spider.ca9_feeds = [u for u in (crawler.settings.get("CA9_OPINIONS_FEED_URL"),
                                        crawler.settings.get("CA9_MEMORANDA_FEED_URL")) if u]
        if spider.court == "ca9" and spider.ca9_feeds:
            spider.allowed_domains += [h for h in allowed_hosts(*spider.ca9_feeds) + [CA9_CDN_HOST]
                                       if h not in spider.allowed_domains]
        return spider

    async def start(self):
        if self.acms_case_id and not GUID.match(self.acms_case_id):
            self.arg_error = (f"-a acms_case_id={self.acms_case_id!r} is not an ACMS case GUID "
                              "(like f9f5230d-a95c-ee11-a81c-001dd80ad0b3)")
        elif self.acms_case_id and self.court not in ACMS_COURTS:
            self.arg_error = (f"-a acms_case_id: {self.court} has no ACMS (only "
                              f"{' and '.join(ACMS_COURTS)} do); its dockets are in CM/ECF")
        if not self.have_credentials():
            return
        yield self.login_request(self.first_requests)

    def first_requests(self):
        self.known_docket = self.last = None
        archive = self.archive()
        self.known_docket = archive.find_docket(self.court, self.docket_number)
        if self.known_docket:
            self.last = archive.last_entry(self.known_docket["id"])
            self.pacer_case_id = self.known_docket.get("pacer_case_id") or None
        archived_guid = self.acms_guid_from_archive()
        if not self.use_acms and archived_guid:
            self.acms_case_id, self.use_acms = archived_guid, True
            self.acms_guid_from = "the archive"
            self.logger.info("The archive knows %s as ACMS case %s", self.docket_number,
                             self.acms_case_id)
        if self.use_acms:  # ACMS has no date filter: CourtListener's copy would save nothing
            yield from self.docket_steps()
        else:
            yield from self.courtlistener_first("docket_steps")

    def docket_steps(self):
        if not self.use_acms and self.court in ACMS_COURTS and GUID.match(str(self.cl_case_id or "")):
            self.acms_case_id, self.use_acms = self.cl_case_id, True
            self.acms_guid_from = "CourtListener"
            self.logger.info("CourtListener knows %s as ACMS case %s", self.docket_number,
                             self.acms_case_id)
        self.log_court_system()
        what = "acms_docket" if self.use_acms else "appellate_docket"
        decision = self.budget.decide(what)
        label = f"{self.court} {self.docket_number}"
        if not decision.buy:
            self.log_decision(decision, "the docket of", label)
            yield self.charge_item(self.court, what, decision.status,
                                   cost_c=decision.worst_cents or 0,
                                   docket_number=self.docket_number,
                                   description=f"docket report (worst case); {decision.reason}")
            if self.want_documents and not self.use_acms:
                yield from self.documents_from_archive()
            return
        if self.use_acms:
            yield from self.acms_start(decision)
        else:
            yield self.cmecf_request(decision)

    def log_court_system(self):
        """Which court system the docket is asked of, and why."""
        if self.court not in ACMS_COURTS:
            return
        if self.use_acms:
            self.logger.info("%s %s: ACMS case %s (from %s): asking ACMS", self.court,
                             self.docket_number, self.acms_case_id, self.acms_guid_from)
        else:
            self.logger.info("%s %s: no ACMS case GUID known (%s): asking CM/ECF", self.court,
                             self.docket_number, self.guid_sources_tried())

    def guid_sources_tried(self) -> str:
        if self.asks_courtlistener_first():
            cl = "nor on CourtListener"
        elif self.full:
            cl = "CourtListener not asked with -a full=1"
        else:
            cl = "CourtListener not asked: COURTLISTENER_TOKEN is not set"
        return f"none given with -a acms_case_id, none in the archive, {cl}"

    def how_to_find_the_guid(self) -> str:
        return (f"The GUID is in the names of the case's CourtListener/RECAP files "
                f"(gov.uscourts.{self.court}.<GUID>.…, e.g. on storage.courtlistener.com or "
                f"archive.org) and in the case's ACMS address "
                f"(https://{self.court}-showdoc.azurewebsites.us/…); give it as "
                "-a acms_case_id=<GUID>.")

    def docket_item(self, record):
        record["court_id"] = record.get("court_id") or self.court
        record["docket_number"] = record.get("docket_number") or self.docket_number
        entries = record.get("docket_entries") or []
        self.crawler.stats.inc_value("pacer/entries", len(entries))
        self.logger.info("%s %s: %s entries, %s parties from PACER", self.court,
                         record["docket_number"], len(entries), len(record.get("parties") or []))
        yield ParsedDocketItem(source="pacer", court_id=self.court, record=record)

    # --- free first: the Ninth Circuit's own opinions and memoranda ------------------
    def fetch_documents(self, docket_number, candidates):
        """In ca9, before buying, read the court's free decisions feeds (latest 25
        opinions and 25 memoranda): a decision of this case is taken from there."""
        if self.court != "ca9" or not candidates or not self.ca9_feeds:
            yield from super().fetch_documents(docket_number, candidates)
            return
        yield self.ca9_feed_request(list(self.ca9_feeds), [], docket_number, candidates)

    def ca9_feed_request(self, feeds, decisions, docket_number, candidates):
        return scrapy.Request(feeds[0], callback=self.parse_ca9_feed, errback=self.ca9_feed_failed,
                              dont_filter=True,
                              meta={"feeds": feeds, "decisions": decisions, "dont_cache": True,
                                    "docket_number": docket_number, "candidates": candidates,
                                    "handle_httpstatus_list": [404, 500]})

    def ca9_feed_failed(self, failure):
        meta = failure.request.meta
        self.logger.warning("The Ninth Circuit's decisions feed %s could not be read (%s)",
                            failure.request.url, failure.getErrorMessage())
        yield from self.after_ca9_feed(meta)

    def parse_ca9_feed(self, response):
        meta = response.meta
        try:
            if response.status >= 400:
                raise parsers.ParseError(f"HTTP {response.status}")
            feed = parsers.parse("ca9_decisions", response.body, "ca9")
            meta["decisions"].extend(feed["decisions"])
        except parsers.ParseError as exc:
            self.logger.warning("The Ninth Circuit's decisions feed %s could not be read (%s)",
                                response.url, exc)
        yield from self.after_ca9_feed(meta)

    def after_ca9_feed(self, meta):
        feeds = meta["feeds"][1:]
        if feeds:
            yield self.ca9_feed_request(feeds, meta["decisions"], meta["docket_number"],
                                        meta["candidates"])
            return
        rest = list(meta["candidates"])
        mine = [d for d in meta["decisions"] if d["docket_number"] == meta["docket_number"]]
        for decision in mine:
            ctx = matching_candidate(decision, rest)
            if ctx is None:
                self.logger.info("The Ninth Circuit's free %s of %s filed %s matches no entry "
                                 "waiting for its document", decision_kind(decision),
                                 meta["docket_number"], decision["date_filed"])
                continue
            rest.remove(ctx)
            self.crawler.stats.inc_value("pacer/documents_free_from_ca9")
            self.logger.info("Document %s of %s: the court's free %s (%s), not bought",
                             ctx["document_number"], meta["docket_number"],
                             decision_kind(decision), decision["url"])
            yield self.document_item_for(ctx, "ca9", decision["url"],
                                         default_description=decision_kind(decision).capitalize())
        yield from super().fetch_documents(meta["docket_number"], rest)

    def document_requests(self, candidates):
        for ctx in candidates:
            if ctx.get("acms_doc"):
                yield from self.acms_purchase(ctx)
            else:
                yield self.document_request(ctx)


KIND_WORDS = {True: re.compile(r"\bOPINION\b", re.I), False: re.compile(r"\bMEMORANDUM\b", re.I),
              None: re.compile(r"\b(OPINION|MEMORANDUM)\b", re.I)}


def decision_kind(decision) -> str:
    return {True: "opinion", False: "memorandum"}.get(decision.get("precedential"), "decision")


def matching_candidate(decision, candidates):
    """The document waiting to be bought that a free decision is: an entry filed
    that day whose text says OPINION (or MEMORANDUM); of an ACMS entry's several
    documents, the one named so, else the first."""
    words = KIND_WORDS[decision.get("precedential")]
    found = [c for c in candidates
             if c.get("date_filed") and str(c["date_filed"])[:10] == decision.get("date_filed")
             and words.search(c.get("entry_text") or c.get("description") or "")]
    if not found:
        return None
    named = [c for c in found if c.get("attachment_number") and words.search(c.get("description") or "")]
    return (named or sorted(found, key=lambda c: c.get("attachment_number") or 0))[0]
