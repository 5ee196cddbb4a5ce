"""A local Ninth Circuit website serving its free decisions feeds and PDFs,
for tests and benchmarks.

    with Ca9Server() as ca9:
        ca9.settings()  # {"CA9_OPINIONS_FEED_URL": ..., "CA9_MEMORANDA_FEED_URL": ...}
        # GET /decisions/opinions/index.xml, /decisions/memoranda/index.xml (RSS 2.0)
        # GET /datastore/opinions/2021/08/10/20-16908.pdf (a PDF)
        ca9.add_decision("opinions", "26-1234", "DOE V. ROE", "2026-03-14")

The feeds are the self-made samples ``tests/fixtures/ca9/{opinions,memoranda}.xml``
with every ``https://cdn.ca9.uscourts.gov`` and ``https://www.ca9.uscourts.gov``
rewritten to this server's URL. As on the real site only the latest 25 items
are listed; ``add_decision`` puts a new item on top.

Each PDF an item links to is served (any other path answers 404): with
``../shared`` the 30-page opinion ``corpus/pdfs/vector-pdf.pdf`` for opinions
and a 2-page ``recap_documents`` PDF for memoranda, each with a short comment
appended after ``%%EOF`` so that every file has its own bytes; without it a
tiny one-page PDF made with reportlab. Standard library only, apart from
reportlab when ``../shared`` is absent.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import threading
from email.utils import format_datetime
from pathlib import Path
from typing import Optional
from urllib.parse import unquote
from xml.sax.saxutils import escape

from .base import Failures, LocalServer, Request, RequestLog, Response, ServerLifecycle
from .cases import FIXTURES, PdfFile, _resolve_shared, corpus_pdf, make_pdf

CA9_FIXTURES = FIXTURES / "ca9"
KINDS = ("opinions", "memoranda")
FEED_LIMIT = 25  # the real feeds list only the latest 25 decisions
REAL_HOSTS = ("https://cdn.ca9.uscourts.gov", "https://www.ca9.uscourts.gov")
OPINION_PDF = "vector-pdf.pdf"  # a 30-page opinion with a text layer
MEMORANDUM_PDF = "recap_documents/ca3_003112692106.pdf"  # 2 pages

_ITEM = re.compile(r"<item\b.*?</item>", re.S)
_LINK = re.compile(r"<link>\s*([^<]*?)\s*</link>")
_TITLE = re.compile(r"<title>\s*([^<]*?)\s*</title>")
_PDF_PATH = re.compile(r"^/datastore/(opinions|memoranda)/\d{4}/\d{2}/\d{2}/[^/]+\.pdf$")
_PACIFIC = dt.timezone(dt.timedelta(hours=-7))


def reportlab_pdf(lines: list[str]) -> bytes:
    """A tiny valid one-page PDF showing ``lines`` (reportlab; the hand-made
    ``make_pdf`` when reportlab is not installed)."""
    try:
        from reportlab.lib.pagesizes import letter
        from reportlab.pdfgen import canvas
    except ImportError:  # pragma: no cover - reportlab is a test dependency
        return make_pdf(lines)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=letter, invariant=1)  # invariant: same bytes every run
    y = 720
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 16
    pdf.showPage()
    pdf.save()
    return out.getvalue()


class Feed:
    """One feed: the fixture's text around its items, and the items (newest first)."""

    def __init__(self, kind: str, path: Path):
        self.kind = kind
        text = path.read_text(encoding="utf-8")
        items = list(_ITEM.finditer(text))
        if items:
            self.head = text[:items[0].start()]
            self.tail = text[items[-1].end():]
        else:
            cut = text.rindex("</channel>")
            self.head, self.tail = text[:cut], text[cut:]
        self.items = [m.group(0) for m in items]

    def render(self) -> str:
        return self.head + "\n".join(self.items[:FEED_LIMIT]) + self.tail


