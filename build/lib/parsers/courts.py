"""Which court a saved page is of, when the caller does not say.

PACER's pages name their court in several places: the ``ecf.<court>.uscourts.gov``
links (``common.court_from_links``, read by the district parser), the title
(``CM/ECF - nvd - District Version 6.1``, ``CAND-ECF``, ``U.S. Bankruptcy
Court:caeb``) and the heading (``U.S. District Court - Northern District of
California``, ``U.S. District Court California Northern District``, ``United
States Court of Appeals for the Ninth Circuit``, ``Bankruptcy Appellate
Panel for the Ninth Circuit``). And people keep them under names that begin
with the court id (``cand_3.html``, ``ca9_22-21.acms_json``), as RECAP and
the corpus do.

``court_from_page`` reads the title and heading, ``court_from_file_name``
the name; both answer only with a court id that exists (``COURTS``), or None.
"""
from __future__ import annotations

import html
import os
import re

# State and territory -> the two or three letters that begin its courts' ids
STATES = {
    "Alabama": "al", "Alaska": "ak", "Arizona": "az", "Arkansas": "ar", "California": "ca",
    "Colorado": "co", "Connecticut": "ct", "Delaware": "de", "District of Columbia": "dc",
    "Florida": "fl", "Georgia": "ga", "Guam": "gu", "Hawaii": "hi", "Idaho": "id",
    "Illinois": "il", "Indiana": "in", "Iowa": "ia", "Kansas": "ks", "Kentucky": "ky",
    "Louisiana": "la", "Maine": "me", "Maryland": "md", "Massachusetts": "ma", "Michigan": "mi",
    "Minnesota": "mn", "Mississippi": "ms", "Missouri": "mo", "Montana": "mt", "Nebraska": "ne",
    "Nevada": "nv", "New Hampshire": "nh", "New Jersey": "nj", "New Mexico": "nm",
    "New York": "ny", "North Carolina": "nc", "North Dakota": "nd",
    "Northern Mariana Islands": "nmi", "Ohio": "oh", "Oklahoma": "ok", "Oregon": "or",
    "Pennsylvania": "pa", "Puerto Rico": "pr", "Rhode Island": "ri", "South Carolina": "sc",
    "South Dakota": "sd", "Tennessee": "tn", "Texas": "tx", "Utah": "ut", "Vermont": "vt",
    "Virgin Islands": "vi", "Virginia": "va", "Washington": "wa", "West Virginia": "wv",
    "Wisconsin": "wi", "Wyoming": "wy",
}
DIRECTIONS = {"Northern": "n", "Southern": "s", "Eastern": "e", "Western": "w", "Middle": "m",
              "Central": "c"}
# the districts of each state with more than one (the others have one: <state>d, <state>b)
DISTRICTS = {
    "al": "nms", "ar": "ew", "ca": "necs", "fl": "nms", "ga": "nms", "il": "ncs", "in": "ns",
    "ia": "ns", "ky": "ew", "la": "emw", "mi": "ew", "ms": "ns", "mo": "ew", "ny": "nesw",
    "nc": "emw", "oh": "ns", "ok": "new", "pa": "emw", "tn": "emw", "tx": "nesw", "va": "ew",
    "wa": "ew", "wv": "ns", "wi": "ew",
}
ORDINALS = {"First": "1", "Second": "2", "Third": "3", "Fourth": "4", "Fifth": "5",
            "Sixth": "6", "Seventh": "7", "Eighth": "8", "Ninth": "9", "Tenth": "10",
            "Eleventh": "11"}


def _all_courts() -> frozenset:
    ids = set()
    for state in STATES.values():
        for kind in "db":
            if state in DISTRICTS:
                ids.update(f"{state}{d}{kind}" for d in DISTRICTS[state])
            else:
                ids.add(f"{state}{kind}")
    ids.update(f"ca{n}" for n in range(1, 12))
    ids.update({"cadc", "cafc", "cit", "cofc", "uscfc", "jpml"})
    ids.update(f"bap{n}" for n in (1, 2, 6, 8, 9, 10))
    return frozenset(ids)


# Every federal court id PACER and CourtListener use (district, bankruptcy,
# courts of appeals, bankruptcy appellate panels, national courts)
COURTS = _all_courts()

