"""Hearings and deadlines read from a docket entry's text.

``events_in(description, date_filed=None) -> list[dict]``: the dates the
text sets, moves or cancels, in the order the text gives them. Each event::

    {"kind": "hearing" | "deadline",
     "what": "Motion Hearing" | "Responses due" | ...,
     "date": "2020-10-01",          # ISO date
     "time": "09:30" | None,        # ISO time (24 h), None when the text gives none
     "place": "Courtroom 3, ..." | None,
     "status": "set" | "reset" | "continued" | "vacated",
     "supersedes": {"date": "2020-10-01", "time": "09:30" | None} | None}

Pure: text in, plain data out. ``date_filed`` (an ISO date or datetime, a
``date`` or ``datetime``; the entry's) decides the century of two-digit years
and the year of dates written without one ("September 23"); without it
those dates are read as they stand (a two-digit year as 20yy when below 70)
and year-less dates are skipped.

What is an event
----------------
- A hearing: a hearing, conference, trial, sentencing, arraignment, oral
  argument, calendar call, a meeting of creditors (341), a presentment...
  that the text *sets* ("Motion Hearing set for 10/1/2020 09:30 AM in
  Courtroom 3", "Status hearing to be held on ...", "Hearing scheduled for
  ...", "NOTICE OF ORAL ARGUMENT on Thursday, March 30, 2023 - 09:00 A.M."),
  *resets* ("Sentencing reset for ...", "Motion Hearing reset from 10/1/2020
  to 10/8/2020", "Hearing Rescheduled from 3/22/2006 ... Hearing scheduled for
  6/7/2006", "resetting Calendar Call for 9:31 7/26/04"), *continues*
  ("Initial Appearance continued to ...", "adjourned to ...", an entry that
  opens "Hearing Continued" or "Notice of Adjournment") or *vacates* ("The
  Status Conference set for 10/14/2015 at 1:30 PM is hereby cancelled",
  "vacated", "stricken", "off calendar", "adjourned sine die").
- A deadline: "<what> due (by) <date>" ("Responses due by 10/2/2020",
  "Replies due by", "answer due: 8/20/2007", "Answer Due: 01/5/2009"), a
  named deadline ("Objection deadline is 2/4/2010", "Last day to oppose
  discharge is ...", "deadline of 12/3/08"), "must be filed by <date>", and a
  deadline "extended to" a date (``continued``).
- Not events: the dates a text merely reports: filed on, entered, signed on,
  dated, served on, held on (a hearing that took place is history, not a
  date to come), notice or service dates, receipt dates, fee payments,
  "restricted through", date ranges of excludable time.

``supersedes`` names the date a reset or continued event replaces when the
text says it (from-to, "... set for D1 is vacated and continued to D2",
"Rescheduled from D1" followed by the new date); the earlier date then gives
no event of its own. A list of dates after one trigger ("Omnibus Hearings
scheduled for 2/18/2010 at 01:00 PM., 3/22/2010 at 11:00 AM.") gives one
event per date. ``place`` is what follows the date and time after "in",
"at" or " - " (up to "before Judge ...", the end of the sentence, or a
docketing parenthetical such as "(Entered: ...)"), or "by telephone" and the
like when the text names no room.
"""
from __future__ import annotations

import bisect
import datetime as _dt
import re

__all__ = ["events_in"]

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+"
_DATE = re.compile(
    r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})(?![\d/])"
    r"|\b(?P<mon>" + _MONTH + r")\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{4})\b)?",
    re.I)
_TIME = (r"(?:\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?\s?m\.?(?![a-z]))?"
         r"|\d{1,2}\s*[ap]\.?\s?m\.?(?![a-z]))")
_TIME_RX = re.compile(r"(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?(?::\d{2})?\s*(?:(?P<ap>[ap])\.?\s?m\.?)?", re.I)

# the nouns of a hearing, and the words that may name it before the noun
_NOUN = (r"(?:hearings?|conferences?|trial|sentencing|re-?sentencing|sentence with(?:out)? psr"
         r"|arraignment|initial appearance|meetings? of creditors"
         r"|(?:calendar|docket|status) call|oral argument|argument|meeting|plea|presentment"
         r"|pre-?trial|status|proceedings?|mediation|jury selection|selection|sitting)")
