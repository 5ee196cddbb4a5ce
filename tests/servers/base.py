"""What every local test server shares: a background ThreadingHTTPServer,
a thread-safe request log and injected failures.

Standard library only, so a server starts in milliseconds.
"""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


class RequestLog(list):
    """A list of request records that threads may append to safely.

    Each record is a dict: method, path, query (dict), status, kind.
    """

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def add(self, record: dict) -> None:
        with self._lock:
            self.append(record)

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self)

    def clear(self) -> None:  # noqa: D401 - list API
        with self._lock:
            super().clear()

    def tally(self, kind=None, path_contains=None, status=None, method=None) -> int:
        """How many logged requests match (``list.count`` keeps its meaning)."""
        return len(self.select(kind, path_contains, status, method))

    def select(self, kind=None, path_contains=None, status=None, method=None) -> list[dict]:
        return [
            r
            for r in self.snapshot()
            if (kind is None or r["kind"] == kind)
            and (path_contains is None or path_contains in r["path"])
            and (status is None or r["status"] == status)
            and (method is None or r["method"] == method)
        ]


class Failures:
    """``fail_next(path_substring, status, times)``: the next matching requests
    are answered with that status instead of their normal answer."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules: list[list] = []  # [substring, status, remaining, headers]
        self._body_rules: list[list] = []  # [substring, kind, remaining]
        self.injected: list[tuple[str, str]] = []  # (path, body fault) as applied

    def add(self, path_substring: str, status: int = 500, times: int = 1, headers=None) -> None:
        with self._lock:
            self._rules.append([path_substring, int(status), int(times), dict(headers or {})])

    def take(self, path_and_query: str):
        """The (status, headers) to fail this request with, or None."""
        with self._lock:
            for rule in self._rules:
                if rule[0] in path_and_query and rule[2] > 0:
                    rule[2] -= 1
                    status, headers = rule[1], rule[3]
                    self._rules = [r for r in self._rules if r[2] > 0]
                    return status, headers
        return None

    def answer(self, request, page: str = "<h1>Error %d</h1>"):
        """An injected failure for ``request`` as an HTML error page, or None."""
        failed = self.take(request.raw_path)
        if not failed:
            return None
        status, headers = failed
        return Response.text(page % status, status, headers=headers)

    def answer_read_only(self, request, page: str = "<h1>Error %d</h1>"):
        """For a host that only serves files: an injected failure, or 405 for
        anything but GET and HEAD, or None (answer normally)."""
        failed = self.answer(request, page)
        if failed:
            return failed
        if request.method not in ("GET", "HEAD"):
            return Response.text("Method not allowed", 405)
        return None

    # -- body faults: a 200 answer whose bytes are wrong --
    BODY_FAULTS = ("truncate", "close", "flip", "html")

    def add_body(self, path_substring: str, kind: str, times: int = 1) -> None:
        """The next ``times`` successful answers whose path contains
        ``path_substring`` are damaged: ``truncate`` (the first half, with a
        matching Content-Length), ``close`` (the full Content-Length, half the
        body, then the connection is closed), ``flip`` (64 bytes in the middle
        inverted) or ``html`` (an HTML error page, status 200)."""
        if kind not in self.BODY_FAULTS:
            raise ValueError("unknown body fault %r (one of %s)" % (kind, ", ".join(self.BODY_FAULTS)))
        with self._lock:
            self._body_rules.append([path_substring, kind, int(times)])

    def damage(self, request, response: "Response") -> "Response":
        """``response`` with the body fault due for ``request``, if any."""
        if response.status != 200 or not response.body:
            return response
        with self._lock:
            rule = next((r for r in self._body_rules if r[0] in request.raw_path and r[2] > 0), None)
            if rule is None:
                return response
            rule[2] -= 1
            self._body_rules = [r for r in self._body_rules if r[2] > 0]
            kind = rule[1]
            self.injected.append((request.raw_path, kind))
        return damaged(response, kind)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._body_rules.clear()


def damaged(response: "Response", kind: str) -> "Response":
    """``response`` (a 200 with a body) with a body fault: ``truncate`` (the first
    half, with a matching Content-Length), ``close`` (the full Content-Length,
    half the body, then the connection drops), ``flip`` (64 bytes in the middle
    inverted) or ``html`` (an HTML error page, status 200)."""
    body, half = response.body, len(response.body) // 2
    headers = {k: v for k, v in response.headers.items() if k.lower() != "etag"}
    if kind == "truncate":
        return Response(200, body[:half], headers, content_type=None)
    if kind == "close":
        out = Response(200, body, headers, content_type=None)
        out.cut_after = half
        return out
    if kind == "flip":
        start = max(0, half - 32)
        flipped = bytes(b ^ 0xFF for b in body[start:start + 64])
        return Response(200, body[:start] + flipped + body[start + 64:], headers, content_type=None)
    return Response.text("<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
                         "<body><h1>Temporarily unavailable</h1></body></html>", 200)


class Response:
    cut_after = None  # bytes of the body to send before closing the connection (a fault)
    pace = None  # seconds over which the body is sent, in ten parts (a slow answer)

    def __init__(self, status: int = 200, body: bytes = b"", headers=None, content_type="application/json"):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        if content_type and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = content_type

    @classmethod
    def json(cls, data, status: int = 200, headers=None) -> "Response":
        return cls(status, json.dumps(data).encode("utf-8"), headers)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type="text/html; charset=utf-8", headers=None) -> "Response":
        return cls(status, text.encode("utf-8"), headers, content_type)


class Request:
    """What a handler function sees of one HTTP request."""

    def __init__(self, handler: BaseHTTPRequestHandler):
        self.method = handler.command
        self.raw_path = handler.path
        parts = urlsplit(handler.path)
        self.path = parts.path
        self.query_string = parts.query
        self.query_items = parse_qsl(parts.query, keep_blank_values=True)
        self.query = dict(self.query_items)
        self.headers = handler.headers
        self.host = handler.headers.get("Host") or "%s:%s" % handler.server.server_address[:2]
        self._connection = handler.connection

    def client_gone(self) -> bool:
        """The client closed its connection (it was killed, say) before the answer."""
        import select
        import socket

        try:
            readable, _, _ = select.select([self._connection], [], [], 0)
            return bool(readable) and self._connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    @property
    def url(self) -> str:
        return "http://%s%s" % (self.host, self.raw_path)


class ServerLifecycle:
    """start/stop/with for a test server made of LocalServers: ``self._server``,
    or several listed by ``_parts()``."""

    _server: "LocalServer"
    failures: "Failures"
    retry_after = 1  # seconds, on injected 429 and 503 answers

    def fail_next(self, path_substring: str, status: int = 500, times: int = 1) -> None:
        """The next ``times`` requests whose path (and query) contain
        ``path_substring`` are answered ``status`` (429/503 with Retry-After)."""
        headers = {"Retry-After": str(self.retry_after)} if status in (429, 503) else {}
        self.failures.add(path_substring, status, times, headers)

    def break_next(self, path_substring: str, kind: str, times: int = 1) -> None:
        """The next ``times`` file answers whose path contains ``path_substring``
        come with a damaged body (``Failures.add_body``: truncate, close, flip, html)."""
        self.failures.add_body(path_substring, kind, times)

    def _parts(self) -> list:
        return [self._server]

    def set_chaos(self, chaos) -> None:
        """Inject faults into every answer at ``chaos``'s rate (None: stop)."""
        for part in self._parts():
            part.chaos = chaos

    def start(self):
        for part in self._parts():
            part.start()
        return self

    def stop(self) -> None:
        for part in self._parts():
            part.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.base


