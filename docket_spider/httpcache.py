"""An HTTP cache that never writes secrets to disk."""
from __future__ import annotations

from scrapy.extensions.httpcache import FilesystemCacheStorage

# Request headers that carry credentials or sessions.
SECRET_HEADERS = (b"Authorization", b"Cookie", b"Proxy-Authorization", b"X-Api-Key")


def scrub_request(request):
    headers = request.headers.copy()
    for name in SECRET_HEADERS:
        if name in headers:
            del headers[name]
    return request.replace(headers=headers)


class SafeFilesystemCacheStorage(FilesystemCacheStorage):
    """Scrapy's filesystem cache, minus Authorization and Cookie headers.

    The cache key (the request fingerprint) does not include headers, so a
    scrubbed request is stored under the same key and replays the same way.
    Responses that set cookies are stored without their Set-Cookie headers.
    """

    def store_response(self, spider, request, response):
        headers = response.headers.copy()
        for name in (b"Set-Cookie", b"Set-Cookie2"):
            if name in headers:
                del headers[name]
        return super().store_response(spider, scrub_request(request),
                                      response.replace(headers=headers))
