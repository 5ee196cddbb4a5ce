"""The real `scrapy crawl pacer_*` against a local PACER (tests/servers/pacer/).

The server bills every answer as PACER would (``server.charges``); the
spiders' own ledger (``pacer_charges``) must agree with it, and must never go
over the budget.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED, rows, run_crawl, shared_or_skip
from tests.servers.ca9 import Ca9Server
from tests.servers.pacer import PacerServer, _parse_body

USER = "wechat-user"
PASSWORD = "Sup3r-s3cret-Pa55word!"
CAND = ("cand", "364733")
CL_FAST = {"COURTLISTENER_RATE_PER_MINUTE": "1200"}  # the local CourtListener needs no pacing


@pytest.fixture
def server():
    """The local PACER, with the Ninth Circuit's free decisions feeds beside it
    (``server.ca9``), so no crawl ever reaches for the real ca9.uscourts.gov."""
    shared = SHARED if SHARED.exists() else None
    with PacerServer(shared, username=USER, password=PASSWORD) as srv, Ca9Server(shared) as ca9:
        srv.ca9 = ca9
        yield srv


def crawl(server, tmp_path, spider, *args, user=USER, password=PASSWORD, env=None, settings=None,
          extra=()):
    creds = {}
    if user is not None:
        creds["PACER_USERNAME"] = user
    if password is not None:
        creds["PACER_PASSWORD"] = password
    return run_crawl(spider, args=args, env={**creds, **(env or {})},
                     db=tmp_path / "dockets.db", files=tmp_path / "files",
                     settings={**server.settings(), **server.ca9.settings(), **(settings or {})},
                     timeout=120,
                     extra=extra)


def ledger(tmp_path, status="charged"):
    return rows(tmp_path / "dockets.db", "select * from pacer_charges where status = ? order by id",
                [status])


def spy_reports(server):
    """Record the form fields of every docket report request."""
    seen = []
    original = server._report

    def report(request, court, user):
        seen.append(_parse_body(request))
        return original(request, court, user)

    server._report = report
    return seen


def assert_ledger_matches(server, tmp_path):
    """Our ledger (charged, and free: PACER showed $0.00) is PACER's, purchase for purchase."""
    ours = ledger(tmp_path) + ledger(tmp_path, "free")
    theirs = server.charges
    assert len(ours) == len(theirs), (ours, theirs)
    assert all(r["pacer_cost"] == 0 for r in ledger(tmp_path, "free"))
    ours = ledger(tmp_path)
    theirs = [c for c in server.charges if c["cost"]]

    def paid(row):
        return round(row["pacer_cost"] if row["pacer_cost"] is not None else row["cost"], 2)

    assert sorted((r["what"], paid(r)) for r in ours) == \
        sorted((c["what"], round(c["cost"], 2)) for c in theirs)
    # our own fee-rule figure is never below what PACER billed
    assert all(r["cost"] >= paid(r) for r in ours)


