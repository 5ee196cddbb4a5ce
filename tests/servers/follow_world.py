"""A world of followed cases for issue 20's tests and benchmark: 20 courts,
each source serving its part of the same cases.

    world = FollowWorld(cases_per_court=10)     # 19 district courts x 10 + 10 in ca9
    world.pacer, world.cl, world.ia            # PacerServer, CourtListenerServer, InternetArchiveServer
    world.follows                              # [(court, docket_number)] to follow
    world.add_entry("cand/3:21-cv-00101", "ORDER granting ...", rss_type="order")

Courts (:data:`COURTS`): twelve district courts with a full RSS feed, two
with a partial one (only some types of entries: nysd lists SDNY's real
types, mied "orders, opinions, judgments"), five with none (their
``rss_outside.pl`` answers 404: alnd, caed, mdd, nvd, txnd, as sources.md
names), and the Ninth Circuit (no feed at all; CourtListener, ACMS and its
CM/ECF report).

Every district case has a CM/ECF docket report on the local PACER (built on
the hand-written WeChat report's layout), a CourtListener docket with the
same entries (all but the last ``not_on_cl`` of a court, :data:`NOT_ON_CL`), and, in the courts
without a feed, an Internet Archive RECAP copy of half its cases. Three
appeals are *not* followed at first and must be found:

- ``ca9 21-15001`` (CM/ECF): the district docket of the first cand case names
  it ("USCA Case Number 21-15001 9th Circuit Court of Appeals for 9 Notice of
  Appeal");
- ``ca9 21-55002``, an *expedited* appeal of the first cacd case: on
  CourtListener (its originating case is that case) before the district
  docket says anything of it;
- ``ca9 23-2435``, an ACMS case (the real corpus sample's GUID and docket)
  whose originating case is the first casd case: CourtListener has it (its
  ``pacer_case_id`` is the GUID) and ACMS's case details name the casd case.

Standard library and the tests/servers modules only; nothing listens until
the servers are started (or answered in process by tests/inprocess.Offline).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Optional

from .cases import Case, docket_object
from .courtlistener import CourtListenerServer
from .internet_archive import InternetArchiveServer
from .pacer.common import PACER_FIXTURES, AcmsCase, DistrictCase
from .pacer.server import PacerServer

TOKEN = "world-token"
SDNY_TYPES = ["adr", "answer", "appeal", "cmp", "discov", "misc", "motion", "notice", "order",
              "respm", "respoth", "service", "transfer", "trial"]
COURTS = {
    "cand": "all", "cacd": "all", "casd": "all", "dcd": "all", "ilnd": "all", "mad": "all",
    "njd": "all", "paed": "all", "txsd": "all", "waed": "all", "flsd": "all", "gand": "all",
    "nysd": SDNY_TYPES, "mied": ["order", "opinion", "judgment"],
    "alnd": None, "caed": None, "mdd": None, "nvd": None, "txnd": None,
    "ca9": None,
}
OFFICES = {c: (i % 9) + 1 for i, c in enumerate(COURTS)}
NOT_ON_CL = 1  # the last case of each court is not on CourtListener
ACMS_SAMPLE = "ca9_23-2435.acms_json"

# (description, CM/ECF type for a partial feed)
_ENTRIES = [
    ("COMPLAINT against Example Corp. (Filing fee $ 405.) Filed by Plaintiff {n}.", "cmp"),
    ("Summons Issued as to Example Corp.", "service"),
    ("MOTION to Dismiss filed by Example Corp. Motion Hearing set for {hearing} 10:00 AM in "
     "Courtroom 4 before Judge Example. Responses due by {due}.", "motion"),
    ("OPPOSITION/RESPONSE (re 3 MOTION to Dismiss ) filed by Plaintiff {n}.", "respm"),
    ("ORDER granting in part 3 Motion to Dismiss. Signed by Judge Example on {day}.", "order"),
    ("NOTICE of Appearance by Jane Lawyer on behalf of Example Corp.", "notice"),
]


def _day(base: dt.date, days: int) -> dt.date:
    return base + dt.timedelta(days=days)


class WorldCase:
    def __init__(self, court: str, docket_number: str, case_id: str, cl_id: int, title: str,
                 filed: dt.date, appellate: bool = False):
        self.court, self.docket_number, self.case_id = court, docket_number, case_id
        self.cl_id, self.title, self.filed, self.appellate = cl_id, title, filed, appellate
        self.entries: list[dict] = []
        self.cl_case: Optional[Case] = None
        self.on_cl = True
        self.on_ia = False
        self.origin: Optional[str] = None  # an appeal's originating docket number
        self.origin_court: Optional[str] = None
        self.guid: Optional[str] = None

    @property
    def docket_id(self) -> str:
        return f"{self.court}/{self.docket_number}"


class FollowWorld:
    def __init__(self, cases_per_court: int = 10, shared_dir=None, ia_dir: Optional[str] = None,
                 entries_per_case: int = 6, not_on_cl: int = NOT_ON_CL):
        self.cases: dict[str, WorldCase] = {}
        self.per_court = cases_per_court
        self.pacer = PacerServer(shared_dir)
        self.pacer.rss_types.update({c: t for c, t in COURTS.items() if t != "all"})
        base = dt.date(2021, 1, 4)
        cl_id = 70_000_000
        for court, _types in COURTS.items():
            for i in range(cases_per_court):
                cl_id += 1
                filed = _day(base, i * 3)
                if court == "ca9":
                    number = f"21-{16000 + i:05d}"
                    case = WorldCase(court, number, "", cl_id, f"Appellant {i} v. Appellee {i}",
                                     filed, appellate=True)
                else:
                    number = f"{OFFICES[court]}:21-cv-{(i + 1) * 101:05d}"
                    case_id = str(500_000 + cl_id % 100_000)
                    case = WorldCase(court, number, case_id, cl_id,
                                     f"Plaintiff {court.upper()} {i} v. Example Corp.", filed)
                    case.on_cl = i < cases_per_court - not_on_cl
                    case.on_ia = COURTS[court] is None and i % 2 == 0
                for k in range(entries_per_case):
                    text, kind = _ENTRIES[k % len(_ENTRIES)]
                    day = _day(filed, k * 2)
                    case.entries.append({
                        "number": k + 1, "date": day,
                        "description": text.format(n=i, day=day.strftime("%m/%d/%Y"),
                                                   hearing=_day(day, 30).strftime("%m/%d/%Y"),
                                                   due=_day(day, 14).strftime("%m/%d/%Y")),
                        "doc_id": f"{(OFFICES[court] * 7) % 100:03d}0{cl_id % 10**6:06d}{k:02d}",
                        "seq": str(k * 3 + 1), "rss_type": kind})
                self.cases[case.docket_id] = case
        self.follows = [(c.court, c.docket_number) for c in self.cases.values()]
        self._appeals()
        # the servers' views of it
        self.cl = CourtListenerServer([self._cl_case(c) for c in self.cases.values() if c.on_cl],
                                      token=TOKEN)
        for case in self.cases.values():
            if not case.appellate:
                self._pacer_case(case)
        self.ia_dir = ia_dir or tempfile.mkdtemp(prefix="follow-world-ia-")
        for case in self.cases.values():
            if case.on_ia:
                Path(self.ia_dir, f"{case.court}_{case.case_id}.xml").write_text(
                    self._ia_xml(case), encoding="utf-8")
        self.ia = InternetArchiveServer(shared_dir, extra_xml_dirs=[self.ia_dir])

    # --- the appeals to be found -------------------------------------------------
    def _appeals(self) -> None:
        cand = self.first("cand")
        cand.entries.append({
            "number": len(cand.entries) + 1, "date": _day(cand.entries[-1]["date"], 2),
            "description": "NOTICE OF APPEAL to the 9th Circuit Court of Appeals as to 5 Order "
                           "by Example Corp. (Appeal fee of $505 receipt number 0971-1.)",
            "doc_id": None, "seq": "90", "rss_type": "appeal"})
        notice = len(cand.entries)
        cand.entries.append({
            "number": notice + 1, "date": _day(cand.entries[-1]["date"], 3),
            "description": f"USCA Case Number 21-15001 9th Circuit Court of Appeals for {notice} "
                           "Notice of Appeal filed by Example Corp.",
            "doc_id": None, "seq": "93", "rss_type": "appeal"})
        self._appeal(cand, "21-15001", 71_000_001)
        self._appeal(self.first("cacd"), "21-55002", 71_000_002)  # expedited: no notice yet
        casd = self.first("casd")
        sample = self._acms_sample()
        if sample is not None:
            details = sample["caseDetails"]
            guid, number = details["caseId"], details["caseNumber"]
            details["originatingCasesInformation"] = [{
                "originCaseNumber": casd.docket_number, "dateFiled": casd.filed.isoformat()}]
            details["districtCourtName"] = "San Diego, Southern California"
            self.pacer.acms[("ca9", guid)] = AcmsCase("ca9", guid, number, sample)
            appeal = self._appeal(casd, number, 71_000_003)
            appeal.guid = guid

    def _appeal(self, district: WorldCase, number: str, cl_id: int) -> WorldCase:
        appeal = WorldCase("ca9", number, "", cl_id, district.title, _day(district.filed, 40),
                           appellate=True)
        appeal.origin, appeal.origin_court = district.docket_number, district.court
        appeal.entries = [{"number": 1, "date": appeal.filed,
                           "description": "DOCKETED CAUSE AND ENTERED APPEARANCES OF COUNSEL.",
                           "doc_id": None, "seq": "1", "rss_type": "notice"}]
        self.cases[appeal.docket_id] = appeal
        return appeal

    def _acms_sample(self) -> Optional[dict]:
        corpus = self.pacer.corpus
        path = corpus / "acms" / ACMS_SAMPLE if corpus is not None else None
        if path is None or not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def first(self, court: str) -> WorldCase:
        return next(c for c in self.cases.values() if c.court == court and not c.origin)

    @property
    def appeals(self) -> list[WorldCase]:
        return [c for c in self.cases.values() if c.origin]

    # --- CourtListener --------------------------------------------------------------
    def _cl_case(self, case: WorldCase) -> Case:
        meta = {"id": case.cl_id, "court_id": case.court, "case_name": case.title,
                "docket_number": case.docket_number, "pacer_case_id": case.guid or case.case_id or None,
                "date_filed": case.filed.isoformat(),
                "date_created": f"{case.filed.isoformat()}T10:00:00.000000-08:00",
                "date_modified": f"{case.filed.isoformat()}T10:00:00.000000-08:00"}
        if case.origin:
            meta["original_court_info"] = {"docket_number": case.origin,
                                           "date_filed_noa": case.filed.isoformat()}
            meta["appeal_from"] = case.origin_court
            meta["appeal_from_str"] = "District Court"
        docket = docket_object(meta)
        cl_case = Case(docket=docket, next_entry_id=case.cl_id * 100,
                       next_document_id=case.cl_id * 100 + 50)
        for entry in case.entries:
            cl_case.add_entry(entry["number"], entry["date"].isoformat(), entry["description"],
                              documents=[{"description": entry["description"][:40],
                                          "pacer_doc_id": entry["doc_id"] or "", "pdf": None}],
                              pacer_sequence_number=entry["seq"])
        cl_case.live = True
        case.cl_case = cl_case
        return cl_case

    # --- PACER ----------------------------------------------------------------------
    def _pacer_case(self, case: WorldCase) -> None:
        template = (PACER_FIXTURES / "cand_364733.html").read_text(encoding="utf-8")
        text = template.replace("3:20-cv-05910-LB", case.docket_number)
        text = text.replace("U.S. WeChat Users Alliance et al v. Trump et al", html.escape(case.title))
        text = text.replace("Date Filed: 08/21/2020", f"Date Filed: {case.filed:%m/%d/%Y}")
        text = re.sub(r"Case in other court:[^<]*<br>\s*", "", text)
        text = text.replace("ecf.cand.uscourts.gov", f"ecf.{case.court}.uscourts.gov")
        rows = "".join(self._row(case, e) for e in case.entries)
        span = PacerServer._entries_span(text)
        text = text[:span[0]] + "\n" + rows + text[span[1]:]
        self.pacer.district[(case.court, case.case_id)] = DistrictCase(
            case.court, case.case_id, case.docket_number, case.title, None, html=text)

    @staticmethod
    def _row(case: WorldCase, entry: dict) -> str:
        mdy = entry["date"].strftime("%m/%d/%Y")
        if entry["doc_id"]:
            number = ('<a href="https://ecf.%s.uscourts.gov/doc1/%s" onclick="goDLS(\'/doc1/%s\','
                      '\'%s\',\'%s\',\'\',\'\',\'1\',\'\',\'\');return(false);">%s</a>'
                      % (case.court, entry["doc_id"], entry["doc_id"], case.case_id, entry["seq"],
                         entry["number"]))
        else:
            number = str(entry["number"])
        return ('<tr><td width="94" valign="top" nowrap="nowrap">%s</td><td style="white-space:'
                'nowrap" valign="top" align="right">%s&nbsp;</td><td valign="top">%s (Entered: %s)'
                '</td></tr>\n' % (mdy, number, html.escape(entry["description"], quote=False), mdy))

    # --- the Internet Archive ----------------------------------------------------------
    @staticmethod
    def _ia_xml(case: WorldCase) -> str:
        docs = "".join(
            '    <document doc_num="%s" attachment_num="0">\n'
            "      <pacer_doc_id>%s</pacer_doc_id>\n      <date_filed>%s</date_filed>\n"
            "      <long_desc>%s</long_desc>\n      <available>0</available>\n    </document>\n"
            % (e["number"], e["doc_id"] or "", e["date"].isoformat(),
               html.escape(e["description"], quote=False))
            for e in case.entries)
        return ('<?xml version="1.0" encoding="utf-8"?>\n<gov_uscourts_docket>\n  <case_details>\n'
                f"    <court>{case.court}</court>\n    <docket_num>{case.docket_number}</docket_num>\n"
                f"    <case_name>{html.escape(case.title)}</case_name>\n"
                f"    <pacer_case_num>{case.case_id}</pacer_case_num>\n"
                f"    <date_case_filed>{case.filed.isoformat()}</date_case_filed>\n"
                "  </case_details>\n  <party_list>\n  </party_list>\n  <document_list>\n"
                f"{docs}  </document_list>\n</gov_uscourts_docket>\n")

    # --- the world changes ----------------------------------------------------------
    def add_entry(self, docket_id: str, description: str, *, rss_type: str = "order",
                  on_cl: bool = True, events: Optional[list] = None,
                  published: Optional[dt.datetime] = None, date: Optional[dt.date] = None) -> dict:
        """The court dockets an entry: on its PACER report and RSS feed (if its
        court has one carrying ``rss_type``), and on CourtListener when
        ``on_cl`` (as when RECAP users bought it)."""
        case = self.cases[docket_id]
        number = max(e["number"] for e in case.entries) + 1
        day = date or dt.date.today()
        doc_id = f"{(OFFICES[case.court] * 7) % 100:03d}0{case.cl_id % 10**6:06d}{number:02d}"
        entry = {"number": number, "date": day, "description": description, "doc_id": doc_id,
                 "rss_type": rss_type}
        if not case.appellate:
            record = self.pacer.add_entry(case.court, case.case_id, number, day.isoformat(),
                                          description, doc_id=doc_id, events=events,
                                          published=published, rss_type=rss_type)
            entry["seq"] = record["seq"]
        else:
            entry["seq"] = str(number * 3)
        case.entries.append(entry)
        if on_cl and case.cl_case is not None:
            case.cl_case.add_entry(number, day.isoformat(), description,
                                   documents=[{"description": description[:40],
                                               "pacer_doc_id": doc_id, "pdf": None}],
                                   pacer_sequence_number=entry["seq"])
        return entry

    def servers(self) -> tuple:
        return self.pacer, self.cl, self.ia

    @contextlib.contextmanager
    def running(self):
        """Its servers on loopback for the block (a fixture's ``with world.running(): yield``)."""
        for server in self.servers():
            server.start()
        try:
            yield self
        finally:
            for server in self.servers():
                server.stop()

    def settings(self) -> dict:
        out = {}
        for server in self.servers():
            out.update(server.settings())
        return out

    def env(self) -> dict:
        return {"COURTLISTENER_TOKEN": TOKEN}


def world_from_env() -> FollowWorld:  # for `python -m tests.servers.follow_world`
    return FollowWorld(int(os.environ.get("WORLD_CASES_PER_COURT", "10")))
