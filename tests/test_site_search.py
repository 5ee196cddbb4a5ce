"""Finding a case, and search as a searcher expects (issue 17, items 4 and 5).

The archive is made with archive.db's save_* functions (and, when ../shared
is there, real PACER pages through the importer's own functions), indexed
with archive.site.case_index as the publisher will, and served by Datasette in
this process (its ``client``): no subprocess, no socket. The browser checks
at the end run the real ``python -m archive serve`` (which builds the index
at start) in headless Chromium.
"""
from __future__ import annotations

import asyncio
import html
import importlib
import json
import re
import shutil
import sqlite3
import urllib.parse
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.site import case_index as site_index
from archive.site import courts, urls
from archive import db as adb
from archive import publish
from archive import site as archive_site
from archive.cli import metadata_for
from archive.site.search_query import parse
from tests.conftest import SHARED, chromium

WECHAT = ("cand", "3:20-cv-05910")
APPEAL = ("ca9", "20-16908")
LEHMAN = ("nysb", "08-13555")
SEALED_WORD = "quixotically"
FILLERS = 120  # cases enough for three pages of 50


def build(path: Path) -> None:
    db = adb.open_db(str(path))
    crawl = adb.start_crawl(db, "test", None, None, {})
    adb.save_docket(db, {"court_id": "cand", "docket_number": WECHAT[1],
                         "case_name": "U.S. WeChat Users Alliance v. Trump",
                         "assigned_to_str": "Laurel Beeler", "date_filed": "2020-08-21",
                         "nature_of_suit": "440 Civil Rights: Other"}, crawl)
    adb.save_docket(db, {"court_id": "ca9", "docket_number": APPEAL[1],
                         "case_name": "U.S. WeChat Users Alliance v. Trump",
                         "date_filed": "2020-10-01", "date_terminated": "2021-07-21"}, crawl)
    adb.save_docket(db, {"court_id": "nysb", "docket_number": LEHMAN[1],
                         "case_name": "Lehman Brothers Holdings Inc.", "chapter": 11,
                         "assigned_to_str": "James M. Peck", "trustee_str": "James W. Giddens",
                         "date_filed": "2008-09-15"}, crawl)
    for name in ("U.S. WeChat Users Alliance", "Chihuo Inc.", "Donald J. Trump"):
        adb.save_party(db, {"court_id": "cand", "docket_number": WECHAT[1], "name": name,
                            "party_type": "Plaintiff", "attorneys": [
                                {"name": "Michael W. Bien", "contact": (
                                    "Rosen Bien Galvan & Grunfeld LLP\n101 Mission Street, "
                                    "Sixth Floor\nSan Francisco, CA 94105\n(415) 433-6830\n"
                                    "Email: mbien@example.com"), "roles": ["LEAD ATTORNEY"]}]},
                       crawl)
    adb.save_party(db, {"court_id": "ca9", "docket_number": APPEAL[1], "name": "Wilbur Ross",
                        "party_type": "Appellant", "attorneys": [
                            {"name": "Sharon Swingle", "contact": (
                                "Direct: 202-353-2689\n[COR LD NTC Government]\n"
                                "DOJ - U.S. Department of Justice\n950 Pennsylvania Avenue NW")}]},
                   crawl)
    entries = [
        (WECHAT, 1, "2020-08-21", "COMPLAINT against Donald J. Trump, Wilbur Ross."),
        (WECHAT, 48, "2020-09-08", "MOTION for Preliminary Injunction filed by plaintiffs."),
        (WECHAT, 59, "2020-09-19", "ORDER granting motion for preliminary injunction."),
        (WECHAT, 60, "2020-09-20", "Minute entry: status conference held."),
        (WECHAT, 70, "2020-10-23", "SEALED document filed."),
        (APPEAL, 1, "2020-10-02", "Docketed cause and entered appearances of counsel."),
        (APPEAL, 25, "2020-10-20", "Filed order (motions panel): the stay is denied."),
        (LEHMAN, 1, "2008-09-15", "Voluntary petition under chapter 11."),
    ]
    for (court, number), n, date, text in entries:
        adb.save_entry(db, {"court_id": court, "docket_number": number, "entry_number": n,
                            "date_filed": date, "description": text}, crawl)
    docs = [
        (WECHAT, 48, 0, "Motion for Preliminary Injunction", "wechat/48.pdf",
         "Plaintiffs move for a preliminary injunction against the WeChat ban. The "
         "injunction would preserve the status quo."),
        (WECHAT, 48, 1, "Declaration of a WeChat user", None,
         "I use WeChat every day to talk to my grandmother."),
        (WECHAT, 59, 0, "Order", "wechat/59.pdf",
         "The court grants the motion: serious questions going to the merits of the First "
         "Amendment claim, and the balance of hardships tips toward the plaintiffs."),
        (WECHAT, 70, 0, "Sealed exhibit", "wechat/70.pdf",
         f"Text the court sealed: {SEALED_WORD} details of the plaintiffs."),
        (APPEAL, 25, 0, "Order denying stay", "ca9/25.pdf",
         "The motion for a stay pending appeal is denied. WeChat remains available."),
    ]
    for (court, number), n, att, desc, path_, text in docs:
        adb.save_document(db, {"court_id": court, "docket_number": number, "entry_number": n,
                               "document_number": str(n), "attachment_number": att,
                               "description": desc, "status": "ok", "page_count": 2,
                               "file_path": path_, "text": text, "clean_text": text,
                               "is_sealed": 1 if n == 70 else None}, crawl)
    for i in range(FILLERS):
        number = f"{i + 10:02d}-{10000 + i:05d}"
        adb.save_docket(db, {"court_id": "deb", "docket_number": number,
                             "case_name": f"Filler {i:03d} Holdings LLC",
                             "date_filed": f"20{10 + i % 10:02d}-0{1 + i % 9}-15",
                             "date_terminated": "2019-01-01" if i % 3 == 0 else None}, crawl)
        adb.save_entry(db, {"court_id": "deb", "docket_number": number, "entry_number": 1,
                            "date_filed": f"20{11 + i % 10:02d}-02-01",
                            "description": f"Petition number {i} about zebrafinch"}, crawl)
    adb.finish_crawl(db, crawl, "finished", {})
    adb.close_db(db)


