"""A release: a public, self-contained copy of the archive with its manifest.

``make_release`` writes ``dockets-YYYY-MM-DD.db`` and
``dockets-YYYY-MM-DD.manifest.json`` into a folder, then ``latest.json``
beside them (and ``dockets-YYYY-MM-DD.inspect.json``, from ``datasette inspect``);
``upload_release`` puts the db, the manifest and ``latest.json`` in an S3
bucket (boto3's ``upload_file``: multipart past ``MULTIPART_THRESHOLD``, with
SHA-256 checksums that S3 checks), ``latest.json`` last and only once the
other two are verified there (size and checksum, :func:`verify_upload`).

A release never changes once written: a second snapshot the same day (UTC)
is ``dockets-YYYY-MM-DD-2.db``, then ``-3``..., and a name already taken in
the folder (or under the S3 prefix) is never overwritten.

What a release leaves out is what the site leaves out: a release is a
public copy (:mod:`archive.publish`: the public tables less their private
columns, withheld documents without text or file, no PACER ledger, no crawl
arguments, host or process, no writer bookkeeping), made from every row of
the archive, which is only read, then copied with ``VACUUM INTO`` so that the
file holds no free page. It is in journal mode DELETE and passes ``PRAGMA
integrity_check`` and FTS5's ``integrity-check`` before it is given its name.

A killed snapshot leaves its temporary files in the releases folder; the
next snapshot there removes them first (snapshots of one folder take turns
on a lock of the folder).
"""
from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from typing import Callable, Optional
from urllib.parse import urlparse

from archive import db as archive_db
from archive import publish
from archive.atomic import write_atomically
from archive.db import file_sha256

PREFIX = "dockets"
LATEST = "latest.json"
# the temporary files of a snapshot (a killed one leaves them)
WORK_FILES = re.compile(r"^\.(release-work-.*\.db|dockets-.*\.db\.tmp-\d+|tmp-.*\.json)"
                        r"(-journal|-wal|-shm)?$")

MULTIPART_THRESHOLD = 256 * 1024 * 1024
PART_SIZE = 64 * 1024 * 1024


class ReleaseError(Exception):
    """A release could not be made or published; the message says why."""


# --- names ----------------------------------------------------------------

def release_names(day: str, taken: Callable[[str], bool]) -> tuple[str, str]:
    """(db name, manifest name) for ``day``: the first of ``dockets-DAY``,
    ``dockets-DAY-2``... whose files ``taken`` says do not exist yet."""
    n = 1
    while True:
        stem = f"{PREFIX}-{day}" + ("" if n == 1 else f"-{n}")
        db_name, manifest_name = f"{stem}.db", f"{stem}.manifest.json"
        if not (taken(db_name) or taken(manifest_name)):
            return db_name, manifest_name
        n += 1


def _today() -> str:
    return _dt.datetime.now(_dt.timezone.utc).date().isoformat()


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


# --- the copy ---------------------------------------------------------------

def _connect_ro(path: str) -> sqlite3.Connection:
    return sqlite3.connect(archive_db.ro_uri(path), uri=True)


def _tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' "
        "order by name")]


def _fts_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "select name from sqlite_master where type = 'table' and sql like 'CREATE VIRTUAL TABLE%' "
        "and lower(sql) like '%using fts%' order by name")]


def _columns(con, table) -> list[str]:
    return [r[1] for r in con.execute(f"pragma table_info([{table}])")]


