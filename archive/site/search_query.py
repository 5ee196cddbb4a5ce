"""What a reader types in a search box -> an SQLite FTS5 query that is never
a syntax error.

The language is a search engine's:

- words: every word must appear, in any order (``preliminary injunction``);
- ``"a phrase"``: those words together, in that order;
- ``OR`` (in capitals) between two words or groups: either;
- ``NOT word`` or ``-word``: without that word (or phrase, or group);
- ``inj*``: any word that starts with ``inj``;
- parentheses group: ``(injunction OR stay) NOT appeal``;
- a docket number in any printed form (``3:20-cv-05910``, ``3:20-cv-5910-LB``,
  ``3:20cv5910``, ``20-16908``) is that number, in its archive form.

Anything else is a word to find: FTS5's own syntax (``NEAR(``, ``col:``,
``^``, ``+``, ``AND`` in a phrase) is quoted, a lone quote or an unmatched
parenthesis is dropped, an ``OR`` or ``NOT`` with nothing on one side is
dropped, and an alternative made only of excluded words (``-wechat``) is
dropped with a note: FTS5 cannot list "everything but". Nothing typed can
produce an invalid query; ``parse(text).fts`` is ``""`` when nothing is left
to look for.

Every term is written as an FTS5 string (``"word"``, ``"word"*``), and each
``AND``/``OR``/``NOT`` group is parenthesised, so FTS5's operator precedence
never decides what a query means.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Union

from parsers.common import docket_number_key

MAX_CHARS = 500
MAX_TERMS = 32
MAX_DEPTH = 8
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# docket numbers as people print them
_DISTRICT = re.compile(r"(?:(\d{1,2}):)?(\d{2})-?([a-z]{1,5})-?(\d{1,6})((?:-[a-z0-9]{1,8})*)",
                       re.I)
_NUMBERED = re.compile(r"(?:\d{1,2}-)?\d{2}-\d{3,6}(?:-[a-z0-9]{1,8})*|\d{4}-\d{3,5}", re.I)
# words a case name holds between its parties: left out of a search of cases
CASE_NAME_FILLERS = {"v", "v.", "vs", "vs.", "versus"}


@dataclass
class Term:
    text: str                # the words, as typed (a phrase's inside)
    prefix: bool = False     # inj*
    phrase: bool = False     # "typed in quotes"
    number: Optional[str] = None  # a docket number's archive form

    def fts(self) -> str:
        words = self.number or " ".join(self.text.split())
        return '"' + words.replace('"', " ") + '"' + ("*" if self.prefix else "")


@dataclass
class All:                   # every positive part, and none of the excluded ones
    parts: list = field(default_factory=list)
    excluded: list = field(default_factory=list)


@dataclass
class Any:                   # one of the alternatives
    parts: list = field(default_factory=list)


Node = Union[Term, All, Any]


@dataclass
class Query:
    text: str
    fts: str                         # for documents_fts / docket_entries_fts
    case_fts: str                    # for the case index (no "v.", numbers as numbers)
    numbers: list = field(default_factory=list)   # docket numbers named (archive form)
    words: list = field(default_factory=list)     # the positive terms' text, for notes
    notes: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fts or self.case_fts)


def docket_number(token: str) -> Optional[str]:
    """The archive form of ``token`` when it is a docket number as printed
    (``3:20-cv-5910-LB`` -> ``3:20-cv-05910``), else None."""
    token = token.strip(".,;")
    m = _DISTRICT.fullmatch(token)
    if m:
        office, year, kind, number, tail = m.groups()
        if not kind.isalpha():
            return None
        printed = f"{office + ':' if office else ''}{year}-{kind}-{number}{tail or ''}"
        key = docket_number_key(printed)
        return key if re.search(r"\d{2}-[a-z]{1,5}-\d{5}", key) else None
    if _NUMBERED.fullmatch(token):
        return docket_number_key(token)
    return None


# --- tokens -----------------------------------------------------------------

def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value): phrase, word, or, and, not, minus, open, close."""
    text = CONTROL.sub(" ", (text or "")[:MAX_CHARS])
    if text.count('"') % 2:  # the last quote has no partner: a character, not a phrase
        cut = text.rindex('"')
        text = text[:cut] + " " + text[cut + 1:]
    out = []
    for phrase, chunk in re.findall(r'"([^"]*)"|([^\s"]+)', text):
        if phrase or not chunk:
            out.append(("phrase", phrase))
            continue
        while chunk.startswith("("):
            out.append(("open", "("))
            chunk = chunk[1:]
        closing = 0
        while chunk.endswith(")") and chunk.count("(") < chunk.count(")"):
            closing += 1
            chunk = chunk[:-1]
        if chunk in ("OR", "|"):
            out.append(("or", chunk))
        elif chunk in ("AND", "&"):
            out.append(("and", chunk))
        elif chunk == "NOT":
            out.append(("not", chunk))
        elif chunk.startswith("-") and any(ch.isalnum() for ch in chunk):
            out.append(("minus", "-"))
            rest = chunk[1:]
            while rest.startswith("("):
                out.append(("open", "("))
                rest = rest[1:]
            if rest:
                out.append(("word", rest))
        elif chunk:
            out.append(("word", chunk))
        out.extend([("close", ")")] * closing)
    return out


