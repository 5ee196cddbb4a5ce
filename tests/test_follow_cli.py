"""``python -m archive follow`` and ``update`` end to end (issue 20): the
commands as a user types them, real `scrapy crawl` subprocesses against the
20-court world over HTTP: two cron runs at once, update killed at random
moments then compared with a clean run, ACMS and PACER within the budgets."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from archive import db as adb
from archive import follow as fl
from archive.cli import cli
from tests.conftest import PROJECT
from tests.follow_run import InProcessUpdates
from tests.servers.follow_world import TOKEN, FollowWorld

KNOBS = {"FOLLOW_CL_CALLS_PER_RUN": "400", "COURTLISTENER_HOURLY_LIMIT": "100000",
         "COURTLISTENER_DAILY_LIMIT": "100000"}


@pytest.fixture(scope="module")
def live_world():
    # one case a court (all on CourtListener), the three appeals to find
    world = FollowWorld(cases_per_court=1, entries_per_case=3, not_on_cl=0)
    with world.running():
        yield world


@pytest.fixture(scope="module")
def backfilled(live_world, tmp_path_factory):
    """The archive two uninterrupted updates make (in process: the same code,
    the same servers, no subprocess)."""
    clean = InProcessUpdates(live_world, tmp_path_factory.mktemp("clean"))
    clean.follow_all()
    for _ in range(2):
        assert clean.run(**{k: int(v) for k, v in KNOBS.items()})[0] == 0
    return clean.db_path


def copy_of(path, tmp_path):
    target = tmp_path / "d.db"
    source = sqlite3.connect(path)
    with sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    return target


def update_command(world, db_path, tmp_path, **knobs):
    settings = {**world.settings(), "COURTLISTENER_RATE_PER_MINUTE": "60000",
                "FILES_STORE": str(tmp_path / "files"), "AUTOTHROTTLE_ENABLED": "False",
                "EXTRACT_WORKERS": "1", "EXTRACT_OCR": "False", **KNOBS, **knobs}
    cmd = [sys.executable, "-m", "archive", "update", "--db", str(db_path)]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def env_for(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACER_", "COURTLISTENER"))}
    env.update(COURTLISTENER_TOKEN=TOKEN, **extra)
    return env


def follow_all(world, db_path):
    db = adb.open_db(str(db_path))
    for case in world.cases.values():
        if not case.origin:
            fl.follow_case(db, case.court, case.docket_number)
    adb.close_db(db)


def snapshot(db_path) -> dict:
    """What an update leaves, without its times and counters."""
    con = sqlite3.connect(db_path)
    queries = {
        "dockets": "select id, case_name, pacer_case_id, courtlistener_id from dockets",
        "entries": "select id, entry_number, description, kind, pacer_sequence_number "
                   "from docket_entries",
        "documents": "select id, pacer_doc_id, description from documents",
        "versions": "select id, entry_id, source, description from entry_versions",
        "events": "select id, date, status, superseded_by from events",
        "follows": "select id, parent_id, cl_docket_id, cl_modified, acms_case_id, pacer_case_id "
                   "from follows",
        "feeds": "select id, coverage, kinds from court_feeds",
        "parties": "select id from parties",
    }
    out = {name: sorted(map(tuple, con.execute(sql).fetchall()), key=repr)
           for name, sql in queries.items()}
    con.close()
    return out


def test_follow_list_remove_webhook_gaps_and_calendar(tmp_path, monkeypatch):
    db = str(tmp_path / "d.db")
    runner = CliRunner()
    out = runner.invoke(cli, ["follow", "cand", "3:20-cv-05910-LB", "--db", db])
    assert out.exit_code == 0 and "following cand/3:20-cv-05910 (RSS: unknown)" in out.output
    assert "already following" in runner.invoke(cli, ["follow", "cand", "3:20-cv-05910",
                                                      "--db", db]).output
    assert runner.invoke(cli, ["follow", "ca9", "not-a-number", "--db", db]).exit_code == 2
    monkeypatch.delenv("DOCKET_ARCHIVE_WEBHOOK_SECRET", raising=False)
    out = runner.invoke(cli, ["follow", "--webhook", "https://hooks.example/T0KEN", "--db", db])
    assert "webhook 1 -> https://hooks.example for every followed case" in out.output
    assert "export DOCKET_ARCHIVE_WEBHOOK_SECRET=" in out.output  # a new secret, shown once
    listing = runner.invoke(cli, ["follow", "--list", "--db", db]).output
    assert "cand/3:20-cv-05910" in listing and "not checked yet" in listing
    assert "T0KEN" not in listing  # a receiver's URL shown by host only
    adb.save_entry(adb.open_db(db), {"court_id": "cand", "docket_number": "3:20-cv-05910",
                                     "entry_number": 3, "source": "pacer",
                                     "description": "Motion Hearing set for 10/1/2030 09:30 AM."})
    gaps = runner.invoke(cli, ["gaps", "--db", db]).output
    assert "cand/3:20-cv-05910: not checked yet; 2 gaps" in gaps and "missing entries 1-2" in gaps
    ics = runner.invoke(cli, ["calendar", "cand", "3:20-cv-05910", "--db", db]).output
    assert "BEGIN:VCALENDAR" in ics and "DTSTART:20301001T093000" in ics
    assert "SUMMARY:Motion Hearing" in ics
    out = runner.invoke(cli, ["follow", "--remove", "cand", "3:20-cv-05910", "--db", db])
    assert "no longer following cand/3:20-cv-05910" in out.output
    assert "No case is followed" in runner.invoke(cli, ["follow", "--list", "--db", db]).output


def test_two_cron_runs_at_once(live_world, backfilled, tmp_path):
    db = copy_of(backfilled, tmp_path)
    cmd = update_command(live_world, db, tmp_path)
    first = subprocess.Popen(cmd, cwd=PROJECT, env=env_for(), stdout=subprocess.PIPE, text=True)
    time.sleep(0.7)  # it holds the lock by now (its crawl takes seconds)
    second = subprocess.run(cmd, cwd=PROJECT, env=env_for(), capture_output=True, text=True,
                            timeout=120)
    out, _ = first.communicate(timeout=180)
    assert second.returncode == 0 and "update skipped: another update" in second.stdout
    assert first.returncode == 0 and out.strip().splitlines()[-1].endswith("finished"), out
    runs = sqlite3.connect(db).execute("select status from update_runs").fetchall()
    assert runs == [("finished",)] * 3  # two before the copy, one now: the second never began


def test_killed_at_random_moments_then_a_clean_run_equals_an_uninterrupted_one(live_world,
                                                                             backfilled, tmp_path):
    rng = random.Random(2020)
    db = tmp_path / "killed.db"
    follow_all(live_world, db)
    cmd = update_command(live_world, db, tmp_path)
    for i, delay in enumerate(rng.uniform(0.4, 2.6) for _ in range(3)):
        process = subprocess.Popen(cmd, cwd=PROJECT, env=env_for(), start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if i == 1:  # the update only: its crawl goes on, and keeps the lock while it does
            os.kill(process.pid, signal.SIGKILL)
        else:  # the update and its crawl, as a cron timeout or a reboot does
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    results = []
    while len(results) < 2:  # two runs that were not skipped
        done = subprocess.run(cmd, cwd=PROJECT, env=env_for(), capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr[-2000:]
        if "skipped" not in done.stdout:
            results.append(done.stdout)
        else:
            time.sleep(0.5)
    mine, clean = snapshot(str(db)), snapshot(backfilled)
    for table in clean:
        assert mine[table] == clean[table], table
    killed = sqlite3.connect(db).execute("select count(*) from update_runs where status = "
                                         "'killed'").fetchone()[0]
    assert killed >= 1  # the runs that died are said to have died


def test_acms_and_pacer_within_the_budgets(live_world, backfilled, tmp_path):
    db = copy_of(backfilled, tmp_path)
    spent_before = live_world.pacer.total_cost()
    creds = {"PACER_USERNAME": "user", "PACER_PASSWORD": "pass"}
    # the ACMS appeal, found through CourtListener, is read from ACMS (a PACER
    # report); district dockets the free sources cover are not bought
    done = subprocess.run(update_command(live_world, db, tmp_path, PACER_MONTHLY_BUDGET="5"),
                          cwd=PROJECT, env=env_for(**creds), capture_output=True, text=True,
                          timeout=300)
    line = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0 and "ACMS 1" in line and "PACER 0" in line, done.stdout
    con = sqlite3.connect(db)
    acms = live_world.cases["ca9/23-2435"]
    assert con.execute("select count(*) from docket_entries where docket_id = 'ca9/23-2435'"
                       ).fetchone()[0] > 1
    assert con.execute("select docket_number from docket_origins where docket_id = "
                       "'ca9/23-2435'").fetchone() == (acms.origin,)
    charged = con.execute("select sum(cost) from pacer_charges where status = 'charged'").fetchone()[0]
    assert 0 < charged <= 3.0 and charged == pytest.approx(live_world.pacer.total_cost() - spent_before)
    # a month's budget with room for one report's worst case: one case bought, the rest not
    budget = round(charged + 3.00, 2)
    done = subprocess.run(update_command(live_world, db, tmp_path,
                                         PACER_MONTHLY_BUDGET=str(budget),
                                         FOLLOW_PACER_STALE_DAYS="0"),
                          cwd=PROJECT, env=env_for(**creds), capture_output=True, text=True,
                          timeout=300)
    line = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0 and "PACER 1 ($0." in line, done.stdout
    total = con.execute("select sum(cost) from pacer_charges where status = 'charged'").fetchone()[0]
    assert total <= budget and live_world.pacer.total_cost() - spent_before == pytest.approx(total)
    assert con.execute("select count(*) from case_checks where source = 'pacer'").fetchone()[0] == 1
