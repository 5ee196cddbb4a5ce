"""What CM/ECF bankruptcy courts' docket reports have of their own.

A bankruptcy docket report is a district-style docket report with its own
header ("Bankruptcy Petition #" or "Adversary Proceeding #"), case facts
(chapter, dates converted and discharged, the lead case of an adversary
proceeding, a table of natures of suit), its own party labels (an
adversary proceeding's over rules of dashes) and its own way of naming the
case (after the debtor, or the lead case). :func:`parsers.district.parse_report`
reads every docket report and calls the helpers here for the parts that
are bankruptcy's own; :mod:`parsers.bankruptcy` is the ``bankruptcy`` kind.
"""
from __future__ import annotations

import re

from .common import UNKNOWN_CASE_TITLE, clean, harmonize_case_name, normalize_party_type, text_content

ADVERSARY_SUFFIX = " - Adversary Proceeding"

# ------------------------------------------------------------------ parties

_DASH_RUN = re.compile(r"-{3,}")
_US = re.compile(r"\b(?:United\s+States|U\.\s*S\.|US)(?![\w.])", re.I)
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"}


def party_type(text, printed: bool = False) -> str:
    """A bankruptcy party label.

    ``printed``: a label printed over a rule of dashes (adversary
    proceedings, ``"Counter-Defendant<br>-----------"``) is kept as the
    court printed it, less the dashes: ``"Counter-Defendant"``, ``"3rd Pty
    Defendant"``. Other labels (``<i><b>Debtor</b></i>``) are normalized as
    district ones are (:func:`parsers.common.normalize_party_type`:
    numbers dropped, "3rd Party" -> "Third Party" ...) with the U.S. Trustee
    spelled one way: ``"US Trustee"``, ``"U. S. Trustee"``, ``"United States
    Trustee"`` -> ``"U.S. Trustee"``; ``"JointAdmin Debtor"`` -> ``"Jointly
    Administered Debtor"``.
    """
    t = clean(_DASH_RUN.split(clean(text))[0]).rstrip(":").strip()
    if not t:
        return ""
    if printed:
        return t
    t = normalize_party_type(t)
    t = _US.sub("U.S.", t)
    words = t.split(" ")
    return " ".join(w.lower() if i and w.lower() in _SMALL_WORDS else w for i, w in enumerate(words))


_DEBTOR_TYPES = {"debtor", "debtor in possession", "debtor-in-possession"}


def is_debtor(party_type_text: str) -> bool:
    return clean(party_type_text).casefold() in _DEBTOR_TYPES


def trustee_name(parties) -> str:
    """The case trustee: the first party labelled "Trustee", else the first
    whose label ends in "Trustee" (successor, interim, liquidating ...) and
    is not the U.S. Trustee's office. ``""`` when there is none."""
    for party in parties:
        if clean(party.get("type")).casefold() == "trustee":
            return party.get("name") or ""
    for party in parties:
        label = clean(party.get("type")).casefold()
        if label.endswith("trustee") and "u.s." not in label:
            return party.get("name") or ""
    return ""


# ------------------------------------------------------------------ case facts

_LEAD_TITLE = re.compile(r"^Lead\s+BK\s+Title\s*:?\s*(.*)", re.I)
_CHAPTER = re.compile(r"^(?:Lead\s+BK\s+)?Chapter\s*:?\s*(\d{1,2})\b", re.I)


def case_name(parties, lines, adversary: bool) -> str:
    """How CourtListener titles a bankruptcy case.

    The debtor's name as printed (first party labelled Debtor or Debtor In
    Possession). Without one (an adversary proceeding lists its plaintiffs
    and defendants, a sub-docket may list nobody), the lead case's title
    ("Lead BK Title: ...") or "Unknown Case Title", and for an adversary
    proceeding that title followed by " - Adversary Proceeding". The lines
    "Lead BK Case: NN-NNNNN" and "Show Associated Cases" are never a name.
    """
    for party in parties:
        if is_debtor(party.get("type", "")) and clean(party.get("name")):
            return clean(party["name"])
    title = ""
    for line in lines:
        m = _LEAD_TITLE.match(line)
        if m:
            title = harmonize_case_name(m.group(1))
            break
    title = title or UNKNOWN_CASE_TITLE
    return title + ADVERSARY_SUFFIX if adversary else title


def chapter(lines):
    """The chapter the case is under (``7``, ``11``, ``13`` ...) as an int:
    the "Chapter N" line of a petition, or "Lead BK Chapter: N" of an
    adversary proceeding. "Previous chapter N" is not it. None when absent."""
    for line in lines:
        m = _CHAPTER.match(line)
        if m:
            return int(m.group(1))
    return None


_NOS_LABEL = re.compile(r"^Nature(?:\s*\[s\]|s)?\s+of\s+Suit\s*:?\s*", re.I)


def nature_of_suit_table(table) -> str | None:
    """The natures of suit of an adversary proceeding from their table::

        Nature[s] of Suit:  91  Declaratory judgment
                            11  Recovery of money/property - 542 turnover

    -> ``"91 Declaratory judgment; 11 Recovery of money/property - 542
    turnover"``. None when ``table`` is not that table."""
    rows = []
    for child in table:  # its own rows, not those of tables inside it
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("tbody", "thead", "tfoot"):
            rows.extend(r for r in child if r.tag == "tr")
    if not rows:
        return None
    first = clean(text_content(rows[0]))
    if not _NOS_LABEL.match(first):
        return None
    items = []
    for row in rows:
        words = []
        for cell in row:
            if cell.tag not in ("td", "th"):
                continue
            txt = _NOS_LABEL.sub("", clean(text_content(cell)))
            if txt:
                words.append(txt)
        if words:
            items.append(" ".join(words))
    return "; ".join(items)


# ------------------------------------------------------------------ docket numbers

_DN = re.compile(
    r"(?<![\w:])(?:(\d{1,2})-)?(\d{2})-(\d{3,6})(?:-(\d{1,2})(?![\d]))?"
    r"(?:-([A-Za-z]{1,6})\d{0,2})?(?:-\d{1,2})?(?![A-Za-z0-9])")


def docket_number_parts(text):
    """Parts of a bankruptcy-style docket number: ``"09-80591-JAC7"`` ->
    judge ``JAC`` (the trailing chapter digits dropped); ``"07-02023-8-RDD"``
    -> office ``8``, judge ``RDD``; ``"17-90266-BHL-13"`` -> judge ``BHL``.
    Returns ``{"office", "judges"}`` or None when there is no such number.
    (District-style numbers, ``2:09-bk-05481-JMM``, are
    :func:`parsers.common.docket_number_parts`' business.)"""
    if not text:
        return None
    m = _DN.search(clean(text))
    if not m:
        return None
    _lead, _year, _number, office, judge = m.groups()
    return {"office": office, "judges": [judge] if judge else []}
