"""The home page, /search and the Atom feeds, on a real `python -m archive serve`.

The archive is built here with archive.db: two courts, three cases (one with
no entries), a `<script>` in an entry description, words to find in document
text and descriptions, and a release folder the home page offers.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import feedparser
import pytest

from archive import db as adb
from archive.site import urls
from archive.cli import datasette_command
from tests.conftest import PROJECT, InProcessSite, chromium, free_port

SCRIPT = "<script>window.pwned = 1</script>"
WECHAT = ("cand", "3:20-cv-05910")
APPEAL = ("ca9", "20-16908")
EMPTY = ("nysd", "1:21-cv-01234")


def build_archive(path):
    db = adb.open_db(str(path))
    crawl = adb.start_crawl(db, "test", "cand", WECHAT[1], {})
    adb.save_docket(db, {"court_id": "cand", "docket_number": WECHAT[1],
                         "case_name": "U.S. WeChat Users Alliance v. Trump",
                         "assigned_to_str": "Laurel Beeler"}, crawl)
    adb.save_docket(db, {"court_id": "ca9", "docket_number": APPEAL[1],
                         "case_name": "U.S. WeChat Users Alliance v. Trump (appeal)"}, crawl)
    adb.save_docket(db, {"court_id": "nysd", "docket_number": EMPTY[1],
                         "case_name": "Nobody v. Nothing"}, crawl)
    entries = [
        ("cand", WECHAT[1], 1, "2020-08-21", "COMPLAINT against Donald J. Trump. "
         "Filed by U.S. WeChat Users Alliance."),
        ("cand", WECHAT[1], 48, "2020-09-18", "MOTION for Preliminary Injunction " + SCRIPT
         + " filed by plaintiffs\x0c(form feed)"),
        ("cand", WECHAT[1], 59, "2020-09-19",
         "ORDER granting motion for preliminary injunction. Signed by Judge Laurel Beeler."),
        ("ca9", APPEAL[1], 1, "2020-10-02", "Docketed cause and entered appearances of counsel."),
        ("ca9", APPEAL[1], 25, "2020-10-20", "Filed order (motions panel): the stay is denied."),
    ]
    for court, number, n, date, text in entries:
        adb.save_entry(db, {"court_id": court, "docket_number": number, "entry_number": n,
                            "date_filed": date, "description": text}, crawl)
    adb.save_entry(db, {"court_id": "cand", "docket_number": WECHAT[1], "entry_number": None,
                        "pacer_sequence_number": "130", "date_filed": "2020-11-02",
                        "description": "Clerk's notice: hearing reset (unnumbered)"}, crawl)
    docs = [
        ("cand", WECHAT[1], 59, 0, "Order", "wechat/59.pdf",
         "The plaintiffs use WeChat to communicate with family in China. The court grants "
         "the motion: the plaintiffs have shown serious questions going to the merits of "
         "their First Amendment claim. " + SCRIPT + " Section 1:2 (a) NEAR(x) a OR b"),
        ("cand", WECHAT[1], 48, 0, "Motion for Preliminary Injunction", "wechat/48.pdf",
         "Plaintiffs move for a preliminary injunction against the WeChat ban."),
        ("cand", WECHAT[1], 48, 1, "Declaration of a WeChat user <b>bold</b>", None,
         "I use WeChat every day to talk to my grandmother."),
        ("ca9", APPEAL[1], 25, 0, "Order denying stay", "ca9/25.pdf",
         "The motion for a stay pending appeal is denied. WeChat remains available."),
    ]
    for court, number, n, att, desc, path_, text in docs:
        adb.save_document(db, {"court_id": court, "docket_number": number, "entry_number": n,
                               "document_number": str(n), "attachment_number": att,
                               "description": desc, "status": "ok", "page_count": 3,
                               "file_path": path_, "text": text, "clean_text": text}, crawl)
    # enough hits for two pages of results
    for i in range(30):
        adb.save_entry(db, {"court_id": "ca9", "docket_number": APPEAL[1], "entry_number": 100 + i,
                            "date_filed": "2021-01-%02d" % (i % 28 + 1),
                            "description": f"Filed letter number {i} about zebrafinch"}, crawl)
    adb.finish_crawl(db, crawl, "finished", {})
    db.conn.close()


def make_release(folder, db_path):
    folder.mkdir()
    data = db_path.read_bytes()
    name = "dockets-2026-11-30.db"
    (folder / name).write_bytes(data)
    # the shape archive/release.py writes
    manifest = {"release": "dockets-2026-11-30", "db": name, "date": "2026-11-30",
                "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                "tables": {"dockets": 3, "docket_entries": 36, "documents": 4, "crawls": 1},
                "cases": [{"id": "cand/3:20-cv-05910", "court_id": "cand",
                           "docket_number": "3:20-cv-05910", "case_name": "WeChat <i>x</i>"},
                          {"id": "ca9/20-16908", "court_id": "ca9", "docket_number": "20-16908"},
                          {"id": "nysd/1:21-cv-01234", "court_id": "nysd",
                           "docket_number": "1:21-cv-01234"}],
                "courts": ["ca9", "cand", "nysd"],
                "date_range": {"first": "2020-08-21", "last": "2021-01-28"},
                "withheld": {"count": 2, "documents": []}}
    (folder / "dockets-2026-11-30.manifest.json").write_text(json.dumps(manifest))
    (folder / "latest.json").write_text(json.dumps({
        "db": name, "manifest": "dockets-2026-11-30.manifest.json", "sha256": manifest["sha256"],
        "size": len(data), "date": "2026-11-30"}))
    (folder / "secret.txt").write_text("not for the public")
    return manifest


def start(db_path, *options):
    port = free_port()
    log = open(str(db_path) + f".{port}.log", "w+")
    proc = subprocess.Popen(datasette_command(str(db_path), port, "127.0.0.1", *options),
                            cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/-/versions.json", timeout=1)
            return proc, url, log
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    log.seek(0)
    pytest.fail("archive serve did not start: " + log.read()[-3000:])


def stop(proc, log):
    proc.terminate()
    proc.wait(timeout=15)
    log.close()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    db_path = folder / "dockets.db"
    build_archive(db_path)
    manifest = make_release(folder / "releases", db_path)
    return {"db": db_path, "folder": folder, "manifest": manifest}


@pytest.fixture(scope="module")
def site(archive):
    """The pages, in this process (Datasette's own client)."""
    served = InProcessSite(archive["db"], {"releases": str(archive["folder"] / "releases"),
                                           "files": str(archive["folder"] / "files")})
    yield {"url": served, "folder": archive["folder"], "manifest": archive["manifest"]}
    served.close()


@pytest.fixture(scope="module")
def server(archive):
    """The real `archive serve`: for the browser and HEAD over a socket."""
    proc, url, log = start(archive["db"], "--releases", str(archive["folder"] / "releases"),
                           "--files", str(archive["folder"] / "files"))
    yield {"url": url}
    stop(proc, log)


@pytest.fixture(scope="module")
def empty_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("empty")
    db_path = folder / "dockets.db"
    adb.open_db(str(db_path)).conn.close()
    served = InProcessSite(db_path, {"releases": str(folder / "no-releases")})
    yield served
    served.close()


def get(url, path):
    """(status, content type, body text) for any status; ``url`` a server's, or an
    InProcessSite."""
    if not isinstance(url, str):
        status, headers, body = url.get(path)
        return status, headers.get("content-type", ""), body.decode()
    try:
        with urllib.request.urlopen(url + path, timeout=30) as resp:
            return resp.status, resp.headers.get("content-type", ""), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read().decode()


def search(site, q, **filters):
    status, _, body = get(site["url"], urls.search(q, **filters))
    assert status == 200, (q, body[:500])
    return body


def results(body):
    return re.findall(r'<li class="result result-(\w+)">(.*?)</li>', body, re.S)


# --- home -----------------------------------------------------------------

def test_home_lists_cases_release_feed_and_search(site):
    status, _, body = get(site["url"], "/")
    assert status == 200
    for court, number in (WECHAT, APPEAL, EMPTY):
        assert f'href="{urls.case(court, number)}"' in body
    assert "Laurel Beeler" in body and "2020-11-02" in body  # judge, last filing
    row = body[body.index(urls.case(*WECHAT)):].split("</tr>")[0]
    assert re.findall(r'class="n">(\d+)<', row) == ["4", "3"]  # entries, documents
    assert '<link rel="alternate" type="application/atom+xml"' in body
    assert f'href="{urls.FEED}"' in body and f'action="{urls.SEARCH}"' in body
    assert "release of 2026-11-30" in body and "3 cases in 3 courts" in body
    assert "2020-08-21 to 2021-01-28" in body and site["manifest"]["sha256"] in body
    assert "36 docket_entries" in body and "crawls" not in body.split('class="download"')[1].split("</div>")[0]
    assert "2 documents were withheld" in body and "WeChat &lt;i&gt;x&lt;/i&gt;" in body
    assert "/dockets/documents" in body  # Datasette's tables are still linked


def test_release_files_are_served_and_nothing_else(site, server):
    release = site["folder"] / "releases" / "dockets-2026-11-30.db"
    status, headers, data = site["url"].get(urls.release(release.name))
    assert status == 200 and "attachment" in headers["content-disposition"]
    assert hashlib.sha256(data).hexdigest() == site["manifest"]["sha256"]
    assert json.loads(get(site["url"], "/releases/latest.json")[2])["date"] == "2026-11-30"
    assert get(site["url"], "/releases/dockets-2026-11-30.manifest.json")[0] == 200
    for path in ("/releases/secret.txt", "/releases/", "/releases/..%2Fdockets.db",
                 "/releases/%2E%2E%2Fdockets.db", "/releases/dockets-2026-11-29.db",
                 "/releases/..", "/releases/dockets.db"):
        # over a socket: a client in process would tidy "/releases/.." into "/"
        assert get(server["url"], path)[0] == 404, path


def test_home_without_release_offers_the_live_file(empty_site):
    status, _, body = get(empty_site, "/")
    assert status == 200 and "No case has been archived yet" in body
    assert 'href="/dockets.db"' in body and "live archive" in body
    assert "Docket Archive" in body


# --- search ---------------------------------------------------------------

def test_search_ranks_both_kinds_with_links_and_marks(site):
    body = search(site, "wechat")
    found = results(body)
    kinds = {kind for kind, _ in found}
    assert kinds == {"document", "entry"}
    assert "<mark>WeChat</mark>" in body
    order = [urls.document(*WECHAT, "59", 0), urls.document(*WECHAT, "48", 1),
             urls.document(*APPEAL, "25", 0)]
    for href in order:
        assert f'href="{href}"' in body
    assert f'href="{urls.stored_file("wechat/59.pdf")}"' in body
    assert f'href="{urls.case(*APPEAL)}"' in body and "2020-09-19" in body
    # the attachment has no file: no PDF link in its result
    attachment = next(text for kind, text in found if urls.document(*WECHAT, "48", 1) in text)
    assert "pdf-link" not in attachment and "attachment 1" in attachment


def test_court_text_is_escaped_in_results(site):
    body = search(site, "preliminary injunction")
    assert SCRIPT not in body and "<b>bold</b>" not in search(site, "grandmother")
    assert html.escape(SCRIPT, quote=False) in body or "&lt;script&gt;" in body
    marked = search(site, "pwned")  # a word inside the <script> text: marked, still escaped
    assert "&lt;script&gt;window.<mark>pwned</mark>" in marked


@pytest.mark.parametrize("q", ['"', 'NEAR(', 'a OR', 'NOT', 'AND AND', '*', '^x', 'col:wechat',
                               '-wechat', '(wechat', 'wechat)', '"unbalanced wechat',
                               'a"b"c"', "1:2 (a)", "'", "\\", "%", "\x00", "x" * 2000])
def test_any_input_is_a_search(site, q):
    body = search(site, q)
    assert "Search the archive" in body and "syntax error" not in body


def test_operators_are_words(site):
    assert any("NEAR(x)" in text.replace("<mark>", "").replace("</mark>", "")
               for _, text in results(search(site, "NEAR(")))
    assert "No word to look for" not in search(site, "a OR") and results(search(site, "a OR"))


def test_empty_query_shows_the_page_and_the_phrase_help(site):
    for q in ("", "   "):
        body = search(site, q)
        assert "<form" in body and 'name="q"' in body and not results(body)
        assert '"preliminary injunction"</code>: a phrase' in body


def test_phrases(site):
    # one result per document: the motion (its text and its entry) and the
    # order (its entry's description)
    assert len(results(search(site, '"preliminary injunction"'))) == 2
    assert not results(search(site, '"injunction preliminary"'))
    assert len(results(search(site, "injunction preliminary"))) == 2


def test_filters(site):
    def docs(**f):
        return {re.search(r'href="(/cases/[^"]+)"', text).group(1)
                for _, text in results(search(site, "wechat", **f))}

    assert all(u.startswith(urls.case(*APPEAL)) for u in docs(court="ca9"))
    assert all(u.startswith(urls.case(*WECHAT)) for u in docs(case="cand/3:20-cv-05910"))
    assert docs(date_from="2020-10-01") == {urls.document(*APPEAL, "25", 0)}
    assert docs(date_to="2020-09-18") == {urls.document(*WECHAT, "48", 0),
                                          urls.document(*WECHAT, "48", 1),
                                          urls.entry(*WECHAT, "1")}  # the complaint
    assert docs(type="attachment") == {urls.document(*WECHAT, "48", 1)}
    assert urls.document(*WECHAT, "48", 1) not in docs(type="main")
    assert {k for k, _ in results(search(site, "wechat", type="entry"))} == {"entry"}
    assert results(search(site, "wechat", date_from="not a date"))  # ignored, said so
    assert "is not YYYY-MM-DD" in search(site, "wechat", date_from="not a date")


def test_pagination(site):
    first = search(site, "zebrafinch")
    assert "30 docket entries match" in first and len(results(first)) == 20
    second = search(site, "zebrafinch", page=2)
    assert len(results(second)) == 10 and 'rel="prev"' in second and 'rel="next"' not in second
    assert 'rel="next"' in first
    assert not set(results(first)) & set(results(second))
    assert search(site, "zebrafinch", page="x") == first


def test_old_canned_query_addresses_redirect(site):
    assert results(get(site["url"], "/dockets/search?q=wechat")[2])
    assert "<feed" in get(site["url"], "/dockets/feed.atom")[2]
    status, _, body = get(site["url"], "/dockets/documents.json?_search=wechat&_shape=array")
    assert status == 200 and len(json.loads(body)) == 4  # Datasette's own search and JSON
    assert get(site["url"], "/dockets/documents.csv")[0] == 200


# --- feeds ------------------------------------------------------------------

def test_archive_feed(site):
    status, ctype, body = get(site["url"], urls.FEED)
    assert status == 200 and "atom" in ctype
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) == 36
    ids = [e.id for e in feed.entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("tag:docket-archive,2024:") for i in ids)
    # titled with what was filed; the link a reader opens is its document
    order = next(e for e in feed.entries if e.id.endswith("%2359"))
    assert order.title == ("Order granting motion for preliminary injunction — "
                           "U.S. WeChat Users Alliance v. Trump, entry 59")
    assert order.id == "tag:docket-archive,2024:entry/cand/3:20-cv-05910%2359"
    assert order.link == site["url"].url + urls.document(*WECHAT, "59", 0)
    assert site["url"].url + urls.entry(*WECHAT, "59") in [link.href for link in order.links]
    assert order.author == "U.S. District Court for the Northern District of California"
    assert order.updated.startswith("2020-09-19")
    motion = next(e for e in feed.entries if e.id.endswith("%2348"))
    assert SCRIPT in motion.content[0].value  # as text: the XML escapes it
    assert "<script>" not in body
    unnumbered = next(e for e in feed.entries if e.id.endswith("%23seq-130"))
    assert unnumbered.link.endswith("#entry-seq-130")


