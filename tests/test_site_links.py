"""docket_links (archive/site/links.py): derived from what the records say, kept
current by refresh(), stored with the archive from every source that says it."""
from __future__ import annotations

from pathlib import Path

import parsers
from archive import db as adb
from archive import load, origins
from archive.site import links as site_links
from parsers import courtlistener as cl

FIXTURES = Path(__file__).parent / "fixtures"
DISTRICT = ("cand", "3:20-cv-05910")
APPEAL = ("ca9", "20-16908")


def links(db, docket_id=None):
    sql = "select docket_id, kind, other_court_id, other_docket_number, other_docket_id, " \
          "entry_id from docket_links"
    rows = [tuple(r) for r in db.execute(sql + " order by id").fetchall()]
    return [r for r in rows if docket_id is None or r[0] == docket_id]


def district(db):
    court, number = DISTRICT
    adb.save_docket(db, {"court_id": court, "docket_number": number,
                         "case_name": "U.S. WeChat Users Alliance v. Trump"})
    for n, day, text in ((59, "2020-09-19", "ORDER GRANTING MOTION FOR PRELIMINARY INJUNCTION"),
                         (78, "2020-10-01", "NOTICE OF APPEAL to the 9th Circuit Court of Appeals "
                                            "as to 59 Order by Donald J. Trump, Wilbur Ross.")):
        adb.save_entry(db, {"court_id": court, "docket_number": number, "entry_number": n,
                            "date_filed": day, "description": text})


def refresh(db, ids=None):
    with adb.transaction(db):
        site_links.ensure_shape(db)
        return site_links.refresh(db, ids)


def test_the_appeal_found_by_its_origin_and_the_notice_by_its_date(tmp_path):
    db = adb.open_db(str(tmp_path / "a.db"))
    district(db)
    assert refresh(db) == 0 and links(db) == []
    # the appeal's PACER docket report names the district case and the notice's date
    record = parsers.parse("appellate", (FIXTURES / "pacer" / "ca9_20-16908.html").read_bytes(),
                           court="ca9")
    load.save_parsed_docket(db, record, source="pacer", court_id="ca9")
    assert db.execute("select docket_id, court_id, date_filed_noa, source "
                      "from docket_origins").fetchall() == [
        ("ca9/20-16908", "cand", "2020-10-01", "pacer")]
    # the appeal alone is refreshed: the district's side is rewritten too
    assert refresh(db, ["ca9/20-16908"]) == 2
    noa = "cand/3:20-cv-05910#78"
    assert links(db) == [
        ("ca9/20-16908", "appealed from", "cand", "3:20-cv-05910", "cand/3:20-cv-05910", noa),
        ("cand/3:20-cv-05910", "appeal", "ca9", "20-16908", "ca9/20-16908", noa)]
    basis = db.execute("select basis from docket_links limit 1").fetchone()[0]
    assert "originating case number (PACER)" in basis and "notice of appeal, entry 78" in basis
    # the same again changes nothing; a whole refresh gives the same rows
    before = links(db)
    refresh(db, ["cand/3:20-cv-05910"])
    assert links(db) == before
    refresh(db)
    assert links(db) == before


def test_a_courtlistener_appeal_and_a_usca_number_entry(tmp_path):
    db = adb.open_db(str(tmp_path / "b.db"))
    district(db)
    # the district docket names an appeal not archived yet
    adb.save_entry(db, {"court_id": "cand", "docket_number": "3:20-cv-05910", "entry_number": 80,
                        "date_filed": "2020-10-02",
                        "description": "USCA Case Number 20-16908 9th Circuit Court of Appeals "
                                       "for 78 Notice of Appeal"})
    refresh(db, ["cand/3:20-cv-05910"])
    assert links(db) == [("cand/3:20-cv-05910", "appeal", "ca9", "20-16908", None,
                          "cand/3:20-cv-05910#78")]
    # then CourtListener's docket of the appeal arrives (as a crawl's DocketItem)
    item = cl.parse_docket({"id": 18466381, "court_id": "ca9", "docket_number": "20-16908",
                            "case_name": "U.S. WeChat Users Alliance v. Trump",
                            "appeal_from": "https://www.courtlistener.com/api/rest/v4/courts/cand/",
                            "original_court_info": {"docket_number": "3:20-cv-05910-LB",
                                                    "date_filed_noa": "2020-10-01"}})
    load.save_item(db, "DocketItem", item)
    assert db.execute("select source from docket_origins").fetchone()[0] == "courtlistener"
    refresh(db, ["ca9/20-16908"])
    assert [(r[0], r[4]) for r in links(db)] == [("ca9/20-16908", "cand/3:20-cv-05910"),
                                                 ("cand/3:20-cv-05910", "ca9/20-16908")]
    # the appeal gone from the archive: the district's link names it, unarchived
    db.execute("delete from dockets where id = 'ca9/20-16908'")
    refresh(db, ["ca9/20-16908"])
    assert links(db) == [("cand/3:20-cv-05910", "appeal", "ca9", "20-16908", None,
                          "cand/3:20-cv-05910#78")]


def test_same_name_alone_is_no_link_and_an_origin_elsewhere_is_named(tmp_path):
    db = adb.open_db(str(tmp_path / "c.db"))
    district(db)
    adb.save_docket(db, {"court_id": "ca9", "docket_number": "20-16908",
                         "case_name": "U.S. WeChat Users Alliance v. Trump",
                         "appeal_from_str": "U.S. District Court for Northern California"})
    refresh(db)
    assert links(db) == []
    # an appeal from a case the archive does not have
    adb.save_docket(db, {"court_id": "ca9", "docket_number": "17-15589"})
    with adb.transaction(db):
        origins.save_origin(db, "ca9", "17-15589", {"court_id": "hid",
                                                    "docket_number": "1:17-cv-00050-DKW"}, "pacer")
    refresh(db, ["ca9/17-15589"])
    assert links(db) == [("ca9/17-15589", "appealed from", "hid", "1:17-cv-00050", None, None)]
    # a source that does not know a field keeps another's
    assert origins.save_origin(db, "ca9", "17-15589", {"court_id": None,
                                                       "docket_number": "1:17-cv-00050"},
                               "acms") == "changed"
    assert db.execute("select court_id from docket_origins").fetchone()[0] == "hid"
