"""The real `scrapy crawl courtlistener` against a local CourtListener v4 server.

The server speaks the API (token, cursor pagination, 400 on unknown filters,
429 with Retry-After now and then) and serves real PDFs from ../shared.
What needs the real process is here: the token in logs, the HTTP cache and
JOBDIR, kills, the paced download slot, OCR. The spider's callbacks and the
pipelines are tested in this process by tests/test_inprocess_courtlistener.py.
"""
from __future__ import annotations

import pytest

from tests.conftest import SHARED, rows, run_crawl
from tests.servers.cases import wechat_cases
from tests.servers.courtlistener import CourtListenerServer

TOKEN = "test-token-5f2c9a"


@pytest.fixture
def server():
    with CourtListenerServer(wechat_cases(SHARED if SHARED.exists() else None), token=TOKEN,
                             throttle_every=4, retry_after=1) as srv:
        yield srv


def crawl(server, tmp_path, *args, token=TOKEN, settings=None, files=None):
    return run_crawl(
        "courtlistener", args=args, env={"COURTLISTENER_TOKEN": token} if token else {},
        db=tmp_path / "dockets.db", files=files or (tmp_path / "files"),
        settings={"COURTLISTENER_API_URL": server.api_url,
                  "COURTLISTENER_STORAGE_URL": server.storage_url,
                  "COURTLISTENER_RATE_PER_MINUTE": "1200", **(settings or {})})


def test_without_a_token_it_stops_at_once_with_help(server, tmp_path):
    code, log = crawl(server, tmp_path, "court=cand", "docket_number=3:20-cv-05910-LB", token=None)
    assert "COURTLISTENER_TOKEN is not set" in log
    assert "courtlistener.com/profile/api" in log
    assert "Traceback" not in log
    assert server.log.tally(kind="api") == 0
    crawl_row = rows(tmp_path / "dockets.db", "select * from crawls")[0]
    assert crawl_row["status"] == "failed"


def test_a_wrong_token_is_a_clear_error(server, tmp_path):
    code, log = crawl(server, tmp_path, "court=cand", "docket_number=3:20-cv-05910", token="nope")
    assert "CourtListener refused the token" in log
    assert "Traceback" not in log
    assert "nope" not in log


def test_crawl_a_case_end_to_end(server, tmp_path):
    """One real crawl of the N.D. Cal. case: the API paced and rate limited, the
    real filings stored and their text extracted (OCR included), full-text
    search, and the token nowhere. Callbacks, both courts' rows, pagination,
    bad records and the re-crawl (nothing added, nothing fetched again, nothing
    extracted again) are tests/test_inprocess_courtlistener.py's."""
    db = tmp_path / "dockets.db"
    code, log = crawl(server, tmp_path, "court=cand", "docket_number=3:20-cv-05910-LB",
                      settings={"EXTRACT_OCR": "True"})  # the real filings, scans included
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    # the rate limit was hit and waited out (the download slot held back), nothing lost
    assert server.log.tally(kind="api", status=429) >= 1
    assert "Rate limited" in log

    case = next(c for c in server.cases if c.docket["court_id"] == "cand")
    dockets = rows(db, "select * from dockets order by id")
    assert [d["id"] for d in dockets] == ["cand/3:20-cv-05910"]
    assert dockets[0]["pacer_case_id"] == "364733"
    assert dockets[0]["case_name"].startswith("U.S. WeChat")

    # every entry and RECAP document the server has is in the archive
    assert rows(db, "select count(*) n from docket_entries")[0]["n"] == len(case.entries)
    docs = rows(db, "select * from documents")
    served_docs = list(case.documents())
    assert len(docs) == len(served_docs)
    assert {d["pacer_doc_id"] for d in docs} == {d["pacer_doc_id"] or None for d in served_docs}

    available = [d for d in docs if d["is_available"]]
    missing = [d for d in docs if not d["is_available"]]
    assert available and missing
    assert all(d["file_path"] is None and d["status"] == "no_file" for d in missing)
    # the server's zero-byte PDF is a recorded failure, not a lost crawl
    failed = [d for d in available if d["status"] == "download_failed"]
    assert failed and all("empty file" in d["error"] for d in failed)
    available = [d for d in available if d not in failed]
    for doc in available:
        assert doc["sha256"] and len(doc["sha256"]) == 64
        assert (tmp_path / "files" / doc["file_path"]).exists()
        assert doc["status"], doc
    ok = [d for d in available if d["status"] in ("ok", "ocr")]
    assert ok and all(d["page_count"] for d in ok)
    if SHARED.exists():  # the real filings; without ../shared the PDFs are tiny stand-ins
        assert any(len(d["text"] or "") > 1000 for d in ok)
    assert all(d["text"] for d in ok)
    # PDFs were not fetched through the paced API slot
    assert server.log.tally(kind="storage") == len(available) + len(failed)

    # full-text search over documents and entries
    import re
    word = re.search(r"[A-Za-z]{5,}", ok[0]["clean_text"]).group(0)
    hits = rows(db, "select documents.id from documents_fts join documents "
                    "on documents.rowid = documents_fts.rowid where documents_fts match ?", [word])
    assert ok[0]["id"] in {h["id"] for h in hits}
    assert rows(db, "select rowid from docket_entries_fts where docket_entries_fts "
                    "match 'injunction'")
    assert rows(db, "select count(*) n from party_attorneys")[0]["n"] >= 1

    [crawl_row] = rows(db, "select * from crawls")
    assert crawl_row["status"] == "finished"
    assert crawl_row["rows_added"] > 0 and crawl_row["pdfs_downloaded"] == len(available)
    assert crawl_row["documents_extracted"] == len(available)

    # the token is nowhere: not in the log, the database or the files
    assert TOKEN not in log
    assert TOKEN.encode() not in db.read_bytes()


