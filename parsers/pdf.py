"""Court-grade PDF text extraction (issue 5).

``extract(source, ocr=True) -> dict`` turns one PDF (a path or its bytes)
into plain, JSON-able data. It never raises: a file that cannot be read
comes back with ``status == "error"`` and a readable ``error``.

Result keys
-----------
page_count        pages in the document (0 when it could not be opened)
text              faithful text, pages joined with ``PAGE_SEP`` ("\\n\\f\\n")
pages             [{number, text, ocr, needs_ocr, error}] one per page
stamp             the court's header stamp {case_number, document_number,
                  attachment_number, date_filed, page, page_count} or None
extracted_by_ocr  True when any page's text came from OCR
bad_redactions    page numbers where text lies under a black box
status            see below
error             readable message, or None
warnings          what was noticed but did not stop extraction
repaired          how a damaged file was recovered (None, "stripped-prefix",
                  "pikepdf" (qpdf's xref rebuild, decryption), "catalog"
                  (trailer /Root restored), "ghostscript" (pdfwrite rewrite))
clean_text        text for search: stamps and pleading line numbers removed
extractor_version EXTRACTOR_VERSION

Statuses
--------
"ok"     text came from the PDF's own text layer on every page that has text
"ocr"    at least one page's text came from OCR (Tesseract)
"empty"  the PDF opened but no text was found: blank pages, or scanned
         pages while OCR was off or unavailable (``error`` says which)
"error"  the file could not be read as a PDF: zero bytes, not a PDF, broken
         beyond repair (or repaired with no text left), no page readable, or
         encrypted with a password (``error`` says which)
"too_large" a limit stopped part or all of the extraction: a page with more
         than ``page_max_objects`` characters/drawing objects, a page that
         would need more than ``max_pixels`` to OCR even at ``OCR_MIN_DPI``,
         or the worker's memory limit (MemoryError). ``text`` keeps what was
         read within the limits; ``error`` names the pages and the limit.
"timeout" (given by ``archive.extract.pool``) the document took longer than its
         time limit; its worker was stopped

A damaged file that was recovered keeps "ok"/"ocr" and says how in
``repaired`` and ``warnings``.

Pages are read one at a time with pdfplumber and closed after use, so
memory stays flat on long filings. OCR (pypdfium2 render + Tesseract) is
run on pages with no text layer, a text layer that is only the court's
stamp, or an unreadable text layer (``(cid:NN)`` glyphs).

Limits (issue 9): a page whose layout grows past ``page_max_objects``
objects is abandoned as soon as it does (a 100 KB file can hold millions of
text operators); OCR renders a page at ``ocr_dpi`` only while that stays
within ``max_pixels``, lower (down to ``OCR_MIN_DPI``) for big pages, and not
at all beyond. Memory and time per document are bounded by the worker
processes of ``archive.extract.pool``, which call ``extract``.

``extract`` is a top-level, picklable function with no import-time side
effects: it reads one PDF in the calling process, starting only Tesseract
and Ghostscript when a page or a repair needs them.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile

import pdfplumber
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfplumber.page import PDFPageAggregatorWithMarkedContent
from pdfplumber.utils.exceptions import PdfminerException

from ._pdf_clean import clean_text as _clean_text
from ._pdf_stamp import find_stamp, is_stamp_line, merge_stamps

__all__ = ["extract", "extraction_result", "EXTRACTOR_VERSION", "PAGE_SEP", "STATUSES"]

EXTRACTOR_VERSION = "pdf-1.1"
PAGE_SEP = "\n\f\n"
STATUSES = ("ok", "ocr", "empty", "error", "too_large", "timeout")

OCR_DPI = 300
# OCR renders no page beyond this many pixels: a big page is rendered at a
# lower dpi, down to OCR_MIN_DPI; a page that needs more is not OCR'd.
# (A US letter page at 300 dpi is 8.4 megapixels, 11x17 in 16.8.)
OCR_MAX_PIXELS = 25_000_000
OCR_MIN_DPI = 100
# characters, images and drawn paths on one page (a dense page of text has
# about 5,000; pdfplumber needs about 3 KB of memory for each)
PAGE_MAX_OBJECTS = 100_000
OCR_LANG = "eng"
# a page whose text (less the stamp) has fewer letters/digits than this is OCR'd
_MIN_BODY_CHARS = 20
# ... or fewer than this while a page-sized image is on it
_SCAN_BODY_CHARS = 200
_GS_TIMEOUT = 120
_OCR_TIMEOUT = 180

_CID = re.compile(r"\(cid:\d+\)")
_WORDCHAR = re.compile(r"[A-Za-z0-9]")
_WORD = re.compile(r"[A-Za-z]+")
_STOPWORDS = frozenset(
    "the of and to in a is that for on by with be as it this or not was are at from an his her court "
    "shall any have has which its no may were".split()
)


def _english_score(text: str) -> int:
    """Common English words read: upright text scores high, sideways garbage near zero."""
    return sum(1 for w in _WORD.findall(text) if w.lower() in _STOPWORDS)


def _looks_unread(text: str) -> bool:
    words = _WORD.findall(text)
    if len(words) < 15:
        return True
    return _english_score(text) < 0.05 * len(words)


# --------------------------------------------------------------------------- helpers


def extraction_result(**kw) -> dict:
    """A result dict: ``kw`` over the defaults of every key (what ``extract``
    returns, and what the process pool answers for a document it stopped)."""
    out = {
        "page_count": 0,
        "text": "",
        "pages": [],
        "stamp": None,
        "extracted_by_ocr": False,
        "bad_redactions": [],
        "status": "error",
        "error": None,
        "warnings": [],
        "repaired": None,
        "clean_text": "",
        "extractor_version": EXTRACTOR_VERSION,
    }
    out.update(kw)
    return out


def _tesseract() -> str | None:
    return shutil.which("tesseract")


class _Unreadable(Exception):
    """The file is not a PDF we can open; the message is for people."""


class _OverLimit(Exception):
    """A page over one of the extraction limits; the message is for people."""


def _read_source(source) -> tuple[bytes | None, str | None, str]:
    """(bytes or None, path or None, display name). Raises _Unreadable."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None, "<bytes>"
    path = os.fspath(source)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise _Unreadable(f"cannot read {path}: {exc.strerror or exc}") from None
    if not os.path.isfile(path):
        raise _Unreadable(f"cannot read {path}: not a regular file")
    if size == 0:
        raise _Unreadable("empty file (0 bytes)")
    return None, path, path


