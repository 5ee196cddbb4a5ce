"""Extraction limits (issue 9, point 8): hostile PDFs cost one document.

The PDFs are made here, small: a page of 2 million text operators, a page
of 2 million do-nothing operators (slow), content streams that inflate to
hundreds of megabytes, and a 200 x 200 inch page holding only an image. They
go through ExtractTextPipeline in-process, with small limits, between
ordinary PDFs, and through `python -m archive extract`.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import psutil
import pytest
from scrapy.utils.test import get_crawler

from archive import access
from archive import db as adb
from archive.extract.limits import Limits
from archive.extract.pool import ExtractionPool
from docket_spider.items import DocumentItem
from docket_spider.pipelines.extract import ExtractTextPipeline
from parsers import pdf as pdfmod
from tests.conftest import PROJECT
from tests.servers.cases import make_pdf, pdf_of_objects

MB = 1 << 20


# --------------------------------------------------------------------------- hostile PDFs


def _pdf(pages: list[bytes], extra: list[bytes] = ()) -> bytes:
    """A PDF of ``pages`` (page dicts without /Type /Parent) and ``extra``
    objects, numbered from 3 + len(pages)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(len(pages)))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages))]
    objects += [b"<< /Type /Page /Parent 2 0 R " + p + b" >>" for p in pages]
    objects += list(extra)
    return pdf_of_objects(objects, header=b"%PDF-1.4\n")


def _stream(data: bytes, dict_extra: bytes = b"") -> bytes:
    z = zlib.compress(data, 6)
    return b"<< /Length %d /Filter /FlateDecode %s>>\nstream\n%s\nendstream" % (len(z), dict_extra, z)


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
LETTER = b"/MediaBox [0 0 612 792]"


@functools.lru_cache(maxsize=None)
def text_bomb(n: int = 2_000_000, with_text_page: bool = False) -> bytes:
    """``n`` ``Tj`` operators on one page (about 20 KB); optionally after an ordinary page."""
    pages, extra = [], [FONT]
    font_ref = 3 + 1 + with_text_page  # the first extra object
    res = b"/Resources << /Font << /F1 %d 0 R >> >>" % font_ref
    base = 3 + (1 + with_text_page) + 1
    if with_text_page:
        pages.append(LETTER + b" " + res + b" /Contents %d 0 R" % base)
        extra.append(_stream(b"BT /F1 11 Tf 72 700 Td (Order granting the motion to dismiss) Tj ET"))
        base += 1
    pages.append(LETTER + b" " + res + b" /Contents %d 0 R" % base)
    extra.append(_stream(b"BT /F1 1 Tf 10 10 Td " + b"(a) Tj " * n + b"ET"))
    return _pdf(pages, extra)


@functools.lru_cache(maxsize=None)
def slow_bomb(n: int = 2_000_000, after_text_page: bool = False) -> bytes:
    """``n`` ``q Q`` operators (8 KB): nothing drawn, a long time to interpret;
    optionally on page 2, after an ordinary page."""
    if not after_text_page:
        return _pdf([LETTER + b" /Contents 4 0 R"], [_stream(b"q Q " * n)])
    res = b"/Resources << /Font << /F1 5 0 R >> >>"
    return _pdf([LETTER + b" " + res + b" /Contents 6 0 R", LETTER + b" /Contents 7 0 R"],
                [FONT, _stream(b"BT /F1 11 Tf 72 700 Td (Order of the court) Tj ET"),
                 _stream(b"q Q " * n)])