def test_the_http_cache_never_holds_the_token(server, tmp_path):
    cache = tmp_path / "cache"
    code, log = crawl(server, tmp_path, "court=ca9", "docket_number=20-16908",
                      settings={"HTTPCACHE_ENABLED": "True", "HTTPCACHE_DIR": str(cache)})
    assert code == 0
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert any(p.name == "request_headers" for p in files)
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), path


def test_a_killed_crawl_loses_nothing_and_the_next_run_completes(tmp_path):
    """Ctrl-C in the middle of a paced crawl: rows so far are kept, a re-run finishes."""
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import PROJECT
    from tests.servers.cases import synthetic_case

    case = synthetic_case(SHARED if SHARED.exists() else None, n_entries=120,
                          pdfs=["recap_documents/ca4_17.pdf"] if SHARED.exists() else None)
    db = tmp_path / "dockets.db"
    with CourtListenerServer([case], token=TOKEN) as srv:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "courtlistener", "-a", "court=cand",
               "-a", "pacer_case_id=900001", "-s", f"ARCHIVE_DB={db}",
               "-s", f"FILES_STORE={tmp_path / 'files'}", "-s", f"COURTLISTENER_API_URL={srv.api_url}",
               "-s", f"COURTLISTENER_STORAGE_URL={srv.storage_url}",
               "-s", "COURTLISTENER_RATE_PER_MINUTE=40", "-s", f"JOBDIR={tmp_path / 'job'}",
               "-s", "EXTRACT_OCR=False"]  # the one-page filing is a scan; OCR is tested elsewhere
        env = {**__import__("os").environ, "COURTLISTENER_TOKEN": TOKEN}
        proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            time.sleep(0.5)
            try:
                if rows(db, "select count(*) n from docket_entries")[0]["n"] >= 20:
                    break
            except Exception:
                pass
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
        assert "Traceback" not in out
        partial = rows(db, "select count(*) n from docket_entries")[0]["n"]
        assert 20 <= partial < 120
        # the paused crawl's queue on disk holds no token
        job_files = [p for p in (tmp_path / "job").rglob("*") if p.is_file()]
        assert job_files
        for path in job_files:
            assert TOKEN.encode() not in path.read_bytes(), path
        assert rows(db, "select status from crawls")[0]["status"] == "shutdown"
        code, log = crawl(srv, tmp_path, "court=cand", "pacer_case_id=900001",
                          settings={"JOBDIR": str(tmp_path / "job"), "EXTRACT_OCR": "False"})
        assert code == 0 and "Traceback" not in log
    assert rows(db, "select count(*) n from docket_entries")[0]["n"] == 120
    assert rows(db, "select count(*) n from documents")[0]["n"] == 120
    assert rows(db, "select count(*) n from documents where sha256 is null")[0]["n"] == 0


def test_a_killed_crawl_leaves_no_extraction_workers(tmp_path):
    """kill -9 of the crawl: its extraction processes notice and exit too."""
    import signal
    import subprocess
    import sys
    import time

    import psutil

    from tests.conftest import PROJECT
    from tests.servers.cases import synthetic_case

    case = synthetic_case(SHARED if SHARED.exists() else None, n_entries=60)
    with CourtListenerServer([case], token=TOKEN) as srv:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "courtlistener", "-a", "court=cand",
               "-a", "pacer_case_id=900001", "-s", f"ARCHIVE_DB={tmp_path / 'dockets.db'}",
               "-s", f"FILES_STORE={tmp_path / 'files'}", "-s", f"COURTLISTENER_API_URL={srv.api_url}",
               "-s", f"COURTLISTENER_STORAGE_URL={srv.storage_url}",
               "-s", "COURTLISTENER_RATE_PER_MINUTE=1200", "-s", "EXTRACT_WORKERS=2"]
        env = {**__import__("os").environ, "COURTLISTENER_TOKEN": TOKEN}
        proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        parent = psutil.Process(proc.pid)
        workers = []
        deadline = time.time() + 120
        while time.time() < deadline and not workers:
            time.sleep(0.2)
            workers = [p for p in parent.children(recursive=True)
                       if "spawn_main" in " ".join(p.cmdline())]
        assert workers, "the crawl started extraction workers"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        gone, alive = psutil.wait_procs(workers, timeout=15)
        for p in alive:
            p.kill()
        assert not alive, "extraction workers outlived the killed crawl"

