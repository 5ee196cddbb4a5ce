"""The federal courts by id: every district, bankruptcy and appellate court,
named in words.

Ids are PACER's and CourtListener's (``cand``, ``canb``, ``ca9``): a
district's id is its state's two letters, its district (``n``, ``e``, ``c``,
``m``, ``s``, ``w``; none for a state with one district) and ``d``; its
bankruptcy court's ends in ``b`` instead. Names are the courts' own
("U.S. District Court for the Northern District of California"), short names
the Bluebook's ("N.D. Cal.", "Bankr. N.D. Cal.", "9th Cir.").

    court("cand") -> {"id": "cand", "name": ..., "short_name": "N.D. Cal.",
                      "kind": "district", "state": "California", "circuit": "9"}

An id not in the table is still a court: named by its id in capitals, its
kind guessed from its form (``court``).
"""
from __future__ import annotations

import re
from typing import Optional

# state, Bluebook abbreviation, its districts (one letter each; "" for a
# state with one district), circuit. An abbreviation of initials only
# ("N.Y.") joins the district without a space ("S.D.N.Y.", "D.N.J.").
STATES = [
    ("al", "Alabama", "Ala.", "mns", "11"),
    ("ak", "Alaska", "Alaska", "", "9"),
    ("az", "Arizona", "Ariz.", "", "9"),
    ("ar", "Arkansas", "Ark.", "ew", "8"),
    ("ca", "California", "Cal.", "cens", "9"),
    ("co", "Colorado", "Colo.", "", "10"),
    ("ct", "Connecticut", "Conn.", "", "2"),
    ("de", "Delaware", "Del.", "", "3"),
    ("dc", "District of Columbia", "D.C.", "", "dc"),
    ("fl", "Florida", "Fla.", "mns", "11"),
    ("ga", "Georgia", "Ga.", "mns", "11"),
    ("hi", "Hawaii", "Haw.", "", "9"),
    ("id", "Idaho", "Idaho", "", "9"),
    ("il", "Illinois", "Ill.", "cns", "7"),
    ("in", "Indiana", "Ind.", "ns", "7"),
    ("ia", "Iowa", "Iowa", "ns", "8"),
    ("ks", "Kansas", "Kan.", "", "10"),
    ("ky", "Kentucky", "Ky.", "ew", "6"),
    ("la", "Louisiana", "La.", "emw", "5"),
    ("me", "Maine", "Me.", "", "1"),
    ("md", "Maryland", "Md.", "", "4"),
    ("ma", "Massachusetts", "Mass.", "", "1"),
    ("mi", "Michigan", "Mich.", "ew", "6"),
    ("mn", "Minnesota", "Minn.", "", "8"),
    ("ms", "Mississippi", "Miss.", "ns", "5"),
    ("mo", "Missouri", "Mo.", "ew", "8"),
    ("mt", "Montana", "Mont.", "", "9"),
    ("ne", "Nebraska", "Neb.", "", "8"),
    ("nv", "Nevada", "Nev.", "", "9"),
    ("nh", "New Hampshire", "N.H.", "", "1"),
    ("nj", "New Jersey", "N.J.", "", "3"),
    ("nm", "New Mexico", "N.M.", "", "10"),
    ("ny", "New York", "N.Y.", "ensw", "2"),
    ("nc", "North Carolina", "N.C.", "emw", "4"),
    ("nd", "North Dakota", "N.D.", "", "8"),
    ("oh", "Ohio", "Ohio", "ns", "6"),
    ("ok", "Oklahoma", "Okla.", "enw", "10"),
    ("or", "Oregon", "Or.", "", "9"),
    ("pa", "Pennsylvania", "Pa.", "emw", "3"),
    ("pr", "Puerto Rico", "P.R.", "", "1"),
    ("ri", "Rhode Island", "R.I.", "", "1"),
    ("sc", "South Carolina", "S.C.", "", "4"),
    ("sd", "South Dakota", "S.D.", "", "8"),
    ("tn", "Tennessee", "Tenn.", "emw", "6"),
    ("tx", "Texas", "Tex.", "ensw", "5"),
    ("ut", "Utah", "Utah", "", "10"),
    ("vt", "Vermont", "Vt.", "", "2"),
    ("va", "Virginia", "Va.", "ew", "4"),
    ("wa", "Washington", "Wash.", "ew", "9"),
    ("wv", "West Virginia", "W. Va.", "ns", "4"),
    ("wi", "Wisconsin", "Wis.", "ew", "7"),
    ("wy", "Wyoming", "Wyo.", "", "10"),
]

# the territorial courts: their own names, one court for district and bankruptcy matters
TERRITORIES = [
    ("gu", "Guam", "District Court of Guam", "D. Guam", "9"),
    ("nmi", "the Northern Mariana Islands", "District Court for the Northern Mariana Islands",
     "D. N. Mar. I.", "9"),
    ("vi", "the Virgin Islands", "District Court of the Virgin Islands", "D.V.I.", "3"),
]

