"""parsers.links: the ties between a district case and its appeals, from the
records' own words (entries, originating court information), never the name."""
from __future__ import annotations

import pytest

import parsers
from parsers.links import (
    appeals_in_entry, circuit_named, circuit_of, link_cases, origin_of_courtlistener,
    origin_of_record, same_number, state_of,
)
from tests.conftest import shared_or_skip


@pytest.mark.parametrize("court, state, circuit", [
    ("cand", "ca", "ca9"), ("mied", "mi", "ca6"), ("nysb", "ny", "ca2"), ("mad", "ma", "ca1"),
    ("med", "me", "ca1"), ("mdd", "md", "ca4"), ("dcd", "dc", "cadc"), ("nmid", "nmi", "ca9"),
    ("nmd", "nm", "ca10"), ("prd", "pr", "ca1"), ("lamd", "la", "ca5"), ("ca9", None, None),
    ("cafc", None, None), ("", None, None), ("xyz", None, None)])
def test_courts(court, state, circuit):
    assert state_of(court) == state and circuit_of(court) == circuit


@pytest.mark.parametrize("text, circuit", [
    ("NOTICE OF APPEAL to the 9th Circuit Court of Appeals", "ca9"),
    ("USCA- 11th Circuit, 22-12696-DD", "ca11"), ("the Fifth Circuit", "ca5"),
    ("U.S. Court of Appeals for the D.C. Circuit", "cadc"), ("the Federal Circuit", "cafc"),
    ("9th Cir. No. 20-16908", "ca9"), ("a circuit breaker", None), ("appeal", None)])
def test_circuit_named(text, circuit):
    assert circuit_named(text) == circuit


def test_numbers_printed_two_ways_are_one_case():
    assert same_number("3:20-cv-5910-LB", "3:20-cv-05910")
    assert same_number("20-cv-05910", "3:20-cv-05910")
    assert same_number("22-12696-DD", "22-12696")
    assert not same_number("3:20-cv-05910", "3:20-cv-05911")
    assert not same_number("3:20-cv-05910", "4:20-cv-05910")
    assert not same_number(None, "20-16908")


def test_what_district_entries_say():
    noa = appeals_in_entry("NOTICE OF APPEAL to the 9th Circuit Court of Appeals as to 59 Order on "
                           "Motion for Preliminary Injunction by Donald J. Trump", "cand")
    assert noa == [{"kind": "notice of appeal", "court_id": "ca9"}]
    usca = appeals_in_entry("USCA Case Number 20-16908 9th Circuit Court of Appeals for 78 Notice "
                            "of Appeal to the 9th Circuit Court of Appeals", "cand")
    assert usca == [{"kind": "appeal number", "court_id": "ca9", "docket_number": "20-16908",
                     "notice_entry_number": 78}]
    # the circuit of the district when the text names none; suffixes dropped
    assert appeals_in_entry("USCA Case Number 18-31050 for 9 Notice of Appeal", "lamd")[0][
        "court_id"] == "ca5"
    assert appeals_in_entry("USCA- 11th Circuit, 22-12696-DD", "gand")[0]["docket_number"] == \
        "22-12696"
    assert appeals_in_entry("SCHEDULING LETTER from USCA - 8th Circuit (case number 16-4166) as "
                            "to Notice of Appeal to USCA 132", "ned")[0]["notice_entry_number"] == 132
    # not an appeal's number: a receipt, a bankruptcy case, a BAP's number, a date
    for text in ("Filing fee $ 505, receipt number 0971-15100425", "Transferred from 19-30088",
                 "BAP #10-1099 Internal Appeal #10-S010", "Hearing 2020-10-01 on appeal",
                 "ORDER re 59 motion (Filed on 10/1/2020)"):
        assert [f for f in appeals_in_entry(text, "cand") if f["kind"] == "appeal number"] == [], text
    # a notice of appeal to the district judge, or from a bankruptcy court, is not to a circuit
    assert appeals_in_entry("NOTICE OF APPEAL to District Judge re Magistrate's order", "cand") == []
    assert appeals_in_entry("Notice of Appeal (related document(s)43) filed by X", "nysb") == []
    assert appeals_in_entry(None) == [] and appeals_in_entry("") == []


def test_origins_of_parsed_appeals_and_courtlistener():
    assert origin_of_record({"originating_court_information": {
        "court_id": "cand", "docket_number": "3:20-cv-05910-LB", "date_filed_noa": "2020-10-01"}}) \
        == {"court_id": "cand", "docket_number": "3:20-cv-05910-LB",
            "date_filed_noa": "2020-10-01", "date_received_coa": None}
    # an agency's case (an alien number) is no district case
    assert origin_of_record({"originating_court_information": {
        "RESTRICTED_ALIEN_NUMBER": "A999-999-999", "court_id": ""}}) is None
    assert origin_of_record({}) is None and origin_of_record("x") is None
    cl = origin_of_courtlistener({
        "appeal_from": "https://www.courtlistener.com/api/rest/v4/courts/cand/",
        "original_court_info": {"docket_number": "3:20-cv-05910-LB", "date_filed_noa": "2020-10-01",
                                "date_received_coa": "2020-10-01T00:00:00"}})
    assert cl == {"court_id": "cand", "docket_number": "3:20-cv-05910-LB",
                  "date_filed_noa": "2020-10-01", "date_received_coa": "2020-10-01"}
    assert origin_of_courtlistener({"original_court_info": None}) is None