_MODIFIERS = frozenset("""
motion motions status initial case management scheduling settlement pretrial pre-trial pre final
jury bench trial change of plea bond detention preliminary confirmation evidentiary telephonic
telephone video sentencing show cause order to rule 16 16(b) discovery oral docket calendar
competency markman claim construction revocation suppression omnibus expedited further continued
pre-hearing prehearing mediation adr 341(a) 341 section first meeting creditors supervised release
violation daubert fairness approval plan disclosure statement adequacy emergency interim tro
injunction limine in arraignment identity removal probable felony misdemeanor setting pre-motion
premotion compliance restitution forfeiture duty voir dire selection dismiss sanctions summary
judgment suppress compel reconsideration cmc telephonic video zoom remote in-person 10-day hearing
and for on re the a an appearance detention/arraignment
""".split())
_CONNECTORS = frozenset("of to on in for re and the a an".split())

_HEARING_VERB = (r"(?P<verb>set|re-?set|scheduled|re-?scheduled|continued|adjourned|postponed|advanced"
                 r"|moved|to be held|will be held|shall be held|will be conducted|to be conducted"
                 r"|will proceed|will take place|to take place)")
_BE = r"(?:(?:is|are|was|were|has been|have been|will be|shall be|be|hereby|currently|previously" \
      r"|presently|now|originally|remains?|which|that|also|then)\s+)*"
_MODE = r"(?:(?P<mode>by telephone|telephonically|by video(?:conference)?|via video(?:conference)?" \
        r"|via zoom|in person|remotely)\s+)?"
_TAIL = r"(?:for|to|on|until|at|:)?\s*(?:(?P<pretime>" + _TIME + r")\s+)?(?:on\s+)?(?:" + _WEEKDAY + r")?$"

_T_HEARING = re.compile(
    r"(?P<what>(?:[\w()/'’&-]+\s+){0,7}?" + _NOUN + r")(?:\s+date)?"
    r"(?:\s+(?:as to|in this|in the|for|regarding|re:?|on)\s+[^.;]{1,80}?)??,?\s+"
    + _BE + _HEARING_VERB + r"\s+" + _MODE + _TAIL, re.I)
_T_VERB_FIRST = re.compile(
    r"\b(?P<verb>re-?setting|setting|rescheduling|continuing|adjourning|vacating|cancell?ing)\s+"
    r"(?:the\s+)?(?P<what>(?:[\w()/'’&-]+\s+){0,5}?" + _NOUN + r")\s+(?:set\s+)?" + _TAIL, re.I)
_T_SET_FOR_HEARING = re.compile(
    r"(?:(?P<noun>motions?)\b[^.;]{0,60}?)?(?:is\s+|are\s+)?(?:set|scheduled|noticed|calendared)\s+"
    r"for\s+(?:a\s+)?hearing\s+" + _TAIL, re.I)
_T_NOTICE_OF = re.compile(
    r"notice\s+of\s+(?P<what>(?:[\w()/'’&-]+\s+){0,4}?" + _NOUN + r")\s+(?:on|for|set for|scheduled for)\s+"
    r"(?:" + _WEEKDAY + r")?$", re.I)
_T_DATE_IS = re.compile(
    r"(?P<new>rescheduled\s+|new\s+|continued\s+)?(?P<what>" + _NOUN + r")\s+date\s*(?:is|:)\s*$", re.I)
_T_DUE = re.compile(
    r"(?P<what>[^.;()]{1,90}?)\s+(?:is\s+|are\s+|shall be\s+|will be\s+|now\s+)?due(?:\s+date)?"
    r"\s*(?:by|on or before|on|no later than|before)?\s*(?P<pretime>noon|midnight)?\s*:?\s*(?:on\s+)?$",
    re.I)
_T_DEADLINE = re.compile(
    r"(?P<what>[^.;()]{0,90}?\b(?:deadline|ddl|bar date)\b[^.;()]{0,60}?)\s*"
    r"(?:(?P<ext>is extended to|extended to|is reset to|reset to)|is|of|:|set for|set|will be|shall be"
    r"|expires?(?: on)?|falls on)\s*(?:for|to)?\s*:?\s*$"
    r"|(?P<what2>\blast day\b[^.;()]{0,90}?)\s*(?:is|:)?\s*$", re.I)
