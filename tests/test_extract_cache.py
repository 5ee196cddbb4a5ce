"""EXTRACT_CACHE_DIR: a file extracted once is not extracted again, in any
archive of the machine; only its text is kept, never a failure."""
from __future__ import annotations

import asyncio

from scrapy.utils.test import get_crawler

from archive import access
from docket_spider.items import DocumentItem
from docket_spider.pipelines.extract import ExtractTextPipeline
from tests.servers.cases import make_pdf


def _extract(tmp_path, name, pdf: bytes, cache, **settings):
    files = tmp_path / name / "files"
    (files / "cand").mkdir(parents=True)
    (files / "cand" / "a.pdf").write_bytes(pdf)
    crawler = get_crawler(settings_dict={
        "ARCHIVE_DB": str(tmp_path / name / "a.db"), "FILES_STORE": str(files),
        "EXTRACT_WORKERS": 1, "EXTRACT_OCR": False, "EXTRACT_CACHE_DIR": str(cache), **settings})
    crawler.spider = crawler._create_spider("test")
    pipe = ExtractTextPipeline.from_crawler(crawler)
    pipe.open_spider()
    item = DocumentItem(source="courtlistener", court_id="cand", docket_number="3:20-cv-05910",
                        entry_number=1, document_number="1", file_path="cand/a.pdf",
                        files=[{"status": "downloaded"}])
    try:
        item = asyncio.run(pipe.process_item(item))
    finally:
        pipe.close_spider()
        access.for_crawler(crawler).close()
    return item, crawler.stats


def test_the_same_bytes_in_another_archive_are_not_extracted_again(tmp_path):
    cache = tmp_path / "cache"
    pdf = make_pdf(["ORDER granting the motion for a preliminary injunction"])
    first, stats = _extract(tmp_path, "one", pdf, cache)
    assert first.status == "ok" and "preliminary injunction" in first.text
    assert stats.get_value("extract/from_cache") is None
    again, stats = _extract(tmp_path, "two", pdf, cache)
    assert stats.get_value("extract/from_cache") == 1
    assert (again.status, again.text, again.page_count, again.sha256) == \
        (first.status, first.text, first.page_count, first.sha256)
    # other limits: another key (a tighter limit may give another answer)
    _, stats = _extract(tmp_path, "three", pdf, cache, EXTRACT_PAGE_MAX_OBJECTS=50_000)
    assert stats.get_value("extract/from_cache") is None


def test_a_failure_is_not_kept(tmp_path):
    cache = tmp_path / "cache"
    broken = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"  # no pages, no xref, no %%EOF
    first, _ = _extract(tmp_path, "one", broken, cache)
    assert first.status == "error"
    again, stats = _extract(tmp_path, "two", broken, cache)
    assert again.status == "error" and stats.get_value("extract/from_cache") is None
    assert not list(cache.rglob("*.json"))
