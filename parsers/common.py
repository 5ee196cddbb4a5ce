"""The one toolkit of the page parsers: district, bankruptcy, appellate, ACMS,
RSS, RECAP and the small pages all use these helpers, and none keeps its own
copy of one (one ``clean``, one ``text_of``, one two-digit-year rule, one
docket-number key).

Everything here is a pure function over strings or lxml elements (plain
``etree`` elements: lxml.html's element classes are slower); nothing raises
anything but :class:`parsers.ParseError` (and only the ``*_tree`` loaders do
that): helpers return ``None`` or ``""`` when a value is absent or malformed.
The functions are a stable interface: other parser modules import them, so
change their behaviour only compatibly.

Conventions used throughout the parsers:

* dates come out as ISO 8601 strings (``YYYY-MM-DD``), datetimes as
  ``YYYY-MM-DDTHH:MM:SS`` with an offset when the source gives one;
  unknown or unparseable dates are ``None``; a two-digit year is read by
  :func:`two_digit_year`;
* text values are whitespace-folded (runs of spaces, tabs, newlines and
  non-breaking spaces become one space) unless documented otherwise;
* missing text values are ``""`` and missing numbers/ids are ``None``.
"""
from __future__ import annotations

import datetime as _dt
import re
from email.utils import parsedate_to_datetime as _parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from . import ParseError

UNKNOWN_CASE_TITLE = "Unknown Case Title"  # CourtListener's placeholder

__all__ = [
    "UNKNOWN_CASE_TITLE", "clean", "clean_lines", "to_int", "to_float", "json_str",
    "two_digit_year", "parse_date", "parse_datetime", "find_date", "entered",
    "normalize_docket_number", "docket_number_parts", "docket_number_key", "normalize_judge",
    "normalize_party_type", "harmonize_case_name", "titlecase_if_shouting",
    "pacer_doc_id_from_url", "doc_id_from_url", "go_dls_args", "court_from_links",
    "court_id_from_url", "html_tree", "cut_short", "xml_tree", "xml_page_root", "child_text",
    "element_lines", "text_content", "text_of", "is_element", "ancestor", "br_lines",
    "label_value", "norm_label", "strip_query",
]

# ---------------------------------------------------------------- text

# control characters (never meaningful in court pages) and zero-width
# spaces become spaces; str.split() then folds them with the rest
_CONTROL_RX = re.compile("[\x00-\x08\x0e-\x1b\x7f\u200b\ufeff]")


def clean(value, commas: bool = False) -> str:
    """Fold every run of whitespace (incl. NBSP, control characters) to one
    space and strip; with ``commas``, no space before a comma either (PACER
    leaves one after an empty tag: ``"Smith , Jones"`` -> ``"Smith, Jones"``).

    ``None`` becomes ``""``; non-strings are converted with ``str``.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if _CONTROL_RX.search(value):
        value = _CONTROL_RX.sub(" ", value)
    value = " ".join(value.split())
    if commas and " ," in value:
        value = value.replace(" ,", ",")
    return value


def clean_lines(lines) -> list[str]:
    """Clean each line (see :func:`clean`) and drop the empty ones."""
    out = []
    for line in lines:
        line = clean(line)
        if line:
            out.append(line)
    return out


_WHOLE_NUMBER = re.compile(r"\d[\d,]*", re.ASCII)


def to_int(value, whole: bool = False):
    """``int`` of a string like ``" 1,234 "``; ``None`` when not a number.

    The first number in the text is read (``"12 pages"`` -> 12), unless
    ``whole``: then the value must be that number and nothing else (digits,
    perhaps with thousands' commas, and spaces around), else ``None``: a
    table cell that holds a number, a field of a record.
    """
    if value is None or isinstance(value, bool):
        return None
    if whole:
        m = _WHOLE_NUMBER.fullmatch(clean(value))
    else:
        m = re.search(r"-?\d[\d,]*", str(value))
    if not m:
        return None
    try:
        return int(m.group(0).replace(",", ""))
    except ValueError:
        return None


def to_float(value):
    """``float`` of a money/number string like ``"$ 3.00"``; else ``None``."""
    if value is None:
        return None
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+", str(value))
    if not m:
        return None
    try:
        return float(m.group(0).replace(",", ""))
    except ValueError:
        return None


def json_str(value):
    """A JSON scalar as text (numbers too); None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


# ---------------------------------------------------------------- dates

_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_DATE_MDY = re.compile(r"(?<!\d)(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4}|\d{2})(?!\d)")
_DATE_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_DATE_WORDS = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b",
    re.I)
