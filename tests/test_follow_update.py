"""``python -m archive update`` (issue 20) against local servers for 20 courts
(full, partial and missing feeds, the Ninth Circuit), in process: each feed
read once, every followed case matched from it, coverage known, CourtListener
within the account's rate and only what changed, the Internet Archive next,
appeals found, gaps shown, a nothing-changed update's requests."""
from __future__ import annotations

import datetime as dt

import pytest

from archive import alerts
from archive import follow as fl
from archive import update as up
from tests.follow_run import BIG_ACCOUNT, ROOMY, InProcessUpdates
from tests.servers.follow_world import COURTS, FollowWorld

FEED_COURTS = [c for c, t in COURTS.items() if t is not None]
NO_FEED = [c for c, t in COURTS.items() if t is None and c != "ca9"]


@pytest.fixture
def world():
    return FollowWorld(cases_per_court=2, entries_per_case=4)


@pytest.fixture
def updates(world, tmp_path):
    runs = InProcessUpdates(world, tmp_path)
    runs.follow_all()
    return runs


def test_each_feed_once_coverage_known_appeals_found_then_nothing_changed(world, updates):
    code, lines = updates.run(**BIG_ACCOUNT)
    assert code == 0, lines
    rss = [r for r in world.pacer.log.snapshot() if r["kind"] == "rss"]
    courts = sorted(r["path"].split("/")[2] for r in rss)
    assert courts == sorted(FEED_COURTS + NO_FEED)  # once each; ca9 (no feed) never
    db = updates.db()
    feeds = {r["id"]: r for r in db.query("select * from court_feeds")}
    assert {c for c, f in feeds.items() if f["coverage"] == "full"} == \
        {c for c, t in COURTS.items() if t == "all"}
    assert feeds["mied"]["coverage"] == "partial" and feeds["mied"]["kinds"] == "order, opinion, judgment"
    assert {c for c, f in feeds.items() if f["coverage"] == "none"} == set(NO_FEED)
    assert all(feeds[c]["next_probe"] for c in NO_FEED)  # tried again in a week
    # every followed case is in the archive (from CourtListener), and checked
    on_cl = [c for c in world.cases.values() if c.on_cl and not c.origin]
    archived = {r["id"] for r in db.query("select id from dockets")}
    assert {c.docket_id for c in on_cl} <= archived
    status = fl.case_status(db.conn, world.first("cand").docket_id)
    assert status["by"]["rss"]["ok"] and status["by"]["courtlistener"]["ok"]
    # the three appeals: CourtListener's originating-court data (the expedited one
    # the district docket does not name too), and the ACMS case with its GUID
    appeals = {r["id"]: r for r in db.query("select * from follows where parent_id is not null")}
    assert set(appeals) == {a.docket_id for a in world.appeals}
    assert appeals["ca9/21-55002"]["parent_id"] == world.first("cacd").docket_id
    assert appeals["ca9/23-2435"]["acms_case_id"] == world.cases["ca9/23-2435"].guid
    assert "appeals found" in lines[-1] and lines[-1].endswith("finished")
    db.conn.close()

    # the next update, nothing changed: one request per court feed, and the
    # CourtListener checks the ordinary account's share allows (5 a run)
    updates.clear()
    code, lines = updates.run(**ROOMY)
    seen = updates.requests()
    assert code == 0, lines
    assert seen["rss"] == len(FEED_COURTS) and seen["api"] == 5
    assert set(seen) <= {"rss", "api"}, seen
    assert "0 new entries" in lines[-1] and "alerts 0 new" in lines[-1]


