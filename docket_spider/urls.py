"""URLs: where a crawl may go, where a credential may go, and how a URL is shown.

``origin`` (scheme, host, port) is what a link, a redirect or a credential is
judged by (docket_spider/middlewares.py); ``strip_query`` is a URL as it may
be logged or stored: no query string (a token, an ACMS status key), no
fragment, no user info.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from parsers.common import strip_query  # noqa: F401 - how a URL is shown, for the spiders

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL; None for anything else."""
    try:
        parts = urlsplit(str(url or ""))
        port = parts.port
    except ValueError:
        return None
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or _DEFAULT_PORTS[scheme]


def same_origin(url, base) -> bool:
    """``url`` is on ``base``'s scheme, host and port (a link may be followed)."""
    found = origin(url)
    return found is not None and found == origin(base)


def allowed_hosts(*urls) -> list[str]:
    """Host names of ``urls``, for a spider's ``allowed_domains`` (Scrapy's
    OffsiteMiddleware is by host, not port; credentials are also checked by
    port, in CredentialsMiddleware)."""
    hosts = []
    for url in urls:
        found = origin(url)
        if found and found[1] not in hosts:
            hosts.append(found[1])
    return hosts


