"""How a district case and its appeals are tied: pure functions, plain data in
and out (no database, no network).

The ties are the ones the records themselves state, never "the same case name":

- an appeal's *originating case*: the appellate docket report's "Originating
  Court Information" (:mod:`parsers.appellate`), ACMS's originating case number
  (:mod:`parsers.acms`), CourtListener's ``original_court_info`` and
  ``appeal_from`` (:func:`origin_of_courtlistener`): :func:`origin_of_record`;
- the district docket's own entries: the court of appeals' case number
  ("USCA Case Number 20-16908 9th Circuit Court of Appeals for 78 Notice of
  Appeal", "USCA- 11th Circuit, 22-12696-DD", "SCHEDULING LETTER from USCA -
  8th Circuit (case number 16-4166)") and its notices of appeal ("NOTICE OF
  APPEAL to the 9th Circuit Court of Appeals as to 59 Order"):
  :func:`appeals_in_entry` (which reads the header's "Case in other court:
  USCA, 5th Circuit, 10-30767" alike, though the district parser does not
  keep that line yet).

:func:`link_cases` puts them together: for the dockets of an archive, which
district case each appeal comes from and which notice of appeal started it.
The follow-cases work (issue 20) uses :func:`appeals_in_entry` to find the
appeals of a district case it follows.
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Iterable, Optional

from . import courts
from .common import docket_number_key

# --- courts ---------------------------------------------------------------

APPELLATE = re.compile(r"^(?:ca\d{1,2}|cadc|cafc|bap\d{1,2})$")

CIRCUIT_STATES = {
    "ca1": "me ma nh ri pr", "ca2": "ct ny vt", "ca3": "de nj pa vi",
    "ca4": "md nc sc va wv", "ca5": "la ms tx", "ca6": "ky mi oh tn", "ca7": "il in wi",
    "ca8": "ar ia mn mo ne nd sd", "ca9": "ak az ca hi id mt nv or wa gu nmi",
    "ca10": "co ks nm ok ut wy", "ca11": "al fl ga", "cadc": "dc",
}
_STATE_CIRCUIT = {state: circuit for circuit, states in CIRCUIT_STATES.items()
                  for state in states.split()}
_ORDINALS = {word.lower(): int(n) for word, n in courts.ORDINALS.items()}


def is_appellate(court_id: Optional[str]) -> bool:
    return bool(APPELLATE.match(court_id or ""))


def state_of(court_id: Optional[str]) -> Optional[str]:
    """The state (postal code) of a district or bankruptcy court id: cand -> ca,
    mied -> mi, nysb -> ny, mad -> ma, dcd -> dc, nmid -> nmi."""
    court = (court_id or "").lower()
    if len(court) < 3 or court[-1] not in "db" or is_appellate(court):
        return None
    body = court[:-1]
    if body in _STATE_CIRCUIT:
        return body
    if body[:-1] in _STATE_CIRCUIT and body[-1] in "nsewmc":
        return body[:-1]
    return None


def circuit_of(court_id: Optional[str]) -> Optional[str]:
    """The court of appeals a district (or bankruptcy) court's appeals go to."""
    return _STATE_CIRCUIT.get(state_of(court_id) or "")


def circuit_named(text: str) -> Optional[str]:
    """The court of appeals a text names: "9th Circuit", "Ninth Circuit",
    "USCA-8th Circuit", "U.S. Court of Appeals for the D.C. Circuit",
    "Federal Circuit", "CA9" -> ca9, cadc, cafc."""
    low = text.casefold()
    if re.search(r"\b(?:d\.\s?c\.|district of columbia)\s*cir", low):
        return "cadc"
    if re.search(r"\bfed(?:eral|\.)\s*cir", low) or re.search(r"\bcafc\b", low):
        return "cafc"
    m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)\s*(?:cir\b|circuit)", low) \
        or re.search(r"\bca\s?(\d{1,2})\b", low)
    if m and 1 <= int(m.group(1)) <= 11:
        return f"ca{int(m.group(1))}"
    m = re.search(r"\b(" + "|".join(_ORDINALS) + r")\s+circuit", low)
    if m:
        return f"ca{_ORDINALS[m.group(1)]}"
    return None


# --- courts named in words -----------------------------------------------