def check_release_db(path: str) -> None:
    """Raise ReleaseError unless ``path`` passes integrity checks (SQLite and FTS).

    FTS5's check is an INSERT command, so this opens the file for writing; it
    changes nothing in it."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        result = [r[0] for r in con.execute("pragma integrity_check")]
        if result != ["ok"]:
            raise ReleaseError(f"{path}: integrity_check failed: {'; '.join(result[:5])}")
        for name in _fts_tables(con):
            try:
                con.execute(f"insert into [{name}]([{name}]) values('integrity-check')")
            except sqlite3.DatabaseError as exc:
                raise ReleaseError(f"{path}: {name} index does not match its table: {exc}") from None
        mode = con.execute("pragma journal_mode").fetchone()[0]
        if mode.lower() != "delete":
            raise ReleaseError(f"{path}: journal mode is {mode}, not delete")
    finally:
        con.close()


def build_release_db(source: str, target: str) -> list[dict]:
    """Write the public copy of the archive ``source`` at ``target`` (which must
    not exist); return the withheld documents. ``source`` is only read."""
    if not os.path.exists(source):
        raise ReleaseError(f"{source} does not exist: run `make archive` first")
    folder = os.path.dirname(os.path.abspath(target))
    work = os.path.join(folder, f".release-work-{os.getpid()}-{uuid.uuid4().hex[:8]}.db")
    try:
        try:
            publish.publish(source, work, everything=True)
        except sqlite3.DatabaseError as exc:
            raise ReleaseError(f"{source}: cannot be copied: {exc}") from None
        con = sqlite3.connect(work, isolation_level=None)
        try:
            con.execute(f"drop table [{publish.STATE}]")
            for name in _fts_tables(con):  # one segment each: as fast as an index gets
                con.execute(f"insert into [{name}]([{name}]) values('optimize')")
            withheld = [{"id": i, "reason": r} for i, r in con.execute(
                "select id, withheld from documents where withheld is not null order by id")]
            # a fresh file from the live pages only, in journal mode DELETE
            con.execute("vacuum into ?", [target])
        finally:
            con.close()
        fix = sqlite3.connect(target, isolation_level=None)
        try:
            fix.execute("pragma journal_mode = delete")
        finally:
            fix.close()
        check_release_db(target)
        return withheld
    except BaseException:
        for path in (target, target + "-journal"):
            if os.path.exists(path):
                os.unlink(path)
        raise
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(work + suffix):
                os.unlink(work + suffix)


@contextlib.contextmanager
def _folder_turn(folder: str):
    """Snapshots of one folder take turns (a lock on the folder itself); the
    one whose turn it is first removes what killed snapshots left there."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for name in os.listdir(folder):
            if WORK_FILES.match(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder, name))
        yield
    finally:
        os.close(fd)  # releases the lock


# --- the manifest -----------------------------------------------------------

def describe(path: str) -> dict:
    """What a release db holds: counts, cases, courts, dates, extractor versions."""
    con = _connect_ro(path)
    con.row_factory = sqlite3.Row
    try:
        tables = _tables(con)
        fts = set(_fts_tables(con))
        shadow = {t for t in tables for f in fts if t.startswith(f + "_")}
        counts = {t: con.execute(f"select count(*) from [{t}]").fetchone()[0]
                  for t in tables if t not in fts and t not in shadow}
        info: dict = {"tables": counts}
        cases = []
        if "dockets" in tables:
            for row in con.execute(
                    "select d.id, d.court_id, d.docket_number, d.case_name, d.date_filed, "
                    "d.date_terminated, "
                    "(select count(*) from docket_entries e where e.docket_id = d.id) as entries, "
                    "(select count(*) from documents x where x.docket_id = d.id) as documents, "
                    + ("(select count(*) from documents x where x.docket_id = d.id "
                       "and x.withheld is not null) as withheld, "
                       if "withheld" in _columns(con, "documents") else "") +
                    "(select min(date_filed) from docket_entries e where e.docket_id = d.id) as first_filing, "
                    "(select max(date_filed) from docket_entries e where e.docket_id = d.id) as last_filing "
                    "from dockets d order by d.court_id, d.docket_number"):
                cases.append(dict(row))
        info["cases"] = cases
        info["courts"] = sorted({c["court_id"] for c in cases if c["court_id"]})
        first = last = None
        if "docket_entries" in tables:
            first, last = con.execute("select min(date_filed), max(date_filed) from docket_entries "
                                      "where date_filed is not null and date_filed != ''").fetchone()
        # of filings: the entries' date_filed
        info["date_range"] = {"first": first, "last": last, "of": "docket_entries.date_filed"}
        crawls = {"count": 0, "first": None, "last": None, "dates": []}
        if "crawls" in tables:
            crawls["count"] = counts.get("crawls", 0)
            crawls["first"], crawls["last"] = con.execute(
                "select min(started), max(coalesce(finished, started)) from crawls").fetchone()
            crawls["dates"] = [r[0] for r in con.execute(
                "select distinct substr(started, 1, 10) from crawls where started is not null "
                "order by 1")]
        info["crawls"] = crawls
        versions = {}
        if "documents" in tables:
            versions = {r[0]: r[1] for r in con.execute(
                "select extractor_version, count(*) from documents where extractor_version is not null "
                "group by 1 order by 1")}
            info["documents_with_text"] = con.execute(
                "select count(*) from documents where text is not null and text != ''").fetchone()[0]
        info["extractor_versions"] = versions
        info["schema_version"] = con.execute("pragma user_version").fetchone()[0]
        return info
    finally:
        con.close()


