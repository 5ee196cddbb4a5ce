"""make demo: the default case crawled from local servers that replay real pages.

Starts the local CourtListener and Internet Archive servers (real corpus PDFs
from ../shared) and runs exactly what `make archive` runs, pointed at them,
so the whole pipeline can be seen working on a machine with no network.

    python -m tests.servers.demo [--db archive/demo.db] [--no-token]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from .cases import _resolve_shared, wechat_cases
from .courtlistener import CourtListenerServer
from .internet_archive import InternetArchiveServer

PROJECT = Path(__file__).resolve().parents[2]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="archive/demo.db")
    ap.add_argument("--files", default="archive/demo-files")
    ap.add_argument("--no-token", action="store_true",
                    help="crawl as a user without a CourtListener token (Internet Archive only)")
    args = ap.parse_args(argv)
    shared = _resolve_shared(None)
    token = "demo-token"
    print("make demo: the WeChat case's real docket pages, served by local stand-ins for "
          "CourtListener and the Internet Archive (no network). Its documents are stand-in PDFs: "
          "real filings from other cases in ../shared/corpus, renamed to this case's documents, "
          + ("" if shared else "(../shared is absent: generated one-page PDFs) ") +
          "so the text you search is not the WeChat case's.\n", flush=True)
    with CourtListenerServer(wechat_cases(shared), token=token) as cl, \
            InternetArchiveServer(shared) as ia:
        env = dict(os.environ)
        env.pop("COURTLISTENER_TOKEN", None)
        if not args.no_token:
            env["COURTLISTENER_TOKEN"] = token
        cmd = [sys.executable, "-m", "archive", "crawl-default", "--db", args.db,
               "-s", f"COURTLISTENER_API_URL={cl.api_url}",
               "-s", f"COURTLISTENER_STORAGE_URL={cl.storage_url}",
               "-s", "COURTLISTENER_RATE_PER_MINUTE=600",
               "-s", f"INTERNET_ARCHIVE_URL={ia.url}", "-s", f"FILES_STORE={args.files}"]
        code = subprocess.run(cmd, cwd=PROJECT, env=env).returncode
    if code == 0:
        print(f"\nServe it: .venv/bin/python -m archive serve --db {args.db} --files {args.files}"
              "\n(the documents are stand-in PDFs from other cases: see above)")
    return code


if __name__ == "__main__":
    sys.exit(main())
