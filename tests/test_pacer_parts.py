"""The PACER spiders' parts, in this process: the appellate spider holds one
object per court system and asks the one that has the case; a part's
requests are written down by JOBDIR's queue and come back to the part."""
from __future__ import annotations

import pickle

from scrapy.http import HtmlResponse
from scrapy.utils.request import request_from_dict

from docket_spider.pacer.acms_docket import Acms
from docket_spider.pacer.cmecf_appellate import CmecfAppellate
from docket_spider.spiders.pacer_appellate import PacerAppellateSpider
from docket_spider.spiders.pacer_district import PacerDistrictSpider
from tests.inprocess import archive_settings, make_spider

GUID = "c8d83e85-5b6e-ec11-b820-00155d36fcd4"


def appellate(tmp_path, *args):
    return make_spider(PacerAppellateSpider, *args, settings=archive_settings(tmp_path))


def test_one_object_per_court_system(tmp_path):
    spider = appellate(tmp_path)
    assert isinstance(spider.cmecf, CmecfAppellate) and isinstance(spider.acms, Acms)
    assert spider.system is spider.cmecf and spider.system.what == "appellate_docket"
    spider = appellate(tmp_path, "docket_number=22-21", f"acms_case_id={GUID}")
    assert spider.system is spider.acms and spider.system.what == "acms_docket"
    assert spider.acms.case_id_from == "-a acms_case_id"
    # each owns its state: the token is the ACMS sign-in's, not the spider's
    assert not hasattr(spider, "bearer") and spider.acms.sign_in.bearer is None
    spider.acms.sign_in.bearer = "the-token"
    assert spider.credential_headers(None, "acms") == {"Authorization": "Bearer the-token"}


def test_documents_go_to_the_system_that_listed_them(tmp_path):
    spider = appellate(tmp_path, "docket_number=22-21", f"acms_case_id={GUID}")
    spider.cmecf.document = lambda ctx: iter([("cmecf", ctx["pacer_doc_id"])])
    spider.acms.document = lambda ctx: iter([("acms", ctx["pacer_doc_id"])])
    asked = list(spider.document_requests([{"pacer_doc_id": "1"},
                                           {"pacer_doc_id": "2", "acms_doc": {"pageCount": 1}}]))
    assert asked == [("cmecf", "1"), ("acms", "2")]


def test_a_parts_request_is_saved_by_name_and_comes_back_to_the_part(tmp_path):
    """JOBDIR's queue writes a request's callback by the name of a spider method:
    a part's request names the spider's ``answer`` and the part's step."""
    spider = appellate(tmp_path, "docket_number=22-21", f"acms_case_id={GUID}")
    request = spider.acms.sign_in.api_request(f"CaseDetailsByCaseId/{GUID}",
                                              spider.acms.parse_details, meta={"decision": None})
    assert request.callback == spider.answer and request.errback == spider.request_failed
    assert request.meta["step"] == "acms.parse_details"
    saved = pickle.loads(pickle.dumps(request.to_dict(spider=spider)))
    back = request_from_dict(saved, spider=spider)
    assert back.callback == spider.answer and back.meta["step"] == "acms.parse_details"
    assert spider.step(back.meta["step"]) == spider.acms.parse_details
    sign_in = spider.acms.sign_in.sign_in_request()
    assert sign_in.meta["step"] == "acms.sign_in.parse_sign_in"
    assert spider.step(sign_in.meta["step"]) == spider.acms.sign_in.parse_sign_in
    # nothing secret is in what the queue writes
    spider.acms.sign_in.bearer = "the-token"
    spider.session_token = "the-session"
    assert b"the-token" not in pickle.dumps(request.to_dict(spider=spider))
    assert b"the-session" not in pickle.dumps(request.to_dict(spider=spider))


def test_a_parts_answer_reaches_the_part(tmp_path):
    spider = appellate(tmp_path)
    seen = []
    spider.cmecf.parse_download_confirmation = lambda response: iter(
        [seen.append(response.url)])
    request = spider.pacer_request("https://ecf.ca9.uscourts.gov/docs1/1",
                                   spider.cmecf.parse_download_confirmation)
    # (the bound method was looked up before it was replaced: route by name)
    request.meta["step"] = "cmecf.parse_download_confirmation"
    list(spider.answer(HtmlResponse(request.url, body=b"<html></html>", request=request)))
    assert seen == ["https://ecf.ca9.uscourts.gov/docs1/1"]


def test_the_free_first_part_keeps_what_courtlistener_had(tmp_path):
    spider = make_spider(PacerDistrictSpider, settings=archive_settings(tmp_path))
    free = spider.free
    assert free.name == "free" and spider.step("free.parse_docket") == free.parse_docket
    free.taken_keys.add(("0350", 0))
    assert free.taken({"pacer_doc_id": "0350"}) and not free.taken({"pacer_doc_id": "0351"})
