"""Parser speed: our docket parsers next to juriscraper's, same files, same run.

    .venv/bin/python bench/bench_parsers.py [--seconds N] [--kinds district,appellate]
                                            [--no-juriscraper]

For each kind (district CM/ECF docket reports, appellate CM/ECF dockets) the
corpus pages in ../shared/corpus/pacer/<kind>/ are parsed over and over in
one process, after a warm-up pass, for N seconds; then the same loop runs
juriscraper (DocketReport / AppellateDocketReport, ``_parse_text`` then
``.data``) on the same files.  Each side runs in its own subprocess
(bench/_bench_worker.py) so their memory is measured apart; juriscraper's
runs in .venv-bench/, built from bench/requirements-juriscraper.txt when
missing: it is never a dependency of the project.

The two sides alternate (--repeat runs each, default 2) and each side's best
run counts, so that load from elsewhere on a shared machine does not decide
the ratio.  Docket entries per second count the entries of the reference JSON beside
each page (the same work unit for both sides; each side's own count is shown
too).  Results: a table on stdout and bench/results/parsers.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DOCKET_SHARED", ROOT.parent / "shared")).resolve()
WORKER = Path(__file__).resolve().parent / "_bench_worker.py"
BENCH_VENV = ROOT / ".venv-bench"
BENCH_PY = BENCH_VENV / "bin" / "python"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-juriscraper.txt"
RESULTS = Path(__file__).resolve().parent / "results" / "parsers.json"
KINDS = ("district", "appellate")
TARGET_RATIO = 5.0


def corpus(kind: str):
    """[(path, court, reference entry count)] for the kind's corpus pages."""
    folder = SHARED / "corpus" / "pacer" / kind
    files = []
    for page in sorted(folder.glob("*.html")):
        ref = page.with_suffix(".json")
        try:
            entries = len(json.loads(ref.read_text()).get("docket_entries") or [])
        except (OSError, ValueError, AttributeError):
            entries = 0
        files.append((str(page), page.name.split(".")[0].split("_")[0], entries))
    return files


