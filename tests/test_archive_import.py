"""archive import: pages saved from PACER in a browser, loaded into the archive."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

from tests.conftest import PROJECT, assert_whole, shared_or_skip

PAGES = PROJECT / "tests" / "parsers" / "pages"


def archive(*args):
    proc = subprocess.run([sys.executable, "-m", "archive", *map(str, args)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def count(db, table):
    con = sqlite3.connect(db)
    try:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()


def test_import_saved_pages_skips_what_is_not_a_docket(tmp_path):
    db = tmp_path / "a.db"
    code, out = archive("import", "district", "--court", "cand", "--db", db,
                        PAGES / "district_edge.html", PAGES / "pacer_login.html")
    assert code == 0, out
    assert "1 loaded, 1 skipped" in out
    assert "pacer_login.html: skipped" in out and "Traceback" not in out
    entries = count(db, "docket_entries")
    assert count(db, "dockets") == 1 and entries > 0
    # importing the same page again adds nothing
    code, out = archive("import", "district", "--court", "cand", "--db", db,
                        PAGES / "district_edge.html")
    assert '"added": 0' in out and count(db, "docket_entries") == entries
    assert_whole(db)


def test_import_corpus_dockets_of_each_kind(tmp_path):
    corpus = shared_or_skip("corpus", "pacer")
    db = tmp_path / "a.db"
    for kind, path in (("district", "district/cand.html"), ("appellate", "appellate/ca9_1.html"),
                       ("acms", "acms/ca9_22-21.acms_json"),
                       ("ia", "internet_archive/cand_194617.xml")):
        code, out = archive("import", kind, "--court", path.split("/")[1].split("_")[0].split(".")[0],
                            "--db", db, corpus / path)
        assert code == 0 and "1 loaded" in out, out
    con = sqlite3.connect(db)
    ids = {r[0] for r in con.execute("select id from dockets")}
    assert ids == {"cand/3:08-cv-00159", "ca9/17-15589", "ca9/22-21", "cand/5:07-cv-03950"}
    # the appellate parties and attorneys came along
    assert con.execute("select count(*) from attorneys where docket_id = 'ca9/22-21'").fetchone()[0] >= 2
    # IA documents keep availability, for fetching them later
    assert con.execute("select count(*) from documents where docket_id = 'cand/5:07-cv-03950' "
                       "and is_available = 1").fetchone()[0] > 0


def docket_row(db, docket_id):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        row = con.execute("select * from dockets where id = ?", [docket_id]).fetchone()
        return dict(row) if row is not None else None
    finally:
        con.close()


def test_import_a_bankruptcy_docket_keeps_chapter_trustee_and_dates(tmp_path):
    """Real bankruptcy court pages: one read as the district kind (the court
    id says bankruptcy), one with the bankruptcy kind."""
    corpus = shared_or_skip("corpus", "pacer", "bankruptcy")
    db = tmp_path / "a.db"
    code, out = archive("import", "district", "--court", "txnb", "--db", db,
                        corpus / "txnb_300577.html")
    assert code == 0 and "1 loaded" in out, out
    row = docket_row(db, "txnb/08-40814")
    assert (row["case_name"], row["chapter"], row["trustee_str"]) == ("Mark A. Downs", 7, "Tim Truman")
    assert (row["date_converted"], row["date_discharged"]) == ("2008-07-02", "2008-10-20")
    code, out = archive("import", "bankruptcy", "--court", "canb", "--db", db, corpus / "canb.html")
    assert code == 0 and "1 loaded" in out, out
    row = docket_row(db, "canb/09-31347")
    assert (row["case_name"], row["chapter"]) == ("Plant Insulation Company", 11)
    assert row["source"] == "import:bankruptcy"
    assert row["date_converted"] is None and row["date_discharged"] is None


def test_import_an_adversary_proceeding(tmp_path):
    db = tmp_path / "a.db"
    code, out = archive("import", "bankruptcy", "--court", "tstb", "--db", db,
                        PAGES / "bankruptcy_adversary.html")
    assert code == 0 and "1 loaded" in out, out
    row = docket_row(db, "tstb/10-01234")
    assert row["case_name"] == "Acme Widgets, Inc. - Adversary Proceeding"
    assert row["nature_of_suit"] == ("11 Recovery of money/property - 542 turnover of property; "
                                     "72 Injunctive relief - other")
    assert row["chapter"] == 11
    con = sqlite3.connect(db)
    try:
        parties = sorted(con.execute("select name, party_type from parties"))
    finally:
        con.close()
    assert parties == [("Big Bank, N.A.", "Defendant"), ("Pat Plaintiff", "Plaintiff"),
                       ("Second Bank", "Counter-Defendant")]
