"""Alerts that are never lost (issue 20): an outbox, signed POSTs, retries
with back-off, one idempotency key per filing whatever happens to its row.
A real local receiver over HTTP; time is passed in, never waited for."""
from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlite_utils

from archive import alerts
from archive import db as adb
from archive import follow as fl
from archive.load import save_parsed_docket
from tests.conftest import free_port

SECRET = "s3cret-for-tests"
CASE = {"court_id": "cand", "docket_number": "3:20-cv-05910", "case_name": "A v. B"}
def clock() -> dt.datetime:
    """A moment just after now: every alert queued so far is due then."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=2)


class Receiver:
    """A webhook receiver: answers ``fail`` (a status) while set, else 200;
    keeps every delivery, and each key's first (what it would act on)."""

    def __init__(self, port: int):
        self.port, self.fail, self.deliveries, self.seen = port, None, [], {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = alerts.verify(SECRET, self.headers["X-Docket-Archive-Timestamp"], body,
                                   self.headers["X-Docket-Archive-Signature"], tolerance=None)
                key = self.headers["X-Docket-Archive-Idempotency-Key"]
                receiver.deliveries.append({"key": key, "verified": ok, "body": json.loads(body)})
                status = receiver.fail or (200 if ok else 401)
                if status == 200:
                    receiver.seen.setdefault(key, json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.handler = Handler
        self.httpd = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/token-abc"

    def up(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def down(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


@pytest.fixture
def receiver():
    r = Receiver(free_port())
    yield r
    r.down()


@pytest.fixture
def archive(monkeypatch):
    monkeypatch.setenv(alerts.SECRET_ENV, SECRET)
    db = sqlite_utils.Database(memory=True)
    adb.ensure_db_shape(db)
    fl.follow_case(db, "cand", "3:20-cv-05910")
    save_parsed_docket(db, dict(CASE, docket_entries=[
        {"document_number": "1", "date_filed": "2020-08-21", "description": "COMPLAINT"}]),
        source="pacer")
    with adb.transaction(db):  # the first update is done: entry 1 is the baseline
        db.execute("update follows set baseline_at = '2000-01-01T00:00:00+00:00'")
    return db


def new_entries(db, *items):
    save_parsed_docket(db, dict(CASE, docket_entries=list(items)), source="pacer")


def test_a_receiver_down_for_an_hour_loses_nothing_and_sees_each_key_once(archive, receiver):
    db = archive
    hook = alerts.add_webhook(db, receiver.url)
    assert hook["secret"] is None  # the secret comes from the environment, never the database
    assert SECRET not in json.dumps([dict(r) for r in db.query("select * from webhooks")])
    new_entries(db, {"document_number": "17", "date_filed": "2020-08-28",
                     "description": "MOTION for Preliminary Injunction. Motion Hearing set for "
                                    "10/1/2020 09:30 AM."},
                {"document_number": "22", "date_filed": "2020-09-08",
                 "description": "OPPOSITION/RESPONSE (re 17 MOTION) filed by Trump."})
    assert alerts.enqueue(db) == 2
    assert alerts.enqueue(db) == 0  # queued once
    T0 = clock()
    # the receiver is down (nothing listens): every run for an hour keeps them
    for minutes in range(0, 61, 5):
        counts = alerts.deliver(db, T0 + dt.timedelta(minutes=minutes), timeout=2)
        assert counts["sent"] == 0 and counts["waiting"] == 2 and counts["dead"] == 0
    rows = {r["id"]: r for r in db.query("select * from outbox")}
    assert all(r["attempts"] >= 4 for r in rows.values())
    assert all(r["next_attempt"] > (T0 + dt.timedelta(minutes=60)).isoformat() for r in rows.values())
    # back, but answering 500 (one try per run, not hammered): still kept
    receiver.up()
    receiver.fail = 500
    counts = alerts.deliver(db, T0 + dt.timedelta(hours=3))
    assert counts["failed"] == 1 and counts["waiting"] == 2
    # recovered
    receiver.fail = None
    counts = alerts.deliver(db, T0 + dt.timedelta(hours=5))
    assert counts["sent"] == 2 and counts["waiting"] == 0
    assert set(receiver.seen) == set(rows) and all(d["verified"] for d in receiver.deliveries)
    body = receiver.seen[sorted(receiver.seen)[0]]
    assert body["type"] == "docket_entry.new" and body["case"]["docket_id"] == "cand/3:20-cv-05910"
    entry17 = next(b for b in receiver.seen.values() if b["entry"]["entry_number"] == 17)
    assert entry17["entry"]["kind"] == "motion"
    assert entry17["events"][0]["date"] == "2020-10-01"
    assert alerts.deliver(db, T0 + dt.timedelta(hours=6))["sent"] == 0  # nothing twice


def test_a_crash_after_the_post_sends_it_again_under_the_same_key(archive, receiver):
    db = archive
    receiver.up()
    alerts.add_webhook(db, receiver.url)
    new_entries(db, {"document_number": "59", "date_filed": "2020-09-19",
                     "description": "ORDER GRANTING MOTION FOR PRELIMINARY INJUNCTION"})
    alerts.enqueue(db)
    T0 = clock()

    def post_then_die(url, body, headers, timeout):
        alerts._post(url, body, headers, timeout)
        raise KeyboardInterrupt  # killed between the POST and its "sent" mark

    with pytest.raises(KeyboardInterrupt):
        alerts.deliver(db, T0, post=post_then_die)
    assert alerts.outbox_counts(db) == {"pending": 1}
    assert alerts.deliver(db, T0)["sent"] == 1
    keys = [d["key"] for d in receiver.deliveries]
    assert len(keys) == 2 and len(set(keys)) == 1  # sent twice, one key: the receiver drops one


def test_an_rss_entry_met_again_in_a_docket_report_is_not_alerted_twice(archive, receiver):
    db = archive
    alerts.add_webhook(db, receiver.url)
    # RSS first: no number, no document; alerted
    save_parsed_docket(db, dict(CASE, docket_entries=[
        {"document_number": None, "date_filed": "2020-10-01T17:00:00+00:00", "description": "",
         "short_description": "Notice of Appeal"}]), source="pacer_rss")
    # and one with a sequence number the docket report will have
    save_parsed_docket(db, dict(CASE, docket_entries=[
        {"document_number": None, "date_filed": "2020-10-02T17:00:00+00:00", "description": "",
         "short_description": "Order", "pacer_seq_no": "140"}]), source="pacer_rss")
    assert alerts.enqueue(db) == 2
    # the docket report: the first absorbed (one to one), the second re-keyed by its sequence
    new_entries(db, {"document_number": "78", "date_filed": "2020-10-01", "date_entered": "2020-10-01",
                     "description": "NOTICE OF APPEAL to the 9th Circuit"},
                {"document_number": "80", "date_filed": "2020-10-02", "pacer_seq_no": "140",
                 "description": "ORDER setting briefing schedule"})
    ids = {r["id"] for r in db.query("select id from docket_entries")}
    assert {"cand/3:20-cv-05910#78", "cand/3:20-cv-05910#80"} <= ids and len(ids) == 3
    assert alerts.enqueue(db) == 0
    assert {r["entry_id"] for r in db.query("select entry_id from outbox")} == \
        {"cand/3:20-cv-05910#78", "cand/3:20-cv-05910#80"}  # the alerts follow their entries


def test_a_webhook_for_one_case_and_an_alert_given_up_after_three_days(archive, receiver):
    db = archive
    fl.follow_case(db, "nysd", "1:21-cv-00001")
    with adb.transaction(db):
        db.execute("update follows set baseline_at = '2000-01-01T00:00:00+00:00'")
    alerts.add_webhook(db, receiver.url, "cand/3:20-cv-05910")
    adb.save_entry(db, {"court_id": "nysd", "docket_number": "1:21-cv-00001", "entry_number": 5,
                        "source": "pacer", "description": "ORDER"})
    new_entries(db, {"document_number": "96", "date_filed": "2020-10-23",
                     "description": "ORDER DENYING MOTION TO STAY"})
    T0 = clock()
    assert alerts.enqueue(db, now=alerts.fl.now_iso(T0)) == 1  # its own case only
    for hours in (1, 24, 48, 71):
        assert alerts.deliver(db, T0 + dt.timedelta(hours=hours))["dead"] == 0
    counts = alerts.deliver(db, T0 + dt.timedelta(hours=73))
    assert counts["dead"] == 1 and counts["dead_total"] == 1 and counts["waiting"] == 0


def test_no_secret_nothing_sent_unsigned(archive, receiver, monkeypatch):
    db = archive
    receiver.up()
    monkeypatch.delenv(alerts.SECRET_ENV)
    hook = alerts.add_webhook(db, receiver.url)
    assert hook["secret"] and len(hook["secret"]) == 64  # shown once to the user, not stored
    assert hook["secret"] not in json.dumps([dict(r) for r in db.query("select * from webhooks")])
    new_entries(db, {"document_number": "2", "date_filed": "2020-08-21", "description": "Summons"})
    alerts.enqueue(db)
    counts = alerts.deliver(db, clock())
    assert counts["no_secret"] == 1 and counts["sent"] == 0 and not receiver.deliveries
    assert alerts.shown(receiver.url) == f"http://127.0.0.1:{receiver.port}"  # no token in logs