def public_copy(path: Path) -> Path:
    """The public copy of the archive at ``path`` (what the site serves), with its
    derived tables: the case index, the courts."""
    live = path.parent / "public" / path.name
    publish.publish(str(path), str(live))
    return live


def index(db) -> None:
    with adb.transaction(db):
        site_index.ensure_shape(db)
        site_index.refresh(db)


class Site:
    """Datasette serving ``path`` as `archive serve` does, in this process."""

    def __init__(self, path: Path):
        from datasette.app import Datasette

        self.loop = asyncio.new_event_loop()
        archive_site.register()
        self.ds = Datasette(
            [str(path)], metadata=metadata_for(str(path), {"sqlite_heap_bytes": 0}),
            settings={"max_returned_rows": 1000, "sql_time_limit_ms": 3000,
                      "allow_download": True, "suggest_facets": False})
        self.loop.run_until_complete(self.ds.invoke_startup())

    def get(self, path: str) -> tuple[int, str]:
        answer = self.loop.run_until_complete(self.ds.client.get(path))
        return answer.status_code, answer.text

    def page(self, path: str) -> str:
        status, body = self.get(path)
        assert status == 200, (path, body[:500])
        return body

    def close(self):
        self.loop.close()


@pytest.fixture(scope="module")
def raw_archive(tmp_path_factory):
    """The operator's archive: what crawls write, never served."""
    path = tmp_path_factory.mktemp("site") / "dockets.db"
    build(path)
    return path


@pytest.fixture(scope="module")
def archive_path(raw_archive):
    """Its public copy: what the site serves."""
    return public_copy(raw_archive)


@pytest.fixture(scope="module")
def site(archive_path):
    served = Site(archive_path)
    yield served
    served.close()


def copy_without_index(source: Path, path: Path) -> Path:
    """A copy of the archive as an older one is: no case index."""
    shutil.copy(source, path)
    conn = sqlite3.connect(path)
    conn.execute("drop table case_index_fts")
    conn.execute("drop table case_index")
    conn.commit()
    conn.close()
    return path


