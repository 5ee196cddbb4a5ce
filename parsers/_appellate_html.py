"""Small helpers shared by the appellate parsers (CM/ECF appellate, ACMS).

Everything here works on plain lxml ``etree`` elements (no lxml.html
element classes: they are slower) and never raises on odd input: helpers
return ``None`` or ``""`` when a value is absent or malformed.
"""
from __future__ import annotations

import datetime
import re

from lxml import etree

from . import ParseError

_HTML_PARSER = etree.HTMLParser(encoding="utf-8", remove_blank_text=False,
                                no_network=True, recover=True)
_WS_COMMA = re.compile(r"\s+,")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?!\d)")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ENTERED = re.compile(
    r"\[Entered:\s*(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?")
_JUDGE_TITLE = re.compile(
    r"\b(judge|justice|magistrate|chief|senior|presiding|district|bankruptcy|"
    r"circuit|court|clerk|commissioner|referee|hon\.?|honorable)\b", re.I)
_VERSUS = re.compile(r"\s+(?:v\.?|vs\.?|versus)\s+", re.I)
_ET_AL = re.compile(r"[\s,]*\bet\.?\s+al\b\.?\s*$", re.I)
_USA = re.compile(
    r"^(?:the\s+)?(?:u\.?\s?s\.?\s?a\.?|united\s+states(?:\s+of\s+america)?|"
    r"u\.\s?s\.)$", re.I)


def parse_html(text: str, what: str):
    """Parse ``text`` as HTML and return the root element, or raise ParseError."""
    if not isinstance(text, str):
        raise ParseError(f"not a {what}: expected text, got {type(text).__name__}")
    if not text.strip():
        raise ParseError(f"not a {what}: the page is empty")
    try:
        data = text.encode("utf-8", errors="replace").replace(b"\x00", b"")
        root = etree.fromstring(data, _HTML_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"not a {what}: the page is not readable HTML ({exc})") from None
    if root is None:
        raise ParseError(f"not a {what}: the page is not readable HTML")
    return root


def fold(text) -> str:
    """Whitespace folded to single spaces (also non-breaking spaces), stripped."""
    if not text:
        return ""
    return " ".join(text.split())


def clean(text) -> str:
    """Folded whitespace, and no space before a comma (PACER's habit)."""
    text = fold(text)
    if " ," in text:
        text = _WS_COMMA.sub(",", text)
    return text


def text_of(el) -> str:
    """All the text inside ``el`` (not its tail), comments left out."""
    if el is None:
        return ""
    return "".join(el.itertext())


def is_element(el) -> bool:
    return isinstance(el.tag, str)


def iso_date(text) -> str | None:
    """First MM/DD/YYYY (or MM/DD/YY) date in ``text`` as YYYY-MM-DD, else None."""
    if not text:
        return None
    m = _DATE.search(text)
    if not m:
        m2 = _ISO_DATE.search(text)
        if not m2:
            return None
        year, month, day = int(m2.group(1)), int(m2.group(2)), int(m2.group(3))
    else:
        month, day, year = int(m.group(1)), int(m.group(2)), m.group(3)
        year = int(year)
        if year < 100:
            year += 2000 if year < 70 else 1900
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def entered(text, with_time: bool = False) -> str | None:
    """The ``[Entered: MM/DD/YYYY hh:mm AM]`` stamp of a docket text, in ISO form."""
    if not text or "Entered" not in text:
        return None
    m = _ENTERED.search(text)
    if not m:
        return None
    try:
        day = datetime.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None
    if not with_time:
        return day.isoformat()
    if m.group(4) is None:
        return day.isoformat() + "T00:00:00"
    hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)
    ampm = (m.group(7) or "").upper()
    if ampm == "PM" and hour < 12:
        hour += 12
    elif ampm == "AM" and hour == 12:
        hour = 0
    try:
        return datetime.datetime.combine(
            day, datetime.time(hour, minute, second)).isoformat()
    except ValueError:
        return day.isoformat() + "T00:00:00"


def br_lines(el) -> list:
    """Split the content of ``el`` at ``<br>`` into lines.

    Returns a list of ``[text, label]`` pairs: the line's raw text, and the
    text of the first ``<b>``/``<strong>`` in the line (a field label such as
    ``Terminated:``) or None.
    """
    lines = [[[], None]]
    _walk_lines(el, lines, 0)
    return [["".join(parts), label] for parts, label in lines]


def _walk_lines(el, lines, depth):
    if el.text and is_element(el):
        lines[-1][0].append(el.text)
    if depth > 200:
        return
    for child in el:
        tag = child.tag
        if tag == "br":
            lines.append([[], None])
        elif isinstance(tag, str):
            if (tag == "b" or tag == "strong") and lines[-1][1] is None:
                lines[-1][1] = text_of(child)
            _walk_lines(child, lines, depth + 1)
        if child.tail:
            lines[-1][0].append(child.tail)


def label_value(b) -> str:
    """The text after a ``<b>Label:</b>`` up to the next ``<br>`` or ``<b>``."""
    parts = [b.tail or ""]
    for sib in b.itersiblings():
        tag = sib.tag
        if tag == "br" or tag == "b" or tag == "strong":
            break
        if isinstance(tag, str):
            parts.append(text_of(sib))
        if sib.tail:
            parts.append(sib.tail)
    return clean("".join(parts))


def norm_label(text) -> str:
    return fold(text).rstrip(":").strip()


def harmonize(name: str) -> str:
    """Tidy a case name: one ``v.``, no ``et al``, "United States" for the USA."""
    name = clean(name)
    if not name:
        return ""
    sides = _VERSUS.split(name)
    out = []
    for side in sides:
        side = _ET_AL.sub("", side).strip(" ,")
        if _USA.match(side):
            side = "United States"
        out.append(side)
    return " v. ".join(s for s in out if s) or name


def judge_name(text) -> str:
    """``F. Dennis Saylor, IV, U.S. District Judge`` -> ``F. Dennis Saylor IV``."""
    text = clean(text)
    if not text:
        return ""
    parts = [p.strip() for p in text.split(",")]
    kept = [p for p in parts[1:] if p and not _JUDGE_TITLE.search(p)]
    return " ".join([parts[0], *kept]).strip()


def court_id_from_url(url) -> str:
    """``https://ecf.hid.uscourts.gov/...`` -> ``hid``."""
    if not url:
        return ""
    m = re.search(r"//(?:[a-z0-9-]+\.)?([a-z0-9]+)\.uscourts\.gov", url, re.I)
    return m.group(1).lower() if m else ""


def doc_id_from_url(url, zero_fourth: bool = False) -> str | None:
    """The document id at the end of a ``/docs1/<id>`` link, or None."""
    if not url:
        return None
    tail = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit() or not tail.isascii():
        return None
    if zero_fourth and len(tail) > 4:
        tail = tail[:3] + "0" + tail[4:]
    return tail


def ancestor(el, tag):
    """Nearest ancestor of ``el`` with ``tag``, or None."""
    for anc in el.iterancestors(tag):
        return anc
    return None


def json_str(value):
    """A JSON scalar as text (numbers too); None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None
