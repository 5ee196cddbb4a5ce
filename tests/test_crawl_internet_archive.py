"""The real `scrapy crawl internet_archive` against a local archive.org server.

The server redirects downloads (302) as archive.org does and serves RECAP
docket XML: a hand-written copy for the WeChat case, and the real XML files
in ../shared/corpus/pacer/internet_archive/ for other courts.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import PROJECT, SHARED, run_crawl, shared_or_skip
from tests.servers.courtlistener import CourtListenerServer
from tests.servers.cases import wechat_cases
from tests.servers.internet_archive import InternetArchiveServer


@pytest.fixture
def ia():
    with InternetArchiveServer(SHARED if SHARED.exists() else None) as srv:
        yield srv


def crawl(ia, tmp_path, *args, files=None, ocr=False, settings=None):
    return run_crawl("internet_archive", args=args, db=tmp_path / "dockets.db",
                     files=files or tmp_path / "files",
                     settings={**ia.settings(), "EXTRACT_OCR": str(ocr), **(settings or {})})


# the docket only: its 84 PDFs would take minutes to extract and prove nothing more
DOCKET_ONLY = {"ITEM_PIPELINES": '{"docket_spider.pipelines.ArchivePipeline": 300}'}


def count(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_default_case_from_the_internet_archive(ia, tmp_path):
    code, log = crawl(ia, tmp_path)
    assert code == 0 and "Traceback" not in log, log[-3000:]
    db = tmp_path / "dockets.db"
    assert count(db, "select id from dockets") == "cand/3:20-cv-05910"
    assert count(db, "select count(*) from docket_entries") > 5
    assert count(db, "select count(*) from documents where sha256 is not null") > 0
    assert count(db, "select count(*) from documents where is_available = 0 and file_path is null") > 0
    # archive.org's redirects were followed for the PDFs
    assert any(r["status"] == 302 for r in ia.log.snapshot())
    # the Ninth Circuit docket is not on the Internet Archive, and the log says so
    assert "no RECAP copy for ca9 20-16908" in log


def test_a_case_from_the_corpus(ia, tmp_path):
    shared_or_skip("corpus", "pacer", "internet_archive", "cand_194617.xml")
    code, log = crawl(ia, tmp_path, "court=cand", "pacer_case_id=194617", settings=DOCKET_ONLY)
    assert code == 0 and "Traceback" not in log
    db = tmp_path / "dockets.db"
    assert count(db, "select docket_number from dockets") == "5:07-cv-03950"
    assert count(db, "select count(*) from docket_entries") > 10


def test_a_missing_item_is_reported(ia, tmp_path):
    code, log = crawl(ia, tmp_path, "court=cand", "pacer_case_id=1")
    assert "has no RECAP copy of cand case 1" in log
    assert "Traceback" not in log
    assert count(tmp_path / "dockets.db", "select status from crawls") == "failed"


def test_same_document_from_two_sources_is_stored_once(ia, tmp_path):
    """A PDF fetched from the Internet Archive is not fetched again from CourtListener."""
    code, _ = crawl(ia, tmp_path)
    assert code == 0
    with CourtListenerServer(wechat_cases(SHARED if SHARED.exists() else None),
                             token="t") as cl:
        code, log = run_crawl("courtlistener", args=["court=cand", "docket_number=3:20-cv-05910"],
                              env={"COURTLISTENER_TOKEN": "t"}, db=tmp_path / "dockets.db",
                              files=tmp_path / "files",
                              settings={**cl.settings(), "COURTLISTENER_RATE_PER_MINUTE": "1200"})
        assert code == 0
        stored = count(tmp_path / "dockets.db",
                       "select pdfs_already_stored from crawls order by id desc limit 1")
        assert stored > 0


def test_make_archive_without_a_token_uses_the_internet_archive(ia, tmp_path):
    db = tmp_path / "dockets.db"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "archive", "crawl-default", "--db", str(db),
         "-s", f"INTERNET_ARCHIVE_URL={ia.url}", "-s", f"FILES_STORE={tmp_path / 'files'}",
         "-s", "EXTRACT_OCR=False"],  # OCR is checked by test_pdf and the CourtListener crawl
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "COURTLISTENER_TOKEN is not set" in out
    assert "courtlistener.com/profile/api" in out
    assert "docket_entries" in out and "Traceback" not in out
    assert count(db, "select count(*) from docket_entries") > 5


def test_a_record_of_an_unexpected_shape_costs_only_that_record(tmp_path):
    """The WeChat docket XML with one <document> whose attachment number is no
    number: that document is skipped, logged and counted in crawls.bad_records;
    every other entry, document and party lands, and the crawl finished."""
    from tests.servers.cases import FIXTURES

    source = (FIXTURES / "internet_archive" / "cand_364733.xml").read_text(encoding="utf-8")
    bad = '<document doc_num="1" attachment_num="2">'
    assert source.count(bad) == 1
    folder = tmp_path / "xml"
    folder.mkdir()
    (folder / "cand_364733.xml").write_text(source.replace(bad, bad.replace('"2"', '"2x"')),
                                            encoding="utf-8")
    good = InternetArchiveServer(None, extra_xml_dirs=[folder])
    with InternetArchiveServer(None) as plain:
        code, log = crawl(plain, tmp_path / "plain", "court=cand", "pacer_case_id=364733",
                          settings=DOCKET_ONLY)
    assert code == 0, log[-3000:]
    with good:
        code, log = crawl(good, tmp_path, "court=cand", "pacer_case_id=364733",
                          settings=DOCKET_ONLY)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert ("Skipped a bad record, Internet Archive document 1 attachment '2x' of cand case "
            "364733") in log
    db, want = tmp_path / "dockets.db", tmp_path / "plain" / "dockets.db"
    for table in ("docket_entries", "parties", "attorneys"):
        assert count(db, f"select count(*) from {table}") == count(want, f"select count(*) from {table}")
    assert count(db, "select count(*) from documents") == \
        count(want, "select count(*) from documents") - 1
    assert count(db, "select bad_records from crawls") == 1
    assert count(db, "select status from crawls") == "finished"
    assert "1 bad record(s) skipped" in count(db, "select message from crawls")