def search(site, q, **filters):
    return site.page(urls.search(q, **filters))


def results(body) -> list[str]:
    return re.findall(r'<li class="result result-\w+">(.*?)</li>', body, re.S)


def case_hits(body) -> list[str]:
    section = re.search(r'<section class="case-hits".*?</section>', body, re.S)
    return re.findall(r'class="case-link" href="([^"]+)"', section.group(0)) if section else []


def filings_heading(body) -> str:
    m = re.search(r'<h2 id="filings-heading"[^>]*>(.*?)</h2>', body, re.S)
    return " ".join(html.unescape(m.group(1)).split()) if m else ""


def home_cases(body) -> list[str]:
    return re.findall(r'<a class="case-name" href="([^"]+)"', body)


def plugin(name):
    """A plugin module as Datasette loaded it (archive/site/NAME.py)."""
    return importlib.import_module(f"archive.site.{name}")


# --- the derived tables ---------------------------------------------------------

def test_case_index_row(archive_path):
    db = sqlite_utils.Database(str(archive_path))
    row = next(db.query("select * from case_index where docket_id = ?", ["cand/3:20-cv-05910"]))
    assert row["court_name"] == "U.S. District Court for the Northern District of California"
    assert row["court_short"] == "N.D. Cal." and row["court_kind"] == "district"
    assert row["numbers"] == "3:20-cv-05910 3:20-cv-5910"
    assert row["parties"] == "U.S. WeChat Users Alliance; Chihuo Inc.; Donald J. Trump"
    assert row["attorneys"] == "Michael W. Bien"
    assert row["firms"] == "Rosen Bien Galvan & Grunfeld LLP"
    assert row["judges"] == "Laurel Beeler" and row["status"] == "open"
    assert (row["entries"], row["documents"], row["date_last_filing"]) == (5, 4, "2020-10-23")
    appeal = next(db.query("select * from case_index where docket_id = 'ca9/20-16908'"))
    assert appeal["firms"] == "DOJ - U.S. Department of Justice"
    assert appeal["status"] == "terminated" and appeal["court_kind"] == "appellate"
    lehman = next(db.query("select * from case_index where docket_id = 'nysb/08-13555'"))
    assert "James W. Giddens" in lehman["parties"]  # the trustee is found as a party
    assert lehman["court_name"] == "U.S. Bankruptcy Court for the Southern District of New York"
    assert db.execute("select count(*) from case_index").fetchone()[0] == 3 + FILLERS
    assert db["courts"].count == len(courts.COURTS)
    db.close()


def test_refresh_is_incremental_in_the_callers_transaction(tmp_path, archive_path):
    path = tmp_path / "copy.db"
    shutil.copy(archive_path, path)
    db = adb.open_db(str(path))
    full = {r["docket_id"]: r for r in db.query("select * from case_index")}
    site_index.ensure_shape(db)  # again: changes nothing
    # a party added, a docket renamed, one removed: refresh those three only
    adb.save_party(db, {"court_id": "ca9", "docket_number": APPEAL[1], "name": "TikTok Inc.",
                        "party_type": "Amicus"})
    db.execute("update dockets set case_name = 'Renamed v. Case' where id = 'deb/10-10000'")
    db.execute("delete from docket_entries where docket_id = 'deb/11-10001'")
    db.execute("delete from dockets where id = 'deb/11-10001'")
    db.conn.commit()
    with adb.transaction(db):
        assert site_index.refresh(db, ["ca9/20-16908", "deb/10-10000", "deb/11-10001"]) == 2
    after = {r["docket_id"]: r for r in db.query("select * from case_index")}
    assert "deb/11-10001" not in after and len(after) == len(full) - 1
    assert "TikTok Inc." in after["ca9/20-16908"]["parties"]
    assert after["deb/10-10000"]["case_name"] == "Renamed v. Case"
    assert after["cand/3:20-cv-05910"] == full["cand/3:20-cv-05910"]
    found = db.execute("select c.docket_id from case_index_fts join case_index c on "
                       "c.id = case_index_fts.rowid where case_index_fts match 'tiktok'").fetchall()
    assert found == [("ca9/20-16908",)]
    assert not db.execute("select 1 from case_index_fts where case_index_fts match 'filler "
                          "AND 001'").fetchall()  # the removed one's words are gone
    db.execute("insert into case_index_fts(case_index_fts, rank) values ('integrity-check', 1)")
    # refresh never commits: the caller's rollback undoes it
    db.conn.execute("begin")
    site_index.refresh(db, ["ca9/20-16908"])
    db.execute("delete from parties where docket_id = 'ca9/20-16908'")
    site_index.refresh(db, ["ca9/20-16908"])
    assert db.conn.in_transaction
    db.conn.rollback()
    assert "TikTok" in db.execute("select parties from case_index where "
                                  "docket_id = 'ca9/20-16908'").fetchone()[0]
    # a full refresh gives what the incremental ones gave
    with adb.transaction(db):
        site_index.refresh(db)
    again = {r["docket_id"]: {k: v for k, v in r.items() if k != "id"}
             for r in db.query("select * from case_index")}
    assert again == {k: {c: v for c, v in r.items() if c != "id"} for k, r in after.items()}
    db.conn.close()


