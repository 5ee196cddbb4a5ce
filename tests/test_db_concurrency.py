"""The archive under concurrency and kills: processes that open, write and crawl
the same SQLite file at once, and a writer killed with SIGKILL mid-write."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import PROJECT, SHARED, rows
from tests.servers.cases import synthetic_case
from tests.servers.courtlistener import CourtListenerServer

TOKEN = "test-token-concurrency"
PY = sys.executable


def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("import sys, time\nsys.path.insert(0, %r)\n" % str(PROJECT) + body)
    return path


def _start_together(script, argv_list, delay=1.5):
    """Start processes that each spin until the same instant, then go."""
    at = str(time.time() + delay)
    return [subprocess.Popen([PY, str(script), at, *argv], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for argv in argv_list]


def _outputs(procs, timeout=60):
    return [(p.wait(timeout=timeout), p.stdout.read()) for p in procs]


OPEN = """
from archive import db as adb
at = float(sys.argv[1])
while time.time() < at:
    pass
db = adb.open_db(sys.argv[2])
print(db.execute("pragma journal_mode").fetchone()[0], sorted(db.table_names()) == sorted(
    set(db.table_names()) | set(adb.TABLES)))
"""


def test_processes_opening_a_new_file_at_once_all_succeed(tmp_path):
    script = _script(tmp_path, "open.py", OPEN)
    for attempt in range(3):
        path = tmp_path / f"new{attempt}.db"
        results = _outputs(_start_together(script, [[str(path)]] * 4))
        for code, out in results:
            assert code == 0, out
            assert out.split() == ["wal", "True"], out
    con = sqlite3.connect(path)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    # a busy timeout is set on every connection the archive opens
    from archive import db as adb
    assert adb.open_db(str(path)).execute("pragma busy_timeout").fetchone()[0] >= 30_000


SAVE = """
from archive import db as adb
at, path, who = float(sys.argv[1]), sys.argv[2], sys.argv[3]
db = adb.open_db(path)
crawl = adb.start_crawl(db, "test-" + who, "cand", "1:21-cv-1", {})
while time.time() < at:
    pass
for n in range(1, 121):
    adb.save_entry(db, {"court_id": "cand", "docket_number": "1:21-cv-1", "entry_number": n,
                        "description": "Entry %d" % n, "source": who}, crawl)
    adb.save_document(db, {"court_id": "cand", "docket_number": "1:21-cv-1", "entry_number": n,
                           "document_number": str(n), "clean_text": "words of %d" % n,
                           "page_count": n if who == "a" else None}, crawl)
    adb.save_party(db, {"court_id": "cand", "docket_number": "1:21-cv-1", "name": "Party %d" % (n % 7),
                        "attorneys": [{"name": "Counsel %d" % (n % 5), "roles": ["LEAD"]}]}, crawl)
print("ok")
"""


def test_processes_saving_the_same_rows_at_once_make_each_row_once(tmp_path):
    """get-then-insert raced across processes once dropped an item (UNIQUE failed)."""
    path = tmp_path / "a.db"
    script = _script(tmp_path, "save.py", SAVE)
    for code, out in _outputs(_start_together(script, [[str(path), w] for w in "abc"])):
        assert code == 0 and out.strip() == "ok", out
    assert rows(path, "select count(*) n from docket_entries")[0]["n"] == 120
    assert rows(path, "select count(*) n from documents")[0]["n"] == 120
    # the values of every process are there: "a" alone gave page counts
    assert rows(path, "select count(*) n from documents where page_count is null")[0]["n"] == 0
    # each row was added once, and each addition is recorded once
    for table, n in (("docket_entries", 120), ("documents", 120), ("parties", 7),
                     ("attorneys", 5), ("party_attorneys", 35)):
        assert rows(path, f"select count(*) n from {table}")[0]["n"] == n
        added = rows(path, "select row_id, count(*) n from changes where action = 'added' "
                           "and table_name = ? group by row_id", [table])
        assert len(added) == n and all(a["n"] == 1 for a in added), table


WRITER = """
import itertools, random
from archive import db as adb
from archive.load import save_parsed_docket
path = sys.argv[2]
db = adb.open_db(path)
crawl = adb.start_crawl(db, "writer", "cand", None, {})
words = "motion order injunction stay appeal brief reply exhibit declaration".split()
for k in itertools.count(int(sys.argv[3])):
    record = {"court_id": "cand", "docket_number": "1:21-cv-%05d" % k, "case_name": "Case %d" % k,
              "docket_entries": [{"document_number": n, "date_filed": "2021-01-04",
                                  "description": " ".join(random.choices(words, k=30)),
                                  "pacer_doc_id": "035%09d" % (k * 1000 + n)}
                                 for n in range(1, 41)]}
    save_parsed_docket(db, record, source="test", crawl_id=crawl)
    for n in range(1, 41, 3):  # documents gain text (FTS rows rewritten), one by one
        adb.save_extraction(db, "cand/1:21-cv-%05d#%d/0" % (k, n),
                            {"clean_text": " ".join(random.choices(words, k=400)), "status": "ok"},
                            crawl_id=crawl)
    print(k, flush=True)
