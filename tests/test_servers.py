"""Tests of the local test servers themselves (plain urllib, no scrapy)."""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import time
import urllib.error
import urllib.request

import pytest

from tests.servers import (
    CourtListenerServer,
    InternetArchiveServer,
    default_shared_dir,
    shared_available,
    synthetic_case,
    wechat_cases,
)
from tests.servers.courtlistener import EMBEDDED_SCHEMA, load_schema

SHARED = default_shared_dir()
needs_shared = pytest.mark.skipif(not shared_available(SHARED), reason="../shared not found: %s" % SHARED)

CAND_DOCKET = 18419042
CA9_DOCKET = 18466381


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, token="test-token", follow=True, headers=None):
    """(status, headers, body bytes) without raising on HTTP errors."""
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = "Token %s" % token
    request = urllib.request.Request(url, headers=all_headers)
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def get_json(url, **kwargs):
    status, headers, body = fetch(url, **kwargs)
    return status, json.loads(body) if body else None


@pytest.fixture
def cl():
    with CourtListenerServer(wechat_cases(SHARED)) as server:
        yield server


# --- CourtListener: auth, filters ---------------------------------------------------

def test_starts_fast_on_free_ports():
    started = time.perf_counter()
    with CourtListenerServer(wechat_cases(SHARED)) as server:
        elapsed = time.perf_counter() - started
        assert server.api_url.startswith("http://127.0.0.1:") and server.api_url.endswith("/api/rest/v4/")
        assert server.storage_url.endswith("/")
    assert elapsed < 1.0


def test_token_missing_and_wrong(cl):
    url = cl.api_url + "dockets/?court=cand"
    assert get_json(url, token=None) == (401, {"detail": "Authentication credentials were not provided."})
    assert get_json(url, token="nope") == (401, {"detail": "Invalid token."})
    status, body = get_json(url)
    assert status == 200 and body["results"]
    assert [r["status"] for r in cl.log] == [401, 401, 200]
    assert all(r["kind"] == "api" for r in cl.log)


def test_find_docket_by_number_and_by_case_id(cl):
    status, body = get_json(cl.api_url + "dockets/?court=cand&docket_number=3:20-cv-05910")
    assert status == 200
    [docket] = body["results"]
    assert docket["id"] == CAND_DOCKET
    assert docket["pacer_case_id"] == "364733"
    assert docket["case_name"] == "U.S. WeChat Users Alliance v. Trump"
    assert docket["assigned_to_str"] == "Laurel Beeler"
    assert docket["date_filed"] == "2020-08-21"
    assert docket["court"] == cl.api_url + "courts/cand/"
    assert docket["resource_uri"] == cl.api_url + "dockets/%d/" % CAND_DOCKET
    _, body = get_json(cl.api_url + "dockets/?court__id=cand&pacer_case_id=364733")
    assert [d["id"] for d in body["results"]] == [CAND_DOCKET]
    _, body = get_json(cl.api_url + "dockets/?court=ca9&docket_number=20-16908")
    assert [d["id"] for d in body["results"]] == [CA9_DOCKET]
    _, body = get_json(cl.api_url + "dockets/?court=cand&docket_number=3:20-cv-99999")
    assert body["results"] == []
    status, detail = get_json(cl.api_url + "dockets/%d/" % CAND_DOCKET)
    assert status == 200 and detail["docket_number"] == "3:20-cv-05910"
    assert get_json(cl.api_url + "dockets/1/")[0] == 404


def test_unknown_filter_is_400_naming_it(cl):
    status, body = get_json(cl.api_url + "dockets/?court_id=cand")
    assert status == 400 and "court_id" in body["detail"] and body["invalid_filters"] == ["court_id"]
    status, body = get_json(cl.api_url + "docket-entries/?docket=%d&entry_number__foo=3" % CAND_DOCKET)
    assert status == 400 and "entry_number__foo" in body["detail"]
    status, body = get_json(cl.api_url + "recap-documents/?docket=%d" % CAND_DOCKET)
    assert status == 400 and "docket" in body["invalid_filters"]


def test_filter_values_are_validated(cl):
    status, body = get_json(cl.api_url + "docket-entries/?docket=12345")
    assert status == 400 and "docket" in body
    status, body = get_json(cl.api_url + "docket-entries/?entry_number__gte=abc")
    assert status == 400 and body == {"entry_number__gte": ["Enter a number."]}


