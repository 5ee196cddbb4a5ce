"""Pure parsers: a court page (or PDF) in, plain data out. No network, no database.

Each kind lives in its own module with a ``parse(text, court=None) -> dict``
function that raises :class:`ParseError` when the page is not of that kind.
"""
from __future__ import annotations

import importlib

import functools

__all__ = ["ParseError", "KINDS", "parse", "decode_page", "page_parser"]


class ParseError(ValueError):
    """The page is not of the kind asked for (login page, error page, another format)."""


def page_parser(func=None, *, kind=None):
    """Wrap a module's ``parse(text, court)`` so nothing but ParseError escapes.

    A page nested deeper than the interpreter can walk is simply not a court
    page. With ``kind``, any other unexpected failure also becomes a
    ParseError ("could not read the page as an <kind>: ...") instead of a crash.
    """

    def wrap(parse_page):
        @functools.wraps(parse_page)
        def parse(text, court=None):
            try:
                return parse_page(text, court)
            except ParseError:
                raise
            except RecursionError:
                raise ParseError("page is nested too deeply to be a court page") from None
            except Exception as exc:
                if kind is None:
                    raise
                raise ParseError(f"could not read the page as an {kind}: "
                                 f"{type(exc).__name__}: {exc}") from None

        return parse

    return wrap(func) if func is not None else wrap


# kind -> module holding ``parse(text, court=None)``
KINDS = {
    "district": "parsers.district",
    "bankruptcy": "parsers.bankruptcy",
    "appellate": "parsers.appellate",
    "acms": "parsers.acms",
    "ia": "parsers.ia",
    "rss": "parsers.rss",
    "attachment": "parsers.attachment",
    "appellate_attachment": "parsers.appellate_attachment",
    "possible_cases": "parsers.possible_cases",
    "confirmation": "parsers.confirmation",
    "ca9_decisions": "parsers.ca9_decisions",
}


def decode_page(data: bytes) -> str:
    """Court pages arrive as UTF-8 or Windows-1252; never fail on a byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse(kind: str, page: str | bytes, court: str | None = None) -> dict:
    """Parse ``page`` as ``kind``. Raises ParseError for a page of another kind."""
    if kind not in KINDS:
        raise KeyError(f"unknown kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    if isinstance(page, bytes):
        page = decode_page(page)
    module = importlib.import_module(KINDS[kind])
    return module.parse(page, court=court)