def test_number_forms_and_firms():
    assert site_index.number_forms("3:20-cv-05910") == "3:20-cv-05910 3:20-cv-5910"
    assert site_index.number_forms("20-16908") == "20-16908"
    assert site_index.firm_of("Direct: 415-433-6830\nEmail: a@b.c\n[COR LD NTC Retained]\n"
                              "Rosen Bien Galvan & Grunfeld LLP\n101 Mission") \
        == "Rosen Bien Galvan & Grunfeld LLP"
    assert site_index.firm_of("350 E Las Olas Blvd # 1000\nFt Lauderdale, FL 33301") is None
    assert site_index.sort_name("  'In re' X") == "in re' x"


def test_every_federal_court_is_named():
    kinds = {}
    for court in courts.COURTS.values():
        kinds.setdefault(court["kind"], set()).add(court["id"])
    assert len(kinds["district"]) == 94  # 89 in the states, DC, PR, and 3 territorial courts
    assert {f"ca{n}" for n in range(1, 12)} | {"cadc", "cafc"} <= kinds["appellate"]
    for district in kinds["district"]:  # each district has its bankruptcy court
        assert district[:-1] + "b" in kinds["bankruptcy"], district
    assert courts.name("cand") == "U.S. District Court for the Northern District of California"
    assert courts.name("nysb") == "U.S. Bankruptcy Court for the Southern District of New York"
    assert courts.name("ca9") == "U.S. Court of Appeals for the Ninth Circuit"
    assert courts.name("dcd") == "U.S. District Court for the District of Columbia"
    assert courts.short_name("wvnd") == "N.D. W. Va." and courts.short_name("nysd") == "S.D.N.Y."
    assert courts.court("zzz") == {"id": "zzz", "name": "ZZZ", "short_name": "ZZZ",
                                   "kind": "other", "state": None, "circuit": None}


# --- the query language -------------------------------------------------------------

def test_query_language():
    assert parse("injunction OR stay").fts == '("injunction" OR "stay")'
    assert parse("inj*").fts == '"inj"*'
    assert parse('"preliminary injunction" -stay').fts == '("preliminary injunction" NOT "stay")'
    assert parse("(injunction OR stay) NOT appeal").fts == \
        '(("injunction" OR "stay") NOT "appeal")'
    assert parse("injunction or stay").fts == '("injunction" AND "or" AND "stay")'
    assert parse("Hawaii v. Trump").case_fts == '("Hawaii" AND "Trump")'
    for printed in ("3:20-cv-05910", "3:20-cv-5910-LB", "3:20cv5910", "3:20-CV-05910-LB"):
        assert parse(printed).numbers == ["3:20-cv-05910"], printed
    assert parse("20-16908").numbers == ["20-16908"]
    assert parse("-wechat").fts == "" and parse("-wechat").notes
    for nothing in ("", "   ", '"', "*", "NOT", "AND AND", "()", "OR"):
        assert parse(nothing).fts == "", nothing


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(list('ab z"()*-:^+.|&\\\'\x00é²_…')
                               + ["OR", "NOT", "AND", "NEAR(", "3:20-cv-5910"]),
               max_size=30).map("".join))
