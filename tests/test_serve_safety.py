"""`python -m archive serve` facing a hostile public and a crawl writing at the same time.

Each test talks to a real server (`python -m archive serve`) on 127.0.0.1.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import psutil
import pytest

from archive import db as adb
from archive.cli import datasette_command
from tests.conftest import PROJECT, free_port

CASE = {"court_id": "cand", "docket_number": "3:20-cv-05910"}
# a 300-page filing OCR'd densely: about 10 KB of text a page
LONG_TEXT = ("The plaintiffs use WeChat to communicate with family. " * 190 + "\f") * 300


def make_archive(path, entries=1):
    db = adb.open_db(str(path))
    crawl = adb.start_crawl(db, "test", "cand", CASE["docket_number"], {})
    adb.save_docket(db, {**CASE, "case_name": "U.S. WeChat Users Alliance v. Trump"}, crawl)
    for number in range(1, entries + 1):
        adb.save_entry(db, {**CASE, "entry_number": number, "date_filed": "2020-09-19",
                            "description": f"ORDER granting motion for preliminary injunction {number}"},
                       crawl)
    adb.save_document(db, {**CASE, "entry_number": 1, "document_number": "1",
                           "description": "Order", "status": "ok", "page_count": 300,
                           "text": LONG_TEXT, "clean_text": LONG_TEXT}, crawl)
    adb.finish_crawl(db, crawl, "finished", {})
    db.conn.close()
    return path


@contextlib.contextmanager
def serving(db_path, *options, env=None):
    """A real server for db_path; yields (base url, psutil process); stops it after."""
    port = free_port()
    log = open(os.path.join(os.path.dirname(db_path), f"serve-{port}.log"), "wb")
    proc = subprocess.Popen(datasette_command(db_path, port, "127.0.0.1", *options), cwd=PROJECT,
                            env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(url + "/-/versions.json", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            proc.kill()
        if proc.poll() is not None:
            log.close()
            pytest.fail("archive serve did not start: "
                        + open(log.name, errors="replace").read()[-3000:])
        yield url, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def fetch(url, method="GET", data=None):
    """(status, body bytes), for any status."""
    request = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def sql(base, query, **params):
    status, body = fetch(f"{base}/dockets.json?"
                         + urllib.parse.urlencode({"sql": query, "_shape": "objects", **params}))
    return status, json.loads(body)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    tmp = folder / "tmp"
    tmp.mkdir()
    db = make_archive(folder / "dockets.db")
    with serving(str(db), env={"TMPDIR": str(tmp)}) as (url, process):
        yield {"url": url, "process": process, "folder": folder, "tmp": tmp}


def rows_of(n, expr):
    return (f"with recursive r(i) as (select 1 union all select i + 1 from r limit {n}) "
            f"select {expr} from r")


ATTACKS = [
    "select zeroblob(300000000) from dockets",
    "select randomblob(300000000) from dockets",
    "select printf('%.*c', 300000000, 'x') from dockets",  # 5 s of CPU, no memory
    "select length(printf('%300000000c', 'x'))",
    "select replace(replace(replace(hex(randomblob(4000000)), 'A', 'AAAAAAAAAA'),"
    " 'B', 'BBBBBBBBBB'), 'C', 'CCCCCCCCCC') from dockets",
    rows_of(100000, "group_concat(hex(randomblob(1000)))"),
    rows_of(1000, "zeroblob(9000000)"),            # rows x length: past --max-result-mb
    rows_of(1000, "randomblob(9000000)"),
    "select " + ", ".join(["randomblob(9000000)"] * 90),  # columns x length: past --sqlite-heap-mb
    rows_of(100, "documents.text from documents, r"),
]


def test_one_get_cannot_exhaust_memory(server):
    process, peak, done = server["process"], [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            done.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for attack in ATTACKS:
            status, data = sql(server["url"], attack)
            assert status in (200, 400), (attack, status, data)
            assert status == 400 or all(v is None for row in data["rows"] for v in row.values()), \
                attack  # printf past the length limit gives NULL
            if status == 400:
                assert data["error"], attack
        for attack in ATTACKS[:2] + ATTACKS[-4:]:
            status, page = fetch(f"{server['url']}/dockets?"
                                 + urllib.parse.urlencode({"sql": attack}))
            assert status == 400 and b"<html" in page.lower(), attack
    finally:
        done.set()
        watcher.join()
    # before the limits, the first attack alone took the server past 24 GB
    assert peak[0] < 600 * 1024 * 1024, f"server RSS peaked at {peak[0] >> 20} MB"
    print(f"peak RSS under attack: {peak[0] >> 20} MB")
    # and it still answers
    status, data = sql(server["url"], "select count(*) as n from dockets")
    assert status == 200 and data["rows"] == [{"n": 1}]


def test_long_filing_text_is_still_selectable(server):
    status, data = sql(server["url"], "select text from documents where document_number = '1'")
    assert status == 200 and data["rows"][0]["text"] == LONG_TEXT
    status, body = fetch(server["url"] + "/dockets/documents.json?_shape=objects")
    assert status == 200 and json.loads(body)["rows"][0]["text"] == LONG_TEXT


def test_fts3_tokenizer_is_off_and_search_still_works(server):
    for query in ("select fts3_tokenizer('simple')", "select hex(FTS3_Tokenizer('porter'))",
                  "select fts3_tokenizer('simple', x'0000000000000000')"):
        status, data = sql(server["url"], query)
        assert status == 400 and "not authorized" in data["error"], query
    status, body = fetch(server["url"] + "/dockets/documents.json?_search=wechat&_col=id")
    assert status == 200 and len(json.loads(body)["rows"]) == 1
    status, body = fetch(server["url"] + "/dockets/search.json?q=injunction&_shape=objects")
    # one row per document: entry 1's description is its document's hit
    assert status == 200 and json.loads(body)["rows"][0]["kind"] in ("document", "entry")


def test_no_absolute_path_is_shown(server):
    base = server["url"]
    secret_places = {str(server["folder"]), str(PROJECT), sys.prefix, sys.base_prefix,
                     os.path.realpath(str(server["folder"]))}
    pages = ["/", "/.json", "/-/databases.json", "/-/metadata.json", "/-/versions.json",
             "/-/plugins.json", "/-/settings.json", "/-/threads.json", "/-/config.json",
             "/-/actor.json", "/dockets", "/dockets.json", "/dockets/documents",
             "/dockets/documents.json", "/dockets/crawls.json", "/nope", "/nope.json",
             "/dockets/nope", "/dockets.json?sql=select+*+from+nope",
             "/dockets?sql=select+zeroblob(300000000)", "/dockets/documents.json?_sort=nope",
             "/dockets.json?sql=select+fts3_tokenizer('simple')", "/-/nope"]
    for page in pages:
        status, body = fetch(base + page)
        text = body.decode("utf-8", "replace")
        for place in secret_places:
            assert place not in text, (page, place)
    databases = json.loads(fetch(base + "/-/databases.json")[1])
    assert [d["name"] for d in databases] == ["dockets"] and "path" not in databases[0]


@pytest.mark.parametrize("path", ["/dockets/search", "/dockets/search.json", "/dockets/documents",
                                  "/dockets/documents/-/insert", "/dockets", "/-/messages", "/"])
def test_posts_are_refused(server, path):
    status, body = fetch(server["url"] + path, method="POST", data=b"q=x&sql=select+1")
    assert status == 405 and b"read-only" in body and len(body) < 200
    status, _ = fetch(server["url"] + path, method="PUT", data=b"{}")
    assert status == 405


def test_no_temp_file_is_left(server):
    # the server runs with TMPDIR pointed at an empty folder: starting it, serving pages
    # and a download (a snapshot made in TMPDIR) leave nothing there
    status, data = fetch(server["url"] + "/dockets.db")
    assert status == 200 and data.startswith(b"SQLite format 3\x00")
    assert os.listdir(server["tmp"]) == []


def test_serving_while_a_crawl_writes(tmp_path):
    db_path = make_archive(tmp_path / "dockets.db")
    new_entries = 150
    writer = f"""
