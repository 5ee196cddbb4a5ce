"""The real `scrapy crawl internet_archive` against a local archive.org server.

The server redirects downloads (302) as archive.org does and serves RECAP
docket XML: a hand-written copy for the WeChat case, and the real XML files
in ../shared/corpus/pacer/internet_archive/ for other courts. Here: one real
crawl, and `make archive`'s; the spider's callback, bad records, the corpus
cases and a document stored once for both sources are tested in this process
by tests/test_inprocess_internet_archive.py.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import PROJECT, SHARED, assert_whole, run_crawl
from tests.servers.internet_archive import InternetArchiveServer


@pytest.fixture
def ia():
    with InternetArchiveServer(SHARED if SHARED.exists() else None) as srv:
        yield srv


def crawl(ia, tmp_path, *args, files=None, ocr=False, settings=None):
    return run_crawl("internet_archive", args=args, db=tmp_path / "dockets.db",
                     files=files or tmp_path / "files",
                     settings={**ia.settings(), "EXTRACT_OCR": str(ocr), **(settings or {})})


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
    assert_whole(db)
    assert count(db, "select count(*) from documents where sha256 is not null") > 0
    assert count(db, "select count(*) from documents where is_available = 0 and file_path is null") > 0
    # archive.org's redirects were followed for the PDFs
    assert any(r["status"] == 302 for r in ia.log.snapshot())
    # the Ninth Circuit docket is not on the Internet Archive, and the log says so
    assert "no RECAP copy for ca9 20-16908" in log
    assert_whole(db)  # the .db alone, copied after the crawl, is the whole archive


def test_make_archive_without_a_token_uses_the_internet_archive(ia, tmp_path):
    """Run from another folder, with relative paths: they are that folder's."""
    db = tmp_path / "rel.db"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(PROJECT)}
    proc = subprocess.run(
        [sys.executable, "-m", "archive", "crawl-default", "--db", "rel.db", "--files", "files",
         "-s", f"INTERNET_ARCHIVE_URL={ia.url}",
         "-s", "EXTRACT_OCR=False"],  # OCR is checked by test_pdf and the CourtListener crawl
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "COURTLISTENER_TOKEN is not set" in out
    assert "courtlistener.com/profile/api" in out
    assert "docket_entries" in out and "Traceback" not in out
    assert count(db, "select count(*) from docket_entries") > 5
    assert f"ARCHIVE_DB={db}" in out  # the command to run again by hand names it whole
    assert not (PROJECT / "rel.db").exists()
    stored = count(db, "select count(*) from documents where file_path is not null")
    assert stored and len([p for p in (tmp_path / "files").rglob("*.pdf")]) == stored

