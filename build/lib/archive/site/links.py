"""The served database's links between a district case and its appeals.

``docket_links`` is derived, never crawled: :func:`refresh` recomputes it from
``dockets``, ``docket_origins`` (an appeal's originating case, as its record
states it: :mod:`archive.origins`) and the district dockets' entries (the court
of appeals' number, the notices of appeal), with :func:`parsers.links.link_cases`.
Each tie gives two rows, one from each side:

====================  =========================================================
id                    ``{docket_id}|{kind}|{other_court_id}/{other_docket_number}``
docket_id             the docket whose page shows the link
kind                  ``appeal`` (the other case is an appeal of this one) or
                      ``appealed from`` (this appeal comes from the other case)
other_court_id        the other case's court (``ca9``, ``cand``)
other_docket_number   its number, in the archive's form (``20-16908``)
other_docket_id       its ``dockets.id`` when it is archived, else NULL
entry_id              the district docket's entry that shows the tie: its
                      notice of appeal when known, else the entry naming the
                      appeal's number; NULL when only the appeal's record does
basis                 what ties them, in words
====================  =========================================================

The publisher calls :func:`ensure_shape` and :func:`refresh` on the public copy
at every sync (``python -m archive serve`` at its start until then). Both run
inside the caller's transaction and never commit.
"""
from __future__ import annotations

from typing import Iterable, Optional

from parsers.links import is_appellate, link_cases, number_key

from archive import origins
from archive.origins import source_words

TABLE = "docket_links"
COLUMNS = {
    "id": str, "docket_id": str, "kind": str, "other_court_id": str,
    "other_docket_number": str, "other_docket_id": str, "entry_id": str, "basis": str,
}
# entries that may name an appeal (parsers.links.appeals_in_entry reads them);
# LIKE is case-blind for ASCII
_MAY_NAME_AN_APPEAL = ("(e.description like '%appeal%' or e.description like '%usca%' "
                       "or e.description like '%circuit%' or e.description like '%cir.%')")
_DISTRICT = ("not (e.court_id glob 'ca[0-9]*' or e.court_id in ('cadc', 'cafc') "
             "or e.court_id glob 'bap*')")


def ensure_shape(db) -> None:
    """Create ``docket_links`` (made from ``docket_origins``, a public table of the archive's)."""
    if not db[TABLE].exists():
        db[TABLE].create(COLUMNS, pk="id", not_null={"id", "docket_id", "kind"})
    db[TABLE].create_index(["docket_id"], if_not_exists=True)
    db[TABLE].create_index(["other_docket_id"], if_not_exists=True)


def _rows(db, sql: str, params=()) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _entries(db, docket_ids: Optional[set]) -> list[dict]:
    sql = ("select e.id, e.docket_id, e.entry_number, e.date_filed, e.description "
           f"from docket_entries e where {_DISTRICT} and {_MAY_NAME_AN_APPEAL}")
    if docket_ids is None:
        return _rows(db, sql)
    out = []
    districts = sorted(d for d in docket_ids if not is_appellate(d.split("/", 1)[0]))
    for part in _chunks(districts):
        out += _rows(db, sql + f" and e.docket_id in ({', '.join('?' * len(part))})", part)
    return out


def _mentioning(db, appeals: list[dict]) -> set:
    """District dockets whose entries print one of these appeals' numbers."""
    found = set()
    for appeal in appeals:
        phrase = '"' + appeal["docket_number"].replace('"', "") + '"'
        try:
            found.update(r["docket_id"] for r in _rows(
                db, f"select e.docket_id from docket_entries e where {_DISTRICT} and e.rowid in "
                    "(select rowid from docket_entries_fts where docket_entries_fts match ?)",
                [phrase]))
        except Exception:  # an archive without the FTS index: the full scan below finds them
            return set()
    return found


def _compute(dockets: list[dict], all_origins: list[dict], entries: list[dict],
             scope: Optional[set]) -> list[dict]:
    if scope is None:
        wanted = all_origins
    else:
        keys = {number_key(d["docket_number"]).split(":", 1)[-1]
                for d in dockets if d["id"] in scope}
        wanted = [o for o in all_origins if o["docket_id"] in scope
                  or number_key(o["docket_number"]).split(":", 1)[-1] in keys]
    return link_cases(dockets, [dict(o, source=source_words(o["source"])) for o in wanted],
                      entries)


def refresh(db, docket_ids: Optional[Iterable[str]] = None) -> int:
    """Recompute the links of ``docket_ids`` (None: of every docket), and those
    of the dockets they are tied to. Returns the rows written. No commit."""
    ensure_shape(db)
    dockets = _rows(db, "select id, court_id, docket_number, date_filed from dockets")
    all_origins = _rows(db, f"select * from {origins.TABLE}")
    if docket_ids is None:
        scope = None
        links = _compute(dockets, all_origins, _entries(db, None), None)
    else:
        scope = set(docket_ids)
        # what the dockets are tied to now, or were: both sides are rewritten
        for part in _chunks(sorted(scope)):
            marks = ", ".join("?" * len(part))
            for row in _rows(db, f"select docket_id, other_docket_id from {TABLE} "
                                 f"where docket_id in ({marks}) or other_docket_id in ({marks})",
                             part + part):
                scope.update(v for v in row.values() if v)
        by_id = {d["id"]: d for d in dockets}
        scope |= _mentioning(db, [by_id[i] for i in scope
                                  if i in by_id and is_appellate(by_id[i]["court_id"])])
        for _ in range(4):  # until the ties found add no docket
            links = _compute(dockets, all_origins, _entries(db, scope), scope)
            more = {v for link in links for v in (link["district_id"], link["appeal_id"]) if v}
            if more <= scope:
                break
            scope |= more
    rows = []
    for link in links:
        for mine, kind, other in (("district", "appeal", "appeal"),
                                  ("appeal", "appealed from", "district")):
            docket_id = link[f"{mine}_id"]
            if not docket_id or (scope is not None and docket_id not in scope):
                continue
            court, number = link[f"{other}_court_id"], link[f"{other}_docket_number"]
            rows.append({"id": f"{docket_id}|{kind}|{court}/{number}", "docket_id": docket_id,
                         "kind": kind, "other_court_id": court, "other_docket_number": number,
                         "other_docket_id": link[f"{other}_id"], "entry_id": link["entry_id"],
                         "basis": link["basis"]})
    if scope is None:
        db.execute(f"delete from {TABLE}")
    else:
        for part in _chunks(sorted(scope)):
            db.execute(f"delete from {TABLE} where docket_id in ({', '.join('?' * len(part))})",
                       part)
    if rows:
        db[TABLE].insert_all(rows, pk="id", replace=True)
    return len(rows)
