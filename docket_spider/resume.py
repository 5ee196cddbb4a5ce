"""Resuming a crawl from its job folder (``-s JOBDIR=...``) only when it is safe.

Scrapy writes a job folder's request queues and their counts when a crawl
closes. A crawl killed with SIGKILL (or by a crash, a power cut, the OOM
killer) never closes: its queue files are left half-written (a 0-byte queue
file makes every later run stop at once and report ``finished``), and its
``requests.seen`` lists requests whose answers never arrived, which a resumed
run would then skip. Such a folder is not a resumable state.

``JobDirGuard`` keeps a small state file in the folder: ``running`` (with the
process id) while a crawl uses it, ``closed`` once Scrapy has written the
queues. On start, before Scrapy's scheduler reads the folder:

- ``closed`` (stopped with Ctrl-C) and queues that read back whole: resume,
  as Scrapy does; ``closed`` after it finished: a new crawl starts;
- ``running`` by a process that is gone, no state file beside queues, or a
  queue file that does not read back: the folder is set aside as
  ``JOBDIR.broken-<time>`` (kept for a post-mortem), the reason is logged,
  and the crawl starts over. Starting over is cheap: the archive is written
  idempotently and stored files are never fetched again;
- ``running`` by a live process: another crawl is using the folder; this one
  stops with a clear error instead of corrupting it.

The job's id survives a set-aside, so a crawl started over in the same folder
is still the same crawl: its PACER budget counts what it already spent.
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import struct
import time
import uuid

from scrapy import signals

from archive.processes import process_alive
from docket_spider.files_store import write_atomically

logger = logging.getLogger(__name__)

STATE_FILE = "docket-archive.json"


class JobDirInUse(RuntimeError):
    pass


def read_state(jobdir: str) -> dict | None:
    try:
        with open(os.path.join(jobdir, STATE_FILE)) as fh:
            state = json.load(fh)
        return state if isinstance(state, dict) else None
    except (OSError, ValueError):
        return None


def write_state(jobdir: str, state: dict) -> None:
    os.makedirs(jobdir, exist_ok=True)
    write_atomically(os.path.join(jobdir, STATE_FILE), json.dumps(state, sort_keys=True).encode())


def lifo_queue_problem(path: str) -> str | None:
    """Why a queuelib LIFO disk queue file does not read back whole, or None.

    Its layout: a 4-byte record count (written at close), then each record
    followed by its 4-byte length. The count must match the records found
    walking back from the end, and each record must unpickle.
    """
    size_of = struct.calcsize(">L")
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < size_of:
        return f"{len(data)}-byte queue file (a crawl was killed while writing it)"
    (count,) = struct.unpack(">L", data[:size_of])
    end = len(data)
    for n in range(count):
        if end - size_of < size_of:
            return f"the queue file says {count} requests but holds {n}"
        (size,) = struct.unpack(">L", data[end - size_of:end])
        start = end - size_of - size
        if start < size_of:
            return f"request {count - n} of the queue file is cut short"
        try:
            pickle.loads(data[start:end - size_of])
        except Exception as exc:  # noqa: BLE001 - any unreadable record
            return f"request {count - n} of the queue file does not read back ({exc})"
        end = start
    if end != size_of:
        return f"the queue file holds more than the {count} requests its header counts"
    return None


def fifo_queue_problem(folder: str) -> str | None:
    """Why a queuelib FIFO disk queue folder (info.json + chunks) is not whole."""
    try:
        with open(os.path.join(folder, "info.json")) as fh:
            info = json.load(fh)
    except (OSError, ValueError) as exc:
        return f"its info.json does not read back ({exc})"
    if not isinstance(info, dict) or "size" not in info:
        return "its info.json has no size"
    return None


def queue_problem(jobdir: str) -> str | None:
    """The first reason the folder's request queues cannot be resumed, or None."""
    queues = os.path.join(jobdir, "requests.queue")
    if not os.path.isdir(queues):
        return None
    active = os.path.join(queues, "active.json")
    if os.path.exists(active):
        try:
            with open(active) as fh:
                json.load(fh)
        except (OSError, ValueError) as exc:
            return f"requests.queue/active.json does not read back ({exc})"
    for folder, dirs, files in os.walk(queues):
        if "info.json" in files:
            problem = fifo_queue_problem(folder)
            if problem:
                return f"{os.path.relpath(folder, jobdir)}: {problem}"
            dirs[:] = []
            continue
        for name in files:
            if name.endswith(".json"):
                continue
            path = os.path.join(folder, name)
            problem = lifo_queue_problem(path)
            if problem:
                return f"{os.path.relpath(path, jobdir)}: {problem}"
    return None