def test_any_input_is_a_valid_fts5_query(text):
    conn = sqlite3.connect(":memory:")
    conn.execute("create virtual table t using fts5(a, tokenize='porter')")
    conn.execute("create virtual table u using fts5(a, tokenize='unicode61 remove_diacritics 2')")
    query = parse(text)
    for expr, table in ((query.fts, "t"), (query.case_fts, "u")):
        if expr:
            conn.execute(f"select * from {table} where {table} match ?", [expr]).fetchall()


# --- finding a case ------------------------------------------------------------------

@pytest.mark.parametrize("q, case", [
    ("wechat", WECHAT), ("3:20-cv-05910", WECHAT), ("3:20-cv-5910-LB", WECHAT),
    ("3:20cv5910", WECHAT), ("20-cv-5910", WECHAT), ("20-16908", APPEAL),
    ("Chihuo", WECHAT), ("Michael Bien", WECHAT), ("Rosen Bien Galvan", WECHAT),
    ("Beeler", WECHAT), ("Swingle", APPEAL), ("Department of Justice", APPEAL),
    ("Lehman Brothers", LEHMAN), ("08-13555", LEHMAN), ("Giddens", LEHMAN),
    ("WeChat v. Trump", WECHAT), ("wech*", WECHAT),
])
def test_search_finds_the_case(site, q, case):
    body = search(site, q)
    assert urls.case(*case) in case_hits(body), q
    if results(body):  # matching cases are listed above matching filings
        assert body.index('class="case-hits"') < body.index('id="filings-heading"')


def test_case_hits_link_to_all_of_them_and_search_filings(site):
    body = search(site, "Filler")
    assert "120 cases match" in body and len(case_hits(body)) == 5
    assert 'href="/?q=Filler"' in body
    assert "No filing matches" in filings_heading(body)
    assert not case_hits(search(site, "zebrafinch"))  # words of filings only: no case


def test_home_page_count_filters_sort_and_pages(site):
    first = site.page("/")
    assert "123 cases in the archive. Showing 1 to 50." in first
    assert len(home_cases(first)) == 50 and 'rel="next" href="/?page=2"' in first
    third = site.page("/?page=3")
    assert len(home_cases(third)) == 23 and 'rel="prev"' in third and 'rel="next"' not in third
    assert not set(home_cases(first)) & set(home_cases(third))
    assert 'go to the first page</a>' in site.page("/?page=9&court=deb")
    # courts in words, grouped by kind, with their counts
    assert '<optgroup label="District courts">' in first
    assert ">U.S. District Court for the Northern District of California (1)</option>" in first
    assert ">U.S. Bankruptcy Court for the District of Delaware (120)</option>" in first
    body = site.page("/?court=cand")
    assert home_cases(body) == [urls.case(*WECHAT)] and "1 of 123 cases matches" in body
    assert "U.S. District Court for the Northern District of California</span>" in body
    # open or terminated
    terminated = site.page("/?status=terminated&court=deb")
    assert "40 of 123 cases match" in terminated
    assert urls.case(*APPEAL) in home_cases(site.page("/?status=terminated&court=ca9"))
    assert not home_cases(site.page("/?status=open&court=ca9"))
    # dates filed and of the last filing
    filed = home_cases(site.page("/?filed_from=2020-01-01&filed_to=2020-12-31"))
    assert set(filed) == {urls.case(*WECHAT), urls.case(*APPEAL)} | {
        c for c in filed if c.startswith("/cases/deb/")}
    assert all(c.startswith("/cases/deb/") or c in (urls.case(*WECHAT), urls.case(*APPEAL))
               for c in filed)
    last = home_cases(site.page("/?last_from=2020-10-20&last_to=2020-10-31"))
    assert last == [urls.case(*WECHAT), urls.case(*APPEAL)] or \
        set(last) == {urls.case(*WECHAT), urls.case(*APPEAL)}
    assert "not a date" in site.page("/?filed_from=yesterday")
    # sorts: name, filed (both ways), entries; the header says which
    by_name = home_cases(site.page("/?sort=name&court=deb"))
    assert by_name == sorted(by_name, key=lambda u: int(u.rsplit("-", 1)[1]))
    oldest = site.page("/?sort=filed_asc")
    assert home_cases(oldest)[0] == urls.case(*LEHMAN)
    assert 'aria-sort="ascending"><a href="/?sort=filed">Filed</a>' in oldest
    newest = home_cases(site.page("/?sort=filed"))
    assert newest[0] != urls.case(*LEHMAN)
    assert home_cases(site.page("/?sort=entries"))[0] == urls.case(*WECHAT)
    # searching the cases from the home page, best match first
    body = site.page("/?q=Beeler")
    assert home_cases(body) == [urls.case(*WECHAT)] and '<option value="relevance" selected' in body
    assert f'href="{urls.search("Beeler")}"' in body  # and the filings, one click away
    assert "No case matches" in site.page("/?q=nosuchname")
    assert "no word to look for" in site.page("/?q=%22").lower()