_STATE = "|".join(sorted(map(re.escape, STATES), key=len, reverse=True))
_DIRECTION = "|".join(DIRECTIONS)
_COURT = r"(?:U\.\s?S\.|United\s+States)\s+(District|Bankruptcy)\s+Court"
# "U.S. District Court - Northern District of California", "United States
# District Court District of Nevada", "U.S. Bankruptcy Court for the District of Delaware"
_OF_STATE = re.compile(_COURT + r"[\s,:\-\u2013]*(?:for\s+the\s+)?(?:(" + _DIRECTION
                       + r")\s+)?District\s+of\s+(?:the\s+)?(" + _STATE + r")\b")
# "U.S. District Court California Northern District (San Francisco)"
_STATE_FIRST = re.compile(_COURT + r"[\s,:\-\u2013]*(" + _STATE + r")(?:\s+(" + _DIRECTION
                          + r"))?\s+District\b")
_APPEALS = re.compile(r"Court\s+of\s+Appeals\s+for\s+(?:the\s+)?(?:(" + "|".join(ORDINALS)
                      + r")|(District\s+of\s+Columbia)|(Federal))\s+Circuit")
_PANEL = re.compile(r"Bankruptcy\s+Appellate\s+Panel\s+(?:for|of)\s+the\s+("
                    + "|".join(ORDINALS) + r")\s+Circuit")
# the court id in a CM/ECF title: "CM/ECF - nvd - District Version", "CAND-ECF",
# "U.S. Bankruptcy Court:caeb"
_TITLE_ID = re.compile(r"CM/ECF\s*-\s*([a-z0-9]{3,6})\s*-|\b([A-Z]{3,5})-ECF\b"
                       r"|Court\s*:\s*([a-z]{3,5})\b")
HEAD = 20_000  # the title and heading are near the top of the page


def _text(page: str) -> str:
    top = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", page[:HEAD * 3])
    top = html.unescape(re.sub(r"<[^>]+>", " ", top))
    return re.sub(r"\s+", " ", top)[:HEAD]


def _district(kind: str, direction: str | None, state: str) -> str | None:
    prefix = STATES[state]
    court = f"{prefix}{DIRECTIONS[direction] if direction else ''}{'b' if kind == 'Bankruptcy' else 'd'}"
    return court if court in COURTS else None


def court_from_page(page: str, appellate: bool | None = None) -> str | None:
    """The court a CM/ECF page's title or heading names, or None. ``appellate``:
    read only a court of appeals' heading (True), only a district or bankruptcy
    court's (False), or whichever comes first (None): an appellate docket
    names the district court a case came from, and a district docket may name
    the court of appeals."""
    text = _text(page)
    found = []  # (position, court)
    if appellate is not True:
        for m in _TITLE_ID.finditer(text):
            court = next(g for g in m.groups() if g).lower()
            if court in COURTS:
                found.append((m.start(), court))
                break
        for pattern in (_OF_STATE, _STATE_FIRST):
            for m in pattern.finditer(text):
                kind, a, b = m.groups()
                direction, state = (a, b) if pattern is _OF_STATE else (b, a)
                court = _district(kind, direction, state)
                if court:
                    found.append((m.start(), court))
                    break
    if appellate is not False:
        m = _APPEALS.search(text)
        if m:
            ordinal, dc, federal = m.groups()
            found.append((m.start(), f"ca{ORDINALS[ordinal]}" if ordinal else
                          "cadc" if dc else "cafc"))
        m = _PANEL.search(text)
        if m:
            found.append((m.start(), f"bap{ORDINALS[m.group(1)]}"))
    found = [(at, court) for at, court in found if court in COURTS]
    return min(found)[1] if found else None


def court_from_file_name(path) -> str | None:
    """The court id a saved page's file name begins with (``cand_3.html``,
    ``ca9_22-21.acms_json``, ``txnb-300577.html``, ``gov.uscourts.cand.364733.docket.xml``),
    or None when it begins with no court's id."""
    name = os.path.basename(str(path)).lower()
    m = re.match(r"gov\.uscourts\.([a-z0-9]+)\.", name)
    first = m.group(1) if m else re.split(r"[_.\-\s]", name, maxsplit=1)[0]
    return first if first in COURTS else None
