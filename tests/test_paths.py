"""Every path segment that comes from a source is made safe: nothing is
written outside FILES_STORE, whatever a source sends (issue 9, point 5).

File names stay RECAP's (gov.uscourts.<court>.<case>.<doc>.<att>.pdf) for
ordinary input, so archives stored before keep their files.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from docket_spider.items import DocumentItem
from archive.names import safe_name as _safe_name
from docket_spider.pipelines.files import DocumentFilesPipeline
from tests.conftest import rows, run_crawl
from tests.servers.cases import Case, docket_object, make_pdf
from tests.servers.courtlistener import CourtListenerServer

SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
HOSTILE = [
    "../../../../../../tmp/docket-archive-escape",
    "..", ".", "/etc/passwd", "/", "C:\\Windows\\system32", "..\\..\\x",
    "a\x00b", "nul\x00", "x" * 5000, "é" * 300 + "/..", " ", "\n../x", "-", "...",
]


@pytest.fixture
def pipeline(tmp_path):
    store = tmp_path / "store" / "files"
    crawler = get_crawler(settings_dict={"FILES_STORE": str(store)})
    return DocumentFilesPipeline.from_crawler(crawler), store


def doc(**fields):
    base = dict(source="courtlistener", court_id="cand", docket_number="3:20-cv-05910",
                pacer_case_id="364733", document_number="12", attachment_number=0)
    return DocumentItem(**{**base, **fields})


def path_of(pipeline, item, url="https://storage.courtlistener.com/recap/x.pdf"):
    return pipeline.file_path(Request(url), item=item)


def assert_safe(path: str, store: Path):
    parts = path.split("/")
    assert len(parts) == 3, path
    for part in parts:
        assert SEGMENT.match(part), (path, part)
        assert part not in (".", "..") and len(part) <= 200, part
    assert path.endswith(".pdf")
    target = (store / path).resolve()
    assert target.is_relative_to(store.resolve()), target


def test_ordinary_names_are_unchanged(pipeline):
    pipe, _ = pipeline
    assert path_of(pipe, doc()) == "cand/gov.uscourts.cand.364733/gov.uscourts.cand.364733.12.0.pdf"
    assert path_of(pipe, doc(attachment_number=3)) == \
        "cand/gov.uscourts.cand.364733/gov.uscourts.cand.364733.12.3.pdf"
    assert path_of(pipe, doc(attachment_number=None)).endswith(".12.0.pdf")
    # no PACER case id: the docket number, as before (':' -> '_')
    assert path_of(pipe, doc(court_id="ca9", docket_number="20-16908", pacer_case_id=None,
                             document_number="7")) == \
        "ca9/gov.uscourts.ca9.20-16908/gov.uscourts.ca9.20-16908.7.0.pdf"
    assert path_of(pipe, doc(pacer_case_id=None)) == \
        "cand/gov.uscourts.cand.3_20-cv-05910/gov.uscourts.cand.3_20-cv-05910.12.0.pdf"
    # an ACMS case id (a GUID) and unnumbered documents
    guid = "f9f5230d-a95c-ee11-a81c-001dd80ad0b3"
    assert path_of(pipe, doc(court_id="ca9", pacer_case_id=guid, document_number="4",
                             attachment_number=2)) == \
        f"ca9/gov.uscourts.ca9.{guid}/gov.uscourts.ca9.{guid}.4.2.pdf"
    assert path_of(pipe, doc(document_number=None, recap_sequence_number="2020-09-21.001")) \
        .endswith(".seq2020-09-21.001.0.pdf")
    assert path_of(pipe, doc(document_number=None, pacer_doc_id="035019432270")) \
        .endswith(".doc035019432270.0.pdf")


@pytest.mark.parametrize("field", ["court_id", "pacer_case_id", "docket_number",
                                   "document_number", "attachment_number", "pacer_doc_id"])
def test_hostile_segments_stay_inside_the_store(pipeline, field):
    pipe, store = pipeline
    seen = set()
    for value in HOSTILE:
        fields = {field: value}
        if field == "docket_number":
            fields["pacer_case_id"] = None
        if field == "pacer_doc_id":
            fields["document_number"] = None
        path = path_of(pipe, doc(**fields))
        assert_safe(path, store)
        seen.add(path)
    # different names stay different files
    assert len(seen) == len(HOSTILE)


def test_every_segment_hostile_at_once_and_written_for_real(pipeline, tmp_path):
    pipe, store = pipeline
    item = doc(court_id="../../..", pacer_case_id="/tmp/../../x\x00", docket_number="../d",
               document_number="x" * 1000, attachment_number="../../" * 50)
    path = path_of(pipe, item)
    assert_safe(path, store)
    # as Scrapy's folder store does: FILES_STORE joined with the path
    target = Path(os.path.join(str(store), path))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"%PDF-1.4 test\n%%EOF\n")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [store / path]
    assert (store / path).read_bytes().startswith(b"%PDF")


def test_long_names_are_capped_and_kept_apart():
    a, b = "7" * 150 + "a", "7" * 150 + "b"
    assert len(_safe_name(a)) == 100 and len(_safe_name(b)) == 100
    assert _safe_name(a) != _safe_name(b)
    assert _safe_name("1" * 100) == "1" * 100  # at the cap: unchanged


def test_a_crawl_with_a_hostile_case_id_writes_only_inside_the_store(tmp_path):
    """The real crawl against the local CourtListener, whose docket says its
    PACER case id is a path out of FILES_STORE."""
    # with the old names this wrote tmp_path/a/b/c/escaped.1.0.pdf
    hostile = "../../../../escaped"
    docket = docket_object({
        "id": 7001, "court_id": "cand", "case_name": "Traversal v. Store",
        "docket_number": "3:21-cv-07001", "pacer_case_id": "7001", "date_filed": "2021-01-04",
        "date_created": "2021-01-04T10:00:00.000000-08:00",
        "date_modified": "2021-01-04T10:00:00.000000-08:00"})
    case = Case(docket=docket, next_entry_id=700100, next_document_id=700200)
    for n in (1, 2):
        case.add_entry(n, "2021-01-0%d" % (n + 3), "ORDER number %d" % n,
                       documents=[{"description": "Order", "pacer_doc_id": "03501%d" % n,
                                   "pdf": make_pdf(["Traversal v. Store", "Order %d" % n])}])
    # the files are served under their ordinary names; the API then says the case
    # id is a path (what a hostile or broken source could send)
    case.docket["pacer_case_id"] = hostile
    store = tmp_path / "a" / "b" / "c" / "d" / "files"
    with CourtListenerServer([case], token="t0ken") as server:
        code, log = run_crawl(
            "courtlistener", args=("court=cand", "docket_number=3:21-cv-07001"),
            env={"COURTLISTENER_TOKEN": "t0ken"}, db=tmp_path / "dockets.db", files=store,
            settings={**server.settings(), "COURTLISTENER_RATE_PER_MINUTE": "6000",
                      "EXTRACT_OCR": "False", "EXTRACT_WORKERS": "1"}, timeout=120)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    docs = rows(tmp_path / "dockets.db", "select * from documents order by document_number")
    assert len(docs) == 2 and all(d["file_path"] for d in docs), docs
    for d in docs:
        assert_safe(d["file_path"], store)
        assert (store / d["file_path"]).read_bytes().startswith(b"%PDF")
    # nothing anywhere else: only the archive, its side files, its locks, its extraction
    # workers' temporary folder (empty but for its .gitignore) and the store
    locks, work = tmp_path / ".dockets.db.locks", tmp_path / ".extract-tmp"
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(store)
               and not p.is_relative_to(locks) and p != work / ".gitignore"
               and not p.name.startswith("dockets.db")]
    assert outside == [], outside
    assert not [p for p in tmp_path.rglob("*escaped*") if not p.is_relative_to(store)]
    assert rows(tmp_path / "dockets.db", "select pacer_case_id from dockets")[0]["pacer_case_id"] \
        == hostile  # the record keeps what the source said; only the file name is made safe
