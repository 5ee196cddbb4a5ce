"""Hearings and deadlines read from entry text (parsers.schedule, issue 20):
self-made lines for each rule, and the precision on hand-labelled corpus
entries (tests/fixtures/labels/calendar_events.tsv; skipped without ../shared)."""
from __future__ import annotations

import datetime as dt

import pytest

from parsers.schedule import events_in

from . import labels
from .conftest import shared_path


def ev(kind, what, date, time=None, place=None, status="set", supersedes=None):
    return {"kind": kind, "what": what, "date": date, "time": time, "place": place,
            "status": status, "supersedes": supersedes}


def test_the_issues_examples():
    text = ("Motion Hearing set for 10/1/2020 09:30 AM in San Francisco, - Videoconference Only. "
            "Responses due by 10/2/2020. Replies due by 10/9/2020. (Filed on 9/18/2020)")
    assert events_in(text) == [
        ev("hearing", "Motion Hearing", "2020-10-01", "09:30", "San Francisco, - Videoconference Only"),
        ev("deadline", "Responses due", "2020-10-02"),
        ev("deadline", "Replies due", "2020-10-09"),
    ]
    assert events_in("CLERK'S NOTICE: Motion Hearing reset from 10/1/2020 to 10/8/2020 09:30 AM "
                     "in Courtroom B, 15th Floor, San Francisco before Magistrate Judge Laurel "
                     "Beeler.") == [
        ev("hearing", "Motion Hearing", "2020-10-08", "09:30", "Courtroom B, 15th Floor, San Francisco",
           "reset", {"date": "2020-10-01", "time": None})]
    assert events_in("ORDER: Initial Case Management Conference set for 11/5/2020 10:00 AM in "
                     "San Francisco, - Videoconference Only. Signed by Judge Laurel Beeler on "
                     "9/21/2020.") == [
        ev("hearing", "Initial Case Management Conference", "2020-11-05", "10:00",
           "San Francisco, - Videoconference Only")]
    assert events_in("Status Conference set for 12/3/2020 02:00 PM. Answer due 10/30/2020.") == [
        ev("hearing", "Status Conference", "2020-12-03", "14:00"),
        ev("deadline", "Answer due", "2020-10-30")]