class _QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-request (a crawl killed, a reset) is no error of the server's."""

    def handle_error(self, request, client_address):
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class LocalServer:
    """One listening socket on ``host:port`` (0 = a free port), served by a
    daemon thread. ``app(request) -> Response`` answers each request."""

    def __init__(self, app, kind_of, log: RequestLog, host="127.0.0.1", port=0):
        self.app = app
        self.kind_of = kind_of
        self.log = log
        self.chaos = None  # a tests.servers.faults.Chaos: random faults for the soak
        self.host = host
        self.port = port
        self.httpd = None
        self.thread = None

    def start(self) -> "LocalServer":
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "DocketArchiveTestServer/1.0"

            def log_message(self, format, *args):  # quiet
                pass

            def _answer(self, head_only=False):
                request = Request(self)
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    request.body = self.rfile.read(length) if length else b""
                    if outer.chaos is not None:  # faults at a steady rate (tests/servers/faults.py)
                        response = outer.chaos.answer(request, outer.app, self)
                        if response is None:  # the connection was reset or left to time out
                            self.close_connection = True
                            return
                    else:
                        response = outer.app(request)
                except Exception as exc:  # a bug in the server: say so loudly
                    import traceback

                    traceback.print_exc()
                    response = Response.json({"detail": "test server error: %r" % exc}, 500)
                outer.log.add(
                    {
                        "method": request.method,
                        "path": request.path,
                        "query": dict(request.query),
                        "status": response.status,
                        "kind": outer.kind_of(request),
                    }
                )
                try:
                    self.send_response(response.status)
                    for name, value in response.headers.items():
                        # a list value repeats the header (e.g. several Set-Cookie)
                        for one in value if isinstance(value, list) else [value]:
                            self.send_header(name, str(one))
                    if response.status != 304:
                        self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    if not head_only and response.status != 304 and response.body:
                        if response.cut_after is not None:  # injected: the connection drops
                            self.wfile.write(response.body[:response.cut_after])
                            self.wfile.flush()
                            self.close_connection = True
                            self.connection.shutdown(socket.SHUT_RDWR)
                            return
                        if response.pace:  # a slow answer: in ten parts
                            import time

                            step = max(1, len(response.body) // 10)
                            for start in range(0, len(response.body), step):
                                self.wfile.write(response.body[start:start + step])
                                self.wfile.flush()
                                time.sleep(response.pace / 10)
                            return
                        self.wfile.write(response.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                self._answer()

            def do_HEAD(self):
                self._answer(head_only=True)

            def do_POST(self):
                self._answer()

            def do_OPTIONS(self):
                self._answer()

        httpd = _QuietServer((self.host, self.port), Handler)
        httpd.daemon_threads = True
        self.httpd = httpd
        self.port = httpd.server_address[1]
        self.thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.thread is not None:
            self.thread.join(timeout=5)
            self.thread = None

    @property
    def base(self) -> str:
        return "http://%s:%d/" % (self.host, self.port)