_DATE_WORDS_DMY = re.compile(
    r"\b(\d{1,2})\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b", re.I)


def two_digit_year(yy: int, today: _dt.date | None = None) -> int:
    """The year a docket means by a two-digit year ``yy`` (0..99).

    A docket's dates are when things were filed, entered, terminated or are
    set for: in the past, or at most the year after this one. So ``yy`` is
    the latest year ending in those two digits that is not more than one year
    after ``today``'s (default: the current date); any later one is the
    previous century's. In 2026: ``"26"`` -> 2026, ``"27"`` -> 2027, ``"28"``
    -> 1928, ``"69"`` -> 1969, ``"99"`` -> 1999, ``"05"`` -> 2005.
    """
    latest = (today or _dt.date.today()).year + 1
    return latest - (latest - yy) % 100


def _mk_date(y: int, m: int, d: int):
    if y < 100:
        y = two_digit_year(y)
    try:
        return _dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def find_date(text):
    """The first date found anywhere in ``text`` as ``YYYY-MM-DD``, or None.

    Understands ``MM/DD/YYYY`` (and ``-``/``.`` separators, two-digit years),
    ``YYYY-MM-DD``, ``Jan 5, 2017`` and ``5 Jan 2017``.
    """
    if not text:
        return None
    text = str(text)
    m = _DATE_MDY.match(text.strip())
    if m:  # fast path: the usual CM/ECF "MM/DD/YYYY" cell
        val = _mk_date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        if val:
            return val
    best = None
    for rx, kind in ((_DATE_ISO, "iso"), (_DATE_MDY, "mdy"),
                     (_DATE_WORDS, "words"), (_DATE_WORDS_DMY, "dmy")):
        m = rx.search(text)
        if not m:
            continue
        if best is not None and m.start() >= best[0]:
            continue
        if kind == "iso":
            val = _mk_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        elif kind == "mdy":
            val = _mk_date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        elif kind == "words":
            val = _mk_date(int(m.group(3)), _MONTHS[m.group(1)[:3].lower()], int(m.group(2)))
        else:
            val = _mk_date(int(m.group(3)), _MONTHS[m.group(2)[:3].lower()], int(m.group(1)))
        if val:
            best = (m.start(), val)
    return best[1] if best else None


def parse_date(text):
    """Parse a date string into ``YYYY-MM-DD``; ``None`` if there is none.

    Accepts the formats of :func:`find_date`, ISO datetimes (the date part is
    taken) and RFC 2822 dates (``Thu, 05 Jan 2017 10:00:00 GMT``).
    """
    if not text:
        return None
    text = clean(text)
    if not text:
        return None
    found = find_date(text)
    if found:
        return found
    dt = parse_datetime(text)
    return dt[:10] if dt else None