@pytest.mark.parametrize("text,want", [
    ("Set/Reset Hearings: The Status Conference set for 10/14/2015 at 1:30 PM is hereby cancelled.",
     [("Status Conference", "2015-10-14", "13:30", "vacated", None)]),
    ("The motion filing deadline of 12/3/08 and the Jury trial set for 12/22/08 are vacated.",
     [("Motion filing deadline", "2008-12-03", None, "vacated", None),
      ("Jury Trial", "2008-12-22", None, "vacated", None)]),
    ("Initial Appearance continued to 12/19/2014 2:00 PM before Magistrate Judge Skomal.",
     [("Initial Appearance", "2014-12-19", "14:00", "continued", None)]),
    ("The sentencing hearing currently scheduled for December 7, 2012, be vacated and rescheduled "
     "to February 8, 2013, at 9:00 a.m.",
     [("Sentencing Hearing", "2013-02-08", "09:00", "reset", "2012-12-07")]),
    ("The preliminary hearing set for 1/27/15 is vacated and continued to 2/10/15 at 1:30pm.",
     [("Preliminary Hearing", "2015-02-10", "13:30", "continued", "2015-01-27")]),
    ("The Pre Motion Conference previously scheduled for September 30, 2015 is hereby adjourned to "
     "October 14, 2015 at 1:30 P.M. in Courtroom 13D South before Magistrate Judge Kuo.",
     [("Pre Motion Conference", "2015-10-14", "13:30", "continued", "2015-09-30")]),
    ("Hearing Rescheduled from 12/14/2005. (related document: 28 Motion to Extend Time) Hearing "
     "scheduled for 2/22/2006 at 09:00 AM at KCF - Courtroom 2, Trenton. (ghm)",
     [("Hearing", "2006-02-22", "09:00", "reset", "2005-12-14")]),
    ("Hearing Rescheduled from 3/08/2010 - RESCHEDULED HEARING DATE IS 3/11/2010.",
     [("Hearing", "2010-03-11", None, "reset", "2010-03-08")]),
    ("Final Pretrial Conference has been continued from 12/27/2004 10:00:00 AM to 02/22/2005 "
     "10:00:00 AM before DAE",
     [("Final Pretrial Conference", "2005-02-22", "10:00", "continued", "2004-12-27")]),
    ("Hearing Continued. Status hearing to be held on 02/18/2010 at 02:00 PM at Courtroom 615.",
     [("Status Hearing", "2010-02-18", "14:00", "continued", None)]),
    ("Sentence With PSR is reset to 6/1/2015 08:30 AM in Courtroom 13B before Judge Houston.",
     [("Sentence With PSR", "2015-06-01", "08:30", "reset", None)]),
    ("Deadline updated as to Robert Warren, resetting Calendar Call for 9:31 7/26/04 for Robert "
     "Warren before Judge Thornburg",
     [("Calendar Call", "2004-07-26", "09:31", "reset", None)]),
    ("The parties' motion, scheduled for hearing on 6/12/06, is taken under submission. "
     "Accordingly, the hearing date is vacated.",
     [("Motion Hearing", "2006-06-12", None, "vacated", None)]),
    ("ORDER that the hearing set for 4/14/10 will be on the briefs re 29 MOTION in Limine.",
     [("Hearing", "2010-04-14", None, "vacated", None)]),
    ("ORDER Extending Deadline for Filing Objection to Discharge. Complaints under Sections 727 or "
     "523 due by 6/21/2008.",
     [("Complaints under Sections 727 or 523 due", "2008-06-21", None, "continued", None)]),
])
def test_status_and_what_it_supersedes(text, want):
    got = [(e["what"], e["date"], e["time"], e["status"], (e["supersedes"] or {}).get("date"))
           for e in events_in(text)]
    assert got == want