def test_home_page_markup(site):
    body = site.page("/")
    assert body.count('<th scope="col"') == 7 and body.count('<th scope="row">') == 50
    for field in ("f-q", "f-court", "f-status", "f-filed-from", "f-filed-to", "f-last-from",
                  "f-last-to", "f-sort"):
        assert f'<label for="{field}">' in body, field
    assert 'aria-label="Pages of cases"' in body and 'role="search"' in body
    assert "/dockets/case_index" in body and "/dockets/documents" in body  # the tables


def test_without_the_index_pages_still_work(tmp_path, archive_path):
    old = Site(copy_without_index(archive_path, tmp_path / "old.db"))
    try:
        body = old.page("/")
        assert "123 cases in the archive" in body and "case index is being built" in body
        assert ">U.S. District Court for the Northern District of California (1)</option>" in body
        assert home_cases(old.page("/?q=wechat")) == [urls.case(*APPEAL), urls.case(*WECHAT)] \
            or set(home_cases(old.page("/?q=wechat"))) == {urls.case(*APPEAL), urls.case(*WECHAT)}
        assert home_cases(old.page("/?court=nysb&sort=name")) == [urls.case(*LEHMAN)]
        found = search(old, "injunction")
        assert results(found) and not case_hits(found)
    finally:
        old.close()


# --- one result per document ------------------------------------------------------------

def test_one_result_per_document(site):
    body = search(site, "injunction")
    found = results(body)
    # entry 48's description and its document's text are one hit; entry 59's
    # description is its order's hit: two documents, each once
    assert filings_heading(body) == "2 documents match"
    links = [re.search(r'class="document-link" href="([^"]+)"', r).group(1) for r in found]
    assert links == [urls.document(*WECHAT, "48", 0), urls.document(*WECHAT, "59", 0)] or \
        sorted(links) == sorted([urls.document(*WECHAT, "48", 0), urls.document(*WECHAT, "59", 0)])
    motion = found[links.index(urls.document(*WECHAT, "48", 0))]
    assert "found in the document&#39;s text" in motion or "found in the document's text" in motion
    assert "the docket entry" in motion and motion.count("<mark>") >= 2
    # an entry with no document is a result of its own, counted apart
    body = search(site, "status")
    assert filings_heading(body) == "1 document and 1 docket entry without a document match"
    assert {m for m in re.findall(r'class="(entry-link|document-link)"', body)} == \
        {"entry-link", "document-link"}
    assert filings_heading(search(site, "zebrafinch")) == "120 docket entries match"


def test_operators(site):
    def count(q, **filters):
        heading = filings_heading(search(site, q, **filters))
        return int(re.match(r"(\d+)", heading).group(1)) if heading[:1].isdigit() else 0

    assert count("injunction OR stay") > count("injunction") == 2
    assert count("injunction OR stay") == count("injunction") + count("stay")
    assert count("injunction -grants") == 1 and count("injunction NOT grants") == 1
    assert count("inj*") == count("injunction")
    assert count('"preliminary injunction"') == 2 and count('"injunction preliminary"') == 0
    # each part of a filing is searched on its own: the motion's text names
    # WeChat, its entry does not, so the motion is found by its entry
    assert count("(injunction OR stay) NOT WeChat") == 3
    assert count("(injunction OR stay) NOT WeChat", type="main") == 3
    body = search(site, "-wechat")
    assert "need a word to look for" in body and "No filing matches" not in body


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(list('aw ech"()*-:^') + [" OR ", " NOT ", "wechat"]),
               max_size=20).map("".join))
