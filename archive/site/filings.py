"""What the public pages say about a filing, in words: what was filed (a feed
entry's title), why the archive has no PDF of a document, and where it can be
had (CourtListener's page when RECAP has it, otherwise PACER, at PACER's
price when the page count is known). Pure functions of a row's fields.
"""
from __future__ import annotations

import re
from typing import Optional
from urllib.parse import urlparse

from archive.fees import CAP_CENTS, PAGE_CENTS, cost_cents, fmt
from parsers.links import is_appellate

COURTLISTENER = "https://www.courtlistener.com"
PACER_HOME = "https://pacer.uscourts.gov/"
TITLE_LENGTH = 90

# --- what was filed ---------------------------------------------------------

# where a docket text stops saying what the filing is and starts saying who,
# which earlier entry it answers, or when (a sentence's end, not an initial's
# or an abbreviation's full stop)
_TITLE_END = re.compile(
    r"\s+(?:filed\s+by|by\s+(?:plaintiff|defendant|appellant|appellee|petitioner|respondent|"
    r"attorney|counsel)s?\b|re:?\s*(?:\[?\d)|as\s+to\s+\d|\(re\s|\((?:Attachments|Filed|Entered)"
    r"|\(\s*Filing\s+fee|Signed\s+by|Responses?\s+due|Motion\s+Hearing\s+set|Date\s+of\s+service)"
    r"|(?<!\b[A-Za-z])(?<!\bNo)(?<!\bInc)(?<!\bCo)(?<!\bCorp)(?<!\bvs)(?<!\bJr)(?<!\bSr)"
    r"(?<!\bSt)(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bLtd)\.\s+(?=[A-Z(])|;\s|\s+\[\d{6,}\]", re.I)
_FILED_ECF = re.compile(r"^[\s*]*(?:Filed\s+\(ECF\)\s+|Filed\s+)?", re.I)
# who filed it, before what they filed ("Appellants Donald J. Trump and Wilbur Ross Emergency Motion")
_PARTIES = re.compile(
    r"^(?:Appellants?|Appellees?|Petitioners?|Respondents?|Plaintiffs?|Defendants?)'?\s+"
    r"(?:(?:[A-Z][\w.,'&-]*|and|&)\s+){1,24}?"
    r"(?=(?i:(?:emergency\s+|unopposed\s+|joint\s+|amended\s+)?(?:motion|brief|response|reply|"
    r"opposition|letter|notice|petition|statement|declaration|stipulation)\b))")
# a panel of judges or a clerk's initials, a reference to an earlier entry
_ASIDE = re.compile(r"\s*\((?:[A-Z][A-Z.' -]+(?:,\s*|\s+and\s+))+[A-Z][A-Z.' -]+\)"
                    r"|\s*\((?:Deputy\s+Clerk|Docket\s+Entry)[^)]*\)", re.I)
# words printed in capitals that stay so
_ACRONYMS = {"USCA", "ECF", "PDF", "LLC", "FRCP", "ADR", "CJA", "USA", "FBI", "IFP", "TRO",
             "MDL", "BAP", "NOA", "FOIA", "ERISA", "APA", "CMC", "ENE", "II", "III", "IV", "PLLC",
             "LLP", "NA", "DOJ", "ICE", "DHS", "FTC", "SEC", "EEOC", "NLRB", "ACLU", "NAACP"}


def _sentence_case(text: str) -> str:
    """Words printed in capitals made lower case ("NOTICE OF APPEAL to the 9th
    Circuit" -> "Notice of appeal to the 9th Circuit"), acronyms and numbers
    kept, the first letter a capital."""
    def word(m):
        w = m.group(0)
        if len(w) < 2 or w in _ACRONYMS or not w.isupper() or any(c.isdigit() for c in w):
            return w
        return w.lower()
    text = re.sub(r"[A-Za-z][A-Za-z']*", word, text)
    return text[:1].upper() + text[1:]