_T_EXTENDED = re.compile(
    r"(?P<what>[^.;()]{1,90}?)\s+(?:is|are|be|shall be|has been|have been)?\s*(?:hereby\s+)?"
    r"(?P<verb>extended|adjourned|continued|reset)\s+(?:to|until)\s*$", re.I)
_T_MUST = re.compile(
    r"(?P<what>[^.;()]{0,90}?)\b(?:(?:must|shall|should)\s+(?:be\s+)?|be\s+)(?P<act>file[sd]?|serve[sd]?"
    r"|submit(?:ted)?|received|respond|answer|reply|move|complete[sd]?|filed and served)\b[^.;]{0,80}?"
    r"\b(?:by|on or before|no later than)\s+$", re.I)

_FROM_TO = re.compile(r"\bfrom\s*$", re.I)
_TO_AFTER_FROM = re.compile(
    r"^\s*(?:(?:at\s+)?" + _TIME + r")?\s*,?\s*(?:to|until)\s+(?:(?P<pretime>" + _TIME + r")\s+)?"
    r"(?:on\s+)?(?:" + _WEEKDAY + r")?$", re.I)
_MOVED_TO = re.compile(
    r"^\s*(?:(?:at\s+)?" + _TIME + r")?\s*,?\s*(?:[^.;]{0,60}?\s)?(?:is|are|be|has been|have been|shall be"
    r"|will be)?\s*(?:hereby\s+)?(?:vacated\s+and\s+)?(?P<verb>continued|rescheduled|re-?set|adjourned"
    r"|moved|postponed|extended)\s+(?:to|until|for)\s+(?:(?P<pretime>" + _TIME + r")\s+)?(?:on\s+)?"
    r"(?:" + _WEEKDAY + r")?$", re.I)
_LIST_NEXT = re.compile(
    r"^\s*(?:(?:at\s+)?" + _TIME + r")?\s*\.?\s*(?:,|;|\band\b|&|\bor\b)\s*(?:and\s+)?(?:on\s+)?$", re.I)
_RESCHEDULED_FROM = re.compile(
    r"\b(?P<verb>rescheduled|re-?set|continued|adjourned|moved)\s+from\s*$", re.I)
_VACATED_AFTER = re.compile(
    r"^[^;]{0,110}?\b(?:vacated|cancell?ed|stricken|terminated|(?:taken\s+)?off\s+(?:the\s+)?calendar"
    r"|adjourned\s+(?:sine\s+die|without\s+date|indefinitely)|will be (?:decided\s+|heard\s+)?on the briefs"
    r"|submitted on the briefs)\b", re.I)
_VACATED_BEFORE = re.compile(
    r"\b(?:vacat\w*|cancel\w*|strik\w*|terminat\w*)\s+(?:the\s+)?[^.;]{0,80}?\s+(?:set|scheduled)\s+"
    r"(?:for|on)\s*$", re.I)
_HEAD_CONTINUED = re.compile(
    r"^[^.]{0,40}?\b(?:hearings?|conferences?|meetings?)\s+(?:continued|adjourned)\b|notice of adjournment"
    r"|\b(?:adjourned|continued)\s+(?:hearing|conference|meeting)", re.I)
_HEAD_RESET = re.compile(r"\brescheduled\s+(?:hearing|conference|meeting)"
                         r"|^[^.]{0,40}?\b(?:hearings?|conferences?|meetings?)\s+rescheduled\b", re.I)
_HEAD_EXTENDED = re.compile(r"^[^.]{0,60}?\bextend\w*\s+(?:the\s+)?(?:deadline|time)\b", re.I)
_HEARING_VACATED_LATER = re.compile(
    r"\b(?:the\s+)?(?:hearing|conference|trial)(?:\s+date)?\s+(?:is|are|has been|was)\s+(?:hereby\s+)?"
    r"(?:vacated|cancell?ed|stricken|taken off calendar)", re.I)

_PLACE = re.compile(
    r"^\s*,?\s*(?:(?:in|at|@)\s+(?!\d{1,2}(?::\d{2})?\s*[ap]\.?m)|-\s+|location:\s*)(?P<place>.+)", re.I | re.S)