def _sniff(head: bytes) -> int:
    """Offset of the %PDF header (0 when at the start). Raises _Unreadable."""
    if not head:
        raise _Unreadable("empty file (0 bytes)")
    off = head.find(b"%PDF-")
    if off < 0:
        snippet = head[:16]
        raise _Unreadable(f"not a PDF: starts with {snippet!r}")
    return off


def _explain(exc: BaseException) -> str:
    """A readable reason from pdfminer/pikepdf exceptions."""
    chain = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 4:
        chain.append(e)
        e = e.__cause__ or e.__context__
    names = " ".join(type(x).__name__ for x in chain)
    msg = " ".join(str(x) for x in chain if str(x))
    low = (names + " " + msg).lower()
    if "password" in low or "encrypt" in low:
        return "encrypted PDF: a password is required to open it"
    if "no /root" in low or "root object" in low:
        return "damaged PDF: missing /Root (document catalog)"
    if "eof" in low or "truncat" in low:
        return f"damaged PDF: truncated ({msg[:160] or names})"
    return f"damaged PDF: {msg[:200] or names}"


def _out_of_memory(exc: BaseException) -> bool:
    """A MemoryError, perhaps wrapped by pdfminer/pdfplumber."""
    e: BaseException | None = exc
    for _ in range(6):
        if e is None:
            return False
        if isinstance(e, MemoryError) or any(isinstance(a, MemoryError) for a in getattr(e, "args", ())):
            return True
        e = e.__cause__ or e.__context__
    return False


