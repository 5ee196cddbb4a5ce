"""Killed crawls and their job folders: a resumed crawl ends with what a clean crawl makes.

The real `scrapy crawl` is killed with SIGKILL at several points (while it
lists entries, while PDFs download, while text is extracted), run again with
the same JOBDIR, and the archive compared with a clean crawl's: same rows,
same files and SHA-256s, same text, no duplicate.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import signal
import struct
import subprocess
import sys
import time

import pytest

from docket_spider import resume
from tests.conftest import PROJECT, SHARED, rows, run_crawl
from tests.servers.cases import synthetic_case
from tests.servers.courtlistener import CourtListenerServer

TOKEN = "test-token-resume"
N = 60


# --- the job folder check, on folders made here ---------------------------------

def _lifo(path, records, count=None):
    with open(path, "wb") as fh:
        fh.write(struct.pack(">L", len(records) if count is None else count))
        for record in records:
            data = pickle.dumps(record)
            fh.write(data + struct.pack(">L", len(data)))


def _job(tmp_path, state=None):
    job = tmp_path / "job"
    (job / "requests.queue" / "example.org").mkdir(parents=True)
    (job / "requests.queue" / "active.json").write_text("{}")
    (job / "requests.seen").write_text("")
    if state is not None:
        resume.write_state(str(job), state)
    return job


def test_a_cleanly_stopped_job_is_resumed(tmp_path):
    job = _job(tmp_path, {"state": "closed", "reason": "shutdown", "job_id": "j1"})
    _lifo(job / "requests.queue" / "example.org" / "p0", [{"url": "a"}, {"url": "b"}])
    assert resume.check_jobdir(str(job))[0] == "resume"


@pytest.mark.parametrize("damage", ["empty", "count", "cut"])
def test_a_queue_file_that_does_not_read_back_is_set_aside(tmp_path, damage):
    job = _job(tmp_path, {"state": "closed", "reason": "shutdown", "job_id": "j1"})
    path = job / "requests.queue" / "example.org" / "p0"
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "count":  # the header counts what a killed crawl never wrote
        _lifo(path, [{"url": "a"}], count=3)
    else:
        _lifo(path, [{"url": "a"}, {"url": "b"}])
        path.write_bytes(path.read_bytes()[:-7])
    action, reason, _ = resume.check_jobdir(str(job))
    assert action == "set_aside" and reason


def test_a_job_whose_crawl_was_killed_is_set_aside_and_a_live_one_refused(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    job = _job(tmp_path, {"state": "running", "pid": dead.pid, "job_id": "j1"})
    action, reason, state = resume.check_jobdir(str(job))
    assert action == "set_aside" and "killed" in reason and state["job_id"] == "j1"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        resume.write_state(str(job), {"state": "running", "pid": alive.pid, "job_id": "j1"})
        with pytest.raises(resume.JobDirInUse):
            resume.check_jobdir(str(job))
    finally:
        alive.kill()
        alive.wait()


def test_a_finished_job_starts_a_new_crawl(tmp_path):
    job = _job(tmp_path, {"state": "closed", "reason": "finished", "job_id": "j1"})
    assert resume.check_jobdir(str(job))[0] == "finished"


def test_a_folder_without_a_record_of_a_clean_stop_is_set_aside(tmp_path):
    job = _job(tmp_path)
    assert resume.check_jobdir(str(job))[0] == "set_aside"


# --- the real crawl, killed and resumed ---------------------------------------------

def _case():
    shared = SHARED if SHARED.exists() else None
    return synthetic_case(shared, n_entries=N,
                          pdfs=["recap_documents/ca4_17.pdf"] if shared else None)


def _settings(srv, tmp_path, db, rate):
    return {"ARCHIVE_DB": str(db), "FILES_STORE": str(tmp_path / "files"),
            "COURTLISTENER_API_URL": srv.api_url, "COURTLISTENER_STORAGE_URL": srv.storage_url,
            "COURTLISTENER_RATE_PER_MINUTE": str(rate), "EXTRACT_OCR": "False",
            "EXTRACT_WORKERS": "2", "AUTOTHROTTLE_ENABLED": "False",
            "JOBDIR": str(tmp_path / "job"), "LOG_LEVEL": "INFO"}


def _start(settings):
    cmd = [sys.executable, "-m", "scrapy", "crawl", "courtlistener", "-a", "court=cand",
           "-a", "pacer_case_id=900001"]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    env = {**os.environ, "COURTLISTENER_TOKEN": TOKEN}
    return subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _count(db, sql):
    try:
        return rows(db, sql)[0]["n"]
    except Exception:  # not created yet, or locked for a moment
        return -1


def _kill_when(proc, db, sql, more, how=signal.SIGKILL, timeout=120):
    """Send ``how`` once ``sql`` counts ``more`` rows than when ``proc`` started."""
    at_least = max(_count(db, sql), 0) + more
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if _count(db, sql) >= at_least:
            break
        time.sleep(0.05)
    sent = proc.poll() is None
    if sent:
        proc.send_signal(how)
    proc.wait(timeout=60)
    return sent


def _archive(db, files):
    """What a crawl made, without the columns that move (times, crawl ids)."""
    out = {}
    for table, cols in (("dockets", "id, case_name, pacer_case_id"),
                        ("docket_entries", "id, entry_number, date_filed, description"),
                        ("documents", "id, sha256, file_path, page_count, status, error, "
                                      "text, clean_text, extractor_version")):
        out[table] = rows(db, f"select {cols} from {table} order by id")
    out["files"] = sorted(
        (str(p.relative_to(files)), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in files.rglob("*") if p.is_file())
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The archive one uninterrupted crawl makes."""
    tmp_path = tmp_path_factory.mktemp("clean")
    with CourtListenerServer([_case()], token=TOKEN) as srv:
        db = tmp_path / "dockets.db"
        code, log = run_crawl("courtlistener", args=["court=cand", "pacer_case_id=900001"],
                              env={"COURTLISTENER_TOKEN": TOKEN}, db=db, files=tmp_path / "files",
                              settings=_settings(srv, tmp_path, db, 1200))
        assert code == 0, log[-3000:]
    return _archive(db, tmp_path / "files")


