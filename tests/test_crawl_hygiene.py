"""What a crawl leaves behind and who can reach into it (issue 18, "Litter and an open door").

- A crawl writes only in the project's folders and the ones it is given
  (archive, FILES_STORE, its logs): nothing in the user's home or the
  temporary folder, and Scrapy's RemoteControl (a bearer token in
  ~/.local/state/scrapy/job_files/, /execute on 127.0.0.1) is off.
- Its case locks are in a folder beside the archive that git ignores.
- What dead crawls left in FILES_STORE (a half-written ``.part``) is gone
  once it has started.
- Arguments too long for a URL are refused before anything starts (exit 1).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from archive.access import CaseLock
from tests.conftest import PROJECT, SHARED, rows, run_crawl
from tests.servers.cases import synthetic_case
from tests.servers.courtlistener import CourtListenerServer

TOKEN = "test-token-hygiene"


def _everything(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_crawl_writes_nothing_outside_its_folders_and_removes_what_dead_crawls_left(tmp_path):
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    files = tmp_path / "files"
    case = synthetic_case(SHARED if SHARED.exists() else None, n_entries=4,
                          pdfs=["recap_documents/ca4_17.pdf"] if SHARED.exists() else None)
    folder = files / "cand" / "gov.uscourts.cand.900001"
    folder.mkdir(parents=True)
    dead = folder / ".gov.uscourts.cand.900001.2.0.pdf.k1ll3d.part"
    dead.write_bytes(b"%PDF-1.4 half of it")  # a crawl killed a moment ago, mid-write
    env = {"COURTLISTENER_TOKEN": TOKEN, "HOME": str(home), "TMPDIR": str(tmp)}
    for name in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env[name] = ""  # platformdirs falls back to HOME
    db = tmp_path / "archive" / "dockets.db"
    db.parent.mkdir()
    with CourtListenerServer([case], token=TOKEN) as srv:
        code, log = run_crawl("courtlistener", args=["court=cand", "pacer_case_id=900001"],
                              env=env, db=db, files=files,
                              settings={**srv.settings(), "COURTLISTENER_RATE_PER_MINUTE": "1200"})
    assert code == 0, log[-3000:]
    assert "Remote control" not in log
    assert _everything(home) == [] and _everything(tmp) == []
    assert not dead.exists()
    assert "Removed 1 temporary file(s) that killed crawls left" in log
    assert not [p for p in files.rglob("*") if p.name.endswith(".part")]
    assert len(rows(db, "select 1 from documents where file_path is not null")) == 4
    # beside the archive: the archive, its locks' folder and, when a PDF was extracted
    # here (not answered from the tests' extraction cache), its extraction workers'
    # temporary folder (empty once they stopped), which git ignores
    locks = CaseLock.folder(str(db))
    beside = sorted(os.listdir(db.parent))
    assert [n for n in beside if n != ".extract-tmp"] == [os.path.basename(locks), "dockets.db"]
    assert (tmp_path / "archive" / os.path.basename(locks) / ".gitignore").read_text().endswith("*\n")
    if ".extract-tmp" in beside:
        assert os.listdir(db.parent / ".extract-tmp") == [".gitignore"]
        assert (db.parent / ".extract-tmp" / ".gitignore").read_text().endswith("*\n")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_status_does_not_show_the_case_locks(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    lock = CaseLock(str(tmp_path / "dockets.db"), "courtlistener",
                    {"court": "cand", "docket_number": "3:20-cv-05910"})
    assert lock.try_acquire()
    try:
        assert os.path.dirname(lock.path) == CaseLock.folder(str(tmp_path / "dockets.db"))
        assert os.path.exists(lock.path)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                                cwd=tmp_path, capture_output=True, text=True, check=True).stdout
        assert status == ""
        # a second crawl of the case waits for the first
        other = CaseLock(str(tmp_path / "dockets.db"), "courtlistener",
                         {"court": "cand", "docket_number": "3:20-cv-05910"})
        assert not other.try_acquire()
    finally:
        lock.release()


def test_an_argument_too_long_for_a_url_is_refused_at_the_start(tmp_path):
    db = tmp_path / "dockets.db"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "courtlistener", "-a", "court=cand",
         "-a", f"docket_number={'7' * 10_000}", "-s", f"ARCHIVE_DB={db}",
         "-s", f"FILES_STORE={tmp_path / 'files'}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COURTLISTENER_TOKEN": TOKEN})
    assert proc.returncode == 1
    assert "Error: -a docket_number= is 10,000 characters long: too long for a URL" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not db.exists()  # refused before anything started


def test_what_arguments_are_refused():
    from docket_spider.arguments import problem

    for arg in ("court", "docket_number", "pacer_case_id", "acms_case_id", "max_cost"):
        assert "too long for a URL" in problem({arg: "7" * 10_000}), arg
    assert "not a court id" in problem({"court": "evil.example/x"})
    assert problem({"court": "cand", "docket_number": "1:13-cr-00123-1-ABC-DEF",
                    "pacer_case_id": "364733", "max_cost": "5.00", "documents": "1"}) is None
    assert problem({"court": "ca9", "acms_case_id": "c8d83e85-5b6e-ec11-b820-00155d36fcd4"}) is None


def test_a_request_dropped_for_its_url_length_makes_the_crawl_incomplete():
    from scrapy.utils.test import get_crawler

    from docket_spider.outcome import CrawlOutcome

    crawler = get_crawler(settings_dict={})
    crawler.stats.open_spider()
    outcome = CrawlOutcome(crawler)
    from docket_spider.spiders.base import BaseSpider

    spider = BaseSpider(name="test")
    crawler.stats.inc_value("urllength/request_ignored_count")
    outcome.spider_closed(spider, "finished")
    assert crawler.stats.get_value("docket_archive/outcome") == "incomplete"
    assert spider.crawl_failed
