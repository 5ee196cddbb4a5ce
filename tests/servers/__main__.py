"""Run the local CourtListener and Internet Archive servers from the command line.

    python -m tests.servers [--cl-port 8780] [--ia-port 8781] [--token demo-token]
                            [--synthetic N] [--throttle-every K] [--seconds N]

Serves the WeChat case (and a synthetic docket of N entries if asked) until
Ctrl-C, SIGTERM or ``--seconds``, after printing the settings a crawl needs.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from .cases import default_shared_dir, shared_available, synthetic_case, wechat_cases
from .courtlistener import CourtListenerServer
from .internet_archive import InternetArchiveServer


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.servers", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cl-port", type=int, default=8780, help="CourtListener API port (0: any free port)")
    parser.add_argument("--storage-port", type=int, default=8782, help="CourtListener storage port (0: any)")
    parser.add_argument("--storage-host", default=None,
                        help="serve storage on another loopback name (e.g. 127.0.0.2) so Scrapy gives "
                             "file downloads their own download slot, as storage.courtlistener.com has")
    parser.add_argument("--ia-port", type=int, default=8781, help="Internet Archive port (0: any free port)")
    parser.add_argument("--token", default="demo-token", help="the API token the CourtListener server accepts")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="also serve a synthetic cand docket (pacer_case_id 900001) of N entries")
    parser.add_argument("--throttle-every", type=int, default=0, metavar="K",
                        help="answer every K-th API request 429 with Retry-After")
    parser.add_argument("--retry-after", type=int, default=1, metavar="SECONDS")
    parser.add_argument("--rate-per-minute", type=int, default=None, metavar="N",
                        help="answer 429 past N API requests in any minute")
    parser.add_argument("--page-size-max", type=int, default=100)
    parser.add_argument("--shared", default=None, help="the shared folder (default $DOCKET_SHARED or ../shared)")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--ready-file", default=None,
                        help="write the servers' URLs as JSON to this file once they listen")
    args = parser.parse_args(argv)

    shared = Path(args.shared) if args.shared else default_shared_dir()
    cases = wechat_cases(shared)
    synthetic = None
    if args.synthetic:
        synthetic = synthetic_case(shared, n_entries=args.synthetic)
        cases.append(synthetic)
    cl = CourtListenerServer(cases, token=args.token, throttle_every=args.throttle_every,
                             retry_after=args.retry_after, page_size_max=args.page_size_max,
                             rate_per_minute=args.rate_per_minute, host=args.host, port=args.cl_port,
                             storage_host=args.storage_host, storage_port=args.storage_port)
    ia = InternetArchiveServer(shared, host=args.host, port=args.ia_port)

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    cl.start()
    ia.start()
    try:
        cl_settings = "-s COURTLISTENER_API_URL=%s -s COURTLISTENER_STORAGE_URL=%s" % (cl.api_url, cl.storage_url)
        ia_settings = "-s INTERNET_ARCHIVE_URL=%s" % ia.url
        lines = [
            "CourtListener API      %s  (token: %s)" % (cl.api_url, args.token),
            "CourtListener storage  %s" % cl.storage_url,
            "Internet Archive       %s" % ia.url,
            "Shared corpus          %s" % (shared if shared_available(shared) else "not found: tiny generated PDFs"),
            "Cases: cand 3:20-cv-05910 (pacer_case_id 364733, docket id %d), ca9 20-16908 (docket id %d)"
            % (cases[0].id, cases[1].id),
        ]
        if synthetic is not None:
            lines.append("        cand %s (pacer_case_id %s, docket id %d, %d entries)" % (
                synthetic.docket["docket_number"], synthetic.docket["pacer_case_id"], synthetic.id,
                len(synthetic.entries)))
        lines += [
            "",
            "Settings for a crawl (the token is read from the environment):",
            "  export COURTLISTENER_TOKEN=%s" % args.token,
            "  %s" % cl_settings,
            "  %s" % ia_settings,
            "e.g.",
            "  COURTLISTENER_TOKEN=%s scrapy crawl <spider> -a court=cand -a docket_number=3:20-cv-05910 %s %s"
            % (args.token, cl_settings, ia_settings),
            "",
            "Serving until Ctrl-C%s." % (" or %g s" % args.seconds if args.seconds else ""),
        ]
        print("\n".join(lines), flush=True)
        if args.ready_file:
            Path(args.ready_file).write_text(json.dumps({
                "COURTLISTENER_API_URL": cl.api_url, "COURTLISTENER_STORAGE_URL": cl.storage_url,
                "INTERNET_ARCHIVE_URL": ia.url, "COURTLISTENER_TOKEN": args.token,
                "synthetic": synthetic and {"court": "cand", "docket_number": synthetic.docket["docket_number"],
                                            "pacer_case_id": synthetic.docket["pacer_case_id"], "id": synthetic.id},
            }, indent=2))
        deadline = time.monotonic() + args.seconds if args.seconds else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        cl.stop()
        ia.stop()
        api = cl.log.tally(kind="api")
        storage = cl.log.tally(kind="storage")
        print("Stopped: %d CourtListener API requests, %d storage downloads, %d Internet Archive requests."
              % (api, storage, len(ia.log)), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
