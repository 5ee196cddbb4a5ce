"""Running ``python -m archive update`` against the follow world (issue 20)
in this process: archive/update.py's own run, its crawls answered by the
world's servers in process (tests/inprocess.py), no subprocess."""
from __future__ import annotations

import os
from collections import Counter
from unittest import mock

from archive import db as adb
from archive import follow as fl
from archive import update as up
from docket_spider.commands.crawl import EXIT_CODES
from tests.inprocess import Offline, archive_settings, crawl


class InProcessUpdates:
    """``world``: a tests.servers.follow_world.FollowWorld. ``run(**knobs)``
    runs one update and returns (exit status, its summary line)."""

    def __init__(self, world, tmp_path, token: bool = True):
        self.world = world
        self.net = Offline(*world.servers())
        self.settings = {**archive_settings(tmp_path), "COURTLISTENER_RATE_PER_MINUTE": 60000}
        self.db_path = self.settings["ARCHIVE_DB"]
        self.env = world.env() if token else {"COURTLISTENER_TOKEN": ""}
        self.crawls = []

    def follow_all(self, with_case_ids: bool = False) -> None:
        db = adb.open_db(self.db_path)
        for case in self.world.cases.values():
            if case.origin:
                continue
            fl.follow_case(db, case.court, case.docket_number,
                           pacer_case_id=case.case_id if with_case_ids and case.case_id else None)
        adb.close_db(db)

    def runner(self, spider, args, env=None):
        from docket_spider.spiders.update import UpdateSpider

        if spider != "update":
            raise AssertionError(f"{spider} is not run in process")
        run = crawl(UpdateSpider, *[f"{k}={v}" for k, v in args.items() if v], net=self.net,
                    settings=self.settings, env=self.env)
        self.crawls.append(run)
        return EXIT_CODES.get(run.outcome, 1)

    def run(self, dry_run: bool = False, **knobs):
        lines = []
        with mock.patch.dict(os.environ, self.env):
            code = up.run_update(self.db_path, settings=up.load_settings(knobs), dry_run=dry_run,
                                 echo=lines.append, runner=self.runner)
        return code, lines

    def requests(self) -> Counter:
        """Requests by kind since the last clear (rss, api, storage, download...)."""
        return Counter(r["kind"] for server in self.world.servers() for r in server.log.snapshot())

    def clear(self) -> None:
        for server in self.world.servers():
            server.log.clear()

    def db(self):
        return adb.open_db(self.db_path)


# a first update of many new cases needs many calls (each case looked up, its
# entries, parties): an account with room for them, then the ordinary share of
# calls per run (FOLLOW_CL_CALLS_PER_RUN, 5) in an hour not yet spent
ROOMY = {"COURTLISTENER_HOURLY_LIMIT": 5000, "COURTLISTENER_DAILY_LIMIT": 50000}
BIG_ACCOUNT = dict(ROOMY, FOLLOW_CL_CALLS_PER_RUN=5000)