class Ca9Server(ServerLifecycle):
    """``shared_dir``: ``../shared`` by default (``$DOCKET_SHARED``); the PDFs
    come from its corpus when present. ``fixtures_dir``: where
    ``opinions.xml`` and ``memoranda.xml`` are (``tests/fixtures/ca9``)."""

    def __init__(self, shared_dir=None, fixtures_dir=None, host: str = "127.0.0.1", port: int = 0):
        self.shared = _resolve_shared(shared_dir)
        self.log = RequestLog()
        self.failures = Failures()
        self._lock = threading.Lock()
        folder = Path(fixtures_dir) if fixtures_dir else CA9_FIXTURES
        self.feeds = {kind: Feed(kind, folder / ("%s.xml" % kind)) for kind in KINDS}
        self._pdfs: dict[str, PdfFile] = {}  # path on this server -> bytes
        self._server = LocalServer(self._answer, self._kind, self.log, host, port)

    # -- URLs and settings --
    @property
    def url(self) -> str:
        return self._server.base

    def feed_url(self, kind: str) -> str:
        return "%sdecisions/%s/index.xml" % (self.url, self._check_kind(kind))

    def settings(self) -> dict:
        return {"CA9_OPINIONS_FEED_URL": self.feed_url("opinions"),
                "CA9_MEMORANDA_FEED_URL": self.feed_url("memoranda")}

    def scrapy_args(self) -> list:
        args = []
        for key, value in self.settings().items():
            args += ["-s", "%s=%s" % (key, value)]
        return args

    # -- data --
    @staticmethod
    def _check_kind(kind: str) -> str:
        kind = {"opinion": "opinions", "memorandum": "memoranda"}.get(kind, kind)
        if kind not in KINDS:
            raise ValueError("kind must be 'opinions' or 'memoranda', not %r" % (kind,))
        return kind

    def _rewrite(self, text: str) -> str:
        base = self.url.rstrip("/")
        for host in REAL_HOSTS:
            text = text.replace(host, base)
        return text

    def feed_xml(self, kind: str) -> str:
        """The feed as served now (links rewritten to this server)."""
        kind = self._check_kind(kind)
        with self._lock:
            text = self.feeds[kind].render()
        return self._rewrite(text)

    def add_decision(self, kind: str, docket_number: str, case_name: str, date_filed,
                     suffix: str = "", description: str = "") -> str:
        """Put a new decision on top of the ``kind`` feed ("opinions" or
        "memoranda"); ``date_filed`` is a date or ``YYYY-MM-DD``. The title
        is ``case_name`` as given (the real feeds print it in capitals).
        Returns the PDF's URL on this server."""
        kind = self._check_kind(kind)
        if isinstance(date_filed, str):
            date_filed = dt.date.fromisoformat(date_filed)
        if isinstance(date_filed, dt.datetime):
            date_filed = date_filed.date()
        path = "/datastore/%s/%04d/%02d/%02d/%s%s.pdf" % (
            kind, date_filed.year, date_filed.month, date_filed.day, docket_number, suffix)
        link = REAL_HOSTS[0] + path
        published = dt.datetime(date_filed.year, date_filed.month, date_filed.day, 12, 0, tzinfo=_PACIFIC)
        desc = "Date Filed %s" % date_filed.strftime("%m/%d/%Y")
        if description:
            desc += " " + description
        item = ("<item>\n<title>%s</title>\n<link>%s</link>\n<description>%s</description>\n"
                "<pubDate>%s</pubDate>\n<guid isPermaLink=\"true\">%s</guid>\n</item>") % (
            escape(case_name), escape(link), escape(desc), format_datetime(published), escape(link))
        with self._lock:
            self.feeds[kind].items.insert(0, item)
            self._pdfs.pop(path, None)
        return self.url.rstrip("/") + path

    def _listed(self, path: str):
        """(kind, case name) of the item whose PDF is ``path``, or None."""
        kind = path.split("/")[2]
        with self._lock:
            items = list(self.feeds[kind].items)
        for item in items:
            link = _LINK.search(item)
            if not link:
                continue
            target = unquote(link.group(1).replace("&amp;", "&"))
            for host in REAL_HOSTS:
                if target.startswith(host):
                    target = target[len(host):]
            if target == path:
                title = _TITLE.search(item)
                return kind, (title.group(1) if title else "")
        return None

    def pdf(self, path: str) -> Optional[PdfFile]:
        """The PDF served at ``path`` (``/datastore/...pdf``), or None."""
        if not _PDF_PATH.match(path):
            return None
        with self._lock:
            found = self._pdfs.get(path)
        if found is not None:
            return found
        listed = self._listed(path)
        if listed is None:
            return None
        kind, title = listed
        name = path.rsplit("/", 1)[-1]
        label = "Ninth Circuit %s %s" % ("opinion" if kind == "opinions" else "memorandum", name[:-4])
        if self.shared is not None:
            source = OPINION_PDF if kind == "opinions" else MEMORANDUM_PDF
            pdf = corpus_pdf(self.shared, source, [label], suffix=b"\n%% " + path.encode("ascii", "replace") + b"\n")
        else:
            pdf = PdfFile(data=reportlab_pdf(["UNITED STATES COURT OF APPEALS FOR THE NINTH CIRCUIT",
                                              title or name, label]),
                          origin="generated:" + name, page_count=1)
        with self._lock:
            pdf = self._pdfs.setdefault(path, pdf)
        return pdf

    # -- HTTP --
    @staticmethod
    def _kind(request: Request) -> str:
        if request.path.startswith("/decisions/"):
            return "feed"
        if request.path.startswith("/datastore/"):
            return "pdf"
        return "other"

    def _answer(self, request: Request) -> Response:
        refused = self.failures.answer_read_only(request)
        if refused:
            return refused
        path = unquote(request.path)
        not_found = Response.text("<html><body><h1>Page not found</h1></body></html>", 404)
        feed = re.match(r"^/decisions/(opinions|memoranda)/index\.xml$", path)
        if feed:
            return Response(200, self.feed_xml(feed.group(1)).encode("utf-8"),
                            content_type="application/rss+xml; charset=utf-8")
        if path.startswith("/datastore/"):
            pdf = self.pdf(path)
            if pdf is None:
                return not_found
            return Response(200, pdf.read(), {"Accept-Ranges": "bytes"}, content_type="application/pdf")
        return not_found
