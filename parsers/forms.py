"""The forms on PACER's pages, read as a browser would submit them.

``form(text, url)`` is any page's form: its ``action`` (made absolute
against the page's own ``url``), ``method`` and the ``fields`` a browser
sends (named inputs other than buttons, checked boxes and radios only, a
select's chosen option, textareas). Two of PACER's forms have readers of
their own:

- ``purchase_form(text, url, now_ms=None)``: a Download Confirmation page's
  form, which buys the document. CM/ECF district (``doc1/``): its
  ``goDLS(...)`` call adds the case id and sequence number, and the receipt
  flags the script sends (``got_receipt``, ``pdf_header``). CM/ECF appellate
  (``ShowDoc``, a ``dls_id`` field): its script stamps ``recp`` with the
  moment it is submitted, ``now_ms`` (milliseconds since 1970) when given.
- ``report_form(text, url)``: the docket report's selection form
  (``DktRpt.pl?<case id>``): where the report is asked for.

Pure: a page's text and address in, plain data out; :class:`ParseError` when
the page holds no such form. Whether a form's action may be followed (its
host, its scheme) is for the caller to judge.
"""
from __future__ import annotations

from urllib.parse import urljoin

from . import ParseError
from .common import go_dls_args, html_tree

BUTTONS = frozenset({"submit", "button", "reset", "image", "file"})


def form(text: str, url: str, *, action_contains: str | None = None) -> dict:
    """The page's first form (the first whose action contains
    ``action_contains``, when given): ``{action, method, fields, onsubmit}``."""
    root = html_tree(text, "page")
    for found in root.iter("form"):
        action = urljoin(url, (found.get("action") or "").strip())
        if action_contains and action_contains not in action:
            continue
        return {"action": action, "method": (found.get("method") or "get").upper(),
                "fields": _fields(found), "onsubmit": found.get("onsubmit") or None}
    wanted = f" posting to {action_contains}" if action_contains else ""
    raise ParseError(f"no form{wanted} on the page")


def _fields(found) -> dict:
    fields: dict[str, str] = {}
    for element in found.iter("input", "select", "textarea"):
        name = element.get("name")
        if not name:
            continue
        if element.tag == "select":
            options = list(element.iter("option"))
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            if chosen:
                fields[name] = chosen[0].get("value", (chosen[0].text or "").strip())
            continue
        if element.tag == "textarea":
            fields[name] = element.text or ""
            continue
        kind = (element.get("type") or "text").lower()
        if kind in BUTTONS:
            continue
        if kind in ("checkbox", "radio"):
            if element.get("checked") is None:
                continue
            fields[name] = element.get("value", "on")
            continue
        fields[name] = element.get("value") or ""
    return fields


def purchase_form(text: str, url: str, now_ms: int | None = None) -> dict:
    """A Download Confirmation page's form: ``{action, fields}``, what its
    button submits (see the module's doc)."""
    found = form(text, url)
    fields = dict(found["fields"])
    if "dls_id" in fields:  # CM/ECF appellate: doSubmit() stamps the moment it is sent
        if not fields.get("recp") and now_ms is not None:
            fields["recp"] = str(int(now_ms))
    else:  # CM/ECF district: goDLS('/doc1/<id>', caseid, de_seq_num, ...)
        args = go_dls_args(found["onsubmit"])
        if len(args) > 2:
            fields.setdefault("caseid", args[1])
            fields.setdefault("de_seq_num", args[2])
        fields.setdefault("got_receipt", "1")
        fields.setdefault("pdf_header", "1")
    return {"action": found["action"], "fields": fields}


def report_form(text: str, url: str) -> dict:
    """The docket report's selection form: ``{action, method, fields}``."""
    found = form(text, url, action_contains="DktRpt.pl")
    return {k: found[k] for k in ("action", "method", "fields")}