ENTRIES = "select count(*) n from docket_entries"
FILES = "select count(*) n from documents where file_path is not null"
TEXTS = "select count(*) n from documents where text is not null"


@pytest.mark.parametrize("rate,throttle,kills", [
    # at the default pace (AutoThrottle on; CourtListener's 5 calls a minute would take
    # minutes, so 60: the order of events is the same), killed while it lists entries
    (60, True, [(ENTRIES, 5, signal.SIGKILL)]),
    # at full speed, killed during PDF downloads, then again during extraction
    (1200, False, [(FILES, 3, signal.SIGKILL), (TEXTS, 10, signal.SIGKILL)]),
    # Ctrl-C, then kill -9 of the resumed run (which once broke every later run)
    (1200, False, [(ENTRIES, 5, signal.SIGINT), (FILES, 3, signal.SIGKILL)]),
])
def test_killed_and_resumed_crawl_equals_a_clean_crawl(tmp_path, clean, rate, throttle, kills):
    db = tmp_path / "dockets.db"
    with CourtListenerServer([_case()], token=TOKEN) as srv:
        settings = {**_settings(srv, tmp_path, db, rate), "AUTOTHROTTLE_ENABLED": str(throttle)}
        killed = False
        for sql, at_least, how in kills:
            killed |= _kill_when(_start(settings), db, sql, at_least, how) and how == signal.SIGKILL
        assert killed, "the crawl was killed at least once before it could finish"
        code, log = run_crawl("courtlistener", args=["court=cand", "pacer_case_id=900001"],
                              env={"COURTLISTENER_TOKEN": TOKEN}, db=db, files=tmp_path / "files",
                              settings={**settings, "COURTLISTENER_RATE_PER_MINUTE": "1200"})
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert "cannot be resumed" in log  # the killed crawl's folder was set aside, and said so
    assert list(tmp_path.glob("job.broken-*"))
    got = _archive(db, tmp_path / "files")
    for table in ("dockets", "docket_entries", "documents", "files"):
        assert got[table] == clean[table], table
    statuses = [r["status"] for r in rows(db, "select status from crawls order by id")]
    assert statuses[-1] == "finished"
    assert "running" not in statuses[:-1]  # the killed crawls are marked as such


def test_a_crawl_through_faults_equals_a_clean_crawl(tmp_path, clean):
    """Resets, stalls past the download timeout, 5xx, 429 with and without Retry-After,
    and damaged PDF bodies, at a steady rate: the crawl retries, records what it could
    not get, and its reruns end with the clean crawl's archive."""
    from tests.servers.faults import ALL, Chaos

    db = tmp_path / "dockets.db"
    with CourtListenerServer([_case()], token=TOKEN) as srv:
        chaos = Chaos(rate=0.15, kinds=ALL, seed=7, stall_seconds=2.5)
        srv.set_chaos(chaos)
        settings = {**_settings(srv, tmp_path, db, 1200), "DOWNLOAD_TIMEOUT": "1.5",
                    "RETRY_TIMES": "6", "RETRY_AFTER_DEFAULT": "1"}
        for _ in range(4):  # a damaged PDF is fetched again by the next run
            code, log = run_crawl("courtlistener", args=["court=cand", "pacer_case_id=900001"],
                                  env={"COURTLISTENER_TOKEN": TOKEN}, db=db,
                                  files=tmp_path / "files", settings=settings)
            assert "Traceback" not in log
            if code == 0 and not rows(db, "select 1 from documents where status = "
                                          "'download_failed'"):
                break
        srv.set_chaos(None)
    report = chaos.report()
    assert report["faults"] >= 10 and len(report["by_kind"]) >= 5, report
    assert code == 0, log[-3000:]
    got = _archive(db, tmp_path / "files")
    for table in ("dockets", "docket_entries", "documents", "files"):
        assert got[table] == clean[table], table
