"""The archive served by Datasette, checked in headless Chromium."""
from __future__ import annotations

import subprocess
import time
import urllib.request

import pytest

from archive import db as adb
from archive.cli import datasette_command
from tests.conftest import PROJECT, chromium, free_port



@pytest.fixture(scope="module")
def archive_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("ds") / "dockets.db"
    db = adb.open_db(str(path))
    crawl = adb.start_crawl(db, "test", "cand", "3:20-cv-05910", {})
    adb.save_docket(db, {"court_id": "cand", "docket_number": "3:20-cv-05910",
                         "case_name": "U.S. WeChat Users Alliance v. Trump"}, crawl)
    adb.save_entry(db, {"court_id": "cand", "docket_number": "3:20-cv-05910", "entry_number": 59,
                        "date_filed": "2020-09-19",
                        "description": "ORDER granting motion for preliminary injunction"}, crawl)
    adb.save_document(db, {"court_id": "cand", "docket_number": "3:20-cv-05910",
                           "entry_number": 59, "document_number": "59",
                           "description": "Order", "status": "ok", "page_count": 22,
                           "text": "The plaintiffs use WeChat to communicate with family.",
                           "clean_text": "The plaintiffs use WeChat to communicate with family."},
                      crawl)
    adb.finish_crawl(db, crawl, "finished", {})
    db.conn.close()
    return path


@pytest.fixture(scope="module")
def datasette(archive_db):
    port = free_port()
    proc = subprocess.Popen(datasette_command(str(archive_db), port), cwd=PROJECT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/-/versions.json", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("datasette did not start: " + proc.stdout.read().decode()[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def page():
    with chromium() as browser:
        yield browser.new_page()


def test_full_text_search_in_the_browser(datasette, page):
    page.goto(f"{datasette}/dockets/documents")
    page.fill("input[name=_search]", "wechat")
    page.press("input[name=_search]", "Enter")
    page.wait_for_load_state()
    assert "_search=wechat" in page.url
    assert "1 row" in page.inner_text("body")
    assert "cand/3:20-cv-05910#59/0" in page.inner_text("table.rows-and-columns")


def test_canned_search_covers_entries_too(datasette, page):
    page.goto(f"{datasette}/dockets/search?q=injunction")
    body = page.inner_text("body")
    assert "ORDER granting motion for preliminary injunction" in body


def test_database_download_link(datasette, page):
    page.goto(f"{datasette}/dockets")
    link = page.locator("a[href$='/dockets.db']").first
    assert link.count() == 1
    href = link.get_attribute("href")
    data = urllib.request.urlopen(datasette + href if href.startswith("/") else href).read()
    assert data.startswith(b"SQLite format 3\x00")
    assert "CC0" in page.inner_text("body")  # licence and source from metadata.yml
    page.goto(datasette)
    assert "Docket Archive" in page.inner_text("h1")


def test_pages_without_a_browser(datasette):
    """What the browser tests check, by HTTP (they skip where Chromium is missing)."""
    def get(path):
        return urllib.request.urlopen(datasette + path).read().decode()

    assert "1 row" in get("/dockets/documents?_search=wechat")
    found = get("/dockets/search?q=injunction")  # redirected to /search, matches in <mark>
    assert "ORDER granting motion for preliminary injunction" in found.replace(
        "<mark>", "").replace("</mark>", "")
    database = get("/dockets")
    assert 'href="/dockets.db"' in database and "CC0" in database
    assert urllib.request.urlopen(datasette + "/dockets.db").read().startswith(b"SQLite format 3\x00")
    assert "Docket Archive" in get("/")


def test_atom_feed_of_new_entries(datasette):
    feed = urllib.request.urlopen(f"{datasette}/dockets/feed.atom").read().decode()
    assert feed.startswith("<?xml") and "<feed" in feed
    # titled with what was filed, then the case
    assert ("<title>Order granting motion for preliminary injunction — "
            "U.S. WeChat Users Alliance v. Trump, entry 59</title>") in feed
    assert "ORDER granting motion for preliminary injunction" in feed
