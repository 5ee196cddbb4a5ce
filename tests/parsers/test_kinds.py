"""Entry kinds (parsers.kinds, issue 20): self-made lines for each rule, and
the agreement with hand-written labels of corpus entries
(tests/fixtures/labels/entry_kinds.tsv; skipped without ../shared)."""
from __future__ import annotations

import pytest

from parsers.kinds import KINDS, entry_kind

from . import labels
from .conftest import shared_path

LINES = [
    # the and the brief's examples: CM/ECF text starts with the event name
    ("ORDER GRANTING 12 Motion for Preliminary Injunction. Signed by Judge Laurel Beeler.", "order"),
    ("MOTION for Preliminary Injunction filed by U.S. WeChat Users Alliance.", "motion"),
    ("NOTICE OF APPEAL to the 9th Circuit Court of Appeals filed by Donald J. Trump.", "notice"),
    ("Minute Entry for proceedings held before Magistrate Judge Laurel Beeler: Motion Hearing "
     "held on 9/17/2020.", "hearing"),
    ("TRANSCRIPT of Proceedings held on 9/17/2020, before Judge Laurel Beeler.", "transcript"),
    ("CERTIFICATE OF SERVICE by U.S. WeChat Users Alliance re 17 Motion.", "service"),
    ("NOTICE of Appearance by Michael Bien on behalf of U.S. WeChat Users Alliance", "appearance"),
    ("MOTION for leave to appear in Pro Hac Vice ( Filing fee $ 317, receipt number 0971-1).",
     "appearance"),
    # edge rules: what the court files is what its first words say
    ("ORDER granting 20 Motion for Pro Hac Vice as to Jane Lawyer.", "order"),
    ("ORDER GRANTING 31 MOTION to Withdraw as Attorney.", "order"),
    ("MOTION to Withdraw as Attorney by Jane Lawyer.", "appearance"),
    ("Minute Entry: Initial Appearance as to John Doe held on 1/13/2015.", "hearing"),
    ("ADDED Counsel for Respondent Jane Lawyer for Respondent Merrick B. Garland.", "appearance"),
    ("Request for Special Notice filed by Creditor Big Bank.", "appearance"),
    # opinions, judgments
    ("OPINION AND ORDER granting in part 31 Motion to Dismiss.", "opinion"),
    ("MEMORANDUM OPINION re 31 Motion to Dismiss.", "opinion"),
    ("REPORT AND RECOMMENDATIONS re 31 MOTION to Dismiss filed by Ricky Babin.", "opinion"),
    ("FILED MEMORANDUM DISPOSITION (Judges Wardlaw, Thomas and Rosenthal) AFFIRMED.", "opinion"),
    ("MEMORANDUM AND ORDER resetting the status conference.", "order"),
    ("JUDGMENT in favor of Plaintiff against Defendant.", "judgment"),
    ("ORDER granting 40 Motion for Summary Judgment.", "order"),
    ("MOTION for Summary Judgment filed by Defendant.", "motion"),
    ("MANDATE ISSUED. (MDH, RMG and RAP)", "judgment"),
    ("Order of Final Decree (BNC)", "judgment"),
    # motions, briefs, notices
    ("NOTICE OF MOTION AND MOTION to Dismiss filed by Defendant.", "motion"),
    ("Joint STIPULATION and [Proposed] Order to extend time.", "motion"),
    ("STIPULATION AND ORDER of dismissal. Signed by Judge Alsup.", "order"),
    ("[PROPOSED] ORDER re 17 Motion.", "other"),
    ("LETTER MOTION for Conference addressed to Judge Woods.", "motion"),
    ("RESPONSE in Opposition re 17 MOTION for Preliminary Injunction filed by Donald J. Trump.", "brief"),
    ("REPLY (re 17 MOTION) filed by U.S. WeChat Users Alliance.", "brief"),
    ("ANSWER to Complaint by All Defendants.", "brief"),
    ("MEMORANDUM OF POINTS AND AUTHORITIES in support of 17 Motion.", "brief"),
    ("Objection to Claim 6 filed by the Trustee.", "brief"),
    ("CLERK'S NOTICE re: consent or declination.", "notice"),
    ("NOTICE OF HEARING ON MOTION: Motion Hearing set for 8/14/2012 10:00 AM.", "hearing"),
    ("Notice of Filing of Official Transcript.", "transcript"),
    ("NOTICE of Certified Mail Receipt Returned re 17 Order.", "service"),
    ("BNC Certificate of Mailing - Meeting of Creditors.", "service"),
    ("Summons Returned Executed as to Donald J. Trump.", "service"),
    # other: cues that keep a later word from deciding
    ("Receipt of Motion for Relief from Stay (150.00 fee). Receipt number 9598316.", "other"),
    ("COMPLAINT (summons issued) against Donald J. Trump.", "other"),
    ("Declaration of Jane Doe in Support of 17 Motion.", "other"),
    ("Case reassigned to Judge Laurel Beeler.", "other"),
    ("", "other"),
    # leading markers are no part of the name
    ("**SEALED DOCUMENT** SEALED MOTION for Sanctions by Brian David Mitchell.", "motion"),
    ("(UNSEALED Pursuant to Order Dated 11/2/09) Response to Statement of Facts.", "brief"),
    ("<p><strong>MOTION</strong> to extend time to file answering brief.</p>", "motion"),
]


