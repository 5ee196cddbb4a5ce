"""The real `scrapy crawl courtlistener` against a local CourtListener v4 server.

The server speaks the API (token, cursor pagination, 400 on unknown filters,
429 with Retry-After now and then) and serves real PDFs from ../shared.
"""
from __future__ import annotations

import os

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


def test_crawl_both_courts_then_recrawl(server, tmp_path):
    db = tmp_path / "dockets.db"
    code, log = crawl(server, tmp_path, "court=cand", "docket_number=3:20-cv-05910-LB",
                      settings={"EXTRACT_OCR": "True"})  # the real filings, scans included
    assert code == 0, log[-3000:]
    code, log2 = crawl(server, tmp_path, "court=ca9", "docket_number=20-16908")
    assert code == 0, log2[-3000:]
    assert "Traceback" not in log + log2
    # the rate limit was hit and waited out, nothing lost
    assert server.log.tally(kind="api", status=429) >= 1
    assert "Rate limited" in log

    dockets = rows(db, "select * from dockets order by id")
    assert [d["id"] for d in dockets] == ["ca9/20-16908", "cand/3:20-cv-05910"]
    cand = dockets[1]
    assert cand["pacer_case_id"] == "364733" and cand["case_name"].startswith("U.S. WeChat")

    # every entry and RECAP document the server has is in the archive
    entries = rows(db, "select * from docket_entries")
    assert len(entries) == sum(len(c.entries) for c in server.cases)
    docs = rows(db, "select * from documents")
    served_docs = [d for c in server.cases for d in c.documents()]
    assert len(docs) == len(served_docs)
    assert {d["pacer_doc_id"] for d in docs} == {d["pacer_doc_id"] or None for d in served_docs}

    available = [d for d in docs if d["is_available"]]
    missing = [d for d in docs if not d["is_available"]]
    assert available and missing
    for doc in missing:  # recorded with description and numbers, no file
        assert doc["file_path"] is None and doc["status"] == "no_file"
        assert doc["document_number"] or "#seq-" in doc["entry_id"]  # unnumbered entry
    # the server's zero-byte PDF is a recorded failure, not a lost crawl
    failed = [d for d in available if d["status"] == "download_failed"]
    assert all("empty file" in d["error"] for d in failed)
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
    assert rows(db, "select count(*) n from parties")[0]["n"] >= 3
    assert rows(db, "select count(*) n from attorneys")[0]["n"] >= 1
    assert rows(db, "select count(*) n from party_attorneys")[0]["n"] >= 1

    crawls = rows(db, "select * from crawls order by id")
    assert [c["status"] for c in crawls] == ["finished", "finished"]
    assert crawls[0]["rows_added"] > 0 and crawls[0]["pdfs_downloaded"] > 0

    # the token is nowhere: not in the log, the database or the files
    assert TOKEN not in log + log2
    assert TOKEN.encode() not in db.read_bytes()

    # --- re-crawl: no PDF downloaded again, no row added
    before = {t: rows(db, f"select count(*) n from {t}")[0]["n"]
              for t in ("dockets", "docket_entries", "documents", "parties", "attorneys")}
    storage_before = server.log.tally(kind="storage")
    code, log3 = crawl(server, tmp_path, "court=cand", "docket_number=3:20-cv-05910-LB")
    assert code == 0
    # only the file that failed last time is asked for again
    assert server.log.tally(kind="storage") == storage_before + len(
        [d for d in failed if d["docket_id"] == "cand/3:20-cv-05910"])
    after = {t: rows(db, f"select count(*) n from {t}")[0]["n"] for t in before}
    assert after == before
    last = rows(db, "select * from crawls order by id desc limit 1")[0]
    assert last["rows_added"] == 0 and last["rows_changed"] == 0
    assert last["pdfs_downloaded"] == 0 and last["documents_extracted"] == 0
    assert last["pdfs_already_stored"] == len([d for d in available
                                               if d["docket_id"] == "cand/3:20-cv-05910"])


