"""The scheduler's disk queues (JOBDIR), minus requests that carry a secret.

With ``-s JOBDIR=`` Scrapy pickles waiting requests into the job folder. A
request whose own body is a credential (PACER's login POST holds the
password; ACMS's ``/Saml2/Acs`` POST holds a SAMLResponse, which signs the
user in) is marked ``meta["memory_only"]``: these queues refuse it, and
Scrapy's scheduler then keeps it in memory (``scheduler/unserializable``).
Such a request is made again by the next run, so nothing is lost by not
writing it down. Headers need no such care: credentials are added to a
request only while it is sent (docket_spider.middlewares.CredentialsMiddleware).
"""
from __future__ import annotations

from scrapy import squeues


class _MemoryOnlyRefused:
    def push(self, request):
        if getattr(request, "meta", {}).get("memory_only"):
            raise ValueError("carries a secret in its body: kept in memory only")
        super().push(request)


class PickleLifoDiskQueue(_MemoryOnlyRefused, squeues.PickleLifoDiskQueue):
    pass


class PickleFifoDiskQueue(_MemoryOnlyRefused, squeues.PickleFifoDiskQueue):
    pass
