"""An appeal's originating case, as its own record states it.

``docket_origins`` holds one row per appellate docket whose record names the
case it comes from: the appellate docket report's "Originating Court
Information", ACMS's originating case number, CourtListener's
``original_court_info`` (read by :mod:`parsers.links`). It is public court
data, kept with the archive; ``archive/site_links.py`` derives the links
between dockets from it and from the district dockets' entries.

(The table is made here, not in ``archive/db.py``'s ``TABLES``, on the first
save and by :func:`ensure_shape`; it could move there.)
"""
from __future__ import annotations

from typing import Optional

from parsers.common import docket_number_key

TABLE = "docket_origins"
COLUMNS = {
    "docket_id": str,          # the appeal (dockets.id)
    "court_id": str,           # the originating court, when the record names it by id
    "docket_number": str,      # the originating case's number, as printed
    "date_filed_noa": str,     # the notice of appeal's filing date
    "date_received_coa": str,  # when the court of appeals received it
    "source": str,             # which record said so (courtlistener, pacer, acms...)
}
SOURCES = {"courtlistener": "CourtListener", "pacer": "PACER", "acms": "ACMS",
           "import": "a saved PACER page"}


def ensure_shape(db) -> None:
    """Create ``docket_origins`` (idempotent); call inside the caller's transaction."""
    if not db[TABLE].exists():
        db[TABLE].create(COLUMNS, pk="docket_id", not_null={"docket_id"})
        db[TABLE].create_index(["court_id", "docket_number"], if_not_exists=True)


def save_origin(db, court_id: str, docket_number: str, origin: Optional[dict],
                source: Optional[str]) -> Optional[str]:
    """Keep what the appeal ``court_id`` ``docket_number``'s record says it comes
    from (``origin``: :func:`parsers.links.origin_of_record` or
    :func:`parsers.links.origin_of_courtlistener`). A record that names no
    origin leaves what another source said. Returns "added", "changed",
    "unchanged" or None (nothing to keep)."""
    if not origin or not origin.get("docket_number"):
        return None
    ensure_shape(db)
    docket_id = f"{court_id}/{docket_number_key(docket_number)}"
    row = {"docket_id": docket_id, "court_id": origin.get("court_id"),
           "docket_number": origin["docket_number"],
           "date_filed_noa": origin.get("date_filed_noa"),
           "date_received_coa": origin.get("date_received_coa"),
           "source": (source or "").split(":")[0] or None}
    have = db.execute(f"select * from {TABLE} where docket_id = ?", [docket_id]).fetchone()
    if have is not None:
        old = dict(zip(COLUMNS, have))
        # a source that does not know a field does not erase another's
        row = {k: (v if v is not None else old.get(k)) for k, v in row.items()}
        if row == old:
            return "unchanged"
    db[TABLE].upsert(row, pk="docket_id")
    return "changed" if have is not None else "added"


def source_words(source: Optional[str]) -> str:
    return SOURCES.get((source or "").split(":")[0], source or "its docket")
