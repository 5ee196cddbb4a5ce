"""Internet Archive RECAP docket XML (parsers.ia).

Golden files: every ../shared/corpus/pacer/internet_archive/*.xml compared
with its reference JSON as the scorer does, except the documented cases
where we keep data the reference drops.
"""
from __future__ import annotations

import pytest

from parsers import ParseError, parse
from parsers.ia import docket_xml_url, pdf_url

from .conftest import CORPUS, corpus_params, court_of, docket_mismatches, reference

TOP = ["docket_number", "case_name", "date_filed", "date_terminated", "assigned_to_str",
       "referred_to_str", "nature_of_suit", "cause", "jury_demand", "jurisdiction", "demand"]

# Where we deliberately differ from the reference (juriscraper):
KEPT_BY_US = {
    # the XML has <demand>; juriscraper always writes ""
    "nysb_171257.xml": ["demand: want '' got '$7343000'"],
    # "St." is part of the name; juriscraper drops every word like "St."
    "vaeb_538785.xml": ["assigned_to_str: want 'Stephen C. John' got 'Stephen C. St. John'"],
}


def _allowed(name, problem):
    if problem in KEPT_BY_US.get(name, []):
        return True
    # entries the XML lists without any <date_filed> element: juriscraper drops
    # them, we keep them (date_filed None, date_entered from the text)
    return problem.startswith("entry ('") and "', '', " in problem and problem.endswith("not in reference")


@pytest.mark.parametrize("path", corpus_params("internet_archive", "*.xml"))
def test_ia_golden(path):
    want = reference(path)
    got = parse("ia", path.read_bytes(), court_of(path))
    problems = [p for p in docket_mismatches(want, got, TOP) if not _allowed(path.name, p)]
    assert problems == []
    assert got["court_id"] == court_of(path)
    assert got["pacer_case_id"] and got["pacer_case_id"].isdigit()
    # the attachments match the reference's, in order
    want_atts = [[(a["attachment_number"], a.get("pacer_doc_id"), " ".join(a["description"].split()))
                  for a in e.get("attachments", [])] for e in want["docket_entries"]]
    got_by = {(e["document_number"], e["date_filed"]): e for e in got["docket_entries"]}
    for entry, atts in zip(want["docket_entries"], want_atts):
        other = got_by[(entry["document_number"], entry["date_filed"])]
        assert [(a["attachment_number"], a["pacer_doc_id"], a["description"])
                for a in other.get("attachments", [])] == atts


def test_recap_documents_give_pdf_names(shared):
    got = parse("ia", (CORPUS / "internet_archive" / "cand_194617.xml").read_bytes(), "cand")
    entry = next(e for e in got["docket_entries"] if e["document_number"] == "2")
    docs = entry["recap_documents"]
    assert [d["attachment_number"] for d in docs] == [0, 1, 2, 3]
    main = docs[0]
    assert main["is_available"] is True
    assert main["sha1"] == "a5ef18e0f7ef21976a2a87558a20f0fd914613b5"
    assert main["upload_date"] == "2009-08-05T01:41:21"
    assert main["ia_filename"] == "gov.uscourts.cand.194617.2.0.pdf"
    assert docs[1]["ia_filename"] == "gov.uscourts.cand.194617.2.1.pdf"
    assert docs[1]["description"] == "Standing Order"


def test_urls():
    assert pdf_url("cand", "364733", 17) == (
        "https://archive.org/download/gov.uscourts.cand.364733/gov.uscourts.cand.364733.17.0.pdf")
    assert docket_xml_url("cand", 364733) == (
        "https://archive.org/download/gov.uscourts.cand.364733/gov.uscourts.cand.364733.docket.xml")


SMALL = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE gov_uscourts_docket SYSTEM "docket.dtd">
<gov_uscourts_docket>
  <case_details>
    <court>cand</court><docket_num>3:20-cv-05910</docket_num>
    <case_name>U.S. WeChat Users Alliance et al v. Trump</case_name>
    <pacer_case_num>364733</pacer_case_num><date_case_filed>2020-08-21</date_case_filed>
    <assigned_to>Magistrate Judge Laurel Beeler</assigned_to>
  </case_details>
  <party_list><party><name>Donald J. Trump</name><type>Defendant</type>
    <attorney_list><attorney><attorney_name>Serena Orloff</attorney_name>
    <contact>DOJ
Washington, DC</contact><attorney_role>LEAD ATTORNEY
Designation: Government Attorney</attorney_role></attorney></attorney_list></party>
    <party><name></name><type>Defendant</type></party></party_list>
  <document_list>
    <document doc_num="1" attachment_num="0"><date_filed>2020-08-21</date_filed>
      <long_desc>COMPLAINT (Entered: 08/21/2020)</long_desc><available>0</available></document>
    <document doc_num="17" attachment_num="1"><short_desc>Exhibit</short_desc><available>1</available></document>
    <document doc_num="22" attachment_num="0"><date_filed>0000-00-00</date_filed>
      <long_desc>Opposition</long_desc></document>
  </document_list>
</gov_uscourts_docket>"""


def test_small_document():
    got = parse("ia", SMALL, None)
    assert got["court_id"] == "cand"
    assert got["case_name"] == "U.S. WeChat Users Alliance v. Trump"
    assert got["assigned_to_str"] == "Laurel Beeler"
    assert [p["name"] for p in got["parties"]] == ["Donald J. Trump"]  # nameless dropped
    atty = got["parties"][0]["attorneys"][0]
    assert atty["roles"] == ["LEAD ATTORNEY"] and atty["contact"] == "DOJ\nWashington, DC"
    numbers = [e["document_number"] for e in got["docket_entries"]]
    assert numbers == ["1", "17", "22"]
    assert got["docket_entries"][0]["recap_documents"][0]["is_available"] is False
    # an attachment without its main document still yields an entry
    assert got["docket_entries"][1]["attachments"][0]["attachment_number"] == "1"
    assert got["docket_entries"][2]["date_filed"] is None  # 0000-00-00


@pytest.mark.parametrize("text", [
    "", "<html><body>404 Not Found</body></html>", "<?xml version='1.0'?><foo/>",
    SMALL[: len(SMALL) // 2], "<gov_uscourts_docket></gov_uscourts_docket>",
    "<!DOCTYPE html><html><form><input type=password></form></html>", "not xml at all",
])
def test_not_ia_xml(text):
    with pytest.raises(ParseError):
        parse("ia", text, "cand")