def test_without_credentials_it_stops_with_help(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_district", user=None, password=None)
    assert "PACER credentials are not set" in log and "PACER_USERNAME" in log
    assert "Traceback" not in log
    assert server.log.tally() == 0
    assert rows(tmp_path / "dockets.db", "select status from crawls")[0]["status"] == "failed"


def test_a_bad_budget_is_a_clear_error(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_district", "max_cost=five")
    assert "is not an amount of dollars" in log
    assert "Traceback" not in log
    assert server.log.tally() == 0


def test_a_failed_report_is_retried_and_billed_once(server, tmp_path):
    server.fail_next("DktRpt.pl", 500)
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=3")
    assert code == 0, log[-3000:]
    assert len(server.charges) == 1
    assert_ledger_matches(server, tmp_path)


def test_without_a_budget_nothing_is_bought(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_district", "docket_number=3:20-cv-05910-LB")
    assert code == 0, log[-3000:]
    assert server.charges == []
    assert server.log.tally(kind="docket_report") == 0
    would = ledger(tmp_path, "would_buy")
    assert [(r["what"], r["cost"]) for r in would] == [("docket_report", 3.0)]
    assert "Would buy the docket report" in log
    assert "nothing was bought; it would have cost up to $3.00" in log
    assert "Traceback" not in log


def test_budget_smaller_than_a_report_buys_nothing(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=2.99")
    assert code == 0, log[-3000:]
    assert server.charges == []
    assert [r["what"] for r in ledger(tmp_path, "over_budget")] == ["docket_report"]
    assert "could cost up to $3.00" in log


def test_buy_the_docket_then_only_new_entries(server, tmp_path):
    reports = spy_reports(server)
    db = tmp_path / "dockets.db"
    code, log = crawl(server, tmp_path, "pacer_district", "docket_number=3:20-cv-05910-LB",
                      "max_cost=5.00")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert_ledger_matches(server, tmp_path)
    assert server.total_cost() <= 5.00
    assert reports[0]["date_from"] == "" and reports[0]["documents_numbered_from_"] == ""
    docket = rows(db, "select * from dockets")
    assert [d["id"] for d in docket] == ["cand/3:20-cv-05910"]
    assert docket[0]["pacer_case_id"] == "364733"
    entries = rows(db, "select * from docket_entries")
    numbers = {e["entry_number"] for e in entries}
    assert {1, 17, 22, 48, 49, 59, 68, 78, 96} <= numbers
    assert rows(db, "select count(*) as n from parties")[0]["n"] >= 2
    assert rows(db, "select count(*) as n from attorneys")[0]["n"] >= 2
    assert "PACER: spent $%.2f of the $5.00 budget" % server.total_cost() in log
    first_cost = server.total_cost()

    # a new filing on PACER: the next crawl asks only for what came after
    server.add_entry("cand", "364733", 97, "2020-11-02", "ORDER re Status Report. Signed by Judge Beeler.")
    code, log2 = crawl(server, tmp_path, "pacer_district", "docket_number=3:20-cv-05910-LB",
                       "max_cost=5.00")
    assert code == 0, log2[-3000:]
    last = max(e["date_filed"] for e in entries)
    y, m, d = last.split("-")
    assert reports[1]["date_from"] == f"{m}/{d}/{y}"
    # no number range: it would drop unnumbered entries, as PACER does
    assert reports[1]["documents_numbered_from_"] == ""
    after = rows(db, "select * from docket_entries")
    assert len(after) == len(entries) + 1
    assert {e["entry_number"] for e in after} - numbers == {97}
    # the small report costs less than the whole docket
    assert server.charges[1]["cost"] < server.charges[0]["cost"] or first_cost <= 0.10
    assert_ledger_matches(server, tmp_path)
    assert f"asking only for entries filed from {m}/{d}/{y} on" in log2

    # -a full=1 asks for everything again
    code, log3 = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=5",
                       "full=1")
    assert code == 0
    assert reports[2]["date_from"] == "" and reports[2]["documents_numbered_from_"] == ""


def test_bankruptcy_court_docket_report(server, tmp_path):
    """A bankruptcy court's DktRpt.pl is bought and stored like a district
    court's, and the case's chapter, trustee and dates converted and
    discharged land in its dockets row (real page: corpus txnb_300577)."""
    shared_or_skip("corpus", "pacer", "bankruptcy", "txnb_300577.html")
    db = tmp_path / "dockets.db"
    code, log = crawl(server, tmp_path, "pacer_district", "court=txnb", "pacer_case_id=300577",
                      "max_cost=5")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert_ledger_matches(server, tmp_path)
    [docket] = rows(db, "select * from dockets")
    assert docket["id"] == "txnb/08-40814"
    assert docket["case_name"] == "Mark A. Downs"
    assert (docket["chapter"], docket["trustee_str"]) == (7, "Tim Truman")
    assert (docket["date_converted"], docket["date_discharged"]) == ("2008-07-02", "2008-10-20")
    assert docket["date_filed"] == "2008-02-25"
    # the court prints entry numbers inside the docket text: they are read from there
    entries = rows(db, "select * from docket_entries where docket_id = 'txnb/08-40814'")
    numbers = {e["entry_number"] for e in entries}
    assert {1, 2, 3, 5, 8} <= numbers
    first = next(e for e in entries if e["entry_number"] == 1)
    assert first["description"].startswith("Chapter 13 Voluntary Petition (case upload)")
    types = {r["party_type"] for r in rows(db, "select party_type from parties")}
    assert {"Debtor", "Trustee", "U.S. Trustee"} <= types


def test_documents_within_budget(server, tmp_path):
    budget = 4.00
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733",
                      f"max_cost={budget}", "documents=1")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert_ledger_matches(server, tmp_path)
    assert 0 < server.total_cost() <= budget
    bought = [c for c in server.charges if c["what"] == "document"]
    assert bought, "some documents fit in the budget"
    skipped = ledger(tmp_path, "over_budget")
    if SHARED.exists():  # with the real PDFs they do not all fit (document 1 is 30+ pages)
        assert skipped, "the rest were skipped, not bought"
    assert all(server.total_cost() + r["cost"] > budget - 1e-9 or r["cost"] >= 3.0 for r in skipped)
    stored = rows(tmp_path / "dockets.db",
                  "select * from documents where file_path is not null and source = 'pacer'")
    by_id = {d["pacer_doc_id"]: d for d in rows(tmp_path / "dockets.db", "select * from documents")}
    for charge in bought:  # every PDF paid for is stored (or its failure recorded)
        doc = by_id[charge["doc_id"]]
        assert doc["file_path"] or doc["status"] == "download_failed", doc
    assert stored and all(d["sha256"] and d["text"] is not None for d in stored)
    assert all((tmp_path / "files" / d["file_path"]).is_file() for d in stored)


def test_documents_without_budget_are_priced(server, tmp_path):
    # the docket is archived first (bought), then documents are only priced
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=3")
    assert code == 0
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "documents=1",
                      "full=1")
    assert code == 0, log[-3000:]
    # only the first crawl's report cost money; free documents (opinions) were fetched
    assert [c["what"] for c in server.charges if c["cost"]] == ["docket_report"]
    assert server.log.tally(kind="document") == len(ledger(tmp_path, "free"))
    would = ledger(tmp_path, "would_buy")
    docs = [r for r in would if r["what"] == "document"]
    assert docs and all(r["pages"] and r["cost"] == min(r["pages"], 30) / 10 for r in docs)
    assert "Would buy document" in log


@pytest.mark.parametrize("account, kwargs, expected", [
    ("wrong password", dict(password="not-the-password"), "Check PACER_USERNAME and PACER_PASSWORD"),
    ("mfa", dict(user="mfauser", password="mfa-Pa55word!"), "Set PACER_OTP"),
    ("mfa bad code", dict(user="mfauser", password="mfa-Pa55word!", env={"PACER_OTP": "000000"}),
     "refused the one-time code"),
    ("password change", dict(user="changepw", password="old-Pa55word!"), "password changed"),
])
def test_login_problems_are_clear(server, tmp_path, account, kwargs, expected):
    server.add_account("mfauser", "mfa-Pa55word!", mfa=True, otp_code="654321")
    server.add_account("changepw", "old-Pa55word!", state="change_password")
    code, log = crawl(server, tmp_path, "pacer_district", "max_cost=5", **kwargs)
    assert expected in log, log[-2000:]
    assert "Traceback" not in log
    assert kwargs["password"] not in log
    assert server.charges == []
    assert server.log.tally(kind="docket_report") == 0


def test_mfa_with_the_code_works(server, tmp_path):
    server.add_account("mfauser", "mfa-Pa55word!", mfa=True, otp_code="654321")
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=3",
                      user="mfauser", password="mfa-Pa55word!", env={"PACER_OTP": "654321"})
    assert code == 0, log[-2000:]
    assert len(server.charges) == 1


def test_expired_session_logs_in_again_once(server, tmp_path):
    original = server._possible
    calls = []

    def possible(court, query):
        calls.append(query)
        if len(calls) == 1:
            server.expire_sessions()
            return server.login_page()
        return original(court, query)

    server._possible = possible
    code, log = crawl(server, tmp_path, "pacer_district", "docket_number=3:20-cv-05910-LB",
                      "max_cost=3")
    assert code == 0, log[-3000:]
    assert "logging in again" in log
    assert server.log.tally(kind="login") == 2
    assert len(server.charges) == 1
    assert rows(tmp_path / "dockets.db", "select count(*) as n from docket_entries")[0]["n"] > 5


