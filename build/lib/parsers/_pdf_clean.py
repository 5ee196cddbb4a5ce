"""Clean text for search: the faithful page text less the court's repeated
header stamps and the pleading paper's line numbers (1..28 down the left
margin). Pure text functions."""
from __future__ import annotations

import re

from ._pdf_stamp import is_stamp_line

_LEADING_NUM = re.compile(r"^\s*(\d{1,2})(?=\s|$)\s?")
# a pleading page numbers at most ~32 lines; a run of at least this many is a pleading
_MIN_RUN = 8


def _pleading_lines(lines: list[str]) -> set[int]:
    """Indexes of lines whose leading number belongs to the pleading count.

    The longest chain of lines whose leading numbers go 1, 2, 3, ... (a gap
    of one is forgiven: an OCR'd page or a merged line may drop one) is the
    margin count; lines outside it keep their numbers (footnotes, lists).
    """
    cands = []
    for i, ln in enumerate(lines):
        m = _LEADING_NUM.match(ln)
        if m:
            n = int(m.group(1))
            if 1 <= n <= 40:
                cands.append((i, n))
    if len(cands) < _MIN_RUN:
        return set()
    best: list[int] = []
    # chains start at a small number; try each start, greedy forward
    for start in range(len(cands)):
        i0, n0 = cands[start]
        if n0 > 3:
            continue
        chain = [i0]
        last = n0
        for i, n in cands[start + 1:]:
            if n == last + 1 or n == last + 2:
                chain.append(i)
                last = n
        if len(chain) > len(best):
            best = chain
    return set(best) if len(best) >= _MIN_RUN else set()


def clean_page_text(text: str) -> str:
    lines = text.splitlines()
    numbered = _pleading_lines(lines)
    out = []
    for i, ln in enumerate(lines):
        if is_stamp_line(ln):
            continue
        if i in numbered:
            ln = _LEADING_NUM.sub("", ln, count=1)
            if not ln.strip():
                continue  # a margin number alone on its line
        if ln.strip():
            out.append(ln.rstrip())
        elif out and out[-1] != "":
            out.append("")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def clean_text(page_texts: list[str]) -> str:
    """Pages cleaned and joined with blank lines (no form feeds: it is for search)."""
    return "\n\n".join(t for t in (clean_page_text(p) for p in page_texts) if t)


# a page number alone at a page's edge: "2", "- 2 -", "Page 2", "Page 2 of 4", "2 of 4"
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\W*$", re.I)
_EDGE = 4  # lines at the top and at the bottom of a page where running heads are


def _edge_key(line: str) -> str:
    """A running head's form whatever page it is on: digits and spacing aside."""
    return re.sub(r"\d+", "#", " ".join(line.split()).casefold())


def readable_pages(page_texts: list[str]) -> list[str]:
    """The pages for reading: each cleaned as for search (:func:`clean_page_text`:
    no header stamp, no pleading line numbers), less the running heads and
    feet every page repeats (a short title and case number at the foot of each
    page of a pleading, "ORDER - 2 -") and page numbers alone at a page's edge.
    A line is a running head when the same line (numbers aside) is at the top
    or bottom of most pages, at least two, and only once on each."""
    pages = [clean_page_text(p).split("\n") for p in page_texts]
    counts: dict = {}
    repeated: set = set()  # lines that repeat within a page are its text, not its head
    for lines in pages:
        keys = {_edge_key(ln) for ln in lines[:_EDGE] + lines[-_EDGE:] if ln.strip()}
        within: dict = {}
        for ln in lines:
            key = _edge_key(ln)
            within[key] = within.get(key, 0) + 1
        repeated |= {key for key, n in within.items() if n > 1}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    needed = max(2, (len(pages) + 1) // 2)
    running = {key for key, n in counts.items()
               if n >= needed and len(pages) >= 2 and key not in repeated}
    out = []
    for lines in pages:
        edge = set(range(min(_EDGE, len(lines)))) | set(range(max(0, len(lines) - _EDGE),
                                                             len(lines)))
        kept = [ln for i, ln in enumerate(lines)
                if not (i in edge and (_edge_key(ln) in running
                                       or (len(pages) > 1 and _PAGE_NUMBER.match(ln))))]
        while kept and not kept[0].strip():
            kept.pop(0)
        while kept and not kept[-1].strip():
            kept.pop()
        out.append("\n".join(kept))
    return out
