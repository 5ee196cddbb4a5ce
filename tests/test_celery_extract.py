"""Text extraction on Celery workers (archive/extract/queue.py), for real:
Debian's redis-server on loopback, `python -m archive worker` processes, and
the real `scrapy crawl` with EXTRACT_BROKER_URL.

- Two workers and a crawl make the archive a single-process crawl makes
  (rows, SHA-256s, text).
- A worker killed with SIGKILL mid-document: the other worker does that
  document within seconds (the dead worker's lease runs out), and the
  archive has it once. Workers started before the first crawl wait for the
  files store it makes.
- A document a live worker holds for longer than the lease is not handed out
  twice (the worker renews it).
- `archive extract --broker` re-extracts the whole store on the workers.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import PROJECT, SHARED, free_port, rows, run_crawl
from tests.servers.cases import synthetic_case
from tests.servers.courtlistener import CourtListenerServer

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="Debian's redis-server is not installed (.ci/run installs it)")

TOKEN = "test-token-celery"
N = 9
VISIBILITY = 8  # seconds after its worker's last renewal before a document goes to another
# worker (the default is 30; live workers renew theirs, so a long document is not handed on)


@pytest.fixture(scope="module")
def shared():
    if not SHARED.exists():
        pytest.skip(f"{SHARED} (the corpus PDFs) is not beside the checkout")
    return SHARED


class Workers:
    def __init__(self, url, files, tmp_path):
        self.url, self.files, self.tmp_path = url, files, tmp_path
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name, concurrency=1, visibility=VISIBILITY):
        log = open(self.tmp_path / f"{name}.log", "w")
        env = {**os.environ, "EXTRACT_VISIBILITY_TIMEOUT": str(visibility)}
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "archive", "worker", "--broker", self.url, "--files",
             str(self.files), "--concurrency", str(concurrency), "--name", f"{name}@test",
             "-s", "EXTRACT_OCR=False"],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start_celery(self, name):
        """The same worker started by Celery's own command, configured by the environment."""
        log = open(self.tmp_path / f"{name}.log", "w")
        env = {**os.environ, "EXTRACT_VISIBILITY_TIMEOUT": str(VISIBILITY),
               "EXTRACT_BROKER_URL": self.url, "EXTRACT_FILES_STORE": str(self.files)}
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "archive.extract.queue", "worker",
             "--concurrency", "1", "-n", f"{name}@test", "--loglevel", "INFO"],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, name) -> str:
        return (self.tmp_path / f"{name}.log").read_text()

    def wait_ready(self, timeout=60):
        from archive.extract.queue import QueueClient

        client = QueueClient(self.url)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(client.workers(timeout=0.5)) >= len(self.procs):
                return
            time.sleep(0.2)
        raise AssertionError("the workers did not start: " + " | ".join(
            self.log(n)[-800:] for n in self.procs))

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def workers(redis_url, tmp_path):
    files = tmp_path / "files"  # made by the first crawl
    group = Workers(redis_url, files, tmp_path)
    yield group
    group.stop()


def _case(shared):
    # text-layer PDFs (no OCR: seconds a page); the 17-page brief keeps a worker busy
    return synthetic_case(shared, n_entries=N, pdfs=["recap_documents/ca1_00117684624.pdf",
                                                     "recap_documents/ca4_17.pdf",
                                                     "recap_documents/ca6_1-3.pdf"])


def _crawl(srv, db, files, broker=None, timeout=400):
    settings = {"COURTLISTENER_API_URL": srv.api_url, "COURTLISTENER_STORAGE_URL": srv.storage_url,
                "COURTLISTENER_RATE_PER_MINUTE": "1200"}
    env = {"COURTLISTENER_TOKEN": TOKEN}
    if broker:
        env["EXTRACT_BROKER_URL"] = broker
    return run_crawl("courtlistener", args=["court=cand", "pacer_case_id=900001"], env=env,
                     db=db, files=files, settings=settings, timeout=timeout)


def _archive(db):
    return {table: rows(db, f"select {cols} from {table} order by id") for table, cols in (
        ("dockets", "id, case_name"),
        ("docket_entries", "id, entry_number, date_filed, description"),
        ("documents", "id, sha256, file_path, page_count, status, error, text, clean_text, "
                      "extractor_version"))}


