"""parsers.pdf: text, OCR, court stamps, clean text, bad redactions, bad input.

Corpus tests read ../shared/corpus/pdfs (skipped when it is absent); the
rest build their own small PDFs with reportlab and pikepdf. Tests that OCR
skip when the ``tesseract`` binary is not installed.
"""
from __future__ import annotations

import difflib
import io
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archive.extract.pool import extract_many
from parsers import pdf as pdfmod
from parsers._pdf_clean import clean_page_text
from parsers._pdf_stamp import parse_stamp_line
from parsers.pdf import EXTRACTOR_VERSION, STATUSES, extract

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DOCKET_SHARED", REPO / ".." / "shared")).resolve()
PDFS = SHARED / "corpus" / "pdfs"
HAS_TESSERACT = shutil.which("tesseract") is not None

KEYS = {
    "page_count", "text", "pages", "stamp", "extracted_by_ocr", "bad_redactions",
    "status", "error", "clean_text", "extractor_version",
}

needs_corpus = pytest.mark.skipif(not PDFS.is_dir(), reason=f"../shared not found: {PDFS}")
needs_tesseract = pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract binary not installed (apt-get install tesseract-ocr)")


def corpus(rel: str) -> Path:
    return PDFS / rel


def check_shape(r: dict) -> None:
    assert KEYS <= set(r)
    assert r["status"] in STATUSES
    assert r["extractor_version"] == EXTRACTOR_VERSION
    assert r["page_count"] == len(r["pages"])
    for i, p in enumerate(r["pages"], 1):
        assert p["number"] == i and isinstance(p["text"], str) and isinstance(p["ocr"], bool)
    if r["status"] == "error":
        assert r["error"] and isinstance(r["error"], str)
    json.dumps(r)  # JSON-able


# --------------------------------------------------------------------------- self-made PDFs

def _canvas():
    rl = pytest.importorskip("reportlab.pdfgen.canvas", reason="reportlab not installed")
    buf = io.BytesIO()
    return buf, rl.Canvas(buf, pagesize=(612, 792))


def make_pdf(stamp_fmt: str | None = "Case: 21-1234 Document: 55-3 Page: {n} Date Filed: 01/02/2023",
             pages: int = 3, pleading: bool = False, stamp_angle: int = 0, body: bool = True) -> bytes:
    buf, c = _canvas()
    for n in range(1, pages + 1):
        if stamp_fmt:
            s = stamp_fmt.format(n=n, m=pages)
            c.saveState()
            if stamp_angle == 90:
                c.translate(20, 120)
                c.rotate(90)
            elif stamp_angle == 270:
                c.translate(592, 680)
                c.rotate(-90)
            else:
                c.translate(72, 765)
            c.drawString(0, 0, s)
            c.restoreState()
        for j in range(28):
            y = 730 - j * 25
            if pleading:
                c.drawString(40, y, str(j + 1))
            if body and j % 4:
                c.drawString(90, y, f"Body line {j + 1} of page {n}: the court rules as follows.")
        c.showPage()
    c.save()
    return buf.getvalue()


# --------------------------------------------------------------------------- stamp lines (pure)