def test_any_input_is_a_search_page(site, text):
    body = search(site, text)
    assert "Search the archive" in body
    assert "could not be run" not in body and "syntax error" not in body.lower()


def test_withheld_text_is_never_a_result(site):
    body = search(site, SEALED_WORD)
    assert SEALED_WORD not in body.split("</form>", 1)[1] and not results(body)
    body = search(site, "sealed")  # its entry's description is public: listed, no text, no PDF
    (result,) = results(body)
    assert "withheld" in result and "pdf-link" not in result and "excerpt" not in result


def test_the_count_is_estimated_past_its_limits(site, monkeypatch):
    search_plugin = plugin("search")
    monkeypatch.setattr(search_plugin, "EXACT_ENTRIES", 10)
    monkeypatch.setattr(search_plugin, "SAMPLE", 20)
    assert filings_heading(search(site, "zebrafinch")) == "About 120 docket entries match"
    monkeypatch.setattr(search_plugin, "RANK_CAP", {"document": 1, "entry": 30})
    body = search(site, "zebrafinch OR injunction")
    assert "most recently archived" in body and len(results(body)) == 20
    # filtered past the window: the window's share of all the hits
    assert filings_heading(search(site, "zebrafinch", court="deb")) == \
        "About 120 docket entries match"
    assert search_plugin.estimate(100, 50, 200, (10, 0, 25)) == \
        {"documents": 100 + 15, "entries": 20, "estimated": True}


def test_filters_still_apply(site):
    assert not results(search(site, "injunction", court="ca9"))
    assert len(results(search(site, "wechat", case="ca9/20-16908"))) == 1
    assert len(results(search(site, "zebrafinch", date_from="2020-02-01",
                              date_to="2020-02-01"))) == 12
    assert results(search(site, "wechat", type="attachment"))
    assert not case_hits(search(site, "wechat", case="ca9/20-16908"))


# --- the canned queries (JSON, CSV) -----------------------------------------------------------

def rows(site, name, q):
    status, body = site.get(f"/dockets/{name}.json?"
                            + urllib.parse.urlencode({"q": q, "_shape": "objects"}))
    assert status == 200, body[:500]
    return json.loads(body)["rows"]


def test_canned_search_is_the_page_as_data(site):
    found = rows(site, "search", "injunction")
    assert [(r["kind"], r["docket_id"], r["document_number"]) for r in found] in (
        [("document", "cand/3:20-cv-05910", "48"), ("document", "cand/3:20-cv-05910", "59")],
        [("document", "cand/3:20-cv-05910", "59"), ("document", "cand/3:20-cv-05910", "48")])
    assert all("[" in r["snippet"] for r in found)
    kinds = sorted(r["kind"] for r in rows(site, "search", "status"))
    assert kinds == ["document", "entry"]
    assert len(rows(site, "search", "injunction OR stay")) == 3
    assert len(rows(site, "search", "inj*")) == 2
    for q in ("", '"', "NEAR(", "a OR", "-wechat", "((("):
        rows(site, "search", q)
    status, body = site.get("/dockets/search.csv?q=injunction")
    assert status == 200 and body.startswith("kind,docket_id,case_name")
    cases = rows(site, "search_cases", "3:20-cv-5910-LB")
    assert [c["docket_id"] for c in cases] == ["cand/3:20-cv-05910"]
    assert cases[0]["court_name"].startswith("U.S. District Court")


# --- the real corpus ----------------------------------------------------------------------------

