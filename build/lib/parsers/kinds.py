"""The kind of a docket entry, from its text and event names.

``entry_kind(description, short_description=None) -> str`` returns one of
:data:`KINDS`::

    order, opinion, judgment, motion, brief, notice, hearing, transcript,
    service, appearance, other

``description`` is the entry's docket text (a docket report's, CourtListener's,
the Internet Archive's, ACMS's); ``short_description`` the CM/ECF event
name(s) when the source gives them (an RSS item's ``[Order(Other)]``; a
multi-event item's names joined with `` AND ``). Pure: text in, a word out.

How it decides
--------------
CM/ECF docket text starts with the event's name ("ORDER GRANTING ...",
"MOTION for ...", "NOTICE OF APPEAL ...", "Minute Entry for proceedings held
before ...", "TRANSCRIPT of Proceedings ..."), often after a filer's adjective
("Joint MOTION", "Defendant's STIPULATION", "AMENDED NOTICE"). So the kind is
that of the *earliest* cue in the first :data:`WINDOW` characters of the text
(after leading markers such as ``**SEALED DOCUMENT**`` or a leading
parenthetical like "(UNSEALED pursuant to Order ...)"), a longer cue winning
over a shorter one starting at the same place ("NOTICE OF MOTION AND MOTION"
is a motion, not a notice; "MOTION for leave to appear Pro Hac Vice" an
appearance, not a motion). Cues of the kind ``other`` (complaint, petition,
receipt, declaration, report, ...) count too, so that "Receipt of Motion
fee" is not a motion and "COMPLAINT (summons issued)" is not service. When
the text gives no cue (or there is no text), the event names are read the
same way; of several events the most telling kind wins (:data:`PRIORITY`).

Edge rules (decided here; the tests hold them)
----------------------------------------------
- What the court files is what its first words say: "ORDER granting motion to
  appear pro hac vice" and "ORDER granting motion to withdraw as attorney" are
  ``order`` (the court acted), while the motion or application itself, notices
  of appearance, substitutions and withdrawals of counsel, ACMS's "ADDED
  Counsel" and bankruptcy's "Request for (Special) Notice" are ``appearance``.
  "Initial Appearance" of a defendant is a ``hearing``.
- ``opinion``: opinions (published, unpublished, per curiam, memorandum
  opinions and decisions, "Opinion and Order", "Decision and Order",
  "Memorandum Disposition"), findings of fact and conclusions of law, and a
  magistrate judge's report and recommendation (or findings and
  recommendation). "MEMORANDUM AND ORDER" and "RULING AND ORDER" are
  ``order`` (so CM/ECF's events name them); "ruling letter sent" is a
  ``notice``.
- ``judgment``: judgments (default, clerk's, amended, in a criminal case, a
  lower court's judgment received), the appellate mandate, a bankruptcy final
  decree ("Order of Final Decree" too), a disposition of an adversary
  proceeding, a jury verdict. "ORDER ... granting summary judgment" is an
  ``order``; "MOTION for summary judgment" a ``motion``.
- ``motion``: motions, applications, requests, stipulations without the
  court's signature ("STIPULATION and [PROPOSED] ORDER" too), letter motions,
  petitions for rehearing, a bill of costs. "STIPULATION AND ORDER" (signed)
  and "Stipulated Order" are ``order``. A proposed order on its own is
  ``other``.
- ``brief``: briefs, responses, replies, oppositions, objections, joinders,
  memoranda of law or of points and authorities, and answers to a complaint.
- ``notice``: notices not more specific (notice of appeal, of removal, of
  filing, of voluntary dismissal, clerk's notice, ACMS's schedule notices).
  A notice *of* a hearing is a ``hearing``, of an appearance an
  ``appearance``, of service ``service``, of a motion a ``motion``, of a
  transcript a ``transcript``.
- ``hearing``: minute entries and minutes, hearings and conferences held,
  set, reset or cancelled (incl. "Set/Reset Hearings" and notices of hearing),
  trials, sentencings, arraignments, oral argument, meetings of creditors
  (341). A "MINUTE ORDER" is an ``order``.
- ``transcript``: transcripts, transcript orders, requests, designations and
  deadlines, notices of filing a transcript, redaction requests.
- ``service``: certificates, affidavits and proofs of service or mailing
  (BNC's "Certificate of Notice/Mailing" too), summonses issued or returned,
  certified mail sent or its receipt returned, waivers of service.
- ``other``: everything else: complaints, petitions that open a case,
  indictments, receipts and fees, declarations and affidavits, exhibits,
  statements, reports, schedules and plans, case assignment and
  administration.
"""
from __future__ import annotations

