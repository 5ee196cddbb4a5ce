"""PACER's fee rules, as the local PACER bills: $0.10 a page, 30 pages at the
most (not for transcripts), HTML reports one page per 4,320 bytes.
"""
from __future__ import annotations

import math


# --- PACER's fee rules ---------------------------------------------------------------
PAGE_FEE = 0.10
PAGE_CAP = 30
BYTES_PER_PAGE = 4320


def report_pages(n_bytes: int) -> int:
    """Billable pages of an HTML report of ``n_bytes`` (4,320 bytes a page, capped at 30)."""
    return min(PAGE_CAP, max(1, math.ceil(n_bytes / BYTES_PER_PAGE)))


def document_pages(page_count: int, transcript: bool = False) -> int:
    """Billable pages of a document (30-page cap, except transcripts)."""
    pages = max(1, int(page_count or 1))
    return pages if transcript else min(PAGE_CAP, pages)


def cost_of(pages: int) -> float:
    return round(pages * PAGE_FEE, 2)