_PLACE_END = re.compile(
    r"\s+before\s+(?:the\s+)?(?:hon\w*|judge|magistrate|district|chief|senior|bankruptcy|u\.\s?s\.|justice"
    r"|[A-Z]{2,4}\b)|\s+for\s+(?:the\s+)?(?:dft|defendant|plaintiff|debtor|petitioner|respondent)\b"
    r"|;|\s*\((?:entered|related|re:|attachments|signed|filed|\w+,\s)|\s+View\b|\s+This is\b"
    r"|\s+Signed\b|\s+\d+ Motion|\s+re:?\s+\d|,\s+to be\b|(?-i:\s*\([a-z]{2,8}(?:,\s*[^)]{0,20})?\))"
    r"|(?<=\))\s+(?=[A-Z][^().]{0,80}?\b(?:due|deadline|set for|to be held|scheduled)\b)", re.I)
# how far before a date its trigger may start ("... Motion Hearing set for")
_REACH = 300
_ABBREV = frozenset("""st ave blvd rd dr ste fl bldg rm no nos jr sr mr mrs ms hon inc co corp ltd mt ft
u.s s.a n.a a.m p.m e.g i.e al v vs dkt doc ct cir dist e w n s ne nw se sw""".split())


def _sentence_starts(text: str) -> list[int]:
    """Where each sentence (or ``;`` clause, or parenthetical) begins."""
    starts = [0]
    for m in re.finditer(r"(?:^|\s)\((?:[^()]|\([^()]*\))*\)", text):
        # a parenthetical set off by a space (not "341(a)"): its own clause
        starts += [text.index("(", m.start()) + 1, m.end()]
    for m in re.finditer(r"[.;]\s+(?=[A-Z(\[])|;\s*", text):
        if m.group(0).startswith("."):
            word = re.search(r"([\w.]+)$", text[max(0, m.start() - 40):m.start()])
            # an abbreviation or an initial ("J.") goes on; a number ("Courtroom 3.") ends it
            if word and (word.group(1).lower().rstrip(".") in _ABBREV
                         or (len(word.group(1)) == 1 and word.group(1).isalpha())):
                continue
        starts.append(m.end())
    return sorted(set(starts))


def _ref(date_filed):
    if date_filed is None or date_filed == "":
        return None
    if isinstance(date_filed, _dt.datetime):
        return date_filed.date()
    if isinstance(date_filed, _dt.date):
        return date_filed
    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", str(date_filed))
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _date(m, ref):
    """The ISO date of a date match, or None when it is no date (or its year
    cannot be told)."""
    try:
        if m.group("m"):
            month, day, year = int(m.group("m")), int(m.group("d")), m.group("y")
            if len(year) == 2:
                yy = int(year)
                if ref is not None:
                    base = ref.year - ref.year % 100
                    year = min((base - 100 + yy, base + yy, base + 100 + yy),
                               key=lambda y: abs(y - ref.year))
                else:
                    year = 2000 + yy if yy < 70 else 1900 + yy
            else:
                year = int(year)
            return _dt.date(year, month, day).isoformat()
        month = _MONTHS[m.group("mon")[:3].lower()]
        day = int(m.group("day"))
        if m.group("year"):
            return _dt.date(int(m.group("year")), month, day).isoformat()
        if ref is None:
            return None
        # the first such day on or after the entry's date (within a year)
        for year in (ref.year, ref.year + 1):
            try:
                candidate = _dt.date(year, month, day)
            except ValueError:
                continue
            if candidate >= ref - _dt.timedelta(days=31):
                return candidate.isoformat()
        return None
    except (ValueError, KeyError):
        return None


def _time(text):
    if not text:
        return None
    if text.strip().lower() in ("noon", "midnight"):
        return "12:00" if text.strip().lower() == "noon" else "00:00"
    m = _TIME_RX.match(text.strip())
    if not m:
        return None
    hour, minute = int(m.group("h")), int(m.group("mi") or 0)
    ap = (m.group("ap") or "").lower()
    if ap == "p" and hour < 12:
        hour += 12
    elif not ap and 1 <= hour <= 6:
        hour += 12  # "set for 3:00 6/23/04": courts do not sit at 3 a.m.
    elif ap == "a" and hour == 12:
        hour = 0
    if not (0 <= hour < 24 and 0 <= minute < 60) or (not ap and not m.group("mi")):
        return None
    return f"{hour:02d}:{minute:02d}"


_LEADING_TIME = re.compile(
    r"^\s*,?\s*(?:(?:hearing\s+)?time:?\s*|at\s+|by\s+|@\s*|-\s*)?(?P<t>" + _TIME + r"|noon\b)", re.I)