DISTRICT_WORDS = {"c": "Central", "e": "Eastern", "m": "Middle", "n": "Northern",
                  "s": "Southern", "w": "Western"}

ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
            "Ninth", "Tenth", "Eleventh"]
SHORT_ORDINALS = ["1st", "2d", "3d", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "11th"]

KINDS = ("district", "bankruptcy", "appellate", "other")
KIND_NAMES = {"district": "District courts", "bankruptcy": "Bankruptcy courts",
              "appellate": "Courts of appeals", "other": "Other federal courts"}


def _joined(abbr: str) -> bool:
    return bool(re.fullmatch(r"(?:[A-Z]\.)+", abbr))


def _table() -> dict[str, dict]:
    courts: dict[str, dict] = {}

    def add(court_id, name, short, kind, state=None, circuit=None):
        courts[court_id] = {"id": court_id, "name": name, "short_name": short, "kind": kind,
                            "state": state, "circuit": circuit}

    for code, state, abbr, districts, circuit in STATES:
        sep = "" if _joined(abbr) else " "
        for letter in districts or [""]:
            if letter:
                where = f"the {DISTRICT_WORDS[letter]} District of {state}"
                short = f"{letter.upper()}.D.{sep}{abbr}"
            else:
                where = "the District of Columbia" if code == "dc" else f"the District of {state}"
                short = "D.D.C." if code == "dc" else f"D.{sep}{abbr}"
            add(f"{code}{letter}d", f"U.S. District Court for {where}", short, "district",
                state, circuit)
            add(f"{code}{letter}b", f"U.S. Bankruptcy Court for {where}", f"Bankr. {short}",
                "bankruptcy", state, circuit)
    for code, state, name, short, circuit in TERRITORIES:
        add(f"{code}d", name, short, "district", state.removeprefix("the "), circuit)
        add(f"{code}b", name + " (Bankruptcy Division)", f"Bankr. {short}", "bankruptcy",
            state.removeprefix("the "), circuit)
    # Arkansas's two districts share one bankruptcy court (PACER's arb)
    add("arb", "U.S. Bankruptcy Court for the Eastern and Western Districts of Arkansas",
        "Bankr. E.D. & W.D. Ark.", "bankruptcy", "Arkansas", "8")
    # CourtListener's id for Nebraska's bankruptcy court (PACER's is neb)
    courts["nebraskab"] = dict(courts["neb"], id="nebraskab")
    for n in range(1, 12):
        add(f"ca{n}", f"U.S. Court of Appeals for the {ORDINALS[n - 1]} Circuit",
            f"{SHORT_ORDINALS[n - 1]} Cir.", "appellate", None, str(n))
    add("cadc", "U.S. Court of Appeals for the D.C. Circuit", "D.C. Cir.", "appellate", None, "dc")
    add("cafc", "U.S. Court of Appeals for the Federal Circuit", "Fed. Cir.", "appellate", None,
        "fed")
    for n in (1, 2, 6, 8, 9, 10):
        add(f"bap{n}", f"Bankruptcy Appellate Panel of the {ORDINALS[n - 1]} Circuit",
            f"B.A.P. {SHORT_ORDINALS[n - 1]} Cir.", "appellate", None, str(n))
    add("jpml", "Judicial Panel on Multidistrict Litigation", "J.P.M.L.", "other")
    add("cit", "U.S. Court of International Trade", "Ct. Int'l Trade", "other", None, "fed")
    add("uscfc", "U.S. Court of Federal Claims", "Fed. Cl.", "other", None, "fed")
    courts["cofc"] = dict(courts["uscfc"], id="cofc")  # PACER's id
    add("cavc", "U.S. Court of Appeals for Veterans Claims", "Vet. App.", "other", None, "fed")
    return courts


COURTS: dict[str, dict] = _table()


def guess_kind(court_id: str) -> str:
    """district, bankruptcy, appellate or other, from an id's form."""
    court_id = (court_id or "").lower()
    if re.fullmatch(r"ca\d{1,2}|cadc|cafc|bap\d{1,2}", court_id):
        return "appellate"
    if re.fullmatch(r"[a-z]{2,4}b", court_id):
        return "bankruptcy"
    if re.fullmatch(r"[a-z]{2,4}d", court_id):
        return "district"
    return "other"


def court(court_id: Optional[str]) -> dict:
    """The court of ``court_id``: id, name, short_name, kind, state, circuit."""
    court_id = (court_id or "").strip().lower()
    known = COURTS.get(court_id)
    if known:
        return dict(known)
    shown = court_id.upper() or "Unknown court"
    return {"id": court_id, "name": shown, "short_name": shown, "kind": guess_kind(court_id),
            "state": None, "circuit": None}


def name(court_id: Optional[str]) -> str:
    return court(court_id)["name"]


def short_name(court_id: Optional[str]) -> str:
    return court(court_id)["short_name"]
