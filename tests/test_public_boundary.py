"""One public boundary: the site serves what a release holds and nothing more.

A real `python -m archive serve` over an archive with sealed, restricted and
badly redacted documents (each carrying a word found nowhere else), one
document sealed only after the site first published it, a PACER ledger and
crawls whose arguments and messages name the server's folders. A crawler
follows every link of the site, asks every table as HTML, JSON and CSV (and a
CSV stream), runs SQL, searches, and downloads the database: no withheld
word, no operator record and no file path of the server ever comes back.
"""
from __future__ import annotations

import collections
import html
import json
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from archive import db as adb
from tests.test_pages_case import CASE, build
from tests.test_serve_safety import serving

SECRETS = {"quokkasecret": "sealed", "wombatsecret": "bad redaction",
           "numbatsecret": "restricted", "bilbysecret": "sealed later"}
CRAWLED_PAGES = 1500
ROW_PAGES = 25  # a table's row pages followed: enough to see each kind of row, not all 2,000
VARIANTS = 6  # query strings followed per path (facets, sorts, pages): each kind, not all


def fetch(url, timeout=60):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.headers.get("content-type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("content-type", ""), err.read()


def add_secrets(db_path, folder):
    db = adb.open_db(str(db_path))
    court, number = CASE
    base = {"court_id": court, "docket_number": number}
    crawl = adb.start_crawl(db, "pacer_district", court, number,
                            {"files": str(folder / "files"), "db": str(db_path)})
    texts = [(40, "SEALED DOCUMENT: exhibit", {}, "quokkasecret"),
             (41, "DECLARATION", {"bad_redactions": "2"}, "wombatsecret"),
             (42, "EXHIBIT. ACCESS TO THE PDF DOCUMENT IS RESTRICTED TO CASE PARTICIPANTS", {},
              "numbatsecret"),
             (43, "MOTION to file under seal", {}, "bilbysecret")]
    for n, description, extra, word in texts:
        adb.save_entry(db, dict(base, entry_number=n, date_filed="2020-10-10",
                                description=description), crawl)
        adb.save_document(db, dict(base, entry_number=n, document_number=str(n),
                                   description=description, status="ok", page_count=1,
                                   file_path=f"cand/{word}.pdf", sha256="cd" * 32,
                                   text=f"the document says {word} twice: {word}",
                                   clean_text=f"the document says {word}", **extra), crawl)
    adb.save_charge(db, {"crawl_id": crawl, "court_id": court, "what": "document",
                         "description": "ledgerwallaby", "cost": 3.0, "status": "charged"})
    adb.finish_crawl(db, crawl, "finished", {}, f"stored under {folder}")
    adb.close_db(db)


def seal_later(db_path):
    db = adb.open_db(str(db_path))
    court, number = CASE
    adb.save_entry(db, {"court_id": court, "docket_number": number, "entry_number": 43,
                        "description": "SEALED DOCUMENT: motion to file under seal"})
    adb.close_db(db)


LINK = re.compile(r'(?:href|src|action)="([^"#]*)', re.I)


def crawl_site(url, start_paths):
    """Every page reachable from ``start_paths`` on this site: {path: (status, body)}."""
    seen, queue, pages = set(), collections.deque(start_paths), {}
    rows_of, variants = collections.Counter(), collections.Counter()
    starts = set(start_paths)
    while queue and len(pages) < CRAWLED_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        if "?" in path and path not in starts:
            variants[path.split("?")[0]] += 1
            if variants[path.split("?")[0]] > VARIANTS:
                continue
        row = re.match(r"^/dockets/([^/?]+)/[^/?]+$", path.split("?")[0])
        if row:  # /dockets/<table>/<key>: a row page
            rows_of[row.group(1)] += 1
            if rows_of[row.group(1)] > ROW_PAGES:
                continue
        try:
            status, kind, body = fetch(url + path)
        except TimeoutError:
            raise AssertionError(f"{path} took over a minute") from None
        pages[path] = (status, body)
        if "html" not in kind:
            continue
        for link in LINK.findall(body.decode("utf-8", "replace")):
            link = html.unescape(link)
            parts = urllib.parse.urlsplit(urllib.parse.urljoin(url + path, link))
            if parts.netloc != urllib.parse.urlsplit(url).netloc:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen and not target.startswith("/-/static"):
                queue.append(target)
    return pages


QUERIES = ["select text from documents", "select * from documents",
           "select group_concat(text, ' ') as t from documents",
           "select * from pragma_database_list", "select file from pragma_database_list",
           "select * from sqlite_master", "select * from documents_fts_data",
           "select * from documents_fts where documents_fts match 'says'",
           "select name from sqlite_master where type = 'table'",
           "select * from crawls", "select * from changes"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("boundary")
    db_path, store = build(folder)
    add_secrets(db_path, folder)
    seal_later_word_published = {}
    with serving(str(db_path), "--files", str(store), "--publish-seconds", "0.5") as (url, _):
        shown = url + "/search?q=" + urllib.parse.quote("document says")
        # bilbysecret is public at first: the site shows it
        seal_later_word_published["before"] = b"bilbysecret" in fetch(shown)[2]
        seal_later(db_path)
        deadline = time.monotonic() + 60  # the site shows a finished crawl within a minute
        while time.monotonic() < deadline:
            body = fetch(shown)[2]
            if b"bilbysecret" not in body:
                break
            time.sleep(0.2)
        seal_later_word_published["after"] = b"bilbysecret" in body
        seal_later_word_published["seconds"] = 60 - (deadline - time.monotonic())
        yield {"url": url, "folder": folder, "sealed_later": seal_later_word_published}


def leaks(body: bytes, folder) -> list[str]:
    text = body.decode("utf-8", "replace")
    found = [w for w in list(SECRETS) + ["ledgerwallaby"] if w in text]
    for place in {str(folder), str(folder.resolve())}:
        if place in text:
            found.append(place)
    return found


def test_a_document_sealed_after_publishing_leaves_the_site(site):
    assert site["sealed_later"]["before"], "the public copy showed it while it was public"
    assert not site["sealed_later"]["after"], site["sealed_later"]


def test_no_route_serves_a_withheld_word_an_operator_record_or_a_path(site):
    url, folder = site["url"], site["folder"]
    tables = [t["name"] for t in json.loads(fetch(url + "/dockets.json")[2])["tables"]]
    assert "pacer_charges" not in tables and "public_log" not in tables
    starts = ["/", "/search?q=secret", "/dockets", "/-/databases.json", "/-/metadata.json",
              "/-/plugins.json", "/-/settings.json", "/feed.atom"]
    for table in tables:
        starts += [f"/dockets/{table}", f"/dockets/{table}.json?_shape=array&_size=max",
                   f"/dockets/{table}.csv?_size=max", f"/dockets/{table}.csv?_stream=on"]
    # searches for what the withheld texts share ("the document says <word>"): a hit's
    # excerpt would show the word (a search for the word itself echoes it back)
    for q in ("document says", "says", "twice"):
        q = urllib.parse.quote(q)
        starts += [f"/search?q={q}", f"/dockets/search.json?q={q}", f"/dockets/search.csv?q={q}",
                   f"/dockets/documents.json?_search={q}", f"/cases/cand/3:20-cv-05910?q={q}"]
    for query in QUERIES:
        for ext in ("", ".json", ".csv"):
            starts.append(f"/dockets{ext}?" + urllib.parse.urlencode({"sql": query}))
    pages = crawl_site(url, starts)
    assert len(pages) > 100
    found = {path: leaks(body, folder) for path, (status, body) in pages.items()}
    assert not {p: f for p, f in found.items() if f}
    # the withheld documents' text and PDFs are not served
    for word in SECRETS:
        assert fetch(f"{url}/files/cand/{word}.pdf")[0] == 404
    # the case page says why they are withheld
    status, _, body = fetch(url + "/cases/cand/3:20-cv-05910")
    assert status == 200 and b"withheld" in body.lower()


def test_the_download_holds_nothing_withheld(site, tmp_path):
    url, folder = site["url"], site["folder"]
    status, _, body = fetch(url + "/dockets.db")
    assert status == 200 and body.startswith(b"SQLite format 3\x00")
    assert not leaks(body, folder)  # not in a row, a free page or an FTS segment
    copy = tmp_path / "download.db"
    copy.write_bytes(body)
    con = sqlite3.connect(copy)
    tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
    assert not tables & {"pacer_charges", "public_log", "archive_info", "writer_position"}
    assert con.execute("select count(*) from documents where withheld is not null").fetchone()[0] >= 4
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    con.close()