STATES = {
    # the names of parsers.courts, in lower case
    **{state.lower(): code for state, code in courts.STATES.items()},
    # Bluebook abbreviations (S.D.N.Y., N.D. Cal., ...)
    "ala": "al", "ariz": "az", "ark": "ar", "cal": "ca", "calif": "ca", "colo": "co",
    "conn": "ct", "del": "de", "d.c": "dc", "fla": "fl", "ga": "ga", "haw": "hi", "ill": "il",
    "ind": "in", "kan": "ks", "ky": "ky", "la": "la", "md": "md", "mass": "ma", "mich": "mi",
    "minn": "mn", "miss": "ms", "mo": "mo", "mont": "mt", "neb": "ne", "nev": "nv",
    "n.h": "nh", "n.j": "nj", "n.m": "nm", "n.y": "ny", "n.c": "nc", "n.d": "nd",
    "okla": "ok", "or": "or", "pa": "pa", "r.i": "ri", "s.c": "sc", "s.d": "sd",
    "tenn": "tn", "tex": "tx", "vt": "vt", "va": "va", "wash": "wa", "w.va": "wv",
    "wis": "wi", "wyo": "wy", "p.r": "pr",
}
DIRECTIONS = {word.lower(): letter for word, letter in courts.DIRECTIONS.items()}
_STATE_RE = re.compile(r"(?<![a-z.])(" + "|".join(
    re.escape(name) for name in sorted(STATES, key=len, reverse=True)) + r")(?![a-z])")
_DIRECTION_RE = re.compile(r"\b(" + "|".join(DIRECTIONS) + r")\b")
_ABBREV_RE = re.compile(r"(?<![a-z])([nsewmc])\s*\.\s*d\s*\.", re.I)


def courts_named(text: str | None) -> list[str]:
    """District court ids that an "Appeal From" text can name, best first:
    "U.S. District Court for Northern California, San Francisco" -> cand,
    "District of Massachusetts, Boston" -> mad, "S.D.N.Y." -> nysd."""
    if not text:
        return []
    low = " ".join(text.casefold().split())
    abbrev = _ABBREV_RE.search(low)
    rest = low[abbrev.end():] if abbrev else low
    state = _STATE_RE.search(rest) or _STATE_RE.search(low)
    if not state:
        return []
    postal = STATES[state.group(1)]
    direction = _DIRECTION_RE.search(low)
    letter = (abbrev.group(1).lower() if abbrev
              else DIRECTIONS[direction.group(1)] if direction else None)
    ids = [f"{postal}{letter}d"] if letter else []
    return ids + [f"{postal}d"]



# --- docket numbers -------------------------------------------------------

def number_key(number: Optional[str]) -> str:
    """One form for two printings of a case's number: the archive's key
    (judges' initials and suffixes gone), case type lower case, leading zeros
    of each numeric part gone ("3:20-cv-5910-LB" and "3:20-cv-05910" alike,
    "22-12696-DD" and "22-12696" alike)."""
    if not number:
        return ""
    parts = docket_number_key(str(number)).casefold().split("-")
    return "-".join(p.lstrip("0") or "0" if p.isdigit() else p for p in parts)


def same_number(a: Optional[str], b: Optional[str]) -> bool:
    """Whether two docket numbers are one case's. A number without its office
    ("20-cv-05910") matches the same number with one ("3:20-cv-05910")."""
    ka, kb = number_key(a), number_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    return ka.split(":", 1)[-1] == kb.split(":", 1)[-1] and (":" not in ka or ":" not in kb)


# --- an appeal's originating case ------------------------------------------

def origin_of_record(record: dict) -> Optional[dict]:
    """The originating case of a parsed appellate docket (parsers.appellate,
    parsers.acms: ``originating_court_information``), or None.

    Returns ``{"court_id", "docket_number", "date_filed_noa",
    "date_received_coa"}`` (court_id None when the record does not name the
    court by id, as ACMS does not). An agency's case (an alien number, no
    docket number) is no district case: None.
    """
    info = record.get("originating_court_information") if isinstance(record, dict) else None
    if not isinstance(info, dict):
        return None
    number = info.get("docket_number")
    if not number or not isinstance(number, str) or not re.search(r"\d", number):
        return None
    court = info.get("court_id") or None
    if court and not state_of(court) and not is_appellate(court):
        court = None
    if not court:  # ACMS names the court in words ("San Francisco Northern California")
        court = _named_district(info.get("name") or record.get("appeal_from"))
    return {"court_id": court, "docket_number": number.strip(),
            "date_filed_noa": _day(info.get("date_filed_noa")),
            "date_received_coa": _day(info.get("date_received_coa"))}