import re

KINDS = ("order", "opinion", "judgment", "motion", "brief", "notice", "hearing",
         "transcript", "service", "appearance", "other")

# how far into the text a cue may start (CM/ECF text names the event first)
WINDOW = 120

# of several events (RSS items entered under two events), the kind kept
PRIORITY = ("judgment", "opinion", "order", "appearance", "motion", "brief", "transcript",
            "hearing", "service", "notice", "other")

_W = r"(?:[\w'’.,/()-]+\s+)"  # one word and its space

# (kind, pattern): the earliest match in the window wins, the longer at a tie
_CUES = [
    # ---- service
    ("service", r"(?:bnc |court |clerk'?s? )?certificates? of (?:service|mailing|notice)"),
    ("service", r"(?:affidavits?|declarations?|proofs?|acknowledge?ments?)(?:/\w+)?"
                r"(?: and \w+)? of (?:service|mailing)"),
    ("service", r"proofs? of service"),
    ("service", r"notice (?:and acknowledge?ment )?of service"),
    ("service", r"(?:notice of )?certified (?:and first class )?mail(?:ing)? (?:sent|receipt)"),
    ("service", r"(?:auto )?summons(?:es)?\b"),
    ("service", r"(?:returns?|waivers?) of service"),
    ("service", r"service (?:executed|returned)"),
    # ---- appearance
    ("appearance", r"(?:notice of |entry of )?(?:attorney )?appearances?\b"),
    ("appearance", r"^added counsel|hearing appearance"),
    ("appearance", r"(?:motions?|applications?|petitions?|requests?)\b[^.;]{0,100}?pro hac vice"),
    ("appearance", r"pro hac vice"),
    ("appearance", r"(?:motions?|applications?)\b[^;]{0,100}?\b(?:withdraw|substitut\w*)\b"
                   r"[^.;]{0,25}?\b(?:counsel|attorneys?)\b"),
    ("appearance", r"(?:substitution|withdrawal) of (?:attorney|counsel|appearance)"),
    ("appearance", r"requests? for (?:special |courtesy )?notice"),
    # ---- hearing
    ("hearing", r"initial appearance"),
    ("hearing", r"minutes?(?: entry| entries| sheet| of)?\b"),
    ("hearing", r"(?:\w+ )?notice of " + _W + r"{0,3}(?:hearing(?!s? transcript)|oral argument"
                r"|(?:status |pretrial |pre-trial |scheduling )?conference|trial|sentencing)"),
    ("hearing", r"motion hearing"),
    ("hearing", r"hearings?\b(?! transcript)"),
    ("hearing", r"conferences?\b"),
    ("hearing", r"(?:calendar|docket) call"),
    ("hearing", r"oral argument|argued\b|calendared|submitted on the briefs"),
    ("hearing", r"(?:jury |bench )?trial\b(?! brief)"),
    ("hearing", r"sentencing\b(?! memorand)"),
    ("hearing", r"arraignment|change of plea"),
    ("hearing", r"(?:first )?meeting of creditors|341(?:\(a\))? meeting"),
    ("hearing", r"proceeding memo|proceedings held"),
    # ---- transcript
    ("transcript", r"(?:\w+ )?transcripts?\b"),
    ("transcript", r"notices?\b[^.;]{0,60}?\btranscripts?\b"),
    ("transcript", r"(?:notice of intent to request )?redaction"),
    # ---- judgment
    ("judgment", r"(?:\w+ )?judgments?\b"),
    ("judgment", r"mandate\b"),
    ("judgment", r"(?:order of )?final decree"),
    ("judgment", r"disposition of adversary"),
    ("judgment", r"(?:jury )?verdict"),
    # ---- opinion
    ("opinion", r"(?:memorandum |per curiam |published |unpublished )?opinions?\b"),
    ("opinion", r"(?:memorandum )?decision\b"),
    ("opinion", r"memorandum disposition"),
    ("opinion", r"(?:reports?|findings) and recommendations?"),
    ("opinion", r"findings of fact"),
    # ---- order
    ("order", r"orders?\b"),
    ("order", r"ordered\b|so[- ]ordered"),
    ("order", r"memo[- ]?endorse\w*|endorsed letter"),
    ("order", r"memorandum (?:and|&) order"),
    ("order", r"ruling\b"),
    ("order", r"minute order|motion order"),
    ("order", r"(?:consent )?decree\b"),
    ("order", r"(?:preliminary )?injunction\b"),
    ("order", r"stipulat(?:ion|ed)(?: and| &)? order"),
    ("order", r"discharge of (?:joint )?debtors?"),
    # ---- motion
    ("motion", r"motions?\b"),
    ("motion", r"applications?\b"),
    ("motion", r"requests?\b"),
    ("motion", r"stipulations?\b"),
    ("motion", r"stipulation (?:and|&) \[?proposed\]? order"),
    ("motion", r"notice of (?:the )?(?:filing of )?(?:an? |the )?motion"),
    ("motion", r"petitions? for (?:panel )?rehearing"),
    ("motion", r"bill of costs"),
    # ---- brief
    ("brief", r"briefs?\b"),
    ("brief", r"responses?\b"),
    ("brief", r"(?:sur-?)?repl(?:y|ies)\b"),
    ("brief", r"oppositions?\b"),
    ("brief", r"objections?\b"),
    ("brief", r"joinders?\b"),
    ("brief", r"memorandum of (?:law|points)|memorandum in (?:support|opposition|reply|response)"),
    ("brief", r"(?:reply|sentencing|trial) memorandum|sentencing memorand\w*"),
    ("brief", r"answers?\b(?! (?:is )?due)"),
    ("brief", r"amicus"),
    # ---- notice
    ("notice", r"notices?\b"),
    ("notice", r"ruling letter"),
    # ---- other (cues that keep a later cue from deciding)
    ("other", r"(?:\w+ )?complaints?\b"),
    ("other", r"petitions?\b"),
    ("other", r"indictments?\b|^(?:superseding )?information\b"),
    ("other", r"receipts?\b|(?:payment of )?(?:the )?filing fees?\b|fee paid"),
    ("other", r"declarations?\b|affidavits?\b|exhibits?\b"),
    ("other", r"statements?\b|reports?\b|plea agreement|waivers?\b"),
    ("other", r"\[?proposed\]? order"),
    ("other", r"case opened|(?:court )?deleted (?:incorrect )?entry|paper copies"),
    ("other", r"terminate motions?|agency decision|(?:release|distribution) of (?:the )?opinion|opinion distributed"),
    ("other", r"correction of (?:the )?(?:docket )?entry|certificate of no objection"),
    ("other", r"appendix|appendices|sentencing (?:summary|chart|statement|position)"),
]
_COMPILED = [(kind, re.compile(r"(?<![\w-])" + pat if not pat.startswith("^") else pat, re.I))
             for kind, pat in _CUES]

