"""A crawl of this project run as a subprocess, from any folder.

``python -m scrapy crawl`` finds a Scrapy project through ``scrapy.cfg`` in
its folder, or through ``SCRAPY_SETTINGS_MODULE``. A command of an installed
``docket-archive`` runs wherever its user is, so it names the settings module
itself and runs the crawl in the caller's folder: relative paths (``--db``,
``FILES_STORE``, ``JOBDIR``...) are the caller's, as in any command. The
crawl's log goes to ``logs/`` beside the archive.
"""
from __future__ import annotations

import os
import sys
from typing import Iterable

SETTINGS_MODULE = "docket_spider.settings"
# the folder that holds the archive, docket_spider and parsers packages
PACKAGES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def command(spider: str, args: Iterable[str] = (), settings: Iterable[str] = ()) -> list[str]:
    """``python -m scrapy crawl SPIDER -a ... -s ...`` (``args``: ``name=value``)."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for arg in args:
        cmd += ["-a", arg]
    for setting in settings:
        cmd += ["-s", setting]
    return cmd


def environment(base: dict | None = None) -> dict:
    """The crawl's environment: ``base`` (this process's) with the project's
    settings module, and these packages importable from any folder."""
    env = dict(os.environ if base is None else base)
    env.setdefault("SCRAPY_SETTINGS_MODULE", SETTINGS_MODULE)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if PACKAGES not in paths:
        env["PYTHONPATH"] = os.pathsep.join([PACKAGES, *paths])
    return env


def logs_folder(db_path: str) -> str:
    """Where the crawls of the archive ``db_path`` log: ``logs/`` beside it."""
    return os.path.join(os.path.dirname(os.path.abspath(db_path)), "logs")
