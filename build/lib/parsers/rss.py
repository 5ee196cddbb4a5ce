"""PACER RSS feed (``rss_outside.pl`` on district/bankruptcy courts, the
appellate courts' feeds too).

``parse(text, court=None)`` returns ``{"dockets": [...], "court_id",
"feed_title", "feed_description", "last_build_date", "unparsed_items"}``:
one docket per feed ``<item>``, in feed order (a case with two new entries
appears twice), each ``{court_id, docket_number, case_name, pacer_case_id,
federal_dn_judge_initials_assigned, type, office, chapter, trustee_str,
docket_entries: [{document_number, date_filed, description,
short_description, pacer_doc_id, pacer_seq_no, guid_seq_no}]}``.
``date_filed`` of an entry is the item's publication time as an ISO datetime
with its offset; ``guid_seq_no`` is the entry's sequence number as the item's
``<guid>`` names it (``DktRpt.pl?CASEID&SEQ`` or ``DktRpt.pl?CASEID-SEQ``),
None when the guid is only the case's link (many feeds: shared by all the
case's items) or names something else.

One item is one docket entry, with one exception: a filing entered under
several events (e.g. "Order(Other)" and "Order", or "Order" and "~Util - Set
Deadlines") is announced once per event. The field's rule (issue 20) decides
which items are one entry: items with the same docket number, case id,
publication time and document id (``pacer_doc_id``; both empty counts as the
same) are one entry, wherever they stand in the feed. Its
``short_description`` joins the events' names, sorted, with `` AND `` (an
event announced twice is named twice, as the field's parser does); its other
fields are the first item's. Anything else is its own entry: two filings of
one case minutes or even one second apart, in another case (another docket
number or another case id), or one item with a document link and one
without. Feeds that give no document links and whose guid is only the case's
link name nothing finer, so two distinct filings of one case published in the
same second without links are taken as one entry (their events joined,
nothing dropped); a guid naming an entry's sequence number (``guid_seq_no``)
is not part of the rule, and a merged entry keeps the first item's.

Items whose title carries no recognisable docket number cannot be tied to a
case, and an item that cannot be read costs only itself: both are listed in
``unparsed_items`` (title, link, pub_date, and ``error`` saying why) rather
than among the dockets.

Raises :class:`parsers.ParseError` when the text is not an RSS feed.
"""
from __future__ import annotations

import html
import re

from . import ParseError, page_parser
from .common import (
    UNKNOWN_CASE_TITLE, child_text, clean, docket_number_key, docket_number_parts,
    harmonize_case_name, pacer_doc_id_from_url, parse_datetime, xml_page_root,
)

_TITLE_DN = re.compile(
    r"^\s*((?:\d{1,2}:)?\d{2}-[A-Za-z]{1,4}-\d{1,10}(?:-[A-Za-z0-9]{1,6})*"  # district
    r"|\d{1,2}-\d{2}-\d{3,6}(?:-[A-Za-z0-9]{1,6})*"                        # bankr. with office
    r"|\d{2}-\d{1,6}(?:-[A-Za-z0-9]{1,6})*"                                # bankr./appellate
    r")(?=\s|$)\s*(.*)$", re.S)
_BRACKET = re.compile(r"\[(.*)\]", re.S)
_ANCHOR = re.compile(r"<a\s[^>]*href\s*=\s*['\"]([^'\"]*)['\"][^>]*>\s*([^<]*?)\s*</a>", re.I | re.S)
_DOCS1 = re.compile(r"/docs1/(\d+)")
_CASEID = re.compile(r"(?:caseid=|DktRpt\.pl\?)(\d+)", re.I)
_SEQ = re.compile(r"de_seq_num=(\d+)", re.I)
# a guid naming one entry: the case's docket link plus the entry's sequence number
_GUID_SEQ = re.compile(r"DktRpt\.pl\?(\d+)(?:&|&amp;|-)(\d+)\s*$", re.I)
_BK_FIELDS = re.compile(
    r"^\s*Type:\s*(?P<type>\S*)\s+Office:\s*(?P<office>\S*)\s+Chapter:\s*(?P<chapter>\S*)"
    r"(?:\s+Trustee:\s*(?P<trustee>.*?))?\s*(?=\[|$)", re.S)


def _doc_id(url: str):
    doc_id = pacer_doc_id_from_url(url)
    if doc_id:
        return doc_id
    m = _DOCS1.search(url or "")
    return m.group(1) if m else None