@pytest.mark.parametrize("text,want", [
    ("jury trial set for 9:00 3/22/05; pretrial set for 10:00 2/22/05 for Jason Furtado",
     [("hearing", "Jury Trial", "2005-03-22", "09:00"), ("hearing", "Pretrial", "2005-02-22", "10:00")]),
    # a time without a.m./p.m. between 1 and 6 is in the afternoon
    ("arraignment set for 3:00 6/23/04 before Mag Judge Kurren",
     [("hearing", "Arraignment", "2004-06-23", "15:00")]),
    ("Omnibus Hearings scheduled for 2/18/2010 at 01:00 PM., 3/22/2010 at 11:00 AM., 4/19/2010 at "
     "09:00 AM at US Bankruptcy Court, 824 Market St., 6th Fl., Wilmington, Delaware",
     [("hearing", "Omnibus Hearings", "2010-02-18", "13:00"),
      ("hearing", "Omnibus Hearings", "2010-03-22", "11:00"),
      ("hearing", "Omnibus Hearings", "2010-04-19", "09:00")]),
    ("NOTICE OF ORAL ARGUMENT on Thursday, March 30, 2023 - 09:00 A.M. - Courtroom 3 - Scheduled "
     "Location: San Francisco View the Oral Argument Calendar for your case here.",
     [("hearing", "Oral Argument", "2023-03-30", "09:00")]),
    ("ORAL ARGUMENT SCHEDULED for 9:00 a.m. (Eastern Time) on Thursday, December 7, 2023.",
     [("hearing", "Oral Argument", "2023-12-07", "09:00")]),
    ("Notice of Hearing Hearing Date: 02/17/2010 Hearing Time: 1:30 PM with Certificate of Service",
     [("hearing", "Hearing", "2010-02-17", "13:30")]),
    ("Meeting of Creditors with 341(a) meeting to be held on 01/31/2017 at 09:00 AM at 3rd Floor "
     "Courtroom (CRJ) Florence. Confirmation hearing to be held on 03/08/2017 at 10:00 AM. Proof of "
     "Claim due by 05/01/2017. Last day to oppose discharge is 4/3/2017.",
     [("hearing", "341(a) Meeting", "2017-01-31", "09:00"),
      ("hearing", "Confirmation Hearing", "2017-03-08", "10:00"),
      ("deadline", "Proof of Claim due", "2017-05-01", None),
      ("deadline", "Last day to oppose discharge", "2017-04-03", None)]),
    ("SCHEDULE NOTICE. Certified Administrative Record due 10/31/2023, Respondent Response to Stay "
     "Motion (Filed with PFR) due 11/21/2023, Petitioner Opening Brief due 1/1/2024.",
     [("deadline", "Certified Administrative Record due", "2023-10-31", None),
      ("deadline", "Respondent Response to Stay Motion due", "2023-11-21", None),
      ("deadline", "Petitioner Opening Brief due", "2024-01-01", None)]),
    ("ORDER granting Motion for Extension of Time to Answer. Yahoo! Inc.'s answer is due 9/19/07 . "
     "Signed by Judge Leonard Davis on 8/22/07.",
     [("deadline", "Answer due", "2007-09-19", None)]),
    ("Appearances & Corporate Disclosures due by noon: April 26, 2010 Responses due on or before: "
     "May 3, 2010", [("deadline", "Appearances & Corporate Disclosures due", "2010-04-26", "12:00"),
                     ("deadline", "Responses due", "2010-05-03", None)]),
    ("Objection deadline is 2/4/2010. Objections be filed by March 5, 2010 at 4:00 p.m.",
     [("deadline", "Objection deadline", "2010-02-04", None),
      ("deadline", "Objections due", "2010-03-05", "16:00")]),
    ("A status conference will be held by telephone on September 2, 2015 at 5:00 p.m.",
     [("hearing", "Status Conference", "2015-09-02", "17:00")]),
])
def test_what_when(text, want):
    assert [(e["kind"], e["what"], e["date"], e["time"]) for e in events_in(text)] == want


def test_places():
    got = events_in("Motion Hearing set for 8/14/2012 10:00 AM in Courtroom 2, 100 Otis St, "
                    "Asheville, NC 28801 before Magistrate Judge Dennis Howell. This is your only "
                    "notice.")
    assert got[0]["place"] == "Courtroom 2, 100 Otis St, Asheville, NC 28801"
    got = events_in("Hearing scheduled for 3/18/2009 at 02:00 PM at US Bankruptcy Court, 824 "
                    "Market St., 5th Fl., Courtroom #6, Wilmington, Delaware. (Attachments: # 1)")
    assert got[0]["place"] == "US Bankruptcy Court, 824 Market St., 5th Fl., Courtroom #6, Wilmington, Delaware"
    got = events_in("Notice of Hearing Re: 13 Motion for Relief from Stay to be held on 3/16/2010 "
                    "at 09:31 AM at Sacramento Courtroom 32, Department B. (lars) (Entered: 02/11/2010)")
    assert got[0]["place"] == "Sacramento Courtroom 32, Department B"
    got = events_in("Status Conference set for 10/12/2021 at 04:00 PM before Judge Gregory H. Woods.")
    assert got[0]["place"] is None
    got = events_in("A status conference will be held by telephone on September 2, 2015 at 5:00 p.m.")
    assert got[0]["place"] == "by telephone"
    # a courtroom's number ends the sentence (a single letter is an initial: "Judge J. Smith")
    got = events_in("Motion Hearing set for 10/1/2020 09:30 AM in Courtroom 3. Responses due by "
                    "10/2/2020.")
    assert got[0]["place"] == "Courtroom 3" and got[1]["what"] == "Responses due"


