"""PACER's login: credentials, what is posted, and its answer read. The
session built on it (a login that survives expiry) is the PACER spiders'
(docket_spider/spiders/pacer_base.py).

Credentials come from the environment only (PACER_USERNAME, PACER_PASSWORD,
optional PACER_CLIENT_CODE and PACER_OTP): Scrapy logs settings and spider
arguments, never the environment.
"""
from __future__ import annotations

import json
import os
import re

MFA_WORDS = re.compile(r"one[- ]time|otp|multi[- ]?factor|two[- ]factor|verification code|\bmfa\b", re.I)
PASSWORD_CHANGE_WORDS = re.compile(r"password.*(expired|change|reset)|(change|reset).*password", re.I)


class PacerLoginError(Exception):
    pass


def credentials_from_env() -> dict:
    return {
        "username": os.environ.get("PACER_USERNAME", "").strip(),
        "password": os.environ.get("PACER_PASSWORD", ""),
        "client_code": os.environ.get("PACER_CLIENT_CODE", "").strip(),
        "otp": os.environ.get("PACER_OTP", "").strip(),
    }


def login_payload(creds: dict) -> dict:
    body = {"loginId": creds["username"], "password": creds["password"], "redactFlag": "1"}
    if creds.get("client_code"):
        body["clientCode"] = creds["client_code"]
    if creds.get("otp"):
        body["otpCode"] = creds["otp"]
    return body


def read_login_answer(text: str, creds: dict) -> str:
    """The session token from PACER's login answer; PacerLoginError otherwise."""
    try:
        data = json.loads(text)
    except ValueError:
        raise PacerLoginError("PACER's login service did not answer JSON "
                              "(check PACER_LOGIN_URL)") from None
    if not isinstance(data, dict):
        raise PacerLoginError("PACER's login service answered something unexpected")
    result = str(data.get("loginResult", "")).strip()
    reason = str(data.get("errorDescription") or "").strip()
    token = data.get("nextGenCSO")
    if result == "0" and token:
        if reason and PASSWORD_CHANGE_WORDS.search(reason):
            raise PacerLoginError(
                f"PACER wants the password changed before it serves anything: {reason}. "
                "Log in at https://pacer.uscourts.gov/ , change it, then set PACER_PASSWORD.")
        return str(token)
    if reason and MFA_WORDS.search(reason) or (result not in ("0", "1", "") and not reason):
        if creds.get("otp"):
            raise PacerLoginError(
                f"PACER refused the one-time code: {reason or 'no reason given'}. "
                "Set a fresh PACER_OTP (codes expire within seconds) and run again.")
        raise PacerLoginError(
            f"This PACER account uses multi-factor login: {reason or 'a one-time code is needed'}. "
            "Set PACER_OTP to the current code from your authenticator and run again.")
    if reason and PASSWORD_CHANGE_WORDS.search(reason):
        raise PacerLoginError(
            f"PACER wants the password changed: {reason}. Log in at https://pacer.uscourts.gov/ , "
            "change it, then set PACER_PASSWORD.")
    if reason and "client code" in reason.lower():
        raise PacerLoginError(f"PACER login failed: {reason} Set PACER_CLIENT_CODE.")
    raise PacerLoginError(
        f"PACER login failed: {reason or 'no session was given'}. "
        "Check PACER_USERNAME and PACER_PASSWORD.")


def is_login_page(text: str) -> bool:
    """A CM/ECF or PACER page asking for a password instead of the report."""
    head = text[:200000].lower()
    return ('type="password"' in head or "type='password'" in head or "type=password" in head
            or "<title>pacer login" in head)


CREDENTIALS_HELP = (
    "PACER credentials are not set. The PACER spiders read them from the environment only: "
    "`export PACER_USERNAME=... PACER_PASSWORD=...` (optional PACER_CLIENT_CODE, and PACER_OTP "
    "for accounts with multi-factor login). A free account: https://pacer.uscourts.gov/register-account ."
)


# What Scrapy's middlewares put in a request's meta about its own download
# (latency, retries, redirects): not carried over to the request sent again.
DOWNLOAD_META = frozenset({"download_latency", "retry_times", "redirect_times", "redirect_ttl",
                           "redirect_urls", "redirect_reasons", "_dont_cache", "cache_timestamp",
                           "_auth_proxy", "_scheme_proxy"})


def resend_meta(meta) -> dict:
    """``meta`` for sending a request again (after a new login or a new token)."""
    return {k: v for k, v in meta.items() if k not in DOWNLOAD_META}