@pytest.mark.parametrize("text,kind", LINES, ids=[t[:40] or "empty" for t, _ in LINES])
def test_self_made_lines(text, kind):
    assert entry_kind(text) == kind


@pytest.mark.parametrize("events,kind", [
    # RSS items give only event names
    ("Order(Other)", "order"),
    ("Order AND Order(Other)", "order"),
    ("Motion Hearing AND Set/Reset Hearings AND Terminate Motions", "hearing"),
    ("Order AND ~Util - Set Deadlines", "order"),
    ("Opinion Issued", "opinion"),
    ("unpublished opinion and judgment filed", "opinion"),
    ("Judgment order filed", "judgment"),
    ("Motion Order FILED", "order"),
    ("ruling letter sent", "notice"),
    ("Initial Appearance AND Initial Appearance", "hearing"),
    ("Summons Returned Executed", "service"),
    ("Close Adversary Case", "other"),
])
def test_event_names(events, kind):
    assert entry_kind("", events) == kind
    assert entry_kind(None, events) == kind


def test_text_first_event_names_when_the_text_says_nothing():
    # the text names the kind: it wins over the event
    assert entry_kind("ORDER granting 17 Motion.", "Motion to Dismiss") == "order"
    # the text gives only an "other" cue, the event says more
    assert entry_kind("Declaration re: Electronic Filing", "Certificate of Service") == "service"
    assert entry_kind("Exhibits filed by Plaintiff.", "") == "other"


def test_every_answer_is_a_kind():
    for text in ("x" * 10_000, "ORDER " * 5_000, "\x00", "1/1/2020", "((((((", "MOTION"):
        assert entry_kind(text) in KINDS


def test_label_file_holds_labels_only():
    rows = labels.kind_labels()
    assert len(rows) >= 300
    assert {s for s, *_ in rows} == {"sample", "rare", "heldout"}
    for _set, name, pos, label in rows:
        assert label in KINDS
        assert name.count("/") == 1 and name.endswith(".json") and pos >= 0
    assert len({(n, p) for _, n, p, _ in rows}) == len(rows)
    folders = {n.split("/")[0] for s, n, *_ in rows if s == "sample"}
    assert folders == {"district", "bankruptcy", "appellate", "acms", "rss"}


def test_agreement_with_hand_labels():
    """The classifier agrees with the hand labels of corpus entries (the
    numbers: ``python -m tests.parsers.labels``)."""
    corpus = shared_path()
    for sets, least in ((("sample",), 0.98), (("rare",), 0.95), (("heldout",), 0.95), (None, 0.98)):
        r = labels.kind_agreement(corpus, sets)
        assert r["agreed"] / r["total"] >= least, (sets, r["agreed"], r["total"], r["misses"])
    r = labels.kind_agreement(corpus)
    for kind in KINDS:  # every kind is labelled, and mostly found
        n, ok = r["per_kind"][kind]
        assert n >= 10 and ok / n >= 0.9, (kind, ok, n)