def parse_datetime(text):
    """Parse a datetime into an ISO 8601 string; ``None`` when impossible.

    ISO input keeps its offset (``2017-01-05T10:00:00-08:00``); RFC 2822
    input (RSS ``pubDate``) is converted with its zone; ``MM/DD/YYYY
    HH:MM[:SS] [AM|PM]`` gives a naive datetime.
    """
    if not text:
        return None
    text = clean(text)
    if not text:
        return None
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        return _dt.datetime.fromisoformat(iso).isoformat()
    except ValueError:
        pass
    try:
        dt = _parsedate_to_datetime(text)
        if dt is not None:
            return dt.isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    m = re.match(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?", text)
    if m:
        hour = int(m.group(4))
        if m.group(7):
            hour = hour % 12 + (12 if m.group(7).lower() == "pm" else 0)
        try:
            return _dt.datetime(int(m.group(3)), int(m.group(1)), int(m.group(2)),
                                hour, int(m.group(5)), int(m.group(6) or 0)).isoformat()
        except ValueError:
            return None
    return None


_ENTERED = re.compile(
    r"\[Entered:\s*(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?")


def entered(text, with_time: bool = False) -> str | None:
    """The ``[Entered: MM/DD/YYYY hh:mm AM]`` stamp of an appellate docket
    text as ``YYYY-MM-DD`` (``with_time``: ``YYYY-MM-DDTHH:MM:SS``, midnight
    when the stamp has no time); None when there is none."""
    if not text or "Entered" not in text:
        return None
    m = _ENTERED.search(text)
    if not m:
        return None
    try:
        day = _dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
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
        return _dt.datetime.combine(day, _dt.time(hour, minute, second)).isoformat()
    except ValueError:
        return day.isoformat() + "T00:00:00"


# ---------------------------------------------------------------- docket numbers

_DN_DISTRICT = re.compile(
    r"(?<![\w])(?:(\d{1,2})\s*:\s*)?(\d{2})\s*-\s*([A-Za-z]{1,4})\s*-\s*(\d{1,10})"
    r"((?:-[A-Za-z0-9]{1,6})*)(?![A-Za-z0-9])")
_DN_BANKR = re.compile(r"(?<![\w:])(?:(\d{1,2})\s*[-:]\s*)?(\d{2})\s*-\s*(\d{3,6})(?!\d)")
_DN_MDL = re.compile(r"\bMDL(?:\s*No\.?|\s*#|\s*-)?\s*(\d+)", re.I)
_DN_APPELLATE = re.compile(r"(?<!\d)(\d{2})-(\d{1,6})(?!\d)")


def docket_number_parts(text):
    """Split a CM/ECF district docket number into its parts.

    ``"1:08-cv-00901-WKW-SRW"`` -> ``{"docket_number": "1:08-cv-00901",
    "office": "1", "year": "08", "case_type": "cv", "number": "00901",
    "judges": ["WKW", "SRW"], "defendant_number": None}``. A trailing
    all-digit part (``-1`` on criminal cases) is the defendant number. In
    ``docket_number`` the case type is lower case and the case's own number
    has CM/ECF's five digits (``"2:16-CV-1152"`` -> ``"2:16-cv-01152"``, the
    form of PACER's case-number lookup and of an appeal's originating case).
    Returns ``None`` when ``text`` holds no district-style number.
    """
    if not text:
        return None
    m = _DN_DISTRICT.search(text)
    if not m:
        return None
    office, year, ctype, number, tail = m.groups()
    parts = [p for p in (tail or "").split("-") if p]
    judges, defendant = [], None
    for p in parts:
        if p.isdigit() and defendant is None:
            defendant = p
        elif not p.isdigit():
            judges.append(p)
    dn = f"{year}-{ctype.lower()}-{int(number):05d}"
    if office:
        dn = f"{office}:{dn}"
    return {"docket_number": dn, "office": office, "year": year,
            "case_type": ctype.lower(), "number": number,
            "judges": judges, "defendant_number": defendant}


def normalize_docket_number(text, bankruptcy: bool = False):
    """The court's docket number without judge initials or defendant suffix.

    District: ``"3:08-cv-00159-WHA"`` -> ``"3:08-cv-00159"``,
    ``"1:13-cr-00123-1"`` -> ``"1:13-cr-00123"`` (see
    :func:`docket_number_parts`). Bankruptcy (``bankruptcy=True`` or no
    district-style number present): ``"17-80033-CRJ7"`` -> ``"17-80033"``,
    ``"07-02023-8-RDD"`` -> ``"07-02023"``, ``"8:18-bk-00997-CED"`` ->
    ``"8:18-bk-00997"``. JPML: ``"MDL No. 2168"`` (also from ``"MDL 2168"``).
    Appellate-style ``"20-16908"`` is returned as is, found in any text
    (``"CASE 22-1234"`` -> ``"22-1234"``). ``None`` when nothing looks like
    one; :func:`docket_number_key` is the form that never is None.
    """
    if not text:
        return None
    text = clean(text)
    parts = docket_number_parts(text)
    if parts:
        return parts["docket_number"]
    m = _DN_MDL.search(text)
    if m:
        return f"MDL No. {m.group(1)}"
    m = _DN_BANKR.search(text)
    if m:
        office, year, number = m.groups()
        return f"{office}-{year}-{number}" if office else f"{year}-{number}"
    return None


# numbers already in the key's form (district, bankruptcy, appellate): the
# key of each is itself, as the full rules would find
_DN_KEY_FORM = re.compile(r"(?:\d{1,2}:)?\d{2}-[a-z]{1,4}-\d{5}|(?:\d{1,2}-)?\d{2}-\d{3,6}")


def docket_number_key(text) -> str:
    """The one key of a case's docket number, the same for every source's
    form of one case; the archive's ``dockets.id`` is ``court/<key>``.

    It is :func:`normalize_docket_number`'s number (judges' initials, a
    defendant number and a bankruptcy judge's suffix dropped, the case type
    lower case, the case's number five digits, whitespace folded):
    CourtListener's ``3:20-cv-05910``, the docket report's
    ``3:20-CV-05910-LB``, an RSS title's ``3:20-cv-05910-LB Doe v. Roe``, a
    lookup's ``3:20-cv-5910`` are all ``3:20-cv-05910``; ``17-80033-CRJ7`` ->
    ``17-80033``; appellate (ACMS too) ``20-16908`` and ``MDL No. 2168`` are
    kept. A number the rules do not read (the Federal Circuit's
    ``2020-1234``, a short appellate ``22-21``) or any other text is kept,
    whitespace folded, so nothing is lost; ``None`` gives ``""``. Applying it
    again changes nothing.
    """
    if isinstance(text, str) and _DN_KEY_FORM.fullmatch(text):
        return text  # the key's own form, as an archive holds it: the fast way
    return normalize_docket_number(text) or clean(text)


# ---------------------------------------------------------------- names

_JUDGE_TITLES = {
    "judge", "magistrate", "district", "chief", "senior", "bankruptcy",
    "mag.", "mag", "magistrate-judge", "mag/judge", "visiting", "special",
    "senior-judge", "master", "u.s.magistrate", "hon", "hon.", "honorable",
    "the", "justice", "circuit", "u.s.", "us", "united", "states",
}
_JUDGE_NOISE = {"pro", "se", "law", "clerk", "unassigned", "duty", "none",
                "docket", "discovery", "mediator", "inactive", "general"}
_NAME_SUFFIX = {"jr", "sr", "jr.", "sr.", "ii", "iii", "iv", "v", "vi"}
_LOWER_WORDS = {"a", "an", "and", "as", "at", "but", "by", "en", "for", "if", "in",
                "of", "on", "or", "the", "to", "v", "v.", "via", "vs", "vs."}


def titlecase_if_shouting(text: str) -> str:
    """Title-case ``text`` when it is all upper case; otherwise leave it."""
    if text and text.upper() == text and any(c.isalpha() for c in text):
        words = []
        for i, w in enumerate(text.split(" ")):
            lw = w.lower()
            if i and lw in _LOWER_WORDS:
                words.append(lw)
            elif lw in ("ii", "iii", "iv", "llc", "llp", "usa"):
                words.append(w.upper())
            else:
                words.append("-".join(p[:1].upper() + p[1:].lower() for p in w.split("-")))
        return " ".join(words)
    return text


_RUN_TOGETHER_INITIALS = re.compile(r"^(?:[A-Za-z]\.){2,}$")


def normalize_judge(text) -> str:
    """A judge's name without titles: ``"Magistrate Judge John A Kazen"`` ->
    ``"John A. Kazen"``.

    Drops titles (Judge, Magistrate, Chief, Senior, District, Hon.,
    Honorable ...), parenthesised notes (``(Settlement)``), clerk labels
    (``Pro Se Law Clerk``), run-together initials (``H.W.``) and commas
    before suffixes; adds a period to
    single-letter initials and to Jr/Sr; drops a leading lone ``J.`` that is
    followed by a full given name (``J. Randal Hall`` -> ``Randal Hall``, the
    CourtListener convention); title-cases names written in capitals.
    ``"Not Assigned"`` stays as is. Empty input gives ``""``.
    """
    text = clean(text)
    if not text:
        return ""
    if text.lower() in ("not assigned", "unassigned"):
        return text
    text = re.sub(r"\([^)]*\)", " ", text).replace(",", " ")
    words = []
    for w in text.split():
        lw = w.lower()
        if lw in _JUDGE_TITLES or lw in _JUDGE_NOISE:
            continue
        if "(" in w or ")" in w or w.startswith(("-", "~")):
            continue
        if _RUN_TOGETHER_INITIALS.match(w):
            continue  # "Alan H.W. Shiff" is filed as "Alan Shiff"
        words.append(w)
    out = []
    for i, w in enumerate(words):
        if len(w) == 1 and w.isalpha():
            w += "."
        if w.lower() in ("jr", "sr"):
            w += "."
        if i == 0 and w.lower() == "j." and len(words) > 2:
            nxt = words[1]
            if not (len(nxt) == 1 or (len(nxt) == 2 and nxt.endswith("."))):
                continue
        out.append(w)
    return titlecase_if_shouting(" ".join(out))


_PARTY_TYPE_SUBS = [
    (re.compile(r"\s*\(\s*\d+\s*\)\s*$"), ""),
    (re.compile(r"^(debtor)\s+\d+$"), r"\1"),
    (re.compile(r"\b(thirdparty|3rd pty|3rd party)\b"), "third party"),
    (re.compile(r"\b(fourthparty|4th pty|4th party)\b"), "fourth party"),
    (re.compile(r"\bcounter-(defendant|claimant|claimaint)"), r"counter \1"),
    (re.compile(r"\bplaintiff-?\s+consolidated\b"), "consolidated plaintiff"),
    (re.compile(r"\bdefendant-?\s+consolidated\b"), "consolidated defendant"),
    (re.compile(r"\bintervenor-plaintiff\b"), "intervenor plaintiff"),
    (re.compile(r"\bintervenor pla\b"), "intervenor plaintiff"),
    (re.compile(r"\bintervenor dft\b"), "intervenor defendant"),
    (re.compile(r"\bjointadmin\b"), "jointly administered"),
]


def normalize_party_type(text) -> str:
    """A party role label, title-cased: ``"Defendant   (1)"`` -> ``"Defendant"``,
    ``"3rd Party Plaintiff"`` -> ``"Third Party Plaintiff"``, ``"surety"`` ->
    ``"Surety"``, ``"ADR Provider"`` -> ``"Adr Provider"``."""
    t = clean(text).rstrip(":").strip().lower()
    if not t:
        return ""
    for rx, rep in _PARTY_TYPE_SUBS:
        t = rx.sub(rep, t)
    t = clean(t)
    words = []
    for i, w in enumerate(t.split(" ")):
        if i and w in ("of", "and", "for", "the", "in", "on", "to", "by"):
            words.append(w)
        else:
            words.append("-".join(p[:1].upper() + p[1:] for p in w.split("-")))
    return " ".join(words)


_US_NAMES = re.compile(
    r"^(?:the\s+)?(?:united\s+states(?:\s+of\s+america)?|u\.\s*s\.\s*(?:a\.?)?|usa|us|u\.s\.a\.|america)\s*$",
    re.I)
_ET_AL = re.compile(r"[,\s]+et\.?\s+al\.?\s*$", re.I)
_ET_AL_ANY = re.compile(r"\s*,?\s+\bet\.?\s+al\b\.?", re.I)


def harmonize_case_name(text) -> str:
    """Tidy a case title the way CourtListener stores it.

    ``"USA v. Santana-Esmeralda"`` -> ``"United States v. Santana-Esmeralda"``,
    ``"Balbo v. Tilton et al"`` -> ``"Balbo v. Tilton"``; ``vs.``/``v`` ->
    ``v.``; whitespace folded.
    """
    text = clean(text).strip(" ,;:-")
    if not text:
        return ""
    text = _ET_AL_ANY.sub("", text).strip(" ,;:-")
    parts = re.split(r"\s+vs?\.?\s+", text, maxsplit=1, flags=re.I)
    if len(parts) == 2:
        left, right = parts
        left = _ET_AL.sub("", left).strip(" ,")
        right = _ET_AL.sub("", right).strip(" ,")
        if _US_NAMES.match(left):
            left = "United States"
        if _US_NAMES.match(right):
            right = "United States"
        return f"{left} v. {right}"
    return _ET_AL.sub("", text).strip(" ,;:-")


# ---------------------------------------------------------------- URLs


def strip_query(url) -> str:
    """A URL safe to store or to show in a log: scheme, host, port and path,
    without user info (a password), query (a token, a session) or fragment.
    ``redis://:secret@host:6379/0`` -> ``redis://host:6379/0``."""
    parts = urlsplit(str(url or ""))
    netloc = parts.hostname or ""
    try:
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:  # not a port: left out
        pass
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# ---------------------------------------------------------------- PACER links

_DOC1 = re.compile(r"/doc1/(\d+)")
_DOCID_GENERIC = re.compile(r"(?:dls_id|de_seq_num|doc_id|docid)=(\d+)", re.I)


def pacer_doc_id_from_url(url):
    """The PACER document id in a ``/doc1/<id>`` URL, or ``None``.

    PACER sets the fourth digit to ``1`` on links that open the attachment
    menu; the document's own id has ``0`` there, and that is what is
    returned (``/doc1/03514231051`` -> ``"03504231051"``).
    """
    if not url:
        return None
    m = _DOC1.search(url)
    if not m:
        return None
    doc_id = m.group(1)
    if len(doc_id) > 3 and doc_id[3] == "1":
        doc_id = doc_id[:3] + "0" + doc_id[4:]
    return doc_id


_ECF_HOST = re.compile(r"(?:ecf|pacer)\.([a-z]{2,6}\d{0,2}[a-z]{0,4})\.uscourts\.gov", re.I)


def court_from_links(root, limit: int = 200):
    """The court id named by the first ``ecf.<court>.uscourts.gov`` link or
    form action in an HTML tree (looking at ``limit`` elements at most), or
    None. For pages fetched without knowing the court."""
    seen = 0
    for el in root.iter("a", "form", "link", "script"):
        url = el.get("href") or el.get("action") or el.get("src") or ""
        m = _ECF_HOST.search(url)
        if m:
            return m.group(1).lower()
        seen += 1
        if seen >= limit:
            break
    return None


_COURT_HOST = re.compile(r"//(?:[a-z0-9-]+\.)?([a-z0-9]+)\.uscourts\.gov", re.I)


def court_id_from_url(url) -> str:
    """The court id of one ``uscourts.gov`` URL:
    ``https://ecf.hid.uscourts.gov/...`` -> ``hid`` (``""`` when none)."""
    if not url:
        return ""
    m = _COURT_HOST.search(url)
    return m.group(1).lower() if m else ""


def doc_id_from_url(url, zero_fourth: bool = False) -> str | None:
    """The document id at the end of an appellate ``/docs1/<id>`` link, or
    None; ``zero_fourth``: with its fourth digit 0, as for
    :func:`pacer_doc_id_from_url`."""
    if not url:
        return None
    tail = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit() or not tail.isascii():
        return None
    if zero_fourth and len(tail) > 4:
        tail = tail[:3] + "0" + tail[4:]
    return tail


_GODLS = re.compile(r"goDLS\s*\(([^)]*)\)")


def go_dls_args(onclick):
    """The string arguments of a CM/ECF ``goDLS('/doc1/..', caseid, seq, ...)``
    call as a list (quotes removed), or ``[]``."""
    if not onclick:
        return []
    m = _GODLS.search(onclick)
    if not m:
        return []
    return [a.strip().strip("'\"") for a in m.group(1).split(",")]


# ---------------------------------------------------------------- trees

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


# huge_tree stays off: libxml2 then caps nesting depth, so no page can make
# the recursive walkers below exceed Python's recursion limit.
_HTML_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True,
                                no_network=True)