def test_two_workers_make_the_archive_one_process_makes(shared, workers, tmp_path):
    case = _case(shared)
    with CourtListenerServer([case], token=TOKEN) as srv:
        local_db = tmp_path / "local.db"
        code, log = _crawl(srv, local_db, tmp_path / "local-files")
        assert code == 0, log[-3000:]
        workers.start("w1")
        workers.start("w2")
        workers.wait_ready()
        db = tmp_path / "dockets.db"
        code, log = _crawl(srv, db, workers.files, broker=workers.url)
    assert code == 0, log[-3000:]
    assert "Text extraction on 2 Celery worker(s)" in log
    assert "Traceback" not in log
    here, there = _archive(local_db), _archive(db)
    assert len(there["documents"]) == N and all(d["text"] for d in there["documents"])
    assert here == there
    # both workers took documents, and each document was extracted once
    done = {name: workers.log(name).count("extracted ") for name in ("w1", "w2")}
    assert all(done.values()), done
    assert sum(done.values()) == N
    # the broker's password would never show: the log names the host only
    crawl = rows(db, "select * from crawls")[0]
    assert crawl["documents_extracted"] == N and crawl["status"] == "finished"


def test_a_worker_killed_mid_document_costs_seconds(shared, workers, tmp_path):
    case = _case(shared)
    assert not workers.files.exists()  # the workers start before the first crawl
    workers.start("w1")
    workers.start("w2")
    workers.wait_ready()
    assert "does not exist yet" in workers.log("w1")
    with CourtListenerServer([case], token=TOKEN) as srv:
        db = tmp_path / "dockets.db"
        import threading

        result = {}
        thread = threading.Thread(target=lambda: result.update(
            zip(("code", "log"), _crawl(srv, db, workers.files, broker=workers.url))))
        thread.start()
        # kill w1 as soon as it has started a document it has not finished
        victim, started = "w1", None
        deadline = time.time() + 120
        while time.time() < deadline:
            text = workers.log(victim)
            begun = [line.split("extracting ", 1)[1].split(" ")[0]
                     for line in text.splitlines() if "extracting " in line]
            finished = {line.split("extracted ", 1)[1].split(":")[0]
                        for line in text.splitlines() if "extracted " in line}
            open_ones = [p for p in begun if p not in finished]
            if open_ones:
                started = open_ones[0]
                os.killpg(workers.procs[victim].pid, signal.SIGKILL)
                killed = time.monotonic()
                break
            time.sleep(0.02)
        assert started, "w1 never started a document"
        # w2 takes it once w1's lease has run out: seconds, not the hour of a visibility timeout
        while f"extracting {started} " not in workers.log("w2") and thread.is_alive():
            time.sleep(0.1)
        waited = time.monotonic() - killed
        thread.join(timeout=400)
    assert result.get("code") == 0, result.get("log", "")[-3000:]
    docs = rows(db, "select file_path, status, text from documents order by id")
    assert len(docs) == N and all(d["text"] and d["status"] == "ok" for d in docs)
    assert [d["file_path"] for d in docs].count(started) == 1
    # the document w1 was killed on was extracted by w2, once, soon after
    assert f"extracted {started}:" in workers.log("w2")
    assert f"extracted {started}:" not in workers.log("w1")
    assert "handed on: the worker that had it stopped" in workers.log("w2")
    assert waited < VISIBILITY + 30, waited
    extracted = [line.split("extracted ", 1)[1].split(":")[0] for name in ("w1", "w2")
                 for line in workers.log(name).splitlines() if "extracted " in line]
    assert sorted(extracted) == sorted(set(extracted)) and len(extracted) == N


