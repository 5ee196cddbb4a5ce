"""Helpers for the district-side parser tests.

The real court pages live in ../shared/corpus/pacer (beside the checkout, or
wherever DOCKET_SHARED points); tests that need them skip with a reason when
it is absent. ``norm``/``norm_name`` fold values the way
../shared/tools/score_dockets.py does, so the golden tests and the scorer
agree on what "the same" means.
"""
from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT, SHARED, shared_or_skip  # noqa: F401 (PROJECT for the tests)

CORPUS = SHARED / "corpus" / "pacer"
PAGES = Path(__file__).resolve().parent / "pages"


def shared_path(*parts) -> Path:
    """A path under ../shared/corpus/pacer, or skip the test when absent."""
    return shared_or_skip("corpus", "pacer", *parts)


@pytest.fixture
def shared():
    """../shared/corpus/pacer as a Path; skips the test when it is absent."""
    return shared_path()


def corpus_params(folder: str, pattern: str):
    """pytest params, one per corpus file; a single skipped param when the
    folder is absent (so collection never fails without ../shared)."""
    path = CORPUS / folder
    files = sorted(path.glob(pattern)) if path.is_dir() else []
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"../shared not found ({path}): the real court pages live there"))]
    return [pytest.param(f, id=f.name) for f in files]


def court_of(path: Path) -> str:
    return path.name.split(".")[0].split("_")[0]


def reference(path: Path):
    return json.loads(path.with_suffix(".json").read_text())


_ISO_DT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def norm(value) -> str:
    """Whitespace-folded text; ISO datetimes as the same instant in UTC."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return json.dumps(sorted(norm(v) for v in value))
    text = " ".join(str(value).split())
    if _ISO_DT.match(text):
        try:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                moment = moment.astimezone(datetime.timezone.utc)
            return moment.strftime("%Y-%m-%dT%H:%M:%S")
        except ValueError:
            pass
    return text


def norm_name(value) -> str:
    text = norm(value).casefold().rstrip(".")
    for tail in (" et al", ", et al"):
        if text.endswith(tail):
            text = text[: -len(tail)]
    return text.strip(" ,")


def entry_keys(entries):
    """Entries keyed by (number, date filed, occurrence) as the scorer does."""
    seen: dict = {}
    keyed = {}
    for entry in entries or []:
        base = (norm(entry.get("document_number")), norm(entry.get("date_filed")))
        seen[base] = seen.get(base, 0) + 1
        keyed[base + (seen[base],)] = entry
    return keyed


def docket_mismatches(want: dict, got: dict, top_fields) -> list[str]:
    """Every scored field where ``got`` differs from the reference ``want``."""
    bad = []
    for field in top_fields:
        name = field == "case_name" or field.endswith("_str")
        same = (norm_name(want.get(field)) == norm_name(got.get(field))) if name else (
            norm(want.get(field)) == norm(got.get(field)))
        if not same:
            bad.append(f"{field}: want {want.get(field)!r} got {got.get(field)!r}")
    want_e, got_e = entry_keys(want.get("docket_entries")), entry_keys(got.get("docket_entries"))
    for key, entry in want_e.items():
        other = got_e.get(key)
        if other is None:
            bad.append(f"entry {key} missing")
            continue
        for field in ("description", "pacer_doc_id", "date_entered", "short_description"):
            if field in entry and (entry.get(field) or field == "description") and \
                    norm(entry.get(field)) != norm(other.get(field)):
                bad.append(f"entry {key} {field}: want {entry.get(field)!r} got {other.get(field)!r}")
    bad += [f"entry {key} not in reference" for key in got_e.keys() - want_e.keys()]
    want_p = {norm_name(p.get("name")): p for p in want.get("parties") or []}
    got_p = {norm_name(p.get("name")): p for p in got.get("parties") or []}
    for name, party in want_p.items():
        other = got_p.get(name)
        if other is None:
            bad.append(f"party {name!r} missing")
            continue
        if norm_name(party.get("type")) != norm_name(other.get("type")):
            bad.append(f"party {name!r} type: want {party.get('type')!r} got {other.get('type')!r}")
        got_a = {norm_name(a.get("name")) for a in other.get("attorneys") or []}
        for atty in party.get("attorneys") or []:
            if norm_name(atty.get("name")) not in got_a:
                bad.append(f"party {name!r} attorney {atty.get('name')!r} missing")
    bad += [f"party {name!r} not in reference" for name in got_p.keys() - want_p.keys()]
    return bad