def _is_password_error(exc: BaseException) -> bool:
    e: BaseException | None = exc
    for _ in range(4):
        if e is None:
            break
        n = type(e).__name__.lower()
        if "password" in n or "password" in str(e).lower():
            return True
        e = e.__cause__ or e.__context__
    return False


def _open_plumber(data: bytes | None, path: str | None):
    """pdfplumber.PDF with its page list loaded (forces the page tree)."""
    src = path if data is None else io.BytesIO(data)
    pdf = pdfplumber.open(src)
    try:
        pages = pdf.pages
    except BaseException:
        pdf.close()
        raise
    if not pages:
        pdf.close()
        raise _Unreadable("damaged PDF: no pages found")
    return pdf


def _repair_pikepdf(data: bytes) -> bytes:
    import pikepdf  # optional here: only a damaged file is repaired (qpdf's library)

    try:
        with pikepdf.open(io.BytesIO(data), suppress_warnings=True) as doc:
            if len(doc.pages) == 0:
                raise _Unreadable("damaged PDF: no pages found")
            out = io.BytesIO()
            doc.save(out)  # decrypts (empty user password) and rewrites the xref
            return out.getvalue()
    except pikepdf.PasswordError:
        raise _Unreadable("encrypted PDF: a password is required to open it") from None


_CATALOG = re.compile(rb"(\d+)\s+(\d+)\s+obj\s*<<(?:(?!endobj).){0,4000}?/Type\s*/Catalog\b", re.S)
_TRAILER = re.compile(rb"trailer\s*<<")


def _repair_root(data: bytes) -> bytes:
    """A trailer that lost its /Root: point it back at the document catalog."""
    if re.search(rb"/Root\s+\d+\s+\d+\s+R", data[-4096:]):
        raise _Unreadable("trailer has a /Root")
    cats = list(_CATALOG.finditer(data))
    if not cats:
        raise _Unreadable("no document catalog found")
    num, gen = int(cats[-1].group(1)), int(cats[-1].group(2))
    ref = b"/Root %d %d R " % (num, gen)
    trailers = list(_TRAILER.finditer(data))
    if trailers:
        t = trailers[-1]
        # inserted after the xref table, so no object offset moves
        fixed = data[: t.end()] + b" " + ref + data[t.end():]
    else:
        fixed = data + b"\ntrailer\n<< " + ref + b">>\n%%EOF\n"
    return _repair_pikepdf(fixed)