def make_manifest(db_path: str, withheld: list[dict], day: str) -> dict:
    manifest = {
        "release": os.path.splitext(os.path.basename(db_path))[0],
        "db": os.path.basename(db_path),
        "date": day,
        "created": _now(),
        "sha256": file_sha256(db_path),
        "size": os.path.getsize(db_path),
        "sqlite_version": sqlite3.sqlite_version,
    }
    manifest.update(describe(db_path))
    manifest["withheld"] = {
        "count": len(withheld),
        "rule": ("documents sealed (is_sealed), restricted (a status in "
                 f"{sorted(publish.RESTRICTED_STATUSES)}, or a sealing or restriction notice in "
                 "the document's or its entry's description) or flagged for a bad redaction "
                 "(bad_redactions): the row stays with `withheld` saying why; "
                 + ", ".join(publish.WITHHELD_CLEARED) + " are left out"),
        "documents": withheld,
    }
    manifest["left_out"] = {
        "tables": sorted(t for t in list(archive_db.TABLES) + list(archive_db.WRITER_TABLES)
                         + [archive_db.PUBLIC_LOG] if t not in archive_db.PUBLIC_TABLES),
        "columns": {t: list(c) for t, c in archive_db.PUBLIC_TABLES.items() if c},
        "why": ("the operator's PACER ledger, the archive writer's bookkeeping, and each "
                "crawl's arguments, messages, process and host"),
    }
    return manifest


