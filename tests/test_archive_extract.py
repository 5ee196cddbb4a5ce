"""archive extract: text again from stored PDFs, skipping what is up to date."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

from archive import db as adb
from tests.conftest import PROJECT, rows
from tests.servers.cases import make_pdf


def archive(*args):
    proc = subprocess.run([sys.executable, "-m", "archive", *map(str, args)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_extract_again_only_what_changed(tmp_path):
    files = tmp_path / "files"
    (files / "cand").mkdir(parents=True)
    (files / "cand" / "a.pdf").write_bytes(make_pdf(["Order granting preliminary injunction"]))
    db_path = tmp_path / "a.db"
    db = adb.open_db(str(db_path))
    base = {"court_id": "cand", "docket_number": "3:20-cv-05910"}
    adb.save_document(db, dict(base, entry_number=59, document_number="59", file_path="cand/a.pdf"))
    adb.save_document(db, dict(base, entry_number=60, document_number="60", file_path="cand/gone.pdf"))
    db.conn.close()

    code, out = archive("extract", "--db", db_path, "--files", files, "--no-ocr")
    assert code == 0, out
    assert "1 documents extracted (0 errors, 1 files missing)" in out
    con = sqlite3.connect(db_path)
    text, status, version, sha = con.execute(
        "select text, status, extractor_version, sha256 from documents where document_number = '59'"
    ).fetchone()
    assert "preliminary injunction" in text and status == "ok" and version and len(sha) == 64
    assert con.execute("select status from documents where document_number = '60'").fetchone() == ("error",)
    con.close()

    code, out = archive("extract", "--db", db_path, "--files", files, "--no-ocr")
    assert "Nothing to extract" in out or "0 documents extracted" in out or "1 files missing" in out
    assert "1 documents extracted" not in out  # the good one is up to date


def test_extract_honours_the_ocr_setting(tmp_path, monkeypatch):
    """`-s EXTRACT_OCR=False` is `--no-ocr`, as for scrapy crawl (it OCR'd anyway)."""
    from click.testing import CliRunner

    import archive.cli
    from archive.cli import cli

    files = tmp_path / "files"
    (files / "cand").mkdir(parents=True)
    (files / "cand" / "a.pdf").write_bytes(make_pdf(["Order"]))
    db_path = tmp_path / "a.db"
    db = adb.open_db(str(db_path))
    adb.save_document(db, {"court_id": "cand", "docket_number": "3:20-cv-05910", "entry_number": 1,
                           "document_number": "1", "file_path": "cand/a.pdf"})
    db.conn.close()
    asked = []

    def extract_many(paths, workers=None, ocr=True, limits=None, tmp_dir=None):
        asked.append(ocr)
        return [{"status": "ok", "text": "Order", "page_count": 1} for _ in paths]

    monkeypatch.setattr(archive.cli, "extract_many", extract_many)
    for options, ocr in ((["-s", "EXTRACT_OCR=False"], False), (["--no-ocr"], False), ([], True),
                         (["-s", "EXTRACT_OCR=True"], True)):
        out = CliRunner().invoke(cli, ["extract", "--db", str(db_path), "--files", str(files),
                                       "--force", *options])
        assert out.exit_code == 0, out.output
        assert asked.pop() is ocr, options
    crawls = rows(db_path, "select args from crawls where spider = 'extract' order by id")
    assert '"ocr": false' in crawls[0]["args"]