def test_feed_ids_stable_across_crawls(site, tmp_path):
    """The same entries saved in another order into a new file keep their ids."""
    other = tmp_path / "dockets.db"
    build_archive(other)
    con = adb.open_db(str(other))
    con.execute("delete from docket_entries where entry_number = 1 and court_id = 'ca9'")
    con.conn.commit()
    con.conn.close()
    adb.save_entry(adb.open_db(str(other)), {"court_id": "ca9", "docket_number": APPEAL[1],
                                              "entry_number": 1, "date_filed": "2020-10-02",
                                              "description": "Docketed cause."})
    proc, url, log = start(other)
    try:
        again = {place(e): e.id for e in feedparser.parse(get(url, urls.FEED)[2]).entries}
    finally:
        stop(proc, log)
    first = {place(e): e.id for e in feedparser.parse(get(site["url"], urls.FEED)[2]).entries}
    assert {k.split("//", 1)[1].split("/", 1)[1]: v for k, v in again.items()} == \
        {k.split("//", 1)[1].split("/", 1)[1]: v for k, v in first.items()}


def place(entry) -> str:
    """A feed entry's place on its case page (its title says what was filed, which may change)."""
    return next((l.href for l in entry.links if l.rel == "related"), entry.link)


def test_case_feeds(site):
    status, _, body = get(site["url"], urls.case_feed(*APPEAL))
    assert status == 200
    feed = feedparser.parse(body)
    assert not feed.bozo and len(feed.entries) == 32
    assert all(e.author == "U.S. Court of Appeals for the Ninth Circuit" for e in feed.entries)
    assert all("(cand" not in e.title and "(ca9" not in e.title for e in feed.entries)
    assert all(re.search(r"\((?:entry \d+|filed [\d-]+)\)$", e.title) for e in feed.entries)
    assert feed.feed.link == site["url"].url + urls.case(*APPEAL)
    status, _, body = get(site["url"], urls.case_feed(*EMPTY))
    feed = feedparser.parse(body)
    assert status == 200 and not feed.bozo and feed.entries == [] and feed.feed.title
    assert get(site["url"], urls.case_feed("cand", "9:99-cv-99999"))[0] == 404
    assert get(site["url"], urls.case_feed("zz", WECHAT[1]))[0] == 404