import sys, time
from archive import db as adb
db = adb.open_db({str(db_path)!r})
for number in range(1000, 1000 + {new_entries}):
    time.sleep(0.03)  # as a crawl writes: a row now and then, over seconds
    adb.save_entry(db, {{"court_id": "cand", "docket_number": "3:20-cv-05910",
                        "entry_number": number, "description": "RSS entry %d" % number}}, None)
    adb.save_document(db, {{"court_id": "cand", "docket_number": "3:20-cv-05910",
                           "entry_number": number, "document_number": str(number),
                           "description": "doc", "text": "text " * 2000,
                           "clean_text": "wechat %d" % number}}, None)
"""
    with serving(str(db_path)) as (url, _):
        status, data = sql(url, "select count(*) as n from docket_entries")
        before = data["rows"][0]["n"]
        proc = subprocess.Popen([sys.executable, "-c", writer], cwd=PROJECT,
                                stderr=subprocess.PIPE, text=True)
        seen, snapshots = [], 0
        while True:
            running = proc.poll() is None
            status, data = sql(url, "select count(*) as n from docket_entries")
            assert status == 200, data
            seen.append(data["rows"][0]["n"])
            for page in ("/dockets/docket_entries.json?_size=5", "/dockets",
                         "/dockets/documents.json?_search=wechat&_col=id",
                         "/dockets/docket_entries?_sort_desc=entry_number"):
                status, body = fetch(url + page)
                assert status == 200, (page, body[:500])
            if snapshots < 2 and running:
                status, body = fetch(url + "/dockets.db")
                assert status == 200
                copy = tmp_path / f"download-{snapshots}.db"
                copy.write_bytes(body)
                con = sqlite3.connect(copy)
                assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
                con.close()
                snapshots += 1
            if not running:  # this round started after the last write
                break
        assert proc.wait() == 0, proc.stderr.read()
        # the public copy is brought up to date every 2 s (--publish-seconds)
        deadline = time.monotonic() + 30
        while seen[-1] != before + new_entries and time.monotonic() < deadline:
            time.sleep(0.2)
            seen.append(sql(url, "select count(*) as n from docket_entries")[1]["rows"][0]["n"])
        assert seen == sorted(seen) and seen[-1] == before + new_entries
        assert len(set(seen)) > 2, seen  # rows showed up while the writer ran, not only at the end
        status, body = fetch(url + "/dockets/documents.json?_search=wechat&_col=id")
        assert json.loads(body)["filtered_table_rows_count"] == new_entries + 1


def test_a_release_is_served_immutable_and_limits_are_options(tmp_path):
    from archive import release

    db_path = tmp_path / "release.db"  # a release (the archive's public copy, its own file)
    release.build_release_db(str(make_archive(tmp_path / "dockets.db")), str(db_path))
    with serving(str(db_path), "--immutable", "--max-result-mb", "2") as (url, _):
        databases = json.loads(fetch(url + "/-/databases.json")[1])
        assert [(d["name"], d["is_mutable"]) for d in databases] == [("release", False)]
        status, body = fetch(url + "/release.db")
        assert status == 200 and body == db_path.read_bytes()
        status, body = fetch(url + "/release/documents.json?_search=wechat&_col=id")
        assert status == 200 and len(json.loads(body)["rows"]) == 1
        status, _ = fetch(url + "/release/search", method="POST", data=b"q=x")
        assert status == 405
        # a table page past --max-result-mb: Datasette's error page, not a 500
        status, body = fetch(url + "/release/documents.json")
        assert status == 400 and b"results too large" in body
        status, body = fetch(url + "/release/documents")
        assert status == 400 and b"results too large" in body and b"<html" in body.lower()
        status, body = fetch(url + "/release/documents.json?_col=description")
        assert status == 200


def test_robots_are_kept_to_the_pages(server):
    status, body = fetch(server["url"] + "/robots.txt")
    assert status == 200
    text = body.decode()
    assert "Allow: /$" in text and "Allow: /cases/" in text and "Disallow: /" in text


def test_links_from_other_tables_find_their_rows(server):
    """An entry's "rows from entry_id in documents" link works though its id holds '#'."""
    import re

    entry = f"cand/{CASE['docket_number']}#1"
    tilde = entry.replace("/", "~2F").replace(":", "~3A").replace("#", "~23")
    status, body = fetch(f"{server['url']}/dockets/docket_entries/{tilde}")
    assert status == 200
    link = re.search(r'href="(/dockets/documents\?entry_id=[^"]+)"', body.decode()).group(1)
    assert "#" not in link
    status, body = fetch(server["url"] + link.replace("documents?", "documents.json?")
                         + "&_shape=array")
    assert status == 200 and len(json.loads(body)) == 1


