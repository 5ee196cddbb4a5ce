"""The local Ninth Circuit decisions server (tests/servers/ca9.py), with plain urllib."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from parsers import parse
from tests.conftest import shared_or_skip
from tests.servers.cases import PdfFile
from tests.servers.ca9 import FEED_LIMIT, Ca9Server, reportlab_pdf


def fetch(url, method="GET"):
    """(status, headers, body) without raising on HTTP errors."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def ca9():
    with Ca9Server() as server:
        yield server


@pytest.fixture
def ca9_generated(tmp_path):
    """The server as it runs without ../shared."""
    with Ca9Server(shared_dir=tmp_path) as server:
        yield server


def test_settings(ca9):
    settings = ca9.settings()
    assert settings == {"CA9_OPINIONS_FEED_URL": ca9.url + "decisions/opinions/index.xml",
                        "CA9_MEMORANDA_FEED_URL": ca9.url + "decisions/memoranda/index.xml"}
    assert ca9.url.startswith("http://127.0.0.1:")
    args = ca9.scrapy_args()
    assert args[0::2] == ["-s", "-s"]
    assert "CA9_OPINIONS_FEED_URL=%s" % settings["CA9_OPINIONS_FEED_URL"] in args


def test_real_urls_in_project_settings():
    from docket_spider import settings

    assert settings.CA9_OPINIONS_FEED_URL == "https://www.ca9.uscourts.gov/decisions/opinions/index.xml"
    assert settings.CA9_MEMORANDA_FEED_URL == "https://www.ca9.uscourts.gov/decisions/memoranda/index.xml"


@pytest.mark.parametrize("kind, precedential", [("opinions", True), ("memoranda", False)])
def test_feeds_with_rewritten_links(ca9, kind, precedential):
    status, headers, body = fetch(ca9.settings()["CA9_%s_FEED_URL" % kind.upper()])
    assert status == 200
    assert headers["Content-Type"].startswith("application/rss+xml")
    text = body.decode("utf-8")
    assert "ca9.uscourts.gov" not in text
    got = parse("ca9_decisions", body)
    assert got["kind"] == kind and len(got["decisions"]) == 4
    base = ca9.url + "datastore/%s/" % kind
    assert all(d["url"].startswith(base) for d in got["decisions"])
    assert all(d["precedential"] is precedential for d in got["decisions"])
    assert ca9.log.tally(kind="feed", status=200) == 1


def test_pdfs(ca9):
    opinions = parse("ca9_decisions", fetch(ca9.settings()["CA9_OPINIONS_FEED_URL"])[2])["decisions"]
    memoranda = parse("ca9_decisions", fetch(ca9.settings()["CA9_MEMORANDA_FEED_URL"])[2])["decisions"]
    bodies = []
    for decision in opinions + memoranda:
        status, headers, body = fetch(decision["url"])
        assert status == 200, decision["url"]
        assert headers["Content-Type"] == "application/pdf"
        assert body.startswith(b"%PDF")
        assert int(headers["Content-Length"]) == len(body)
        bodies.append(body)
    assert len(set(bodies)) == len(bodies)  # every file has its own bytes
    # the same bytes on a second request
    assert fetch(opinions[0]["url"])[2] == bodies[0]
    status, headers, body = fetch(opinions[0]["url"], method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) == len(bodies[0])
    assert ca9.log.tally(kind="pdf", status=200) == len(bodies) + 2


def test_pdfs_from_shared(ca9):
    shared_or_skip("corpus", "pdfs", "vector-pdf.pdf")
    opinion = ca9.pdf("/datastore/opinions/2021/08/10/21-15999.pdf")
    memorandum = ca9.pdf("/datastore/memoranda/2026/03/13/25-2290.pdf")
    assert opinion.origin == "vector-pdf.pdf" and opinion.page_count == 30
    assert memorandum.origin.startswith("recap_documents/") and memorandum.page_count <= 3