@pytest.mark.parametrize(
    "line, want",
    [
        ("Case: 21-2728 Document: 138-2 Page: 1 Date Filed: 08/17/2022",
         ("21-2728", "138", "2", "2022-08-17", 1, None)),
        ("Appellate Case: 21-800 Document: 010110462922 Date Filed: 01/11/2021 Page: 1",
         ("21-800", "010110462922", None, "2021-01-11", 1, None)),
        ("Case 17-3510, Document 1-1, 10/31/2017, 2161300, Page1 of 2",
         ("17-3510", "1", "1", "2017-10-31", 1, 2)),
        ("Appeal: 17-2218 Doc: 17 Filed: 10/31/2017 Pg: 1 of 1",
         ("17-2218", "17", None, "2017-10-31", 1, 1)),
        ("Case: 17-2400 Document: 3 Filed: 07/13/2017 Pages: 1",
         ("17-2400", "3", None, "2017-07-13", None, 1)),
        ("Appellate Case: 22-1801 Page: 1 Date Filed: 01/19/2023 Entry ID: 5237514",
         ("22-1801", None, None, "2023-01-19", 1, None)),
        ("Case 8:16-cv-01261-DOC-KES Document 40 Filed 08/05/16 Page 1 of 4 Page ID #:365",
         ("8:16-cv-01261-DOC-KES", "40", None, "2016-08-05", 1, 4)),
        ("Case: 1:13-cv-01234 Document #: 12 Filed: 01/02/13 Page 3 of 5 PageID #:123",
         ("1:13-cv-01234", "12", None, "2013-01-02", 3, 5)),
        ("Case 1:21-cv-01061-KLM Document 1 Filed 04/16/21 USDC Colorado Page 7 of 16",
         ("1:21-cv-01061-KLM", "1", None, "2021-04-16", 7, 16)),
        ("Case: 20-55123, 01/02/2021, ID: 11945678, DktEntry: 35-1, Page 1 of 12",  # ca9
         ("20-55123", "35", "1", "2021-01-02", 1, 12)),
        ("USCA Case #20-5143 Document #1849516 Filed: 06/22/2020 Page 1 of 3",  # cadc
         ("20-5143", "1849516", None, "2020-06-22", 1, 3)),
        ("USCA11 Case: 20-12345 Date Filed: 01/02/2021 Page: 1 of 12",  # ca11
         ("20-12345", None, None, "2021-01-02", 1, 12)),
        ("Case 19-12345-abc Doc 55 Filed 01/02/20 Entered 01/02/20 12:34:56 Desc Main Document Page 1 of 5",
         ("19-12345-abc", "55", None, "2020-01-02", 1, 5)),  # bankruptcy
        ("Case 3:20-cv-00123 Document 12 Filed on 01/02/20 in TXSD Page 1 of 5",
         ("3:20-cv-00123", "12", None, "2020-01-02", 1, 5)),
    ],
)
def test_stamp_line_formats(line, want):
    st = parse_stamp_line(line)
    assert st is not None
    got = (st["case_number"], st["document_number"], st["attachment_number"], st["date_filed"], st["page"], st["page_count"])
    assert got == want


@pytest.mark.parametrize("line", [
    "In the case of Smith v. Jones, 21-1234, the court held",
    "Page 2 of 9",
    "Case No. 8:16-cv-1261 DOC (KESx)",
    "",
])
def test_not_stamp_lines(line):
    assert parse_stamp_line(line) is None


# --------------------------------------------------------------------------- corpus

def _expected_from_name(path: Path):
    """(document_number, attachment_number) the file name promises."""
    stem = path.stem
    m = re.match(r"gov\.uscourts\.[a-z0-9]+\.[^.]+\.(\d+)\.(\d+)$", stem)
    if m:
        return m.group(1), None
    court, _, rest = stem.partition("_")
    if not rest:
        return None, None
    doc, _, att = rest.partition("-")
    return doc, att or None


def _same_doc_number(name_doc: str, stamp_doc: str) -> bool:
    if name_doc == stamp_doc:
        return True
    # RECAP names appellate files by the PACER document id, which differs
    # from the printed document number only in its fourth digit (0 vs 1)
    return (len(name_doc) == len(stamp_doc) >= 10 and name_doc[:3] == stamp_doc[:3]
            and name_doc[4:] == stamp_doc[4:])


RECAP_DOCS = sorted((PDFS / "recap_documents").glob("*.pdf")) if PDFS.is_dir() else []


@needs_corpus
@pytest.mark.parametrize("path", RECAP_DOCS, ids=lambda p: p.name)
def test_recap_document_stamp_matches_file_name(path):
    r = extract(path, ocr=False)
    check_shape(r)
    assert r["status"] in ("ok", "empty"), r["error"]
    assert r["stamp"] is not None, "no stamp found"
    assert r["stamp"]["case_number"]
    assert r["stamp"]["date_filed"] and re.match(r"\d{4}-\d\d-\d\d$", r["stamp"]["date_filed"])
    doc, att = _expected_from_name(path)
    if doc is None:
        # ca8_.pdf: the eighth circuit's footer stamp prints no document number
        assert r["stamp"]["document_number"] is None
    else:
        assert _same_doc_number(doc, r["stamp"]["document_number"]), r["stamp"]
        assert r["stamp"]["attachment_number"] == att


@needs_corpus
def test_nda_document_attachment():
    r = extract(corpus("nda_document.pdf"), ocr=False)
    st = r["stamp"]
    assert (st["case_number"], st["document_number"], st["attachment_number"], st["date_filed"]) == (
        "21-2728", "138", "2", "2022-08-17")
    assert r["page_count"] == 7 and r["status"] == "ok"