# --- stalls: one call past the time limit, one client holding every thread -------

SLOW_CALLS = [
    "select length(printf('%.*c', 2147483647, 'x'))",  # 25 s in SQLite 3.40's own printf
    "select length(printf('%.*c', 2147483647, 'x')), length(format('%2147483647d', 1))",
    "select instr(printf('%.*c', 9000000, 'a'), printf('%.*c', 4500000, 'a') || 'b')",
    "select length(replace(printf('%.*c', 9000000, 'a'), printf('%.*c', 3000, 'a'), 'b'))",
    "select length(zeroblob(2000000000))", "select length(randomblob(2000000000))",
]


def test_one_expensive_call_is_answered_at_once(server):
    for query in SLOW_CALLS:
        started = time.monotonic()
        status, data = sql(server["url"], query)
        took = time.monotonic() - started
        assert status in (200, 400), (query, data)
        # stopped by a length limit, or cheap: never one call running on past the time limit
        assert took < 30, (query, took)
    status, data = sql(server["url"], "select printf('%05d-%s', 42, 'x') as p, "
                                      "instr('wechat', 'chat') as i, replace('a-b', '-', '+') as r")
    assert data["rows"] == [{"p": "00042-x", "i": 3, "r": "a+b"}]


def test_no_file_path_through_sql(server):
    status, data = sql(server["url"], "select * from pragma_database_list")
    assert status == 200 and all(row["file"] is None for row in data["rows"])
    status, data = sql(server["url"], "attach database 'x.db' as x")
    assert status == 400


def test_one_client_cannot_hold_the_site(server):
    """50 slow queries at once from one client: two run, the others are told to wait
    (429), and the site's pages are answered all the while."""
    slow = rows_of(10**12, "i") + " order by i desc limit 1"  # runs until the time limit
    answers, cheap = [], []

    def ask():
        answers.append(fetch(f"{server['url']}/dockets.json?"
                             + urllib.parse.urlencode({"sql": slow}))[0])

    threads = [threading.Thread(target=ask) for _ in range(50)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        status, _ = fetch(server["url"] + "/dockets.json?_size=1")
        cheap.append(status)
        status, _ = fetch(server["url"] + "/")
        cheap.append(status)
    for thread in threads:
        thread.join()
    assert set(cheap) == {200}
    assert answers.count(429) >= 45 and set(answers) <= {400, 429}, answers
