"""PACER RSS feeds (parsers.rss): golden files compared item by item (feed
order) with the reference JSON, plus edge cases."""
from __future__ import annotations

import pytest

from parsers import ParseError, parse

from .conftest import corpus_params, court_of, docket_mismatches, norm, reference


@pytest.mark.parametrize("path", corpus_params("rss", "*.xml"))
def test_rss_golden(path):
    want = reference(path)
    got = parse("rss", path.read_bytes(), court_of(path))["dockets"]
    assert len(got) == len(want)
    for i, (w, g) in enumerate(zip(want, got)):
        assert docket_mismatches(w, g, ["docket_number", "case_name", "pacer_case_id"]) == [], i
        for we, ge in zip(w["docket_entries"], g["docket_entries"]):
            assert norm(we["date_filed"]) == norm(ge["date_filed"])
            assert norm(we["pacer_seq_no"]) == norm(ge["pacer_seq_no"])
            assert norm(we["short_description"]) == norm(ge["short_description"])


FEED = """<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0"><channel>
<title>Test District - Recent Entries</title><link>https://ecf.cand.uscourts.gov</link>
<description>Docket entries of type: all</description>
<lastBuildDate>Thu, 19 Apr 2018 18:22:08 GMT</lastBuildDate>
<item><title>3:20-cv-05910-LB U.S. WeChat Users Alliance et al v. Trump et al</title>
<link>https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733</link>
<description>[Motion for Preliminary Injunction] (&lt;a href="https://ecf.cand.uscourts.gov/doc1/035119000001?caseid=364733&amp;de_seq_num=40" &gt;17&lt;/a&gt;)</description>
<guid isPermaLink="true">https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733&amp;40</guid>
<pubDate>Fri, 28 Aug 2020 10:00:00 GMT</pubDate></item>
<item><title>3:20-cv-05910-LB U.S. WeChat Users Alliance et al v. Trump et al</title>
<link>https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733</link>
<description>[~Util - Set Deadlines] (&lt;a href="https://ecf.cand.uscourts.gov/doc1/035119000001?caseid=364733&amp;de_seq_num=40" &gt;17&lt;/a&gt;)</description>
<guid isPermaLink="true">https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?364733&amp;40</guid>
<pubDate>Fri, 28 Aug 2020 10:00:00 GMT</pubDate></item>
<item><title>3:20-~gr-00001 </title><link>https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?1</link>
<description>[Order]</description><pubDate>Fri, 28 Aug 2020 09:00:00 GMT</pubDate></item>
<item><title>20-30123-abc Jane Debtor</title><link>https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?555</link>
<description>Type: bk Office: 3 Chapter: 7 Trustee: Doe, John [Meeting of Creditors] (&lt;a href='https://ecf.cand.uscourts.gov/doc1/035119000009?de_seq_num=3&amp;caseid=555'&gt;doc&lt;/a&gt;)</description>
<guid>https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?555-3</guid>
<pubDate>Fri, 28 Aug 2020 08:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_small_feed():
    got = parse("rss", FEED, None)
    assert got["court_id"] == "cand"
    dockets = got["dockets"]
    assert len(dockets) == 2
    first = dockets[0]
    assert first["docket_number"] == "3:20-cv-05910"
    assert first["case_name"] == "U.S. WeChat Users Alliance v. Trump"
    assert first["pacer_case_id"] == "364733"
    entry = first["docket_entries"][0]
    assert entry["document_number"] == "17"
    assert entry["pacer_doc_id"] == "035019000001"
    assert entry["pacer_seq_no"] == "40"
    assert entry["date_filed"] == "2020-08-28T10:00:00+00:00"
    # two items for one entry (same guid) are one entry with both event types
    assert entry["short_description"] == "Motion for Preliminary Injunction AND ~Util - Set Deadlines"
    bk = dockets[1]
    assert bk["docket_number"] == "20-30123"
    assert (bk["chapter"], bk["office"], bk["trustee_str"]) == ("7", "3", "Doe, John")
    assert bk["docket_entries"][0]["document_number"] is None  # "doc": unnumbered
    assert got["unparsed_items"][0]["title"] == "3:20-~gr-00001"


@pytest.mark.parametrize("text", [
    "", "<html><body>Not found</body></html>", "<?xml version='1.0'?><feed/>",
    FEED[: len(FEED) // 2], "<rss version='2.0'></rss>",
])
def test_not_rss(text):
    with pytest.raises(ParseError):
        parse("rss", text, "cand")


def test_empty_feed_is_not_an_error():
    got = parse("rss", "<rss version='2.0'><channel><title>x</title></channel></rss>", "cand")
    assert got["dockets"] == []


# ---------------------------------------------------------------- one entry, or two?
# Self-made feeds (tests/parsers/pages/rss_*.xml) built from PACER's feed
# format: which items are one docket entry.

from .conftest import PAGES  # noqa: E402


def _entries(name):
    got = parse("rss", (PAGES / name).read_bytes(), None)
    return [(d["docket_number"], e["date_filed"], e["document_number"], e["short_description"])
            for d in got["dockets"] for e in d["docket_entries"]]


def test_entries_of_one_case_minutes_apart_without_links_are_each_kept():
    """The guid is the case's link (every item of the case has it) and no item
    names a document: items at different times are each their own entry, none
    is lost; items at the same time are one (the field's rule)."""
    got = _entries("rss_same_case_no_links.xml")
    assert [(when[11:19], what) for _, when, _, what in got] == [
        ("19:55:04", "Scheduling Order"),
        ("19:52:41", "Order on Motion for Extension of Time"),
        ("18:30:00", "Order"),
        ("17:05:12", "Order"),
        # alike in every respect: one entry, both items' events joined
        ("16:00:00", "Clerk's Notice AND Clerk's Notice"),
    ]
    assert all(number is None for _, _, number, _ in got)


def test_a_multi_event_entry_is_one_entry():
    """Same case, same time, same document: one filing entered under two events."""
    got = _entries("rss_multi_event.xml")
    assert got == [
        ("3:20-cv-05910", "2020-11-03T22:33:59+00:00", "101", "Order AND ~Util - Set Deadlines"),
        # the same case and time, another document: another entry
        ("3:20-cv-05910", "2020-11-03T22:33:59+00:00", "102", "Certificate of Service"),
        # the same document in another case: that case's entry
        ("3:20-cv-05911", "2020-11-03T22:33:59+00:00", "30", "Order"),
        # no document link, the same case and time: one entry
        ("20-30123", "2020-11-03T21:17:25+00:00", None, "Add Judge AND Add Trustee"),
    ]
    feed = parse("rss", (PAGES / "rss_multi_event.xml").read_bytes(), None)
    entry = feed["dockets"][0]["docket_entries"][0]
    assert (entry["pacer_doc_id"], entry["pacer_seq_no"], entry["guid_seq_no"]) == \
        ("035019400010", "420", None)  # the guid is the case link: it names no entry
    assert feed["dockets"][-1]["docket_entries"][0]["guid_seq_no"] == "25"


def test_same_document_at_another_time_is_another_item():
    """Only the same time merges: an entry announced again later is its own item
    (the archive keys both by their number: one row)."""
    second = "<pubDate>Fri, 28 Aug 2020 10:00:00 GMT</pubDate></item>\n<item><title>3:20-~gr"
    assert FEED.count(second) == 1
    later = FEED.replace(second, second.replace("10:00:00", "10:07:00"))
    dockets = parse("rss", later, None)["dockets"]
    assert [d["docket_entries"][0]["short_description"] for d in dockets[:2]] == \
        ["Motion for Preliminary Injunction", "~Util - Set Deadlines"]
    assert [d["docket_entries"][0]["document_number"] for d in dockets[:2]] == ["17", "17"]


def test_an_unreadable_item_costs_only_itself():
    got = parse("rss", FEED, None)
    bad = got["unparsed_items"][0]
    assert bad["title"] == "3:20-~gr-00001" and bad["error"] == "no docket number in the title"


# ------------------------------------------------- issue 20: the field's rule
# "Items with the same docket number, case id, publication time and document
# id (both empty counts as the same) are one entry whose events are joined."

_PAIRS = [("Order(Other)", "Order"), ("Motion Hearing", "Set/Reset Hearings"),
          ("Order on Motion to Dismiss", "Terminate Motions"),
          ("Scheduling Order", "~Util - Set Deadlines")]
_SINGLES = ["Notice of Appearance", "Clerk's Notice", "Motion to Dismiss", "Order",
            "Certificate of Service", "Status Report", "Stipulation"]


def held_out_style_feed(filings=357, cases=60, per_second=3):
    """A district feed in the style of the issue's real 432-item feed:
    ``filings`` filings of ``cases`` cases, three filings (of three cases) per
    publication second, each case's filings 20 minutes apart. Every fourth of
    the first 300 filings is entered under two events (75 filings): 24 of them
    with a document link on both items, 51 without any (the guid is the case's
    link). The second event's item comes after the other filings of its
    second, as real feeds interleave cases. Returns (xml, items, filings)."""
    import datetime as dt
    base = dt.datetime(2020, 9, 18, 23, 59, 59, tzinfo=dt.timezone.utc)
    out, doc = [], 35119500000
    for group in range(0, filings, per_second):
        # 20 s per second-group: a case's next filing is 60 filings (20 min) later
        when = (base - dt.timedelta(seconds=group // per_second * 20)).strftime(
            "%a, %d %b %Y %H:%M:%S GMT")
        later = []
        for k in range(group, min(group + per_second, filings)):
            case = k % cases
            two = k % 4 == 0 and k < 300
            linked = (k // 4) % 25 < 8 if two else k % 3 == 0
            doc += 1
            if two:
                first, second = _PAIRS[(k // 4) % len(_PAIRS)]
            else:
                first, second = _SINGLES[k % len(_SINGLES)], None
            link = (f' (&lt;a href="https://ecf.cand.uscourts.gov/doc1/0{doc}?caseid={400000 + case}'
                    f'&amp;de_seq_num={k}" &gt;{k + 1}&lt;/a&gt;)') if linked else ""

            def item(event, case=case, link=link):
                return (f"<item><title>3:20-cv-{6000 + case:05d}-LB Case {case} v. Defendant</title>"
                        f"<link>https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?{400000 + case}</link>"
                        f"<description>[{event}]{link}</description>"
                        f'<guid isPermaLink="true">https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?'
                        f"{400000 + case}</guid><pubDate>{when}</pubDate></item>")
            out.append(item(first))
            if second:
                later.append(item(second))
        out.extend(later)
    xml = ('<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel>'
           "<title>Northern District of California - Recent Entries</title>"
           "<link>https://ecf.cand.uscourts.gov</link><description>Docket entries of type: all"
           "</description>" + "".join(out) + "</channel></rss>")
    return xml, len(out), filings


def test_held_out_style_feed_gives_one_entry_per_filing():
    """The issue's measure, rebuilt: 432 items for 357 filings, 75 filings
    entered under two events (51 of them without document links, the guid only
    the case's link). The rule before issue 20 merged only the 24 with links
    (408 entries); the field's rule gives one entry per filing."""
    xml, items, filings = held_out_style_feed()
    assert (items, filings) == (432, 357)
    dockets = parse("rss", xml, None)["dockets"]
    assert len(dockets) == 357
    joined = [d["docket_entries"][0]["short_description"] for d in dockets
              if " AND " in d["docket_entries"][0]["short_description"]]
    assert len(joined) == 75
    assert "Order AND Order(Other)" in joined
    # each case's filings, 20 minutes apart, all kept
    per_case = {}
    for d in dockets:
        per_case.setdefault(d["pacer_case_id"], set()).add(d["docket_entries"][0]["date_filed"])
    assert sum(len(v) for v in per_case.values()) == 357


def test_no_links_same_second():
    """tests/parsers/pages/rss_no_links_same_second.xml: 16 items, 11 entries
    (the page's comment says which and why)."""
    got = _entries("rss_no_links_same_second.xml")
    assert [(dn, when[11:19], number, what) for dn, when, number, what in got] == [
        ("3:20-cv-05910", "23:14:52", None, "Order"),                       # C: minutes later
        ("3:20-cv-05910", "23:10:07", None, "Order AND Order(Other)"),      # A+B, not adjacent
        ("4:20-cv-06000", "23:10:07", None, "Order"),                       # D: another case
        ("5:20-cv-07000", "22:01:31", None, "Clerk's Notice"),              # F: a second later
        ("5:20-cv-07000", "22:01:30", None,
         "Motion Hearing AND Set/Reset Hearings AND Terminate Motions"),   # E
        ("1:20-cr-00321", "21:45:00", None, "Initial Appearance AND Initial Appearance"),  # G
        ("3:20-cv-05910", "21:30:00", "40", "Notice of Appearance"),        # H: a document id
        ("3:20-cv-05910", "21:30:00", None, "Order"),                       # H: none
        ("3:20-cv-05912", "21:00:00", None, "Order"),                       # I: case id 364800
        ("3:20-cv-05912", "21:00:00", None, "Order"),                       # I: case id 364801
        ("3:20-cv-05910", "20:15:00", None, "Clerk's Notice AND Clerk's Notice"),  # J
    ]


def test_guid_sequence_numbers_do_not_split_an_entry():
    """The rule names docket number, case id, time and document id only: two
    link-less items whose guids name different entry sequence numbers, at the
    same time, are one entry (it keeps the first item's guid_seq_no)."""
    item = ("<item><title>20-30123-abc Jane Debtor</title>"
            "<link>https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?555</link>"
            "<description>[{}] </description>"
            "<guid>https://ecf.cand.uscourts.gov/cgi-bin/DktRpt.pl?555-{}</guid>"
            "<pubDate>Tue, 03 Nov 2020 21:17:25 GMT</pubDate></item>")
    feed = ("<rss version='2.0'><channel><title>t</title><link>https://ecf.canb.uscourts.gov</link>"
            + item.format("Add Judge", 25) + item.format("Add Trustee", 26) + "</channel></rss>")
    dockets = parse("rss", feed, None)["dockets"]
    assert len(dockets) == 1
    entry = dockets[0]["docket_entries"][0]
    assert (entry["short_description"], entry["guid_seq_no"]) == ("Add Judge AND Add Trustee", "25")


def test_same_second_other_document_stays_two():
    """Both items link a document, different ones: two entries (the rule's
    document id), even with the same event in the same second."""
    one = FEED.split("<item>")[1].split("</item>")[0]
    other = one.replace("035119000001", "035119000002").replace("de_seq_num=40", "de_seq_num=41")
    feed = FEED.replace("<item>" + one + "</item>",
                        "<item>" + one + "</item><item>" + other + "</item>", 1)
    dockets = parse("rss", feed, None)["dockets"]
    ids = [d["docket_entries"][0]["pacer_doc_id"] for d in dockets if d["pacer_case_id"] == "364733"]
    assert ids == ["035019000001", "035019000002"]
