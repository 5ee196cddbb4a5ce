"""CM/ECF bankruptcy court docket report (DktRpt.pl on ecf.<court>b.uscourts.gov).

A bankruptcy docket report is the district docket report with bankruptcy's
own parts (:mod:`parsers.bankruptcy_rules`): ``parse(text, court=None)``
reads the page as a bankruptcy docket whatever the court id says; it
returns what :func:`parsers.district.parse` returns (with ``chapter``,
``trustee_str``, ``date_converted`` and ``date_discharged`` filled in) and
raises :class:`parsers.ParseError` for anything that is not a docket report.
"""
from __future__ import annotations

from . import page_parser
from .district import parse_report


@page_parser
def parse(text: str, court: str | None = None) -> dict:
    """Parse ``text`` as a bankruptcy docket report; ParseError when it is
    not a docket report."""
    return parse_report(text, court, bankruptcy=True)