@needs_corpus
def test_text_layer_pdf_is_ok_without_ocr():
    r = extract(corpus("recap_documents/ca1_00117684624.pdf"), ocr=False)
    check_shape(r)
    assert r["status"] == "ok" and not r["extracted_by_ocr"]
    assert r["page_count"] == 17
    assert "CALVARY CHAPEL OF BANGOR" in r["text"]
    assert r["text"].count(pdfmod.PAGE_SEP) == 16
    # the stamp is on every page of the text and on none of the clean text
    assert r["text"].count("Document: 00117684624") == 17
    assert "Document: 00117684624" not in r["clean_text"]
    assert "CALVARY CHAPEL OF BANGOR" in r["clean_text"]


@needs_corpus
def test_pleading_numbers_removed_from_clean_text():
    r = extract(corpus("recap_extract/gov.uscourts.azd.1085839.3.0.pdf"), ocr=False)
    assert re.search(r"^15 This multidistrict", r["text"], re.M)
    assert re.search(r"^This multidistrict", r["clean_text"], re.M)
    assert not re.search(r"^\d{1,2} This multidistrict", r["clean_text"], re.M)


def _words(s: str, n: int) -> list[str]:
    return re.findall(r"[A-Za-z]+", s)[:n]


@needs_corpus
@needs_tesseract
def test_image_pdf_ocr_matches_vector_pdf():
    img = extract(corpus("image-pdf.pdf"), ocr_dpi=200)
    check_shape(img)
    assert img["status"] == "ocr" and img["extracted_by_ocr"]
    assert all(p["ocr"] for p in img["pages"])
    vec = extract(corpus("vector-pdf.pdf"), ocr=False)
    a, b = _words(img["text"], 60), _words(vec["text"], 60)
    assert a[:5] == ["Slip", "Opinion", "OCTOBER", "TERM", "Syllabus"]
    assert difflib.SequenceMatcher(None, a, b).ratio() > 0.85


@needs_corpus
def test_image_pdf_without_ocr_is_empty():
    r = extract(corpus("image-pdf.pdf"), ocr=False)
    check_shape(r)
    assert r["status"] == "empty" and "OCR is off" in r["error"]
    assert all(p["needs_ocr"] and not p["ocr"] for p in r["pages"])


@needs_corpus
def test_missing_tesseract_is_reported(monkeypatch):
    monkeypatch.setattr(pdfmod, "_tesseract", lambda: None)
    r = extract(corpus("ocr_pdf_variation.pdf"))
    # the stamp is the only text: it counts as text, the page still needs OCR
    assert r["pages"][0]["needs_ocr"] and not r["pages"][0]["ocr"]
    assert any("tesseract is not installed" in w for w in r["warnings"])


@needs_corpus
@needs_tesseract
def test_stamp_only_text_layer_gets_ocr():
    r = extract(corpus("ocr_pdf_variation.pdf"), ocr_dpi=200)
    check_shape(r)
    assert r["status"] == "ocr" and r["pages"][0]["ocr"]
    st = r["stamp"]
    assert (st["case_number"], st["document_number"], st["date_filed"]) == ("21-1298", "42", "2022-08-31")
    # the body is a small scanned image of the word "UNITED"
    assert r["clean_text"].strip() == "UNITED"
    assert r["text"].startswith("Case: 21-1298 Document: 42 Page: 1 Date Filed: 08/31/2022")


@needs_corpus
def test_xray_pair():
    yes = extract(corpus("xray/rectangles_yes.pdf"), ocr=False)
    no = extract(corpus("xray/rectangles_no.pdf"), ocr=False)
    assert yes["bad_redactions"] == [1]
    assert no["bad_redactions"] == []


@needs_corpus
@pytest.mark.parametrize("rel, status, msg", [
    ("empty.pdf", "error", "empty file (0 bytes)"),
    ("broken-mime.pdf", "ok", None),
])
def test_corpus_bad_files(rel, status, msg):
    r = extract(corpus(rel), ocr=False)
    check_shape(r)
    assert r["status"] == status
    if msg:
        assert r["error"] == msg
    else:
        assert r["page_count"] == 23 and "SUPREME COURT OF NORTH CAROLINA" in r["text"]
        assert r["repaired"] == "stripped-prefix"


# --------------------------------------------------------------------------- bad input, self-made

def _encrypt(data: bytes, user: str, owner: str = "owner") -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as p:
        out = io.BytesIO()
        p.save(out, encryption=pikepdf.Encryption(user=user, owner=owner,
                                                  allow=pikepdf.Permissions(extract=False)))
        return out.getvalue()