def _what_of_hearing(raw: str) -> str:
    """The hearing's name: its noun and the naming words before it."""
    words = raw.split()
    noun = re.search(_NOUN + r"$", raw, re.I)
    noun_words = len(noun.group(0).split()) if noun else 1
    keep = words[-noun_words:]
    for w in reversed(words[:-noun_words]):
        if w.lower().strip(",") in _MODIFIERS:
            keep.insert(0, w)
        else:
            break
    while keep and (keep[0].lower() in _CONNECTORS or keep[0].lower() in ("setting", "resetting")):
        keep.pop(0)
    return _title(" ".join(keep))


def _title(text: str) -> str:
    out = []
    for i, w in enumerate(text.split()):
        if i and w.lower() in _CONNECTORS:
            out.append(w.lower())
        elif w.isupper() and len(w) <= 4 and i:
            out.append(w)  # PSR, ADR, TRO, CMC
        elif w.isupper() or w.islower():
            out.append(w[:1].upper() + w[1:].lower())
        else:
            out.append(w)
    return " ".join(out)


def _what_of_deadline(raw: str, suffix: str = "") -> str | None:
    raw = re.sub(r"\s+", " ", raw).strip(" ,:-")
    raw = re.split(r",\s+|:\s+|\band\s+(?=[A-Z])|\bthat\s+|\bThe\s+(?=\w+ (?:deadline|due))", raw)[-1]
    # a filer's name in capitals before the deadline ("S. WILLIAM MANERA Objections due")
    raw = re.sub(r"^(?:[A-Z][A-Z.'&-]+\s+)+(?=[A-Z][a-z])", "", raw)
    raw = re.sub(r"^(?:.*\b\S+)?['’]s\s+", "", raw)  # "Yahoo! Inc.'s answer" -> "answer"
    raw = re.sub(r"^(?:the|a|an|and|all|any)\s+", "", raw, flags=re.I)
    words = raw.split()[-8:]
    if not words:
        return None
    what = " ".join(words) + suffix
    return what[:1].upper() + what[1:]


def _place(after: str, mode: str | None) -> str | None:
    m = _PLACE.match(after)
    if m:
        text = m.group("place")
        end = _PLACE_END.search(text)
        if end:
            text = text[:end.start()]
        # the end of the sentence (a period or semicolon; parentheses stay)
        for stop in re.finditer(r"[.;](?=\s+[A-Z(\[]|\s*$)", text):
            word = re.search(r"([\w.]+)$", text[:stop.start()])
            # an abbreviation or an initial ("J.") goes on; a number ("Courtroom 3.") ends it
            if word and (word.group(1).lower().rstrip(".") in _ABBREV
                         or (len(word.group(1)) == 1 and word.group(1).isalpha())):
                continue
            text = text[:stop.start()]
            break
        depth = 0
        for i, ch in enumerate(text):  # a parenthesis the place did not open ends it
            depth += ch == "("
            depth -= ch == ")"
            if depth < 0:
                text = text[:i]
                break
        text = text.strip(" ,.-")
        if text and not re.match(r"^(?:the\s+)?(?:discretion|request|direction)\b", text, re.I):
            return text[:160]
    return mode.lower() if mode else None


