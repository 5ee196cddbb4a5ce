"""An HTTP cache that never writes secrets to disk."""
from __future__ import annotations

from pathlib import Path

from scrapy.extensions.httpcache import FilesystemCacheStorage
from scrapy.utils.python import to_bytes
from w3lib.http import headers_dict_to_raw

# Headers that carry credentials or sessions.
SECRET_HEADERS = (b"Authorization", b"Cookie", b"Proxy-Authorization", b"X-Api-Key")
SECRET_RESPONSE_HEADERS = (b"Set-Cookie", b"Set-Cookie2")


def _without(headers, names):
    headers = headers.copy()
    for name in names:
        if name in headers:
            del headers[name]
    return headers


class SafeFilesystemCacheStorage(FilesystemCacheStorage):
    """Scrapy's filesystem cache, minus credentials.

    Entries are stored under the original request's fingerprint (so they
    replay), but what is written down has no Authorization or Cookie request
    header, no request body (a login POST carries the password) and no
    Set-Cookie response header.
    """

    def store_response(self, spider, request, response):
        response = response.replace(headers=_without(response.headers, SECRET_RESPONSE_HEADERS))
        super().store_response(spider, request, response)
        rpath = Path(self._get_request_path(spider, request))
        with self._open(rpath / "request_headers", "wb") as f:
            f.write(headers_dict_to_raw(_without(request.headers, SECRET_HEADERS)))
        with self._open(rpath / "request_body", "wb") as f:
            f.write(to_bytes(""))