def test_bad_inputs_never_raise(tmp_path):
    good = make_pdf()
    cases = {
        "zero": (b"", "error", "empty file (0 bytes)"),
        "html": (b"<html><head><title>Login</title></head></html>", "error", "not a PDF: starts with b'<html>"),
        "header-only": (b"%PDF-1.4\n%garbage garbage", "error", "damaged PDF"),
        "user-password": (_encrypt(good, user="secret"), "error", "encrypted PDF: a password is required"),
        "truncated-early": (good[:300], "error", None),
    }
    for name, (data, status, msg) in cases.items():
        r = extract(data)
        check_shape(r)
        assert r["status"] == status, (name, r["status"], r["error"])
        if msg:
            assert r["error"].startswith(msg), (name, r["error"])
        # the same from a file on disk
        f = tmp_path / f"{name}.pdf"
        f.write_bytes(data)
        r2 = extract(f)
        assert (r2["status"], r2["error"]) == (r["status"], r["error"])
    r = extract(tmp_path / "does-not-exist.pdf")
    assert r["status"] == "error" and r["error"].startswith("cannot read")
    r = extract(tmp_path)  # a directory
    assert r["status"] == "error" and r["error"].endswith("not a regular file")


def test_recoverable_inputs():
    good = make_pdf()
    recoverable = {
        "truncated-tail": good[:-40],  # lost the trailer and %%EOF
        "no-root": good.replace(b"/Root", b"/Xoot"),  # trailer lost its catalog
        "owner-password-only": _encrypt(good, user=""),
        "junk-before-header": b"\r\n\r\n" + good,
    }
    for name, data in recoverable.items():
        r = extract(data, ocr=False)
        check_shape(r)
        assert r["status"] == "ok", (name, r["error"], r["warnings"])
        assert r["page_count"] == 3, name
        assert r["stamp"]["document_number"] == "55", name
        assert "Body line 2 of page 3" in r["text"], name


def test_truncated_mid_file_gets_status():
    good = make_pdf(pages=6)
    for cut in (len(good) // 3, len(good) // 2, len(good) * 3 // 4):
        r = extract(good[:cut], ocr=False)
        check_shape(r)
        assert r["status"] in ("ok", "empty", "error")


# --------------------------------------------------------------------------- self-made stamps and clean text

@pytest.mark.parametrize("fmt, want", [
    ("Case 2:19-cv-00123-JLR Document 88-4 Filed 03/04/20 Page {n} of {m}", ("2:19-cv-00123-JLR", "88", "4", "2020-03-04")),
    ("Appeal: 18-1234 Doc: 7 Filed: 05/06/2018 Pg: {n} of {m}", ("18-1234", "7", None, "2018-05-06")),
    ("Case 19-99, Document 12-1, 12/31/2019, 2777777, Page{n} of {m}", ("19-99", "12", "1", "2019-12-31")),
])
@pytest.mark.parametrize("angle", [0, 90, 270])
def test_self_made_stamps(fmt, want, angle):
    r = extract(make_pdf(stamp_fmt=fmt, pages=2, stamp_angle=angle), ocr=False)
    assert r["status"] == "ok"
    st = r["stamp"]
    assert (st["case_number"], st["document_number"], st["attachment_number"], st["date_filed"]) == want
    assert st["page"] == 1 and st["page_count"] == 2
    assert "Document" not in r["clean_text"] and "Doc:" not in r["clean_text"]
    assert "Body line 2 of page 2" in r["clean_text"]


def test_pleading_line_numbers():
    r = extract(make_pdf(pleading=True, pages=2), ocr=False)
    assert re.search(r"^2 Body line 2 of page 1", r["text"], re.M)
    assert re.search(r"^Body line 2 of page 1", r["clean_text"], re.M)
    assert not re.search(r"^\d+\s*$", r["clean_text"], re.M)  # no bare margin numbers left
    assert "Case: 21-1234" not in r["clean_text"]


def test_clean_keeps_short_numbered_lists():
    text = "Case: 21-1 Document: 3 Page: 1 Date Filed: 01/02/2023\nThe court orders:\n1 first\n2 second\n3 third\nDone."
    assert clean_page_text(text) == "The court orders:\n1 first\n2 second\n3 third\nDone."


def test_blank_pdf_is_empty():
    r = extract(make_pdf(stamp_fmt=None, body=False, pages=2))
    check_shape(r)
    assert r["status"] == "empty" and r["page_count"] == 2
    assert not any(p["needs_ocr"] for p in r["pages"])


# --------------------------------------------------------------------------- plumbing

def test_extract_is_picklable():
    assert pickle.loads(pickle.dumps(extract)) is extract


def test_extract_many_preserves_order(tmp_path):
    files = []
    for i in range(5):
        f = tmp_path / f"f{i}.pdf"
        f.write_bytes(make_pdf(stamp_fmt=f"Case: 21-1234 Document: {i + 10} Page: {{n}} Date Filed: 01/02/2023", pages=1))
        files.append(f)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"")
    files.insert(2, bad)
    out = list(extract_many(files, workers=2, ocr=False))
    assert [r["status"] for r in out] == ["ok", "ok", "error", "ok", "ok", "ok"]
    assert [r["stamp"]["document_number"] for r in out if r["stamp"]] == ["10", "11", "12", "13", "14"]


