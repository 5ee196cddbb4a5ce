"""Local servers that speak the real protocols of the free sources, for tests
and benchmarks: CourtListener REST API v4 (+ storage) and the Internet
Archive's RECAP copies. Standard library only; each starts in milliseconds
on 127.0.0.1 and a free port.

    from tests.servers import CourtListenerServer, InternetArchiveServer, wechat_cases
    with CourtListenerServer(wechat_cases()) as cl, InternetArchiveServer() as ia:
        ...  # cl.api_url, cl.storage_url, ia.url, cl.log, ia.log

``python -m tests.servers`` runs both from the command line.
"""
from .cases import Case, PdfFile, default_shared_dir, make_pdf, shared_available, synthetic_case, wechat_cases
from .courtlistener import CourtListenerServer
from .internet_archive import InternetArchiveServer

__all__ = [
    "Case", "PdfFile", "CourtListenerServer", "InternetArchiveServer", "default_shared_dir", "make_pdf",
    "shared_available", "synthetic_case", "wechat_cases",
]