def test_empty_archive_feed(empty_site):
    status, _, body = get(empty_site, urls.FEED)
    feed = feedparser.parse(body)
    assert status == 200 and not feed.bozo and feed.entries == []
    status, _, body = get(empty_site, "/search?q=anything")
    assert status == 200 and "No filing matches" in body


# --- in the browser ---------------------------------------------------------

@pytest.fixture(scope="module")
def page():
    with chromium() as browser:
        yield browser.new_page()


def test_home_and_search_in_the_browser(server, page):
    page.goto(server["url"] + "/")
    assert "Docket Archive" in page.inner_text("h1")
    assert page.locator(f"a[href='{urls.case(*WECHAT)}']").count() == 1
    assert page.locator("link[rel=alternate][type='application/atom+xml']").count() == 1
    page.fill("input[name=q]", "preliminary injunction")
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    assert "/search?q=preliminary+injunction" in page.url
    marks = page.locator("li.result mark")
    assert marks.count() >= 3
    assert {m.lower() for m in marks.all_inner_texts()} <= {"preliminary", "injunction"}
    assert SCRIPT in page.inner_text("ol.results")  # shown as text
    assert page.evaluate("window.pwned") is None
    page.screenshot(path="/tmp/search.png", full_page=True)
    assert page.locator("li.result a.document-link").first.get_attribute("href").startswith("/cases/")


