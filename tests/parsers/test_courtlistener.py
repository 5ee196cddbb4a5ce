"""parsers/courtlistener.py: CourtListener API v4 records -> plain data."""
from __future__ import annotations

import pytest

from parsers import courtlistener as cl

CTX = {"court_id": "cand", "docket_number": "3:20-cv-05910", "pacer_case_id": "364733"}
STORAGE = "https://storage.courtlistener.com/"


def test_a_docket_is_plain_data_named_as_the_archive_names_it():
    row = cl.parse_docket({"id": 18226384, "court_id": "cand", "docket_number": "3:20-cv-05910",
                           "case_name": "U.S. WeChat Users Alliance v. Trump",
                           "pacer_case_id": 364733, "date_filed": "2020-08-21",
                           "jurisdiction_type": "U.S. Government Defendant",
                           "absolute_url": "/docket/18226384/us-wechat-users-alliance-v-trump/"})
    assert row["source"] == "courtlistener" and row["pacer_case_id"] == "364733"
    assert row["jurisdiction_type"] == "U.S. Government Defendant"
    assert row["source_url"] == ("https://www.courtlistener.com/docket/18226384/"
                                 "us-wechat-users-alliance-v-trump/")
    assert all(not hasattr(v, "__dict__") for v in row.values())  # no objects, no items


def test_an_entry_comes_whole_with_its_documents_and_their_files():
    entry, docs = cl.parse_entry(CTX, {
        "id": 1, "entry_number": "17", "date_filed": "2020-09-08", "description": "ORDER",
        "recap_documents": [
            {"id": 2, "document_number": "17", "attachment_number": None, "document_type": 1,
             "pacer_doc_id": "035119478867", "is_available": True, "page_count": 3,
             "filepath_local": "/recap/gov.uscourts.cand.364733.17.0.pdf"},
            {"id": 3, "attachment_number": 1, "document_type": 2, "is_available": False}]},
        STORAGE)
    assert entry["entry_number"] == 17 and entry["description"] == "ORDER"
    assert docs[0]["file_urls"] == [STORAGE + "recap/gov.uscourts.cand.364733.17.0.pdf"]
    assert docs[1]["file_urls"] == [] and docs[1]["document_number"] == "17"


@pytest.mark.parametrize("entry, message", [
    ({"entry_number": "seventeen"}, "its entry_number is 'seventeen', not a number"),
    ({"entry_number": 1, "recap_documents": ["x"]}, "its recap_documents holds str"),
    ({"entry_number": 1, "description": ["a"]}, "its description is list, not text"),
])
def test_a_record_of_another_shape_raises_naming_the_field(entry, message):
    with pytest.raises(cl.BAD_RECORD, match=message):
        cl.parse_entry(CTX, entry, STORAGE)


def test_an_attorney_is_linked_to_the_parties_it_represents_by_role():
    row = cl.parse_attorney(CTX, {"id": 9, "name": "Michael W. Bien", "parties_represented": [
        {"party": "https://www.courtlistener.com/api/rest/v4/parties/5/", "role": 2},
        {"party_id": 6, "role": 1}, {"party_id": 7, "role": 1}]},
        {5: "U.S. WeChat Users Alliance", 6: "Chihuo Inc."})
    assert row["parties"] == [{"party": "U.S. WeChat Users Alliance", "roles": ["Lead attorney"]},
                              {"party": "Chihuo Inc.", "roles": ["Attorney to be noticed"]}]