def test_news_in_a_feed_is_checked_on_courtlistener_first_and_alerted(world, updates, monkeypatch,
                                                                       tmp_path):
    updates.run(**BIG_ACCOUNT)
    updates.run(**ROOMY)
    db = updates.db()
    monkeypatch.setenv(alerts.SECRET_ENV, "k")
    alerts.add_webhook(db, "http://127.0.0.1:9/never-listening")
    db.conn.close()
    case = world.first("txsd")
    entry = world.add_entry(case.docket_id, "ORDER granting motion for extension. Responses due "
                                            "by 12/1/2030.", rss_type="order")
    updates.clear()
    code, lines = updates.run(FOLLOW_ICAL_PATH=str(tmp_path / "followed.ics"), **ROOMY)
    assert code == 0, lines
    assert "DTSTART;VALUE=DATE:20301201" in (tmp_path / "followed.ics").read_text()
    api = [r for r in world.cl.log.snapshot() if r["kind"] == "api"]
    first = api[0]["query"]
    assert first.get("court") == "txsd" and "date_modified__gt" in first  # the feed's news first
    db = updates.db()
    row = next(db.query("select * from docket_entries where docket_id = ? and entry_number = ?",
                        [case.docket_id, entry["number"]]))
    assert row["kind"] == "order"
    sources = {r["source"] for r in db.query("select source from entry_versions where entry_id = ?",
                                              [row["id"]])}
    assert sources == {"pacer_rss", "courtlistener"}
    assert fl.next_dates(db.conn, case.docket_id, today="2030-01-01")[0]["date"] == "2030-12-01"
    assert not [g for g in fl.gaps_of(db.conn, case.docket_id) if g["kind"] != "not stored"]
    assert db.execute("select count(*) from outbox where entry_id = ?", [row["id"]]).fetchone()[0] == 1
    assert "1 new entries in 1 cases" in lines[-1] and "alerts 1 new" in lines[-1]


def test_what_a_partial_feed_leaves_out_comes_from_courtlistener(world, updates):
    updates.run(**BIG_ACCOUNT)
    case = world.first("mied")  # its feed carries orders, opinions and judgments only
    motion = world.add_entry(case.docket_id, "MOTION for Summary Judgment filed by Example Corp.",
                             rss_type="motion")
    order = world.add_entry(case.docket_id, "ORDER setting a hearing on the motion.",
                            rss_type="order")
    updates.clear()
    code, lines = updates.run(**ROOMY)
    assert code == 0, lines
    db = updates.db()
    got = {r["entry_number"]: r for r in db.query(
        "select e.entry_number, group_concat(v.source) as sources from docket_entries e join "
        "entry_versions v on v.entry_id = e.id where e.docket_id = ? group by e.id",
        [case.docket_id])}
    assert got[motion["number"]]["sources"] == "courtlistener"  # the feed never carried it
    assert set(got[order["number"]]["sources"].split(",")) == {"pacer_rss", "courtlistener"}


def test_an_rss_entry_on_no_free_docket_is_a_gap_and_what_pacer_would_cost(world, updates):
    updates.run(**BIG_ACCOUNT)
    case = world.first("paed")
    world.add_entry(case.docket_id, "ORDER of recusal.", rss_type="order", on_cl=False)
    code, lines = updates.run(FOLLOW_PACER_GRACE_HOURS=0, **ROOMY)
    db = updates.db()
    status = fl.case_status(db.conn, case.docket_id)
    assert status["rss_only"] == 1 and "1 gap" in status["line"]
    assert "would need it" in lines[-1] and "PACER 0 ($0.00)" in lines[-1]
    code, dry = updates.run(dry_run=True, FOLLOW_PACER_GRACE_HOURS=0)
    text = "\n".join(dry)
    assert f"{case.docket_id}: 1 RSS entries on no docket" in text
    assert "PACER_MONTHLY_BUDGET is not set (would cost $0.30-$3.00)" in text


def test_dry_run_fetches_nothing_and_says_what_it_would_cost(world, updates):
    code, lines = updates.run(dry_run=True)
    assert code == 0 and not updates.requests()
    text = "\n".join(lines)
    assert f"RSS: {len(FEED_COURTS) + len(NO_FEED)} feed requests (free)" in text
    assert "ca9    none" in text and "not read: this court of appeals has no feed" in text
    assert "CourtListener: up to 5 calls" in text and "new cases to look up" in text
    assert "Would cost: $0.00 from the free sources" in text


