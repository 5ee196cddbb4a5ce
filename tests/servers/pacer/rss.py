"""CM/ECF's RSS feed of recent entries (``cgi-bin/rss_outside.pl``, no login):
the corpus feed of the court with the entries ``add_entry`` added, newest first.
"""
from __future__ import annotations

import datetime as dt
import html
import re

from ..base import Response


class RssMixin:
    """PacerServer's RSS feeds."""

    def _rss(self, court: str) -> Response:
        # ``rss_types``: court -> None (the court has no working feed: 404) or a
        # list of CM/ECF types (a partial feed: only added entries whose
        # ``rss_type`` is listed, and a channel description saying so); a court
        # not named serves every entry ("type: all")
        types = getattr(self, "rss_types", {}).get(court, "all")
        if types is None:
            return Response.text("<html><body><h1>Not Found</h1></body></html>", 404)
        feed = None
        path = self.rss_feeds().get(court)
        if path is not None:
            feed = path.read_bytes().decode("iso-8859-1")
        items = []
        added = sorted((r for r in self.added if r["court"] == court), key=lambda r: r["added_at"])
        for rec in reversed(added):  # newest first, as PACER's
            if types != "all" and rec.get("rss_type") not in types:
                continue
            ecf = "https://ecf.%s.uscourts.gov" % court
            link = ""
            if rec["doc_id"]:
                link = ' (<a href="%s/doc1/%s?caseid=%s&de_seq_num=%s" >%s</a>)' % (
                    ecf, rec["doc_id"], rec["case_id"], rec["seq"], rec["number"] or "")
            guid = "%s/cgi-bin/DktRpt.pl?%s" % (ecf, rec["case_id"])
            if self.rss_guid == "entry":
                guid += "&amp;%s" % rec["seq"]
            for event in rec["events"]:
                items.append(
                    "<item>\n<title>%s %s</title>\n<link>%s/cgi-bin/DktRpt.pl?%s</link>\n<description>%s</description>\n"
                    "<guid isPermaLink=\"true\">%s</guid>\n<pubDate>%s</pubDate>\n</item>\n"
                    % (html.escape(rec["docket_number"]), html.escape(rec["title"]), ecf, rec["case_id"],
                       html.escape("[%s]%s" % (event, link)), guid,
                       rec["added_at"].astimezone(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")))
        if feed is None:
            feed = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n\n<rss version="2.0">\n\n<channel>\n'
                    "<title>%s - Recent Entries</title>\n<link>https://ecf.%s.uscourts.gov</link>\n"
                    "<description>Docket entries of type: %s</description>\n<lastBuildDate>%s</lastBuildDate>\n\n"
                    "</channel>\n</rss>\n" % (court.upper(), court,
                                              "all" if types == "all" else ",".join(types),
                                              dt.datetime.now(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")))
        if items:
            at = feed.find("<item>")
            at = at if at >= 0 else feed.find("</channel>")
            feed = feed[:at] + "".join(items) + feed[at:]
        return Response(200, self._localize(feed, court).encode("iso-8859-1", "xmlcharrefreplace"),
                        content_type="application/rss+xml")

    def rss_feeds(self) -> dict:
        """court -> the corpus RSS feed served for it (the court is read from
        the channel's link: file names are not always court ids)."""
        if getattr(self, "_rss_feeds", None) is None:
            feeds = {}
            if self.corpus is not None:
                for path in sorted((self.corpus / "rss").glob("*.xml")):
                    head = path.read_bytes()[:2000].decode("iso-8859-1")
                    m = re.search(r"<link>\s*https?://ecf\.([a-z0-9]+)\.uscourts\.gov", head)
                    court = m.group(1) if m else path.name.split("_")[0].split(".")[0]
                    feeds.setdefault(court, path)
            self._rss_feeds = feeds
        return self._rss_feeds
