"""The case page, the document page and the stored PDFs, served by the real
`python -m archive serve` over an archive built here; checked by HTTP and in
headless Chromium."""
from __future__ import annotations

import hashlib
import html
import http.client
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from archive import db as adb
from archive.site import urls
from archive.cli import datasette_command
from archive import origins
from archive.site.cases import court_colour, split_pages
from tests.conftest import PROJECT, InProcessSite, chromium, free_port

CASE = ("cand", "3:20-cv-05910")
APPEAL = ("ca9", "20-16908")
OTHER = ("nysd", "1:21-cv-01234")
BIG = ("txsd", "4:19-cv-00001")
BANKRUPTCY = ("canb", "19-30088")
SCRIPT = '<script>alert("court text")</script> MOTION to shorten time'
OCR_TEXT = "Page one has a text layer about WeChat.\n\f\nPage two was a scan about tiktok."
# two pages of pleading paper: the court's stamp, line numbers 1..28, a running foot
PLEADING = "\n\f\n".join(
    f"Case 8:16-cv-01261-DOC-KES Document 40 Filed 08/05/16 Page {p} of 2 Page ID #:36{p}\n"
    + "\n".join(f"{n} {'Words of page %d line %d.' % (p, n) if n % 3 == 0 else ''}".rstrip()
                for n in range(1, 29))
    + f"\nORDER GRANTING PRELIMINARY INJUNCTION\n8:16-cv-1261-DOC (KESx)\n- {p} -"
    for p in (1, 2))


def pdf_bytes(label: str) -> bytes:
    body = f"BT /F1 12 Tf 72 720 Td ({label}) Tj ET".encode()
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n"
            b"4 0 obj << /Length " + str(len(body)).encode() + b" >> stream\n" + body +
            b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


FILES = {name: pdf_bytes(name) for name in ("complaint", "motion", "sealed", "redacted", "appeal",
                                            "unlisted", "tampered", "outside")}


def _path(court, name):
    return f"{court}/gov.uscourts.{court}.1/gov.uscourts.{court}.1.{name}.pdf"