def test_entry_filters(cl):
    base = cl.api_url + "docket-entries/?docket=%d&fields=entry_number&order_by=entry_number" % CAND_DOCKET
    _, body = get_json(base + "&entry_number__gte=59")
    assert [e["entry_number"] for e in body["results"]] == [59, 68, 78, 96]
    _, body = get_json(base + "&entry_number__gt=59")
    assert [e["entry_number"] for e in body["results"]] == [68, 78, 96]
    _, body = get_json(base + "&date_filed__gte=2020-09-19")
    assert [e["entry_number"] for e in body["results"]] == [59, 68, 78, 96]
    _, body = get_json(base + "&entry_number=17")
    assert [e["entry_number"] for e in body["results"]] == [17]
    _, body = get_json(base + "&date_modified__gte=2020-10-01T00:00:00-07:00")
    assert [e["entry_number"] for e in body["results"]] == [78, 96]


def test_entries_carry_nested_documents(cl):
    _, body = get_json(cl.api_url + "docket-entries/?docket=%d&entry_number=17" % CAND_DOCKET)
    [entry] = body["results"]
    assert entry["docket"] == cl.api_url + "dockets/%d/" % CAND_DOCKET
    for name in ("id", "entry_number", "date_filed", "time_filed", "description", "pacer_sequence_number",
                 "recap_sequence_number", "date_created", "date_modified"):
        assert name in entry
    docs = sorted(entry["recap_documents"], key=lambda d: d["attachment_number"] or 0)
    assert [(d["document_type"], d["document_number"], d["attachment_number"]) for d in docs] == [
        (1, "17", None), (2, "17", 1), (2, "17", 2)]
    assert all(d["is_available"] and d["filepath_local"] for d in docs)
    assert docs[0]["filepath_local"] == "recap/gov.uscourts.cand.364733/gov.uscourts.cand.364733.17.0.pdf"


def test_unavailable_document_has_no_file(cl):
    _, body = get_json(cl.api_url + "recap-documents/?docket_entry__docket__id=%d&document_number=68" % CAND_DOCKET)
    [doc] = body["results"]
    assert doc["is_available"] is False and doc["filepath_local"] is None and doc["sha1"] == ""


def test_recap_documents_by_docket(cl):
    _, body = get_json(cl.api_url + "recap-documents/?docket_entry__docket__id=%d&page_size=100" % CAND_DOCKET)
    case = wechat_cases(SHARED)[0]
    assert len(body["results"]) == len(list(case.documents()))
    assert "docket_entry" not in body["results"][0]  # as in the real serializer


def test_parties_and_attorneys(cl):
    _, body = get_json(cl.api_url + "parties/?docket=%d&filter_nested_results=True&page_size=100" % CAND_DOCKET)
    names = {p["name"] for p in body["results"]}
    assert {"U.S. WeChat Users Alliance", "Chihuo Inc.", "Brent Coulter", "Donald J. Trump", "Wilbur Ross"} <= names
    trump = next(p for p in body["results"] if p["name"] == "Donald J. Trump")
    assert trump["party_types"][0]["name"] == "Defendant"
    assert trump["attorneys"] and trump["attorneys"][0]["attorney"].startswith(cl.api_url + "attorneys/")
    _, body = get_json(cl.api_url + "attorneys/?docket=%d&filter_nested_results=True" % CAND_DOCKET)
    bien = next(a for a in body["results"] if a["name"] == "Michael W. Bien")
    assert "Rosen Bien" in bien["contact_raw"] and bien["parties_represented"]


def test_fields_and_omit(cl):
    _, body = get_json(cl.api_url + "docket-entries/?docket=%d&fields=id,recap_documents__sha1" % CAND_DOCKET)
    entry = body["results"][0]
    assert set(entry) == {"id", "recap_documents"}
    assert all(set(d) == {"sha1"} for d in entry["recap_documents"])
    _, body = get_json(cl.api_url + "docket-entries/?docket=%d&omit=description,recap_documents__plain_text"
                       % CAND_DOCKET)
    entry = body["results"][0]
    assert "description" not in entry and "plain_text" not in entry["recap_documents"][0]
    assert "sha1" in entry["recap_documents"][0]


