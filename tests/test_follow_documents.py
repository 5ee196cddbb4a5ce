"""``python -m archive follow --documents`` end to end (issue 20): a district
case's documents that no free source has are bought from the local PACER by
``python -m archive update`` (real commands, real `scrapy crawl` subprocesses
over HTTP), within PACER_MONTHLY_BUDGET and FOLLOW_PACER_CASE_MONTHLY, each
once, with no docket report (the free sources have the docket); the stand-in's
bill equals the archive's ledger; a case followed without ``--documents``
never has a document bought."""
from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import PROJECT
from tests.servers import make_pdf
from tests.servers.follow_world import FollowWorld
from tests.servers.pacer.fees import cost_of, document_pages
from tests.test_follow_cli import env_for, update_command

CREDS = {"PACER_USERNAME": "user", "PACER_PASSWORD": "pass"}


@pytest.fixture
def world():
    world = FollowWorld(cases_per_court=1, entries_per_case=4, not_on_cl=0)
    with world.running():
        yield world


def update(world, db, tmp_path, *extra, **knobs):
    cmd = update_command(world, db, tmp_path, **knobs) + list(extra)
    done = subprocess.run(cmd, cwd=PROJECT, env=env_for(**CREDS), capture_output=True,
                          text=True, timeout=180)
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    return done.returncode, lines


def ledger(db) -> float:
    """Dollars the archive's ledger says PACER billed."""
    with sqlite3.connect(db) as con:
        return round(con.execute("select coalesce(sum(coalesce(pacer_cost, cost)), 0) from "
                                 "pacer_charges where status in ('charged', 'free')"
                                 ).fetchone()[0], 2)


def bought(world) -> list[str]:
    """The documents PACER sold (its own ledger), by id."""
    return [c["doc_id"] for c in world.pacer.charges if c["what"] == "document"]


def test_documents_bought_once_within_the_budgets_and_only_when_asked(world, tmp_path):
    db = str(tmp_path / "d.db")
    case, other = world.first("paed"), world.first("txsd")
    runner = CliRunner()
    out = runner.invoke(cli, ["follow", case.court, case.docket_number, "--documents", "--db", db])
    assert out.exit_code == 0, out.output
    assert runner.invoke(cli, ["follow", other.court, other.docket_number, "--db", db]).exit_code == 0
    # a new filing whose PDF CourtListener has (free): never bought
    free = world.add_entry(case.docket_id, "ORDER setting a status conference.", on_cl=False)
    case.cl_case.add_entry(free["number"], free["date"].isoformat(), free["description"],
                           documents=[{"description": "ORDER", "pacer_doc_id": free["doc_id"],
                                       "pdf": make_pdf(["ORDER setting a status conference"])}],
                           pacer_sequence_number=free["seq"])
    paid = [e["doc_id"] for e in case.entries if e["doc_id"] and e is not free]
    price = {d: cost_of(document_pages(world.pacer.document(case.court, d).pdf.page_count or 1))
             for d in paid}
    total = round(sum(price.values()), 2)

    # the free sources first: no budget, nothing bought; the summary says what is left
    code, lines = update(world, db, tmp_path)
    assert code == 0 and f"PACER 0 ($0.00; 0 documents bought, {len(paid)} left unbought)" \
        in lines[-1], lines
    # the dry run with a budget: what would be bought and its cost, nothing fetched
    world.pacer.log.clear()
    code, lines = update(world, db, tmp_path, "--dry-run", PACER_MONTHLY_BUDGET="20",
                         FOLLOW_PACER_CASE_MONTHLY="20")
    text = "\n".join(lines)
    assert code == 0 and not world.pacer.log.snapshot()
    assert f"{case.docket_id}: {len(paid)} documents asked for; up to $" in text, text
    assert f"{len(paid)} documents at $0.10-$3.00 each" in text
    assert other.docket_id not in text.split("PACER:")[1]
    assert not world.pacer.charges

    # a month's budget short of them all by a page: some bought, the rest left, exit 0
    budget = round(total - 0.10, 2)
    code, lines = update(world, db, tmp_path, PACER_MONTHLY_BUDGET=str(budget),
                         FOLLOW_PACER_CASE_MONTHLY="20")
    first = bought(world)
    assert code == 0 and first and len(first) < len(paid), lines
    assert f"{len(first)} document{'s' if len(first) > 1 else ''} bought, " \
           f"{len(paid) - len(first)} left unbought (over budget)" in lines[-1]
    assert world.pacer.total_cost() == ledger(db) <= budget

    # the case's own cap (FOLLOW_PACER_CASE_MONTHLY) spent: nothing bought, said so
    spent = ledger(db)
    code, lines = update(world, db, tmp_path, PACER_MONTHLY_BUDGET="50",
                         FOLLOW_PACER_CASE_MONTHLY=str(round(spent + 0.05, 2)))
    assert code == 0 and "PACER 0 ($0.00; 0 documents bought, " \
        f"{len(paid) - len(first)} left unbought (over budget)), 1 would need it" in lines[-1], lines
    assert bought(world) == first
    # room in both for what is left: the rest bought
    code, lines = update(world, db, tmp_path, PACER_MONTHLY_BUDGET="50",
                         FOLLOW_PACER_CASE_MONTHLY=str(total))
    assert code == 0 and f"{len(paid) - len(first)} document" in lines[-1], lines
    assert sorted(bought(world)) == sorted(paid)  # each once, the free one never
    assert world.pacer.total_cost() == ledger(db) == total
    kinds = {c["what"] for c in world.pacer.charges}
    assert kinds == {"document"}  # no docket report: the free sources have the docket

    # nothing new: nothing bought again
    code, lines = update(world, db, tmp_path, PACER_MONTHLY_BUDGET="50",
                         FOLLOW_PACER_CASE_MONTHLY="50")
    assert code == 0 and "PACER 0 ($0.00" in lines[-1], lines
    assert world.pacer.total_cost() == total
    posted = [p["id"] for p in world.pacer.purchases_received() if p["what"] == "document"]
    assert sorted(posted) == sorted(paid)

    with sqlite3.connect(db) as con:
        rows = con.execute("select pacer_doc_id, source, status, file_path, length(text) "
                           "from documents where docket_id = ?", [case.docket_id]).fetchall()
        assert {r[0] for r in rows} == set(paid) | {free["doc_id"]}
        for doc_id, source, status, path, text in rows:
            assert status == "ok" and text and path, (doc_id, source, status)
            assert os.path.isfile(tmp_path / "files" / path)
            assert source == ("pacer" if doc_id in paid else "courtlistener")
        # the case followed without --documents: listed, never bought
        assert con.execute("select count(*) from documents where docket_id = ? and file_path "
                           "is null", [other.docket_id]).fetchone()[0] == len(other.entries)
        assert not con.execute("select count(*) from pacer_charges where docket_id = ?",
                               [other.docket_id]).fetchone()[0]