def _item(item, court):
    title = clean(html.unescape(child_text(item, "title")))
    link = clean(child_text(item, "link"))
    raw_desc = child_text(item, "description")
    # the description is escaped HTML; unescape once more if it still
    # carries entities (some feeds double-escape)
    desc = raw_desc if "<a" in raw_desc.lower() else html.unescape(raw_desc)
    pub = parse_datetime(child_text(item, "pubDate"))

    m = _TITLE_DN.match(title)
    if not m:
        return None, {"title": title, "link": link, "pub_date": pub,
                      "error": "no docket number in the title"}
    raw_dn, case_name = m.group(1), m.group(2)
    parts = docket_number_parts(raw_dn)
    if parts:
        docket_number = parts["docket_number"]
        judge = parts["judges"][0] if parts["judges"] else None
    else:
        bits = raw_dn.split("-")
        # bankruptcy/appellate: NN-NNNNN[-judge]
        if len(bits) >= 3 and bits[0].isdigit() and bits[1].isdigit() and bits[2].isdigit():
            docket_number = "-".join(bits[:3])
            rest = bits[3:]
        else:
            docket_number = "-".join(bits[:2])
            rest = bits[2:]
        judge = next((b for b in rest if not b.isdigit()), None)
        docket_number = docket_number_key(docket_number)

    short = ""
    bm = _BRACKET.search(desc)
    if bm:
        short = clean(html.unescape(bm.group(1)))
    number = doc_id = seq = None
    case_id = None
    am = _ANCHOR.search(desc)
    if am:
        url = html.unescape(am.group(1))
        number = clean(am.group(2)) or None
        doc_id = _doc_id(url)
        sm = _SEQ.search(url)
        seq = sm.group(1) if sm else None
        cm = re.search(r"caseid=(\d+)", url, re.I)
        case_id = cm.group(1) if cm else None
    if case_id is None:
        cm = _CASEID.search(link)
        case_id = cm.group(1) if cm else None
    guid_seq = None
    gm = _GUID_SEQ.search(clean(html.unescape(child_text(item, "guid"))))
    if gm and (case_id is None or gm.group(1) == case_id):
        guid_seq = gm.group(2)
    if number is not None and not number.isdigit():
        nm = re.match(r"\d+", number)
        number = nm.group(0) if nm else None
        if number is None and doc_id and "/docs1/" in url:
            # courts that print no entry numbers (cadc: "Document"): the
            # document id stands in for the number, as CourtListener does
            number = doc_id

    bk = _BK_FIELDS.match(html.unescape(re.sub(r"<[^>]*>", " ", desc)))
    docket = {
        "court_id": court,
        "docket_number": docket_number,
        "case_name": harmonize_case_name(case_name) or UNKNOWN_CASE_TITLE,
        "pacer_case_id": case_id,
        "federal_dn_judge_initials_assigned": judge,
        "type": clean(bk.group("type")) if bk else "",
        "office": clean(bk.group("office")) if bk else "",
        "chapter": clean(bk.group("chapter")) if bk else "",
        "trustee_str": clean(bk.group("trustee")) if bk and bk.group("trustee") else "",
        "link": link,
        "docket_entries": [{
            "document_number": number,
            "date_filed": pub,
            "description": "",
            "short_description": short,
            "pacer_doc_id": doc_id,
            "pacer_seq_no": seq,
            "guid_seq_no": guid_seq,
        }],
    }
    return docket, None


def _same_entry(docket: dict) -> tuple:
    """The key under which items are one entry (the field's rule, see the
    module's docstring): docket number, case id, publication time and document
    id, an empty value (None or "") counting as the same as another empty one."""
    entry = docket["docket_entries"][0]
    return (docket["docket_number"] or None, docket["pacer_case_id"] or None,
            entry["date_filed"] or None, entry["pacer_doc_id"] or None)


@page_parser
def parse(text: str, court: str | None = None) -> dict:
    """Parse ``text``; ParseError when it is not this kind of page."""
    root = xml_page_root(text, "RSS feed", "rss", article="an ")
    channel = root.find("channel")
    if channel is None:
        raise ParseError("RSS feed without a <channel>")
    link = clean(child_text(channel, "link"))
    if court is None:
        cm = re.search(r"ecf\.([a-z0-9]+)\.uscourts\.gov", link)
        court = cm.group(1) if cm else None
    dockets, unparsed = [], []
    entries, kinds = {}, {}
    for item in channel.iter("item"):
        try:
            docket, bad = _item(item, court)
        except Exception as exc:  # noqa: BLE001 - one unreadable item costs that item
            docket, bad = None, {"title": clean(child_text(item, "title")),
                                 "link": clean(child_text(item, "link")), "pub_date": None,
                                 "error": f"{type(exc).__name__}: {exc}"}
        if docket is None:
            unparsed.append(bad)
            continue
        same = _same_entry(docket)
        first = entries.get(same)
        if first is not None:
            # one docket entry announced once per event type: one entry
            kinds[same].append(docket["docket_entries"][0]["short_description"])
            first["docket_entries"][0]["short_description"] = " AND ".join(
                sorted(k for k in kinds[same] if k))
            continue
        entries[same] = docket
        kinds[same] = [docket["docket_entries"][0]["short_description"]]
        dockets.append(docket)
    return {
        "court_id": court,
        "feed_title": clean(child_text(channel, "title")),
        "feed_description": clean(child_text(channel, "description")),
        "last_build_date": parse_datetime(child_text(channel, "lastBuildDate")),
        "dockets": dockets,
        "unparsed_items": unparsed,
    }
