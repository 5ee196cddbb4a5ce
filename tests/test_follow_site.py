"""What following cases adds to the public site (archive/site/following.py),
served in process from the public copy: iCal per case and for the archive,
the gaps view, kind-filtered Atom feeds; and the functions the case page,
search and feeds call (archive/follow.py) on the public copy."""
from __future__ import annotations

import asyncio
import sqlite3

from datasette.app import Datasette
from lxml import etree

from archive import db as adb
from archive import follow as fl
from archive import publish
from archive import site
from archive.load import save_parsed_docket

CASE = {"court_id": "cand", "docket_number": "3:20-cv-05910", "case_name": "WeChat v. Trump",
        "pacer_case_id": "364733"}
ENTRIES = [
    {"document_number": "17", "date_filed": "2030-08-28",
     "description": "MOTION for Preliminary Injunction. Motion Hearing set for 10/1/2030 09:30 AM "
                    "in Courtroom B. Responses due by 9/11/2030."},
    {"document_number": "30", "date_filed": "2030-09-01",
     "description": "CLERK'S NOTICE: Motion Hearing reset from 10/1/2030 to 10/8/2030 09:30 AM."},
    {"document_number": "59", "date_filed": "2030-09-19",
     "description": "ORDER GRANTING MOTION FOR PRELIMINARY INJUNCTION. Signed by Judge Beeler."},
]


def served(tmp_path):
    path = str(tmp_path / "dockets.db")
    db = adb.open_db(path)
    save_parsed_docket(db, dict(CASE, docket_entries=ENTRIES), source="pacer")
    fl.follow_case(db, "cand", "3:20-cv-05910")  # private: never on the site
    fl.record_check(db, "cand/3:20-cv-05910", "courtlistener", detail="2 entries changed")
    adb.close_db(db)
    live = str(tmp_path / "public" / "dockets.db")
    publish.publish(path, live)
    site.register()
    # no SQLite heap limit: it would hold every later test of this process
    return Datasette([live], metadata={"plugins": {site.PLUGIN: {"sqlite_heap_bytes": 0}}}), live


def get(ds, path):
    async def go():
        await ds.invoke_startup()
        return await ds.client.get(path)
    return asyncio.run(go())


def test_calendars_gaps_and_kind_feeds(tmp_path):
    ds, live = served(tmp_path)
    ics = get(ds, "/calendar/cand/3:20-cv-05910.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    text = ics.text
    assert text.count("BEGIN:VEVENT") == 3 and text.count("STATUS:CANCELLED") == 1  # 10/1 moved
    assert "DTSTART:20301008T093000" in text and "DTSTART;VALUE=DATE:20300911" in text
    assert "#entry-30" in text.replace("\r\n ", "")  # each date links to the entry that set it
    assert get(ds, "/calendar.ics").text.count("BEGIN:VEVENT") == 3
    assert get(ds, "/calendar/cand/9:99-cv-00001.ics").status_code == 404

    gaps = get(ds, "/gaps.json").json()
    assert [g["docket_id"] for g in gaps] == ["cand/3:20-cv-05910"]
    assert gaps[0]["line"] == "checked just now; 56 gaps" and gaps[0]["missing"] == 56
    page = get(ds, "/gaps").text
    assert "checked just now; 56 gaps" in page and "CourtListener just now" in page
    case = get(ds, "/gaps/cand/3:20-cv-05910.json").json()
    assert case["gaps"][0] == {"docket_id": "cand/3:20-cv-05910", "kind": "missing numbers",
                               "entry_from": 1, "entry_to": 16, "entry_id": None,
                               "document_id": None, "count": 16}
    assert [d["date"] for d in case["next_dates"] if d["date"] >= "2030-10-01"] == ["2030-10-08"]

    # the feeds filtered by kind: a case's orders and opinions, every case's motions
    feed = get(ds, "/cases/cand/3:20-cv-05910/feed.atom?kind=order,opinion")
    assert feed.status_code == 200
    titles = etree.fromstring(feed.content).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(titles) == 1  # the order; not the motion, not the clerk's notice
    assert b"feed.atom?kind=opinion,order" in feed.content  # its own address
    assert get(ds, "/feed.atom?kind=motion").text.count("<entry>") == 1
    assert get(ds, "/feed.atom?kind=motion&kind=order").text.count("<entry>") == 2
    assert get(ds, "/feed.atom").text.count("<entry>") == 3
    assert get(ds, "/feed.atom?kind=gossip").status_code == 400
    # the first address of these feeds still leads there
    moved = get(ds, "/kinds.atom?kind=order,opinion&case=cand/3:20-cv-05910")
    assert moved.status_code == 301
    assert moved.headers["location"] == "/cases/cand/3:20-cv-05910/feed.atom?kind=opinion,order"

    # the follow list, feeds' coverage, webhooks and the outbox are not in the copy
    con = sqlite3.connect(live)
    names = {r[0] for r in con.execute("select name from sqlite_master")}
    assert "follows" not in names and "case_checks" in names


def test_what_the_case_page_calls_reads_the_public_copy_alone(tmp_path):
    _, live = served(tmp_path)
    con = fl.open_readonly(live)
    status = fl.case_status(con, "cand/3:20-cv-05910")
    assert status["line"] == "checked just now; 56 gaps"
    assert status["by"]["courtlistener"]["detail"] == "2 entries changed"
    soon = fl.next_dates(con, "cand/3:20-cv-05910", today="2030-09-12")
    assert [(e["what"], e["date"], e["time"]) for e in soon] == [("Motion Hearing", "2030-10-08",
                                                                 "09:30")]
    assert [e["entry_number"] for e in fl.entries_of_kind(con, "cand/3:20-cv-05910",
                                                           ["order"])] == [59]
    versions = fl.versions_of(con, "cand/3:20-cv-05910#59")
    assert [v["source"] for v in versions] == ["pacer"]


def test_the_case_page_shows_completeness_next_dates_and_filters_by_kind(tmp_path):
    ds, _ = served(tmp_path)
    page = get(ds, "/cases/cand/3:20-cv-05910")
    assert page.status_code == 200
    html = page.text
    assert "Completeness: checked just now; 56 gaps" in html
    assert 'href="/gaps/cand/3:20-cv-05910.json"' in html
    # the hearing as reset (10/8), not the date it replaced (10/1); the response deadline
    assert "Next dates" in html and "2030-10-08" in html and "09:30" in html
    assert "2030-10-01" not in html.split("Next dates")[1].split("</section>")[0]
    assert 'href="/calendar/cand/3:20-cv-05910.ics"' in html
    assert "feed.atom?kind=judgment,opinion,order" in html
    orders = get(ds, "/cases/cand/3:20-cv-05910?kind=order").text
    assert "ORDER GRANTING" in orders and "MOTION for Preliminary" not in orders
    assert "1 of 3 entries" in orders
    # the search's kind filter
    found = get(ds, "/search?q=preliminary+injunction&kind=motion").text
    assert "1 docket entry matches" in found and "Docket entry 17" in found
    found = get(ds, "/search?q=preliminary+injunction").text
    assert "2 docket entries match" in found and "Docket entry 59" in found
