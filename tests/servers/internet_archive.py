"""A local Internet Archive serving RECAP copies, for tests and benchmarks.

    with InternetArchiveServer() as ia:
        ia.url  # http://127.0.0.1:PORT/download/
        # GET ia.url + "gov.uscourts.cand.364733/gov.uscourts.cand.364733.docket.xml"
        #   -> 302 to /<n>/items/gov.uscourts.cand.364733/... which serves the bytes

Items come from RECAP docket XML files named ``<court>_<pacer_case_id>.xml``
(identifier read from the XML's case_details): ``<shared>/corpus/pacer/
internet_archive/``, the hand-written ``tests/fixtures/internet_archive/`` and
any ``extra_xml_dirs``. Each document marked ``<available>1</available>`` has a
PDF ``gov.uscourts.<court>.<id>.<doc>.<att>.pdf``: for the WeChat case the same
real file CourtListener serves, for others a real corpus PDF picked
deterministically (or a generated tiny PDF without ../shared). The XML is
served with each ``<sha1>`` set to the sha1 of the bytes served. Standard
library only.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import zlib
from pathlib import Path
from typing import Optional
from urllib.parse import unquote

from .base import Failures, LocalServer, Request, RequestLog, Response, ServerLifecycle
from .cases import FIXTURES, SYNTHETIC_PDFS, PdfFile, _resolve_shared, corpus_pdf, make_pdf, wechat_cases

_DOCUMENT = re.compile(r'<document\s+doc_num="([^"]*)"\s+attachment_num="([^"]*)"\s*>(.*?)</document>', re.S)


class Item:
    def __init__(self, identifier: str, xml_path: Path):
        self.identifier = identifier
        self.xml_path = xml_path
        self._built = False
        self.xml = b""
        self.files: dict[str, PdfFile] = {}


class InternetArchiveServer(ServerLifecycle):
    """``shared_dir``: ``../shared`` by default. ``extra_xml_dirs``: more folders
    of ``<court>_<id>.xml`` docket files (the hand-written fixtures are always
    included). ``cl_files``: filename -> PdfFile to serve for matching PDF
    names (default: the WeChat case's files, so both sources serve the same
    bytes for the same document)."""

    def __init__(self, shared_dir=None, extra_xml_dirs=(), host: str = "127.0.0.1", port: int = 0,
                 cl_files: Optional[dict] = None, redirect: bool = True):
        self.shared = _resolve_shared(shared_dir)
        self.redirect = redirect
        self.log = RequestLog()
        self.failures = Failures()
        self._lock = threading.Lock()
        dirs = []
        if self.shared is not None:
            dirs.append(self.shared / "corpus" / "pacer" / "internet_archive")
        dirs.append(FIXTURES / "internet_archive")
        dirs.extend(Path(d) for d in extra_xml_dirs)
        self.items: dict[str, Item] = {}
        for folder in dirs:
            for path in sorted(Path(folder).glob("*.xml")):
                identifier = self._identifier(path)
                if identifier:
                    self.items[identifier] = Item(identifier, path)  # later folders win
        if cl_files is None:
            cl_files = {}
            for case in wechat_cases(self.shared):
                for filepath, pdf in case.files.items():
                    name = re.sub(r"_\d+\.pdf$", ".pdf", filepath.rsplit("/", 1)[-1])
                    cl_files[name] = pdf
        self.cl_files = cl_files
        self._pool = None
        self._server = LocalServer(self._answer, self._kind, self.log, host, port)

    @property
    def url(self) -> str:
        return self._server.base + "download/"

    def settings(self) -> dict:
        return {"INTERNET_ARCHIVE_URL": self.url}

    def scrapy_args(self) -> list:
        return ["-s", "INTERNET_ARCHIVE_URL=%s" % self.url]

    def docket_xml_url(self, court: str, pacer_case_id: str) -> str:
        identifier = "gov.uscourts.%s.%s" % (court, pacer_case_id)
        return "%s%s/%s.docket.xml" % (self.url, identifier, identifier)

    # -- data --
    @staticmethod
    def _identifier(path: Path) -> Optional[str]:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        court = re.search(r"<court>\s*([^<\s]+)\s*</court>", head)
        case = re.search(r"<pacer_case_num>\s*([^<\s]+)\s*</pacer_case_num>", head)
        if court and case:
            return "gov.uscourts.%s.%s" % (court.group(1), case.group(1))
        match = re.match(r"([a-z0-9]+)_(\d+)\.xml$", path.name)
        return "gov.uscourts.%s.%s" % match.groups() if match else None

    def pool(self) -> list[PdfFile]:
        if self._pool is None:
            names = SYNTHETIC_PDFS
            self._pool = [corpus_pdf(self.shared, n, ["Internet Archive copy", n]) for n in names]
        return self._pool

    def item(self, identifier: str) -> Optional[Item]:
        item = self.items.get(identifier)
        if item is None:
            return None
        with self._lock:
            if not item._built:
                self._build(item)
        return item

    def _build(self, item: Item) -> None:
        text = item.xml_path.read_text(encoding="utf-8")
        pool = self.pool()

        def document(match):
            doc, att, body = match.group(1), match.group(2), match.group(3)
            if not re.search(r"<available>\s*1\s*</available>", body):
                return match.group(0)
            name = "%s.%s.%s.pdf" % (item.identifier, doc, att or "0")
            pdf = self.cl_files.get(name)
            if pdf is None:
                if self.shared is None:
                    pdf = PdfFile(data=make_pdf([item.identifier, "Document %s-%s" % (doc, att)]),
                                  origin="generated", page_count=1)
                else:
                    pdf = pool[zlib.crc32(name.encode()) % len(pool)]
            item.files[name] = pdf
            sha1 = pdf.sha1
            if "<sha1>" in body:
                body = re.sub(r"<sha1>[^<]*</sha1>", "<sha1>%s</sha1>" % sha1, body)
            else:
                body = re.sub(r"(<available>\s*1\s*</available>)", r"\1\n      <sha1>%s</sha1>" % sha1, body)
            return '<document doc_num="%s" attachment_num="%s">%s</document>' % (doc, att, body)

        xml = _DOCUMENT.sub(document, text)
        item.xml = xml.encode("utf-8")
        item._built = True

    def _file(self, identifier: str, filename: str):
        """(bytes, content type) or None."""
        item = self.item(identifier)
        if item is None:
            return None
        if filename == identifier + ".docket.xml":
            return item.xml, "text/xml"
        pdf = item.files.get(filename)
        if pdf is None:
            return None
        return pdf.read(), "application/pdf"

    # -- HTTP --
    @staticmethod
    def _kind(request: Request) -> str:
        if request.path.startswith("/download/"):
            return "download"
        if request.path.startswith("/metadata/"):
            return "metadata"
        return "serve"

    def _answer(self, request: Request) -> Response:
        refused = self.failures.answer_read_only(request)
        if refused:
            return refused
        parts = [unquote(p) for p in request.path.split("/") if p]
        not_found = Response.text("<html><body><h1>Item not available</h1></body></html>", 404)
        if len(parts) == 2 and parts[0] == "metadata":
            return self._metadata(parts[1])
        if len(parts) == 3 and parts[0] == "download":
            identifier, filename = parts[1], parts[2]
            found = self._file(identifier, filename)
            if found is None:
                return not_found
            if not self.redirect:
                return self._serve(request, *found)
            node = zlib.crc32(identifier.encode()) % 30 + 1
            location = "%s%d/items/%s/%s" % (self.base_url, node, identifier, filename)
            return Response.text("", 302, content_type="text/html; charset=UTF-8", headers={"Location": location})
        if len(parts) == 4 and parts[0].isdigit() and parts[1] == "items":
            found = self._file(parts[2], parts[3])
            if found is None:
                return not_found
            return self._serve(request, *found)
        return not_found

    def _serve(self, request: Request, data: bytes, content_type: str) -> Response:
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        headers = {"ETag": etag, "Accept-Ranges": "bytes", "Last-Modified": "Fri, 02 Oct 2020 15:27:03 GMT"}
        if request.headers.get("If-None-Match") == etag:
            return Response(304, b"", headers, content_type=None)
        answer = Response(200, data, headers, content_type=content_type)
        return self.failures.damage(request, answer) if content_type == "application/pdf" else answer

    def _metadata(self, identifier: str) -> Response:
        item = self.item(identifier)
        if item is None:
            return Response.json({})
        files = [{"name": identifier + ".docket.xml", "source": "original", "format": "Metadata",
                  "size": str(len(item.xml)), "sha1": hashlib.sha1(item.xml).hexdigest()}]
        for name, pdf in sorted(item.files.items()):
            files.append({"name": name, "source": "original", "format": "Text PDF", "size": str(pdf.size),
                          "sha1": pdf.sha1})
        return Response(200, json.dumps({
            "created": 1601652423, "dir": "/items/" + identifier, "files": files, "files_count": len(files),
            "metadata": {"identifier": identifier, "mediatype": "texts", "collection": ["usfederalcourts"]},
        }).encode("utf-8"))