def test_pacer_case_id_finds_the_docket(server, tmp_path):
    code, log = crawl(server, tmp_path, "court=cand", "pacer_case_id=364733")
    assert code == 0
    assert rows(tmp_path / "dockets.db", "select id from dockets") == [{"id": "cand/3:20-cv-05910"}]


def test_an_unknown_case_is_reported(server, tmp_path):
    code, log = crawl(server, tmp_path, "court=cand", "docket_number=3:99-cv-99999")
    assert "has no docket 3:99-cv-99999" in log
    assert "Traceback" not in log


def test_server_errors_are_retried(server, tmp_path):
    server.fail_next("docket-entries", status=500, times=2)
    code, log = crawl(server, tmp_path, "court=ca9", "docket_number=20-16908")
    assert code == 0
    assert rows(tmp_path / "dockets.db", "select count(*) n from docket_entries")[0]["n"] > 0


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


def test_a_page_that_is_not_api_json_is_a_clear_error(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Maintenance(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html><body><h1>Down for maintenance</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Maintenance)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/api/rest/v4/"
        code, log = run_crawl("courtlistener", args=["court=cand", "docket_number=3:20-cv-05910"],
                              env={"COURTLISTENER_TOKEN": TOKEN}, db=tmp_path / "d.db",
                              files=tmp_path / "f", settings={"COURTLISTENER_API_URL": url})
    finally:
        httpd.shutdown()
    assert "is not API JSON" in log and "Down for maintenance" in log
    assert "Traceback" not in log
    assert rows(tmp_path / "d.db", "select status from crawls")[0]["status"] == "failed"


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


def test_a_record_of_an_unexpected_shape_costs_only_that_record(server, tmp_path):
    """An attorneys page whose first attorney's ``parties_represented`` holds URLs
    (strings) instead of objects, an entries page with an entry number that is no
    number, a parties page with a bare number among its objects: each costs that
    record; every other record of those pages lands. A warning names the record
    and what was wrong (never the token), ``crawls.bad_records`` counts them, and
    the crawl finished (exit 0): the source holds them that way."""
    case = next(c for c in server.cases if c.docket["court_id"] == "cand")
    bad_attorney = case.attorneys[0]

    def attorneys(results):
        return [dict(a, parties_represented=[p["party"] for p in a["parties_represented"]])
                if a["id"] == bad_attorney["id"] else a for a in results]

    def entries(results):
        if results and results[0]["id"] == case.entries[0]["id"]:
            results = [dict(results[1], entry_number="2a"), *results[:1], *results[2:]]
        return results

    server.tamper = {"attorneys": attorneys, "docket-entries": entries,
                     "parties": lambda results: [*results, 30155999]}
    db = tmp_path / "dockets.db"
    code, log = crawl(server, tmp_path, "court=cand", "docket_number=3:20-cv-05910",
                      settings={"ITEM_PIPELINES": '{"docket_spider.pipelines.ArchivePipeline": 300}'})
    assert code == 0, log[-3000:]
    assert "Traceback" not in log and TOKEN not in log
    assert f"Skipped a bad record, CourtListener attorney {bad_attorney['id']} " \
           f"({bad_attorney['name']})" in log
    assert "its parties_represented holds str" in log
    assert "docket entry" in log and "its entry_number is '2a', not a number" in log
    assert "CourtListener party #" in log and "int '30155999', not an object" in log
    # every good record landed
    names = {r["name"] for r in rows(db, "select name from attorneys")}
    assert names == {a["name"] for a in case.attorneys if a is not bad_attorney}
    assert rows(db, "select count(*) n from parties")[0]["n"] == len(case.parties)
    assert rows(db, "select count(*) n from docket_entries")[0]["n"] == len(case.entries) - 1
    assert rows(db, "select count(*) n from party_attorneys")[0]["n"] >= 1
    crawl_row = rows(db, "select * from crawls")[0]
    assert crawl_row["status"] == "finished"
    assert crawl_row["bad_records"] == 3
    assert "3 bad record(s) skipped" in crawl_row["message"]
