"""PACER fee rules and the hard budget (docket_spider/pacer/): pure arithmetic."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from archive import fees
from docket_spider.pacer import session
from archive.fees import Budget
from docket_spider.pacer.session import PacerLoginError
from docket_spider.urls import strip_query


def test_ten_cents_a_page_capped_at_thirty_pages():
    assert fees.cost_cents(1) == 10
    assert fees.cost_cents(29) == 290
    assert fees.cost_cents(30) == 300
    assert fees.cost_cents(31) == 300
    assert fees.cost_cents(500, "docket_report") == 300
    assert fees.cost_cents(0) == 0


def test_transcripts_are_not_capped():
    assert fees.cost_cents(31, "transcript") == 310
    assert fees.cost_cents(250, "transcript") == 2500
    # a transcript of unknown length cannot be bounded: never started
    assert fees.worst_case_cents("transcript") is None
    assert fees.worst_case_cents("transcript", 45) == 450


def test_free_things_cost_nothing():
    for what in ("possible_cases", "rss", "login"):
        assert fees.worst_case_cents(what) == 0
        assert fees.cost_cents(100, what) == 0


def test_html_reports_billed_per_4320_bytes():
    assert fees.html_pages(1) == 1
    assert fees.html_pages(4320) == 1
    assert fees.html_pages(4321) == 2
    assert fees.report_cost_cents(4320 * 10) == 100
    assert fees.report_cost_cents(4320 * 100) == 300  # capped


def test_worst_case_docket_report_is_three_dollars():
    assert fees.worst_case_cents("docket_report") == 300
    assert fees.worst_case_cents("appellate_docket") == 300
    assert fees.worst_case_cents("document") == 300
    assert fees.worst_case_cents("document", 4) == 40


def test_cents_parsing():
    assert fees.cents("5.00") == 500
    assert fees.cents("$0.10") == 10
    assert fees.cents(2.675) == 268
    assert fees.cents("0") == 0
    for bad in ("five", "-1", "nan", ""):
        with pytest.raises(ValueError):
            fees.cents(bad)


def test_no_budget_buys_nothing_and_prices_it():
    budget = Budget.from_arg(None)
    decision = budget.decide("docket_report")
    assert not decision.buy and decision.status == "would_buy" and decision.worst_cents == 300
    decision = budget.decide("document", 12)
    assert not decision.buy and decision.worst_cents == 120
    assert budget.spent == 0 and budget.would_spend == 420
    assert "nothing was bought" in budget.summary() and "$4.20" in budget.summary()


def test_free_things_are_fetched_without_a_budget():
    assert Budget(None).decide("possible_cases").buy


def test_a_purchase_that_could_exceed_is_never_started():
    budget = Budget.from_arg("5.00")
    first = budget.decide("docket_report")          # worst case $3.00
    assert first.buy
    # in flight: $3.00 reserved, $2.00 left: another report could cost $3.00
    second = budget.decide("docket_report")
    assert not second.buy and second.status == "over_budget"
    small = budget.decide("document", 20)             # $2.00 fits exactly
    assert small.buy
    budget.settle(first, 120)                          # the report cost $1.20
    budget.settle(small, 200)
    assert budget.spent == 320 and budget.reserved == 0 and budget.left == 180
    assert not budget.decide("document").buy          # unknown length: up to $3.00
    assert budget.decide("document", 18).buy


def test_budget_below_one_report():
    budget = Budget.from_arg("2.99")
    assert not budget.decide("docket_report").buy
    assert budget.decide("document", 29).buy


def test_uncapped_unknown_is_refused_even_with_money():
    budget = Budget.from_arg("1000")
    assert budget.decide("transcript").status == "over_budget"


def test_a_purchase_that_did_not_happen_costs_nothing():
    budget = Budget.from_arg("3.00")
    decision = budget.decide("docket_report")
    budget.settle(decision, None)
    assert budget.spent == 0 and budget.left == 300


@given(st.integers(0, 2000), st.lists(st.tuples(
    st.sampled_from(["docket_report", "document", "transcript", "attachment_page"]),
    st.one_of(st.none(), st.integers(0, 200)), st.floats(0, 1)), max_size=40))
def test_never_exceeds_the_budget(limit, purchases):
    budget = Budget(limit)
    for what, pages, fraction in purchases:
        decision = budget.decide(what, pages)
        if decision.buy:
            # whatever it really costs, it is no more than its worst case
            actual = int((decision.worst_cents or 0) * fraction)
            budget.settle(decision, actual)
        assert budget.spent + budget.reserved <= limit
    assert budget.spent <= limit


def creds(**kw):
    return {"username": "u", "password": "p", "client_code": "", "otp": "", **kw}


def test_login_answers():
    ok = json.dumps({"loginResult": "0", "nextGenCSO": "tok123"})
    assert session.read_login_answer(ok, creds()) == "tok123"
    with pytest.raises(PacerLoginError, match="Check PACER_USERNAME and PACER_PASSWORD"):
        session.read_login_answer(json.dumps({"loginResult": "1",
                                            "errorDescription": "Invalid username or password"}),
                                creds())
    with pytest.raises(PacerLoginError, match="no session"):
        session.read_login_answer(json.dumps({"loginResult": "0"}), creds())
    with pytest.raises(PacerLoginError, match="PACER_OTP"):
        session.read_login_answer(json.dumps({"loginResult": "13",
                                            "errorDescription": "A one-time passcode is required"}),
                                creds())
    with pytest.raises(PacerLoginError, match="password changed"):
        session.read_login_answer(json.dumps({"loginResult": "0", "nextGenCSO": "t",
                                            "errorDescription": "Your password has expired"}),
                                creds())
    with pytest.raises(PacerLoginError, match="JSON"):
        session.read_login_answer("<html>", creds())


def test_login_payload():
    assert session.login_payload(creds()) == {"loginId": "u", "password": "p", "redactFlag": "1"}
    body = session.login_payload(creds(client_code="cc", otp="123456"))
    assert body["clientCode"] == "cc" and body["otpCode"] == "123456"


def test_stored_urls_have_no_query():
    assert strip_query("https://user:pw@ecf.cand.uscourts.gov/doc1/123?x=secret#f") == \
        "https://ecf.cand.uscourts.gov/doc1/123"