def build(folder):
    store = folder / "files"
    db = adb.open_db(str(folder / "dockets.db"))
    for name, data in FILES.items():
        target = (folder / "outside.pdf") if name == "outside" else store / _path("cand", name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    # a link inside the store that leads out of it, and a file whose bytes changed
    os.symlink(folder / "outside.pdf", store / _path("cand", "link"))
    (store / _path("cand", "tampered")).write_bytes(FILES["tampered"] + b"changed")

    def sha(name):
        return hashlib.sha256(FILES[name]).hexdigest()

    court, number = CASE
    base = {"court_id": court, "docket_number": number}
    adb.save_docket(db, dict(base, case_name="U.S. WeChat Users Alliance v. Trump",
                             assigned_to_str="Laurel Beeler", date_filed="2020-08-21",
                             nature_of_suit="440 Civil Rights: Other"))
    entries = [(1, "2020-08-21", "COMPLAINT for Declaratory and Injunctive Relief"),
               (2, "2020-09-01", SCRIPT),
               (3, "2020-09-18", "ORDER sealing exhibit"),
               (4, "2020-10-02", "DECLARATION of a witness"),
               (5, "2020-10-05", "EXHIBIT whose file changed"),
               (6, "2020-10-06", "EXHIBIT stored through a link"),
               (7, "2020-10-01", "NOTICE OF APPEAL to the 9th Circuit Court of Appeals as to 2 "
                                 "Order by Donald J. Trump."),
               (8, "2020-10-08", "TRANSCRIPT of Proceedings held on 9/17/2020")]
    for n, date, text in entries:
        adb.save_entry(db, dict(base, entry_number=n, date_filed=date, description=text))
    adb.save_entry(db, dict(base, entry_number=None, pacer_sequence_number="130",
                            date_filed="2020-09-17", description="Minute Entry: hearing held"))
    docs = [
        dict(entry_number=1, attachment_number=0, description="Complaint", page_count=2,
             file_path=_path(court, "complaint"), sha256=sha("complaint"), status="ocr",
             text=OCR_TEXT, clean_text=OCR_TEXT, extracted_by_ocr=1, ocr_pages="2",
             stamp={"case_number": "3:20-cv-05910-LB", "document_number": "1",
                    "date_filed": "08/21/20"}),
        dict(entry_number=1, attachment_number=1, description="Civil Cover Sheet", status="no_file",
             pacer_doc_id="035119212402", source="courtlistener"),
        dict(entry_number=7, attachment_number=0, description="Notice of Appeal", page_count=3,
             status="download_failed", is_available=1, pacer_doc_id="035019294466",
             source="courtlistener"),
        dict(entry_number=8, attachment_number=0, description="Transcript", page_count=45,
             status="no_file", pacer_doc_id="035019294499", source="pacer"),
        dict(entry_number=2, attachment_number=0, description="Motion", page_count=1,
             file_path=_path(court, "motion"), sha256=sha("motion"), status="ok",
             text="A motion to shorten time.", clean_text="A motion to shorten time."),
        dict(entry_number=3, attachment_number=1, description="Sealed exhibit", page_count=1,
             file_path=_path(court, "sealed"), sha256=sha("sealed"), status="ok", is_sealed=1,
             text="sealed secret words", clean_text="sealed secret words"),
        dict(entry_number=4, attachment_number=0, description="Declaration", page_count=1,
             file_path=_path(court, "redacted"), sha256=sha("redacted"), status="ok",
             bad_redactions="1", text="hidden under boxes", clean_text="hidden under boxes"),
        dict(entry_number=5, attachment_number=0, description="Exhibit", page_count=1,
             file_path=_path(court, "tampered"), sha256=sha("tampered"), status="ok"),
        dict(entry_number=6, attachment_number=0, description="Exhibit", page_count=1,
             file_path=_path(court, "link"), sha256=sha("outside"), status="ok"),
    ]
    for doc in docs:
        adb.save_document(db, dict(base, document_number=str(doc["entry_number"]), **doc))
    adb.save_party(db, dict(base, name="U.S. WeChat Users Alliance", party_type="Plaintiff",
                            attorneys=[{"name": "Michael W. Bien", "roles": ["Lead attorney"],
                                        "contact": "Rosen Bien Galvan & Grunfeld LLP\nSan Francisco"}]))
    adb.save_party(db, dict(base, name="Donald J. Trump", party_type="Defendant"))

    adb.save_docket(db, dict(base, source_url="https://www.courtlistener.com/docket/18419042/"
                                              "us-wechat-users-alliance-v-trump/"))
    # a filing of another case, as the demo's stand-in PDFs are: its stamp is flagged
    adb.save_document(db, dict(base, entry_number=2, document_number="2", attachment_number=1,
                               description="Exhibit", status="ok", page_count=2,
                               file_path=_path(court, "motion"), sha256=sha("motion"),
                               text=PLEADING, clean_text=PLEADING,
                               stamp={"case_number": "8:16-cv-01261-DOC-KES",
                                      "document_number": "40"}))

    court, number = APPEAL
    base = {"court_id": court, "docket_number": number}
    adb.save_docket(db, dict(base, case_name="U.S. WeChat Users Alliance v. Trump",
                             appeal_from_str="U.S. District Court for Northern California, San Francisco",
                             date_filed="2020-10-01"))
    origins.save_origin(db, court, number, {"court_id": "cand", "docket_number": "3:20-cv-05910-LB",
                                            "date_filed_noa": "2020-10-01"}, "courtlistener")
    adb.save_entry(db, dict(base, entry_number=1, date_filed="2020-10-01",
                            description="DOCKETED CAUSE AND ENTERED APPEARANCES OF COUNSEL."))
    adb.save_document(db, dict(base, entry_number=1, document_number="1", attachment_number=0,
                               description="Docketing letter", file_path=_path("cand", "appeal"),
                               sha256=sha("appeal"), status="ok", text="appeal letter"))

    court, number = OTHER
    adb.save_docket(db, {"court_id": court, "docket_number": number, "case_name": "Other v. Case"})
    # a bankruptcy case (PG&E's lives in canb): chapter, trustee, conversion, discharge
    adb.save_docket(db, {"court_id": BANKRUPTCY[0], "docket_number": BANKRUPTCY[1],
                         "case_name": "PG&E Corporation", "chapter": 11,
                         "trustee_str": "Office of the U.S. Trustee / SF",
                         "date_converted": "2019-03-01", "date_discharged": "2020-07-01"})
    adb.save_entry(db, {"court_id": court, "docket_number": number, "entry_number": 1,
                        "date_filed": "2021-02-03", "description": "COMPLAINT"})

    court, number = BIG  # a long docket: more entries than Datasette's max_returned_rows
    adb.save_docket(db, {"court_id": court, "docket_number": number, "case_name": "Big v. Long"})
    with adb.transaction(db):
        for n in range(1, 2001):
            adb.save_entry(db, {"court_id": court, "docket_number": number, "entry_number": n,
                                "date_filed": f"20{19 + n // 600}-{1 + n % 12:02d}-15",
                                "description": f"Entry number {n}"})
    db.conn.close()
    return folder / "dockets.db", store


def serve(db_path, *options, env=None):
    port = free_port()
    proc = subprocess.Popen(datasette_command(str(db_path), port, "127.0.0.1", *options),
                            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/-/versions.json", timeout=1)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    pytest.fail("archive serve did not start: " + proc.stdout.read().decode()[-2000:])


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return build(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def site(archive):
    """The pages, in this process (Datasette's own client)."""
    db_path, store = archive
    served = InProcessSite(db_path, {"files": str(store)})
    yield served
    served.close()


@pytest.fixture(scope="module")
def server(archive):
    """The real `archive serve` on loopback: for what only a socket shows (a path
    sent exactly as typed) and for the browser."""
    db_path, store = archive
    proc, url = serve(db_path, "--files", str(store))
    yield url
    stop(proc)


def get(site, path):
    if not isinstance(site, str):
        return site.get(path)
    try:
        with urllib.request.urlopen(site + path, timeout=20) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def raw_get(url, path, method="GET"):
    """A request sent with the path exactly as given (no client normalisation)."""
    host, port = url.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def page_html(site, path):
    status, _, body = get(site, path)
    assert status == 200, (path, status, body[:500])
    return body.decode()


def test_case_page_header_entries_and_documents(site):
    page = page_html(site, urls.case(*CASE))
    assert "<h1>U.S. WeChat Users Alliance v. Trump</h1>" in page
    assert "Laurel Beeler" in page and "440 Civil Rights: Other" in page and "2020-08-21" in page
    # the feed, in <head> and visibly
    head = page.split("</head>")[0]
    feed = urls.case_feed(*CASE)
    assert '<link rel="alternate" type="application/atom+xml"' in head and f'href="{feed}"' in head
    assert re.search(rf'<a href="{re.escape(feed)}">[^<]*feed', page, re.I)
    # entries in the court's order, each with its anchor
    anchors = re.findall(r'<tr id="(entry-[^"]+)"', page)
    assert anchors == ["entry-1", "entry-2", "entry-seq-130", "entry-3", "entry-7", "entry-4",
                       "entry-5", "entry-6", "entry-8"]
    assert urls.entry_anchor("seq-130") in anchors
    # court text is escaped, never markup
    assert "<script>alert" not in page
    assert html.escape(SCRIPT, quote=False) in page or "&lt;script&gt;alert(" in page
    # documents: PDF and text links, OCR marked, missing file said
    assert f'href="{urls.stored_file(_path("cand", "complaint"))}"' in page
    assert f'href="{urls.document_text(*CASE, "1", 0)}"' in page
    assert f'href="{urls.document(*CASE, "1", 1)}"' in page
    assert "OCR p. 2" in page and "no_file" not in page and "download_failed" not in page
    # parties and attorneys
    assert "U.S. WeChat Users Alliance" in page and "Plaintiff" in page
    assert "Michael W. Bien" in page and "Lead attorney" in page and "Donald J. Trump" in page
    # the chart: inline SVG drawn on the server, a bar per court-month
    assert "<svg" in page and page.count('class="bar"') >= 3


def test_missing_documents_say_why_and_where(site):
    page = page_html(site, urls.case(*CASE))
    cover = page.split(f'href="{urls.document(*CASE, "1", 1)}"')[1].split("</li>")[0]
    assert "nobody has bought it from PACER" in cover
    assert 'href="https://ecf.cand.uscourts.gov/doc1/035119212402"' in cover
    assert "up to $3.00" in cover  # page count unknown: PACER's cap
    notice = page.split(f'href="{urls.document(*CASE, "7", 0)}"')[1].split("</li>")[0]
    assert "download failed" in notice and "CourtListener" in notice and "free" in notice
    assert ('href="https://www.courtlistener.com/docket/18419042/7/'
            'us-wechat-users-alliance-v-trump/"') in notice
    transcript = page.split(f'href="{urls.document(*CASE, "8", 0)}"')[1].split("</li>")[0]
    assert "$4.50 (45 pages at $0.10 a page)" in transcript  # transcripts are not capped
    assert "not been bought from PACER" in transcript
    doc = page_html(site, urls.document(*CASE, "1", 1))
    assert "Get it from" in doc and "PACER" in doc and "no_file" not in doc


def test_a_bankruptcy_case_shows_its_chapter_trustee_and_dates(site):
    page = page_html(site, urls.case(*BANKRUPTCY))
    assert "<h1>PG&amp;E Corporation</h1>" in page
    for label, value in (("Chapter", "11"), ("Trustee", "Office of the U.S. Trustee / SF"),
                         ("Converted", "2019-03-01"), ("Discharged", "2020-07-01")):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page


def test_withheld_documents_show_why_and_nothing_else(site):
    page = page_html(site, urls.case(*CASE))
    for name in ("sealed", "redacted"):
        assert urls.stored_file(_path("cand", name)) not in page
    assert urls.document_text(*CASE, "3", 1) not in page
    assert urls.document_text(*CASE, "4", 0) not in page
    assert "withheld: sealed" in page and "withheld: bad redaction" in page
    assert page.count("Its text and PDF are not published") == 2
    doc = page_html(site, urls.document(*CASE, "3", 1))
    assert "This document is withheld" in doc and "sealed secret words" not in doc
    assert "ORDER sealing exhibit" in doc  # the entry stays
    assert get(site, urls.document_text(*CASE, "3", 1))[0] == 404
    assert get(site, urls.document_text(*CASE, "4", 0))[0] == 404
    assert get(site, urls.stored_file(_path("cand", "sealed")))[0] == 404
    assert get(site, urls.stored_file(_path("cand", "redacted")))[0] == 404
    assert "secret words" not in page_html(site, urls.case(*CASE) + "?q=secret")


def test_links_between_district_docket_and_appeal(site):
    district = page_html(site, urls.case(*CASE))
    assert f'href="{urls.case(*APPEAL)}"' in district and "Appeal:" in district
    assert "originating case number (CourtListener)" in district and "same case name" not in district
    # the notice of appeal links to the appeal
    notice = district.split('id="entry-7"')[1].split("</tr>")[0]
    assert "started the appeal" in notice and f'href="{urls.case(*APPEAL)}"' in notice
    appeal = page_html(site, urls.case(*APPEAL))
    assert f'href="{urls.case(*CASE)}"' in appeal and "Appealed from:" in appeal
    assert f'href="{urls.entry(*CASE, "7")}"' in appeal  # its notice of appeal
    # the chart draws both courts, each in its court's colour on both pages
    assert "cand 3:20-cv-05910" in district and "ca9 20-16908" in district.split("<svg")[1]
    for page in (district, appeal):
        chart = page.split("<svg")[1].split("</svg>")[0]
        colours = dict(re.findall(r'fill="(#[0-9a-f]{6})"><title>(\w+) ', chart)[::-1])
        assert {v: k for k, v in colours.items()} == {"cand": court_colour("cand"),
                                                       "ca9": court_colour("ca9")}
    assert court_colour("cand") != court_colour("ca9")
    other = page_html(site, urls.case(*OTHER))
    assert "No appeal of this case is in the archive" in other


def test_one_timeline_of_the_district_case_and_its_appeal(site):
    district = page_html(site, urls.case(*CASE))
    assert 'href="/cases/cand/3:20-cv-05910?courts=all"' in district
    assert 'class="court-cell"' not in district  # one court unless asked
    for start in (CASE, APPEAL):
        page = page_html(site, urls.case(*start) + "?courts=all")
        rows = re.findall(r'<tr id="([^"]+)" class="entry">\s*<td class="court-cell">'
                          r'<span class="court" style="background: (#\w+)"[^>]*>(\w+)</span>'
                          r'</td>\s*<td class="num">.*?</td>\s*<td class="date">([^<]*)</td>',
                          page, re.S)
        courts = [court for _, _, court, _ in rows]
        assert courts.count("ca9") == 1 and courts.count("cand") == 9
        dates = [d for _, _, _, d in rows if d]
        assert dates == sorted(dates)
        # the appeal's entry comes after the notice of appeal filed the same day
        assert courts[courts.index("ca9") - 1] == "cand" and rows[courts.index("ca9") - 1][0] \
            .endswith("entry-7")
        assert all(colour == court_colour(court) for _, colour, court, _ in rows)
        assert f'href="{urls.case(*start)}">Show only' in page
        # a search and a date filter stay on the timeline
        found = page_html(site, urls.case(*start) + "?courts=all&q=appeal+letter")
        assert 'name="courts" value="all"' in found
    appeal = page_html(site, urls.case(*APPEAL) + "?courts=all")
    assert 'id="entry-1"' in appeal and 'id="cand-entry-1"' in appeal  # one anchor each


def test_date_filter_and_search_within_the_case(site):
    case = urls.case(*CASE)
    page = page_html(site, case + "?from=2020-09-10&to=2020-09-30")
    assert re.findall(r'<tr id="(entry-[^"]+)"', page) == ["entry-seq-130", "entry-3"]
    page = page_html(site, case + "?to=2020-08")
    assert re.findall(r'<tr id="(entry-[^"]+)"', page) == ["entry-1"]
    page = page_html(site, case + "?q=tiktok")  # only in a document's text
    assert re.findall(r'<tr id="(entry-[^"]+)"', page) == ["entry-1"]
    assert "<mark>tiktok</mark>" in page
    page = page_html(site, case + "?q=%22shorten+time%22")  # a phrase
    assert re.findall(r'<tr id="(entry-[^"]+)"', page) == ["entry-2"]
    for weird in ('%22', 'AND', 'NEAR%28', '*', 'a%22b', '-', '%29', 'OR+NOT', '%5E', 'x%3Ay',
                  '%00', '%22%22%22'):
        assert get(site, case + "?q=" + weird)[0] == 200, weird
    page = page_html(site, case + "?from=yesterday")
    assert "is not a date" in page and len(re.findall(r'<tr id="entry-', page)) == 9


def test_unknown_case_and_document_are_404(site, server):
    assert get(site, urls.case("cand", "9:99-cv-99999"))[0] == 404
    assert get(site, "/cases/cand/3%3A20-cv-0591")[0] == 404
    assert get(site, urls.document(*CASE, "99", 0))[0] == 404
    assert get(site, urls.document_text(*CASE, "99", 0))[0] == 404
    # a number as printed on filings, with the judge's initials, finds the case
    status, headers, _ = raw_get(server, urls.case("cand", "3:20-CV-05910-LB"))
    assert status == 302 and dict((k.lower(), v) for k, v in headers)["location"] == urls.case(*CASE)
    status, _, body = get(site, urls.case("zz", "<b>x</b>"))
    assert status == 404 and b"<b>x</b>" not in body


def test_document_page_text_by_page_and_plain_text(site):
    page = page_html(site, urls.document(*CASE, "1", 0))
    assert split_pages(OCR_TEXT) == ["Page one has a text layer about WeChat.",
                                     "Page two was a scan about tiktok."]
    one = page.split('id="page-1"')[1].split("</section>")[0]
    two = page.split('id="page-2"')[1].split("</section>")[0]
    assert "text layer about WeChat" in one and "read by OCR" not in one
    assert "scan about tiktok" in two and "read by OCR" in two
    assert "3:20-cv-05910-LB" in page and "08/21/20" in page  # the header stamp
    assert "Does not match" not in page
    assert f'href="{urls.stored_file(_path("cand", "complaint"))}"' in page
    assert f'href="{urls.case(*CASE)}"' in page and f'href="{urls.entry(*CASE, "1")}"' in page
    status, headers, body = get(site, urls.document_text(*CASE, "1", 0))
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert body.decode() == OCR_TEXT
    script = page_html(site, urls.document(*CASE, "2", 0))
    assert "<script>alert" not in script and "&lt;script&gt;" in script


def test_reading_text_and_the_raw_text_one_click_away(site):
    page = page_html(site, urls.document(*CASE, "2", 1))
    text = page.split('id="text"')[1]
    assert "Words of page 1 line 3." in text and "Words of page 2 line 27." in text
    pre = "".join(re.findall(r"<pre>(.*?)</pre>", text, re.S))
    assert not re.search(r"^\d{1,2}\b", pre, re.M)  # no line numbers
    assert "Case 8:16-cv-01261" not in pre and "8:16-cv-1261-DOC (KESx)" not in pre
    assert "ORDER GRANTING PRELIMINARY INJUNCTION" not in pre and "- 2 -" not in pre
    raw_url = urls.document(*CASE, "2", 1) + "?text=raw#text"
    assert f'href="{html.escape(raw_url)}"' in page
    raw = page_html(site, urls.document(*CASE, "2", 1) + "?text=raw")
    raw_pre = "".join(re.findall(r"<pre>(.*?)</pre>", raw, re.S))
    assert "\n27 Words of page 2 line 27." in raw_pre and "Case 8:16-cv-01261" in raw_pre
    # the stamp names another case: flagged
    assert "Does not match" in page and "names case 8:16-cv-01261-DOC-KES, not this case" in page


def test_pdfs_are_the_recorded_bytes(site, server):
    status, headers, body = get(site, urls.stored_file(_path("cand", "complaint")))
    assert status == 200 and headers["content-type"] == "application/pdf"
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(FILES["complaint"]).hexdigest()
    status, headers, body = raw_get(server, urls.stored_file(_path("cand", "motion")), "HEAD")
    assert status == 200 and {k.lower(): v for k, v in headers}["content-type"] == "application/pdf" and body == b""
    # a file whose bytes are no longer the recorded ones is not served
    assert get(site, urls.stored_file(_path("cand", "tampered")))[0] == 404


@pytest.mark.parametrize("path", [
    "/files/../dockets.db", "/files/%2e%2e/dockets.db", "/files/cand/%2e%2e/%2e%2e/dockets.db",
    "/files/..%2fdockets.db", "/files/%2Fetc%2Fpasswd", "/files//etc/passwd", "/files/cand/",
    "/files/cand", "/files/cand/gov.uscourts.cand.1", "/files/a%00b.pdf",
    "/files/" + _path("cand", "complaint") + "%00", "/files/./" + _path("cand", "complaint"),
    "/files/" + _path("cand", "unlisted"),  # in the store, named by no document
    "/files/" + _path("cand", "link"),      # a symlink out of the store
    "/files/" + _path("cand", "complaint").replace("/", "%5c"),
])
def test_no_path_outside_the_store_no_listing(server, path):
    status, _, body = raw_get(server, path)
    assert status == 404, (path, status)
    assert not body.startswith(b"%PDF") and b"SQLite" not in body


def test_a_long_docket_shows_every_entry(site):
    page = page_html(site, urls.case(*BIG))
    assert len(re.findall(r'<tr id="entry-', page)) == 2000
    assert 'id="entry-2000"' in page and "<svg" in page


def test_in_the_browser(server):
    site = server
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(site + urls.case(*CASE))
        assert page.locator("h1").inner_text() == "U.S. WeChat Users Alliance v. Trump"
        assert page.locator("svg rect.bar").count() >= 3
        box = page.locator("figure.chart svg").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 50
        assert SCRIPT in page.locator("#entry-2").inner_text() and not dialogs
        assert page.locator("link[rel=alternate][type='application/atom+xml']").get_attribute(
            "href") == urls.case_feed(*CASE)
        page.screenshot(path="/tmp/case.png")
        href = page.locator("#entry-1 a.pdf").first.get_attribute("href")
        result = page.evaluate("""async (href) => {
            const r = await fetch(href);
            const digest = await crypto.subtle.digest('SHA-256', await r.arrayBuffer());
            return {type: r.headers.get('content-type'), status: r.status,
                    sha: [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('')};
        }""", href)
        assert result == {"type": "application/pdf", "status": 200,
                          "sha": hashlib.sha256(FILES["complaint"]).hexdigest()}
        page.goto(site + "/files/..%2f..%2fdockets.db")
        assert "No such file" in page.inner_text("body")
        page.goto(site + urls.case(*CASE))
        page.fill("input[name=q]", '"unbalanced')
        page.press("input[name=q]", "Enter")
        page.wait_for_load_state()
        assert "q=" in page.url and page.locator("h1").count() == 1


def test_s3_store_links_presigned_urls(archive, tmp_path):
    from moto.server import ThreadedMotoServer
    import boto3

    db_path, store = archive
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its buckets in the process, across servers: start from none
    urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST"))
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret",
             "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
    proc = None
    try:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing-secret")
        client.create_bucket(Bucket="dockets")
        key = "archive/files/" + _path("cand", "complaint")
        client.put_object(Bucket="dockets", Key=key, Body=FILES["complaint"])
        copy = tmp_path / "dockets.db"
        shutil.copy(db_path, copy)
        proc, url = serve(copy, "--files", "s3://dockets/archive/files/", env=creds)
        page = page_html(url, urls.case(*CASE))
        links = [html.unescape(h) for h in re.findall(r'<a class="pdf" href="([^"]+)"', page)]
        first = next(h for h in links if "complaint" in h)
        assert first.startswith(endpoint + "/dockets/" + key) and "Signature" in first
        with urllib.request.urlopen(first, timeout=20) as resp:
            assert hashlib.sha256(resp.read()).hexdigest() == hashlib.sha256(FILES["complaint"]).hexdigest()
        assert "sealed" not in " ".join(links)
        status, headers, _ = raw_get(url, urls.stored_file(_path("cand", "complaint")))
        assert status == 302 and {k.lower(): v for k, v in headers}["location"].startswith(endpoint)
        assert raw_get(url, urls.stored_file(_path("cand", "sealed")))[0] == 404
    finally:
        if proc:
            stop(proc)
        moto.stop()