def test_courtlistener_calls_stay_within_the_accounts_hour(world, updates):
    knobs = {"COURTLISTENER_HOURLY_LIMIT": 7, "FOLLOW_CL_CALLS_PER_RUN": 5}
    updates.run(**knobs)
    updates.run(**knobs)
    updates.run(**knobs)
    db = updates.db()
    used = up.cl_calls_since(db, 1, dt.datetime.now(dt.timezone.utc))
    assert used <= 7
    api = [r for r in world.cl.log.snapshot() if r["kind"] == "api"]
    assert len(api) == used  # the ledger holds every call, none uncounted


def test_without_a_token_the_internet_archive_is_the_free_source(world, tmp_path):
    runs = InProcessUpdates(world, tmp_path, token=False)
    runs.follow_all(with_case_ids=True)
    code, lines = runs.run()
    assert code == 0, lines
    assert not [r for r in world.cl.log.snapshot() if r["kind"] == "api"]
    with_copies = [c for c in world.cases.values() if c.on_ia]
    db = runs.db()
    for case in with_copies:
        assert db.execute("select count(*) from entry_versions where docket_id = ? and source = "
                          "'internet_archive'", [case.docket_id]).fetchone()[0] == len(case.entries)
    ia = [r for r in world.ia.log.snapshot() if r["kind"] == "download"]
    assert ia and "CourtListener: no token" in lines[-1]


def test_the_plan_schedules_acms_and_prices_pacer(monkeypatch):
    """ACMS appeals on their schedule (daily, every 6 h while busy, never over
    budget); PACER for documents asked for, within the month's and the case's
    budget; nothing fetched (the plan alone)."""
    import sqlite_utils

    from archive import db as adb

    db = sqlite_utils.Database(memory=True)
    adb.ensure_db_shape(db)
    now = dt.datetime(2030, 5, 1, 12, tzinfo=dt.timezone.utc)
    guid = "34cacf7f-52d5-4d1f-b4f0-0542b429f674"
    fl.follow_case(db, "ca9", "23-2435", acms_case_id=guid, now="2030-04-01T00:00:00+00:00")
    fl.follow_case(db, "cand", "3:20-cv-05910", documents=True, now="2030-04-01T00:00:00+00:00")
    adb.save_document(db, {"court_id": "cand", "docket_number": "3:20-cv-05910",
                           "entry_number": 17, "pacer_doc_id": "035019230780"})
    monkeypatch.setenv("PACER_USERNAME", "u")
    monkeypatch.setenv("PACER_PASSWORD", "p")
    settings = up.load_settings({"PACER_MONTHLY_BUDGET": "10"})
    plan = up.make_plan(db, settings, now, token=False)
    [acms] = plan["acms"]
    assert acms["run"] and acms["why"] == "never read (every 24 h)" and acms["max_cost"] == 5.0
    [pacer] = plan["pacer"]
    assert pacer["docket_id"] == "cand/3:20-cv-05910" and pacer["documents"] and pacer["run"]
    assert pacer["max_cost"] == 5.0  # the case's cap; the month's $10 holds the ACMS read too
    # read 7 hours ago: not due; busy (a hearing in 3 days): due every 6 h
    fl.record_check(db, "ca9/23-2435", "acms", now=fl.now_iso(now - dt.timedelta(hours=7)))
    assert up.make_plan(db, settings, now, token=False)["acms"] == []
    adb.save_entry(db, {"court_id": "ca9", "docket_number": "23-2435", "entry_number": 9,
                        "source": "acms", "date_filed": "2030-04-20",
                        "description": "Oral argument set for 5/4/2030 at 9:30 AM."})
    [acms] = up.make_plan(db, settings, now, token=False)["acms"]
    assert "every 6 h, busy" in acms["why"]
    # the month's budget spent: nothing bought, and the plan says why
    with adb.transaction(db):
        db["pacer_charges"].insert({"at": "2030-05-01T01:00:00+00:00", "status": "charged",
                                    "cost": 8.5, "docket_id": "nysd/1:21-cv-1"})
    plan = up.make_plan(db, settings, now, token=False)
    assert not plan["acms"][0]["run"] and "over budget" in plan["acms"][0]["skip"]
    assert not plan["pacer"][0]["run"]
    text = "\n".join(up.describe_plan(plan, settings))
    assert "not read: over budget: a report may cost $3.00, $1.50 left" in text
