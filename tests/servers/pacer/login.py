"""PACER's central login service (``/services/cso-auth``: pacer.login.uscourts.gov)
and the login page CM/ECF and ACMS answer without a session.
"""
from __future__ import annotations

import secrets
from typing import Optional
from urllib.parse import quote

from ..base import Request, Response
from .common import PACER_FIXTURES, _cookies, _parse_body


# --- messages PACER's login service answers with ---------------------------------------
BAD_LOGIN = "Login Failed. Invalid username or password."
MFA_REQUIRED = ("Login Failed. This account has multi-factor authentication enabled: "
                "enter the one-time passcode from your authentication app.")
BAD_OTP = "Login Failed. Invalid one-time passcode."
CHANGE_PASSWORD = "Password change required. Please log in to PACER to update your password."
PENDING_ACTIONS = "You have pending account actions. Please review your account at pacer.uscourts.gov."


class LoginMixin:
    """PacerServer's login: accounts, sessions (``sessions``: token -> user)."""

    def _login(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.text("Method not allowed", 405)
        data = _parse_body(request)
        username = str(data.get("loginId") or "")
        account = self.accounts.get(username)

        def fail(message):
            return Response.json({"loginResult": "1", "errorDescription": message})

        if account is None or str(data.get("password") or "") != account["password"]:
            return fail(BAD_LOGIN)
        if account["mfa"]:
            otp = str(data.get("otpCode") or "")
            if not otp:
                return fail(MFA_REQUIRED)
            if otp != account["otp_code"]:
                return fail(BAD_OTP)
        if account["client_code"] and data.get("clientCode") != account["client_code"]:
            return fail("A valid client code is required for this account.")
        if account["state"] == "change_password":
            return Response.json({"loginResult": "0", "errorDescription": CHANGE_PASSWORD})
        token = secrets.token_hex(64)
        with self._lock:
            self.sessions[token] = username
        body = {"nameFirst": "Test", "nameLast": "User", "nameMiddle": "", "loginResult": "0",
                "nextGenCSO": token, "errorDescription": "", "redactFlag": "1"}
        if account["state"] == "pending":
            body["errorDescription"] = PENDING_ACTIONS
        cookies = ["NextGenCSO=%s; Path=/; HttpOnly" % token, "PacerSession=%s; Path=/; HttpOnly" % token]
        if data.get("clientCode"):
            cookies.append("PacerClientCode=%s; Path=/" % quote(str(data["clientCode"])))
        return Response.json(body, headers={"Set-Cookie": cookies})

    def session_user(self, request: Request) -> Optional[str]:
        cookies = _cookies(request)
        for name in ("NextGenCSO", "PacerSession"):
            user = self.sessions.get(cookies.get(name, ""))
            if user:
                return user
        return None

    def login_page(self) -> Response:
        """What PACER shows in place of a page asked for without a session (status 200)."""
        text = (PACER_FIXTURES / "login.html").read_text(encoding="utf-8")
        return Response.text(text, 200)