def origin_of_courtlistener(docket: dict) -> Optional[dict]:
    """The originating case of a CourtListener v4 ``dockets`` result: its
    ``original_court_info`` (nested: docket_number, date_filed_noa,
    date_received_coa) and ``appeal_from`` (a court's API URL or id)."""
    if not isinstance(docket, dict):
        return None
    info = docket.get("original_court_info")
    if not isinstance(info, dict):
        return None
    number = info.get("docket_number") or info.get("docket_number_raw")
    if not number or not isinstance(number, str) or not re.search(r"\d", number):
        return None
    court = docket.get("appeal_from")
    if isinstance(court, dict):
        court = court.get("id")
    if isinstance(court, str) and "/" in court:
        court = court.rstrip("/").rsplit("/", 1)[-1]
    court = court if isinstance(court, str) and (state_of(court) or is_appellate(court)) else None
    if not court:
        court = _named_district(docket.get("appeal_from_str"))
    return {"court_id": court, "docket_number": number.strip(),
            "date_filed_noa": _day(info.get("date_filed_noa")),
            "date_received_coa": _day(info.get("date_received_coa"))}


def _named_district(text) -> Optional[str]:
    """The district court a text names ("U.S. District Court for Northern
    California, San Francisco" -> cand), only when the words leave no doubt
    (a direction, or a state with one district)."""
    named = courts_named(text if isinstance(text, str) else None)
    return named[0] if len(named) == 2 or (len(named) == 1 and named[0] in _ONE_DISTRICT) \
        else None


# states (and territories) that are one district: "District of Massachusetts"
_ONE_DISTRICT = {f"{s}d" for s in courts.STATES.values() if s not in courts.DISTRICTS}


