"""Alerts that are never lost (issue 20): a webhook per follower, an outbox,
signed deliveries with retries.

``python -m archive follow --webhook URL`` registers a receiver (for every
followed case, or with a case for that case and its appeals). Each update
then:

1. :func:`enqueue`: every entry of a case in a webhook's scope that the
   archive first saw after the case's baseline (the entries its first
   successful update found are taken as seen) and after the webhook was made
   gets one ``outbox`` row, in the same transaction as the ``alerted`` rows of
   all its versions. The row's id is the *idempotency key*, made from the
   webhook and the entry's first version: the same filing is never queued
   twice, nor under another key, whatever happens to its row afterwards (an
   RSS item re-keyed or absorbed by its docket report row keeps its versions).
2. :func:`deliver`: each row due is POSTed, JSON, signed. A 2xx answer marks it
   ``sent``; anything else (a refused connection, a 500, a timeout, a
   redirect) keeps it ``pending`` with its next attempt backed off
   (1 min, 2, 4 ... at most an hour) until :data:`GIVE_UP_HOURS` have passed
   since it was queued (then ``dead``, kept and counted in every summary).
   Cron runs update again: a receiver down for an hour loses nothing. A run
   killed after a POST and before its ``sent`` mark sends that row again
   with the same key; the receiver drops what it has seen by that key.

The signature: ``X-Docket-Archive-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"<timestamp>." + body`` under the webhook's secret, with the timestamp (Unix
seconds) in ``X-Docket-Archive-Timestamp``; the key in
``X-Docket-Archive-Idempotency-Key`` (and ``Idempotency-Key``). A receiver
checks both with :func:`verify` (and refuses timestamps too old: replays).

The secret is never stored: the ``webhooks`` row names the environment
variable that holds it (``DOCKET_ARCHIVE_WEBHOOK_SECRET`` by default) and a
fingerprint, so that a changed secret is noticed. Receivers' URLs may hold
tokens: they are kept in the operator's private table and shown by host only.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import secrets as _secrets
import time
import urllib.error
import urllib.request
from typing import Callable, Optional
from urllib.parse import urlsplit

from . import db as adb
from . import follow as fl
from .site import urls

log = logging.getLogger(__name__)

SECRET_ENV = "DOCKET_ARCHIVE_WEBHOOK_SECRET"
GIVE_UP_HOURS = 72
TIMEOUT = 10.0
EVENT = "docket_entry.new"
USER_AGENT = "DocketArchive-Webhook/1"


def fingerprint(secret: str) -> str:
    return hashlib.sha256(("docket-archive-webhook|" + secret).encode()).hexdigest()[:16]


def shown(url: str) -> str:
    """A receiver's URL as logs and summaries show it: scheme and host only."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def new_secret() -> str:
    return _secrets.token_hex(32)


def add_webhook(db, url: str, docket_id: Optional[str] = None,
                secret_env: str = SECRET_ENV) -> dict:
    """Register a receiver (idempotent per URL and scope). Returns the webhook
    row, with ``secret`` set to a new secret when the variable is not set yet
    (to be shown once and put in the environment), else None."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{shown(url)} is not an http(s) URL")
    if not secret_env or not secret_env.replace("_", "").isalnum():
        raise ValueError(f"{secret_env!r} is not an environment variable name")
    secret = os.environ.get(secret_env)
    generated = None
    if not secret:
        secret = generated = new_secret()
    with adb.transaction(db):
        have = db.execute("select id from webhooks where url = ? and coalesce(docket_id, '') = ?",
                          [url, docket_id or ""]).fetchone()
        row = {"url": url, "docket_id": docket_id, "secret_env": secret_env,
               "secret_fingerprint": fingerprint(secret), "active": 1}
        if have:
            db["webhooks"].update(have[0], row)
            webhook_id = have[0]
        else:
            row["created"] = fl.now_iso()
            table = db["webhooks"]
            table.insert(row)
            webhook_id = table.last_pk
    mark_seen(db, webhook_id=webhook_id)  # what the archive holds now is not news to it
    out = dict(db["webhooks"].get(webhook_id))
    out["secret"] = generated
    return out


def remove_webhook(db, url: str) -> int:
    with adb.transaction(db):
        return db.execute("update webhooks set active = 0 where url = ? and active = 1",
                          [url]).rowcount


def webhooks(db, active_only: bool = True) -> list[dict]:
    return [dict(r) for r in db.query(
        "select * from webhooks" + (" where active = 1" if active_only else "") + " order by id")]


def verify(secret: str, timestamp: str, body: bytes, signature: str,
           tolerance: Optional[float] = 300, now: Optional[float] = None) -> bool:
    """Whether a delivery is this archive's: the signature matches and (with a
    ``tolerance`` in seconds) the timestamp is recent."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if tolerance is not None and abs((now or time.time()) - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, stamp)[1], signature or "")


