"""Shared test helpers: where ../shared is, and running the real `scrapy crawl`."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DOCKET_SHARED", PROJECT.parent / "shared")).resolve()


def shared_or_skip(*parts) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared not found ({path}): the real court pages and PDFs live there")
    return path


@pytest.fixture
def shared_dir():
    return shared_or_skip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The crawls of one test session share their extraction results (EXTRACT_CACHE_DIR):
# the same corpus PDFs are bought, downloaded and stored by dozens of crawls, and
# extracting each once is most of the CPU a crawl takes. A fresh folder per session
# (made before xdist starts its workers, which inherit it), so a change to the
# extractor is always tested.
EXTRACT_CACHE = "DOCKET_ARCHIVE_TEST_EXTRACT_CACHE"


def pytest_configure(config):
    if not hasattr(config, "workerinput") and not os.environ.get(EXTRACT_CACHE):
        import tempfile

        os.environ[EXTRACT_CACHE] = tempfile.mkdtemp(prefix="docket-archive-extract-cache-")
        config._extract_cache_made = os.environ[EXTRACT_CACHE]


def pytest_unconfigure(config):
    made = getattr(config, "_extract_cache_made", None)
    if made:
        shutil.rmtree(made, ignore_errors=True)
        os.environ.pop(EXTRACT_CACHE, None)


@pytest.fixture
def redis_url(tmp_path):
    """Debian's redis-server on loopback for one test (tests/servers/redis_server.py)."""
    from tests.servers.redis_server import start_redis, stop_redis

    proc, url = start_redis(tmp_path)
    yield url
    stop_redis(proc)


def run_crawl(spider, *, args=(), settings=None, env=None, db, files, timeout=300,
              extra=()):
    """Run the real `scrapy crawl` in a subprocess; return (returncode, log text)."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for arg in args:
        cmd += ["-a", arg]
    # OCR (seconds a page) is left to the tests about it: test_pdf, and the
    # end-to-end crawls that ask for it with EXTRACT_OCR=True
    all_settings = {"ARCHIVE_DB": str(db), "FILES_STORE": str(files), "LOG_LEVEL": "INFO",
                    "AUTOTHROTTLE_ENABLED": "False", "EXTRACT_WORKERS": "1",
                    "EXTRACT_OCR": "False", "TELNETCONSOLE_ENABLED": "False",
                    **({"EXTRACT_CACHE_DIR": os.environ[EXTRACT_CACHE]}
                       if os.environ.get(EXTRACT_CACHE) else {}),
                    **(settings or {})}
    for key, value in all_settings.items():
        cmd += ["-s", f"{key}={value}"]
    cmd += list(extra)
    full_env = {k: v for k, v in os.environ.items() if k != "COURTLISTENER_TOKEN"}
    full_env.update(env or {})
    if os.environ.get("ZYGOTE") == "0":
        proc = subprocess.run(cmd, cwd=PROJECT, env=full_env, capture_output=True, text=True,
                              timeout=timeout)
        return proc.returncode, proc.stdout + proc.stderr
    return _zygote_crawl(["scrapy", *cmd[3:]], full_env, timeout)


_ZYGOTE = None


def _zygote_crawl(argv, env, timeout):
    """`scrapy crawl` forked from a warm interpreter (tests/crawl_zygote.py):
    (returncode, log text)."""
    import json
    import select
    import signal
    import tempfile

    global _ZYGOTE
    if _ZYGOTE is None or _ZYGOTE.poll() is not None:
        _ZYGOTE = subprocess.Popen([sys.executable, "-m", "tests.crawl_zygote"], cwd=PROJECT,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    fd, log = tempfile.mkstemp(prefix="crawl-", suffix=".log")
    os.close(fd)
    try:
        _ZYGOTE.stdin.write(json.dumps({"argv": argv, "cwd": str(PROJECT), "env": env,
                                        "log": log}) + "\n")
        _ZYGOTE.stdin.flush()
        pid = json.loads(_ZYGOTE.stdout.readline())["pid"]
        ready, _, _ = select.select([_ZYGOTE.stdout], [], [], timeout)
        if not ready:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _ZYGOTE.stdout.readline()
            raise subprocess.TimeoutExpired(argv, timeout)
        code = json.loads(_ZYGOTE.stdout.readline())["code"]
        with open(log, errors="replace") as fh:
            return code, fh.read()
    finally:
        os.unlink(log)


@contextlib.contextmanager
def moto_s3(bucket: str):
    """moto's S3 server on loopback with one empty ``bucket``: (endpoint, client, server).
    moto keeps buckets in the process across its servers, so it is reset first."""
    import urllib.request

    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST"))
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing-secret")
        client.create_bucket(Bucket=bucket)
        yield endpoint, client, server
    finally:
        server.stop()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def chromium():
    """Debian's headless Chromium driven by Playwright (skips without it)."""
    if not CHROMIUM:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def rows(db_path, sql, params=()):
    """Rows of a query on an archive file, as dicts."""
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


def assert_whole(db_path) -> None:
    """The ``.db`` file alone is the whole archive: a copy without its ``-wal``
    holds every table and row the archive does (issue 17: people copy that file)."""
    import tempfile

    db_path = Path(db_path)
    wal = Path(str(db_path) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, f"{wal}: {wal.stat().st_size} bytes left"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.db"
        shutil.copyfile(db_path, copy)
        counts = {}
        for path in (db_path, copy):
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                tables = [r[0] for r in con.execute(
                    "select name from sqlite_master where type = 'table' order by name")]
                counts[path] = {t: con.execute(f"select count(*) from [{t}]").fetchone()[0]
                                for t in tables}
            finally:
                con.close()
        assert counts[copy] == counts[db_path] and counts[copy], counts


class InProcessSite:
    """The site `archive serve` runs, in this process (Datasette's own client, no
    socket): the archive at ``archive`` published to its public copy and served
    with ``plugin_settings`` (files, releases...). ``get(path)`` -> (status,
    headers, body bytes), as an HTTP client would see them."""

    # the address Datasette's client gives its requests (what absolute links start with)
    url = "http://localhost"

    def __init__(self, archive, plugin_settings=None, immutable=False):
        import asyncio
        import threading

        from archive import publish
        from archive.cli import datasette_for, default_public

        self.path = str(archive)
        if not immutable:
            self.path = default_public(archive)
            publish.publish(str(archive), self.path)
        # its own event loop on its own thread: a test's browser (Playwright's sync
        # API) runs a loop on the test's
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        # SQLite's heap limit is the whole process's: a test process serving in
        # process keeps none, or the next test's SQLite would be held to it
        self.ds = datasette_for(self.path, immutable=immutable,
                                plugin_settings={"sqlite_heap_bytes": 0,
                                                 **(plugin_settings or {})})
        self._run(self.ds.invoke_startup())

    def _run(self, coroutine):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def get(self, path, method="GET", follow_redirects=True):
        """Redirects are followed, as urllib's client follows them."""
        answer = self._run(self.ds.client.request(method, path,
                                                  follow_redirects=follow_redirects))
        return answer.status_code, answer.headers, answer.content

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
