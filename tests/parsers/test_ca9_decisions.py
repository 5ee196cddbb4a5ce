"""The Ninth Circuit's free decisions feeds (parsers.ca9_decisions): the
self-made fixture feeds, odd items, pages of other kinds, and a property test
that nothing but a dict or ParseError ever comes out."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from parsers import KINDS, ParseError, parse

from .conftest import CORPUS, PROJECT, corpus_params, shared_path

FIXTURES = PROJECT / "tests" / "fixtures" / "ca9"
CDN = "https://cdn.ca9.uscourts.gov/datastore/"

OPINIONS = {
    "court_id": "ca9",
    "kind": "opinions",
    "decisions": [
        {"docket_number": "25-5185", "case_name": "United States v. John Doe", "date_filed": "2026-03-13",
         "url": CDN + "opinions/2026/03/13/25-5185.pdf", "precedential": True},
        {"docket_number": "24-3071", "case_name": "Sierra River Alliance v. U.S. Forest Service",
         "date_filed": "2026-03-12", "url": CDN + "opinions/2026/03/12/24-3071.pdf", "precedential": True},
        {"docket_number": "23-4410", "case_name": "Maria Lopez-Garcia v. Pamela Bondi",
         "date_filed": "2026-03-11", "url": CDN + "opinions/2026/03/11/23-4410a.pdf", "precedential": True},
        {"docket_number": "21-15999", "case_name": "Alvarez v. City of Fresno",
         "date_filed": "2021-08-10", "url": CDN + "opinions/2021/08/10/21-15999.pdf", "precedential": True},
    ],
}

MEMORANDA = {
    "court_id": "ca9",
    "kind": "memoranda",
    "decisions": [
        {"docket_number": "25-2290", "case_name": "Nguyen v. Bondi", "date_filed": "2026-03-13",
         "url": CDN + "memoranda/2026/03/13/25-2290.pdf", "precedential": False},
        {"docket_number": "24-1187", "case_name": "James R. Holloway v. County of San Diego",
         "date_filed": "2026-03-13", "url": CDN + "memoranda/2026/03/13/24-1187.pdf", "precedential": False},
        {"docket_number": "25-1932",
         "case_name": "Pacific Coast Fisheries, LLC v. National Marine Fisheries Service",
         "date_filed": "2026-03-12", "url": CDN + "memoranda/2026/03/12/25-1932.pdf", "precedential": False},
        {"docket_number": "24-5530", "case_name": "United States v. Anthony Ray Martinez",
         "date_filed": "2026-03-11", "url": CDN + "memoranda/2026/03/11/24-5530-2.pdf", "precedential": False},
    ],
}


def feed(items: str, title="Ninth Circuit Opinions", link="https://www.ca9.uscourts.gov/decisions/opinions/"):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{title}</title><link>{link}</link><description>d</description>{items}</channel></rss>")


def item(title="DOE V. ROE", link=CDN + "opinions/2026/03/13/25-1111.pdf",
         description="Date Filed 03/13/2026", pub="Fri, 13 Mar 2026 10:00:00 -0700"):
    parts = ["<item>"]
    if title is not None:
        parts.append(f"<title>{title}</title>")
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if description is not None:
        parts.append(f"<description>{description}</description>")
    if pub is not None:
        parts.append(f"<pubDate>{pub}</pubDate>")
    return "".join(parts) + "</item>"


def test_registered():
    assert KINDS["ca9_decisions"] == "parsers.ca9_decisions"


@pytest.mark.parametrize("name, want", [("opinions.xml", OPINIONS), ("memoranda.xml", MEMORANDA)])
def test_fixture_feeds(name, want):
    data = (FIXTURES / name).read_bytes()
    assert parse("ca9_decisions", data) == want
    assert parse("ca9_decisions", data, "ca9") == want


def test_command_line():
    proc = subprocess.run([sys.executable, "-m", "parsers", "ca9_decisions", str(FIXTURES / "opinions.xml"),
                           str(FIXTURES / "memoranda.xml"), str(FIXTURES / "missing.xml")],
                          cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[0] == OPINIONS and lines[1] == MEMORANDA
    assert "cannot read" in lines[2]["error"]


def test_dates_from_description_or_pubdate():
    got = parse("ca9_decisions", feed(
        item(link=CDN + "opinions/2026/03/13/25-0001.pdf", description="Date Filed 03/13/2026 Amended", pub="junk")
        + item(link=CDN + "opinions/2026/03/12/25-0002.pdf", description="A summary", pub="03/12/2026")
        + item(link=CDN + "opinions/2026/03/11/25-0003.pdf", description=None,
               pub="Wed, 11 Mar 2026 09:30:00 -0700")
        + item(link=CDN + "opinions/2026/03/10/25-0004.pdf", description="&lt;p&gt;Date Filed: 3/10/2026&lt;/p&gt;",
               pub=None)
        + item(link=CDN + "opinions/2026/03/09/25-0005.pdf", description="", pub="")))
    assert [d["date_filed"] for d in got["decisions"]] == [
        "2026-03-13", "2026-03-12", "2026-03-11", "2026-03-10", None]


def test_odd_items_skipped():
    items = "".join([
        item(link=None),                                           # no link
        item(link=""),                                             # empty link
        item(link="not a url"),                                    # not a URL
        item(link="javascript:alert(1)"),                          # not http(s)
        item(link=CDN + "opinions/2026/03/13/summary.pdf"),        # no case number in the name
        item(link="https://www.ca9.uscourts.gov/decisions/opinions/"),  # a folder
        "<item/>",                                                 # nothing at all
        "<item><link><b>x</b></link></item>",                      # markup in the link
        item(title=None, link=CDN + "opinions/2026/03/13/25-2222.pdf"),  # kept: no title
        item(link=CDN + "opinions/2026/03/13/25-2222.pdf"),        # the same PDF again: once
        item(link=CDN + "memoranda/2026/03/13/25-3333.pdf"),       # a memorandum in the opinions feed
        item(link="https://example.org/files/25-4444.pdf"),        # kept: feed's kind
    ])
    got = parse("ca9_decisions", feed(items))
    assert [(d["docket_number"], d["case_name"], d["precedential"]) for d in got["decisions"]] == [
        ("25-2222", "", True), ("25-3333", "Doe v. Roe", False), ("25-4444", "Doe v. Roe", True)]


def test_kind_from_channel():
    memo = feed(item(link="https://example.org/25-1.pdf"), title="Ninth Circuit Memoranda",
                link="https://www.ca9.uscourts.gov/decisions/memoranda/")
    got = parse("ca9_decisions", memo)
    assert got["kind"] == "memoranda" and got["decisions"][0]["precedential"] is False
    unknown = feed(item(link="https://example.org/25-100.pdf"), title="Ninth Circuit decisions",
                   link="https://www.ca9.uscourts.gov/")
    got = parse("ca9_decisions", unknown)
    assert got["kind"] is None and got["decisions"][0]["precedential"] is None
    # the PDF's folder still tells
    got = parse("ca9_decisions", feed(item(), title="Ninth Circuit decisions", link="https://www.ca9.uscourts.gov/"))
    assert got["kind"] is None and got["decisions"][0]["precedential"] is True
    # an empty feed of the court is still a feed
    assert parse("ca9_decisions", feed(""))["decisions"] == []


def test_served_links_accepted():
    """A copy on another host (the local test server) is recognised by its
    /datastore/ links and its title."""
    text = (FIXTURES / "opinions.xml").read_text().replace("https://cdn.ca9.uscourts.gov", "http://127.0.0.1:9")
    text = text.replace("https://www.ca9.uscourts.gov", "http://127.0.0.1:9")
    got = parse("ca9_decisions", text)
    assert got["kind"] == "opinions"
    assert got["decisions"][3]["url"] == "http://127.0.0.1:9/datastore/opinions/2021/08/10/21-15999.pdf"


def test_escaped_title_and_entities():
    got = parse("ca9_decisions", feed(item(title="SMITH &amp;amp; SONS, INC. V. USA")))
    assert got["decisions"][0]["case_name"] == "Smith & Sons, Inc. v. United States"
    # an internal DTD's entities are never expanded
    bomb = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "AAAAAAAAAA"><!ENTITY b "&a;&a;&a;&a;">]>'
            + feed(item(title="&b; V. ROE")).split("\n", 1)[1])
    external = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
                + feed(item(title="&x; V. ROE")).split("\n", 1)[1])
    for text in (bomb, external):
        try:
            out = parse("ca9_decisions", text)
        except ParseError:
            continue
        assert "AAAA" not in json.dumps(out)
        assert out["decisions"][0]["case_name"].startswith("&")  # left as the reference it is


@pytest.mark.parametrize("text", [
    "", "   ", "<html><body>Not found</body></html>", "<!DOCTYPE html><html><head></head></html>",
    "<?xml version='1.0'?><feed/>", "<rss version='2.0'></rss>", "<rss version='2.0'><item/></rss>",
    (FIXTURES / "opinions.xml").read_text()[:700], "{}", "%PDF-1.4",
    feed(item(link="https://example.org/25-1.pdf"), title="Other Court Opinions", link="https://example.org/"),
])
def test_not_a_decisions_feed(text):
    with pytest.raises(ParseError):
        parse("ca9_decisions", text)


def test_other_court():
    with pytest.raises(ParseError):
        parse("ca9_decisions", (FIXTURES / "opinions.xml").read_bytes(), "cand")


@pytest.mark.parametrize("path", corpus_params("rss", "*.xml"))
def test_pacer_rss_feeds_refused(path):
    with pytest.raises(ParseError):
        parse("ca9_decisions", path.read_bytes())


@pytest.mark.parametrize("name", ["cacd_628915.html", "flsd_516827.html", "dcd_191424.html", "readme.md"])
def test_not_dockets_refused(name):
    path = shared_path("not_dockets", name)
    with pytest.raises(ParseError):
        parse("ca9_decisions", path.read_bytes())


# --- properties ------------------------------------------------------------------

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

XML_BITS = [
    "<?xml version='1.0'?>", "<rss version='2.0'>", "</rss>", "<channel>", "</channel>", "<item>",
    "</item>", "<item/>", "<title>Ninth Circuit Opinions</title>", "<title>USA V. DOE</title>", "<title>",
    "</title>", "<link>https://www.ca9.uscourts.gov/decisions/memoranda/</link>",
    f"<link>{CDN}opinions/2026/03/13/25-5185.pdf</link>", f"<link>{CDN}memoranda/2026/3/1/x.pdf</link>",
    "<link>https://ecf.cand.uscourts.gov</link>", "<link>", "</link>", "<link>http://[::1</link>",
    "<description>Date Filed 03/13/2026</description>", "<description>Date Filed 13/45/2026</description>",
    "<description>", "</description>", "<pubDate>Fri, 13 Mar 2026 10:00:00 -0700</pubDate>",
    "<pubDate>99/99/9999</pubDate>", "<pubDate>junk</pubDate>", "<![CDATA[x]]>", "<!-- c -->",
    "<!DOCTYPE rss [<!ENTITY e 'x'>]>", "&e;", "&amp;", "&amp;amp;", "&", "<", ">", "]]>", "\x00",
    "é", " ", "\n", "25-", "ninth circuit", "/datastore/opinions/",
]
soup = st.lists(st.sampled_from(XML_BITS), max_size=60).map("".join)


def sample_texts():
    texts = [p.read_text() for p in sorted(FIXTURES.glob("*.xml"))]
    for path in sorted((CORPUS / "rss").glob("*.xml"))[:3] if (CORPUS / "rss").is_dir() else []:
        texts.append(path.read_text(errors="replace"))
    return texts


TEXTS = sample_texts()


def check(text, court=None):
    try:
        out = parse("ca9_decisions", text, court)
    except ParseError as exc:
        assert str(exc)
        return None
    assert isinstance(out, dict)
    assert out["court_id"] == "ca9" and out["kind"] in ("opinions", "memoranda", None)
    for decision in out["decisions"]:
        assert set(decision) == {"docket_number", "case_name", "date_filed", "url", "precedential"}
        assert decision["url"].startswith(("http://", "https://"))
        assert decision["precedential"] in (True, False, None)
    return out


@SETTINGS
@given(text=st.text(max_size=400))
def test_random_text(text):
    check(text)


@SETTINGS
@given(text=soup)
def test_xml_soup(text):
    check(text)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes(data):
    check(data)


@SETTINGS
@given(data=st.data())
def test_truncated_feeds(data):
    text = data.draw(st.sampled_from(TEXTS))
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    check(text[:cut], data.draw(st.sampled_from([None, "ca9"])))


@SETTINGS
@given(data=st.data())
def test_mangled_feeds(data):
    text = data.draw(st.sampled_from(TEXTS))
    edits = data.draw(st.lists(st.tuples(st.integers(0, max(0, len(text) - 1)),
                                         st.integers(0, 40), st.text(max_size=8)), max_size=6))
    for pos, length, insert in edits:
        text = text[:pos] + insert + text[pos + length:]
    check(text)