def test_secrets_appear_nowhere(server, tmp_path):
    cache = tmp_path / "httpcache"
    code, log = crawl(server, tmp_path, "pacer_district", "docket_number=3:20-cv-05910-LB",
                      "max_cost=5", "documents=1",
                      settings={"HTTPCACHE_ENABLED": "True", "HTTPCACHE_DIR": str(cache),
                                "JOBDIR": str(tmp_path / "job")},
                      env={"PACER_CLIENT_CODE": "client-code-xyz"},
                      extra=["-o", str(tmp_path / "items.jsonl")])
    assert code == 0, log[-3000:]
    assert (tmp_path / "items.jsonl").stat().st_size > 0
    secrets = [PASSWORD] + list(server.sessions)
    assert server.sessions, "the crawl logged in"
    for secret in secrets:
        assert secret not in log
    blobs = [Path(tmp_path / "dockets.db").read_bytes()]
    blobs += [p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file()
              and p.suffix != ".pdf"]
    for blob in blobs:
        for secret in secrets:
            assert secret.encode() not in blob
    charges = ledger(tmp_path)
    assert all("?" not in (c["url"] or "") for c in charges)


def test_appellate_cmecf(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_appellate", "max_cost=3")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    # no GUID known for ca9 20-16908: CM/ECF, and the log says so
    assert ("ca9 20-16908: no ACMS case GUID known (none given with -a acms_case_id, none in "
            "the archive, CourtListener not asked: COURTLISTENER_TOKEN is not set): asking CM/ECF"
            ) in log
    assert server.log.tally(kind="acms") == 0 and server.log.tally(kind="acms_api") == 0
    assert_ledger_matches(server, tmp_path)
    assert [c["what"] for c in server.charges] == ["appellate_docket"]
    docket = rows(tmp_path / "dockets.db", "select * from dockets")
    assert [d["id"] for d in docket] == ["ca9/20-16908"]
    assert rows(tmp_path / "dockets.db", "select count(*) as n from docket_entries")[0]["n"] >= 5


def test_appellate_without_budget(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_appellate")
    assert code == 0
    assert server.charges == [] and server.log.tally(kind="appellate_docket") == 0
    assert [r["cost"] for r in ledger(tmp_path, "would_buy")] == [3.0]


def test_appellate_acms(server, tmp_path):
    found = [(key[1], c) for key, c in server.acms.items() if key[0] == "ca9"]
    if not found:
        pytest.skip("../shared not found: the ACMS dockets served are the corpus's")
    guid, case = found[0]
    code, log = crawl(server, tmp_path, "pacer_appellate", f"docket_number={case.docket_number}",
                      f"acms_case_id={guid}", "max_cost=3")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    # one PACER login, then ACMS's sign-in: / (the SAML form), /Saml2/Acs, /Home/IndexContent
    assert server.log.tally(kind="login") == 1
    assert server.log.tally(kind="acms") == 1
    assert server.log.tally(kind="acms_saml") == 1
    assert server.log.tally(kind="acms_index") == 1
    assert server.log.tally(kind="acms_api") == 2
    assert f"ca9 {case.docket_number}: ACMS case {guid} (from -a acms_case_id): asking ACMS" in log
    assert "Signed in to ACMS (ca9)" in log and "ACMS (ca9) gave an API token" in log
    entries = rows(tmp_path / "dockets.db", "select * from docket_entries")
    assert len(entries) == len(case.data["docketInfo"]["docketEntries"])
    # the budget still holds: the ACMS docket was priced at its byte count
    assert sum(c["cost"] for c in ledger(tmp_path)) <= 3.0


def test_rss_records_new_entries_of_archived_cases(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=3")
    assert code == 0
    before = rows(tmp_path / "dockets.db", "select count(*) as n from docket_entries")[0]["n"]
    server.add_entry("cand", "364733", 97, "2020-11-02", "ORDER re Status Report",
                     doc_id="035019400001")
    code, log = crawl(server, tmp_path, "pacer_rss", "court=cand", user=None, password=None)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert server.log.tally(kind="login") == 1  # the first crawl's only: RSS needs none
    assert "cand 3:20-cv-05910: 1 new entries" in log
    after = rows(tmp_path / "dockets.db", "select * from docket_entries")
    assert len(after) == before + 1
    assert 97 in {e["entry_number"] for e in after}
    # only cases already in the archive
    assert [d["id"] for d in rows(tmp_path / "dockets.db", "select id from dockets")] == \
        ["cand/3:20-cv-05910"]
    assert len(server.charges) == 1
    # run again: nothing new
    code, log = crawl(server, tmp_path, "pacer_rss", "court=cand", user=None, password=None)
    assert "cand 3:20-cv-05910: 0 new entries" in log


def test_courtlistener_first_for_documents(server, tmp_path):
    from tests.servers.cases import wechat_cases
    from tests.servers.courtlistener import CourtListenerServer

    token = "cl-token-for-pacer-test"
    with CourtListenerServer(wechat_cases(SHARED if SHARED.exists() else None), token=token) as cl:
        code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733",
                          "max_cost=10", "documents=1", env={"COURTLISTENER_TOKEN": token},
                          settings={**cl.settings(), **CL_FAST})
    assert code == 0, log[-3000:]
    assert "Traceback" not in log and token not in log
    assert "documents of this case for free" in log
    free = rows(tmp_path / "dockets.db",
                "select * from documents where source = 'courtlistener' and file_path is not null")
    assert free, "RECAP's copies were used"
    bought = {c["doc_id"] for c in server.charges if c["what"] == "document"}
    assert not bought & {d["pacer_doc_id"] for d in free}, "nothing free was bought"
    assert_ledger_matches(server, tmp_path)


def test_appellate_case_not_in_cmecf_says_how_to_find_it(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_appellate", "docket_number=23-9999", "max_cost=3")
    assert code == 1
    assert "CM/ECF has no docket 23-9999" in log and "acms_case_id" in log
    assert "ca9 23-9999: no ACMS case GUID known" in log and "asking CM/ECF" in log
    # how to find the GUID: a CourtListener/RECAP file name, or the case's ACMS address
    assert "gov.uscourts.ca9.<GUID>" in log and "https://ca9-showdoc.azurewebsites.us/" in log
    assert "-a acms_case_id=<GUID>" in log
    assert "Traceback" not in log
    assert server.charges == []
    assert ledger(tmp_path) == []


def test_session_expiring_during_documents(server, tmp_path):
    """Many pages in flight answered with the login form: one new login, each page asked again."""
    original = server._doc1
    state = {"expired": False}

    def doc1(request, court, doc_id, user):
        if not state["expired"]:
            state["expired"] = True
            server.expire_sessions()
            return server.login_page()
        return original(request, court, doc_id, user)

    server._doc1 = doc1
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=10",
                      "documents=1")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert 2 <= server.log.tally(kind="login") <= 3
    assert_ledger_matches(server, tmp_path)
    assert "keeps answering with its login page" not in log


def test_rss_dates_do_not_move_the_incremental_start(server, tmp_path):
    reports = spy_reports(server)
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=3")
    assert code == 0
    last = rows(tmp_path / "dockets.db", "select max(date_filed) as d from docket_entries")[0]["d"]
    server.add_entry("cand", "364733", 97, "2020-11-02", "ORDER re Status Report",
                     doc_id="035019400001")
    crawl(server, tmp_path, "pacer_rss", "court=cand", user=None, password=None)
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=3")
    assert code == 0, log[-3000:]
    # the RSS item's date is its publication time (today): the report still starts
    # at the last entry PACER's docket gave, and the filing date is corrected
    y, m, d = last.split("-")
    assert reports[1]["date_from"] == f"{m}/{d}/{y}"
    entry = rows(tmp_path / "dockets.db",
                 "select * from docket_entries where entry_number = 97")[0]
    assert entry["date_filed"] == "2020-11-02" and entry["source"] == "pacer"


def test_credentials_as_arguments_are_refused(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_district", "password=argument-Pa55",
                      user=None, password=None)
    assert "read from the environment only" in log
    assert "Traceback" not in log and "argument-Pa55" not in log
    assert server.log.tally() == 0


def test_appellate_documents_within_budget_then_none_again(server, tmp_path):
    db = tmp_path / "dockets.db"
    code, log = crawl(server, tmp_path, "pacer_appellate", "max_cost=10", "documents=1")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log and "does not buy" not in log
    assert_ledger_matches(server, tmp_path)
    assert 0 < server.total_cost() <= 10
    bought = [c for c in server.charges if c["what"] == "document"]
    entries = [e for e in rows(db, "select * from documents where pacer_doc_id is not null")]
    assert len(bought) == len(entries) >= 5, "every entry's document fits in $10"
    assert any(c["cost"] for c in bought) and any(not c["cost"] for c in bought)
    assert ledger(tmp_path, "over_budget") == [] and ledger(tmp_path, "would_buy") == []
    stored = rows(db, "select * from documents where file_path is not null and source = 'pacer'")
    assert {d["pacer_doc_id"] for d in stored} == {c["doc_id"] for c in bought}
    assert all(d["court_id"] == "ca9" and d["docket_id"] == "ca9/20-16908" for d in stored)
    assert {d["document_number"] for d in stored} >= {"1", "5", "16", "31", "58"}
    assert all(d["sha256"] and d["text"] is not None for d in stored)
    assert all((tmp_path / "files" / d["file_path"]).is_file() for d in stored)
    # the ledger's rows name the documents PACER billed, at PACER's price
    docs = {r["document_id"]: r for r in ledger(tmp_path) + ledger(tmp_path, "free")
            if r["what"] == "document"}
    assert {c["doc_id"]: c["cost"] for c in bought} == \
        {k: r["pacer_cost"] for k, r in docs.items()}

    # run again: the documents are in the archive, nothing is asked for or bought twice
    asked = server.log.tally(kind="appellate_confirmation")
    before = len(bought)
    code, log = crawl(server, tmp_path, "pacer_appellate", "max_cost=10", "documents=1")
    assert code == 0, log[-3000:]
    assert server.log.tally(kind="appellate_confirmation") == asked
    assert len([c for c in server.charges if c["what"] == "document"]) == before
    assert "0 documents of 20-16908 are not in the archive yet" in log
    assert_ledger_matches(server, tmp_path)


def test_appellate_documents_without_budget_are_priced(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_appellate", "max_cost=3")
    assert code == 0, log[-3000:]
    code, log = crawl(server, tmp_path, "pacer_appellate", "documents=1")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    # only the first crawl's docket cost money; free documents (orders) were fetched
    assert [c["what"] for c in server.charges if c["cost"]] == ["appellate_docket"]
    assert server.log.tally(kind="appellate_document") == len(ledger(tmp_path, "free"))
    would = [r for r in ledger(tmp_path, "would_buy") if r["what"] == "document"]
    assert would and all(r["pages"] and r["cost"] == min(r["pages"], 30) / 10 for r in would)
    assert "Would buy document" in log
    paid = rows(tmp_path / "dockets.db", "select * from documents where file_path is not null")
    assert {d["pacer_doc_id"] for d in paid}.isdisjoint({r["document_id"] for r in would})
    assert_ledger_matches(server, tmp_path)


# --- ACMS documents and case ids ------------------------------------------------------------------

def acms_case(server, number):
    found = [c for c in server.acms.values() if c.docket_number == number and c.court == "ca9"]
    if not found:
        pytest.skip("../shared not found: the ACMS dockets served are the corpus's")
    return found[0]


FAST_POLL = {"ACMS_POLL_INTERVAL": "0.05"}


def buy_acms_documents(server, tmp_path, case, max_cost="10", settings=FAST_POLL):
    """pacer_appellate -a documents=1 on an ACMS case, by its GUID."""
    return crawl(server, tmp_path, "pacer_appellate", f"docket_number={case.docket_number}",
                 f"acms_case_id={case.case_id}", "documents=1", f"max_cost={max_cost}",
                 settings=settings)


def with_documents(case):
    """The ACMS case's entries that have documents."""
    return [e for e in case.data["docketInfo"]["docketEntries"] if e["documentCount"]]


def test_acms_documents_bought_within_budget(server, tmp_path):
    """ca9 22-21: the docket, then each document listed (free), bought through
    MergePDFFiles -> Durable Functions status -> GetMergedFile."""
    case = acms_case(server, "22-21")
    server.acms_merge_polls = 2  # "Running" twice before "Completed"
    code, log = buy_acms_documents(server, tmp_path, case)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    with_docs = with_documents(case)
    n_docs = sum(e["documentCount"] for e in with_docs)
    assert server.log.tally(kind="acms_documents") == len(with_docs)
    assert server.log.tally(kind="acms_merge") == n_docs
    assert server.log.tally(kind="acms_merge_status") == 3 * n_docs
    assert server.log.tally(kind="acms_file") == n_docs
    assert_ledger_matches(server, tmp_path)
    docs = rows(tmp_path / "dockets.db", "select * from documents where file_path is not null "
                                         "order by cast(document_number as int), attachment_number")
    assert len(docs) == n_docs
    assert all(b"%PDF" in (tmp_path / "files" / d["file_path"]).read_bytes()[:1024] for d in docs)
    # entry 33 has two documents (the corpus's own listing): attachments 1 and 2, named
    two = [(d["attachment_number"], d["description"]) for d in docs if d["document_number"] == "33"]
    assert [a for a, _ in two] == [1, 2] and all(desc for _, desc in two)
    assert all(d["pacer_doc_id"] == next(e["docketEntryId"] for e in with_docs
                                         if str(e["entryNumber"]) == d["document_number"]) for d in docs)
    assert "PACER: spent" in log
    # the bearer token is in no log line and nowhere in the archive
    tokens = list(server.acms_tokens)
    assert tokens and not any(t in log for t in tokens)
    stored = (tmp_path / "dockets.db").read_bytes()
    assert not any(t.encode() in stored for t in tokens) and PASSWORD.encode() not in stored
    # again: the documents are in the archive, none is bought twice
    before = len(server.charges)
    code, log = crawl(server, tmp_path, "pacer_appellate", "docket_number=22-21",
                      "documents=1", "max_cost=10", settings=FAST_POLL)
    assert code == 0, log[-3000:]
    assert f"The archive knows 22-21 as ACMS case {case.case_id}" in log
    assert [c["what"] for c in server.charges[before:]] == ["acms_docket"]


def test_acms_documents_budget_is_never_exceeded(server, tmp_path):
    case = acms_case(server, "22-21")
    entries = with_documents(case)
    long_one = server._acms_documents(case, entries[0])[0]  # make it a 30-page brief: $3.00
    long_one.update(pageCount=41, billablePages=30, cost=3.0)
    code, log = buy_acms_documents(server, tmp_path, case, max_cost="3.50")
    assert code == 0, log[-3000:]
    assert server.total_cost() <= 3.50
    assert_ledger_matches(server, tmp_path)
    over = ledger(tmp_path, "over_budget")
    assert [r["document_id"] for r in over] == [long_one["docketDocumentDetailsId"]]
    bought = [c for c in server.charges if c["what"] == "document"]
    assert len(bought) == server.log.tally(kind="acms_file") == \
        sum(e["documentCount"] for e in entries) - 1


def test_acms_documents_without_budget_are_priced_only(server, tmp_path):
    case = acms_case(server, "22-21")
    code, log = crawl(server, tmp_path, "pacer_appellate", "docket_number=22-21",
                      f"acms_case_id={case.case_id}", "documents=1")
    assert code == 0, log[-3000:]
    assert server.charges == [] and server.log.tally(kind="acms_merge") == 0
    # without a budget not even the docket is bought, so no document is listed either
    assert [r["what"] for r in ledger(tmp_path, "would_buy")] == ["acms_docket"]


def test_acms_purchase_that_never_completes_is_reported(server, tmp_path):
    case = acms_case(server, "23-2412")
    server.acms_merge_polls = 10 ** 6
    code, log = buy_acms_documents(server, tmp_path, case, max_cost="5",
                                   settings={**FAST_POLL, "ACMS_POLL_MAX": "3"})
    assert code == 1, log[-3000:]  # charged but not delivered: not a finished crawl
    assert "Traceback" not in log
    assert "ACMS did not deliver document" in log and "it was charged" in log
    assert_ledger_matches(server, tmp_path)  # what was billed is in the ledger all the same
    assert rows(tmp_path / "dockets.db", "select count(*) as n from documents "
                                         "where file_path is not null")[0]["n"] == 0


def test_acms_case_id_from_courtlistener(server, tmp_path):
    """No -a acms_case_id: CourtListener's docket (asked first) carries the GUID;
    CM/ECF is not asked at all."""
    from tests.servers.cases import synthetic_case
    from tests.servers.courtlistener import CourtListenerServer

    case = acms_case(server, "23-2412")
    listed = synthetic_case(SHARED, n_entries=0, court="ca9", pacer_case_id=case.case_id)
    listed.docket["docket_number"] = "23-2412"
    token = "cl-token-for-acms-lookup"
    with CourtListenerServer([listed], token=token) as cl:
        code, log = crawl(server, tmp_path, "pacer_appellate", "docket_number=23-2412",
                          "max_cost=3", env={"COURTLISTENER_TOKEN": token},
                          settings={**cl.settings(), **CL_FAST})
    assert code == 0, log[-3000:]
    assert "Traceback" not in log and token not in log
    assert f"CourtListener knows 23-2412 as ACMS case {case.case_id}" in log
    assert f"ca9 23-2412: ACMS case {case.case_id} (from CourtListener): asking ACMS" in log
    assert server.log.tally(kind="appellate_docket") == 0
    entries = rows(tmp_path / "dockets.db", "select * from docket_entries")
    assert len(entries) == len(case.data["docketInfo"]["docketEntries"])
    assert_ledger_matches(server, tmp_path)


def test_free_ca9_memorandum_is_not_bought(server, tmp_path):
    """ca9 22-21's entry 33 is a MEMORANDUM DISPOSITION of 2023-04-19: once the
    court's free memoranda feed lists it, its memorandum comes from there."""
    case = acms_case(server, "22-21")
    pdf_url = server.ca9.add_decision("memoranda", "22-21", "LOPEZ GUEVARA V. GARLAND", "2023-04-19")
    code, log = buy_acms_documents(server, tmp_path, case)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert server.ca9.log.tally(kind="feed") == 2
    assert "the court's free memorandum" in log
    memo = rows(tmp_path / "dockets.db", "select * from documents where source = 'ca9'")
    assert [(m["document_number"], m["attachment_number"], m["description"]) for m in memo] == \
        [("33", 1, "Memorandum")]
    assert memo[0]["file_path"] and server.ca9.log.tally(kind="pdf") == 1
    assert pdf_url.rsplit("/", 1)[1] == "22-21.pdf"
    # its other document (the post-judgment form) and every other one were bought
    entries = with_documents(case)
    bought = [c for c in server.charges if c["what"] == "document"]
    assert len(bought) == sum(e["documentCount"] for e in entries) - 1
    assert_ledger_matches(server, tmp_path)


def test_ca9_feed_down_means_buying_as_before(server, tmp_path):
    case = acms_case(server, "22-21")
    server.ca9.add_decision("memoranda", "22-21", "LOPEZ GUEVARA V. GARLAND", "2023-04-19")
    server.ca9.fail_next("memoranda/index.xml", 500, times=10)  # more than the retries
    code, log = buy_acms_documents(server, tmp_path, case)
    assert code == 0, log[-3000:]
    assert "decisions feed" in log and "could not be read (HTTP 500)" in log
    entries = with_documents(case)
    assert len([c for c in server.charges if c["what"] == "document"]) == \
        sum(e["documentCount"] for e in entries)
    assert_ledger_matches(server, tmp_path)


def test_courtlistener_first_for_the_docket(server, tmp_path):
    """With a CourtListener token, the entries RECAP has are loaded for free and
    PACER's report is asked only from the last of them on: a smaller bill."""
    from tests.servers.cases import wechat_cases
    from tests.servers.courtlistener import CourtListenerServer

    token = "cl-token-for-docket-first"
    seen = spy_reports(server)
    with CourtListenerServer(wechat_cases(SHARED if SHARED.exists() else None), token=token) as cl:
        cl_entries = [e for c in cl.cases if c.docket["court_id"] == "cand" for e in c.entries]
        last = max(str(e["date_filed"])[:10] for e in cl_entries)
        code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=3",
                          env={"COURTLISTENER_TOKEN": token}, settings={**cl.settings(), **CL_FAST})
    assert code == 0, log[-3000:]
    assert "Traceback" not in log and token not in log
    assert f"CourtListener had {len(cl_entries)} entries" in log
    y, m, d = last.split("-")
    assert [f["date_from"] for f in seen] == [f"{m}/{d}/{y}"]
    assert_ledger_matches(server, tmp_path)
    incremental = server.charges[0]["cost"]
    entries = rows(tmp_path / "dockets.db", "select * from docket_entries")
    numbers = [e["entry_number"] for e in entries if e["entry_number"] is not None]
    assert len(numbers) == len(set(numbers)), "an entry from both sources is stored once"
    assert len(entries) >= len(cl_entries)
    # the same crawl without CourtListener buys the whole report
    other = tmp_path / "other"
    other.mkdir()
    before = len(server.charges)
    code, log = crawl(server, other, "pacer_district", "pacer_case_id=364733", "max_cost=3")
    assert code == 0
    assert server.charges[before]["cost"] > incremental


def test_acms_listing_that_fails_does_not_stop_the_others(server, tmp_path):
    case = acms_case(server, "22-21")
    entries = with_documents(case)
    server.fail_next("DocketEntryDocumentsByDocketId/" + entries[0]["docketEntryId"], 500, times=10)
    code, log = buy_acms_documents(server, tmp_path, case)
    # the others are bought, but the crawl did not get everything: cron must see it
    assert code == 1, log[-3000:]
    assert "Traceback" not in log
    assert f"ACMS did not list the documents of entry {entries[0]['entryNumber']} (HTTP 500)" in log
    assert rows(tmp_path / "dockets.db", "select status from crawls")[-1]["status"] != "finished"
    bought = [c for c in server.charges if c["what"] == "document"]
    assert len(bought) == sum(e["documentCount"] for e in entries[1:])
    assert_ledger_matches(server, tmp_path)


# --- ACMS's sign-in (the 2025 flow) ------------------------------------------------------------

def acms_crawl(server, tmp_path, case, *args, **kwargs):
    return crawl(server, tmp_path, "pacer_appellate", f"court={case.court}",
                 f"docket_number={case.docket_number}", f"acms_case_id={case.case_id}",
                 "max_cost=3", *args, **kwargs)


def assert_acms_docket_stored(tmp_path, case):
    entries = rows(tmp_path / "dockets.db", "select * from docket_entries")
    assert len(entries) == len(case.data["docketInfo"]["docketEntries"])


def test_acms_sign_in_answered_with_a_redirect(server, tmp_path):
    """/Saml2/Acs answering 303 (to the RelayState) with the cookies signs in as well."""
    case = acms_case(server, "23-2412")
    server.acms_acs_redirect = True
    code, log = acms_crawl(server, tmp_path, case)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert server.log.tally(kind="acms_saml") == 1 and server.log.tally(kind="acms_index") == 1
    assert server.log.tally(kind="acms") == 1  # the redirect was not followed back to /
    assert_acms_docket_stored(tmp_path, case)


def test_acms_second_circuit(server, tmp_path):
    found = [c for c in server.acms.values() if c.court == "ca2"]
    if not found:
        pytest.skip("../shared not found: the ACMS dockets served are the corpus's")
    code, log = acms_crawl(server, tmp_path, found[0])
    assert code == 0, log[-3000:]
    assert "Signed in to ACMS (ca2)" in log
    assert all("/acms/ca2/" in r["path"] for r in server.log.snapshot()
               if r["kind"] in ("acms", "acms_saml", "acms_index"))
    assert_acms_docket_stored(tmp_path, found[0])


def test_acms_rejected_saml_sign_in_fails_clearly(server, tmp_path):
    """ACMS answers 200 with its own sign-in page and ARRAffinity cookies only:
    no .AspNetCore.saml2 cookie means not signed in, whatever the status."""
    case = acms_case(server, "23-2412")
    server.acms_reject_saml = True
    code, log = acms_crawl(server, tmp_path, case)
    assert code == 1, log[-3000:]
    assert "Traceback" not in log
    assert "ACMS (ca9) rejected the SAML sign-in" in log and ".AspNetCore.saml2" in log
    assert server.log.tally(kind="acms_saml") == 1
    assert server.log.tally(kind="acms_index") == 0 and server.log.tally(kind="acms_api") == 0
    assert server.charges == [] and ledger(tmp_path) == []
    assert rows(tmp_path / "dockets.db", "select status from crawls")[-1]["status"] == "failed"


def test_acms_expired_pacer_session_logs_in_again_once(server, tmp_path):
    """ACMS's / answers PACER's login form (no SAMLResponse) once: one new PACER
    login, and the sign-in goes on."""
    case = acms_case(server, "23-2412")
    original = server._acms
    state = {"expired": False}

    def acms(request, court, parts):
        if not parts and not state["expired"]:
            state["expired"] = True
            server.expire_pacer_sessions()
        return original(request, court, parts)

    server._acms = acms
    code, log = acms_crawl(server, tmp_path, case)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert "answered without a SAMLResponse: PACER's session is no longer valid" in log
    assert server.log.tally(kind="login") == 2
    assert server.log.tally(kind="acms") == 2 and server.log.tally(kind="acms_saml") == 1
    assert_acms_docket_stored(tmp_path, case)
    assert_ledger_matches(server, tmp_path)


def test_acms_pacer_session_never_accepted_fails_after_one_new_login(server, tmp_path):
    case = acms_case(server, "23-2412")
    original = server._acms

    def acms(request, court, parts):
        if not parts:
            server.expire_pacer_sessions()
        return original(request, court, parts)

    server._acms = acms
    code, log = acms_crawl(server, tmp_path, case)
    assert code == 1, log[-3000:]
    assert "Traceback" not in log
    assert "still answers without a SAMLResponse (HTTP 200) after a new PACER login" in log
    assert server.log.tally(kind="login") == 2 and server.log.tally(kind="acms") == 2
    assert server.log.tally(kind="acms_saml") == 0 and server.log.tally(kind="acms_api") == 0
    assert server.charges == [] and ledger(tmp_path) == []


def test_acms_expired_token_is_read_again_and_the_call_repeated(server, tmp_path):
    """A token good for one call: the next answers 401, IndexContent gives a new
    one (no new sign-in), and the call is made again."""
    case = acms_case(server, "23-2412")
    server.acms_token_uses = 1
    code, log = acms_crawl(server, tmp_path, case)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert log.count("its token expired") == 1
    assert server.log.tally(kind="acms_index") == 2
    assert server.log.tally(kind="acms") == 1 and server.log.tally(kind="acms_saml") == 1
    assert server.log.tally(kind="acms_api") == 3
    assert server.log.tally(kind="acms_api", status=401) == 1
    assert [c["what"] for c in server.charges] == ["acms_docket"]
    assert_acms_docket_stored(tmp_path, case)
    assert_ledger_matches(server, tmp_path)
    assert [r["what"] for r in ledger(tmp_path, "not_billed")] == ["acms_docket"]


def expire_tokens_at_first(server, action):
    """Every ACMS token expires as the first ``action`` call comes in."""
    original = server._acms_api
    state = {"expired": False}

    def api(request, court, parts):
        if parts and parts[0] == action and not state["expired"]:
            state["expired"] = True
            server.expire_acms_tokens()
        return original(request, court, parts)

    server._acms_api = api


def test_acms_token_expiring_under_many_requests_is_read_once(server, tmp_path):
    """Every token expires while the documents are listed: all the calls in
    flight are refused, one new token is read, each call is made again."""
    case = acms_case(server, "22-21")
    expire_tokens_at_first(server, "DocketEntryDocumentsByDocketId")
    code, log = buy_acms_documents(server, tmp_path, case)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log and "WARNING: PacerAppellateSpider yielded" not in log
    assert server.log.tally(kind="acms_index") == 2 and log.count("its token expired") == 1
    assert server.log.tally(kind="acms_documents", status=401) >= 1
    n_docs = sum(e["documentCount"] for e in with_documents(case))
    assert len([c for c in server.charges if c["what"] == "document"]) == n_docs
    assert_ledger_matches(server, tmp_path)


def test_acms_token_near_its_expiry_is_replaced_before_a_file_is_fetched(server, tmp_path):
    """The files pipeline fetches a bought file (GetMergedFile) with the token of
    the moment and cannot ask for another: a token within two minutes of its
    AuthToken.Expiration is replaced first, so no bought file meets a 401."""
    case = acms_case(server, "22-21")
    server.acms_token_ttl = 60
    code, log = buy_acms_documents(server, tmp_path, case)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert "reading a new one before fetching document" in log
    n_docs = sum(e["documentCount"] for e in with_documents(case))
    assert 2 <= server.log.tally(kind="acms_index") <= 1 + n_docs
    assert server.log.tally(kind="acms_file", status=200) == n_docs
    assert server.log.tally(status=401) == 0
    assert rows(tmp_path / "dockets.db", "select count(*) as n from documents "
                                         "where file_path is not null")[0]["n"] == n_docs
    assert_ledger_matches(server, tmp_path)


def test_acms_session_ended_signs_in_again(server, tmp_path):
    """The token expired and ACMS's cookie session with it: IndexContent answers
    401, so the spider signs in again (/ and /Saml2/Acs) and goes on."""
    case = acms_case(server, "22-21")
    original = server._acms_api
    state = {"expired": False}

    def api(request, court, parts):
        if parts and parts[0] == "DocketEntriesByCaseId" and not state["expired"]:
            state["expired"] = True
            server.expire_acms_tokens()
            server.acms_sessions.clear()
        return original(request, court, parts)

    server._acms_api = api
    code, log = acms_crawl(server, tmp_path, case)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert "ACMS's session has ended (Home/IndexContent: HTTP 401): signing in again" in log
    assert server.log.tally(kind="acms") == 2 and server.log.tally(kind="acms_saml") == 2
    assert server.log.tally(kind="acms_index") == 3
    assert server.log.tally(kind="login") == 1
    assert_acms_docket_stored(tmp_path, case)
    assert_ledger_matches(server, tmp_path)


def test_acms_token_refused_again_stops_without_a_loop(server, tmp_path):
    case = acms_case(server, "23-2412")
    server.acms_token_uses = 0  # every token is refused at once
    code, log = acms_crawl(server, tmp_path, case)
    assert code == 1, log[-3000:]
    assert "Traceback" not in log
    assert "refused (HTTP 401) the token ACMS had just given" in log
    assert server.log.tally(kind="acms_index") == 2 and server.log.tally(kind="acms_api") == 2
    assert server.charges == []


def test_acms_case_guid_argument_then_archive_before_courtlistener(server, tmp_path):
    """The GUID comes from -a acms_case_id first, then from the archive; CourtListener
    (which here would name another case) is not asked for it."""
    from tests.servers.cases import synthetic_case
    from tests.servers.courtlistener import CourtListenerServer

    case = acms_case(server, "22-21")
    other = acms_case(server, "22-22")
    listed = synthetic_case(SHARED, n_entries=0, court="ca9", pacer_case_id=other.case_id)
    listed.docket["docket_number"] = "22-21"
    token = "cl-token-for-guid-order"
    with CourtListenerServer([listed], token=token) as cl:
        env, settings = {"COURTLISTENER_TOKEN": token}, {**cl.settings(), **CL_FAST}
        code, log = acms_crawl(server, tmp_path, case, env=env, settings=settings)
        assert code == 0, log[-3000:]
        assert f"ACMS case {case.case_id} (from -a acms_case_id): asking ACMS" in log
        code, log = crawl(server, tmp_path, "pacer_appellate", "docket_number=22-21",
                          "max_cost=3", env=env, settings=settings)
        assert code == 0, log[-3000:]
        assert f"The archive knows 22-21 as ACMS case {case.case_id}" in log
        assert f"ACMS case {case.case_id} (from the archive): asking ACMS" in log
        assert cl.log.tally(path_contains="/dockets/") == 0
    assert "Traceback" not in log and token not in log
    assert server.log.tally(kind="appellate_docket") == 0
    asked = [r["path"] for r in server.log.snapshot() if r["kind"] == "acms_api"]
    assert asked and not any(other.case_id in p for p in asked)


def test_acms_secrets_appear_nowhere(server, tmp_path):
    """PACER's password and session, the SAMLResponse, ACMS's session cookies
    (.AspNetCore.saml2 and its chunks, ARRAffinity) and every bearer token (one
    refreshed on the way): in no log line, stat, item, cache or job file."""
    case = acms_case(server, "22-21")
    expire_tokens_at_first(server, "DocketEntryDocumentsByDocketId")
    cache = tmp_path / "httpcache"
    code, log = buy_acms_documents(
        server, tmp_path, case,
        settings={**FAST_POLL, "HTTPCACHE_ENABLED": "True", "HTTPCACHE_DIR": str(cache),
                  "JOBDIR": str(tmp_path / "job")})
    assert code == 0, log[-3000:]
    assert server.log.tally(kind="acms_index") >= 2, "a token was refreshed on the way"
    secrets = [PASSWORD] + list(server.sessions) + server.acms_secrets()
    assert server.acms_sessions and server.saml_responses and server.acms_affinity
    assert len(secrets) > 8
    for secret in secrets:
        assert secret not in log
    blobs = [p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file()
             and p.suffix != ".pdf"]
    assert blobs
    for blob in blobs:
        for secret in secrets:
            assert secret.encode() not in blob



def test_rss_every_distinct_entry_lands_once(server, tmp_path):
    """A district feed whose <guid> is the case's link (every item of the case has
    it): two entries minutes apart without document links, two alike-named ones
    of the same day, and a filing entered under two events. Every distinct entry
    is one row, the feed read again adds none, and the docket report then merges
    what it can tell for sure."""
    import datetime as dt

    db = tmp_path / "dockets.db"
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=3")
    assert code == 0, log[-3000:]
    before = rows(db, "select count(*) as n from docket_entries")[0]["n"]
    server.rss_guid = "case"

    def at(hour, minute):
        return dt.datetime(2020, 11, 3, hour, minute, 4, tzinfo=dt.timezone.utc)

    add = server.add_entry
    add("cand", "364733", 97, "2020-11-03", "ORDER GRANTING 12 MOTION FOR EXTENSION OF TIME.",
        published=at(19, 52), events=["Order on Motion for Extension of Time"])
    add("cand", "364733", 98, "2020-11-03", "SCHEDULING ORDER: Case Management Conference set "
        "for 12/3/2020.", published=at(19, 55), events=["Scheduling Order"])
    add("cand", "364733", 99, "2020-11-03", "ORDER re Status Report. Signed by Judge Beeler.",
        doc_id="035019400001", published=at(20, 1), events=["Order", "~Util - Set Deadlines"])
    add("cand", "364733", 100, "2020-11-03", "CLERK'S NOTICE of hearing.", published=at(20, 10),
        events=["Clerk's Notice"])
    add("cand", "364733", 101, "2020-11-03", "CLERK'S NOTICE continuing hearing.",
        published=at(20, 30), events=["Clerk's Notice"])
    code, log = crawl(server, tmp_path, "pacer_rss", "court=cand", user=None, password=None)
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    assert "cand 3:20-cv-05910: 5 new entries" in log
    got = rows(db, "select * from docket_entries where source = 'pacer_rss' order by id")
    assert len(got) == 5
    assert rows(db, "select count(*) as n from docket_entries")[0]["n"] == before + 5
    assert sorted(e["description"] for e in got) == [
        "Clerk's Notice", "Clerk's Notice", "Order AND ~Util - Set Deadlines",
        "Order on Motion for Extension of Time", "Scheduling Order"]
    assert [e["entry_number"] for e in got if e["entry_number"]] == [99]
    crawl_row = rows(db, "select * from crawls order by id desc limit 1")[0]
    assert crawl_row["status"] == "finished" and crawl_row["bad_records"] == 0

    # the feed again (feeds overlap): the same rows, nothing new
    code, log = crawl(server, tmp_path, "pacer_rss", "court=cand", user=None, password=None)
    assert code == 0 and "cand 3:20-cv-05910: 0 new entries" in log
    assert rows(db, "select count(*) as n from docket_entries")[0]["n"] == before + 5

    # the docket report: every entry numbered, once; the RSS rows it stands for
    # for sure are gone (99 by its number, the Scheduling Order by day and text);
    # those it cannot tell apart for sure stay beside them, nothing is lost
    code, log = crawl(server, tmp_path, "pacer_district", "pacer_case_id=364733", "max_cost=3")
    assert code == 0, log[-3000:]
    numbered = rows(db, "select entry_number, count(*) as n from docket_entries "
                        "where entry_number between 97 and 101 group by entry_number")
    assert [(r["entry_number"], r["n"]) for r in numbered] == [(n, 1) for n in range(97, 102)]
    left = rows(db, "select description from docket_entries where entry_number is null "
                    "and source = 'pacer_rss' order by description")
    assert [r["description"] for r in left] == [
        "Clerk's Notice", "Clerk's Notice", "Order on Motion for Extension of Time"]


def test_rss_an_unreadable_item_is_a_counted_bad_record(server, tmp_path):
    """wvsd's real feed has an item whose title carries no docket number: a
    warning and crawls.bad_records, the crawl still finished."""
    if "wvsd" not in server.rss_feeds():
        pytest.skip("../shared not found: the feeds served are the corpus's")
    code, log = crawl(server, tmp_path, "pacer_rss", "court=wvsd", user=None, password=None)
    assert code == 0, log[-3000:]
    assert "Skipped a bad record, RSS item '5:18-~gr-00001'" in log
    assert "no docket number in the title" in log
    crawl_row = rows(tmp_path / "dockets.db", "select * from crawls")[0]
    assert crawl_row["status"] == "finished" and crawl_row["bad_records"] == 1


def test_acms_case_id_for_a_court_without_acms_is_refused(server, tmp_path):
    code, log = crawl(server, tmp_path, "pacer_appellate", "court=ca1", "docket_number=23-1001",
                      "acms_case_id=f9f5230d-a95c-ee11-a81c-001dd80ad0b3", "max_cost=3")
    assert code == 1
    assert "ca1 has no ACMS (only ca2 and ca9 do)" in log and "Traceback" not in log
    assert server.log.tally() == 0