# the appellate report's sections are opened by comments: this one keeps them
_HTML_PARSER_COMMENTS = etree.HTMLParser(encoding="utf-8", no_network=True)


def html_tree(text: str, what: str = "page", comments: bool = False):
    """Parse ``text`` as HTML with lxml (plain ``etree`` elements, lower-case
    tags; comments and processing instructions dropped unless ``comments``);
    ParseError when there is nothing. Use :func:`text_content` or
    :func:`text_of` for an element's text."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError(f"empty {what}")
    parser = _HTML_PARSER_COMMENTS if comments else _HTML_PARSER
    try:
        root = etree.fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError, TypeError) as exc:
        raise ParseError(f"{what} is not parseable HTML: {exc}") from None
    if root is None:
        raise ParseError(f"{what} is not parseable HTML")
    return root


_PAGE_END = re.compile(r"</\s*(?:body|html)\s*>", re.I)
_RECEIPT = re.compile(r"Transaction\s+Receipt|Billable\s+Pages", re.I)


def cut_short(text: str) -> str | None:
    """Why an HTML report looks cut off before its end, or None.

    CM/ECF sends a report whole: the entries, then PACER's receipt, then the
    end of the page. A transfer that broke off (a dropped connection, a
    proxy's limit) leaves a page that parses as a docket with fewer entries,
    so a report needs one of its closing marks: the end of the page or the
    receipt. Saved pages keep them too.
    """
    if _PAGE_END.search(text[-8192:]) or _RECEIPT.search(text):
        return None
    return ("the page is cut short: it has neither the end of the page (</html>) nor PACER's "
            "transaction receipt, so entries may be missing; fetch it again")


def xml_tree(text: str, what: str = "document"):
    """Parse ``text`` as XML (entities not resolved, no network); ParseError
    when it is not well-formed XML."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError(f"empty {what}")
    data = _XML_DECL.sub("", text.lstrip("\ufeff"), count=1).strip().encode("utf-8", "replace")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False,
                             huge_tree=True, remove_comments=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.XMLSyntaxError, ValueError, TypeError) as exc:
        raise ParseError(f"{what} is not well-formed XML: {exc}") from None
    if root is None:
        raise ParseError(f"{what} is not well-formed XML")
    return root


