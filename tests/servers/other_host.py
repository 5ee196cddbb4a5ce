"""Another host, for tests of where credentials and links may go: a server on
127.0.0.2 (a loopback address of its own, so a different *host* from the
project's servers on 127.0.0.1, not just another port) that records every
request it receives, headers and body included, and answers with something
worth archiving, so a test can tell whether a crawl followed a link there,
sent it a credential or archived what it said.

    with OtherHost() as other:
        other.url("api/rest/v4/parties/?docket=1")   # http://127.0.0.2:PORT/api/...
        other.answers["/cgi-bin/"] = Response.text("<html>...</html>")
        other.received        # [{method, path, query, headers, body}, ...]
        other.credentials()   # the Authorization/Cookie headers it was sent

Standard library only.
"""
from __future__ import annotations

import json
import threading

from .base import Failures, LocalServer, Request, RequestLog, Response, ServerLifecycle

OTHER_HOST = "127.0.0.2"
MARK = "FROM OTHER HOST"  # in every default answer: must never reach the archive
SECRET_HEADERS = ("authorization", "cookie", "proxy-authorization", "x-api-key")


def courtlistener_page(mark: str = MARK) -> dict:
    """A CourtListener list page whose one result would make a row of any list
    endpoint (entry, party, attorney, RECAP document) if a crawl read it."""
    return {"count": 1, "next": None, "previous": None, "results": [{
        "id": 990001, "name": mark, "description": mark, "entry_number": 990001,
        "date_filed": "2020-01-01", "recap_documents": [], "party_types": [],
        "attorneys": [], "parties_represented": [], "pacer_doc_id": "990001",
        "document_number": "990001", "is_available": False,
    }]}


class OtherHost(ServerLifecycle):
    """``answers``: path prefix -> Response (first match wins); anything else is
    answered with :func:`courtlistener_page` as JSON."""

    def __init__(self, host: str = OTHER_HOST, port: int = 0, answers=None):
        self.log = RequestLog()
        self.failures = Failures()
        self.answers: dict[str, Response] = dict(answers or {})
        self.received: list[dict] = []
        self._lock = threading.Lock()
        self._server = LocalServer(self._answer, lambda r: "other", self.log, host, port)

    def url(self, path: str = "") -> str:
        return self.base_url + path.lstrip("/")

    def credentials(self) -> list[tuple[str, str]]:
        """(header, value) of every credential header it was sent."""
        with self._lock:
            return [(name, value) for r in self.received for name, value in r["headers"].items()
                    if name.lower() in SECRET_HEADERS]

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self.received.append({"method": request.method, "path": request.path,
                                  "query": dict(request.query),
                                  "headers": {k: v for k, v in request.headers.items()},
                                  "body": getattr(request, "body", b"")})
        for prefix, response in self.answers.items():
            if request.path.startswith(prefix):
                return response
        return Response(200, json.dumps(courtlistener_page()).encode("utf-8"))
