"""Hand-written labels for corpus entries (tests/fixtures/labels/), and the
measures the tests hold: the agreement of ``parsers.kinds.entry_kind`` with the
kinds, the precision and recall of ``parsers.schedule.events_in``.

The label files reference each entry by its reference JSON under
../shared/corpus/pacer and its position there; they hold no corpus text.

    .venv/bin/python -m tests.parsers.labels      # print both reports
"""
from __future__ import annotations

import collections
import json
from functools import lru_cache
from pathlib import Path

from parsers.schedule import events_in
from parsers.kinds import KINDS, entry_kind

LABELS = Path(__file__).resolve().parents[1] / "fixtures" / "labels"
KIND_LABELS = LABELS / "entry_kinds.tsv"
EVENT_LABELS = LABELS / "calendar_events.tsv"


def _rows(path: Path):
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.split("\t")


def kind_labels() -> list[tuple[str, str, int, str]]:
    """(set, corpus file, entry position, kind) of every labelled entry."""
    return [(s, f, int(i), k) for s, f, i, k in _rows(KIND_LABELS)]


def event_labels() -> list[tuple[str, str, int, list[tuple]]]:
    """(set, corpus file, entry position, events) with each event
    (kind letter, date, time or "", status, superseded date or "")."""
    out = []
    for s, f, i, spec in _rows(EVENT_LABELS):
        events = [] if spec == "-" else [tuple(e.split(",")) for e in spec.split(";")]
        out.append((s, f, int(i), events))
    return out


@lru_cache(maxsize=None)
def _record(corpus: Path, name: str):
    return json.loads((corpus / name).read_text())


def corpus_entry(corpus: Path, name: str, position: int) -> dict:
    """The entry at ``position`` of the reference JSON ``name`` (an RSS feed's:
    the item's docket's entry)."""
    record = _record(corpus, name)
    if isinstance(record, list):
        return record[position]["docket_entries"][0]
    return record["docket_entries"][position]


def kind_agreement(corpus: Path, sets=None) -> dict:
    """Agreement of entry_kind with the labels: total, agreed, per kind
    (labelled, agreed) and the confusions (label, got) -> count."""
    total = agreed = 0
    per = collections.defaultdict(lambda: [0, 0])
    confusions = collections.Counter()
    misses = []
    for s, name, pos, label in kind_labels():
        if sets and s not in sets:
            continue
        entry = corpus_entry(corpus, name, pos)
        got = entry_kind(entry.get("description"), entry.get("short_description"))
        total += 1
        per[label][0] += 1
        if got == label:
            agreed += 1
            per[label][1] += 1
        else:
            confusions[(label, got)] += 1
            misses.append((name, pos, label, got))
    return {"total": total, "agreed": agreed, "per_kind": dict(per),
            "confusions": dict(confusions), "misses": misses}


def _event_key(ev: dict) -> tuple:
    return (ev["kind"][0], ev["date"], ev["time"] or "", ev["status"],
            (ev["supersedes"] or {}).get("date") or "")


def event_precision(corpus: Path, sets=None) -> dict:
    """Events extracted vs labelled (kind, date, time, status, superseded date
    all equal): entries, labelled, extracted, correct, and the misses."""
    entries = labelled = extracted = correct = 0
    misses = []
    for s, name, pos, events in event_labels():
        if sets and s not in sets:
            continue
        entry = corpus_entry(corpus, name, pos)
        got = collections.Counter(_event_key(e) for e in events_in(
            entry.get("description"), entry.get("date_filed")))
        want = collections.Counter(events)
        entries += 1
        labelled += sum(want.values())
        extracted += sum(got.values())
        correct += sum((got & want).values())
        if got != want:
            misses.append((name, pos, dict(got - want), dict(want - got)))
    return {"entries": entries, "labelled": labelled, "extracted": extracted,
            "correct": correct, "misses": misses}


def report(corpus: Path) -> str:
    lines = []
    for sets in (("sample",), ("rare",), ("heldout",), None):
        r = kind_agreement(corpus, sets)
        lines.append(f"kinds {'+'.join(sets) if sets else 'all'}: {r['agreed']}/{r['total']} = "
                     f"{r['agreed'] / r['total']:.3f}")
    r = kind_agreement(corpus)
    for kind in KINDS:
        n, ok = r["per_kind"].get(kind, [0, 0])
        lines.append(f"  {kind:11s} {ok}/{n}")
    lines.append("  confusions (label -> got): " + ", ".join(
        f"{a}->{b} {n}" for (a, b), n in sorted(r["confusions"].items(), key=lambda x: -x[1])))
    for sets in (("sample",), ("heldout",), None):
        e = event_precision(corpus, sets)
        lines.append(f"calendar {'+'.join(sets) if sets else 'all'}: {e['entries']} entries, "
                     f"{e['labelled']} labelled events, {e['extracted']} extracted, "
                     f"{e['correct']} right: precision {e['correct'] / e['extracted']:.3f}, "
                     f"recall {e['correct'] / e['labelled']:.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    from tests.conftest import SHARED

    print(report(SHARED / "corpus" / "pacer"))
