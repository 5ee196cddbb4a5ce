"""What one document may cost its extraction process (issue 9).

A small module of its own: the crawl's settings, the CLI and the Celery
workers make a :class:`Limits` without starting (or importing) the process
pool that enforces it (:mod:`archive.extract.pool`).
"""
from __future__ import annotations

from dataclasses import dataclass

from parsers.pdf import OCR_MAX_PIXELS, PAGE_MAX_OBJECTS

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Per worker and per document; 0 turns a limit off."""

    memory_mb: int = 2048          # RLIMIT_AS of each worker process
    time_limit: float = 1800.0     # seconds for one document
    page_time_limit: float = 300.0  # seconds for one page (and for opening the file)
    max_pixels: int = OCR_MAX_PIXELS
    page_max_objects: int = PAGE_MAX_OBJECTS

    def __post_init__(self):
        for name in ("memory_mb", "time_limit", "page_time_limit", "max_pixels", "page_max_objects"):
            if getattr(self, name) < 0:
                raise ValueError(f"extraction limit {name} must be 0 (no limit) or more, "
                                 f"not {getattr(self, name)}")

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        """From Scrapy settings (EXTRACT_MEMORY_LIMIT_MB, EXTRACT_TIME_LIMIT, ...)."""
        d = cls()
        return cls(
            memory_mb=settings.getint("EXTRACT_MEMORY_LIMIT_MB", d.memory_mb),
            time_limit=settings.getfloat("EXTRACT_TIME_LIMIT", d.time_limit),
            page_time_limit=settings.getfloat("EXTRACT_PAGE_TIME_LIMIT", d.page_time_limit),
            max_pixels=settings.getint("EXTRACT_OCR_MAX_PIXELS", d.max_pixels),
            page_max_objects=settings.getint("EXTRACT_PAGE_MAX_OBJECTS", d.page_max_objects),
        )
