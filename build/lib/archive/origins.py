"""An appeal's originating case, as its own record states it.

``docket_origins`` holds one row per appellate docket whose record names the
case it comes from: the appellate docket report's "Originating Court
Information", ACMS's originating case number, CourtListener's
``original_court_info`` (read by :mod:`parsers.links`). It is public court
data, kept with the archive; ``archive/site/links.py`` derives the links
between dockets from it and from the district dockets' entries.

The table's shape is :mod:`archive.db`'s (``TABLES["docket_origins"]``: its
``id`` is the appeal's docket id); it is public, as its docket is.
"""
from __future__ import annotations

from typing import Optional

from archive import db as adb
from parsers.common import docket_number_key

TABLE = "docket_origins"
SOURCES = {"courtlistener": "CourtListener", "pacer": "PACER", "acms": "ACMS",
           "import": "a saved PACER page"}


def save_origin(db, court_id: str, docket_number: str, origin: Optional[dict],
                source: Optional[str], crawl_id: Optional[int] = None) -> Optional[str]:
    """Keep what the appeal ``court_id`` ``docket_number``'s record says it comes
    from (``origin``: :func:`parsers.links.origin_of_record` or
    :func:`parsers.links.origin_of_courtlistener`). A record that names no
    origin leaves what another source said. Returns "added", "changed",
    "unchanged" or None (nothing to keep)."""
    if not origin or not origin.get("docket_number"):
        return None
    docket_id = f"{court_id}/{docket_number_key(docket_number)}"
    row = {"id": docket_id, "docket_id": docket_id, "court_id": origin.get("court_id"),
           "docket_number": origin["docket_number"],
           "date_filed_noa": origin.get("date_filed_noa"),
           "date_received_coa": origin.get("date_received_coa"),
           "source": (source or "").split(":")[0] or None}
    # a source that does not know a field does not erase another's (save_row)
    return adb.save_row(db, TABLE, row, crawl_id)


def source_words(source: Optional[str]) -> str:
    return SOURCES.get((source or "").split(":")[0], source or "its docket")
