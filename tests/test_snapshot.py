"""`python -m archive snapshot`: the public release, its manifest, latest.json, S3 (moto on loopback)."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config

from archive import db as archive_db
from archive import publish, release
from tests.conftest import PROJECT, free_port, moto_s3, rows

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret",
         "AWS_DEFAULT_REGION": "us-east-1"}


def _doc(db, court, number, entry, text, **fields):
    doc = {"court_id": court, "docket_number": number, "entry_number": entry,
           "attachment_number": fields.pop("attachment_number", 0), "description": fields.pop(
               "description", f"Document {entry}"), "is_available": 1, "source": "test",
           "file_path": f"{court}/{entry}.pdf", "sha256": hashlib.sha256(text.encode()).hexdigest(),
           "text": text, "clean_text": text, "status": "ok", "page_count": 3,
           "extractor_version": "pdf-7", **fields}
    return archive_db.save_document(db, doc)[0]


@pytest.fixture
def source(tmp_path):
    """An archive with two cases, a sealed, a badly redacted and a restricted document,
    a PACER ledger and a crawl whose args name a local path."""
    path = tmp_path / "dockets.db"
    db = archive_db.open_db(str(path))
    crawl = archive_db.start_crawl(db, "courtlistener", "cand", "3:20-cv-05910",
                                   {"files": "/home/operator/private/files"})
    archive_db.save_docket(db, {"court_id": "cand", "docket_number": "3:20-cv-05910-LB",
                                "case_name": "U.S. WeChat Users Alliance v. Trump",
                                "date_filed": "2020-08-21"}, crawl)
    archive_db.save_docket(db, {"court_id": "ca9", "docket_number": "20-16908",
                                "case_name": "U.S. WeChat Users Alliance v. Trump"}, crawl)
    entries = [("cand", "3:20-cv-05910", 1, "2020-08-21", "COMPLAINT against Donald J. Trump"),
               ("cand", "3:20-cv-05910", 2, "2020-09-01", "MOTION for Preliminary Injunction"),
               ("cand", "3:20-cv-05910", 3, "2020-09-10", "Declaration in support"),
               ("cand", "3:20-cv-05910", 4, "2020-09-15",
                "Exhibit. ACCESS TO THE PDF DOCUMENT IS RESTRICTED TO CASE PARTICIPANTS AND THE COURT"),
               ("ca9", "20-16908", 1, "2020-09-22", "Case opened: appeal docketed")]
    for court, number, n, day, text in entries:
        archive_db.save_entry(db, {"court_id": court, "docket_number": number, "entry_number": n,
                                   "date_filed": day, "description": text, "source": "test"}, crawl)
    ids = {
        "public": _doc(db, "cand", "3:20-cv-05910", 1, "the complaint says zebrafinch plainly"),
        "sealed": _doc(db, "cand", "3:20-cv-05910", 2, "the sealed text says quokkasecret",
                       is_sealed=1),
        "redacted": _doc(db, "cand", "3:20-cv-05910", 3, "the black box hides wombatsecret",
                         bad_redactions="2,3"),
        "restricted": _doc(db, "cand", "3:20-cv-05910", 4, "participants only: numbatsecret"),
        "appeal": _doc(db, "ca9", "20-16908", 1, "the appeal brief mentions zebrafinch too",
                       extractor_version="pdf-6"),
    }
    archive_db.save_charge(db, {"crawl_id": crawl, "court_id": "cand", "what": "docket",
                                "cost": 3.0, "pacer_cost": 3.0, "status": "charged"})
    archive_db.finish_crawl(db, crawl, "finished", {"requests": 7}, "stored in /home/operator")
    db.conn.close()
    return path, ids


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _snapshot(*args, env=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "archive", "snapshot", *args], cwd=PROJECT,
                          env=full_env, capture_output=True, text=True, timeout=120)


def test_snapshot_withholds_and_describes(source, tmp_path):
    path, ids = source
    before = _sha(path)
    out = tmp_path / "releases"
    proc = _snapshot("--db", str(path), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert _sha(path) == before  # the archive is only read
    latest = json.loads((out / "latest.json").read_text())
    db_path = out / latest["db"]
    assert latest["db"] == f"dockets-{latest['date']}.db"
    assert latest["manifest"] == f"dockets-{latest['date']}.manifest.json"
    assert latest["sha256"] == _sha(db_path) and latest["size"] == db_path.stat().st_size
    manifest = json.loads((out / latest["manifest"]).read_text())
    assert manifest["sha256"] == latest["sha256"] and manifest["size"] == latest["size"]

    con = sqlite3.connect(db_path)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert con.execute("pragma journal_mode").fetchone()[0] == "delete"
    con.execute("insert into documents_fts(documents_fts) values('integrity-check')")
    # the public text is searchable, withheld text is not, anywhere
    found = {r[0] for r in con.execute(
        "select documents.id from documents_fts join documents on documents.rowid = "
        "documents_fts.rowid where documents_fts match 'zebrafinch'")}
    assert found == {ids["public"], ids["appeal"]}
    for word in ("quokkasecret", "wombatsecret", "numbatsecret"):
        assert not con.execute("select count(*) from documents_fts where documents_fts match ?",
                               [word]).fetchone()[0]
        assert word.encode() not in db_path.read_bytes()  # nor in free pages
    assert b"/home/operator" not in db_path.read_bytes()
    # the withheld documents' rows and entries stay, saying why
    docs = {r["id"]: r for r in rows(db_path, "select * from documents")}
    assert len(docs) == 5
    for kind, word in (("sealed", "sealed"), ("redacted", "bad redaction"), ("restricted", "restricted")):
        doc = docs[ids[kind]]
        assert word in doc["withheld"]
        assert doc["text"] is None and doc["clean_text"] is None and doc["file_path"] is None
        assert doc["description"]
    assert docs[ids["public"]]["withheld"] is None and docs[ids["public"]]["text"]
    assert con.execute("select count(*) from docket_entries").fetchone()[0] == 5
    # the operator's ledger and crawl arguments are not in the release
    tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
    assert "pacer_charges" not in tables
    crawl = rows(db_path, "select * from crawls")[0]
    assert not {"args", "message", "pid", "host"} & set(crawl)  # not even the columns
    assert not tables & {"public_log", "archive_info", "writer_position", "_publish_state"}
    assert crawl["status"] == "finished" and crawl["requests"] == 7
    con.close()

    assert manifest["tables"]["documents"] == 5 and manifest["tables"]["docket_entries"] == 5
    assert manifest["tables"]["dockets"] == 2 and "pacer_charges" not in manifest["tables"]
    assert manifest["courts"] == ["ca9", "cand"]
    assert {(c["court_id"], c["docket_number"], c["entries"]) for c in manifest["cases"]} == {
        ("cand", "3:20-cv-05910", 4), ("ca9", "20-16908", 1)}
    assert manifest["date_range"]["first"] == "2020-08-21"
    assert manifest["date_range"]["last"] == "2020-09-22"
    assert manifest["crawls"]["count"] == 1 and len(manifest["crawls"]["dates"]) == 1
    assert manifest["extractor_versions"] == {"pdf-6": 1, "pdf-7": 4}
    assert manifest["withheld"]["count"] == 3
    assert {w["id"] for w in manifest["withheld"]["documents"]} == {
        ids["sealed"], ids["redacted"], ids["restricted"]}
    assert all(w["reason"] for w in manifest["withheld"]["documents"])


def test_second_snapshot_same_day_gets_a_suffix(source, tmp_path):
    path, _ = source
    out = tmp_path / "releases"
    first = release.make_release(str(path), str(out), day="2026-01-02")
    second = release.make_release(str(path), str(out), day="2026-01-02")
    assert os.path.basename(first["db"]) == "dockets-2026-01-02.db"
    assert os.path.basename(second["db"]) == "dockets-2026-01-02-2.db"
    assert os.path.basename(second["manifest"]) == "dockets-2026-01-02-2.manifest.json"
    assert json.loads((out / "latest.json").read_text())["db"] == "dockets-2026-01-02-2.db"
    assert _sha(first["db"]) == first["pointer"]["sha256"]  # the first is untouched
    assert sorted(p.name for p in out.iterdir()) == [
        "dockets-2026-01-02-2.db", "dockets-2026-01-02-2.inspect.json",
        "dockets-2026-01-02-2.manifest.json", "dockets-2026-01-02.db", "dockets-2026-01-02.inspect.json",
        "dockets-2026-01-02.manifest.json", "latest.json"]  # no temporary file left


def test_withheld_reason_rules():
    assert publish.withheld_reason({"is_sealed": 1}).startswith("sealed")
    assert publish.withheld_reason({"bad_redactions": "4"}).startswith("bad redaction")
    assert publish.withheld_reason({"status": "restricted"}).startswith("restricted")
    assert publish.withheld_reason({"description": "**SEALED DOCUMENT** Sealed Memorandum"})
    assert publish.withheld_reason({}, "THIS DOCKET ENTRY AND PDF DOCUMENT ARE SEALED PURSUANT")
    assert publish.withheld_reason({}, "Summons Issued (Sealed - Attorney) for appearance")
    assert publish.withheld_reason({}, "SEALED MOTION to Seal Document")
    # an order about restricted filings is itself public
    assert publish.withheld_reason(
        {"status": "ok", "is_sealed": 0},
        "ORDER: the brief shall be filed as a restricted document. Sealed Motion Hearing set") is None


@pytest.fixture
def s3():
    with moto_s3("releases") as s3:
        yield s3


def _object(client, key, bucket="releases"):
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_snapshot_to_s3_uploads_verifies_then_points(source, tmp_path, s3):
    endpoint, client, _ = s3
    path, _ = source
    out = tmp_path / "releases"
    env = {**CREDS, "AWS_ENDPOINT_URL": endpoint}
    proc = _snapshot("--db", str(path), "--out", str(out), "--to", "s3://releases/public/", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "verified" in proc.stdout
    latest = json.loads(_object(client, "public/latest.json"))
    assert latest == json.loads((out / "latest.json").read_text())
    db_bytes = _object(client, f"public/{latest['db']}")
    assert hashlib.sha256(db_bytes).hexdigest() == latest["sha256"] == _sha(out / latest["db"])
    assert len(db_bytes) == latest["size"]
    assert json.loads(_object(client, f"public/{latest['manifest']}"))["sha256"] == latest["sha256"]
    # a second snapshot the same day is a new release beside it, in the bucket too
    proc = _snapshot("--db", str(path), "--out", str(tmp_path / "elsewhere"),
                     "--to", "s3://releases/public/", env=env)
    assert proc.returncode == 0, proc.stderr
    second = json.loads(_object(client, "public/latest.json"))
    assert second["db"] == latest["db"].replace(".db", "-2.db")

    # a bucket that does not exist: non-zero, a clear message
    proc = _snapshot("--db", str(path), "--out", str(out), "--to", "s3://no-such-bucket/x/", env=env)
    assert proc.returncode != 0
    assert "no-such-bucket" in proc.stderr and "no such bucket" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads((out / "latest.json").read_text()) == latest  # no release made
    # nothing listening: the same
    proc = _snapshot("--db", str(path), "--out", str(out), "--to", "s3://releases/x/",
                     env={**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
                          "AWS_MAX_ATTEMPTS": "1"})
    assert proc.returncode != 0 and "Could not connect" in proc.stderr, proc.stderr
    assert json.loads((out / "latest.json").read_text()) == latest
    # a release already written is uploaded again with --release
    proc = _snapshot("--to", "s3://releases/again/", "--release", str(out / latest["db"]), env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(_object(client, "again/latest.json")) == latest


class FailingClient:
    """boto3's client, failing on the Nth upload (an upload cut off midway)."""

    def __init__(self, client, fail_on_put):
        self.client, self.fail_on_put, self.puts = client, fail_on_put, 0

    def __getattr__(self, name):
        return getattr(self.client, name)

    def upload_file(self, *args, **kwargs):
        self.puts += 1
        if self.puts == self.fail_on_put:
            from botocore.exceptions import EndpointConnectionError
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1/")
        return self.client.upload_file(*args, **kwargs)