def filing_title(description: Optional[str], document_description: Optional[str] = None,
                 limit: int = TITLE_LENGTH) -> str:
    """What was filed, in a few words, from the docket text (or the main
    document's own description when the docket text says nothing):

    "ORDER GRANTING MOTION FOR PRELIMINARY INJUNCTION re 17, 48. Signed by..."
    -> "Order granting motion for preliminary injunction";
    "MOTION for Preliminary Injunction filed by Brent Coulter, ..." ->
    "Motion for Preliminary Injunction"; "Filed (ECF) Appellants Donald J.
    Trump and Wilbur Ross Emergency Motion to stay ..." -> "Emergency Motion
    to stay ..."."""
    text = " ".join((description or "").split())
    text = _FILED_ECF.sub("", text, count=1)
    text = _PARTIES.sub("", text, count=1)
    text = _ASIDE.sub("", text)
    cut = _TITLE_END.search(text)
    if cut and cut.start() >= 4:
        text = text[:cut.start()]
    text = text.strip(" .,;:-(")
    if not text:
        text = " ".join((document_description or "").split()).strip(" .,;:-")
    if not text:
        return "Docket entry"
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:-(") + "…"
    return _sentence_case(text)


# --- a document the archive has no PDF of ------------------------------------

_TRANSCRIPT = re.compile(r"^\W*(?:official\s+)?transcript\b", re.I)


def is_transcript(description: Optional[str], entry_description: Optional[str]) -> bool:
    """A transcript (PACER does not cap its price), by what its docket text calls it."""
    return bool(_TRANSCRIPT.search(description or "") or _TRANSCRIPT.search(entry_description or ""))


def pacer_price(page_count: Optional[int], transcript: bool) -> str:
    """PACER's price for one document, in words (archive/fees.py's rule)."""
    if page_count:
        cost = cost_cents(page_count, "transcript" if transcript else "document")
        pages = f"{page_count} page{'s' if page_count != 1 else ''}"
        if not transcript and page_count * PAGE_CENTS > CAP_CENTS:
            return f"{fmt(cost)} ({pages}, at PACER's {fmt(CAP_CENTS)} cap for a document)"
        return f"{fmt(cost)} ({pages} at {fmt(PAGE_CENTS)} a page)"
    if transcript:
        return f"{fmt(PAGE_CENTS)} a page, not capped for a transcript (page count unknown)"
    return f"up to {fmt(CAP_CENTS)} ({fmt(PAGE_CENTS)} a page, at most {fmt(CAP_CENTS)})"


def courtlistener_url(docket_source_url: Optional[str], document_number: Optional[str],
                      attachment_number: Optional[int]) -> Optional[str]:
    """CourtListener's page of a RECAP document, from its docket's page
    (``/docket/<id>/<slug>/`` -> ``/docket/<id>/<doc>/[<att>/]<slug>/``), or the
    docket's page itself when the document number is unknown."""
    parsed = urlparse(docket_source_url or "")
    m = re.match(r"^/docket/(\d+)/([^/]+)/?$", parsed.path)
    if parsed.netloc not in ("www.courtlistener.com", "courtlistener.com") or not m:
        return None
    docket_id, slug = m.groups()
    if not document_number or not str(document_number).isdigit():
        return f"{COURTLISTENER}/docket/{docket_id}/{slug}/"
    middle = f"{document_number}/" + (f"{attachment_number}/" if attachment_number else "")
    return f"{COURTLISTENER}/docket/{docket_id}/{middle}{slug}/"


def pacer_url(court_id: Optional[str], pacer_doc_id: Optional[str]) -> Optional[str]:
    """The court's CM/ECF address of a document (a PACER login asks first):
    district ``doc1/<id>``, appellate ``docs1/<id>``."""
    if not court_id or not pacer_doc_id or not re.match(r"^[a-z0-9]{2,8}$", court_id) \
            or not re.match(r"^\d{6,20}$", str(pacer_doc_id)):
        return None
    path = "docs1" if is_appellate(court_id) else "doc1"
    return f"https://ecf.{court_id}.uscourts.gov/{path}/{pacer_doc_id}"


def why_missing(doc: dict) -> str:
    """Why the archive has no PDF of a document, in words."""
    status = doc.get("status") or ""
    if status == "download_failed":
        return ("The archive tried to download it and the download failed; "
                "the next crawl tries again.")
    if doc.get("is_available"):
        return "RECAP has a copy, which the archive has not downloaded yet."
    source = (doc.get("source") or "").split(":")[0]
    if not doc.get("pacer_doc_id") and not doc.get("description"):
        return ("The court's docket gives no document for this entry: it may be a "
                "text-only entry, with nothing to download.")
    if source in ("pacer", "import", "pacer_rss"):
        return ("It has not been bought from PACER: a crawl buys documents only within "
                "the budget it is given.")
    return ("No free copy exists yet: nobody has bought it from PACER and shared it "
            "through RECAP (CourtListener's archive).")


def where_to_get(doc: dict, court_id: str, docket_source_url: Optional[str],
                 entry_description: Optional[str] = None) -> list[dict]:
    """Where a document the archive lacks can be had: ``[{"name", "url",
    "price"}]``, CourtListener first when RECAP has it (free), else PACER."""
    places = []
    if doc.get("is_available"):
        url = courtlistener_url(docket_source_url, doc.get("document_number"),
                                doc.get("attachment_number"))
        if url:
            places.append({"name": "CourtListener", "url": url, "price": "free"})
    if not places:
        transcript = is_transcript(doc.get("description"), entry_description)
        url = pacer_url(court_id, doc.get("pacer_doc_id"))
        if url or doc.get("pacer_doc_id") or doc.get("description"):
            places.append({"name": "PACER", "url": url or PACER_HOME,
                           "price": pacer_price(doc.get("page_count"), transcript)})
    return places