_HTML_STARTS = ("<!doctype html", "<html", "<head", "<body")


def xml_page_root(text: str, what: str, root_tag: str, *, article: str = "",
                  html_hint: str = "(error page or login?)"):
    """The root element of an XML page of kind ``what`` (a feed, a docket XML),
    which must be ``<root_tag>``. ParseError, saying what it is instead, for
    empty text, an HTML page (an error or login page), malformed XML or
    another root."""
    kind = f"{article}{what}"
    if not isinstance(text, str) or not text.strip():
        raise ParseError(f"empty document, not {kind}")
    head = text.lstrip("\ufeff \t\r\n")[:300].lower()
    if head.startswith(_HTML_STARTS):
        raise ParseError(f"HTML page, not {kind} {html_hint}")
    root = xml_tree(text, what)
    if not isinstance(root.tag, str) or root.tag != root_tag:
        raise ParseError(f"XML root is <{root.tag}>, not <{root_tag}>: not {kind}")
    return root


_BLOCK = frozenset(["br", "p", "div", "tr", "li", "table", "h1", "h2", "h3",
                    "h4", "h5", "h6", "hr", "center", "ul", "ol", "dd", "dt"])
_SKIP = frozenset(["script", "style", "noscript"])


def element_lines(el) -> list[str]:
    """The text of an lxml element split into lines at ``<br>`` and block
    elements (each line whitespace-folded, empty lines dropped). Table cells
    of one row stay on one line separated by a space."""
    lines: list[str] = []
    cur: list[str] = []

    def walk(node):
        if node.text:
            cur.append(node.text)
        for child in node:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _SKIP:
                pass
            elif tag in _BLOCK:
                lines.append("".join(cur))
                cur.clear()
                walk(child)
                lines.append("".join(cur))
                cur.clear()
            elif tag in ("td", "th"):
                cur.append(" ")
                walk(child)
                cur.append(" ")
            elif tag:
                walk(child)
            if child.tail:
                cur.append(child.tail)

    walk(el)
    lines.append("".join(cur))
    return clean_lines(lines)


