"""python -m parsers KIND [--court COURT] PATH [PATH ...]

Prints one JSON object per path, in order, one per line: the parsed record,
or {"error": "..."} when the page is not of that kind. Exits non-zero only
for bad usage.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import KINDS, ParseError, parse
from .pdf import extract


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m parsers", description=__doc__.split("\n\n")[1])
    ap.add_argument("kind", choices=sorted([*KINDS, "pdf"]))
    ap.add_argument("--court", default=None, help="court id, e.g. cand or ca9")
    ap.add_argument("paths", nargs="+", metavar="PATH")
    args = ap.parse_args(argv)
    out = sys.stdout
    for path in args.paths:
        try:
            if args.kind == "pdf":
                record = extract(path)
            else:
                with open(path, "rb") as fh:
                    data = fh.read()
                record = parse(args.kind, data, court=args.court)
        except ParseError as exc:
            record = {"error": str(exc)}
        except OSError as exc:
            record = {"error": f"cannot read {path}: {exc.strerror or exc}"}
        except Exception as exc:  # a bad page must never print a traceback
            record = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
