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
  (the crawl decides what stops).

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
import signal
import threading
import time
from concurrent.futures import Future
from typing import Iterable, Iterator

from parsers.pdf import extract, extraction_result

from .limits import Limits

logger = logging.getLogger(__name__)

__all__ = ["ExtractionPool", "extract_many"]


# --------------------------------------------------------------------------- worker side


def _exit_with_parent(parent_pid: int) -> None:
    """Leave when the process that started this worker is gone (a killed crawl
    must not leave workers behind, busy or not)."""

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _set_memory_limit(memory_mb: int) -> None:
    if memory_mb and memory_mb > 0:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _worker_main(conn, limits: Limits, parent_pid: int) -> None:
    """One worker process: documents in, results out, one at a time."""
    # Ctrl-C reaches the whole process group: the crawl decides what stops
    # (a first Ctrl-C lets documents in flight finish), not the worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_memory_limit(limits.memory_mb)
    if parent_pid:
        _exit_with_parent(parent_pid)

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
    def __init__(self, ctx, limits: Limits, watch_parent: bool):
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.conn = parent_end
        self.proc = ctx.Process(target=_worker_main, name="pdf-extract",
                                args=(child_end, limits, os.getpid() if watch_parent else 0),
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
    """``workers`` limited worker processes; ``submit(source, ocr)`` -> Future of a result dict."""

    def __init__(self, workers: int | None = None, limits: Limits | None = None, *,
                 watch_parent: bool = True):
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.limits = limits or Limits()
        self.watch_parent = watch_parent
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
            w = self._current[i] = _Worker(self._ctx, self.limits, self.watch_parent)
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
                 limits: Limits | None = None) -> Iterator[dict]:
    """``extract`` over many files in worker processes, in order.

    ``workers`` defaults to the machine's cores; ``limits`` is a
    :class:`Limits` (memory per worker, time per document and page, OCR
    pixels, objects per page; its defaults when None). At most
    ``4 * workers`` files are in flight. A worker over a limit, or that
    dies, costs only its own file ("too_large", "timeout" or "error") and is
    replaced; the other files are not affected.
    """
    with ExtractionPool(workers, limits) as pool:
        yield from pool.map(paths, ocr)
