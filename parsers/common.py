"""Shared helpers for the page parsers (district and appellate alike).

Everything here is a pure function over strings or lxml elements; nothing
raises anything but :class:`parsers.ParseError` (and only the ``*_tree``
loaders do that). The functions are a stable interface: other parser modules
import them, so change their behaviour only compatibly.

Conventions used throughout the parsers:

* dates come out as ISO 8601 strings (``YYYY-MM-DD``), datetimes as
  ``YYYY-MM-DDTHH:MM:SS`` with an offset when the source gives one;
  unknown or unparseable dates are ``None``;
* text values are whitespace-folded (runs of spaces, tabs, newlines and
  non-breaking spaces become one space) unless documented otherwise;
* missing text values are ``""`` and missing numbers/ids are ``None``.
"""
from __future__ import annotations

import datetime as _dt
import re
from email.utils import parsedate_to_datetime as _parsedate_to_datetime

from lxml import etree

from . import ParseError

UNKNOWN_CASE_TITLE = "Unknown Case Title"  # CourtListener's placeholder

__all__ = ["UNKNOWN_CASE_TITLE", 
    "clean", "clean_lines", "parse_date", "parse_datetime", "find_date",
    "normalize_docket_number", "docket_number_parts", "normalize_judge",
    "normalize_party_type", "harmonize_case_name", "titlecase_if_shouting",
    "pacer_doc_id_from_url", "go_dls_args", "html_tree", "xml_tree", "xml_page_root", "child_text",
    "element_lines", "text_content", "text_of", "court_from_links", "to_int", "to_float",
]

# ---------------------------------------------------------------- text

# control characters (never meaningful in court pages) and zero-width
# spaces become spaces; str.split() then folds them with the rest
_CONTROL_RX = re.compile("[\x00-\x08\x0e-\x1b\x7f\u200b\ufeff]")


def clean(value) -> str:
    """Fold every run of whitespace (incl. NBSP) to one space and strip.

    ``None`` becomes ``""``; non-strings are converted with ``str``.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if _CONTROL_RX.search(value):
        value = _CONTROL_RX.sub(" ", value)
    return " ".join(value.split())


def clean_lines(lines) -> list[str]:
    """Clean each line (see :func:`clean`) and drop the empty ones."""
    out = []
    for line in lines:
        line = clean(line)
        if line:
            out.append(line)
    return out


def to_int(value):
    """``int`` of a string like ``" 1,234 "``; ``None`` when not a number."""
    if value is None:
        return None
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


def _mk_date(y: int, m: int, d: int):
    if y < 100:  # two-digit years: 69..99 -> 1900s, else 2000s
        y += 1900 if y >= 69 else 2000
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


# ---------------------------------------------------------------- docket numbers

_DN_DISTRICT = re.compile(
    r"(?<![\w])(?:(\d{1,2})\s*:\s*)?(\d{2})\s*-\s*([A-Za-z]{1,4})\s*-\s*(\d{1,10})"
    r"((?:-[A-Za-z0-9]{1,6})*)(?![A-Za-z0-9])")
_DN_BANKR = re.compile(r"(?<![\w:])(?:(\d{1,2})\s*[-:]\s*)?(\d{2})\s*-\s*(\d{3,6})(?!\d)")
_DN_MDL = re.compile(r"\bMDL\s+No\.?\s*(\d+)", re.I)
_DN_APPELLATE = re.compile(r"(?<!\d)(\d{2})-(\d{1,6})(?!\d)")


def docket_number_parts(text):
    """Split a CM/ECF district docket number into its parts.

    ``"1:08-cv-00901-WKW-SRW"`` -> ``{"docket_number": "1:08-cv-00901",
    "office": "1", "year": "08", "case_type": "cv", "number": "00901",
    "judges": ["WKW", "SRW"], "defendant_number": None}``. A trailing
    all-digit part (``-1`` on criminal cases) is the defendant number.
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
    dn = f"{year}-{ctype.lower()}-{number}"
    if office:
        dn = f"{office}:{dn}"
    return {"docket_number": dn, "office": office, "year": year,
            "case_type": ctype.lower(), "number": number,
            "judges": judges, "defendant_number": defendant}


def normalize_docket_number(text, bankruptcy: bool = False):
    """The court's docket number without judge initials or defendant suffix.

    District: ``"3:08-cv-00159-WHA"`` -> ``"3:08-cv-00159"``. Bankruptcy
    (``bankruptcy=True`` or no district-style number present):
    ``"17-80033-CRJ7"`` -> ``"17-80033"``, ``"8:18-bk-00997-CED"`` ->
    ``"8:18-bk-00997"``. JPML: ``"MDL No. 2168"``. Appellate-style
    ``"20-16908"`` is returned as is. ``None`` when nothing looks like one.
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


def html_tree(text: str, what: str = "page"):
    """Parse ``text`` as HTML with lxml (plain ``etree`` elements, lower-case
    tags); ParseError when there is nothing. Use :func:`text_content` for an
    element's text."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError(f"empty {what}")
    try:
        root = etree.fromstring(text.encode("utf-8", "replace"), parser=_HTML_PARSER)
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
    """Whitespace-folded text content of an element ("" for None)."""
    return clean(text_content(el))
