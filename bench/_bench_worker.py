"""Timing loop for bench/bench_parsers.py, run as a subprocess per side.

    PYTHON bench/_bench_worker.py --impl ours|juriscraper --kind district|appellate
                                  --seconds N  < files.json

stdin: a JSON list of [path, court]. stdout: one JSON object with the
passes made, wall and CPU seconds, entries per pass, peak memory.  Both
sides run this same loop; only the parse call differs.  The juriscraper
side runs in .venv-bench (juriscraper is not a dependency of the project).
"""
from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path


# Both sides read the pages the same way the project does (parsers/__init__.py
# needs only the standard library, so juriscraper's venv can import it too).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from parsers import decode_page as decode  # noqa: E402


def make_parser(impl: str, kind: str):
    if impl == "ours":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from parsers import ParseError, parse

        def run(text, court):
            try:
                return len(parse(kind, text, court).get("docket_entries") or [])
            except ParseError:
                return None
        return run

    import logging

    logging.disable(logging.CRITICAL)  # juriscraper logs every page
    from juriscraper.pacer import AppellateDocketReport, DocketReport

    cls = DocketReport if kind == "district" else AppellateDocketReport

    def run(text, court):
        try:
            report = cls(court)
            report._parse_text(text)
            return len(report.data.get("docket_entries") or [])
        except Exception:  # noqa: BLE001 - a page it cannot read counts as an error
            return None
    return run


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=["ours", "juriscraper"], required=True)
    ap.add_argument("--kind", choices=["district", "appellate"], required=True)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    files = [(decode(Path(p).read_bytes()), court) for p, court in json.load(sys.stdin)]
    run = make_parser(args.impl, args.kind)

    # Warm-up: one full pass (imports, caches, lazily built regexes).
    counts = [run(text, court) for text, court in files]
    entries = sum(c or 0 for c in counts)
    errors = sum(1 for c in counts if c is None)

    passes = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    while True:
        for text, court in files:
            run(text, court)
        passes += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= args.seconds:
            break
    cpu = time.process_time() - cpu0
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    # Peak Python-level allocation while parsing one pass (traced separately:
    # tracemalloc slows everything down, so it is kept out of the timing).
    gc.collect()
    tracemalloc.start()
    for text, court in files:
        run(text, court)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    json.dump({"impl": args.impl, "kind": args.kind, "files": len(files),
               "passes": passes, "wall_seconds": elapsed, "cpu_seconds": cpu,
               "entries_per_pass": entries, "errors": errors,
               "maxrss_kb": maxrss_kb, "tracemalloc_peak_kb": peak // 1024,
               "python": sys.version.split()[0]}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