@pytest.mark.parametrize("q", ["", '"', "NEAR(", "a OR", '"motion for a stay"'])
def test_hard_queries_in_the_browser(server, page, q):
    page.goto(server["url"] + urls.search())
    page.fill("input[name=q]", q)
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    assert page.inner_text("h1") == "Search the archive"
    assert page.input_value("input[name=q]") == q
    text = page.inner_text("body")
    assert "error" not in text.lower()
    if q == '"motion for a stay"':
        assert page.locator("li.result").count() == 1
        assert page.locator("li.result mark").all_inner_texts() == ["motion for a stay"]
    if q == "":
        assert page.locator("li.result").count() == 0


def test_head_requests(server):
    for path in ("/", urls.search("wechat"), urls.FEED, urls.case_feed(*WECHAT),
                 urls.release("dockets-2026-11-30.db")):
        request = urllib.request.Request(server["url"] + path, method="HEAD")
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert resp.status == 200 and resp.read() == b"", path


@pytest.mark.parametrize("q", ["", '"', "NEAR(", "a OR", 'a"b"c"', "wechat", '"motion for a stay"'])
def test_canned_search_json_takes_any_input(site, q):
    status, _, body = get(site["url"], "/dockets/search.json?"
                          + urllib.parse.urlencode({"q": q, "_shape": "objects"}))
    assert status == 200, body
    rows = json.loads(body)["rows"]
    if q in ("", '"'):
        assert rows == []
    if q == "wechat":
        assert {r["kind"] for r in rows} == {"document", "entry"} and len(rows) == 5
    if q == '"motion for a stay"':
        assert [r["docket_id"] for r in rows] == ["ca9/20-16908"]
    status, _, body = get(site["url"], "/dockets/search.csv?" + urllib.parse.urlencode({"q": q}))
    assert status == 200 and body.startswith("kind,")
