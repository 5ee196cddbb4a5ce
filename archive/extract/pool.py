"""``parsers.pdf.extract`` in worker processes with limits (issue 9).

A hostile or broken PDF must cost one document, never the machine or the
crawl. ``ExtractionPool`` runs each document in one of ``workers`` worker
processes, each of which:

- has an address-space limit (``RLIMIT_AS``, ``Limits.memory_mb``): an
  allocation past it fails inside the worker, which answers ``too_large``
  (or dies, if a native library cannot cope) instead of taking the machine;
  Tesseract and Ghostscript, started by the worker, inherit the limit;
- is killed and replaced when a document takes longer than
  ``Limits.time_limit`` seconds, or one page longer than
  ``Limits.page_time_limit`` (the worker reports each page done, so a long
  scanned filing is not cut short while it progresses): status ``timeout``;
- is replaced after a document that hit the memory limit, or once its peak
  memory passes half the limit, so the next document starts clean;
- leaves when the process that started it is gone, and ignores Ctrl-C
  (the crawl decides what stops);
- keeps its temporary files (Tesseract's ``tess_*`` images and texts,
  Ghostscript's ``pdfrepair*`` folders) in a folder of its own,
  ``<tmp_dir>/<pid>`` (``TMPDIR`` for the programs it starts), which goes
  with it: removed when it stops or is replaced, and, for a worker that
  could not clean up (its crawl was killed), when the next pool starts with
  the same ``tmp_dir``. A crawl's pool uses ``.extract-tmp/`` beside its
  archive (:func:`tmp_folder_beside`), so no crawl writes outside the
  project's own folders.

Each worker has its own pipe and runs one document at a time, so a worker
that is killed or dies costs only its own document: the other documents in
flight are in other workers, and those waiting are queued in this process,
where nothing is lost. ``submit`` never raises for a bad document: the
future's result is always an ``extract`` result dict.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import resource
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import Future
from typing import Iterable, Iterator

from parsers.pdf import extract, extraction_result

from archive.processes import process_alive

from .limits import Limits

logger = logging.getLogger(__name__)

__all__ = ["ExtractionPool", "extract_many", "tmp_folder_beside"]

TMP_FOLDER = ".extract-tmp"
_GITIGNORE = "# extraction workers' temporary files (Docket Archive): never in git\n*\n"


def tmp_folder_beside(path: str) -> str:
    """``.extract-tmp/`` in the folder holding ``path`` (an archive's file):
    where the extraction workers of that archive's crawls keep their
    temporary files."""
    return os.path.join(os.path.dirname(os.path.abspath(path)), TMP_FOLDER)


def _default_tmp() -> str:
    """A pool given no folder (a library call, a Celery worker): one of this
    user's own in the system's temporary folder, swept as any other."""
    return os.path.join(tempfile.gettempdir(), f"docket-archive-extract-{os.getuid()}")


def _prepare_tmp(root: str) -> None:
    """Make ``root`` (with a ``.gitignore`` of ``*``) and remove the folders
    of workers that are gone: ``<pid>`` of no live process, or of a process
    that began after the folder was last written (a later one given the same
    pid)."""
    os.makedirs(root, exist_ok=True)
    try:
        with open(os.path.join(root, ".gitignore"), "x") as fh:
            fh.write(_GITIGNORE)
    except FileExistsError:
        pass
    for name in os.listdir(root):
        path = os.path.join(root, name)
        try:
            written = os.lstat(path).st_mtime
        except FileNotFoundError:
            continue
        if name.isdigit() and not process_alive(int(name), written):
            shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- worker side


def _exit_with_parent(parent_pid: int, folder: str) -> None:
    """Leave when the process that started this worker is gone (a killed crawl
    must not leave workers behind, busy or not), removing its folder."""

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _set_memory_limit(memory_mb: int) -> None:
    if memory_mb and memory_mb > 0:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _private_tmp(root: str) -> str:
    """This worker's own temporary folder, ``<root>/<pid>``: Python's
    ``tempfile`` (pytesseract, the Ghostscript repair) and the programs it
    starts (``TMPDIR``) write there."""
    folder = os.path.join(root, str(os.getpid()))
    shutil.rmtree(folder, ignore_errors=True)  # a dead worker's, of the same pid
    os.makedirs(folder)
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder
    return folder


def _worker_main(conn, limits: Limits, parent_pid: int, tmp_root: str) -> None:
    """One worker process: documents in, results out, one at a time."""
    # Ctrl-C reaches the whole process group: the crawl decides what stops
    # (a first Ctrl-C lets documents in flight finish), not the worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_memory_limit(limits.memory_mb)
    folder = _private_tmp(tmp_root)
    if parent_pid:
        _exit_with_parent(parent_pid, folder)
    try:
        _serve(conn, limits)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _serve(conn, limits: Limits) -> None:
    conn.send(("ready", os.getpid()))  # time limits start from here, not from the spawn
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        source, ocr = job
        try:
            result = extract(source, ocr=ocr, max_pixels=limits.max_pixels,
                             page_max_objects=limits.page_max_objects,
                             progress=lambda n: conn.send(("page", n)))
        except MemoryError:
            result = extraction_result(
                status="too_large",
                error="out of memory while reading the PDF (over the memory limit)")
        except BaseException as exc:  # never leave the parent without an answer
            result = extraction_result(status="error",
                                       error=f"unexpected {type(exc).__name__}: {exc}"[:300])
        del source, job
        peak = _peak_rss()
        memory = limits.memory_mb * 1024 * 1024
        out_of_memory = (result.get("error") or "").startswith("out of memory")
        recycle = out_of_memory or bool(memory and peak > memory // 2)
        try:
            conn.send(("done", result, peak, recycle))
        except MemoryError:
            conn.send(("done", extraction_result(
                status="too_large",
                error="out of memory sending the text (over the memory limit)"), peak, True))
            return
        if recycle:
            return


# --------------------------------------------------------------------------- parent side

_START_TIMEOUT = 120.0  # seconds for a new worker to import its libraries


class _Worker:
    def __init__(self, ctx, limits: Limits, watch_parent: bool, tmp_root: str):
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.conn = parent_end
        self.tmp_root = tmp_root
        self.proc = ctx.Process(target=_worker_main, name="pdf-extract",
                                args=(child_end, limits, os.getpid() if watch_parent else 0,
                                      tmp_root),
                                daemon=True)
        self.proc.start()
        child_end.close()
        try:
            ready = self.conn.poll(_START_TIMEOUT) and self.conn.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            code = self.proc.exitcode
            self.stop(kill=True)
            hint = f"; is its {limits.memory_mb} MB memory limit too small?" if limits.memory_mb else ""
            raise RuntimeError(f"an extraction worker did not start ({_describe_exit(code)}){hint}")

    def stop(self, kill: bool = False, wait: float = 5.0) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
        self.proc.join(wait)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(wait)
        self.conn.close()
        if self.proc.pid and not self.proc.is_alive():  # killed: it could not clean up
            shutil.rmtree(os.path.join(self.tmp_root, str(self.proc.pid)), ignore_errors=True)


def _describe_exit(code) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class ExtractionPool:
    """``workers`` limited worker processes; ``submit(source, ocr)`` -> Future of a result dict.

    ``tmp_dir``: the folder of the workers' temporary folders (default: one in
    the system's temporary folder); what dead workers left there is removed
    now."""

    def __init__(self, workers: int | None = None, limits: Limits | None = None, *,
                 watch_parent: bool = True, tmp_dir: str | None = None):
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.limits = limits or Limits()
        self.watch_parent = watch_parent
        self.tmp_dir = os.path.abspath(tmp_dir or _default_tmp())
        _prepare_tmp(self.tmp_dir)
        self._ctx = multiprocessing.get_context("spawn")  # safe beside threads (Scrapy's)
        self._jobs: queue.Queue = queue.Queue()
        self._closed = False
        self._killing = False
        self._lock = threading.Lock()
        self._current: list[_Worker | None] = [None] * self.workers
        self.stats = {"workers_started": 0, "workers_replaced": 0, "timeouts": 0,
                      "crashes": 0, "peak_rss": 0}
        self._threads = [threading.Thread(target=self._slot, args=(i,), daemon=True,
                                          name=f"pdf-extract-slot-{i}")
                         for i in range(self.workers)]
        for t in self._threads:
            t.start()

    # -- public

    def submit(self, source, ocr: bool = True) -> Future:
        fut: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the extraction pool is shut down")
            self._jobs.put((fut, source, ocr))
        return fut

    def map(self, sources: Iterable, ocr: bool = True, window: int | None = None) -> Iterator[dict]:
        """Results in the order of ``sources``, at most ``window`` documents in flight."""
        window = window or 4 * self.workers
        pending: list[Future] = []
        it = iter(sources)
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                try:
                    pending.append(self.submit(next(it), ocr))
                except StopIteration:
                    exhausted = True
            if not pending:
                return
            yield pending.pop(0).result()

    def shutdown(self, wait: bool = True, kill: bool = False) -> None:
        """Stop taking documents; cancel those not started; stop the workers
        once their document is done (``kill``: at once, e.g. on Ctrl-C)."""
        with self._lock:
            if kill:
                self._killing = True
                for w in list(self._current):
                    if w is not None:
                        w.proc.kill()
            if self._closed:
                return
            self._closed = True
            while True:
                try:
                    fut, _, _ = self._jobs.get_nowait()
                except queue.Empty:
                    break
                fut.cancel()
            for _ in self._threads:
                self._jobs.put(None)
        if wait:
            for t in self._threads:
                t.join()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        # an exception (Ctrl-C, an abandoned generator): do not wait for documents
        self.shutdown(wait=True, kill=exc_type is not None)

    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._current if w is not None and w.proc.pid]

    # -- slots: one thread per worker process

    def _slot(self, i: int) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                fut, source, ocr = job
                if not fut.set_running_or_notify_cancel():
                    continue
                try:
                    result = self._run(i, source, ocr)
                except BaseException as exc:  # the pool itself failed: still an answer
                    result = extraction_result(
                        status="error", error=f"extraction pool: {type(exc).__name__}: {exc}"[:300])
                fut.set_result(result)
        finally:
            w, self._current[i] = self._current[i], None
            if w is not None:
                w.stop()

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.stats[name] += n

    def _worker(self, i: int) -> _Worker:
        w = self._current[i]
        if w is None:
            w = self._current[i] = _Worker(self._ctx, self.limits, self.watch_parent,
                                           self.tmp_dir)
            self._count("workers_started")
        return w

    def _retire(self, i: int, kill: bool) -> None:
        w, self._current[i] = self._current[i], None
        if w is not None:
            w.stop(kill=kill)
            self._count("workers_replaced")

    def _run(self, i: int, source, ocr: bool) -> dict:
        lim = self.limits
        if self._killing:
            return extraction_result(status="error", page_count=None,
                                     error="extraction stopped: the pool was shut down")
        for attempt in (1, 2):
            w = self._worker(i)
            if not w.proc.is_alive():  # died while idle (killed from outside)
                self._retire(i, kill=True)
                w = self._worker(i)
            try:
                w.conn.send((source, ocr))
                break
            except (OSError, ValueError):  # the idle worker is gone: start another, once
                self._retire(i, kill=True)
                if attempt == 2:
                    raise
        start = last = time.monotonic()
        page = 0
        while True:
            now = time.monotonic()
            deadlines = []
            if lim.time_limit:
                deadlines.append((start + lim.time_limit, "doc"))
            if lim.page_time_limit:
                deadlines.append((last + lim.page_time_limit, "page"))
            deadline, which = min(deadlines) if deadlines else (None, None)
            wait = None if deadline is None else max(0.0, deadline - now)
            if w.conn.poll(wait):
                try:
                    msg = w.conn.recv()
                except (EOFError, OSError):
                    w.proc.join(5)
                    how = _describe_exit(w.proc.exitcode)
                    self._retire(i, kill=True)
                    if self._killing:
                        return extraction_result(status="error", page_count=None,
                                                 error="extraction stopped: the pool was shut down")
                    self._count("crashes")
                    why = (f"; it may have run past its {lim.memory_mb} MB memory limit"
                           if lim.memory_mb else "")
                    logger.warning("PDF extraction worker %s on page %d%s; replaced", how, page + 1, why)
                    return extraction_result(
                        status="error", page_count=None,
                        error=f"the extraction worker died ({how}) on page {page + 1}{why}")
                if msg[0] == "page":
                    page = msg[1]
                    last = time.monotonic()
                    continue
                _, result, peak, recycle = msg
                with self._lock:
                    self.stats["peak_rss"] = max(self.stats["peak_rss"], peak)
                if recycle:
                    self._retire(i, kill=False)
                if result.get("status") == "too_large" and lim.memory_mb and \
                        (result.get("error") or "").startswith("out of memory"):
                    result["error"] = result["error"].replace(
                        "(over the memory limit)", f"(over the {lim.memory_mb} MB memory limit)")
                return result
            # over a time limit: stop the worker; the next document gets a new one
            elapsed = time.monotonic() - start
            self._retire(i, kill=True)
            self._count("timeouts")
            if which == "doc":
                error = (f"stopped after {elapsed:.0f} s: over the time limit of "
                         f"{lim.time_limit:g} s per document ({page} page(s) done)")
            else:
                error = (f"stopped after {elapsed:.0f} s: page {page + 1} took longer than the "
                         f"time limit of {lim.page_time_limit:g} s per page")
            logger.warning("PDF extraction %s; worker replaced", error)
            return extraction_result(status="timeout", error=error, page_count=None)


def extract_many(paths: Iterable, workers: int | None = None, ocr: bool = True,
                 limits: Limits | None = None, tmp_dir: str | None = None) -> Iterator[dict]:
    """``extract`` over many files in worker processes, in order.

    ``workers`` defaults to the machine's cores; ``limits`` is a
    :class:`Limits` (memory per worker, time per document and page, OCR
    pixels, objects per page; its defaults when None). At most
    ``4 * workers`` files are in flight. A worker over a limit, or that
    dies, costs only its own file ("too_large", "timeout" or "error") and is
    replaced; the other files are not affected. ``tmp_dir``: as for
    :class:`ExtractionPool`.
    """
    with ExtractionPool(workers, limits, tmp_dir=tmp_dir) as pool:
        yield from pool.map(paths, ocr)