def text_content(el) -> str:
    """All the text inside an element, like lxml.html's ``text_content``."""
    if el is None:
        return ""
    return "".join(el.itertext())


def child_text(node, tag) -> str:
    """All the text of ``node``'s first ``<tag>`` child ("" when there is none)."""
    return text_content(node.find(tag)) if node is not None else ""


def text_of(el) -> str:
    """Whitespace-folded text content of an element ("" for None); its raw
    text is :func:`text_content`."""
    return clean(text_content(el))


def is_element(el) -> bool:
    """Whether ``el`` is an element (not a comment or processing instruction)."""
    return isinstance(el.tag, str)


def ancestor(el, tag):
    """Nearest ancestor of ``el`` with ``tag``, or None."""
    for anc in el.iterancestors(tag):
        return anc
    return None


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
                lines[-1][1] = text_content(child)
            _walk_lines(child, lines, depth + 1)
        if child.tail:
            lines[-1][0].append(child.tail)


def label_value(b) -> str:
    """The text after a ``<b>Label:</b>`` up to the next ``<br>`` or ``<b>``
    (folded, no space before a comma)."""
    parts = [b.tail or ""]
    for sib in b.itersiblings():
        tag = sib.tag
        if tag == "br" or tag == "b" or tag == "strong":
            break
        if isinstance(tag, str):
            parts.append(text_content(sib))
        if sib.tail:
            parts.append(sib.tail)
    return clean("".join(parts), commas=True)


def norm_label(text) -> str:
    """A field label without its colon: ``" Docketed: "`` -> ``"Docketed"``."""
    return clean(text).rstrip(":").strip()