CORPUS = [("district", "district/dcd_1.html", "dcd"), ("appellate", "appellate/ca9_1.html", "ca9"),
          ("district", "district/nysd_1.html", "nysd"), ("district", "district/cand.html", "cand")]


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory):
    from archive.load import dockets_in, save_parsed_docket
    from parsers import parse as parse_page

    folder = SHARED / "corpus" / "pacer"
    if not folder.is_dir():
        pytest.skip(f"../shared not found ({folder}): the real PACER pages live there")
    path = tmp_path_factory.mktemp("corpus") / "dockets.db"
    db = adb.open_db(str(path))
    for kind, name, court in CORPUS:
        record = parse_page(kind, (folder / name).read_bytes(), court=court)
        for docket in dockets_in(record):
            save_parsed_docket(db, docket, source=f"import:{kind}", court_id=court)
    adb.close_db(db)
    served = Site(public_copy(path))
    yield served
    served.close()


@pytest.mark.parametrize("q, docket_id", [
    ("Manafort", "dcd/1:17-cr-00201"), ("Hawaii v. Trump", "ca9/17-15589"),
    ("Bear Stearns", "nysd/1:08-md-01963"), ("1:17-cr-201-ABJ", "dcd/1:17-cr-00201"),
    ("17-15589", "ca9/17-15589"), ("Amy Berman Jackson", "dcd/1:17-cr-00201"),
])
def test_real_cases_are_found(corpus_site, q, docket_id):
    court, number = docket_id.split("/", 1)
    hits = case_hits(search(corpus_site, q))
    assert hits and hits[0] == urls.case(court, number), (q, hits)


# --- in the browser ----------------------------------------------------------------

@pytest.fixture(scope="module")
def served(raw_archive, tmp_path_factory):
    """The real `archive serve` of the archive: it publishes the public copy with
    its index, and serves it."""
    from tests.test_pages_search import start, stop

    path = tmp_path_factory.mktemp("served") / "dockets.db"
    shutil.copy(raw_archive, path)
    proc, url, log = start(path)
    yield url
    stop(proc, log)


@pytest.mark.parametrize("width", [1280, 390])
def test_home_and_search_fit_the_screen(served, width, tmp_path):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": 900})
        for path in ("/", "/?q=wechat&sort=name", urls.search("injunction OR stay"),
                     urls.search("Filler")):
            page.goto(served + path)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, (path, wide)
            page.screenshot(path=str(tmp_path / f"page-{width}.png"), full_page=True)
        page.goto(served + "/")
        page.fill("#f-q", "3:20-cv-5910-LB")
        page.press("#f-q", "Enter")
        page.wait_for_load_state()
        assert page.locator("a.case-name").all_inner_texts() == \
            ["U.S. WeChat Users Alliance v. Trump"]
        page.select_option("#f-court", "deb")
        page.fill("#f-q", "")
        page.select_option("#f-sort", "name")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("a.case-name").first.inner_text() == "Filler 000 Holdings LLC"
        assert "120 of 123 cases match" in page.inner_text("#case-count")


@pytest.mark.parametrize("floor", [0, 3])
@pytest.mark.parametrize("filters", [{"court": "cand"}, {"case": "cand/3:20-cv-05910"},
                                     {"date_from": "2020-01-01", "date_to": "2020-12-31"},
                                     {"type": "attachment"}, {"type": "main", "court": "ca9"}])
def test_filters_never_make_fts5_look_up_rows_one_by_one(archive_path, filters, floor):
    """A rowid set handed to FTS5 as a constraint is looked up row by row, each
    a walk over the terms' hits: seconds on a big archive. The plans test the
    sets against each hit instead (no ``=`` rowid constraint on an FTS table)."""
    search_plugin = plugin("search")
    chosen = {**search_plugin.NO_FILTERS, **filters}
    statements = []
    for kind in search_plugin._searched(chosen):
        statements += [search_plugin.ranked_statement(kind, chosen, 21, floor),
                       search_plugin.window_statement(kind, chosen)]
    statements.append((search_plugin.raw_counts_statement(["document", "entry"],
                                                          {"document": 2}), {}))
    for exact in (True, False):
        statements.append(search_plugin.overlap_statement(chosen, exact))
    conn = sqlite3.connect(archive_path)
    for sql, params in statements:
        plan = [row[3] for row in conn.execute("explain query plan " + sql,
                                               {**params, "q": '"wechat"'})]
        fts = [step for step in plan if "VIRTUAL TABLE" in step]
        assert fts and not [step for step in fts if ":=" in step], (sql, plan)
    conn.close()