# --- CourtListener: pagination --------------------------------------------------------

def walk(url):
    seen, pages = [], 0
    while url:
        status, body = get_json(url)
        assert status == 200, body
        seen.extend(body["results"])
        url = body["next"]
        pages += 1
    return seen, pages


def test_cursor_pagination_walks_every_entry_once():
    case = synthetic_case(SHARED, n_entries=95)
    with CourtListenerServer(case) as server:
        url = server.api_url + "docket-entries/?docket=%d&order_by=id&page_size=20" % case.id
        status, first = get_json(url)
        assert first["count"].endswith("count=on") and "cursor=" in first["next"]
        assert first["previous"] is None
        cursor = first["next"].split("cursor=")[1]
        entries, pages = walk(url)
        assert pages == 5
        ids = [e["id"] for e in entries]
        assert len(ids) == len(set(ids)) == 95 and ids == sorted(ids)
        assert get_json(first["count"]) == (200, {"count": 95})
        # previous link from page 2 goes back to page 1
        _, second = get_json(first["next"])
        _, back = get_json(second["previous"])
        assert [e["id"] for e in back["results"]] == [e["id"] for e in first["results"]]
        assert base64.b64decode(cursor.replace("%3D", "="))  # opaque base64
        # default ordering is -id, also a cursor
        entries, _ = walk(server.api_url + "docket-entries/?docket=%d&page_size=50" % case.id)
        assert [e["id"] for e in entries] == sorted(ids, reverse=True)
        # by -date_modified
        entries, _ = walk(server.api_url + "docket-entries/?docket=%d&order_by=-date_modified&page_size=30" % case.id)
        assert len({e["id"] for e in entries}) == 95
        assert get_json(server.api_url + "docket-entries/?cursor=!!!")[0] == 404


def test_page_number_pagination():
    case = synthetic_case(SHARED, n_entries=45)
    with CourtListenerServer(case) as server:
        url = server.api_url + "docket-entries/?docket=%d&order_by=entry_number" % case.id
        status, body = get_json(url)
        assert body["count"] == 45 and body["next"].endswith("page=2") and len(body["results"]) == 20
        entries, pages = walk(url)
        assert pages == 3 and [e["entry_number"] for e in entries] == list(range(1, 46))
        assert get_json(url + "&page=9")[0] == 404
        assert get_json(url + "&page=101")[0] == 404


def test_page_size_is_capped():
    case = synthetic_case(SHARED, n_entries=150)
    with CourtListenerServer(case, page_size_max=100) as server:
        _, body = get_json(server.api_url + "docket-entries/?docket=%d&page_size=1000" % case.id)
        assert len(body["results"]) == 100


# --- CourtListener: throttling and faults ---------------------------------------------

def test_throttle_every_then_success():
    with CourtListenerServer(wechat_cases(SHARED), throttle_every=3, retry_after=2) as server:
        url = server.api_url + "dockets/?court=cand"
        assert fetch(url)[0] == 200
        assert fetch(url)[0] == 200
        status, headers, body = fetch(url)
        assert status == 429 and headers["Retry-After"] == "2"
        assert json.loads(body)["detail"].startswith("Request was throttled.")
        assert fetch(url)[0] == 200  # the retry succeeds


def test_rate_per_minute_cap():
    with CourtListenerServer(wechat_cases(SHARED), rate_per_minute=2) as server:
        url = server.api_url + "dockets/?court=cand"
        assert [fetch(url)[0] for _ in range(3)] == [200, 200, 429]
        assert int(server.log[-1]["status"]) == 429


def test_fail_next(cl):
    cl.fail_next("docket-entries", status=503, times=2)
    url = cl.api_url + "docket-entries/?docket=%d" % CAND_DOCKET
    assert [fetch(url)[0] for _ in range(3)] == [503, 503, 200]
    assert cl.log.tally(kind="api", path_contains="docket-entries") == 3


# --- CourtListener: storage ------------------------------------------------------------

