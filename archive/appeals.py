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
``parsers.links``'s (issue 17's case links) when it is there; until it lands
this module's own small versions stand in, with the same signatures and
results. Merging: delete the fallbacks, keep the import.

``docket_origins`` (an appeal's originating case as its record states it) is
``archive.origins``'s table when that lands; :func:`record_origin` writes the
same table and columns meanwhile.
"""
from __future__ import annotations

import re
from typing import Optional

from parsers.common import docket_number_key

from . import db as adb

try:  # issue 17's pure functions (parsers/links.py), when merged
    from parsers.links import (  # type: ignore
        appeals_in_entry, circuit_of, origin_of_courtlistener, origin_of_record, same_number,
    )
except ImportError:  # until then: the same interface, smaller
    _CIRCUIT_STATES = {
        "ca1": "me ma nh ri pr", "ca2": "ct ny vt", "ca3": "de nj pa vi",
        "ca4": "md nc sc va wv", "ca5": "la ms tx", "ca6": "ky mi oh tn", "ca7": "il in wi",
        "ca8": "ar ia mn mo ne nd sd", "ca9": "ak az ca hi id mt nv or wa gu nmi",
        "ca10": "co ks nm ok ut wy", "ca11": "al fl ga", "cadc": "dc",
    }
    _STATE_CIRCUIT = {s: c for c, states in _CIRCUIT_STATES.items() for s in states.split()}
    _ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
                "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11}

    def circuit_of(court_id: Optional[str]) -> Optional[str]:
        court = (court_id or "").lower()
        if len(court) < 3 or court[-1] not in "db" or re.match(r"^ca\d|^cadc|^cafc", court):
            return None
        body = court[:-1]
        state = body if body in _STATE_CIRCUIT else (
            body[:-1] if body[:-1] in _STATE_CIRCUIT and body[-1] in "nsewmc" else None)
        return _STATE_CIRCUIT.get(state or "")

    def _circuit_named(text: str) -> Optional[str]:
        low = text.casefold()
        if re.search(r"d\.\s?c\.\s*cir", low):
            return "cadc"
        if re.search(r"\bfed(?:eral|\.)\s*cir", low):
            return "cafc"
        m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)\s*(?:cir\b|circuit)", low) or \
            re.search(r"\bca\s?(\d{1,2})\b", low)
        if m:
            return f"ca{int(m.group(1))}"
        m = re.search(r"\b(" + "|".join(_ORDINAL) + r")\s+circuit", low)
        return f"ca{_ORDINAL[m.group(1)]}" if m else None

    _NUMBER = re.compile(r"(?<![\w:/.-])(\d{2}-\d{3,6})(?:-[A-Z]{1,3})?(?![\w/-])")
    _CONTEXT = re.compile(r"\bUSCA\b|court\s+of\s+appeals?|\bcircuit\b|\bcir\.|appeal\s+(?:no|number)",
                          re.I)
    _NOTICE = re.compile(r"^\W{0,3}(?:(?:amended|joint|first|second)\s+)*notice\s+of\s+"
                         r"(?:(?:cross|interlocutory)[\s-]+)?appeal\b", re.I)

    def appeals_in_entry(text: Optional[str], court_id: Optional[str] = None) -> list[dict]:
        if not text:
            return []
        text = " ".join(str(text).split())
        named = _circuit_named(text)
        default = None if (court_id or "").endswith("b") else circuit_of(court_id)
        found = []
        if _NOTICE.search(text) and (named or default):
            found.append({"kind": "notice of appeal", "court_id": named or default})
        ref = re.search(r"\b(?:for|re:?|as\s+to)\s+(\d{1,5})\s+notice\s+of\s+appeal", text, re.I)
        seen = set()
        for m in _NUMBER.finditer(text):
            around = text[max(0, m.start() - 70):m.end() + 40]
            if not _CONTEXT.search(around) or m.group(1) in seen:
                continue
            seen.add(m.group(1))
            court = _circuit_named(around) or named or default
            if court:
                found.append({"kind": "appeal number", "court_id": court,
                              "docket_number": docket_number_key(m.group(1)),
                              "notice_entry_number": int(ref.group(1)) if ref else None})
        return found

    def same_number(a: Optional[str], b: Optional[str]) -> bool:
        def key(number):
            parts = docket_number_key(str(number or "")).casefold().split("-")
            return "-".join(p.lstrip("0") or "0" if p.isdigit() else p for p in parts)
        ka, kb = key(a), key(b)
        if not ka or not kb:
            return False
        return ka == kb or (ka.split(":", 1)[-1] == kb.split(":", 1)[-1]
                            and (":" not in ka or ":" not in kb))

    def origin_of_record(record: dict) -> Optional[dict]:
        info = record.get("originating_court_information") if isinstance(record, dict) else None
        number = info.get("docket_number") if isinstance(info, dict) else None
        if not number or not re.search(r"\d", str(number)):
            return None
        return {"court_id": info.get("court_id"), "docket_number": str(number).strip(),
                "date_filed_noa": info.get("date_filed_noa"),
                "date_received_coa": info.get("date_received_coa")}

    def origin_of_courtlistener(docket: dict) -> Optional[dict]:
        info = docket.get("original_court_info") if isinstance(docket, dict) else None
        if not isinstance(info, dict):
            return None
        number = info.get("docket_number") or info.get("docket_number_raw")
        if not number or not re.search(r"\d", str(number)):
            return None
        court = docket.get("appeal_from")
        if isinstance(court, str) and "/" in court:
            court = court.rstrip("/").rsplit("/", 1)[-1]
        return {"court_id": court if isinstance(court, str) else None,
                "docket_number": str(number).strip(),
                "date_filed_noa": info.get("date_filed_noa"),
                "date_received_coa": info.get("date_received_coa")}


ORIGINS = "docket_origins"
_ORIGIN_COLUMNS = {"docket_id": str, "court_id": str, "docket_number": str,
                   "date_filed_noa": str, "date_received_coa": str, "source": str}


def record_origin(db, docket_id: str, origin: Optional[dict], source: Optional[str]) -> None:
    """Keep an appeal's originating case as its record states it (``docket_origins``,
    ``archive.origins``'s table; made here when that module is not there)."""
    if not origin or not origin.get("docket_number"):
        return
    if not db[ORIGINS].exists():
        db[ORIGINS].create(_ORIGIN_COLUMNS, pk="docket_id", not_null={"docket_id"})
    db[ORIGINS].upsert({"docket_id": docket_id, "court_id": origin.get("court_id"),
                        "docket_number": origin["docket_number"],
                        "date_filed_noa": origin.get("date_filed_noa"),
                        "date_received_coa": origin.get("date_received_coa"),
                        "source": source}, pk="docket_id")


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
    from . import follow as fl

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
    from . import follow as fl

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