def _repair_ghostscript(data: bytes) -> bytes:
    gs = shutil.which("gs")
    if not gs:
        raise _Unreadable("ghostscript not installed")
    with tempfile.TemporaryDirectory(prefix="pdfrepair") as tmp:
        src = os.path.join(tmp, "in.pdf")
        dst = os.path.join(tmp, "out.pdf")
        with open(src, "wb") as fh:
            fh.write(data)
        try:
            proc = subprocess.run(
                [gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", f"-sOutputFile={dst}", src],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=_GS_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise _Unreadable(f"ghostscript timed out after {_GS_TIMEOUT}s") from None
        log = proc.stdout.decode("latin-1", "replace")
        # gs exits 0 and writes a blank page for input it could not read
        if (
            proc.returncode != 0
            or "No pages will be processed" in log
            or "Couldn't initialise file" in log
            or not os.path.exists(dst)
            or os.path.getsize(dst) == 0
        ):
            raise _Unreadable("ghostscript could not read it")
        with open(dst, "rb") as fh:
            return fh.read()


def _open_document(source):
    """(pdfplumber.PDF, bytes-or-None, path-or-None, repaired, warnings). Raises _Unreadable."""
    data, path, _name = _read_source(source)
    warnings: list[str] = []
    repaired = None
    if data is None:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    else:
        head = data[:1024]
    off = _sniff(head)
    if off:
        if data is None:
            with open(path, "rb") as fh:
                data = fh.read()
            path = None
        data = data[off:]
        warnings.append(f"{off} byte(s) before the %PDF header removed")
        repaired = "stripped-prefix"
    try:
        return _open_plumber(data, path), data, path, repaired, warnings
    except _Unreadable:
        first_error = None
        first_reason = "damaged PDF: no pages found"
    except Exception as exc:  # pdfminer raises many kinds
        first_error = exc
        first_reason = _explain(exc)
        if _is_password_error(exc):
            # an owner-password-only file opens in pikepdf with the empty
            # password; a user password stops everything
            pass
    if first_error is not None and _out_of_memory(first_error):
        first_error = None  # free what the failed open holds before giving up
        raise MemoryError("over the memory limit")
    if data is None:
        with open(path, "rb") as fh:
            data = fh.read()
        path = None
    # repairs: qpdf (through pikepdf) first, then ghostscript
    reasons = [first_reason]
    for name, fixer in (
        ("pikepdf", _repair_pikepdf),
        ("catalog", _repair_root),
        ("ghostscript", _repair_ghostscript),
    ):
        try:
            fixed = fixer(data)
            pdf = _open_plumber(fixed, None)
        except _Unreadable as exc:
            if str(exc).startswith("encrypted PDF"):
                raise
            reasons.append(f"{name}: {exc}")
            continue
        except Exception as exc:
            reasons.append(f"{name}: {_explain(exc)}")
            continue
        warnings.append(f"{first_reason}; recovered with {name}")
        return pdf, fixed, None, name, warnings
    if first_error is not None and _is_password_error(first_error):
        raise _Unreadable("encrypted PDF: a password is required to open it")
    raise _Unreadable(first_reason + " (repair failed)")


# --------------------------------------------------------------------------- pages


def _body_chars(text: str) -> int:
    """Letters and digits outside the court's stamp lines."""
    n = 0
    for ln in text.splitlines():
        if is_stamp_line(ln):
            continue
        n += len(_WORDCHAR.findall(ln))
    return n


def _needs_ocr(page, text: str) -> bool:
    cids = len(_CID.findall(text))
    if cids and cids * 8 > max(len(text), 1) * 0.3:
        return True  # text layer is unmapped glyph ids
    body = _body_chars(text)
    objs = page.objects
    if body >= _MIN_BODY_CHARS:
        # some text; still a scan when a page-sized image carries the rest
        # (an exhibit's label over a scanned letter); a scan with a full
        # hidden OCR layer has far more text than this
        if body < _SCAN_BODY_CHARS and _big_image(page, objs.get("image", ())):
            return True
        return False
    # little or no text: OCR when there is something drawn to read
    if objs.get("image"):
        return True
    drawn = len(objs.get("curve", ())) + len(objs.get("rect", ())) + len(objs.get("line", ()))
    return drawn > 20  # text drawn as vector outlines


def _big_image(page, images) -> bool:
    area = float(page.width) * float(page.height) or 1.0
    for im in images:
        w = min(im["x1"], page.bbox[2]) - max(im["x0"], page.bbox[0])
        h = min(im["bottom"], page.bbox[3]) - max(im["top"], page.bbox[1])
        if w > 0 and h > 0 and w * h >= 0.5 * area:
            return True
    return False


def _is_dark(color) -> bool:
    if color is None:
        return False
    if isinstance(color, (int, float)):
        color = (color,)
    try:
        vals = [float(c) for c in color]
    except (TypeError, ValueError):
        return False  # a pattern name
    if len(vals) == 1:
        return vals[0] <= 0.25
    if len(vals) == 3:
        return max(vals) <= 0.25
    if len(vals) == 4:
        c, m, y, k = vals
        return k >= 0.75 or (min(c, m, y) >= 0.75)
    return False


def _bad_redaction(page) -> bool:
    """Text under a filled dark box: the words are hidden on screen but still
    in the text layer, so copy/paste and search reveal them."""
    boxes = []
    pw, ph = float(page.width), float(page.height)
    objs = page.objects
    # boxes drawn as rectangles, or as closed four-sided paths
    shapes = list(objs.get("rect", ())) + [
        c for c in objs.get("curve", ()) if len(c.get("pts") or ()) <= 6
    ]
    for r in shapes:
        if not r.get("fill"):
            continue
        w, h = r["x1"] - r["x0"], r["bottom"] - r["top"]
        if w < 4 or h < 4 or w * h > 0.5 * pw * ph:
            continue  # underlines, rules, full-page backgrounds
        if not _is_dark(r.get("non_stroking_color")):
            continue
        boxes.append((r["x0"], r["top"], r["x1"], r["bottom"]))
    if not boxes:
        return False
    for x0, top, x1, bottom in boxes:
        hidden = 0
        for c in page.chars:
            if not c["text"].strip():
                continue
            cx = (c["x0"] + c["x1"]) / 2
            cy = (c["top"] + c["bottom"]) / 2
            if x0 - 0.5 <= cx <= x1 + 0.5 and top - 0.5 <= cy <= bottom + 0.5:
                col = c.get("non_stroking_color")
                if col is None or _is_dark(col) or not _is_light(col):
                    hidden += 1
                    if hidden >= 2:
                        return True
    return False


def _is_light(color) -> bool:
    if isinstance(color, (int, float)):
        color = (color,)
    try:
        vals = [float(c) for c in color]
    except (TypeError, ValueError):
        return False
    if len(vals) == 1:
        return vals[0] >= 0.6
    if len(vals) == 3:
        return min(vals) >= 0.6
    if len(vals) == 4:
        return max(vals) <= 0.3
    return False


class _OCR:
    """Renders pages with pypdfium2 (opened lazily, once) and reads them with Tesseract."""

    def __init__(self, data: bytes | None, path: str | None, dpi: int, lang: str,
                 max_pixels: int = OCR_MAX_PIXELS):
        self.src = data if data is not None else path
        self.dpi = dpi
        self.lang = lang
        self.max_pixels = max_pixels
        self.doc = None
        self.lowered: list[tuple[int, int]] = []  # (page number, dpi) rendered below self.dpi

    def render(self, index: int):
        """The page as a grayscale PIL image within the pixel budget. Raises _OverLimit."""
        import pypdfium2 as pdfium  # optional here: only a page to OCR is rendered

        if self.doc is None:
            self.doc = pdfium.PdfDocument(self.src)
        page = self.doc[index]
        try:
            width, height = (abs(float(v)) for v in page.get_size())  # points
            dpi = ocr_dpi_for(width, height, self.dpi, self.max_pixels)
            if dpi is None:
                need = width * height * (OCR_MIN_DPI / 72) ** 2
                raise _OverLimit(
                    f"page {index + 1} not OCR'd: at {width / 72:.0f} x {height / 72:.0f} in it needs "
                    f"{need / 1e6:.0f} megapixels even at {OCR_MIN_DPI} dpi, over the OCR pixel budget "
                    f"of {self.max_pixels / 1e6:g} megapixels")
            if dpi < self.dpi:
                self.lowered.append((index + 1, dpi))
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            try:
                return bitmap.to_pil().copy()
            finally:
                bitmap.close()
        finally:
            page.close()

    def read(self, index: int) -> str:
        import pytesseract  # optional: OCR only (and Tesseract may not be installed)

        os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one core per worker process
        img = self.render(index)
        try:
            text = pytesseract.image_to_string(img, lang=self.lang, timeout=_OCR_TIMEOUT)
            if _looks_unread(text):
                # little read, or no English read: the scan may lie sideways or upside down
                turned = self._upright(img)
                if turned is not None:
                    try:
                        again = pytesseract.image_to_string(turned, lang=self.lang, timeout=_OCR_TIMEOUT)
                    finally:
                        turned.close()
                    if _english_score(again) > _english_score(text):
                        text = again
            return text
        finally:
            img.close()

    @staticmethod
    def _upright(img):
        """The image turned upright by Tesseract's orientation detection, or None."""
        import pytesseract  # optional: OCR only

        try:
            osd = pytesseract.image_to_osd(img, output_type=pytesseract.Output.DICT, timeout=_OCR_TIMEOUT)
        except Exception:  # too few characters to tell, or no osd.traineddata
            return None
        rotate = int(osd.get("rotate", 0) or 0) % 360
        if rotate == 0:
            return None
        return img.rotate(-rotate, expand=True)  # tesseract's angle is clockwise

    def close(self):
        if self.doc is not None:
            self.doc.close()
            self.doc = None


def ocr_dpi_for(width: float, height: float, dpi: int = OCR_DPI,
                max_pixels: int = OCR_MAX_PIXELS) -> int | None:
    """The dpi to OCR a page of ``width`` x ``height`` points at: ``dpi``, or
    lower so the image stays within ``max_pixels``; None when even
    ``OCR_MIN_DPI`` is over the budget."""
    area = max(width, 1.0) * max(height, 1.0) / 72 / 72  # square inches
    if not max_pixels or area * dpi * dpi <= max_pixels:
        return dpi
    fit = int((max_pixels / area) ** 0.5)
    return fit if fit >= min(OCR_MIN_DPI, dpi) else None


class _BudgetDevice(PDFPageAggregatorWithMarkedContent):
    """pdfplumber's layout device, counting what it collects."""

    budget = PAGE_MAX_OBJECTS
    count = 0

    def _tick(self, n: int = 1) -> None:
        self.count += n
        if self.count > self.budget:
            raise _OverLimit(
                f"page {self.pageno} not read: more than {self.budget:,} characters, "
                "images and drawn paths (the per-page object limit)")

    def render_char(self, *args, **kwargs):
        self._tick()
        return super().render_char(*args, **kwargs)

    def render_image(self, *args, **kwargs):
        self._tick()
        return super().render_image(*args, **kwargs)

    def paint_path(self, *args, **kwargs):
        path = args[4] if len(args) > 4 else kwargs.get("path") or ()
        self._tick(1 + sum(1 for seg in path if seg and seg[0] == "m"))  # subpaths
        return super().paint_path(*args, **kwargs)


def _bounded_layout(page, budget: int) -> None:
    """Lay the page out as pdfplumber's ``page.layout`` does, but stop (raise
    _OverLimit) as soon as it holds more than ``budget`` objects, before
    they can use up the worker's memory. pdfplumber then uses this layout."""
    if not budget or hasattr(page, "_layout"):
        return
    device = _BudgetDevice(page.pdf.rsrcmgr, pageno=page.page_number, laparams=page.pdf.laparams)
    device.budget = budget
    interpreter = PDFPageInterpreter(page.pdf.rsrcmgr, device)
    try:
        interpreter.process_page(page.page_obj)
    except (_OverLimit, MemoryError):
        raise
    except Exception as exc:
        raise PdfminerException(exc) from exc
    page._layout = device.get_result()  # pdfplumber's own cache (flushed by page.close())


def _extract_page_text(page) -> str:
    text = page.extract_text() or ""
    if any(not c.get("upright", True) for c in page.chars):
        # rotated text (a stamp down the margin): pdfplumber puts it in the
        # flow char by char; read it apart, as lines of its own
        upright = page.filter(lambda o: o.get("object_type") != "char" or o.get("upright", True))
        rotated = page.filter(lambda o: o.get("object_type") == "char" and not o.get("upright", True))
        text = upright.extract_text() or ""
        rot = _rotated_text(rotated)
        if rot:
            text = rot + "\n" + text if text else rot
    return text


def _rotated_text(page) -> str:
    """Non-upright characters read as text lines (up or down the page)."""
    chars = [c for c in page.chars]
    if not chars:
        return ""
    # vertical text: each character's matrix tells which way it runs
    up = [c for c in chars if c["matrix"][1] > 0]  # runs bottom-to-top
    down = [c for c in chars if c["matrix"][1] <= 0]
    lines = []
    for group, rev in ((up, True), (down, False)):
        if not group:
            continue
        cols: dict = {}
        for c in group:
            key = round(c["x0"] / 3)
            cols.setdefault(key, []).append(c)
        for key in sorted(cols):
            col = sorted(cols[key], key=lambda c: c["top"], reverse=rev)
            s, prev = "", None
            for c in col:
                if prev is not None:
                    gap = (prev["top"] - c["bottom"]) if rev else (c["top"] - prev["bottom"])
                    if gap > 1.5 and not s.endswith(" "):
                        s += " "
                s += c["text"]
                prev = c
            lines.append(" ".join(s.split()))
    return "\n".join(ln for ln in lines if ln)


# --------------------------------------------------------------------------- public


def extract(source, ocr: bool = True, *, ocr_dpi: int = OCR_DPI, ocr_lang: str = OCR_LANG,
            max_pixels: int = OCR_MAX_PIXELS, page_max_objects: int = PAGE_MAX_OBJECTS,
            progress=None) -> dict:
    """Text, stamp, OCR flags and redaction check of one PDF. Never raises.

    ``max_pixels`` bounds the image OCR renders of a page and
    ``page_max_objects`` what a page may hold (0: no limit); a page over
    either is skipped and the document's status is "too_large".
    ``progress(page_number)``, when given, is called after each page.
    """
    try:
        return _extract(source, ocr, ocr_dpi, ocr_lang, max_pixels, page_max_objects, progress)
    except _Unreadable as exc:
        return extraction_result(status="error", error=str(exc))
    except MemoryError:
        return extraction_result(
            status="too_large", error="out of memory while reading the PDF (over the memory limit)")
    except RecursionError:
        return extraction_result(status="error", error="damaged PDF: object nesting too deep")
    except Exception as exc:  # the last guard: a crawl must never be lost
        if _out_of_memory(exc):
            return extraction_result(
                status="too_large",
                error="out of memory while reading the PDF (over the memory limit)")
        return extraction_result(status="error",
                                 error=f"unexpected {type(exc).__name__}: {exc}"[:300])


def _extract(source, ocr: bool, ocr_dpi: int, ocr_lang: str, max_pixels: int,
             page_max_objects: int, progress) -> dict:
    pdf, data, path, repaired, warnings = _open_document(source)
    pages_out: list[dict] = []
    limited: list[str] = []  # a message per page over a limit
    out_of_memory = False
    stamps: list[dict] = []
    bad: list[int] = []
    ocr_engine = None
    can_ocr = ocr and _tesseract() is not None
    skipped_ocr = 0
    try:
        for index, page in enumerate(pdf.pages):
            number = index + 1
            entry = {"number": number, "text": "", "ocr": False, "needs_ocr": False, "error": None}
            try:
                _bounded_layout(page, page_max_objects)
                layer = _extract_page_text(page)
                stamp = find_stamp(layer)
                needs = _needs_ocr(page, layer)
                try:
                    if _bad_redaction(page):
                        bad.append(number)
                except Exception as exc:  # a check, not worth losing the page
                    warnings.append(f"page {number}: redaction check failed: {type(exc).__name__}")
                text = layer
                entry["needs_ocr"] = needs
                if needs and can_ocr:
                    if ocr_engine is None:
                        ocr_engine = _OCR(data, path, ocr_dpi, ocr_lang, max_pixels)
                    try:
                        read = ocr_engine.read(index)
                    except _OverLimit as exc:
                        entry["error"] = str(exc)
                        limited.append(str(exc))
                        read = None
                    except Exception as exc:
                        entry["error"] = f"OCR failed: {type(exc).__name__}: {exc}"[:200]
                        read = None
                    if read is not None:
                        body = [ln.rstrip() for ln in read.splitlines()]
                        stamp_lines = [ln for ln in layer.splitlines() if is_stamp_line(ln)]
                        if stamp_lines:
                            # the text layer's stamp is exact; drop OCR's reading of it
                            body = [ln for ln in body if not is_stamp_line(ln)]
                        text = "\n".join(stamp_lines + body).strip("\n")
                        entry["ocr"] = True
                        if stamp is None:
                            stamp = find_stamp(text)
                elif needs:
                    skipped_ocr += 1
                entry["text"] = text
                if stamp:
                    stamps.append(stamp)
            except _OverLimit as exc:
                entry["error"] = str(exc)
                limited.append(str(exc))
            except Exception as exc:
                if _out_of_memory(exc):
                    out_of_memory = True
                else:
                    entry["error"] = _explain(exc)
                    warnings.append(f"page {number}: {entry['error']}")
            finally:
                page.close()  # flush pdfplumber's per-page caches: flat memory
            if out_of_memory:
                # the worker is at its memory limit: give up the document, raising
                # only now that the failed page (held by the traceback) is freed
                raise MemoryError("over the memory limit")
            pages_out.append(entry)
            if progress is not None:
                progress(number)
    finally:
        if ocr_engine is not None:
            ocr_engine.close()
        pdf.close()

    texts = [p["text"] for p in pages_out]
    any_ocr = any(p["ocr"] for p in pages_out)
    has_text = any(_WORDCHAR.search(t) for t in texts)
    error = None
    if ocr_engine is not None and ocr_engine.lowered:
        warnings.append("large page(s) OCR'd at a lower dpi to stay within the pixel budget: "
                        + ", ".join(f"page {n} at {d} dpi" for n, d in ocr_engine.lowered))
    warnings.extend(limited)
    if skipped_ocr:
        why = "OCR is off" if not ocr else "tesseract is not installed"
        warnings.append(f"{skipped_ocr} page(s) need OCR but {why}")
    if not has_text:
        status = "empty"
        if skipped_ocr:
            why = "OCR is off" if not ocr else "tesseract is not installed"
            error = f"no text found: {skipped_ocr} page(s) need OCR but {why}"
        elif any(p["error"] for p in pages_out):
            status = "error"
            bad_pages = [p for p in pages_out if p["error"]]
            error = f"{len(bad_pages)} of {len(pages_out)} page(s) could not be read: {bad_pages[0]['error']}"
        elif repaired and repaired != "stripped-prefix":
            # damaged, and nothing readable survived the repair
            status = "error"
            error = f"damaged PDF: {len(pages_out)} page(s) recovered with {repaired}, but no text survived"
        else:
            error = "no text found"
    else:
        status = "ocr" if any_ocr else "ok"
    if limited:
        # a page over a limit: its text is missing, whatever the others gave
        status = "too_large"
        kept = f"; the text of the other {len(pages_out) - len(limited)} is kept" if has_text else ""
        error = (f"{len(limited)} of {len(pages_out)} page(s) over an extraction limit{kept}: "
                 + "; ".join(limited[:3]) + ("; ..." if len(limited) > 3 else ""))
    return extraction_result(
        page_count=len(pages_out),
        text=PAGE_SEP.join(texts),
        pages=pages_out,
        stamp=merge_stamps(stamps),
        extracted_by_ocr=any_ocr,
        bad_redactions=bad,
        status=status,
        error=error,
        warnings=warnings,
        repaired=repaired,
        clean_text=_clean_text(texts),
    )