def ensure_bench_venv() -> str | None:
    """Path of .venv-bench's python with juriscraper, creating it if need be;
    None (with a message) when it cannot be had."""
    def has_juriscraper():
        if not BENCH_PY.exists():
            return False
        probe = subprocess.run([str(BENCH_PY), "-c", "import juriscraper.pacer"],
                               capture_output=True, text=True)
        return probe.returncode == 0

    if has_juriscraper():
        return str(BENCH_PY)
    print(f"[bench] building {BENCH_VENV.name}/ from {REQUIREMENTS.name} "
          "(juriscraper, for comparison only) ...", flush=True)
    try:
        if not BENCH_PY.exists():
            subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True,
                           capture_output=True, text=True, timeout=300)
        subprocess.run([str(BENCH_PY), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                       check=True, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        print(f"[bench] skipping juriscraper's side: cannot build {BENCH_VENV.name}/: "
              f"{detail.strip()[-300:]}", flush=True)
        return None
    if not has_juriscraper():
        print(f"[bench] skipping juriscraper's side: juriscraper does not import in "
              f"{BENCH_VENV.name}/", flush=True)
        return None
    return str(BENCH_PY)


def run_worker(python: str, impl: str, kind: str, files, seconds: float) -> dict:
    cmd = [python, str(WORKER), "--impl", impl, "--kind", kind, "--seconds", str(seconds)]
    payload = json.dumps([[path, court] for path, court, _ in files])
    proc = subprocess.run(cmd, input=payload, capture_output=True, text=True, cwd=ROOT,
                          timeout=seconds * 10 + 600)
    if proc.returncode != 0:
        return {"impl": impl, "kind": kind,
                "error": (proc.stderr.strip() or proc.stdout.strip())[-500:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    ref_entries = sum(n for _, _, n in files)
    wall = result["wall_seconds"]
    result["reference_entries_per_pass"] = ref_entries
    result["entries_per_second"] = ref_entries * result["passes"] / wall
    result["own_entries_per_second"] = result["entries_per_pass"] * result["passes"] / wall
    result["pages_per_second"] = result["files"] * result["passes"] / wall
    return result


def best(runs):
    """The fastest good run, with every run's rate kept alongside."""
    good = [r for r in runs if "error" not in r]
    if not runs:
        return None
    if not good:
        return runs[-1]
    top = dict(max(good, key=lambda r: r["entries_per_second"]))
    top["all_runs_entries_per_second"] = [round(r["entries_per_second"], 1) for r in good]
    return top


def fmt(value, spec=",.0f"):
    return "-" if value is None else format(value, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0,
                    help="timed seconds per parser and kind (after a warm-up pass)")
    ap.add_argument("--repeat", type=int, default=2,
                    help="runs per side, alternated; the best one counts")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--no-juriscraper", action="store_true",
                    help="time only our parsers")
    args = ap.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    for kind in kinds:
        if kind not in KINDS:
            ap.error(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")

    if not (SHARED / "corpus" / "pacer").is_dir():
        print(f"[bench] ../shared not found ({SHARED}): nothing to time")
        return 0
    jur_python = None if args.no_juriscraper else ensure_bench_venv()

    rows = []
    for kind in kinds:
        files = corpus(kind)
        if not files:
            print(f"[bench] no {kind} pages in the corpus; skipped")
            continue
        print(f"[bench] {kind}: {len(files)} pages, "
              f"{sum(n for *_, n in files)} reference entries per pass", flush=True)
        # Alternate the sides and keep each one's best run: the machine is
        # shared, and a burst of load on one run should not decide the ratio.
        runs = {"ours": [], "juriscraper": []}
        for _ in range(max(1, args.repeat)):
            runs["ours"].append(run_worker(sys.executable, "ours", kind, files, args.seconds))
            if jur_python:
                runs["juriscraper"].append(
                    run_worker(jur_python, "juriscraper", kind, files, args.seconds))
        ours = best(runs["ours"])
        theirs = best(runs["juriscraper"])
        ratio = None
        if theirs and "error" not in theirs and "error" not in ours:
            ratio = ours["entries_per_second"] / theirs["entries_per_second"]
        rows.append({"kind": kind, "ours": ours, "juriscraper": theirs, "ratio": ratio})

    print()
    header = (f"{'kind':<10} {'parser':<12} {'entries/s':>10} {'pages/s':>8} "
              f"{'passes':>6} {'entries':>7} {'errors':>6} {'maxrss MB':>9} "
              f"{'peak MB':>8} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    for row in rows:
        for impl in ("ours", "juriscraper"):
            r = row[impl]
            if r is None:
                print(f"{row['kind']:<10} {impl:<12} (not run)")
                continue
            if "error" in r:
                print(f"{row['kind']:<10} {impl:<12} failed: {r['error'][-160:]}")
                continue
            ratio = fmt(row["ratio"], ".1f") + "x" if impl == "ours" and row["ratio"] else ""
            print(f"{row['kind']:<10} {impl:<12} {fmt(r['entries_per_second']):>10} "
                  f"{fmt(r['pages_per_second']):>8} {r['passes']:>6} "
                  f"{r['entries_per_pass']:>7} {r['errors']:>6} "
                  f"{r['maxrss_kb'] / 1024:>9.1f} {r['tracemalloc_peak_kb'] / 1024:>8.1f} "
                  f"{ratio:>6}")
    print("\nentries/s: reference docket entries parsed per second (one core); "
          "entries: entries each parser returned per pass;\nmaxrss: peak resident memory "
          "of the worker process; peak: tracemalloc peak over one pass; "
          f"ratio: ours / juriscraper (target {TARGET_RATIO:.0f}x).")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds_per_run": args.seconds,
        "runs_per_side": max(1, args.repeat),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "target_ratio": TARGET_RATIO,
        "results": rows,
    }
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=2) + "\n")
    tmp.replace(RESULTS)
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
