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


# --- nothing loaded is a failure; the court from the page or the file name ----------

def cli_import(*args):
    from click.testing import CliRunner

    from archive.cli import cli

    result = CliRunner().invoke(cli, ["import", *map(str, args)])
    return result.exit_code, result.output


def test_import_of_nothing_loadable_exits_1_and_says_why(tmp_path):
    db = tmp_path / "a.db"
    garbage, empty, other = tmp_path / "garbage.html", tmp_path / "empty.html", tmp_path / "x.html"
    garbage.write_bytes(bytes(range(256)) * 40)
    empty.write_bytes(b"")
    other.write_text("<!DOCTYPE html><html><head><title>Weather</title></head><body><h1>Sunny"
                     "</h1><table><tr><td>Mon</td><td>21</td></tr></table></body></html>")
    for path, why in ((tmp_path / "nonexistent.html", "no such file"), (garbage, ""),
                      (empty, "the file is empty"), (other, "")):
        code, out = cli_import("district", "--court", "cand", "--db", db, path)
        assert code == 1, (path, out)
        assert f"{path}: skipped: {why}" in out and "0 loaded, 1 skipped" in out, out
        assert "nothing was loaded" in out and "Traceback" not in out
    # one good page among them: it is loaded, the others are reported, exit 0
    code, out = cli_import("district", "--court", "cand", "--db", db, garbage,
                           PAGES / "district_edge.html")
    assert code == 0 and "1 loaded, 1 skipped" in out, out


def test_import_reads_the_court_from_the_page_else_the_file_name(tmp_path):
    corpus = shared_or_skip("corpus", "pacer")
    db = tmp_path / "a.db"
    # the heading (no ECF link on the page): "U.S. District Court California Northern District"
    code, out = cli_import("district", "--db", db, corpus / "district" / "cand_4.html")
    assert code == 0 and ": cand 3:09-cr-00418" in out, out
    # "United States Court of Appeals for the First Circuit"; a copy under another name too
    page = tmp_path / "Saved docket.html"
    page.write_bytes((corpus / "appellate" / "ca1.html").read_bytes())
    for path in (corpus / "appellate" / "ca1.html", page):
        code, out = cli_import("appellate", "--db", db, path)
        assert code == 0 and f"{path}: ca1 " in out, out
    # ACMS's JSON names no court: the file name does
    acms = corpus / "acms" / "ca9_22-21.acms_json"
    code, out = cli_import("acms", "--db", db, acms)
    assert code == 0 and f"{acms}: ca9 22-21" in out, out
    named = tmp_path / "22-21.acms_json"
    named.write_bytes(acms.read_bytes())
    code, out = cli_import("acms", "--db", db, named)
    assert code == 1 and "the court is not known" in out and "give --court" in out, out
    code, out = cli_import("acms", "--court", "ca9", "--db", db, named)
    assert code == 0, out
    con = sqlite3.connect(db)
    assert {r[0] for r in con.execute("select court_id from dockets")} == {"cand", "ca1", "ca9"}


def test_every_corpus_docket_page_gets_its_court_without_being_told(tmp_path):
    """Every corpus docket page (district, bankruptcy, appellate, ACMS) is read with
    no --court: none is refused for want of a court, and the court is the corpus
    reference's, except where the page itself names another."""
    import json

    from archive.cli import _read_page
    from parsers import ParseError, decode_page, parse
    from parsers.courts import court_from_file_name, court_from_page

    corpus = shared_or_skip("corpus", "pacer")
    checked, differ = 0, []
    for folder, kind, pattern in (("district", "district", "*.html"),
                                  ("bankruptcy", "bankruptcy", "*.html"),
                                  ("appellate", "appellate", "*.html"),
                                  ("acms", "acms", "*.acms_json")):
        for path in sorted((corpus / folder).glob(pattern)):
            try:
                record, court = _read_page(kind, path, None)
            except ParseError:
                continue  # not a docket report (two district samples are not)
            got = record.get("court_id") or court
            reference = json.loads(path.with_suffix(".json").read_text()).get("court_id")
            checked += 1
            if reference and got != reference:
                page = decode_page(path.read_bytes())
                said = parse(kind, page).get("court_id") or court_from_page(page)
                assert said == got and court_from_file_name(path) != got, path
                differ.append(path.name)
    assert checked >= 350
    assert len(differ) <= 3, differ  # pages whose own links or heading name another court