def test_a_document_held_longer_than_the_lease_is_not_handed_out_twice(workers, tmp_path):
    """A worker reading a document for several leases renews its lease: the idle
    second worker never gets it. (The file is a pipe the test writes to late.)"""
    import hashlib

    from archive.extract.queue import QueueClient
    from tests.servers.cases import make_pdf

    workers.files.mkdir()
    pdf = make_pdf(["Order on a motion that takes a while"])
    os.mkfifo(workers.files / "slow.pdf")
    workers.start("w1", visibility=3)
    workers.start("w2", visibility=3)
    workers.wait_ready()
    client = QueueClient(workers.url)
    task = client.send("slow.pdf", hashlib.sha256(pdf).hexdigest(), False)
    deadline = time.time() + 30
    while "extracting slow.pdf" not in workers.log("w1") + workers.log("w2"):
        assert time.time() < deadline, workers.log("w1") + workers.log("w2")
        time.sleep(0.1)
    time.sleep(12)  # four leases
    with open(workers.files / "slow.pdf", "wb") as fh:  # the worker's read ends
        fh.write(pdf)
    answer = dict(client.as_done({"slow": task}))["slow"]
    assert answer["status"] == "ok" and "takes a while" in answer["text"]
    logs = workers.log("w1") + workers.log("w2")
    assert logs.count("extracting slow.pdf") == 1, logs
    # the same task delivered again (a second crawl's copy, a lease run out while
    # its worker finished): answered from the stored result, not read or extracted
    from archive.extract.queue import QUEUE, TASK

    client.app.send_task(TASK, args=["slow.pdf", hashlib.sha256(pdf).hexdigest(), False],
                         task_id=task.id, queue=QUEUE)
    deadline = time.time() + 30
    while "already extracted slow.pdf" not in workers.log("w1") + workers.log("w2"):
        assert time.time() < deadline, workers.log("w1") + workers.log("w2")
        time.sleep(0.1)
    assert (workers.log("w1") + workers.log("w2")).count("extracting slow.pdf") == 1


def test_archive_extract_fans_out_to_the_workers(shared, workers, tmp_path):
    case = _case(shared)
    with CourtListenerServer([case], token=TOKEN) as srv:
        db = tmp_path / "dockets.db"
        code, log = _crawl(srv, db, workers.files)
        assert code == 0, log[-3000:]
    before = {d["id"]: d["text"] for d in rows(db, "select id, text from documents")}
    workers.start("w1", concurrency=2)
    workers.wait_ready()
    proc = subprocess.run([sys.executable, "-m", "archive", "extract", "--db", str(db),
                           "--files", str(workers.files), "--force", "--no-ocr",
                           "--broker", workers.url],
                          cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{N} documents to 1 worker(s)" in proc.stderr
    assert f"{N} documents extracted (0 errors" in proc.stdout
    assert workers.log("w1").count("extracted ") == N
    after = {d["id"]: d["text"] for d in rows(db, "select id, text from documents")}
    assert after == before
    crawls = rows(db, "select spider, status, documents_extracted from crawls order by id")
    assert crawls[-1] == {"spider": "extract", "status": "finished", "documents_extracted": N}


def test_celery_finds_the_app_its_worker_extracts_and_inspect_sees_it(workers, tmp_path):
    """`celery -A archive.extract.queue worker`, `inspect`: the module's app, on
    EXTRACT_BROKER_URL, with the files store of EXTRACT_FILES_STORE."""
    import hashlib

    from archive.extract.queue import QueueClient
    from tests.servers.cases import make_pdf

    workers.files.mkdir()
    pdf = make_pdf(["Order granting the motion, read by a worker Celery started"])
    (workers.files / "order.pdf").write_bytes(pdf)
    workers.start_celery("c1")
    workers.wait_ready()
    env = {**os.environ, "EXTRACT_BROKER_URL": workers.url}
    inspect = subprocess.run([sys.executable, "-m", "celery", "-A", "archive.extract.queue",
                              "inspect", "ping", "--timeout", "5"],
                             cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    assert inspect.returncode == 0 and "c1@test" in inspect.stdout, inspect.stdout + inspect.stderr
    client = QueueClient(workers.url)
    task = client.send("order.pdf", hashlib.sha256(pdf).hexdigest(), False)
    answer = dict(client.as_done({"order": task}))["order"]
    assert answer["status"] == "ok" and "read by a worker Celery started" in answer["text"]
    assert "extracted order.pdf: ok" in workers.log("c1")


def test_a_crawl_with_no_broker_says_so(tmp_path):
    port = free_port()  # nothing listens there
    from archive.extract.queue import QueueClient

    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}"):
        QueueClient(f"redis://:secret@127.0.0.1:{port}/0").workers(timeout=0.5)
