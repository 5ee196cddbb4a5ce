"""A document on PACER: its label, the date form PACER's report forms want,
and what its confirmation page's button submits (the purchase, made by the
files pipeline: docket_spider/spiders/pacer_base.py's ``buy_document``).
"""
from __future__ import annotations

import datetime as _dt
import logging

from docket_spider.urls import same_origin, strip_query
from parsers import forms

logger = logging.getLogger(__name__)


def us_date(iso) -> str:
    """2020-10-23 -> 10/23/2020, as PACER's report forms want dates."""
    return _dt.date.fromisoformat(str(iso)[:10]).strftime("%m/%d/%Y")


def document_label(ctx) -> str:
    """"document 12", or "document 12 attachment 3", for logs and the ledger."""
    return f"document {ctx['document_number']}" + (
        f" attachment {ctx['attachment_number']}" if ctx.get("attachment_number") else "")


def purchase_form(response, text, now_ms=None) -> dict:
    """``{url, fields}``: what the confirmation page's button submits at
    ``now_ms`` (parsers.forms; no secret: the session is added as it is sent),
    posted to PACER only: a form posting to another host is posted to the
    page's own address instead. ParseError when the page has no form."""
    form = forms.purchase_form(text, response.url, now_ms=now_ms)
    url = form["action"]
    if not same_origin(url, response.url):
        logger.warning("The purchase form of %s posts to another host (%s): posting to the "
                       "page's own address instead", strip_query(response.url), strip_query(url))
        url = response.url
    return {"url": url, "fields": form["fields"]}