def sign(secret: str, body: bytes, timestamp: Optional[int] = None) -> tuple[str, str]:
    stamp = int(timestamp if timestamp is not None else time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return str(stamp), "sha256=" + digest


# --- the outbox -------------------------------------------------------------------

def _scope(db, webhook: dict) -> list[dict]:
    """The follows a webhook covers: all, or one case and the appeals found from it."""
    if webhook.get("docket_id"):
        return [dict(r) for r in db.query(
            "select * from follows where id = ? or parent_id = ?",
            [webhook["docket_id"], webhook["docket_id"]])]
    return [dict(r) for r in db.query("select * from follows")]


def _payload(db, entry: dict, key: str, now: str, site_url: Optional[str]) -> dict:
    docket = db.execute("select court_id, docket_number, case_name, pacer_case_id "
                        "from dockets where id = ?", [entry["docket_id"]]).fetchone()
    court, number, name, case_id = docket if docket else (None, None, None, None)
    docs = [dict(r) for r in db.query(
        "select attachment_number, description, page_count, pacer_doc_id, "
        "file_path is not null as stored from documents where entry_id = ? "
        "order by coalesce(attachment_number, 0)", [entry["id"]])]
    events = [dict(r) for r in db.query(
        "select kind, what, date, time, place, status, supersedes_date from events "
        "where entry_id = ? order by position", [entry["id"]])]
    sources = [r[0] for r in db.execute("select distinct source from entry_versions "
                                        "where entry_id = ? order by source", [entry["id"]])]
    page = urls.entry(court, number, entry["entry_key"]) if court and number else None
    return {
        "id": key, "type": EVENT, "created": now,
        "case": {"docket_id": entry["docket_id"], "court_id": court, "docket_number": number,
                 "case_name": name, "pacer_case_id": case_id},
        "entry": {"id": entry["id"], "entry_number": entry["entry_number"],
                  "date_filed": entry["date_filed"], "description": entry["description"],
                  "kind": entry["kind"], "event_names": entry["event_names"],
                  "pacer_sequence_number": entry["pacer_sequence_number"],
                  "sources": sources, "documents": docs},
        "events": events,
        "url": (site_url.rstrip("/") + page) if site_url and page else page,
    }


def mark_seen(db, docket_ids: Optional[list] = None, webhook_id: Optional[int] = None,
              now: Optional[str] = None) -> int:
    """Take every version a case has now as seen by the webhooks covering it
    (``alerted`` rows without an alert): a case's baseline when its first
    update is done, and a new webhook's start. No clock is compared: an entry
    is new to a webhook exactly when none of its versions is marked for it."""
    now = now or fl.now_iso()
    marked = 0
    for webhook in webhooks(db):
        if webhook_id is not None and webhook["id"] != webhook_id:
            continue
        for follow in _scope(db, webhook):
            if not follow.get("baseline_at") or (docket_ids is not None
                                                 and follow["id"] not in docket_ids):
                continue
            with adb.transaction(db):
                marked += db.execute(
                    "insert or ignore into alerted (id, webhook_id, version_id, outbox_id, at) "
                    "select ? || '|' || v.id, ?, v.id, null, ? from entry_versions v "
                    "where v.docket_id = ?", [webhook["id"], webhook["id"], now, follow["id"]]
                ).rowcount
                marked += db.execute(
                    "insert or ignore into alerted (id, webhook_id, version_id, outbox_id, at) "
                    "select ? || '|entry:' || e.id, ?, 'entry:' || e.id, null, ? from "
                    "docket_entries e where e.docket_id = ? and not exists (select 1 from "
                    "entry_versions v where v.entry_id = e.id)",
                    [webhook["id"], webhook["id"], now, follow["id"]]).rowcount
    return marked


def enqueue(db, now: Optional[str] = None, site_url: Optional[str] = None) -> int:
    """Queue one alert per new entry and webhook (see the module's docstring):
    an entry of a case in the webhook's scope none of whose versions the
    webhook has seen (:func:`mark_seen`) or been sent. Returns how many."""
    now = now or fl.now_iso()
    queued = 0
    for webhook in webhooks(db):
        for follow in _scope(db, webhook):
            if not follow.get("baseline_at"):
                continue  # the case's first update has not finished: nothing is new yet
            candidates = [dict(r) for r in db.query(
                "select * from docket_entries e where e.docket_id = ? and not exists ("
                "select 1 from alerted a where a.id = ? || '|entry:' || e.id) and not exists ("
                "select 1 from entry_versions v join alerted a on a.id = ? || '|' || v.id "
                "where v.entry_id = e.id) order by coalesce(e.date_filed, ''), "
                "coalesce(e.entry_number, 0), e.id",
                [follow["id"], webhook["id"], webhook["id"]])]
            for entry in candidates:
                queued += _enqueue_entry(db, webhook, entry, now, site_url)
    return queued


def _enqueue_entry(db, webhook: dict, entry: dict, now: str, site_url) -> int:
    with adb.transaction(db):
        versions = [r[0] for r in db.execute(
            "select id from entry_versions where entry_id = ? order by first_seen, id",
            [entry["id"]]).fetchall()] or [f"entry:{entry['id']}"]
        marks = ", ".join("?" for _ in versions)
        if db.execute(f"select 1 from alerted where webhook_id = ? and version_id in ({marks}) "
                      "limit 1", [webhook["id"], *versions]).fetchone():
            return 0
        key = "da-" + hashlib.sha256(f"{webhook['id']}|{versions[0]}".encode()).hexdigest()[:32]
        payload = json.dumps(_payload(db, entry, key, now, site_url), sort_keys=True,
                             default=str)
        db.execute("insert or ignore into outbox (id, webhook_id, entry_id, docket_id, created, "
                   "payload, status, attempts, next_attempt) values (?, ?, ?, ?, ?, ?, "
                   "'pending', 0, ?)", [key, webhook["id"], entry["id"], entry["docket_id"],
                                         now, payload, now])
        db.conn.executemany(
            "insert or ignore into alerted (id, webhook_id, version_id, outbox_id, at) "
            "values (?, ?, ?, ?, ?)",
            [(f"{webhook['id']}|{v}", webhook["id"], v, key, now) for v in versions])
    return 1


def backoff_seconds(attempts: int) -> int:
    """1 min after the first failure, then doubling, at most an hour."""
    return int(min(60 * 2 ** max(attempts - 1, 0), 3600))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a receiver answers itself
        return None


def _post(url: str, body: bytes, headers: dict, timeout: float) -> int:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def deliver(db, now: Optional[_dt.datetime] = None, *, timeout: float = TIMEOUT,
            give_up_hours: float = GIVE_UP_HOURS, max_seconds: float = 120,
            post: Callable = _post) -> dict:
    """POST every alert due (see the module's docstring). Returns counts:
    ``sent``, ``failed`` (tried, kept for later), ``dead``, ``waiting`` (pending
    after this run), ``no_secret``."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    stamp = fl.now_iso(now)
    counts = {"sent": 0, "failed": 0, "dead": 0, "no_secret": 0}
    hooks = {w["id"]: w for w in webhooks(db, active_only=False)}
    down: set[int] = set()  # receivers that failed in this run: not hammered again
    began = time.monotonic()
    due = [dict(r) for r in db.query(
        "select id, webhook_id, payload, attempts, created from outbox where status = 'pending' "
        "and coalesce(next_attempt, '') <= ? order by created, id", [stamp])]
    for row in due:
        webhook = hooks.get(row["webhook_id"])
        if webhook is None or not webhook.get("active"):
            continue
        if row["webhook_id"] in down or time.monotonic() - began > max_seconds:
            continue
        secret = os.environ.get(webhook["secret_env"] or SECRET_ENV)
        if not secret:
            counts["no_secret"] += 1
            _failed(db, row, now, f"{webhook['secret_env']} is not set: nothing is sent unsigned",
                    give_up_hours, counts)
            continue
        if webhook.get("secret_fingerprint") and fingerprint(secret) != webhook["secret_fingerprint"]:
            log.warning("The secret in %s is not the one webhook %s was made with: receivers "
                        "verifying with the old one will refuse these alerts",
                        webhook["secret_env"], webhook["id"])
        body = row["payload"].encode()
        timestamp, signature = sign(secret, body)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Docket-Archive-Event": EVENT, "X-Docket-Archive-Timestamp": timestamp,
                   "X-Docket-Archive-Signature": signature,
                   "X-Docket-Archive-Idempotency-Key": row["id"], "Idempotency-Key": row["id"]}
        try:
            status = post(webhook["url"], body, headers, timeout)
            error = None if 200 <= status < 300 else f"answered {status}"
        except (OSError, ValueError) as exc:  # refused, reset, timed out, DNS
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            with adb.transaction(db):
                db.execute("update outbox set status = 'sent', sent_at = ?, attempts = "
                           "coalesce(attempts, 0) + 1, last_error = null where id = ?",
                           [fl.now_iso(), row["id"]])
            counts["sent"] += 1
            continue
        down.add(row["webhook_id"])
        log.warning("Webhook %s (%s): %s; alert %s kept for later", webhook["id"],
                    shown(webhook["url"]), error, row["id"])
        _failed(db, row, now, error, give_up_hours, counts)
    total = outbox_counts(db)
    counts["waiting"], counts["dead_total"] = total.get("pending", 0), total.get("dead", 0)
    return counts


def _failed(db, row: dict, now: _dt.datetime, error: str, give_up_hours: float,
            counts: dict) -> None:
    attempts = (row["attempts"] or 0) + 1
    created = fl.parse_time(row["created"]) or now
    dead = (now - created).total_seconds() > give_up_hours * 3600
    later = now + _dt.timedelta(seconds=backoff_seconds(attempts))
    with adb.transaction(db):
        db.execute("update outbox set attempts = ?, last_error = ?, next_attempt = ?, "
                   "status = ? where id = ?", [attempts, error[:500], fl.now_iso(later),
                                               "dead" if dead else "pending", row["id"]])
    counts["dead" if dead else "failed"] += 1


def outbox_counts(db) -> dict:
    return dict(db.execute("select status, count(*) from outbox group by status").fetchall())
