"""Golden files of our own output: what ``parsers`` makes of every corpus page.

    .venv/bin/python -m tests.golden            # compare; exit 1 and list what moved
    .venv/bin/python -m tests.golden --update   # write them again (then read `git diff`)

The reference JSON beside each corpus page says what a page holds; scores
against it (../shared/tools/score_dockets.py) are per field and forgiving.
These files are stricter: the whole record our parser makes of each page in
``../shared/corpus/pacer`` (an error too: a page that is not a docket must stay
refused), kept under ``tests/golden/<folder>/<page>.json``, pretty-printed with
sorted keys, so that any change to any output shows as a diff in review, and
``tests/test_golden.py`` fails until the files are updated on purpose.
"""
from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

import parsers
from parsers import ParseError

ROOT = Path(__file__).resolve().parent / "golden"

# corpus folder -> (parser kind, the pages' file suffix)
FOLDERS = {
    "district": ("district", ".html"),
    "bankruptcy": ("district", ".html"),
    "appellate": ("appellate", ".html"),
    "acms": ("acms", ".acms_json"),
    "internet_archive": ("ia", ".xml"),
    "rss": ("rss", ".xml"),
    "attachment_pages": ("attachment", ".html"),
    "appellate_attachment_pages": ("appellate_attachment", ".html"),
    "confirmation_pages": ("confirmation", ".html"),
    "possible_case_numbers": ("possible_cases", ".xml"),
    "not_dockets": ("district", ".html"),
    "not_appellate_dockets": ("appellate", ".html"),
}


def corpus() -> Path:
    from tests.conftest import SHARED

    return SHARED / "corpus" / "pacer"


def court_of(path: Path) -> str:
    return path.name.split(".")[0].split("_")[0]


def pages(folder: str) -> list[Path]:
    _, suffix = FOLDERS[folder]
    return sorted(p for p in (corpus() / folder).glob(f"*{suffix}") if p.is_file())


def output(folder: str, page: Path) -> dict:
    """Our parser's whole record for ``page`` (or its refusal), as JSON data."""
    kind, _ = FOLDERS[folder]
    try:
        record = parsers.parse(kind, page.read_bytes(), court=court_of(page))
    except ParseError as exc:
        record = {"error": str(exc)}
    return json.loads(json.dumps(record, default=str, ensure_ascii=False))


def golden_path(folder: str, page: Path) -> Path:
    return ROOT / folder / (page.name.rsplit(".", 1)[0] + ".json")


def dump(record) -> str:
    return json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def difference(folder: str, page: Path) -> str | None:
    """None when our output equals the golden file, else a unified diff (or why not)."""
    path = golden_path(folder, page)
    now = dump(output(folder, page))
    if not path.exists():
        return f"{path.relative_to(ROOT.parent)} is missing: run python -m tests.golden --update"
    kept = path.read_text()
    if kept == now:
        return None
    lines = difflib.unified_diff(kept.splitlines(), now.splitlines(), "golden", "now", lineterm="",
                                 n=2)
    return "\n".join(list(lines)[:80])


def update(folders) -> int:
    written = 0
    for folder in folders:
        wanted = set()
        for page in pages(folder):
            path = golden_path(folder, page)
            wanted.add(path)
            text = dump(output(folder, page))
            if not path.exists() or path.read_text() != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                written += 1
        for stale in (ROOT / folder).glob("*.json"):
            if stale not in wanted:  # a page no longer in the corpus
                stale.unlink()
                written += 1
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.golden", description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help="write the golden files again")
    ap.add_argument("folders", nargs="*", metavar="FOLDER", help=", ".join(FOLDERS))
    args = ap.parse_args(argv)
    unknown = [f for f in args.folders if f not in FOLDERS]
    if unknown:
        ap.error(f"unknown folder(s) {', '.join(unknown)}: choose from {', '.join(FOLDERS)}")
    if not corpus().is_dir():
        print(f"{corpus()} not found: the corpus lives beside the checkout", file=sys.stderr)
        return 2
    folders = args.folders or list(FOLDERS)
    if args.update:
        print(f"{update(folders)} golden file(s) written under {ROOT}")
        return 0
    moved = 0
    for folder in folders:
        for page in pages(folder):
            diff = difference(folder, page)
            if diff:
                moved += 1
                print(f"--- {folder}/{page.name}\n{diff}\n")
    print(f"{moved} page(s) whose output moved")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