def _day(value) -> Optional[str]:
    text = str(value or "")
    return text[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", text) else None


# --- what a district docket's entries say ----------------------------------

# an appellate case number: 20-16908, 22-12696-DD, 2022-1234 (Federal Circuit)
_APPEAL_NUMBER = r"(?<![\w:/.-])((?:\d{2}|\d{4})-\d{3,6})(?:-[A-Z]{1,3})?(?![\w/-])"
# words that make a nearby number the court of appeals' own
_APPEAL_CONTEXT = re.compile(
    r"\bUSCA\b|\bCCA\b|court\s+of\s+appeals?|\bcircuit\b|\bcir\.|appell?ate\s+(?:case|court|no)"
    r"|appeals?\s+court|\bappeal\s+(?:no\.?|number|#)|\bC\.?A\.?\s*No\.", re.I)
_NUMBER_RE = re.compile(_APPEAL_NUMBER)
_NOTICE = re.compile(
    r"^\W{0,3}(?:(?:first|second|third|joint|amended|corrected|supplemental|protective)\s+)*"
    r"notice\s+of\s+(?:(?:cross|interlocutory|limited)[\s-]+)?(?:cross[\s-]+)?appeal\b", re.I)
_NOT_TO_A_CIRCUIT = re.compile(
    r"\bto\s+(?:the\s+)?(?:u\.?s\.?\s+)?district\s+(?:court|judge)|\bBAP\b|bankruptcy appellate"
    r"|\bto\s+(?:the\s+)?(?:state|supreme)\b", re.I)
# "for 78 Notice of Appeal", "re 78 Notice of Appeal", "as to 78 Notice of Appeal"
_NOTICE_REF = re.compile(
    r"\b(?:for|re:?|as\s+to|regarding|to)\s+(?:\[)?(\d{1,5})(?:\])?\s+"
    r"(?:(?:amended|joint|first|second)\s+)?notice\s+of\s+(?:(?:cross|interlocutory)[\s-]+)?appeal"
    r"|notice\s+of\s+appeal\s+to\s+USCA\s+(\d{1,5})\b", re.I)
# a number that is not the court of appeals' own: a bankruptcy appellate panel's,
# a district court's appeal number, a bankruptcy court's internal one
_OTHER_APPEAL = re.compile(r"(?:\bBAP|\bUSDC|internal|district\s+court)\W{0,4}"
                           r"(?:appeal\W{0,3})?(?:no\.?|number|#)?\W{0,3}$", re.I)


def appeals_in_entry(text: Optional[str], court_id: Optional[str] = None) -> list[dict]:
    """What a district docket entry (or the header's "Case in other court")
    says about appeals of its case, in order:

    - ``{"kind": "appeal number", "court_id": "ca9", "docket_number":
      "20-16908", "notice_entry_number": 78 or None}``: the court of appeals'
      case number (the court named in the text, else the circuit of
      ``court_id``; None when neither is known);
    - ``{"kind": "notice of appeal", "court_id": "ca9"}``: the entry is a
      notice of appeal to a court of appeals (not to the district judge, nor
      to a bankruptcy appellate panel).
    """
    if not text:
        return []
    text = " ".join(str(text).split())
    found = []
    named = circuit_named(text)
    # a bankruptcy court's appeals go to the district court or a BAP unless a
    # court of appeals is named
    default = None if (court_id or "").endswith("b") else circuit_of(court_id)
    if _NOTICE.search(text) and not _NOT_TO_A_CIRCUIT.search(text[:200]) \
            and (named or default):
        found.append({"kind": "notice of appeal", "court_id": named or default})
    notice_ref = _NOTICE_REF.search(text)
    notice_number = (int(notice_ref.group(1) or notice_ref.group(2))
                     if notice_ref else None)
    seen = set()
    for m in _NUMBER_RE.finditer(text):
        before = text[max(0, m.start() - 70):m.start()]
        after = text[m.end():m.end() + 40]
        if not (_APPEAL_CONTEXT.search(before) or _APPEAL_CONTEXT.search(after)) \
                or _OTHER_APPEAL.search(before):
            continue
        # a date or an amount is never a case number: 20-16908 is, 2020-10 is not
        number = m.group(1)
        if number in seen:
            continue
        seen.add(number)
        court = circuit_named(before + " " + after) or named or default
        if court is None:
            continue
        found.append({"kind": "appeal number", "court_id": court,
                      "docket_number": docket_number_key(number),
                      "notice_entry_number": notice_number})
    return found


# --- the links -------------------------------------------------------------

NOTICE_WINDOW_DAYS = 45  # an appeal is docketed within days of its notice


def _days(a: Optional[str], b: Optional[str]) -> int:
    """Days from ``a`` to ``b`` (ISO dates); -1 when either is not a date."""
    try:
        return (_dt.date.fromisoformat(b[:10]) - _dt.date.fromisoformat(a[:10])).days
    except (TypeError, ValueError):
        return -1


def link_cases(dockets: Iterable[dict], origins: Iterable[dict],
               entries: Iterable[dict]) -> list[dict]:
    """The ties between district cases and their appeals.

    - ``dockets``: ``{"id", "court_id", "docket_number", "date_filed"}`` of
      the archive (those of interest and any they may name);
    - ``origins``: ``{"docket_id" (the appeal), "court_id", "docket_number",
      "date_filed_noa", "date_received_coa", "source"}``;
    - ``entries``: district entries that may say something about appeals:
      ``{"id", "docket_id", "entry_number", "date_filed", "description"}``.

    Returns one link per district case and appeal, from the district's side:
    ``{"district_id", "district_court_id", "district_docket_number",
    "appeal_id" (None when the appeal is not archived), "appeal_court_id",
    "appeal_docket_number", "entry_id" (the district's notice of appeal, else
    the entry naming the appeal's number, else None), "basis" (what ties them,
    in words)}``. An appeal whose originating case is not archived is linked
    too (``district_id`` None), so its page can name it.
    """
    dockets = [dict(d) for d in dockets]
    by_id = {d["id"]: d for d in dockets}
    by_key: dict = {}
    for d in dockets:
        by_key.setdefault((d["court_id"], number_key(d["docket_number"])), d)

    def find(court, number):
        key = number_key(number)
        if court:
            found = by_key.get((court, key))
            if found is None and ":" not in key:
                found = next((d for d in dockets if d["court_id"] == court
                              and same_number(d["docket_number"], number)), None)
            return found
        return None

    links: dict = {}

    def add(district: Optional[dict], d_court, d_number, appeal: Optional[dict], a_court,
            a_number, basis: str, entry_id=None):
        key = ((district or {}).get("id") or (d_court, number_key(d_number)),
               (appeal or {}).get("id") or (a_court, number_key(a_number)))
        link = links.get(key)
        if link is None:
            link = links[key] = {
                "district_id": district["id"] if district else None,
                "district_court_id": district["court_id"] if district else d_court,
                "district_docket_number": district["docket_number"] if district
                else docket_number_key(d_number),
                "appeal_id": appeal["id"] if appeal else None,
                "appeal_court_id": appeal["court_id"] if appeal else a_court,
                "appeal_docket_number": appeal["docket_number"] if appeal
                else docket_number_key(a_number),
                "entry_id": None, "bases": [], "notice": None}
        if basis not in link["bases"]:
            link["bases"].append(basis)
        if entry_id and not link["entry_id"]:
            link["entry_id"] = entry_id
        return link

    # 1. each appeal's originating case
    for origin in origins:
        appeal = by_id.get(origin["docket_id"])
        if appeal is None:
            continue
        court = origin.get("court_id")
        if not court:  # ACMS names the court in words: the circuit's districts that have it
            candidates = [d for d in dockets if not is_appellate(d["court_id"])
                          and circuit_of(d["court_id"]) == appeal["court_id"]
                          and same_number(d["docket_number"], origin["docket_number"])]
            district = candidates[0] if len(candidates) == 1 else None
        else:
            district = find(court, origin["docket_number"])
        source = origin.get("source") or "its docket"
        link = add(district, court, origin["docket_number"], appeal, None, None,
                   f"the appeal's originating case number ({source})")
        link["noa_date"] = origin.get("date_filed_noa")
        link["received"] = origin.get("date_received_coa")

    # 2. what the district entries say
    notices: dict = {}
    for entry in entries:
        district = by_id.get(entry["docket_id"])
        if district is None:
            continue
        for said in appeals_in_entry(entry.get("description"), district["court_id"]):
            if said["kind"] == "notice of appeal":
                notices.setdefault(district["id"], []).append(dict(entry, to=said["court_id"]))
                continue
            if not said["court_id"]:
                continue
            appeal = find(said["court_id"], said["docket_number"])
            number = entry.get("entry_number")
            where = f"entry {number}" if number is not None else f"the entry of {entry.get('date_filed')}"
            link = add(district, None, None, appeal, said["court_id"], said["docket_number"],
                       f"the court of appeals' case number in the district docket ({where})",
                       entry_id=entry["id"])
            if said.get("notice_entry_number") is not None:
                link["notice_number"] = said["notice_entry_number"]

    # 3. which notice of appeal started each appeal
    claimed: set = set()
    ordered = sorted(links.values(), key=lambda l: (l.get("noa_date") or "9999",
                                                     l["appeal_docket_number"]))
    for link in ordered:
        if not link["district_id"]:
            continue
        candidates = [n for n in notices.get(link["district_id"], [])
                      if n["to"] in (None, link["appeal_court_id"])]
        chosen = None
        if link.get("notice_number") is not None:
            chosen = next((n for n in candidates if n.get("entry_number") == link["notice_number"]),
                          None)
        if chosen is None and link.get("noa_date"):
            same_day = [n for n in candidates if (n.get("date_filed") or "")[:10] == link["noa_date"]
                        and n["id"] not in claimed]
            chosen = same_day[0] if same_day else None
        if chosen is None and link["appeal_id"] and not link.get("noa_date"):
            # no date of the notice: the last one filed in the weeks before the
            # appeal was docketed (received by the court of appeals)
            docketed = link.get("received") or by_id[link["appeal_id"]].get("date_filed")
            before = [n for n in candidates if n["id"] not in claimed
                      and 0 <= _days(n.get("date_filed"), docketed) <= NOTICE_WINDOW_DAYS]
            chosen = max(before, key=lambda n: n.get("date_filed") or "") if before else None
        if chosen is not None:
            claimed.add(chosen["id"])
            link["entry_id"] = chosen["id"]
            number = chosen.get("entry_number")
            link["bases"].append(f"the notice of appeal, entry "
                                 f"{number if number is not None else chosen.get('date_filed')}")

    out = []
    for link in links.values():
        out.append({k: link[k] for k in ("district_id", "district_court_id",
                                         "district_docket_number", "appeal_id",
                                         "appeal_court_id", "appeal_docket_number", "entry_id")}
                   | {"basis": "; ".join(link["bases"])})
    return out