@needs_shared
def test_storage_serves_the_real_pdf(cl):
    path = "recap/gov.uscourts.cand.364733/gov.uscourts.cand.364733.17.0.pdf"
    status, headers, body = fetch(cl.storage_url + path, token=None)
    real = (SHARED / "corpus" / "pdfs" / "recap_documents" / "ca4_17.pdf").read_bytes()
    assert status == 200 and body == real
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Length"] == str(len(real))
    assert headers["ETag"] == '"%s"' % hashlib.sha1(real).hexdigest()
    _, meta = get_json(cl.api_url + "recap-documents/?docket_entry__docket__id=%d&document_number=17"
                       "&document_type=1" % CAND_DOCKET)
    assert meta["results"][0]["sha1"] == hashlib.sha1(real).hexdigest()
    assert meta["results"][0]["file_size"] == len(real)
    assert fetch(cl.storage_url + "recap/nothing.pdf", token=None)[0] == 404
    assert cl.log[-1]["kind"] == "storage"
    assert cl.log.tally(kind="storage", status=200) == 1


def test_storage_without_shared_serves_generated_pdfs(tmp_path):
    with CourtListenerServer(wechat_cases(tmp_path / "missing")) as server:
        _, body = get_json(server.api_url + "recap-documents/?docket_entry__docket__id=%d&is_available=true"
                           "&page_size=100" % CAND_DOCKET)
        docs = body["results"]
        assert docs
        for doc in docs:
            status, _, data = fetch(server.storage_url + doc["filepath_local"], token=None)
            assert status == 200 and hashlib.sha1(data).hexdigest() == doc["sha1"]
            if doc["file_size"]:
                assert data.startswith(b"%PDF-")


def test_every_available_document_is_served(cl):
    _, body = get_json(cl.api_url + "recap-documents/?is_available=true&page_size=100")
    assert len(body["results"]) >= 10
    for doc in body["results"]:
        status, _, data = fetch(cl.storage_url + doc["filepath_local"], token=None)
        assert status == 200 and len(data) == doc["file_size"]


def test_incremental_update_shows_new_entries():
    cases = wechat_cases(SHARED)
    with CourtListenerServer(cases) as server:
        url = server.api_url + "docket-entries/?docket=%d&entry_number__gt=96&fields=entry_number" % CAND_DOCKET
        assert get_json(url)[1]["results"] == []
        cases[0].add_entry(97, "2020-11-02", "NOTICE of Change of Address by Michael W. Bien")
        assert [e["entry_number"] for e in get_json(url)[1]["results"]] == [97]


@needs_shared
def test_embedded_schema_matches_the_options_capture():
    real = load_schema(SHARED / "reference" / "courtlistener_v4_options.json")
    for endpoint, section in EMBEDDED_SCHEMA.items():
        assert set(section["filters"]) == set(real[endpoint]["filters"]), endpoint
        for name, spec in section["filters"].items():
            assert spec[:2] == real[endpoint]["filters"][name][:2], (endpoint, name)
        assert section["ordering"] == real[endpoint]["ordering"]


# --- Internet Archive ------------------------------------------------------------------

WECHAT_ID = "gov.uscourts.cand.364733"


@pytest.fixture
def ia():
    with InternetArchiveServer(SHARED) as server:
        yield server


def test_ia_docket_xml_through_a_redirect(ia):
    url = ia.url + "%s/%s.docket.xml" % (WECHAT_ID, WECHAT_ID)
    assert url == ia.docket_xml_url("cand", "364733")
    status, headers, _ = fetch(url, token=None, follow=False)
    assert status == 302 and "/items/%s/" % WECHAT_ID in headers["Location"]
    status, headers, body = fetch(url, token=None)
    assert status == 200 and body.startswith(b"<?xml")
    assert b"<pacer_case_num>364733</pacer_case_num>" in body and b"<available>0</available>" in body
    assert [r["kind"] for r in ia.log] == ["download", "download", "serve"]


def test_ia_pdf_matches_the_xml_sha1(ia):
    _, _, xml = fetch(ia.docket_xml_url("cand", "364733"), token=None)
    block = re.search(rb'<document doc_num="17" attachment_num="0">(.*?)</document>', xml, re.S).group(1)
    sha1 = re.search(rb"<sha1>(\w+)</sha1>", block).group(1).decode()
    status, headers, pdf = fetch(ia.url + "%s/%s.17.0.pdf" % (WECHAT_ID, WECHAT_ID), token=None)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert hashlib.sha1(pdf).hexdigest() == sha1
    assert pdf.startswith(b"%PDF")