@functools.lru_cache(maxsize=None)
def inflate_bomb(mb: int = 400) -> bytes:
    """A content stream that inflates to ``mb`` MB of spaces (about 400 KB)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    chunk = b" " * MB
    z = b"".join(c.compress(chunk) for _ in range(mb)) + c.flush()
    body = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(z), z)
    return _pdf([LETTER + b" /Contents 4 0 R"], [body])


def image_page(points: int = 14400) -> bytes:
    """A ``points`` x ``points`` page (14400: PDF's largest, 200 x 200 in) with
    an 8 x 8 image over it and no text, so OCR is tried (702 bytes)."""
    return _pdf(
        [b"/MediaBox [0 0 %d %d] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R"
         % (points, points)],
        [_stream(b"q %d 0 0 %d 0 0 cm /Im1 Do Q" % (points, points)),
         _stream(bytes(range(0, 256, 4)),
                 b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
                 b"/BitsPerComponent 8 ")])


def good(n: int) -> bytes:
    return make_pdf([f"Order number {n} granting the motion"])


# --------------------------------------------------------------------------- parsers.pdf


def test_text_operator_bomb_page_is_abandoned_and_the_other_page_kept():
    data = text_bomb(with_text_page=True)
    assert len(data) < 40_000
    start = time.monotonic()
    r = pdfmod.extract(data, ocr=False, page_max_objects=20_000)
    assert r["status"] == "too_large"
    assert "1 of 2 page(s) over an extraction limit" in r["error"]
    assert "page 2 not read: more than 20,000 characters" in r["error"]
    assert "motion to dismiss" in r["text"]  # page 1 is kept
    assert r["page_count"] == 2 and r["pages"][1]["error"]
    assert time.monotonic() - start < 120  # stopped early (unbounded: minutes and gigabytes)


def test_drawing_bomb_page_is_abandoned():
    data = _pdf([LETTER + b" /Contents 4 0 R"], [_stream(b"0 0 1 1 re f " * 200_000)])
    r = pdfmod.extract(data, ocr=False, page_max_objects=20_000)
    assert r["status"] == "too_large" and "page 1 not read: more than 20,000" in r["error"]


def test_ocr_dpi_is_lowered_for_big_pages_and_refused_for_huge_ones():
    assert pdfmod.ocr_dpi_for(612, 792) == 300  # letter: 8.4 megapixels
    dpi = pdfmod.ocr_dpi_for(2592, 3456, max_pixels=25_000_000)  # 36 x 48 in drawing
    assert pdfmod.OCR_MIN_DPI <= dpi < 300 and (36 * dpi) * (48 * dpi) <= 25_000_000
    assert pdfmod.ocr_dpi_for(14400, 14400) is None  # 400 megapixels even at 100 dpi

    engine = pdfmod._OCR(image_page(1440), None, 300, "eng", max_pixels=4_000_000)
    try:
        img = engine.render(0)  # 20 x 20 in: 100 dpi, not 300 (36 megapixels)
        assert img.width * img.height <= 4_000_000 and img.width >= 1900
        assert engine.lowered == [(1, 100)]
    finally:
        engine.close()
    engine = pdfmod._OCR(image_page(), None, 300, "eng")
    try:
        with pytest.raises(pdfmod._OverLimit, match="over the OCR pixel budget"):
            engine.render(0)
    finally:
        engine.close()


def test_huge_page_is_not_rendered_for_ocr(monkeypatch):
    # tesseract may be missing here: the page is refused before it is needed
    monkeypatch.setattr(pdfmod, "_tesseract", lambda: "tesseract")
    r = pdfmod.extract(image_page(), ocr=True)
    assert r["status"] == "too_large"
    assert "page 1 not OCR'd: at 200 x 200 in it needs 400 megapixels even at 100 dpi" in r["error"]


# --------------------------------------------------------------------------- the crawl's pipeline


def _workers():
    """This process's extraction workers (multiprocessing's spawned children;
    not its resource tracker)."""
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                out.append(child)
        except psutil.Error:
            pass
    return out


class _PeakMemory:
    """Largest RSS of any extraction worker, sampled every 50 ms."""

    def __init__(self):
        self.peak, self.pids = 0, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for child in _workers():
                try:
                    self.peak = max(self.peak, child.memory_info().rss)
                    self.pids.add(child.pid)
                except psutil.Error:
                    pass
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _crawler(tmp_path, **settings):
    return get_crawler(settings_dict={
        "ARCHIVE_DB": str(tmp_path / "a.db"), "FILES_STORE": str(tmp_path / "files"),
        "EXTRACT_WORKERS": 2, "EXTRACT_OCR": True, **settings})


def test_pipeline_limits_each_document_and_goes_on(tmp_path):
    files = tmp_path / "files"
    (files / "cand").mkdir(parents=True)
    docs = [("good1", good(1)), ("textbomb", text_bomb()), ("good2", good(2)),
            ("slow", slow_bomb()), ("good3", good(3)), ("inflate", inflate_bomb()),
            ("hugepage", image_page()), ("good4", good(4)),
            # after all the others: each needs a new worker when its slot's was replaced
            ("good5", good(5)), ("good6", good(6))]
    items = []
    for number, (name, data) in enumerate(docs, 1):
        (files / "cand" / f"{name}.pdf").write_bytes(data)
        items.append(DocumentItem(source="test", court_id="cand", docket_number="3:20-cv-05910",
                                  entry_number=number, document_number=str(number),
                                  file_path=f"cand/{name}.pdf", files=[{"status": "downloaded"}]))
    limit_mb = 512
    crawler = _crawler(tmp_path, EXTRACT_MEMORY_LIMIT_MB=limit_mb, EXTRACT_TIME_LIMIT=8,
                       EXTRACT_PAGE_MAX_OBJECTS=20_000)
    crawler.spider = crawler._create_spider("test")
    pipe = ExtractTextPipeline.from_crawler(crawler)
    pipe.open_spider()

    order = []

    async def one(name, item):
        item = await pipe.process_item(item)
        order.append(name)
        return item

    async def run_all():
        # all at once: documents are in flight beside the ones whose worker is killed
        first = await asyncio.gather(*(one(name, item) for (name, _), item in zip(docs, items[:-2])))
        return first + await asyncio.gather(*(one(name, item) for (name, _), item
                                              in zip(docs[-2:], items[-2:])))

    with _PeakMemory() as mem:
        out = {name: item for (name, _), item in zip(docs, asyncio.run(run_all()))}
        stats = dict(pipe.pool.stats)
        pipe.close_spider()
    access.for_crawler(crawler).close()

    for n in (1, 2, 3, 4, 5, 6):
        assert out[f"good{n}"].status == "ok", out[f"good{n}"].error
        assert f"Order number {n} granting" in out[f"good{n}"].text
    assert out["textbomb"].status == "too_large"
    assert "more than 20,000 characters, images and drawn paths" in out["textbomb"].error
    assert out["slow"].status == "timeout"
    assert "over the time limit of 8 s per document" in out["slow"].error
    assert out["inflate"].status == "too_large"
    assert f"out of memory while reading the PDF (over the {limit_mb} MB memory limit)" \
        in out["inflate"].error
    if shutil.which("tesseract"):
        assert out["hugepage"].status == "too_large" and "pixel budget" in out["hugepage"].error
    else:
        assert out["hugepage"].status == "empty"  # OCR needed, not possible: never rendered
    # the timed-out worker was killed and the one out of memory retired: both
    # replaced (a new worker starts when its slot gets its next document)
    assert stats["timeouts"] == 1 and stats["workers_replaced"] >= 2, stats
    # every worker seen is one the pool started; a retired one is replaced only when its
    # slot has another document, so the last retirements may have no successor
    assert len(mem.pids) == stats["workers_started"] <= 2 + stats["workers_replaced"], \
        (stats, mem.pids, order)
    assert crawler.stats.get_value("extract/too_large") == 2 + bool(shutil.which("tesseract"))
    assert crawler.stats.get_value("extract/timeout") == 1
    # no worker went past its limit (unbounded, these PDFs passed 6 GB)
    assert 0 < mem.peak <= limit_mb * MB
    assert not _workers()  # all workers gone


def test_page_time_limit_and_a_worker_killed_from_outside():
    limits = Limits(memory_mb=512, time_limit=60, page_time_limit=4)
    with ExtractionPool(1, limits) as pool:
        # page 1 is quick, page 2 is not: the per-page limit stops it
        r = pool.submit(slow_bomb(after_text_page=True), False).result(timeout=60)
        assert r["status"] == "timeout"
        assert "page 2 took longer than the time limit of 4 s per page" in r["error"]
        assert pool.stats["timeouts"] == 1 and pool.stats["workers_replaced"] == 1

        # a worker killed by someone else (the kernel's OOM killer, a person)
        slow = pool.submit(slow_bomb(), False)
        after = pool.submit(good(7), False)  # queued behind it, on the same worker slot
        deadline = time.monotonic() + 30
        while not pool.worker_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        psutil.Process(pool.worker_pids()[0]).kill()
        r = slow.result(timeout=60)
        assert r["status"] == "error" and "the extraction worker died (killed by SIGKILL)" in r["error"]
        assert after.result(timeout=60)["status"] == "ok"
        assert pool.stats["crashes"] == 1 and pool.stats["workers_started"] == 3


def test_a_worker_keeps_its_temporary_files_in_its_own_folder_which_goes_with_it(
        tmp_path, monkeypatch):
    """Tesseract's images and texts (and Ghostscript's repairs) go to the
    worker's own folder, never the system's; a worker killed mid-page leaves
    nothing behind, and what killed crawls' workers left is swept at the start."""
    # a Tesseract that hangs, so the worker is killed while its files are there
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "tesseract"
    fake.write_text('#!/bin/sh\n[ "$1" = "--version" ] && { echo "tesseract 5.3.0"; exit 0; }\n'
                    "exec sleep 20\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    system = tmp_path / "system-tmp"
    system.mkdir()
    monkeypatch.setenv("TMPDIR", str(system))
    monkeypatch.setattr(tempfile, "tempdir", None)
    work = tmp_path / "archive" / ".extract-tmp"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (work / str(gone.pid) / "pdfrepairx1y2").mkdir(parents=True)  # a killed crawl's worker's
    (work / str(gone.pid) / "tess_left_input.PNG").write_bytes(b"png")
    (work / str(os.getpid())).mkdir()  # a live process's: kept

    hung = []
    with ExtractionPool(1, Limits(memory_mb=1024, time_limit=60, page_time_limit=3),
                        tmp_dir=str(work)) as pool:
        assert not (work / str(gone.pid)).exists()
        assert (work / str(os.getpid())).exists()
        assert (work / ".gitignore").read_text().endswith("*\n")
        running = pool.submit(image_page(612), True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not hung:
            for pid in pool.worker_pids():
                if any(p.name.startswith("tess_") for p in (work / str(pid)).glob("*")):
                    hung = psutil.Process(pid).children(recursive=True)
                    worker = pid
            time.sleep(0.05)
        assert hung, "the worker never started Tesseract"
        result = running.result(timeout=60)
        assert result["status"] == "timeout"
        assert not (work / str(worker)).exists()  # killed, and its files gone with it
        assert pool.submit(good(8), False).result(timeout=60)["status"] == "ok"
        assert os.listdir(work / str(pool.worker_pids()[0])) == []
    for process in hung:
        with contextlib.suppress(psutil.Error):
            process.kill()
    assert sorted(os.listdir(work)) == [".gitignore", str(os.getpid())]  # stopped: gone too
    assert list(system.iterdir()) == []  # nothing in the system's temporary folder


# --------------------------------------------------------------------------- archive extract


def test_archive_extract_uses_the_same_limits(tmp_path):
    files = tmp_path / "files"
    (files / "cand").mkdir(parents=True)
    db_path = tmp_path / "a.db"
    db = adb.open_db(str(db_path))
    base = {"court_id": "cand", "docket_number": "3:20-cv-05910"}
    for number, (name, data) in enumerate(
            [("bomb", text_bomb()), ("inflate", inflate_bomb()), ("fine", good(5))], 1):
        (files / "cand" / f"{name}.pdf").write_bytes(data)
        adb.save_document(db, dict(base, entry_number=number, document_number=str(number),
                                   file_path=f"cand/{name}.pdf"))
    db.conn.close()

    cmd = [sys.executable, "-m", "archive", "extract", "--db", str(db_path), "--files", str(files),
           "--no-ocr", "--workers", "2", "-s", "EXTRACT_MEMORY_LIMIT_MB=512",
           "-s", "EXTRACT_PAGE_MAX_OBJECTS=20000", "-s", "EXTRACT_TIME_LIMIT=30"]
    proc = subprocess.run(cmd, cwd=PROJECT, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "3 documents extracted (2 errors, 0 files missing)" in out
    assert "cand/bomb.pdf: too_large: 1 of 1 page(s) over an extraction limit" in out
    con = sqlite3.connect(db_path)
    got = dict(con.execute("select file_path, status || ': ' || coalesce(error, '') from documents"))
    con.close()
    assert got["cand/fine.pdf"] == "ok: "
    assert got["cand/bomb.pdf"].startswith("too_large: 1 of 1 page(s) over an extraction limit")
    assert got["cand/inflate.pdf"] == ("too_large: out of memory while reading the PDF "
                                       "(over the 512 MB memory limit)")

    bad = subprocess.run(cmd[:-2] + ["-s", "TIME_LIMIT=3"], cwd=PROJECT, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode != 0 and "expected EXTRACT_NAME=VALUE" in bad.stderr
