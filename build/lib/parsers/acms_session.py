"""The pages of ACMS's sign-in (since the court's 2025 web front end), read.

ACMS (``<court>-showdoc.azurewebsites.us``) signs a PACER user in with SAML:

1. ``GET /`` with the PACER session answers an auto-submitting form whose
   hidden inputs carry ``SAMLResponse`` (and ``RelayState``):
   :func:`saml_form`. Without a PACER session PACER's login form comes back
   instead, and there is no ``SAMLResponse``.
2. ``POST /Saml2/Acs`` with those inputs. Success sets ACMS's own session
   cookies, ``.AspNetCore.saml2`` (long values split into ``…C1``, ``…C2``);
   a rejected login answers 200 too, with ACMS's login page and Azure's
   ``ARRAffinity`` cookies only. :func:`saml_session_cookies` says which
   session cookies an answer's ``Set-Cookie`` headers set.
3. ``GET /Home/IndexContent`` (with those cookies) holds the web app's
   ``showDocViewModel`` script object: the API's bearer token
   (``AuthToken.Token``) and the user (``PacerUser``: ``CsoId``,
   ``ContactType``): :func:`view_model`.

Pure functions: text in, data out. Nothing here keeps or logs a secret.
"""
from __future__ import annotations

import datetime as _dt
import email.utils
import json
import re

from lxml import html as lxml_html

from . import ParseError

SESSION_COOKIE = ".AspNetCore.saml2"

# a view model assigned in a script: `var showDocViewModel = {...}`,
# `window.showDocViewModel = JSON.parse('...')`, `showDocViewModel: '...'`;
# and the pre-2025 SAML answer's `var model = '...'`
_MODEL_START = re.compile(
    r"""(?:\bshowDocViewModel\b|\bvar\s+model\b)["']?\s*[=:]\s*(?:JSON\.parse\(\s*)?""")


def saml_form(text: str) -> dict | None:
    """The SAML hand-off form of ACMS's ``/``: ``{"action": <its action or
    None>, "fields": {name: value}}`` with every named input of the form
    holding ``SAMLResponse`` (``SAMLResponse``, ``RelayState``...). None when
    the page has no non-empty ``SAMLResponse`` (PACER's login form, say)."""
    if not isinstance(text, str) or "samlresponse" not in text.lower():
        return None
    try:
        root = lxml_html.fromstring(text)
    except (ValueError, lxml_html.etree.ParserError):
        return None
    saml = next((el for el in root.iter("input")
                 if (el.get("name") or "").lower() == "samlresponse"
                 and (el.get("value") or "").strip()), None)
    if saml is None:
        return None
    form = next((el for el in saml.iterancestors("form")), None)
    scope = form if form is not None else root
    fields = {}
    for el in scope.iter("input"):
        name = el.get("name")
        if name and (el.get("type") or "").lower() not in ("submit", "button", "image", "reset"):
            fields[name] = el.get("value") or ""
    action = ((form.get("action") or "").strip() or None) if form is not None else None
    return {"action": action, "fields": fields}


def _set_cookie_attrs(header: str) -> tuple[str, str, dict]:
    first, *rest = header.split(";")
    name, _, value = first.partition("=")
    attrs = {}
    for part in rest:
        key, _, val = part.partition("=")
        attrs[key.strip().lower()] = val.strip()
    return name.strip(), value.strip().strip('"'), attrs


def _deleted(value: str, attrs: dict, now: _dt.datetime) -> bool:
    """A ``Set-Cookie`` that removes its cookie (empty, Max-Age<=0, expired)."""
    if not value:
        return True
    max_age = attrs.get("max-age")
    if max_age is not None:
        try:
            return int(max_age) <= 0
        except ValueError:
            pass
    expires = attrs.get("expires")
    if expires:
        try:
            when = email.utils.parsedate_to_datetime(expires)
        except (TypeError, ValueError):
            return False
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=_dt.timezone.utc)
            return when <= now
    return False


def saml_session_cookies(set_cookie_headers, now: _dt.datetime | None = None) -> list[str]:
    """Names of the ACMS session cookies (``.AspNetCore.saml2``, ``…C1``,
    ``…C2``...) that ``Set-Cookie`` headers (str or bytes) set; cookies they
    delete (empty, expired) do not count. An empty list: not signed in."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    names = []
    for header in set_cookie_headers or ():
        if isinstance(header, bytes):
            header = header.decode("latin-1")
        name, value, attrs = _set_cookie_attrs(str(header))
        if name.lower().startswith(SESSION_COOKIE.lower()) and not _deleted(value, attrs, now):
            names.append(name)
    return names


def _js_string(text: str, start: int) -> str:
    """The JavaScript string literal starting at ``text[start]`` (a quote), decoded."""
    quote = text[start]
    out, i = [], start + 1
    simple = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(out)
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2:i + 6]):
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
                out.append(chr(int(text[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append(simple.get(nxt, nxt))
            i += 2
            continue
        if ch == "\n":
            break
        out.append(ch)
        i += 1
    raise ParseError("the view model's string never ends")


def _model_object(text: str) -> dict:
    for match in _MODEL_START.finditer(text):
        at = match.end()
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            continue
        try:
            if text[at] == "{":
                data, _ = json.JSONDecoder().raw_decode(text, at)
            elif text[at] in "'\"`":
                data = json.loads(_js_string(text, at))
            else:
                continue
        except (ValueError, ParseError):
            continue
        if isinstance(data, dict):
            return data
    raise ParseError("no showDocViewModel object on the page (not ACMS's page content: "
                     "its sign-in page, or an error)")


def _get(data, *names):
    """``data[name]`` for the first of ``names`` present, any letter case."""
    if not isinstance(data, dict):
        return None
    lowered = {str(k).lower(): v for k, v in data.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def view_model(text: str) -> dict:
    """The ``showDocViewModel`` of ACMS's ``/Home/IndexContent``:
    ``{"token", "cso_id", "contact_type", "expires", "expires_at"}`` (the
    bearer token for the ``showdocservices`` API; the user the docket entries
    are asked for; when the token expires, as given and as an aware datetime,
    None when not given or not a date). ParseError when the page has no view
    model or no token."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("ACMS's page content is empty")
    data = _model_object(text)
    auth = _get(data, "AuthToken")
    token = auth if isinstance(auth, str) else _get(auth, "Token", "AccessToken")
    if not isinstance(token, str) or not token.strip():
        raise ParseError("ACMS's showDocViewModel holds no AuthToken.Token (not signed in)")
    user = _get(data, "PacerUser") or {}
    cso_id = _get(user, "CsoId")
    if cso_id is None:
        cso_id = _get(data, "CsoId")
    contact = _get(user, "ContactType") or _get(data, "ContactType") or "Pacer"
    expires = _get(auth, "Expiration", "ExpiresOn", "Expires") if isinstance(auth, dict) else None
    expires = expires if isinstance(expires, str) and expires.strip() else None
    return {"token": token.strip(), "cso_id": cso_id, "contact_type": contact,
            "expires": expires, "expires_at": _when(expires)}


def _when(value: str | None) -> _dt.datetime | None:
    """An ISO 8601 time (``2025-03-01T12:00:00Z``, with an offset, or none: UTC)."""
    if not value:
        return None
    try:
        when = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)
