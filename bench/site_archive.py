"""The archives bench_site.py measures, built through archive/'s own shape
(FTS triggers included) and indexed for the site (archive.site.case_index).

    build(path, n_entries=100_000, n_documents=20_000, n_cases=10_000)
    build(path, n_entries=1_000_000, n_documents=200_000, pages=(1, 1))  # "short" documents

- ``n_cases`` cases in some 40 courts (district, bankruptcy, appellate), each
  with a name, 2 to 8 parties, 1 to 5 attorneys of some 400 firms, a judge,
  dates filed and (for two in five) terminated; case 0 (``BIG_CASE``) has
  2,000 entries, each with a document; the others share the rest.
- entry descriptions are 18 words of a court vocabulary; documents are 5 to
  50 pages (or ``pages``) of 300 words, Zipf-like, as real text is: the
  commonest word is in every document.
- some names are rare on purpose (``CASE_QUERIES``), as a reader searches.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import time
from pathlib import Path

from archive import db as adb

WORDS = ("court motion order plaintiff defendant injunction preliminary stay appeal judgment "
         "counsel hearing evidence declaration exhibit complaint amended dismiss jurisdiction "
         "statute regulation agency executive application emergency relief irreparable harm "
         "balance equities public interest likelihood success merits constitutional amendment "
         "speech association privacy commerce secretary department transaction prohibition "
         "users alliance communication platform application download service national security "
         "emergency powers act authority review standard deference record administrative "
         "procedure arbitrary capricious notice comment opposition reply brief memorandum "
         "points authorities stipulation schedule deadline discovery deposition witness").split()

FIRST = ("James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
         "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa "
         "Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily "
         "Andrew Donna Joshua Michelle Kenneth Dorothy Kevin Carol Brian Amanda George Melissa "
         "Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia"
         ).split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
        "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
        "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
        "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
        "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris "
        "Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly "
        "Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza "
        "Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell "
        "Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher "
        "Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace "
        "Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford "
        "Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas "
        "Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon "
        "Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson "
        "Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols "
        "Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce").split()
COMPANY = ("Acme Global Pacific Atlantic Summit Pioneer Liberty Heritage Frontier Keystone Granite "
           "Cascade Harbor Meridian Northstar Evergreen Redwood Silverline Bluewater Ironbridge "
           "Oakmont Riverside Sterling Vanguard Horizon Beacon Crescent Dominion Empire Falcon "
           "Gateway Highland Lakeshore Magnolia Orion Paragon Quantum Sapphire Titan Unity").split()
SUFFIX = ("Holdings Inc. LLC Corp. Partners L.P. Group Capital Bank Energy Properties Airlines "
          "Pharmaceuticals Media Foods Logistics Insurance Motors Software").split()
COURTS = [("cand", 8), ("cacd", 8), ("nysd", 10), ("nyed", 5), ("dcd", 6), ("txsd", 4),
          ("ilnd", 5), ("flsd", 4), ("mad", 3), ("wawd", 3), ("njd", 4), ("paed", 4),
          ("gand", 3), ("txnd", 3), ("ohnd", 2), ("mied", 2), ("cod", 2), ("azd", 2),
          ("nysb", 8), ("deb", 6), ("txsb", 3), ("canb", 3), ("cacb", 4), ("njb", 3),
          ("azb", 2), ("nvb", 2), ("flsb", 2), ("ilnb", 2), ("mab", 1), ("cob", 1),
          ("ca9", 4), ("ca2", 3), ("cadc", 2), ("ca5", 2), ("ca1", 1), ("ca3", 1), ("ca4", 1),
          ("ca7", 1), ("ca11", 1), ("cafc", 1)]
BIG_CASE = ("nysd", "3:20-cv-10000")
BIG_ENTRIES = 2000
# what a reader types to find a case: a rare party, firms, judges, numbers in
# the forms courts print them, a name with "v."
CASE_QUERIES = ["Manafort", "Hawaii v. Trump", "Bear Stearns", "3:20-cv-10000",
                "3:20-cv-10000-JSW", "20-cv-10000", "Keystone", "Sapphire Airlines",
                "Pierce & Hunter", "Okafor", "Nguyen", "in re Titan", "Orion OR Paragon",
                "Washington -Kennedy", "Vargas*", '"Gateway Media"', "zzznothing"]


def page_texts(rng: random.Random, n: int = 1500, words_per_page: int = 300) -> list[str]:
    vocab = WORDS + [f"term{i:04d}" for i in range(3000)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]  # Zipf-like, as in real text
    return [" ".join(rng.choices(vocab, weights, k=words_per_page)) for _ in range(n)]


def _day(start: dt.date, days: int) -> str:
    return (start + dt.timedelta(days=days)).isoformat()


def _case(rng: random.Random, c: int, used: set) -> dict:
    """Case ``c``: court, number, name, dates, judge, parties, attorneys."""
    if c == 0:
        court, number = BIG_CASE
    else:
        while True:
            court = rng.choices([x for x, _ in COURTS], [w for _, w in COURTS])[0]
            year = rng.randint(0, 24)
            serial = rng.randint(1, 99999)
            kind = "appellate" if court.startswith("ca") else \
                "bankruptcy" if court.endswith("b") else "district"
            if kind == "district":
                office = rng.randint(1, 8)
                number = f"{office}:{year:02d}-{rng.choice(['cv', 'cv', 'cr'])}-{serial:05d}"
            else:
                number = f"{year:02d}-{serial:05d}"
            if (court, number) not in used:
                break
    used.add((court, number))
    filed = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(0, 24 * 365))
    person = lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}"  # noqa: E731
    company = lambda: f"{rng.choice(COMPANY)} {rng.choice(SUFFIX)}"  # noqa: E731
    if court.endswith("b") and not court.startswith("ca"):
        name = rng.choice([company(), f"In re {rng.choice(LAST)}", company()])
        parties = [name.removeprefix("In re ")] + [company() for _ in range(rng.randint(1, 7))]
    elif "-cr-" in number:
        surname = rng.choice(LAST)
        name = f"United States v. {surname}"
        parties = ["United States of America", f"{rng.choice(FIRST)} {surname}"]
    else:
        defendant = company()
        if rng.random() < 0.5:
            plaintiff = person()
            name = f"{plaintiff.split()[-1]} v. {defendant}"
        else:
            plaintiff = company()
            name = f"{plaintiff} v. {defendant}"
        parties = [plaintiff, defendant] + [rng.choice([person, company])()
                                            for _ in range(rng.randint(0, 6))]
    if c % 997 == 1:  # a few cases readers know by name
        known = {0: ("United States v. Manafort", ["United States", "Paul J. Manafort, Jr."]),
                 1: ("State of Hawaii v. Donald Trump", ["State of Hawaii", "Donald J. Trump"]),
                 2: ("In re Bear Stearns Companies Inc. Securities Litigation",
                     ["The Bear Stearns Companies Inc."])}
        name, parties = known.get((c // 997) % 5, (name, parties))
    firms = [f"{rng.choice(LAST)} & {rng.choice(LAST)} LLP" for _ in range(2)]
    attorneys = []
    for _ in range(rng.randint(1, 5)):
        firm = rng.choice(firms)
        attorneys.append({"name": person(), "contact_raw": (
            f"{firm}\n{rng.randint(1, 999)} Main Street, Suite {rng.randint(100, 999)}\n"
            f"Springfield, IL 6{rng.randint(1000, 9999)}\n(555) 555-{rng.randint(1000, 9999)}\n"
            f"Email: someone@example.com")})
    judge = f"{rng.choice(FIRST)} {rng.choice(LAST + ['Okafor'])}"
    terminated = _day(filed, rng.randint(30, 3000)) if rng.random() < 0.4 else None
    return {"court": court, "number": number, "name": name, "filed": filed,
            "terminated": terminated, "judge": judge, "parties": parties, "attorneys": attorneys}


def build(path: Path, n_entries: int = 100_000, n_documents: int = 20_000,
          n_cases: int = 10_000, pages: tuple = (5, 50), seed: int = 1) -> dict:
    rng = random.Random(seed)
    db = adb.open_db(str(path))
    texts = page_texts(rng)
    started = time.time()
    # entries per case: the big case's 2,000, the others' share of the rest
    per_case = [BIG_ENTRIES] + [0] * (n_cases - 1)
    for _ in range(n_entries - BIG_ENTRIES):
        per_case[1 + int(rng.random() ** 2 * (n_cases - 1))] += 1  # a few long cases, many short
    used: set = set()
    entry_ids = []
    with db.atomic():
        for c in range(n_cases):
            case = _case(rng, c, used)
            docket_id = adb.docket_key(case["court"], case["number"])
            db["dockets"].insert({
                "id": docket_id, "court_id": case["court"], "docket_number": case["number"],
                "case_name": case["name"], "assigned_to_str": case["judge"],
                "date_filed": case["filed"].isoformat(), "date_terminated": case["terminated"],
                "source": "bench"})
            db["parties"].insert_all(
                [{"id": f"{docket_id}#{i}", "docket_id": docket_id, "name": name,
                  "party_type": "Plaintiff" if i == 0 else "Defendant", "source": "bench"}
                 for i, name in enumerate(dict.fromkeys(case["parties"]))])
            db["attorneys"].insert_all(
                [{"id": f"{docket_id}#a{i}", "docket_id": docket_id, **a, "source": "bench"}
                 for i, a in enumerate(case["attorneys"])])
            rows = []
            for n in range(1, per_case[c] + 1):
                rows.append({"id": f"{docket_id}#{n}", "docket_id": docket_id,
                             "court_id": case["court"], "entry_number": n, "entry_key": str(n),
                             "date_filed": _day(case["filed"], n * 3 + rng.randint(0, 2)),
                             "description": " ".join(rng.choices(WORDS, k=18)),
                             "source": "bench"})
                entry_ids.append((docket_id, case["court"], n))
            if rows:
                db["docket_entries"].insert_all(rows, batch_size=1000)
    # documents: the big case's every entry, the rest spread over the other cases
    chosen = entry_ids[:BIG_ENTRIES] + rng.sample(entry_ids[BIG_ENTRIES:],
                                                  n_documents - BIG_ENTRIES)
    with db.atomic():
        batch = []
        for i, (docket_id, court, n) in enumerate(chosen):
            n_pages = rng.randint(*pages)
            text = "\f".join(rng.choice(texts) for _ in range(n_pages))
            if i % 997 == 0:
                text += " zyxwv0001"  # a rare word
            batch.append({"id": f"{docket_id}#{n}/0", "docket_id": docket_id,
                          "entry_id": f"{docket_id}#{n}", "court_id": court,
                          "document_number": str(n), "attachment_number": 0,
                          "page_count": n_pages,
                          "description": "Order" if n % 2 else "Motion", "status": "ok",
                          "text": text, "clean_text": text,
                          "file_path": f"{court}/x/{docket_id.replace('/', '_')}.{n}.0.pdf",
                          "source": "bench"})
            if len(batch) == 500:
                db["documents"].insert_all(batch)
                batch = []
        if batch:
            db["documents"].insert_all(batch)
    # as a crawl this size leaves it: finish_crawl's tidy_fts optimizes an index
    # whose table the crawl touched by a quarter or more
    for table in adb.FTS:
        adb.optimize_fts(db, f"{table}_fts")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return {"build_seconds": round(time.time() - started, 1), "db_bytes": os.path.getsize(path),
            "entries": n_entries, "documents": n_documents, "cases": n_cases,
            "big_case": adb.docket_key(*BIG_CASE)}


def index_site(path: Path) -> dict:
    """ensure_shape + refresh of every case (what the publisher does on a first
    copy), then of five cases (a crawl's), timed in a transaction rolled back:
    the derived tables live in the public copy, not in the archive."""
    from archive.site import case_index as site_index

    db = adb.open_db(str(path))
    db.execute("begin immediate")
    try:
        started = time.perf_counter()
        site_index.ensure_shape(db)
        rows = site_index.refresh(db)
        everything = time.perf_counter() - started
        some = [r[0] for r in db.execute("select id from dockets order by id limit 5 offset 100")]
        started = time.perf_counter()
        site_index.refresh(db, some)
        few = time.perf_counter() - started
    finally:
        db.execute("rollback")
    adb.close_db(db)
    return {"cases": rows, "refresh_all_seconds": round(everything, 2),
            "refresh_5_cases_ms": round(few * 1000, 1)}