def inspect_data(db_path: str) -> dict:
    """What ``datasette inspect`` says of a release, in its own format (for
    ``--inspect-file``, and for ``archive serve --immutable``, which reads
    ``<stem>.inspect.json`` beside the db): every table's count, the file's
    hash and size. Run in the release's folder, so that it names the file
    without a path."""
    folder, name = os.path.split(os.path.abspath(db_path))
    done = subprocess.run([sys.executable, "-m", "datasette", "inspect", name, "--inspect-file", "-"],
                          cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise ReleaseError(f"datasette inspect {name} failed: "
                           f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    return json.loads(done.stdout)


def latest_pointer(manifest: dict, manifest_name: str) -> dict:
    return {"db": manifest["db"], "manifest": manifest_name, "sha256": manifest["sha256"],
            "size": manifest["size"], "date": manifest["date"]}


def existing_release(db_path: str) -> tuple[str, dict]:
    """(manifest path, latest.json pointer) of a release already written, e.g.
    to upload it again after a failed upload; the file must match its manifest."""
    if not db_path.endswith(".db") or not os.path.exists(db_path):
        raise ReleaseError(f"{db_path}: no such release (dockets-YYYY-MM-DD.db)")
    manifest_path = db_path[:-3] + ".manifest.json"
    try:
        with open(manifest_path) as fh:
            manifest = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{manifest_path}: cannot be read: {exc}") from None
    if (manifest.get("sha256") != file_sha256(db_path)
            or manifest.get("size") != os.path.getsize(db_path)):
        raise ReleaseError(f"{db_path} is not the file its manifest describes (SHA-256 or size)")
    return manifest_path, latest_pointer(manifest, os.path.basename(manifest_path))


def _write_json(path: str, data: dict, replace: bool) -> None:
    """``data`` as JSON at ``path``, whole or not at all (readable as the .db
    is, by a web server too); ``replace=False``: never over a file of that name."""
    write_atomically(path, json.dumps(data, indent=2, sort_keys=False) + "\n", replace=replace)


def make_release(source: str, out: str, day: Optional[str] = None,
                 taken: Optional[Callable[[str], bool]] = None) -> dict:
    """Write a release of ``source`` into the folder ``out``; return
    {"db": path, "manifest": path, "latest": path, "pointer": {...}, "manifest_data": {...}}.

    ``taken(name)``, when given, also rules out names (e.g. keys already in S3).
    """
    day = day or _today()
    if not os.path.exists(source):
        raise ReleaseError(f"{source} does not exist: run `make archive` first")
    os.makedirs(out, exist_ok=True)
    with _folder_turn(out):
        return _make_release(source, out, day, taken)


def _make_release(source, out, day, taken) -> dict:
    while True:
        db_name, manifest_name = release_names(
            day, lambda name: os.path.exists(os.path.join(out, name)) or bool(taken and taken(name)))
        db_path = os.path.join(out, db_name)
        tmp = os.path.join(out, f".{db_name}.tmp-{os.getpid()}")
        if os.path.exists(tmp):
            os.unlink(tmp)
        withheld = build_release_db(source, tmp)
        try:
            os.link(tmp, db_path)  # never overwrites: another snapshot took the name -> next one
        except FileExistsError:
            os.unlink(tmp)
            continue
        os.unlink(tmp)
        break
    manifest = make_manifest(db_path, withheld, day)
    manifest_path = os.path.join(out, manifest_name)
    _write_json(manifest_path, manifest, replace=False)
    inspect_path = os.path.join(out, manifest_name.replace(".manifest.json", ".inspect.json"))
    _write_json(inspect_path, inspect_data(db_path), replace=True)
    pointer = latest_pointer(manifest, manifest_name)
    latest = os.path.join(out, LATEST)
    _write_json(latest, pointer, replace=True)  # only now: the files it names are complete
    return {"db": db_path, "manifest": manifest_path, "inspect": inspect_path,
            "latest": latest, "pointer": pointer,
            "manifest_data": manifest}


# --- S3 -----------------------------------------------------------------------

def parse_s3_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ReleaseError(f"{url}: expected s3://bucket/prefix/")
    prefix = parsed.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return parsed.netloc, prefix


def s3_client():
    import boto3  # optional: only for --to s3://

    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def check_bucket(client, url: str) -> None:
    """Raise ReleaseError unless the bucket of ``url`` can be reached (before a release is made)."""
    from botocore.exceptions import BotoCoreError, ClientError  # optional: as above

    bucket, _ = parse_s3_url(url)
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        why = {"404": "no such bucket", "NoSuchBucket": "no such bucket",
               "403": "access denied"}.get(str(code), str(exc))
        raise ReleaseError(f"s3://{bucket}/: {why}") from None
    except BotoCoreError as exc:
        raise ReleaseError(f"s3://{bucket}/: {exc}") from None


def s3_exists(client, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError  # optional: as above

    try:
        client.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _put(client, path: str, bucket: str, key: str, content_type: str,
         threshold: int, part_size: int) -> None:
    """Upload ``path`` with boto3's transfer manager: one PUT up to
    ``threshold`` bytes, else a multipart upload of ``part_size`` parts
    (aborted if it fails), each with its SHA-256 checksum, which S3 checks."""
    from boto3.s3.transfer import TransferConfig  # optional: only for --to s3://

    client.upload_file(path, bucket, key,
                       ExtraArgs={"ContentType": content_type, "ChecksumAlgorithm": "SHA256"},
                       Config=TransferConfig(multipart_threshold=threshold,
                                             multipart_chunksize=part_size))


def _composite_sha256(path: str, part_size: int) -> tuple[str, int]:
    """(the SHA-256 of the parts' SHA-256s, base64; the number of parts) of
    ``path`` cut into ``part_size`` parts: what S3 reports for a multipart upload."""
    digests = []
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(part_size), b""):
            digests.append(hashlib.sha256(block).digest())
    return _b64(hashlib.sha256(b"".join(digests)).digest()), len(digests)


def verify_upload(client, bucket: str, key: str, path: str) -> str:
    """Check the object at ``key`` is ``path``: its size, and the SHA-256
    checksum S3 reports (``ChecksumSHA256``: the file's, or for a multipart
    upload the checksum of its parts' checksums, the parts' size read from
    S3), or, from a store that reports none, the SHA-256 of the object
    downloaded again. Returns how it was checked."""
    size = os.path.getsize(path)
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    if head.get("ContentLength") != size:
        raise ReleaseError(f"s3://{bucket}/{key}: {head.get('ContentLength')} bytes in the "
                           f"bucket, {size} written")
    reported, _, of_parts = (head.get("ChecksumSHA256") or "").partition("-")
    if reported:
        # "<checksum>-<parts>": a multipart upload's checksum of its parts'
        # checksums, which the whole file's never equals (not read for it)
        if not of_parts and reported == _b64(bytes.fromhex(file_sha256(path))):
            return "size and ChecksumSHA256"
        first = client.head_object(Bucket=bucket, Key=key, PartNumber=1)
        if (first.get("PartsCount") or 1) > 1:
            expected, parts = _composite_sha256(path, first["ContentLength"])
            if reported == expected and parts == first["PartsCount"]:
                return f"size and ChecksumSHA256 of its {parts} parts"
        raise ReleaseError(f"s3://{bucket}/{key}: checksum {head['ChecksumSHA256']} in the "
                           "bucket is not the file's")
    digest = hashlib.sha256()
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    for block in iter(lambda: body.read(1 << 20), b""):
        digest.update(block)
    if digest.hexdigest() != file_sha256(path):
        raise ReleaseError(f"s3://{bucket}/{key}: the object downloaded again is not the file written")
    return "size and SHA-256 of the object downloaded again"


def upload_release(client, url: str, db_path: str, manifest_path: str, pointer: dict,
                   threshold: int = MULTIPART_THRESHOLD, part_size: int = PART_SIZE,
                   log: Callable[[str], None] = lambda message: None) -> str:
    """Upload a release to ``s3://bucket/prefix/``: the db, then the manifest,
    each verified, and only then ``latest.json``. Raises ReleaseError (with
    ``latest.json`` untouched) when any step fails. Returns latest.json's key."""
    from boto3.exceptions import S3UploadFailedError  # optional: as above
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = parse_s3_url(url)
    step = "connecting"
    try:
        for path, kind in ((db_path, "application/vnd.sqlite3"),
                           (manifest_path, "application/json")):
            key = prefix + os.path.basename(path)
            step = f"uploading {os.path.basename(path)} to s3://{bucket}/{key}"
            _put(client, path, bucket, key, kind, threshold, part_size)
            step = f"verifying s3://{bucket}/{key}"
            how = verify_upload(client, bucket, key, path)
            log(f"s3://{bucket}/{key}: {os.path.getsize(path)} bytes, verified ({how})")
        with tempfile.TemporaryDirectory() as tmp:
            latest = os.path.join(tmp, LATEST)
            with open(latest, "w") as fh:
                json.dump(pointer, fh, indent=2)
                fh.write("\n")
            key = prefix + LATEST
            step = f"writing s3://{bucket}/{key}"
            _put(client, latest, bucket, key, "application/json", threshold, part_size)
            verify_upload(client, bucket, key, latest)
        log(f"s3://{bucket}/{key} -> {pointer['db']}")
        return key
    except ReleaseError as exc:
        raise ReleaseError(f"{exc}; s3://{bucket}/{prefix}{LATEST} was not changed") from None
    except (BotoCoreError, ClientError, S3UploadFailedError, OSError) as exc:
        raise ReleaseError(f"{step} failed: {exc}; s3://{bucket}/{prefix}{LATEST} "
                           "still names the previous release") from None