def test_ia_404s(ia):
    assert fetch(ia.url + "gov.uscourts.cand.1/gov.uscourts.cand.1.docket.xml", token=None)[0] == 404
    # entry 68 is not available on the Archive
    assert fetch(ia.url + "%s/%s.68.0.pdf" % (WECHAT_ID, WECHAT_ID), token=None)[0] == 404
    # the Archive's copy lags: entry 96 is not there
    assert fetch(ia.url + "%s/%s.96.0.pdf" % (WECHAT_ID, WECHAT_ID), token=None)[0] == 404


def test_ia_fail_next(ia):
    ia.fail_next("docket.xml", status=502)
    url = ia.docket_xml_url("cand", "364733")
    assert fetch(url, token=None)[0] == 502
    assert fetch(url, token=None)[0] == 200


@needs_shared
def test_ia_serves_the_corpus_items(ia):
    folder = SHARED / "corpus" / "pacer" / "internet_archive"
    xml_files = sorted(folder.glob("*.xml"))
    assert xml_files
    for path in xml_files:
        court, case_id = path.stem.split("_")
        status, _, body = fetch(ia.docket_xml_url(court, case_id), token=None)
        assert status == 200, path.name
        available = re.findall(rb'<document doc_num="([^"]*)" attachment_num="([^"]*)">(?:(?!</document>).)*?'
                               rb"<available>1</available>", body, re.S)
        for doc, att in available[:2]:
            name = "gov.uscourts.%s.%s.%s.%s.pdf" % (court, case_id, doc.decode(), att.decode())
            status, _, pdf = fetch(ia.url + "gov.uscourts.%s.%s/%s" % (court, case_id, name), token=None)
            assert status == 200 and len(pdf) > 0, name


@needs_shared
def test_ia_and_courtlistener_serve_the_same_bytes(ia, cl):
    name = "%s.17.0.pdf" % WECHAT_ID
    _, _, from_ia = fetch(ia.url + "%s/%s" % (WECHAT_ID, name), token=None)
    _, _, from_cl = fetch(cl.storage_url + "recap/%s/%s" % (WECHAT_ID, name), token=None)
    assert from_ia == from_cl


def test_ia_without_shared(tmp_path):
    with InternetArchiveServer(tmp_path / "missing") as server:
        status, _, xml = fetch(server.docket_xml_url("cand", "364733"), token=None)
        assert status == 200
        status, _, pdf = fetch(server.url + "%s/%s.1.0.pdf" % (WECHAT_ID, WECHAT_ID), token=None)
        assert status == 200 and pdf.startswith(b"%PDF-")
        assert fetch(server.docket_xml_url("cand", "194617"), token=None)[0] == 404


def test_a_stored_name_may_carry_a_suffix(cl):
    _, body = get_json(cl.api_url + "recap-documents/?docket_entry__docket__id=%d&document_number=59" % CAND_DOCKET)
    [doc] = body["results"]
    assert doc["filepath_local"].endswith(".59.0_1.pdf")
    assert fetch(cl.storage_url + doc["filepath_local"], token=None)[0] == 200
    assert fetch(cl.storage_url + doc["filepath_local"].replace("_1.pdf", ".pdf"), token=None)[0] == 404


def test_new_entries_are_modified_now():
    cases = wechat_cases(SHARED)
    with CourtListenerServer(cases) as server:
        since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        url = server.api_url + "docket-entries/?docket=%d&date_modified__gte=%s&order_by=date_modified" % (
            CAND_DOCKET, since)
        assert get_json(url)[1]["results"] == []
        entry = cases[0].add_entry(97, "2020-11-02", "NOTICE of Change of Address by Michael W. Bien")
        _, body = get_json(url)
        assert [e["id"] for e in body["results"]] == [entry["id"]]
        _, docket = get_json(server.api_url + "dockets/%d/" % CAND_DOCKET)
        assert docket["date_modified"] == entry["date_modified"] and docket["date_last_filing"] == "2020-11-02"
        cases[0].touch(cases[0].entries[0], description="COMPLAINT (corrected)")
        _, body = get_json(url)
        assert len(body["results"]) == 2
