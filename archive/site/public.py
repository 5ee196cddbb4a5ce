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
- What is served is the public copy (archive/publish.py), never the
  operator's archive: with the plugin setting ``archive`` (the archive's
  path), the server keeps the copy it serves current, checking the archive's
  log every ``publish_seconds`` (2) and applying what crawls logged since.
- One client cannot hold the site: a request that runs SQL of the reader's
  own making (``?sql=``, ``_where``, facets, sorts, searches, CSV streams of a
  table) is "heavy"; one client (its address, or the first address of the
  header named by ``client_header`` behind a proxy) runs at most
  ``heavy_per_client`` (2) heavy requests at once, further ones are answered
  429 at once; all clients together run at most ``heavy_at_once`` (the SQL
  threads less two), so that the site's own pages always find a thread.
- ``/-/databases.json`` says no file path.
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import traceback
from typing import Optional
from urllib.parse import quote, unquote_plus

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, Base400, Forbidden, NotFound, Response
from datasette.views.base import DatasetteError

from archive import crawls, publish
from archive import db as adb

ALLOWED_METHODS = ("GET", "HEAD")
READ_ONLY = b"This archive is read-only: only GET and HEAD requests are accepted.\n"
CHUNK = 1 << 20
SNAPSHOTS_AT_ONCE = 2
_snapshots = asyncio.Semaphore(SNAPSHOTS_AT_ONCE)


# query parameters that make a request run SQL of the reader's own making
HEAVY_PARAMS = {"sql", "_where", "_facet", "_facet_array", "_facet_date", "_sort", "_sort_desc",
                "_search", "_stream", "_through"}
PLUGIN = "docket-archive"


def _plugin_config(datasette) -> dict:
    return datasette.plugin_config(PLUGIN) or {}


def is_heavy(scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    names = {unquote_plus(part.split("=", 1)[0]) for part in query.split("&") if part}
    return any(n in HEAVY_PARAMS or n.startswith("_search_") for n in names)


class HeavyRequests:
    """How many heavy requests run, per client and in all (see the docstring)."""

    def __init__(self, per_client: int, at_once: int):
        self.per_client, self.at_once = per_client, at_once
        self.running: dict[str, int] = {}
        self.total = 0

    def take(self, client: str) -> Optional[str]:
        """None when ``client`` may start one now (and counts it), else why not."""
        if self.running.get(client, 0) >= self.per_client:
            return "client"
        if self.total >= self.at_once:
            return "server"
        self.running[client] = self.running.get(client, 0) + 1
        self.total += 1
        return None

    def give_back(self, client: str) -> None:
        self.total -= 1
        left = self.running.get(client, 1) - 1
        if left:
            self.running[client] = left
        else:
            self.running.pop(client, None)


def _client(scope, header: Optional[str]) -> str:
    if header:
        wanted = header.lower().encode()
        for name, value in scope.get("headers") or []:
            if name == wanted and value:
                return value.decode("latin-1").split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else "unknown"


async def _answer(send, status: int, text: bytes, headers=()) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(text)).encode()), *headers]})
    await send({"type": "http.response.body", "body": text})


TOO_MANY_FROM_YOU = (b"Too many queries from you at once: wait for one to finish "
                     b"(at most %d run at a time).\n")
TOO_MANY = b"The server is busy with other queries: try again in a few seconds.\n"


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        config = _plugin_config(datasette)
        threads = datasette.setting("num_sql_threads") or 3
        heavy = HeavyRequests(int(config.get("heavy_per_client", 2)),
                              int(config.get("heavy_at_once", max(1, threads - 2))))
        header = config.get("client_header")
        publisher = _publisher(datasette)
        publishing = []

        async def guarded(scope, receive, send):
            if publisher and not publishing:  # in the server's own event loop
                publishing.append(asyncio.get_running_loop().create_task(_publishing(*publisher)))
            if scope["type"] != "http":
                return await app(scope, receive, send)
            if scope["method"] not in ALLOWED_METHODS:
                return await _answer(send, 405, READ_ONLY,
                                     [(b"allow", ", ".join(ALLOWED_METHODS).encode())])
            if not is_heavy(scope):
                return await app(scope, receive, send)
            client = _client(scope, header)
            refused = heavy.take(client)
            if refused == "client":
                return await _answer(send, 429, TOO_MANY_FROM_YOU % heavy.per_client,
                                     [(b"retry-after", b"3")])
            if refused:
                return await _answer(send, 503, TOO_MANY, [(b"retry-after", b"5")])
            try:
                await app(scope, receive, send)
            finally:
                heavy.give_back(client)

        return guarded

    return wrap


def _publisher(datasette):
    """(archive, served copy, seconds) when the server keeps its copy current, else None."""
    config = _plugin_config(datasette)
    source = config.get("archive")
    if not source:
        return None
    served = [db for db in datasette.databases.values()
              if not db.is_memory and db.is_mutable and db.path]
    if len(served) != 1:
        raise RuntimeError("docket-archive: the setting 'archive' needs one database served "
                           "(the public copy it keeps current)")
    return source, served[0].path, float(config.get("publish_seconds", 2))


@hookimpl
def startup(datasette):
    _publisher(datasette)  # a wrong setting stops the server at its start
    # not at import: an installed plugin is imported while Datasette's views are
    _quoted_foreign_key_links()


async def _publishing(source: str, target: str, every: float) -> None:
    """Check the archive's log every ``every`` seconds (two small reads, here);
    publish in a process of its own (`python -m archive publish`): the server's
    SQLite is held to the serving limits (``hard_heap_limit`` is the whole
    process's), and copying a large archive must not be."""
    while True:
        try:
            if await asyncio.to_thread(publish.pending, source, target):
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "archive", "publish", "--db", source, "--public",
                    target, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                    env=crawls.environment())
                said, _ = await process.communicate()
                said = said.decode("utf-8", "replace").strip()
                if process.returncode:
                    print(f"docket-archive: could not publish the archive: {said}",
                          file=sys.stderr)
                elif "up to date" not in said:
                    print(f"docket-archive: published: {said}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - the site goes on serving the last copy
            print(f"docket-archive: could not publish the archive: {type(exc).__name__}: "
                  f"{exc}", file=sys.stderr)
        await asyncio.sleep(every)


@hookimpl
def handle_exception(datasette, request, exception):
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
    # not at the top: an installed plugin is imported while Datasette's views are,
    # and the row view imports them (an import circle)
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



@hookimpl
def register_routes(datasette):
    return [(r"^/(?P<database>[^/.]+)\.db$", download),
            # lists the server's threads and asyncio tasks, with source file paths
            (r"^/-/threads(\.json)?$", not_public),
            (r"^/-/databases(?P<as_json>\.json)?$", databases)]


async def databases(datasette, request):
    """Datasette's /-/databases, without the files' paths."""
    listed = [{"name": db.name, "route": db.route, "is_mutable": db.is_mutable,
               "is_memory": db.is_memory, "hash": db.hash}
              for db in datasette.databases.values() if db.name != "_internal"]
    return Response.json(listed)


async def not_public(request):
    raise NotFound("Not found")


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
                      head=request.method == "HEAD", on_close=_snapshots.release)


def _snapshot(path):
    """A consistent copy of the live database, as an open file already unlinked."""
    fd, tmp = tempfile.mkstemp(prefix="docket-archive-download-", suffix=".db")
    os.close(fd)
    try:
        source = sqlite3.connect(adb.ro_uri(path), uri=True)
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
