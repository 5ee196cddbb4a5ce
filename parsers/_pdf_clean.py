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