"""


def _integrity(path):
    con = sqlite3.connect(path)
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert con.execute("pragma foreign_key_check").fetchall() == []
        for fts in ("documents_fts", "docket_entries_fts"):
            # FTS5: the index matches its content table, row for row
            con.execute(f"insert into {fts}({fts}, rank) values ('integrity-check', 1)")
        con.rollback()
    finally:
        con.close()


def test_a_writer_killed_mid_write_leaves_a_sound_archive(tmp_path):
    path = tmp_path / "killed.db"
    script = _script(tmp_path, "writer.py", WRITER)
    start = 0
    pids = []
    for round_ in range(4):
        proc = subprocess.Popen([PY, str(script), "0", str(path), str(start)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        pids.append(proc.pid)
        seen = [proc.stdout.readline() for _ in range(2 + round_)]  # some dockets done
        assert all(line[:1].isdigit() for line in seen), seen
        time.sleep(0.05 * round_)  # then kill it at a different point of a write
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        start += 100
        _integrity(path)
        # every docket is whole: a parsed docket is saved in one transaction
        counts = rows(path, "select docket_id, count(*) n from docket_entries group by docket_id")
        assert counts and all(c["n"] == 40 for c in counts), counts
        assert len(rows(path, "select id from dockets")) == len(counts)
        # every row has its change record, written with it
        for table in ("dockets", "docket_entries", "documents"):
            assert rows(path, f"select count(*) n from {table}")[0]["n"] == rows(
                path, "select count(*) n from changes where action = 'added' and table_name = ?",
                [table])[0]["n"]
    # the next run marks the killed crawls as such, with their pid
    from archive import db as adb
    db = adb.open_db(str(path))
    adb.start_crawl(db, "next", "cand", None, {})
    crawls = rows(path, "select * from crawls order by id")
    assert [c["status"] for c in crawls] == ["killed"] * 4 + ["running"]
    assert [c["pid"] for c in crawls[:4]] == pids
    assert all(str(c["pid"]) in c["message"] for c in crawls[:4])
    # a running crawl whose process lives is left alone
    adb.start_crawl(db, "another", "cand", None, {})
    assert rows(path, "select status from crawls order by id")[-2]["status"] == "running"


# --- two real crawls of one case at once --------------------------------------------------

def _crawl_cmd(srv, tmp_path, db, rate):
    return [PY, "-m", "scrapy", "crawl", "courtlistener", "-a", "court=cand",
            "-a", "pacer_case_id=900007", "-s", f"ARCHIVE_DB={db}",
            "-s", f"FILES_STORE={tmp_path / 'files'}", "-s", f"COURTLISTENER_API_URL={srv.api_url}",
            "-s", f"COURTLISTENER_STORAGE_URL={srv.storage_url}",
            "-s", f"COURTLISTENER_RATE_PER_MINUTE={rate}", "-s", "EXTRACT_OCR=False",
            "-s", "EXTRACT_WORKERS=1", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]


def _snapshot(db):
    out = {}
    for table in ("dockets", "docket_entries", "documents", "parties", "attorneys",
                  "party_attorneys"):
        out[table] = sorted(json.dumps({k: v for k, v in r.items()
                                        if k not in ("first_seen", "last_seen")}, sort_keys=True)
                            for r in rows(db, f"select * from {table}"))
    return out


def test_two_crawls_of_one_case_at_once(tmp_path):
    """The second waits for the first, then finds everything stored: no duplicate,
    nothing lost, each PDF downloaded once."""
    if not SHARED.exists():
        pytest.skip(f"../shared not found ({SHARED}): the real PDFs live there")
    n = 30
    case = synthetic_case(SHARED, n_entries=n, pacer_case_id="900007",
                          pdfs=["recap_documents/ca10_010110462922.pdf",
                                "recap_documents/ca3_003112692106.pdf"])
    env = {**os.environ, "COURTLISTENER_TOKEN": TOKEN}
    with CourtListenerServer([case], token=TOKEN) as srv:
        # one crawl alone, the reference
        ref = tmp_path / "ref"
        ref.mkdir()
        one = subprocess.run(_crawl_cmd(srv, ref, ref / "one.db", 1200), cwd=PROJECT, env=env,
                             capture_output=True, text=True, timeout=180)
        assert one.returncode == 0, one.stderr[-3000:]
        srv.log.clear()
        db = tmp_path / "dockets.db"
        # two at once: the second starts while the first is running (paced: a few seconds)
        first = subprocess.Popen(_crawl_cmd(srv, tmp_path, db, 90), cwd=PROJECT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if rows(db, "select count(*) n from crawls where status = 'running'")[0]["n"]:
                    break
            except sqlite3.Error:
                pass
            time.sleep(0.1)
        second = subprocess.Popen(_crawl_cmd(srv, tmp_path, db, 1200), cwd=PROJECT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out2, _ = second.communicate(timeout=180)
        out1, _ = first.communicate(timeout=180)
    assert first.returncode == 0 and second.returncode == 0, (out1 + out2)[-3000:]
    assert "Traceback" not in out1 + out2
    assert f"Another crawl of this case (process {first.pid}) is running" in out2
    assert "Another crawl of this case" not in out1
    # each PDF was downloaded once, by the first
    assert srv.log.tally(kind="storage") == n
    crawls = rows(db, "select * from crawls order by id")
    assert [c["status"] for c in crawls] == ["finished", "finished"]
    assert [c["pid"] for c in crawls] == [first.pid, second.pid]
    assert crawls[0]["finished"] <= crawls[1]["started"]  # it waited
    assert crawls[1]["pdfs_downloaded"] == 0 and crawls[1]["documents_extracted"] == 0
    assert crawls[1]["rows_added"] == 0 and crawls[1]["rows_changed"] == 0
    # the same rows as one crawl alone: nothing doubled, nothing lost
    assert _snapshot(db) == _snapshot(ref / "one.db")
    assert rows(db, "select count(*) n from documents where sha256 is not null")[0]["n"] == n
    _integrity(db)