def _term(kind: str, value: str) -> Optional[Term]:
    if kind == "phrase":
        words = " ".join(value.split())
        return Term(words, phrase=True) if any(ch.isalnum() for ch in words) else None
    prefix = value.endswith("*")
    core = value.rstrip("*")
    if not any(ch.isalnum() for ch in core):
        return None
    number = None if prefix else docket_number(core)
    return Term(core, prefix=prefix, number=number)


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.i = 0
        self.terms = 0
        self.notes: list[str] = []

    def peek(self):
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def any_(self, depth: int) -> Optional[Node]:
        parts = []
        while True:
            part = self.all_(depth)
            if part is not None:
                parts.append(part)
            if self.peek() == "or":
                self.take()
                continue
            if self.peek() in (None, "close"):
                break
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Any(parts)

    def all_(self, depth: int) -> Optional[Node]:
        node = All()
        while self.peek() not in (None, "or", "close"):
            kind = self.peek()
            if kind == "and":
                self.take()
                continue
            negated = False
            while self.peek() in ("not", "minus"):
                self.take()
                negated = True
            if self.peek() in (None, "or", "close"):
                break
            part = self.primary(depth)
            if part is None:
                continue
            (node.excluded if negated else node.parts).append(part)
        if not node.parts:
            if node.excluded:
                self.notes.append("Words to leave out (NOT, -) need a word to look for "
                                  "beside them: that part was left out.")
            return None
        if len(node.parts) == 1 and not node.excluded:
            return node.parts[0]
        return node

    def primary(self, depth: int) -> Optional[Node]:
        kind, value = self.take()
        if kind == "open":
            if depth >= MAX_DEPTH:
                return None
            inner = self.any_(depth + 1)
            if self.peek() == "close":
                self.take()
            return inner
        if kind in ("word", "phrase"):
            term = _term(kind, value)
            if term is None:
                return None
            self.terms += 1
            return term if self.terms <= MAX_TERMS else None
        return None  # a stray ")" (handled by the caller) or operator

    def parse(self) -> Optional[Node]:
        parts = []
        while self.i < len(self.tokens):
            node = self.any_(0)
            if node is not None:
                parts.append(node)
            if self.peek() == "close":  # a ")" with no "(": a character, not a group
                self.take()
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return All(parts)  # text on both sides of a stray ")": still all of it


# --- rendering -------------------------------------------------------------

def _render(node: Optional[Node], drop=lambda term: False) -> str:
    if node is None:
        return ""
    if isinstance(node, Term):
        return "" if drop(node) else node.fts()
    if isinstance(node, Any):
        parts = [p for p in (_render(part, drop) for part in node.parts) if p]
        if not parts:
            return ""
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    parts = [p for p in (_render(part, drop) for part in node.parts) if p]
    if not parts:
        return ""
    text = parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"
    excluded = [p for p in (_render(part, drop) for part in node.excluded) if p]
    if excluded:
        text = "(" + text + " NOT " + (excluded[0] if len(excluded) == 1
                                       else "(" + " OR ".join(excluded) + ")") + ")"
    return text


def _terms(node, positive=True):
    if node is None:
        return
    if isinstance(node, Term):
        yield node, positive
    elif isinstance(node, Any):
        for part in node.parts:
            yield from _terms(part, positive)
    else:
        for part in node.parts:
            yield from _terms(part, positive)
        for part in node.excluded:
            yield from _terms(part, False)


def _filler(term: Term) -> bool:
    return not term.phrase and not term.prefix and term.text.lower() in CASE_NAME_FILLERS


def parse(text: str) -> Query:
    parser = _Parser(_tokens(text or ""))
    tree = parser.parse()
    terms = list(_terms(tree))
    notes = list(dict.fromkeys(parser.notes))
    if parser.terms > MAX_TERMS:
        notes.append(f"Only the first {MAX_TERMS} words were searched.")
    fts = _render(tree)
    case_fts = _render(tree, drop=_filler) or ("" if not fts else fts)
    return Query(text=text or "", fts=fts, case_fts=case_fts,
                 numbers=list(dict.fromkeys(t.number for t, positive in terms
                                            if positive and t.number)),
                 words=[t.text for t, positive in terms if positive], notes=notes)


def fts_query(text: str) -> str:
    """What was typed -> an FTS5 query that cannot be a syntax error (``""``
    when nothing is left to look for): ``parse(text).fts``."""
    return parse(text).fts
