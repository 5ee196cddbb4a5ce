"""The real `scrapy crawl`, started from a warm interpreter.

Most of a short test crawl's CPU is Python starting and importing Scrapy,
Twisted, the spiders, pipelines and parsers (about 0.8 s, on 2 cores shared
by the whole suite). A zygote process per test worker imports them once;
each crawl is a fork of it that runs Scrapy's own command line
(``scrapy.cmdline.execute``) in the test's folder and environment, its
output in a file: still a separate process running `scrapy crawl`, with its
own reactor, signals and exit status, only without the imports.

Nothing that reads the environment at import is imported before the fork
(the project's settings module is imported by each crawl itself), no thread
runs in the zygote, and no reactor is installed in it. ``ZYGOTE=0`` in the
environment runs every crawl as a plain subprocess instead.

Protocol, one JSON line each way over the zygote's stdin/stdout:
``{"argv": [...], "cwd": ..., "env": {...}, "log": path}`` ->
``{"pid": n}`` then ``{"code": n}`` when the crawl has exited. A crawl that
outlives its test's timeout is killed by the test (its process group).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import tempfile

# what every crawl imports, at once (not the settings module: it reads the environment)
WARM = ("scrapy.cmdline", "scrapy.crawler", "scrapy.commands.crawl", "scrapy.utils.project",
        "scrapy.pipelines.files", "scrapy.downloadermiddlewares.httpcache",
        "docket_spider.commands.crawl", "docket_spider.pipelines.files",
        "docket_spider.pipelines.extract", "docket_spider.pipelines.archive", "docket_spider.middlewares",
        "docket_spider.spiders.courtlistener", "docket_spider.spiders.internet_archive",
        "docket_spider.spiders.pacer_district", "docket_spider.spiders.pacer_appellate",
        "docket_spider.spiders.pacer_rss", "archive.db", "archive.load", "parsers.district",
        "parsers.appellate", "parsers.pdf", "lxml.html", "pdfplumber", "botocore.session")
FRESH = ("docket_spider.settings",)  # imported by each crawl, with its own environment


def _crawl(request: dict) -> None:
    """In the forked child: become the crawl, then exit with its status."""
    os.setpgid(0, 0)  # its own process group, as a subprocess started for it
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    for name in FRESH:
        sys.modules.pop(name, None)
    tempfile.tempdir = None  # found again from this crawl's TMPDIR
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    sys.argv = request["argv"]
    code = 0
    try:
        from scrapy.cmdline import execute

        execute(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - a crawl that crashes is a crawl that failed
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def main() -> None:
    for name in WARM:
        __import__(name)
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _crawl(request)
        out.write(json.dumps({"pid": pid}) + "\n")
        out.flush()
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        out.write(json.dumps({"code": code}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