# leading markers that are no part of the event's name
_LEAD = re.compile(
    r"^(?:\s*(?:\*+[^*]{0,60}\*+|\((?:[^()]|\([^()]*\)){0,300}\)|\[[\d\s,-]{1,30}\]|"
    r"EP:|[-–:;.,]))+\s*", re.I)
_TAGS = re.compile(r"<[^>]{0,500}>")


def _clean(text) -> str:
    if not text:
        return ""
    text = _TAGS.sub(" ", str(text))
    text = " ".join(text.split())
    return _LEAD.sub("", text)


def _kind_of_text(text: str):
    """The kind of the earliest cue in ``text``'s window, or None without one."""
    window = _clean(text)[:WINDOW]
    if not window:
        return None
    best = None  # (start, -length, order of the cue)
    for i, (kind, rx) in enumerate(_COMPILED):
        m = rx.search(window)
        if m is None:
            continue
        key = (m.start(), -(m.end() - m.start()), i)
        if best is None or key < best[0]:
            best = (key, kind)
    return best[1] if best else None


def _kind_of_events(short_description) -> str | None:
    events = [e for e in re.split(r"\s+AND\s+", _clean(short_description) or "") if e.strip()]
    kinds = {k for k in (_kind_of_text(e) for e in events) if k}
    if not kinds:
        return None
    return min(kinds, key=PRIORITY.index)


def entry_kind(description: str | None, short_description: str | None = None) -> str:
    """The kind of an entry (one of :data:`KINDS`) from its docket text and
    its event name(s); ``other`` when neither says."""
    kind = _kind_of_text(description or "")
    if kind is None or kind == "other":
        by_event = _kind_of_events(short_description)
        if by_event is not None and (kind is None or by_event != "other"):
            return by_event
    return kind or "other"
