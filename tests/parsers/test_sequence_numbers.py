"""The court's sequence number of an entry (``pacer_seq_no``; CourtListener's
``pacer_sequence_number``) from every source that gives it (issue 20: it ties
the versions of one entry together)."""
from __future__ import annotations

import json
import re

from parsers import courtlistener as cl
from parsers import parse
from tests.golden import golden_path

from .conftest import court_of, shared_path


def _entries(kind, path):
    got = parse(kind, path.read_bytes(), court_of(path))
    if kind == "rss":
        return [d["docket_entries"][0] for d in got["dockets"]]
    return got["docket_entries"]


def test_docket_reports_give_it_wherever_the_links_carry_it():
    """District and bankruptcy reports whose document links all carry the
    sequence (goDLS(), de_seq_num=, the DocLink id): every entry with a
    document has it (read from the golden files of our output)."""
    checked = 0
    for folder in ("district", "bankruptcy"):
        for path in sorted(shared_path(folder).glob("*.html")):
            raw = path.read_bytes().decode("latin-1")
            links = [tag for tag in re.findall(r"<a\b[^>]*>", raw, re.I | re.S) if "/doc1/" in tag]
            if not links or not all(re.search(r"goDLS|de_seq_num", tag, re.I) for tag in links):
                continue
            # our parser's whole output on the page (tests/test_golden.py holds it equal)
            golden = json.loads(golden_path(folder, path).read_text())
            for e in golden.get("docket_entries") or []:
                if e["pacer_doc_id"]:
                    assert e["pacer_seq_no"], (path.name, e["document_number"])
                    checked += 1
    assert checked > 1000


def test_appellate_reports_give_it_from_the_entry_checkbox():
    entries = _entries("appellate", shared_path("appellate", "ca1.html"))
    assert entries and all(e.get("pacer_seq_no") for e in entries)


def test_internet_archive_gives_it_from_pacer_de_seq_num():
    path = shared_path("internet_archive", "waeb_157087.xml")
    raw = path.read_text()
    entries = _entries("ia", path)
    assert sum(1 for e in entries if e["pacer_seq_no"]) == len(re.findall(r"<pacer_de_seq_num>\d+", raw))


def test_rss_gives_the_link_s_and_the_guid_s():
    entries = _entries("rss", shared_path("rss", "sdny_1.xml"))
    assert sum(1 for e in entries if e["pacer_seq_no"]) > 300
    # items without a document link: the guid names the entry's sequence number
    assert all(e["guid_seq_no"] for e in entries if not e["pacer_seq_no"])


def test_courtlistener_passes_it_through_under_the_archive_s_name():
    entry, docs = cl.parse_entry({"court_id": "cand", "docket_number": "3:20-cv-05910"}, {
        "id": 1, "entry_number": None, "pacer_sequence_number": 130, "recap_sequence_number":
        "2020-11-02.001", "recap_documents": [{"id": 2, "pacer_doc_id": "035119478867"}]},
        "https://storage.courtlistener.com/")
    assert entry["pacer_sequence_number"] == "130" and docs[0]["pacer_sequence_number"] == "130"


def test_acms_has_none_to_give():
    """ACMS JSON names an entry by its number and a GUID (docketEntryId, kept as
    pacer_doc_id), not by a CM/ECF sequence number."""
    path = shared_path("acms", "ca9_22-21.acms_json")
    assert not re.search(r'"\w*seq\w*"\s*:', path.read_text(), re.I)
    assert all("pacer_seq_no" not in e for e in _entries("acms", path))
