"""Who a crawl says it is: ``USER_AGENT`` made from the ``CONTACT`` setting.

Court servers, CourtListener and the Internet Archive ask that a robot name a
way to reach its operator. ``CONTACT`` (``-s CONTACT=you@example.org``, or the
``DOCKET_ARCHIVE_CONTACT`` environment variable) is an email address or a URL;
the crawl's User-Agent is then ``docket-archive/0.2.0 (+mailto:you@example.org)``.
Without it the User-Agent names the program only, and the crawl's log says how
to add a contact. A ``USER_AGENT`` set by hand wins.

A Scrapy add-on (``ADDONS``): it runs after every setting is read, the
command line's included, so the User-Agent follows ``-s CONTACT=``.
"""
from __future__ import annotations

import logging
from importlib import metadata

from scrapy.settings import SETTINGS_PRIORITIES

logger = logging.getLogger(__name__)
PROGRAM = "docket-archive"


def version() -> str:
    try:
        return metadata.version(PROGRAM)
    except metadata.PackageNotFoundError:  # a checkout that is not installed
        return "0"


def user_agent(contact: str | None) -> str:
    contact = (contact or "").strip()
    if not contact:
        return f"{PROGRAM}/{version()}"
    if "@" in contact and ":" not in contact:
        contact = f"mailto:{contact}"
    return f"{PROGRAM}/{version()} (+{contact})"


class Contact:
    """The add-on: ``USER_AGENT`` from ``CONTACT``, unless set by hand."""

    def update_settings(self, settings) -> None:
        contact = settings.get("CONTACT")
        # Scrapy's default, not one set in a project, a spider or on the command line
        if settings.getpriority("USER_AGENT") < SETTINGS_PRIORITIES["project"]:
            settings.set("USER_AGENT", user_agent(contact), priority="addon")
        if not contact:
            logger.info("No CONTACT set: the User-Agent names no way to reach you. "
                        "-s CONTACT=you@example.org (or DOCKET_ARCHIVE_CONTACT) adds one.")
