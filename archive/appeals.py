"""The appeals of a followed district case (issue 20), found three ways:

1. its own docket: the court of appeals' case number ("USCA Case Number
   20-16908 9th Circuit ... for 78 Notice of Appeal", the header's "Case in
   other court: USCA, 20-16908") and notices of appeal (which say an appeal is
   coming before its number is known: CourtListener is then searched);
2. CourtListener: an appellate docket whose originating-court data names the
   district case (found by the update spider's search for the district
   docket number, which also finds an *expedited* appeal the district docket
   does not name yet);
3. ACMS (and CM/ECF appellate reports): an archived appeal whose
   originating case number is the district case's.

The pure readers (:func:`appeals_in_entry`, :func:`origin_of_record`,
:func:`origin_of_courtlistener`, :func:`circuit_of`, :func:`same_number`) are
``parsers.links``'s, which the case pages' links use too; ``docket_origins``
(an appeal's originating case as its record states it) is ``archive.origins``'s.
"""
from __future__ import annotations

from typing import Optional

from parsers.links import (
    appeals_in_entry, circuit_of, origin_of_courtlistener, same_number,
)

from . import db as adb
from . import follow as fl
from . import origins

ORIGINS = origins.TABLE


def record_origin(db, docket_id: str, origin: Optional[dict], source: Optional[str]) -> None:
    """Keep an appeal's originating case as its record states it (``docket_origins``)."""
    court, number = docket_id.split("/", 1)
    origins.save_origin(db, court, number, origin, source)


# --- finding them -------------------------------------------------------------------

# entries worth reading for appeals (a cheap filter before the reader)
_APPEAL_WORDS = ("%appeal%", "%USCA%", "%circuit%")


def appeals_from_docket(db, docket_id: str, court_id: str) -> list[dict]:
    """What a district case's own docket says of its appeals: ``{"court_id",
    "docket_number" (None: a notice of appeal, number not known yet),
    "found_by"}`` each, first mention first."""
    found: dict = {}
    notices = []
    rows = db.execute(
        "select entry_number, description, date_filed from docket_entries where docket_id = ? "
        "and (" + " or ".join("description like ?" for _ in _APPEAL_WORDS) + ") "
        "order by coalesce(date_filed, ''), coalesce(entry_number, 0)",
        [docket_id, *_APPEAL_WORDS]).fetchall()
    for number, text, filed in rows:
        where = f"entry {number}" if number is not None else f"the entry of {filed or '?'}"
        for hit in appeals_in_entry(text, court_id):
            if hit.get("kind") == "appeal number" and hit.get("court_id"):
                key = (hit["court_id"], hit["docket_number"])
                found.setdefault(key, {"court_id": hit["court_id"],
                                       "docket_number": hit["docket_number"],
                                       "found_by": f"its docket ({where} names it)"})
            elif hit.get("kind") == "notice of appeal":
                notices.append({"court_id": hit.get("court_id"), "docket_number": None,
                                "found_by": f"its docket ({where}: a notice of appeal)",
                                "date_filed": filed})
    return list(found.values()) + notices


def appeals_from_origins(db, district: dict) -> list[dict]:
    """Archived appeals whose record names ``district`` (a follows row) as
    their originating case (ACMS, appellate reports, CourtListener)."""
    if not db[ORIGINS].exists():
        return []
    circuit = circuit_of(district["court_id"])
    out = []
    for docket_id, court, number, source in db.execute(
            f"select o.docket_id, o.court_id, o.docket_number, o.source from [{ORIGINS}] o"
            ).fetchall():
        if court and court != district["court_id"]:
            continue
        if not same_number(number, district["docket_number"]):
            continue
        appeal_court = docket_id.split("/", 1)[0]
        if not court and circuit and appeal_court != circuit:
            continue
        out.append({"court_id": appeal_court, "docket_number": docket_id.split("/", 1)[1],
                    "found_by": f"the appeal's originating case number ({source or 'its record'})"})
    return out


def find_and_follow(db, now: Optional[str] = None) -> dict:
    """Follow the appeals the archive shows for every followed district case
    (its docket's numbers, originating case numbers). Returns
    ``{"followed": [(appeal id, parent id, how)], "notices": {district id: date}}``:
    the notices of appeal whose appeal is not known yet (CourtListener is
    searched for those)."""
    out = {"followed": [], "notices": {}}
    districts = [dict(r) for r in db.query("select * from follows")]
    for district in districts:
        if fl.is_appellate(district["court_id"]):
            continue
        hits = appeals_from_docket(db, district["id"], district["court_id"]) + \
            appeals_from_origins(db, district)
        known = {r[0] for r in db.execute("select id from follows where parent_id = ?",
                                          [district["id"]]).fetchall()}
        for hit in hits:
            if hit["docket_number"] is None:
                if not known:
                    out["notices"][district["id"]] = hit.get("date_filed")
                continue
            appeal_id, new = fl.follow_case(db, hit["court_id"], hit["docket_number"],
                                            parent_id=district["id"], found_by=hit["found_by"],
                                            now=now)
            known.add(appeal_id)
            if new:
                out["followed"].append((appeal_id, district["id"], hit["found_by"]))
    return out


def follow_from_courtlistener(db, parent_id: str, docket: dict, how: str,
                              now: Optional[str] = None) -> Optional[tuple[str, bool]]:
    """Follow an appeal CourtListener showed (a ``dockets`` or search result)
    whose originating case is ``parent_id``'s; an ACMS case's GUID (its
    ``pacer_case_id`` there) is kept for reading it."""
    court = docket.get("court_id") or docket.get("court")
    number = docket.get("docket_number") or docket.get("docketNumber")
    if not court or not number:
        return None
    if isinstance(court, str) and "/" in court:
        court = court.rstrip("/").rsplit("/", 1)[-1]
    case_id = str(docket.get("pacer_case_id") or "")
    guid = case_id if fl.GUID.match(case_id) else None
    result = fl.follow_case(db, court, number, parent_id=parent_id, found_by=how,
                            acms_case_id=guid, pacer_case_id=None if guid else (case_id or None),
                            now=now)
    origin = origin_of_courtlistener(docket)
    if origin:
        record_origin(db, adb.docket_key(court, number), origin, "courtlistener")
    return result
