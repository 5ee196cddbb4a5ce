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

The spider holds one object per court system, each with its own state, and
asks the one that has the case: ``docket(decision)`` (the docket, bought
within the budget's decision) and ``document(ctx)`` (one document, priced and
bought): ``self.cmecf`` (docket_spider/pacer/cmecf_appellate.py) and
``self.acms`` (docket_spider/pacer/acms_docket.py, which holds its sign-in and
token). What both share (the PACER session, the budget and ledger,
CourtListener first, buying documents) is the PACER spiders' base
(docket_spider/spiders/pacer_base.py); what is the court's own (which system, the
Ninth Circuit's free decisions) is here.
"""
from __future__ import annotations

import re

import parsers
from archive.cases import APPEAL
from docket_spider.pacer.acms_docket import Acms, guid_in_archive, is_guid
from docket_spider.pacer.acms_sign_in import ACMS_COURTS
from docket_spider.pacer.cmecf_appellate import CmecfAppellate
from docket_spider.spiders.pacer_base import PacerSpider
from docket_spider.urls import allowed_hosts

CA9_CDN_HOST = "cdn.ca9.uscourts.gov"  # where the decisions feeds' PDFs are


class PacerAppellateSpider(PacerSpider):
    name = "pacer_appellate"

    def __init__(self, court=None, docket_number=None, max_cost=None, documents=None,
                 full=None, acms_case_id=None, **kwargs):
        court = court or APPEAL["court"]
        if not docket_number:
            if court != APPEAL["court"]:
                raise ValueError(f"no default case in court {court!r}; give -a docket_number=")
            docket_number = APPEAL["docket_number"]
        super().__init__(court=court, max_cost=max_cost, documents=documents, full=full,
                         **kwargs)
        self.docket_number = docket_number.strip()
        self.crawl_args = {"court": self.court, "docket_number": self.docket_number,
                           "max_cost": max_cost, "documents": documents, "full": full,
                           "acms_case_id": acms_case_id}
        self.known_docket = self.last = None  # what the archive has of the case
        self.cmecf = CmecfAppellate(self)
        self.acms = Acms(self, acms_case_id)
        self.ca9_feeds: list[str] = []

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.acms.read_settings(crawler.settings)
        spider.ca9_feeds = [u for u in (crawler.settings.get("CA9_OPINIONS_FEED_URL"),
                                        crawler.settings.get("CA9_MEMORANDA_FEED_URL")) if u]
        if spider.court == "ca9" and spider.ca9_feeds:
            spider.allowed_domains += [h for h in allowed_hosts(*spider.ca9_feeds) + [CA9_CDN_HOST]
                                       if h not in spider.allowed_domains]
        return spider

    @property
    def system(self):
        """The court system asked for the case: ACMS when its GUID is known."""
        return self.acms if self.acms.case_id else self.cmecf

    def credential_headers(self, request, realm) -> dict:
        if realm == "acms":  # ACMS's bearer token, while the request is sent
            bearer = self.acms.sign_in.bearer
            return {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return super().credential_headers(request, realm)

    async def start(self):
        case_id = self.acms.case_id
        if case_id and not is_guid(case_id):
            self.arg_error = (f"-a acms_case_id={case_id!r} is not an ACMS case GUID "
                              "(like f9f5230d-a95c-ee11-a81c-001dd80ad0b3)")
        elif case_id and self.court not in ACMS_COURTS:
            self.arg_error = (f"-a acms_case_id: {self.court} has no ACMS (only "
                              f"{' and '.join(ACMS_COURTS)} do); its dockets are in CM/ECF")
        async for request in super().start():
            yield request

    def first_requests(self):
        archive = self.archive()
        self.known_docket = archive.find_docket(self.court, self.docket_number)
        if self.known_docket:
            self.last = archive.last_entry(self.known_docket["id"])
            self.pacer_case_id = self.known_docket.get("pacer_case_id") or None
        archived_guid = guid_in_archive(self.court, self.known_docket)
        if not self.acms.case_id and archived_guid:
            self.acms.known_as(archived_guid, "the archive")
        if self.acms.case_id:  # ACMS has no date filter: CourtListener's copy would save nothing
            yield from self.docket_steps()
        else:
            yield from self.free.docket("docket_steps")

    def docket_steps(self):
        if not self.acms.case_id and self.court in ACMS_COURTS and is_guid(self.free.case_id):
            self.acms.known_as(self.free.case_id, "CourtListener")
        self.log_court_system()
        system = self.system
        decision = self.budget.decide(system.what)
        if not decision.buy:
            self.log_decision(decision, "the docket of", f"{self.court} {self.docket_number}")
            yield self.charge_item(self.court, system.what, decision.status,
                                   cost_c=decision.worst_cents or 0,
                                   docket_number=self.docket_number,
                                   description=f"docket report (worst case); {decision.reason}")
            if self.want_documents and system is self.cmecf:
                yield from self.documents_from_archive()
            return
        yield from system.docket(decision)

    def document_requests(self, candidates):
        for ctx in candidates:  # an ACMS document was listed by ACMS
            yield from (self.acms if ctx.get("acms_doc") else self.cmecf).document(ctx)

    def log_court_system(self):
        """Which court system the docket is asked of, and why."""
        if self.court not in ACMS_COURTS:
            return
        if self.acms.case_id:
            self.logger.info("%s %s: ACMS case %s (from %s): asking ACMS", self.court,
                             self.docket_number, self.acms.case_id, self.acms.case_id_from)
        else:
            self.logger.info("%s %s: no ACMS case GUID known (%s): asking CM/ECF", self.court,
                             self.docket_number, self.guid_sources_tried())

    def guid_sources_tried(self) -> str:
        if self.free.asked():
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
        yield self.docket_of(record, source="pacer", court_id=self.court)

    # --- free first: the Ninth Circuit's own opinions and memoranda ------------------
    def fetch_documents(self, docket_number, candidates):
        """In ca9, before buying, read the court's free decisions feeds (latest 25
        opinions and 25 memoranda): a decision of this case is taken from there."""
        if self.court != "ca9" or not candidates or not self.ca9_feeds:
            yield from super().fetch_documents(docket_number, candidates)
            return
        yield self.ca9_feed_request(list(self.ca9_feeds), [], docket_number, candidates)

    def ca9_feed_request(self, feeds, decisions, docket_number, candidates):
        return self.request(feeds[0], self.parse_ca9_feed, errback=self.ca9_feed_failed,
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
