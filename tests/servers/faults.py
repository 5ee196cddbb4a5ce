"""Faults at a steady rate, for any local server (``server.set_chaos(Chaos(...))``).

Each request is, with probability ``rate``, answered with one fault drawn
from ``kinds``:

- ``500``, ``503`` (with Retry-After), ``429`` (with Retry-After), ``429-bare``
  (no Retry-After): an error answer instead of the page;
- ``reset``: the connection is reset before any answer;
- ``stall``: no answer for ``stall_seconds``, then the connection closes (a
  timeout, for a client whose DOWNLOAD_TIMEOUT is shorter);
- body faults of a 200 answer with a body (``base.damaged``): ``truncate``,
  ``close``, ``flip``, ``html``.

Requests whose path contains one of ``spare`` are never faulted (a login, say,
when the soak is about something else). Seeded, so a soak can be repeated.
"""
from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter

from .base import Response, damaged

STATUS_FAULTS = ("500", "503", "429", "429-bare")
CONNECTION_FAULTS = ("reset", "stall")
BODY_FAULTS = ("truncate", "close", "flip", "html")
ALL = STATUS_FAULTS + CONNECTION_FAULTS + BODY_FAULTS


class Chaos:
    def __init__(self, rate: float = 0.1, kinds=ALL, seed: int = 0, stall_seconds: float = 4.0,
                 spare=(), body_paths=(".pdf", "GetMergedFile", "doc1/")):
        self.rate = rate
        self.kinds = tuple(kinds)
        self.random = random.Random(seed)
        self.stall_seconds = stall_seconds
        self.spare = tuple(spare)
        self.body_paths = tuple(body_paths)
        self.injected: Counter = Counter()
        self.requests = 0
        self._lock = threading.Lock()

    def _draw(self, request):
        with self._lock:
            self.requests += 1
            if any(s in request.raw_path for s in self.spare) or self.random.random() >= self.rate:
                return None
            kinds = [k for k in self.kinds if k not in BODY_FAULTS
                     or any(p in request.raw_path for p in self.body_paths)]
            return self.random.choice(kinds) if kinds else None

    def _count(self, kind):
        with self._lock:
            self.injected[kind] += 1

    def answer(self, request, app, handler):
        """The response for ``request``, faulted or not; None: the connection is dropped."""
        kind = self._draw(request)
        if kind in STATUS_FAULTS:
            self._count(kind)
            status = int(kind.split("-")[0])
            headers = {"Retry-After": "1"} if kind in ("503", "429") else {}
            return Response.text("<h1>Error %d</h1>" % status, status, headers=headers)
        if kind == "reset":
            self._count(kind)
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                          struct.pack("ii", 1, 0))
            return None
        if kind == "stall":
            self._count(kind)
            time.sleep(self.stall_seconds)
            return None
        response = app(request)
        if kind in BODY_FAULTS and response.status == 200 and response.body:
            self._count(kind)
            return damaged(response, kind)
        return response

    def report(self) -> dict:
        with self._lock:
            return {"requests": self.requests, "faults": sum(self.injected.values()),
                    "by_kind": dict(sorted(self.injected.items()))}