class LyingClient(FailingClient):
    """A store that reports a different size for what it was given."""

    def head_object(self, **kwargs):
        answer = self.client.head_object(**kwargs)
        if not kwargs["Key"].endswith("latest.json"):
            answer["ContentLength"] -= 1
        return answer


def test_failed_upload_leaves_latest_at_previous_release(source, tmp_path, s3):
    _, client, _ = s3
    path, _ = source
    first = release.make_release(str(path), str(tmp_path / "a"), day="2026-01-01")
    release.upload_release(client, "s3://releases/p/", first["db"], first["manifest"], first["pointer"])
    second = release.make_release(str(path), str(tmp_path / "b"), day="2026-01-02")
    for broken in (FailingClient(client, 2), LyingClient(client, 0)):
        with pytest.raises(release.ReleaseError) as error:
            release.upload_release(broken, "s3://releases/p/", second["db"], second["manifest"],
                                   second["pointer"])
        assert "latest.json" in str(error.value)
        assert json.loads(_object(client, "p/latest.json"))["db"] == "dockets-2026-01-01.db"
    # the store stopped altogether
    s3[2].stop()
    fast = boto3.client("s3", endpoint_url=s3[0], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing-secret",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=2))
    with pytest.raises(release.ReleaseError, match="previous release"):
        release.upload_release(fast, "s3://releases/p/", second["db"], second["manifest"],
                               second["pointer"])
    s3[2].start()


def test_multipart_upload_verified(source, tmp_path, s3):
    _, client, _ = s3
    path, _ = source
    db = archive_db.open_db(str(path))
    big = os.urandom(6 * 1024 * 1024).hex()  # 12 MB of text (and its index): 5 MB parts
    _doc(db, "cand", "3:20-cv-05910", 1, big, attachment_number=1)
    db.conn.close()
    made = release.make_release(str(path), str(tmp_path / "out"), day="2026-02-03")
    release.upload_release(client, "s3://releases/big/", made["db"], made["manifest"],
                           made["pointer"], threshold=5 * 1024 * 1024, part_size=5 * 1024 * 1024)
    head = client.head_object(Bucket="releases", Key=f"big/{made['pointer']['db']}",
                              ChecksumMode="ENABLED")
    assert head["ContentLength"] == made["pointer"]["size"] > 10 * 1024 * 1024
    assert head["ChecksumSHA256"]  # S3 checked each part's SHA-256, and the whole
    parts = -(-made["pointer"]["size"] // (5 * 1024 * 1024))
    assert client.head_object(Bucket="releases", Key=f"big/{made['pointer']['db']}",
                              PartNumber=1)["PartsCount"] == parts > 2
    # and the check finds a file that is not the one uploaded
    other = tmp_path / "other.db"
    other.write_bytes(b"x" * made["pointer"]["size"])
    with pytest.raises(release.ReleaseError, match="is not the file's"):
        release.verify_upload(client, "releases", f"big/{made['pointer']['db']}", str(other))
    assert f"{parts} parts" in release.verify_upload(client, "releases",
                                                     f"big/{made['pointer']['db']}", made["db"])
    assert hashlib.sha256(_object(client, f"big/{made['pointer']['db']}")).hexdigest() == \
        made["pointer"]["sha256"]


def test_a_release_is_served_immutably_with_its_counts(source, tmp_path):
    from tests.test_serve_safety import fetch, serving

    path, ids = source
    made = release.make_release(str(path), str(tmp_path / "releases"), day="2026-03-04")
    before = _sha(made["db"])
    inspect = json.loads(open(made["inspect"]).read())
    assert inspect["dockets-2026-03-04"]["tables"]["documents"]["count"] == 5
    second = release.make_release(str(path), str(tmp_path / "releases"), day="2026-03-04")
    with serving(made["db"], "--immutable", "--releases", str(tmp_path / "releases")) as (url, _):
        status, home = fetch(url + "/")  # the home page offers the latest release
        assert status == 200 and os.path.basename(second["db"]).encode() in home
        database = json.loads(fetch(url + "/dockets-2026-03-04.json")[1])
        counts = {t["name"]: t["count"] for t in database["tables"]}
        assert counts["documents"] == 5 and counts["docket_entries"] == 5
        found = json.loads(fetch(url + "/dockets-2026-03-04/documents.json?_search=zebrafinch"
                                 "&_col=withheld&_shape=objects")[1])["rows"]
        assert len(found) == 2
        hidden = json.loads(fetch(url + "/dockets-2026-03-04/documents.json?_search=quokkasecret")[1])
        assert hidden["rows"] == []
        status, body = fetch(url + "/dockets-2026-03-04.db")
        assert status == 200 and hashlib.sha256(body).hexdigest() == before
    assert _sha(made["db"]) == before  # serving changed nothing in it
    assert not os.path.exists(made["db"] + "-wal")


def test_a_killed_snapshot_leaves_nothing_the_next_does_not_remove(source, tmp_path):
    """A snapshot SIGKILLed at every stage of its work: whatever it left in the
    releases folder (its work copy with the unredacted rows, a release not yet
    named) is gone after the next snapshot, and every file there is readable
    as the .db is."""
    import signal
    import time

    path, _ = source
    out = tmp_path / "releases"
    out.mkdir()
    # what older killed runs left: a work copy, a release not yet named, a JSON half-written
    for name in (".release-work-99999-abcd1234.db", ".release-work-99999-abcd1234.db-wal",
                 ".dockets-2026-01-01.db.tmp-99999", ".tmp-x1y2.json"):
        (out / name).write_bytes(b"left by a killed snapshot: quokkasecret")
    killed = 0
    for delay in (0.05, 0.2, 0.4, 0.8):
        proc = subprocess.Popen([sys.executable, "-m", "archive", "snapshot", "--db", str(path),
                                 "--out", str(out)], cwd=PROJECT)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
    proc = _snapshot("--db", str(path), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith(".")], names
    for name in names:
        assert b"quokkasecret" not in (out / name).read_bytes(), name
        assert (out / name).stat().st_mode & 0o044 == 0o044, (name, oct((out / name).stat().st_mode))
    assert killed, "no snapshot was killed while it ran"
