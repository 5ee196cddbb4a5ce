"""Spider arguments (``-a NAME=VALUE``) that cannot make a crawl, refused before it starts.

A court id, docket number or case id goes into the URLs a crawl asks for. One
too long for a URL (Scrapy's UrlLengthMiddleware drops a request over
URLLENGTH_LIMIT, 2083 characters) would leave the crawl nothing to fetch, and
it would end "finished" having done nothing. A court id goes into host names
(``ecf.{court}.uscourts.gov``), so it is letters and digits only.
"""
from __future__ import annotations

import re
from typing import Optional

# An argument whose name says it holds a credential: a PACER spider refuses it
# (credentials come from the environment only: Scrapy logs arguments), and no
# crawl's row or lock records it (the archive pipeline).
SECRET_ARG = re.compile(r"user|login|pass|otp|token|secret|key|cookie|client_code", re.I)

# characters at most: every real one is far shorter (a docket number with its
# defendant and judges' initials is about 30; a case id is digits or a GUID)
LIMITS = {"court": 16, "docket_number": 100, "pacer_case_id": 64, "acms_case_id": 64}
OTHER_LIMIT = 200  # any other argument (max_cost=, documents=...)
WHAT = {"court": "a court id", "docket_number": "a docket number",
        "pacer_case_id": "a PACER case id", "acms_case_id": "an ACMS case id"}
COURT = re.compile(r"[A-Za-z0-9]+")


def problem(spargs: dict) -> Optional[str]:
    """Why these spider arguments cannot make a crawl, or None."""
    for name, value in spargs.items():
        value = "" if value is None else str(value)
        limit = LIMITS.get(name, OTHER_LIMIT)
        if len(value) > limit:
            return (f"-a {name}= is {len(value):,} characters long: too long for a URL "
                    f"({WHAT.get(name, 'an argument')} has at most {limit}). Nothing was fetched.")
        if name == "court" and value and not COURT.fullmatch(value):
            return (f"-a court={value!r} is not a court id (letters and digits: cand, ca9, "
                    "nysb). Nothing was fetched.")
    return None