def has_contents(jobdir: str) -> bool:
    return os.path.isdir(jobdir) and any(
        name != STATE_FILE for name in os.listdir(jobdir))


def check_jobdir(jobdir: str) -> tuple[str, str | None, dict | None]:
    """("resume" | "fresh" | "finished" | "set_aside", reason, previous state) for a job folder."""
    if not os.path.isdir(jobdir):
        return "fresh", None, None
    state = read_state(jobdir)
    if state and state.get("state") == "running":
        if process_alive(state.get("pid")) and state.get("pid") != os.getpid():
            raise JobDirInUse(
                f"The job folder {jobdir} is in use by another crawl (process "
                f"{state.get('pid')}). Wait for it, or give this crawl its own -s JOBDIR=.")
        return "set_aside", (f"the crawl that used it (process {state.get('pid')}) was killed "
                             "before it could save its queues"), state
    if not has_contents(jobdir):
        return "fresh", None, state
    if state and state.get("state") == "closed" and state.get("reason") == "finished":
        # a finished job has nothing left to resume; its requests.seen would
        # only make the next crawl skip everything
        return "finished", None, state
    if state is None:
        return "set_aside", "it has no record of a clean stop", None
    problem = queue_problem(jobdir)
    if problem:
        return "set_aside", problem, state
    return "resume", None, state


def set_aside(jobdir: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = f"{jobdir.rstrip(os.sep)}.broken-{stamp}"
    n = 1
    while os.path.exists(target):
        n += 1
        target = f"{jobdir.rstrip(os.sep)}.broken-{stamp}-{n}"
    shutil.move(jobdir, target)
    return target


class JobDirGuard:
    """The extension. Without JOBDIR it only gives the crawl a job id."""

    def __init__(self, crawler, jobdir: str | None):
        self.crawler = crawler
        self.jobdir = jobdir
        self.job_id = uuid.uuid4().hex
        self.resumed = False
        if jobdir:
            action, reason, state = check_jobdir(jobdir)
            if state and state.get("job_id") and action != "finished":
                self.job_id = state["job_id"]
            if action == "finished":
                shutil.rmtree(jobdir)
                logger.info("The crawl saved in %s had finished: starting a new one", jobdir)
            elif action == "set_aside":
                target = set_aside(jobdir)
                logger.warning(
                    "The job folder %s cannot be resumed: %s. It is kept as %s, and the crawl "
                    "starts over (what is archived is kept, and stored files are not fetched "
                    "again).", jobdir, reason, target)
                crawler.stats.set_value("jobdir/set_aside", reason)
            elif action == "resume":
                self.resumed = True
                logger.info("Resuming the crawl saved in %s (stopped: %s)", jobdir,
                            (state or {}).get("reason"))
        crawler.stats.set_value("jobdir/job_id", self.job_id)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        jobdir = crawler.settings.get("JOBDIR") or None
        try:
            return cls(crawler, jobdir)
        except JobDirInUse as exc:
            logger.error(str(exc))
            raise

    def spider_opened(self, spider):
        spider.job_id = self.job_id
        if self.jobdir:
            write_state(self.jobdir, {"state": "running", "pid": os.getpid(),
                                      "job_id": self.job_id, "spider": spider.name,
                                      "started": time.strftime("%Y-%m-%dT%H:%M:%S")})

    def spider_closed(self, spider, reason):
        # Scrapy's scheduler has written the queues by now (it closes first).
        if self.jobdir:
            write_state(self.jobdir, {"state": "closed", "reason": reason, "pid": None,
                                      "job_id": self.job_id, "spider": spider.name,
                                      "closed": time.strftime("%Y-%m-%dT%H:%M:%S")})