@pytest.mark.parametrize("text", [
    "COMPLAINT filed on 10/1/2020 by U.S. WeChat Users Alliance. (Entered: 10/02/2020)",
    "ORDER granting 33 Motion for Leave. Signed by Judge Helen G. Berrigan on 4/9/10.",
    "Minute Entry: Settlement Conference held on 11/22/2011. Negotiations were successful.",
    "AFFIDAVIT of Service: summons served on Matthew Gifford on 12/30/08. (Entered: 01/09/2009)",
    "LETTER addressed to Judge Wang from Jonathan Shalom dated 11/18/2022 re: Status.",
    "BNC Certificate of Notice. Notice Date 01/07/2017. Service Date 01/17/2010. (Admin.)",
    "ORDER TO CONTINUE - Ends of Justice. Time excluded from 5/1/09 until 6/18/09.",
    "Transcript access will be restricted through 05/29/2012.",
    "EX PARTE APPLICATION for Further Time to File responsive pleading to 5/26/2006",
    "Received Notification of payment of filing fee (Fee Paid: 03/25/2016; Fee Amount: $505).",
    "CLERK'S NOTICE re completion of In Forma Pauperis affidavit due within 30 days.",
    "ORDER to Pay Taxes When Due . Signed on 10/9/2009",
    "", None,
])
def test_dates_that_are_no_events(text):
    assert events_in(text) == []


def test_years_from_the_entry_date():
    # a year-less date: the first such day on or after the entry's date
    text = "The conference is rescheduled to September 22 at 12:00 p.m."
    assert events_in(text) == []
    got = events_in(text, "2022-09-01")
    assert [(e["date"], e["time"], e["status"]) for e in got] == [("2022-09-22", "12:00", "reset")]
    assert events_in(text, dt.date(2022, 12, 1))[0]["date"] == "2023-09-22"
    assert events_in(text, dt.datetime(2022, 9, 1, 10, 0))[0]["date"] == "2022-09-22"
    # a two-digit year: the century nearest the entry's date
    assert events_in("Trial set for 3/22/05.", "1999-12-01")[0]["date"] == "2005-03-22"
    assert events_in("Trial set for 3/22/95.", "1999-12-01")[0]["date"] == "1995-03-22"
    assert events_in("Trial set for 3/22/95.")[0]["date"] == "1995-03-22"
    # no such day
    assert events_in("Trial set for 2/30/2020.") == []


def test_output_is_plain_data():
    got = events_in("<p>Motion Hearing set for 10/1/2020 09:30 AM.</p>", "2020-09-18T00:00:00")
    assert got == [ev("hearing", "Motion Hearing", "2020-10-01", "09:30")]
    assert set(got[0]) == {"kind", "what", "date", "time", "place", "status", "supersedes"}


def test_long_text_stays_quick():
    import time

    for text in ("a " * 20_000 + "set for 1/1/2020", "Hearing " * 5_000 + "set for 1/1/2020",
                 "Hearing set for 1/1/2020. " * 500, "1/1/2020 " * 3_000):
        started = time.perf_counter()
        events_in(text)
        assert time.perf_counter() - started < 2.0


def test_label_file_holds_labels_only():
    rows = labels.event_labels()
    assert len(rows) >= 100
    with_none = [r for r in rows if not r[3]]
    assert with_none and len(with_none) < len(rows)  # dates that are no events are in the sample
    for _set, name, pos, events in rows:
        assert name.endswith(".json") and pos >= 0
        for kind, date, time, status, supersedes in events:
            assert kind in "hd" and dt.date.fromisoformat(date)
            assert status in ("set", "reset", "continued", "vacated")


def test_precision_on_hand_labelled_entries():
    """Events read from corpus entries match the hand labels (the numbers:
    ``python -m tests.parsers.labels``)."""
    corpus = shared_path()
    for sets, precision, recall in ((("sample",), 0.97, 0.9), (("heldout",), 0.95, 0.9)):
        r = labels.event_precision(corpus, sets)
        assert r["correct"] / r["extracted"] >= precision, (sets, r)
        assert r["correct"] / r["labelled"] >= recall, (sets, r)
