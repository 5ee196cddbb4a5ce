"""archive/site/filings.py: what was filed, why a document is missing and where to get it."""
from __future__ import annotations

import pytest

from archive.site.filings import (
    courtlistener_url, filing_title, pacer_price, pacer_url, where_to_get, why_missing,
)


@pytest.mark.parametrize("text, title", [
    ("ORDER GRANTING MOTION FOR PRELIMINARY INJUNCTION re 17 , 48 . Signed by Judge Laurel "
     "Beeler on 9/19/2020. (lblc3S, COURT STAFF) (Filed on 9/19/2020)",
     "Order granting motion for preliminary injunction"),
    ("MOTION for Preliminary Injunction filed by Brent Coulter, Chihuo Inc.",
     "Motion for Preliminary Injunction"),
    ("NOTICE OF APPEAL to the 9th Circuit Court of Appeals as to 59 Order by Donald J. Trump",
     "Notice of appeal to the 9th Circuit Court of Appeals"),
    ("Filed (ECF) Appellants Donald J. Trump and Wilbur Ross Emergency Motion to stay the "
     "district court's preliminary injunction pending appeal. Date of service: 10/02/2020.",
     "Emergency Motion to stay the district court's preliminary injunction pending appeal"),
    ("COMPLAINT for Declaratory and Injunctive Relief against Donald J. Trump, Wilbur Ross "
     "( Filing fee $ 400, receipt number 0971-14820012.)",
     "Complaint for Declaratory and Injunctive Relief against Donald J. Trump, Wilbur Ross"),
    ("Filed order (Deputy Clerk: JN): Pursuant to the stipulation of the parties (Docket Entry "
     "No. [57]), this appeal is voluntarily dismissed. Fed. R. App. P. 42(b).",
     "Order: Pursuant to the stipulation of the parties, this appeal is voluntarily dismissed"),
    ("", "Docket entry"), (None, "Docket entry"),
])
def test_filing_title(text, title):
    assert filing_title(text) == title


def test_filing_title_falls_back_and_stays_short():
    assert filing_title("", "Declaration of John K. Costello") == "Declaration of John K. Costello"
    assert len(filing_title("MOTION " + "to extend time " * 30)) <= 91


def test_pacer_prices():
    assert pacer_price(3, False) == "$0.30 (3 pages at $0.10 a page)"
    assert pacer_price(45, False) == "$3.00 (45 pages, at PACER's $3.00 cap for a document)"
    assert pacer_price(45, True) == "$4.50 (45 pages at $0.10 a page)"
    assert pacer_price(None, False).startswith("up to $3.00")
    assert "not capped" in pacer_price(None, True)


def test_where_a_missing_document_can_be_had():
    docket = "https://www.courtlistener.com/docket/18419042/us-wechat-users-alliance-v-trump/"
    assert courtlistener_url(docket, "22", 1) == \
        "https://www.courtlistener.com/docket/18419042/22/1/us-wechat-users-alliance-v-trump/"
    assert courtlistener_url("https://example.com/docket/1/x/", "22", 0) is None
    assert pacer_url("cand", "035019294466") == "https://ecf.cand.uscourts.gov/doc1/035019294466"
    assert pacer_url("ca9", "009031814409") == "https://ecf.ca9.uscourts.gov/docs1/009031814409"
    assert pacer_url("cand", "x/../y") is None and pacer_url("c.d", "035019294466") is None
    in_recap = {"is_available": 1, "document_number": "48", "attachment_number": 1,
                "status": "download_failed", "pacer_doc_id": "035119266016"}
    assert [w["name"] for w in where_to_get(in_recap, "cand", docket)] == ["CourtListener"]
    assert "download failed" in why_missing(in_recap)
    unbought = {"is_available": 0, "status": "no_file", "pacer_doc_id": "035019280117",
                "description": "Motion", "page_count": 12, "source": "courtlistener"}
    [pacer] = where_to_get(unbought, "cand", docket)
    assert pacer["name"] == "PACER" and pacer["price"].startswith("$1.20")
    assert "nobody has bought it" in why_missing(unbought)
    assert "not been bought from PACER" in why_missing(dict(unbought, source="pacer"))
    text_only = {"is_available": 0, "status": "no_file", "source": "courtlistener"}
    assert "text-only entry" in why_missing(text_only) and where_to_get(text_only, "cand", docket) == []