def test_cli_prints_one_json_per_file(tmp_path):
    a = tmp_path / "a.pdf"
    a.write_bytes(make_pdf(pages=1))
    b = tmp_path / "b.pdf"
    b.write_bytes(b"<html>")
    proc = subprocess.run([sys.executable, "-m", "parsers", "pdf", str(a), str(b)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    ra, rb = (json.loads(x) for x in lines)
    assert ra["status"] == "ok" and ra["stamp"]["document_number"] == "55"
    assert rb["status"] == "error" and rb["error"].startswith("not a PDF")
    for r in (ra, rb):
        assert KEYS <= set(r)


# --------------------------------------------------------------------------- scans made here

def _scan_pdf(angle: int = 0, label: str | None = None, dpi: int = 100) -> bytes:
    """A one-page 'scan': image-pdf.pdf's first page as a picture, turned by angle."""
    pdfium = pytest.importorskip("pypdfium2")
    from reportlab.lib.utils import ImageReader

    doc = pdfium.PdfDocument(str(corpus("image-pdf.pdf")))
    img = doc[0].render(scale=dpi / 72, grayscale=True).to_pil()
    doc.close()
    if angle:
        img = img.rotate(angle, expand=True)
    w, h = img.width * 72 / dpi, img.height * 72 / dpi
    buf, c = _canvas()
    c.setPageSize((w, h))
    c.drawImage(ImageReader(img), 0, 0, width=w, height=h)
    if label:
        c.drawString(40, h - 20, label)
    c.showPage()
    c.save()
    return buf.getvalue()


@needs_corpus
def test_labelled_scan_needs_ocr():
    # a page-sized scan with a line of real text over it is still a scan
    r = extract(_scan_pdf(label="EXHIBIT A  Case: 21-1234 Document: 9-1 Page: 1 Date Filed: 01/02/2023"), ocr=False)
    assert r["pages"][0]["needs_ocr"]
    assert r["stamp"]["document_number"] == "9" and r["stamp"]["attachment_number"] == "1"


@needs_corpus
@needs_tesseract
def test_sideways_scan_is_turned_upright():
    r = extract(_scan_pdf(angle=90, dpi=150), ocr_dpi=200)
    assert r["status"] == "ocr"
    assert _words(r["text"], 5) == ["Slip", "Opinion", "OCTOBER", "TERM", "Syllabus"]


def test_mangled_bytes_never_raise():
    import random

    good = make_pdf(pages=2)
    rng = random.Random(5)
    for _ in range(40):
        data = bytearray(good)
        for _ in range(rng.randint(1, 30)):
            i = rng.randrange(len(data))
            data[i] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        r = extract(bytes(data), ocr=False)
        check_shape(r)


def test_self_made_redactions():
    buf, c = _canvas()
    # page 1: black box drawn over black text (bad: the words are still there)
    c.drawString(72, 700, "The informant's name is John Q. Secret and he lives nearby.")
    c.setFillColorRGB(0, 0, 0)
    c.rect(180, 695, 120, 16, stroke=0, fill=1)
    c.showPage()
    # page 2: white text on a black banner (visible), a box beside text, an underline
    c.setFillColorRGB(0, 0, 0)
    c.rect(60, 690, 300, 24, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.drawString(72, 698, "NOTICE OF APPEAL")
    c.setFillColorRGB(0, 0, 0)
    c.drawString(72, 600, "Plain words with a redacted box after them:")
    c.rect(330, 596, 80, 14, stroke=0, fill=1)
    c.rect(72, 590, 200, 1, stroke=0, fill=1)
    c.showPage()
    # page 3: the box drawn as a closed path over text
    c.drawString(72, 700, "Account number 1234-5678-9012 is hidden here.")
    p = c.beginPath()
    p.moveTo(150, 695)
    p.lineTo(260, 695)
    p.lineTo(260, 712)
    p.lineTo(150, 712)
    p.close()
    c.drawPath(p, stroke=0, fill=1)
    c.showPage()
    c.save()
    r = extract(buf.getvalue(), ocr=False)
    assert r["bad_redactions"] == [1, 3]
    assert "John Q. Secret" in r["text"]  # the point: the text layer still has it