def test_corpus_appeals_name_their_district_case():
    folder = shared_or_skip("corpus", "pacer", "appellate")
    origins = {}
    for name in ("ca1.html", "ca9_1.html", "ca6_1.html", "ca5_212643.html", "bap9_15-1074.html"):
        origins[name] = origin_of_record(parsers.parse("appellate", (folder / name).read_bytes()))
    assert origins["ca9_1.html"]["court_id"] == "hid"
    assert same_number(origins["ca9_1.html"]["docket_number"], "1:17-cv-00050")
    assert origins["ca1.html"]["court_id"] == "mad" and origins["ca1.html"]["date_filed_noa"]
    assert origins["ca5_212643.html"]["court_id"] == "lawd"
    assert origins["bap9_15-1074.html"]["court_id"] == "nvb"
    # a BIA petition names no district case
    assert origin_of_record(parsers.parse("appellate", (folder / "ca1_2.html").read_bytes())) is None


def test_corpus_district_dockets_name_their_appeals():
    folder = shared_or_skip("corpus", "pacer", "district")
    record = parsers.parse("district", (folder / "lamd.html").read_bytes(), court="lamd")
    said = [(e.get("document_number"), f["kind"], f.get("docket_number"))
            for e in record["docket_entries"]
            for f in appeals_in_entry(e.get("description"), "lamd")]
    assert ("9", "notice of appeal", None) in [(str(n), k, d) for n, k, d in said]
    assert {d for _, k, d in said if k == "appeal number"} == {"18-31050"}


DISTRICT = {"id": "cand/3:20-cv-05910", "court_id": "cand", "docket_number": "3:20-cv-05910",
            "date_filed": "2020-08-21"}
APPEAL = {"id": "ca9/20-16908", "court_id": "ca9", "docket_number": "20-16908",
          "date_filed": "2020-10-01"}
NOA = {"id": "cand/3:20-cv-05910#78", "docket_id": DISTRICT["id"], "entry_number": 78,
       "date_filed": "2020-10-01",
       "description": "NOTICE OF APPEAL to the 9th Circuit Court of Appeals as to 59 Order"}
STAY = {"id": "cand/3:20-cv-05910#68", "docket_id": DISTRICT["id"], "entry_number": 68,
        "date_filed": "2020-09-24", "description": "MOTION to Stay re 59 Order Pending Appeal"}


def test_the_notice_of_appeal_links_to_its_appeal():
    origin = {"docket_id": APPEAL["id"], "court_id": "cand", "docket_number": "3:20-cv-05910-LB",
              "date_filed_noa": "2020-10-01", "source": "CourtListener"}
    links = link_cases([DISTRICT, APPEAL], [origin], [STAY, NOA])
    assert len(links) == 1
    link = links[0]
    assert (link["district_id"], link["appeal_id"], link["entry_id"]) == (
        DISTRICT["id"], APPEAL["id"], NOA["id"])
    assert "originating case number" in link["basis"] and "notice of appeal, entry 78" in link["basis"]
    # without the notice's date: the last notice in the weeks before the appeal was docketed
    links = link_cases([DISTRICT, APPEAL], [dict(origin, date_filed_noa=None)], [NOA])
    assert links[0]["entry_id"] == NOA["id"]
    # the same names and no tie: no link
    assert link_cases([DISTRICT, APPEAL], [], [STAY]) == []


def test_a_usca_number_in_the_district_docket_links_archived_or_not():
    usca = {"id": "cand/3:20-cv-05910#80", "docket_id": DISTRICT["id"], "entry_number": 80,
            "date_filed": "2020-10-02",
            "description": "USCA Case Number 20-16908 9th Circuit Court of Appeals for 78 Notice "
                           "of Appeal"}
    links = link_cases([DISTRICT, APPEAL], [], [NOA, usca])
    assert [(l["appeal_id"], l["entry_id"]) for l in links] == [(APPEAL["id"], NOA["id"])]
    assert "entry 80" in links[0]["basis"]
    # the appeal not archived: named by court and number
    links = link_cases([DISTRICT], [], [NOA, usca])
    assert [(l["appeal_id"], l["appeal_court_id"], l["appeal_docket_number"]) for l in links] == [
        (None, "ca9", "20-16908")]
    # an appeal whose district case is not archived names it
    links = link_cases([APPEAL], [{"docket_id": APPEAL["id"], "court_id": "cand",
                                   "docket_number": "3:20-cv-05910-LB"}], [])
    assert [(l["district_id"], l["district_court_id"], l["district_docket_number"])
            for l in links] == [(None, "cand", "3:20-cv-05910")]


def test_two_appeals_of_one_case_each_get_their_notice():
    second = {"id": "ca9/21-15000", "court_id": "ca9", "docket_number": "21-15000",
              "date_filed": "2021-03-02"}
    noa2 = dict(NOA, id="cand/3:20-cv-05910#120", entry_number=120, date_filed="2021-03-01")
    origins = [{"docket_id": a["id"], "court_id": "cand", "docket_number": "3:20-cv-05910"}
               for a in (APPEAL, second)]
    links = {l["appeal_id"]: l["entry_id"] for l in link_cases([DISTRICT, APPEAL, second],
                                                                origins, [NOA, noa2])}
    assert links == {APPEAL["id"]: NOA["id"], second["id"]: noa2["id"]}
