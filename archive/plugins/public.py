"""Datasette plugin: what the public sees of the archive.

- Only GET and HEAD: any other method is answered 405 before Datasette sees it
  (the archive is read-only; canned queries and tables take no POST).
- An unexpected error is answered with a short message; its details (which
  can name files) go to the server's log only.
- Pages about the server's insides that name its files (/-/threads) are not
  served.
- The whole database can be downloaded while a crawl writes to it: the file
  is copied with SQLite's backup API (one consistent snapshot, taken in a
  read transaction), streamed, and deleted. An immutable file (a release) is
  streamed as it is, as Datasette does.
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import traceback

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, Forbidden, NotFound, Response

ALLOWED_METHODS = ("GET", "HEAD")
READ_ONLY = b"This archive is read-only: only GET and HEAD requests are accepted.\n"
CHUNK = 1 << 20
SNAPSHOTS_AT_ONCE = 2
_snapshots = asyncio.Semaphore(SNAPSHOTS_AT_ONCE)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def read_only(scope, receive, send):
            if scope["type"] == "http" and scope["method"] not in ALLOWED_METHODS:
                await send({"type": "http.response.start", "status": 405, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"allow", ", ".join(ALLOWED_METHODS).encode()),
                    (b"content-length", str(len(READ_ONLY)).encode())]})
                await send({"type": "http.response.body", "body": READ_ONLY})
                return
            await app(scope, receive, send)

        return read_only

    return wrap


@hookimpl
def handle_exception(datasette, request, exception):
    from datasette.utils.asgi import Base400
    from datasette.views.base import DatasetteError

    if isinstance(exception, (Base400, DatasetteError, MemoryError, sqlite3.DataError)):
        return None  # Datasette's own messages (and limits.py's) say nothing private
    traceback.print_exception(exception, file=sys.stderr)
    message = "Internal error: the server's log has the details."
    if request.path.endswith(".json"):
        return Response.json({"ok": False, "error": message, "status": 500}, status=500)
    return Response.text(message, status=500)


@hookimpl
def extra_template_vars(view_name, database, datasette):
    # Datasette links the download for immutable files only; ours serves live ones too
    if view_name == "database" and database in datasette.databases:
        if not datasette.databases[database].is_memory and datasette.setting("allow_download"):
            return {"allow_download": True}
    return {}


def _quoted_foreign_key_links():
    """Datasette 0.65 builds a row page's "rows from entry_id in documents" link
    as ``?entry_id=<id>`` with the id unescaped; the archive's ids hold ``#``
    (``cand/3:20-cv-05910#48``), which a browser takes for a fragment, so the
    link showed 0 rows. Its value is quoted here, as a query value must be."""
    from urllib.parse import quote

    from datasette.views.row import RowView

    if getattr(RowView.foreign_key_tables, "quoted", False):
        return
    original = RowView.foreign_key_tables

    async def foreign_key_tables(self, database, table, pk_values):
        tables = await original(self, database, table, pk_values)
        for fk in tables:
            base, _, query = fk["link"].partition("?")
            key = query.partition("=")[0]
            fk["link"] = f"{base}?{key}={quote(','.join(map(str, pk_values)), safe='/:,')}"
        return tables

    foreign_key_tables.quoted = True
    RowView.foreign_key_tables = foreign_key_tables


_quoted_foreign_key_links()


@hookimpl
def register_routes(datasette):
    return [(r"^/(?P<database>[^/.]+)\.db$", download),
            # lists the server's threads and asyncio tasks, with source file paths
            (r"^/-/threads(\.json)?$", not_public),
            (r"^/robots\.txt$", robots)]


async def not_public(request):
    raise NotFound("Not found")


# Search engines may index the archive's pages (home, cases, documents), not
# run its searches and SQL, page through its tables or download its files.
ROBOTS = """User-agent: *
Allow: /$
Allow: /cases/
Disallow: /
"""


async def robots(request):
    return Response.text(ROBOTS)


async def download(datasette, request):
    db = datasette.databases.get(request.url_vars["database"])
    if db is None or db.is_memory or not db.path:
        raise NotFound("Database not found")
    if not datasette.setting("allow_download"):
        raise Forbidden("Database download is forbidden")
    filename = os.path.basename(db.path)
    if not db.is_mutable:
        return AsgiFileDownload(db.path, filename=filename,
                                content_type="application/octet-stream")
    if _snapshots.locked():
        return Response.text("Too many downloads at once: try again in a minute.", status=503,
                             headers={"Retry-After": "60"})
    await _snapshots.acquire()
    try:
        handle = await asyncio.to_thread(_snapshot, db.path)
    except BaseException:
        _snapshots.release()
        raise
    return FileStream(handle, [(b"content-type", b"application/octet-stream"),
                               (b"content-disposition", f'attachment; filename="{filename}"'.encode())],
                      on_close=_snapshots.release)


def _snapshot(path):
    """A consistent copy of the live database, as an open file already unlinked."""
    fd, tmp = tempfile.mkstemp(prefix="docket-archive-download-", suffix=".db")
    os.close(fd)
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            source.close()
            target.close()
        return open(tmp, "rb")
    finally:
        os.unlink(tmp)


class FileStream:
    """An open file sent in chunks off the event loop (Datasette's
    ``asgi_send`` protocol), closed when sent; ``on_close`` runs after."""

    def __init__(self, handle, headers, head=False, on_close=None):
        self.handle, self.headers, self.head, self.on_close = handle, headers, head, on_close

    async def asgi_send(self, send):
        try:
            size = os.fstat(self.handle.fileno()).st_size
            await send({"type": "http.response.start", "status": 200, "headers": [
                *self.headers, (b"content-length", str(size).encode())]})
            if self.head:
                await send({"type": "http.response.body", "body": b""})
                return
            while True:
                chunk = await asyncio.to_thread(self.handle.read, CHUNK)
                await send({"type": "http.response.body", "body": chunk,
                            "more_body": bool(chunk)})
                if not chunk:
                    break
        finally:
            self.handle.close()
            if self.on_close is not None:
                self.on_close()