def events_in(description, date_filed=None) -> list[dict]:
    """The hearings and deadlines ``description`` sets, moves or cancels
    (see the module's docstring); [] when it names none."""
    if not description:
        return []
    text = " ".join(re.sub(r"<[^>]{0,500}>", " ", str(description)).split())
    ref = _ref(date_filed)
    starts = _sentence_starts(text)
    dates = list(_DATE.finditer(text))
    events: list[dict] = []
    last = None            # (event, date match) of the previous event, for lists and from-to
    pending_from = None    # "Rescheduled from D1." waiting for the new date
    prev_end = 0
    head_continued = bool(_HEAD_CONTINUED.search(text[:120]))
    head_reset = bool(_HEAD_RESET.search(text[:120]))
    head_extended = bool(_HEAD_EXTENDED.search(text[:120]))
    for idx, m in enumerate(dates):
        iso = _date(m, ref)
        clause_start = starts[bisect.bisect_right(starts, m.start()) - 1]
        left_all = text[clause_start:m.start()]
        if clause_start > 0 and text[clause_start - 1] == ")" and clause_start >= prev_end \
                and re.match(r"^\s*(?:(?:is\s+|are\s+)?due\b|on\b|at\b|for\b|,|\W*$)",
                             text[clause_start:m.start()], re.I):
            # the clause goes on after a parenthetical: read it without it
            opened = text.rfind(" (", 0, clause_start)
            if opened >= 0:
                outer = max(starts[bisect.bisect_right(starts, opened) - 1], prev_end)
                left_all = text[outer:opened] + text[clause_start:m.start()]
        left = left_all if clause_start >= prev_end else text[prev_end:m.start()]
        between = text[prev_end:m.start()] if idx else ""
        next_start = dates[idx + 1].start() if idx + 1 < len(dates) else len(text)
        right = text[m.end():next_start]
        prev_end = m.end()
        if iso is None:
            if last is not None and last[0].get("_from") and last[0] in events:
                events.remove(last[0])
                pending_from = {"date": last[0]["date"], "time": last[0]["time"],
                                "_verb": last[0]["_verb"]}
            last = None
            continue
        after_time = _LEADING_TIME.match(right)
        time = _time(after_time.group("t")) if after_time else None
        rest = right[after_time.end():] if after_time else right

        # "... from D1 to D2" / "... set for D1 is vacated and continued to D2"
        if last is not None and idx and (_TO_AFTER_FROM.match(between) or _MOVED_TO.match(between)):
            prev_event, prev_m = last
            mt = _TO_AFTER_FROM.match(between) or _MOVED_TO.match(between)
            if mt is not None and (prev_event.get("_from") or _MOVED_TO.match(between)):
                verb = (mt.groupdict().get("verb") or prev_event.get("_verb") or "reset").lower()
                ev = dict(prev_event)
                ev.update(date=iso, time=time or _time(mt.group("pretime")), _pos=m.start(),
                          status=_status_of(verb, "reset"),
                          supersedes={"date": prev_event["date"], "time": prev_event["time"]},
                          place=_place(rest, None) or prev_event.get("place"))
                ev.pop("_from", None)
                if prev_event in events:
                    events.remove(prev_event)
                events.append(ev)
                last = (ev, m)
                continue
        # another date of the same list ("scheduled for D1 at T1., D2 at T2.")
        if last is not None and idx and _LIST_NEXT.match(between) and not last[0].get("_from"):
            ev = dict(last[0])
            ev.update(date=iso, time=time, supersedes=None, _pos=m.start(),
                      place=_place(rest, None) or last[0].get("place"))
            events.append(ev)
            last = (ev, m)
            continue

        if last is not None and last[0].get("_from") and last[0] in events:
            # "Rescheduled from D1" and no "to": D1 is what the next hearing supersedes
            events.remove(last[0])
            pending_from = {"date": last[0]["date"], "time": last[0]["time"],
                            "_verb": last[0]["_verb"]}
        found = _trigger(left[-_REACH:], left_all[-_REACH:])
        if found is None:
            if _RESCHEDULED_FROM.search(left):
                pending_from = {"date": iso, "time": time,
                                "_verb": _RESCHEDULED_FROM.search(left).group("verb")}
            last = None
            continue
        kind, what, status, pretime, mode, from_ = found
        ev = {"kind": kind, "what": what, "date": iso, "time": time or _time(pretime),
              "place": _place(rest, mode), "status": status, "supersedes": None, "_pos": m.start()}
        if from_:
            ev["_from"] = True
            ev["_verb"] = from_
        after = bisect.bisect_right(starts, m.end())
        clause_end = starts[after] if after < len(starts) else len(text)
        rest_of_clause = text[m.end():clause_end]
        if status == "set" and _VACATED_BEFORE.search(left_all):
            ev["status"] = "vacated"
        elif _VACATED_AFTER.match(rest_of_clause) and not re.match(
                r"^[^;]{0,110}?\bvacated\s+and\s+(?:continued|rescheduled|re-?set)", rest_of_clause, re.I):
            ev["status"] = "vacated"
        if kind == "hearing" and pending_from is not None and ev["status"] in ("set", "reset"):
            ev["status"] = _status_of(pending_from["_verb"], "reset")
            ev["supersedes"] = {"date": pending_from["date"], "time": pending_from["time"]}
            pending_from = None
        elif kind == "hearing" and ev["status"] == "set" and (
                head_continued or re.match(r"(?:adjourned|continued)\b", what, re.I)):
            ev["status"] = "continued"
        elif kind == "hearing" and ev["status"] == "set" and (
                head_reset or re.match(r"rescheduled\b", what, re.I)):
            ev["status"] = "reset"
        elif kind == "deadline" and ev["status"] == "set" and head_extended:
            ev["status"] = "continued"
        events.append(ev)
        last = (ev, m)

    if last is not None and last[0].get("_from") and last[0] in events:
        events.remove(last[0])  # moved from a date to one the text does not give
    # "... scheduled for hearing on 6/12/06 ... Accordingly, the hearing date is vacated."
    for later in _HEARING_VACATED_LATER.finditer(text):
        before = [e for e in events if e["kind"] == "hearing" and e["status"] != "vacated"
                  and e["_pos"] < later.start()]
        if before and not re.match(r"\s*(?:,\s*)?and\s+(?:re-?set|rescheduled|continued|moved)",
                                   text[later.end():], re.I):
            before[-1]["status"] = "vacated"
    return [{k: v for k, v in ev.items() if not k.startswith("_")} for ev in events]