def test_pdfs_generated_without_shared(ca9_generated):
    assert ca9_generated.shared is None
    status, headers, body = fetch(ca9_generated.url + "datastore/opinions/2021/08/10/21-15999.pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert body.startswith(b"%PDF") and body.rstrip().endswith(b"%%EOF")
    assert body == reportlab_pdf(["UNITED STATES COURT OF APPEALS FOR THE NINTH CIRCUIT",
                                  "ALVAREZ V. CITY OF FRESNO",
                                  "Ninth Circuit opinion 21-15999"])
    assert PdfFile(data=body).page_count == 1


@pytest.mark.parametrize("path", [
    "", "decisions/", "decisions/opinions/", "decisions/other/index.xml", "decisions/opinions/index.xml.bak",
    "datastore/opinions/2021/08/10/99-99999.pdf",      # not in any feed
    "datastore/memoranda/2021/08/10/21-15999.pdf",     # an opinion, asked for as a memorandum
    "datastore/opinions/2021/8/10/21-15999.pdf",       # not the real path
    "datastore/opinions/2021/08/10/21-15999.txt",
    "datastore/../decisions/opinions/index.xml",
    "favicon.ico",
])
def test_unknown_paths_404(ca9, path):
    status, headers, body = fetch(ca9.url + path)
    assert status == 404
    assert ca9.log.tally(status=404) == 1


def test_post_refused(ca9):
    request = urllib.request.Request(ca9.settings()["CA9_OPINIONS_FEED_URL"], data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 405


def test_fail_next(ca9):
    url = ca9.settings()["CA9_MEMORANDA_FEED_URL"]
    ca9.fail_next("/decisions/memoranda/", 500)
    ca9.fail_next(".pdf", 503, times=2)
    assert fetch(url)[0] == 500
    assert fetch(url)[0] == 200
    pdf = ca9.url + "datastore/opinions/2021/08/10/21-15999.pdf"
    first = fetch(pdf)
    assert first[0] == 503 and first[1]["Retry-After"] == "1"
    assert fetch(pdf)[0] == 503
    assert fetch(pdf)[0] == 200
    assert [r["status"] for r in ca9.log] == [500, 200, 503, 503, 200]
    assert [r["kind"] for r in ca9.log] == ["feed", "feed", "pdf", "pdf", "pdf"]


def test_add_decision(ca9):
    url = ca9.add_decision("memoranda", "26-1234", "ROE V. WADE & SONS", "2026-03-14")
    assert url == ca9.url + "datastore/memoranda/2026/03/14/26-1234.pdf"
    got = parse("ca9_decisions", fetch(ca9.settings()["CA9_MEMORANDA_FEED_URL"])[2])
    assert got["decisions"][0] == {"docket_number": "26-1234", "case_name": "Roe v. Wade & Sons",
                                   "date_filed": "2026-03-14", "url": url, "precedential": False}
    assert len(got["decisions"]) == 5
    status, headers, body = fetch(url)
    assert status == 200 and body.startswith(b"%PDF")
    # the opinions feed is untouched
    assert len(parse("ca9_decisions", fetch(ca9.settings()["CA9_OPINIONS_FEED_URL"])[2])["decisions"]) == 4
    with pytest.raises(ValueError):
        ca9.add_decision("orders", "26-1", "A V. B", "2026-03-14")


def test_feed_lists_latest_25(ca9):
    import datetime

    urls = [ca9.add_decision("opinion", "26-%d" % (100 + n), "A%d V. B" % n, datetime.date(2026, 4, 1 + n % 28))
            for n in range(30)]
    decisions = parse("ca9_decisions", fetch(ca9.settings()["CA9_OPINIONS_FEED_URL"])[2])["decisions"]
    assert len(decisions) == FEED_LIMIT
    assert [d["url"] for d in decisions] == urls[::-1][:FEED_LIMIT]
    # a decision that fell off the feed keeps its PDF
    assert fetch(urls[0])[0] == 200