def _status_of(verb: str, default: str) -> str:
    verb = (verb or "").lower()
    if re.match(r"re-?set|rescheduled|re-?scheduled|moved|advanced", verb):
        return "reset"
    if re.match(r"continu|adjourn|postpon|extend", verb):
        return "continued"
    if re.match(r"vacat|cancel", verb):
        return "vacated"
    return default


def _trigger(left: str, left_all: str):
    """``(kind, what, status, pretime, mode, from_verb)`` when the text just
    before a date makes it an event, else None."""
    if _FROM_TO.search(left):
        m = _RESCHEDULED_FROM.search(left)
        if m:
            # "Motion Hearing reset from D1 to D2": the event is D2's; D1 waits
            h = _T_HEARING.search(left[:m.start()] + m.group("verb") + " for ")
            what = _what_of_hearing(h.group("what")) if h else "Hearing"
            if h is None and not re.search(_NOUN, left_all, re.I):
                return None
            return ("hearing", what, "reset", None, None, m.group("verb"))
        return None
    m = _T_HEARING.search(left)
    if m:
        what = _what_of_hearing(m.group("what"))
        if not re.search(_NOUN + r"$", what, re.I):
            return None
        verb = m.group("verb").lower()
        status = _status_of(verb, "set")
        return ("hearing", what, status, m.group("pretime"), m.group("mode"), None)
    m = _T_VERB_FIRST.search(left)
    if m:
        return ("hearing", _what_of_hearing(m.group("what")), _status_of(m.group("verb"), "set"),
                m.group("pretime"), None, None)
    m = _T_SET_FOR_HEARING.search(left)
    if m:
        return ("hearing", "Motion Hearing" if m.group("noun") else "Hearing", "set",
                m.group("pretime"), None, None)
    m = _T_NOTICE_OF.search(left)
    if m:
        return ("hearing", _what_of_hearing(m.group("what")), "set", None, None, None)
    m = _T_DATE_IS.search(left)
    if m:
        return ("hearing", _what_of_hearing(m.group("what")), "reset" if m.group("new") else "set",
                None, None, None)
    m = _T_DUE.search(left)
    if m:
        what = _what_of_deadline(m.group("what"), " due")
        if what and not re.search(r"\bwhen$", m.group("what"), re.I):
            return ("deadline", what, "set", m.group("pretime"), None, None)
    m = _T_DEADLINE.search(left)
    if m:
        what = _what_of_deadline(m.group("what") or m.group("what2"))
        if what:
            return ("deadline", what, "continued" if m.group("ext") else "set", None, None, None)
    m = _T_EXTENDED.search(left)
    if m and re.search(r"\b(?:time|deadline|date|brief|response|reply|answer|filing|submission|"
                       r"disclosures?|discovery|objections?)\b", m.group("what"), re.I):
        return ("deadline", _what_of_deadline(m.group("what")), _status_of(m.group("verb"), "continued"),
                None, None, None)
    m = _T_MUST.search(left)
    if m:
        subject = " ".join(m.group("what").split()[-5:])
        what = _what_of_deadline(subject, " due") if subject else _title(m.group("act")) + " due"
        return ("deadline", what or "Filing due", "set", None, None, None)
    return None
