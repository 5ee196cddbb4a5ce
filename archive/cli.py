"""python -m archive COMMAND: build, inspect and publish the archive."""
from __future__ import annotations

import asyncio
import datetime as _dt
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

import click
from tqdm import tqdm

from parsers import ParseError, decode_page, parse
from parsers.common import strip_query
from parsers.courts import court_from_file_name, court_from_page
from parsers.pdf import EXTRACTOR_VERSION

from . import access, alerts, crawls, ical, publish, release, site
from . import db as archive_db
from . import follow as fl
from . import update as up
from . import writer as archive_writer
from .cases import DEFAULT_CASES
from .extract.limits import Limits
from .extract.pool import extract_many, tmp_folder_beside
from .load import dockets_in, save_parsed_docket

DEFAULT_DB = "archive/dockets.db"

NO_TOKEN = """\
COURTLISTENER_TOKEN is not set, so this archive comes from the free source that
needs no account: the Internet Archive's RECAP copy of the district court docket.
For fuller coverage (the Ninth Circuit docket, more documents), get a free token:
sign up at https://www.courtlistener.com/sign-in/, copy the token from
https://www.courtlistener.com/profile/api/, then `export COURTLISTENER_TOKEN=...`
and run `make archive` again."""


@click.group()
@click.version_option("0.1", prog_name="docket-archive")
def cli():
    """Docket Archive: court dockets and filings in one SQLite file."""


def _scrapy(spider, args, db_path, settings=(), verbose=False):
    """Run one crawl in the caller's folder (archive.crawls). Unless ``verbose``
    (or LOG_LEVEL is set), Scrapy's full log goes to a file in logs/ beside the
    archive and the terminal shows a short progress view (docket_spider/progress.py)."""
    settings = [f"ARCHIVE_DB={db_path}", *settings]
    log_level = os.environ.get("LOG_LEVEL")
    quiet = not verbose and not log_level
    extra = []
    if log_level:
        extra.append(f"LOG_LEVEL={log_level}")
    if quiet:
        os.makedirs(crawls.logs_folder(db_path), exist_ok=True)
        log = os.path.join(crawls.logs_folder(db_path),
                           f"{time.strftime('%Y%m%d-%H%M%S')}-{spider}.log")
        extra += [f"LOG_FILE={log}", "PROGRESS=True"]
    # what to paste to run it again by hand
    click.echo("$ docket-archive crawl " + shlex.join(
        [spider, *(f"-a{a}" for a in args), *(f"-s{s}" for s in settings)]), err=True)
    if quiet:
        click.echo(f"  (Scrapy's log: {os.path.relpath(log)}; -v shows it here)", err=True)
    return subprocess.run(crawls.command(spider, args, [*settings, *extra]),
                          env=crawls.environment()).returncode


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("spider")
@click.option("-a", "args", multiple=True, metavar="NAME=VALUE", help="a spider argument")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="a Scrapy setting")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Scrapy's full log on the terminal")
def crawl(spider, args, settings, db_path, verbose):
    """Run a spider (courtlistener, internet_archive, pacer_district,
    pacer_appellate, pacer_rss, update) with the project's settings, from any
    folder: `scrapy crawl` without a scrapy.cfg. Exits 0 only when the crawl
    finished (1: failed or incomplete, 2: stopped)."""
    sys.exit(_scrapy(spider, list(args), _from_here(db_path),
                     [_setting_from_here(s) for s in settings], verbose))


# Settings that name a file or folder: given relative, they are the caller's, but
# `scrapy crawl` runs in the project folder
PATH_SETTINGS = ("ARCHIVE_DB", "FILES_STORE", "JOBDIR", "PACER_SPOOL_DIR", "EXTRACT_CACHE_DIR",
                 "HTTPCACHE_DIR", "LOG_FILE")


def _from_here(value: str) -> str:
    """A path given relative to the caller's folder, made absolute (an s3:// or
    other URL, and an empty value, stay as they are)."""
    if not value or "://" in value or os.path.isabs(value):
        return value
    return os.path.abspath(value)


def _setting_from_here(setting: str) -> str:
    name, sep, value = setting.partition("=")
    return f"{name}={_from_here(value)}" if sep and name.strip() in PATH_SETTINGS else setting


@cli.command("crawl-default")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--files", "files_store", default="archive/files", show_default=True,
              help="FILES_STORE: a folder or s3://bucket/prefix/")
@click.option("-s", "--set", "settings", multiple=True, help="Scrapy setting NAME=VALUE")
@click.option("-v", "--verbose", is_flag=True, help="Scrapy's full log on the terminal")
def crawl_default(db_path, files_store, settings, verbose):
    """Crawl the default case (WeChat, N.D. Cal. and Ninth Circuit) into the archive.

    Paths (--db, --files, and -s ARCHIVE_DB=, FILES_STORE=, JOBDIR=...) are
    from the folder it is run in."""
    db_path = _from_here(db_path)
    settings = [f"FILES_STORE={_from_here(files_store)}",
                *(_setting_from_here(s) for s in settings)]
    db = archive_db.open_db(db_path)
    before = db["crawls"].count
    archive_db.close_db(db)
    codes = []
    if os.environ.get("COURTLISTENER_TOKEN"):
        for case in DEFAULT_CASES:
            codes.append(_scrapy("courtlistener", [f"court={case['court']}",
                                                   f"docket_number={case['docket_number']}"],
                                 db_path, settings, verbose))
    else:
        click.echo(NO_TOKEN, err=True)
        for case in DEFAULT_CASES:
            if case["pacer_case_id"]:  # the Internet Archive holds district dockets only
                codes.append(_scrapy("internet_archive", [f"court={case['court']}",
                                                          f"pacer_case_id={case['pacer_case_id']}"],
                                     db_path, settings, verbose))
    db = archive_db.open_db(db_path)
    ran = list(db.query("select * from crawls where id > ? order by id", [before]))
    _print_summary(db, db_path)
    archive_db.close_db(db)
    if ran and all(c["status"] != "finished" for c in ran):
        messages = "; ".join(c["message"] or c["status"] for c in ran)
        if any(s in messages for s in ("DNS lookup failed", "Connection refused", "timed out")):
            messages += ("\nThe sources could not be reached: is this machine online? "
                         "`make demo` runs the same pipeline against local servers.")
        raise click.ClickException("No crawl finished: " + messages)
    if any(codes):
        failed = [f"{c['spider']} {c['court_id'] or ''} {c['status']}: {c['message'] or ''}".strip()
                  for c in ran if c["status"] != "finished"]
        raise click.ClickException("Not every crawl finished: " + ("; ".join(failed) or
                                   "see the log above"))


def _print_summary(db, db_path):
    click.echo(f"\n{db_path}:")
    for table in ("dockets", "docket_entries", "documents", "parties", "attorneys"):
        click.echo(f"  {table:16} {db[table].count:>7} rows")
    text_docs = db.execute("select count(*) from documents where text is not null and text != ''").fetchone()[0]
    click.echo(f"  documents with text: {text_docs}")
    for crawl in db.query("select * from crawls order by id desc limit 3"):
        click.echo(f"  crawl {crawl['id']} {crawl['spider']} {crawl['status']}: "
                   f"+{crawl['rows_added'] or 0} rows, {crawl['rows_changed'] or 0} changed, "
                   f"{crawl['requests'] or 0} requests, {crawl['pdfs_downloaded'] or 0} PDFs"
                   + (f" ({crawl['message']})" if crawl["message"] else ""))


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
def summary(db_path):
    """Rows per table and the latest crawls."""
    _existing(db_path)
    db = archive_db.open_db(db_path)
    _print_summary(db, db_path)
    archive_db.close_db(db)


def _existing(db_path) -> None:
    """Commands that read an archive do not make a new, empty one by mistake."""
    if not os.path.exists(db_path):
        raise click.ClickException(f"{db_path} does not exist: no archive there yet (`make archive` "
                                   "makes one, `--db PATH` names another).")


@cli.command()
@click.argument("db_path", default=DEFAULT_DB)
def shape(db_path):
    """Create or upgrade the archive's tables, indexes, FTS and views (idempotent)."""
    archive_db.close_db(archive_db.open_db(db_path))
    click.echo(f"{db_path}: schema version {archive_db.SCHEMA_VERSION}")


DOCKET_KINDS = ("district", "bankruptcy", "appellate", "acms", "ia", "rss")


@cli.command("import")
@click.argument("kind", type=click.Choice(DOCKET_KINDS))
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--court", help="court id (cand, ca9, ...) when neither the page nor its file "
              "name says")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
def import_pages(kind, paths, court, db_path):
    """Load docket pages saved from PACER (or RECAP XML, RSS) into the archive.

    The court is read from the page (its links, title or heading), else from
    the file name when it begins with a court id (cand_3.html, ca9_22-21.json),
    else from --court. A page that is not of KIND is reported and skipped; the
    others are loaded. Exits 1 when nothing was loaded.
    """
    db = archive_db.open_db(db_path)
    crawl = archive_db.start_crawl(db, f"import:{kind}", court, None,
                                   {"kind": kind, "files": len(paths)})
    loaded = failed = bad = 0
    for path in paths:
        try:
            record, found = _read_page(kind, path, court)
            for docket in dockets_in(record):
                counts = save_parsed_docket(db, docket, source=f"import:{kind}",
                                            court_id=found, crawl_id=crawl)
                problems = counts.pop("problems", [])
                bad += counts.get("bad", 0)
                where = f"{docket.get('court_id') or found} {docket.get('docket_number')}"
                click.echo(f"{path}: {where}: {json.dumps(counts)}")
                for problem in problems:  # one bad record costs that record
                    click.echo(f"{path}: {where}: skipped a bad record, {problem['what']}: "
                               f"{problem['error']}", err=True)
            loaded += 1
        except (ParseError, ValueError, OSError) as exc:
            failed += 1
            click.echo(f"{path}: skipped: {_reason(exc)}", err=True)
    status = "finished" if loaded else "failed"
    archive_db.finish_crawl(db, crawl, status, {"bad_records": bad},
                            f"{loaded} loaded, {failed} skipped"
                            + (f", {bad} bad records skipped" if bad else ""))
    archive_db.close_db(db)
    click.echo(f"{loaded} loaded, {failed} skipped -> {db_path}")
    if not loaded:
        raise click.ClickException(f"nothing was loaded: no file was a {kind} page "
                                   "(see the reasons above)")


def _reason(exc) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "a folder, not a saved page"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def _read_page(kind, path, court):
    """(the parsed record, the court its dockets are of) for one saved page.
    The court: --court, else what the parser read from the page (its ECF
    links), else the page's title or heading, else the file name."""
    with open(path, "rb") as fh:
        data = fh.read()
    if not data.strip():
        raise ValueError("the file is empty")
    record = parse(kind, data, court=court)
    if court or all(d.get("court_id") for d in dockets_in(record)):
        return record, court
    # an HTML page's title and heading; ACMS's JSON has neither (its entries' text
    # may name other courts)
    appellate = {"appellate": True, "district": False, "bankruptcy": False}
    found = ((court_from_page(decode_page(data), appellate.get(kind)) if kind != "acms" else None)
             or court_from_file_name(path))
    if not found:
        raise ValueError("the court is not known: neither the page nor its file name says "
                         "(a name that begins with the court id, like cand_1.html, does); "
                         "give --court")
    # parsed again knowing the court: it decides how some pages read (a bankruptcy court's)
    return parse(kind, data, court=found), found


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--files", "files_store", default="archive/files", show_default=True,
              help="the FILES_STORE the crawls used: a folder or s3://bucket/prefix/")
@click.option("--workers", type=int, default=0, help="worker processes (0: one per core)")
@click.option("--no-ocr", is_flag=True, help="skip OCR of pages with no usable text layer")
@click.option("--force", is_flag=True, help="extract every stored document again")
@click.option("--broker", metavar="redis://HOST:6379/0",
              help="send the documents to Celery workers (default: EXTRACT_BROKER_URL)")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="an EXTRACT_* setting, as for scrapy crawl (e.g. -s EXTRACT_TIME_LIMIT=600)")
def extract(db_path, files_store, workers, no_ocr, force, broker, overrides):
    """Extract text again from stored PDFs (e.g. after an upgrade).

    Documents whose file (SHA-256) and extractor version are unchanged are
    skipped; --force extracts them all. The crawl's limits apply
    (EXTRACT_MEMORY_LIMIT_MB, EXTRACT_TIME_LIMIT, ... in docket_spider/settings.py).
    """
    settings, limits = _extract_settings(overrides)
    workers = workers or settings.getint("EXTRACT_WORKERS") or None
    ocr = not no_ocr and settings.getbool("EXTRACT_OCR")  # --no-ocr, or -s EXTRACT_OCR=False

    db = archive_db.open_db(db_path)
    todo = archive_db.documents_to_extract(db, EXTRACTOR_VERSION, force=force)
    if not todo:
        archive_db.close_db(db)
        click.echo(f"Nothing to extract: every stored document was extracted by {EXTRACTOR_VERSION}.")
        return
    crawl = archive_db.start_crawl(db, "extract", None, None,
                                   {"force": force, "ocr": ocr, "version": EXTRACTOR_VERSION})
    from .extract import queue as extract_queue  # optional: Celery, the extraction queue

    broker = broker or extract_queue.broker_url(settings)
    if broker:
        sent, errors, missing = _extract_on_workers(db, todo, crawl, broker, limits, ocr,
                                                    files_store)
    else:
        sent, errors, missing = _extract_here(db, db_path, todo, crawl, files_store, workers, ocr,
                                                 limits)
    row = archive_db.finish_crawl(db, crawl, "finished",
                                  {"documents_extracted": sent, "extraction_errors": errors},
                                  f"{missing} stored files missing" if missing else "")
    archive_db.close_db(db)
    click.echo(f"{sent} documents extracted ({errors} errors, {missing} files missing), "
               f"{row['rows_changed']} changed, by {EXTRACTOR_VERSION} -> {db_path}")


@cli.command()
@click.option("--broker", metavar="redis://HOST:6379/0",
              help="the Redis broker (default: EXTRACT_BROKER_URL from the environment)")
@click.option("--files", "files_store", default="archive/files", show_default=True,
              help="the crawls' FILES_STORE as this machine reads it: a folder or s3://bucket/prefix/")
@click.option("--concurrency", type=int, default=0, help="documents at once (0: one per core)")
@click.option("--name", help="the worker's Celery name (default: extract-PID@HOST)")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="an EXTRACT_* limit, as for scrapy crawl (e.g. -s EXTRACT_TIME_LIMIT=600)")
def worker(broker, files_store, concurrency, name, loglevel, overrides):
    """Extract text for crawls on other machines: a Celery worker.

    Crawls and `archive extract` with EXTRACT_BROKER_URL send it the stored
    PDFs' paths and SHA-256s; it reads each file from --files, extracts it
    within the crawl's limits (EXTRACT_MEMORY_LIMIT_MB, EXTRACT_TIME_LIMIT, ...)
    and returns the text. Start as many as the files store and broker can
    feed, on any machines that can read the store.
    """
    from .extract import queue as extract_queue  # optional: Celery, the extraction queue

    settings, limits = _extract_settings(overrides)
    broker = broker or extract_queue.broker_url()
    if not broker:
        raise click.UsageError("give --broker redis://HOST:6379/0 (or EXTRACT_BROKER_URL)")
    if not files_store.startswith("s3://"):
        files_store = os.path.abspath(files_store)
        if os.path.exists(files_store) and not os.path.isdir(files_store):
            raise click.ClickException(f"{files_store} is not a folder: give the crawls' "
                                       "FILES_STORE with --files")
        if not os.path.isdir(files_store):  # started before the first crawl made it
            click.echo(f"{files_store} does not exist yet: the first crawl will make it; "
                       "documents are read from it then", err=True)
    concurrency = concurrency or settings.getint("EXTRACT_WORKERS") or os.cpu_count() or 1
    click.echo(f"Extraction worker: {concurrency} at once, files from {files_store}, "
               f"queue {extract_queue.QUEUE} on {strip_query(broker)}, a dead "
               f"worker's documents handed on after {extract_queue.visibility_timeout()} s",
               err=True)
    extract_queue.run_worker(broker, files_store, concurrency, limits, loglevel.upper(), name)


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True,
              type=click.Path(dir_okay=False), help="the archive it writes (the only process that does)")
@click.option("--queue", "url", metavar="redis://HOST:6379/0",
              help="the Redis the crawls send to (default: ARCHIVE_QUEUE_URL from the environment)")
@click.option("--stream", default=None, help="the stream's name (default: ARCHIVE_QUEUE_STREAM "
              "or docket_archive)")
@click.option("--until-idle", is_flag=True, help="stop when the stream has nothing new for a second")
@click.option("--batch", type=int, default=500, show_default=True,
              help="messages per transaction at most")
@click.option("--loglevel", default="INFO", show_default=True)
def writer(db_path, url, stream, until_idle, batch, loglevel):
    """The one writer of an archive fed by crawls on several processes or
    machines (crawls run with ARCHIVE_QUEUE_URL=redis://...).

    It applies their items in order, in transactions, each once (a replayed
    message changes nothing), and acknowledges a message only after its
    transaction commits; it answers the crawls' questions (what the archive
    has, what was spent) from the file. Stop it with Ctrl-C or SIGTERM: what
    it has not applied stays in the queue for the next start.
    """
    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s [%(name)s] %(levelname)s: "
                        "%(message)s")
    url = url or access.queue_url()
    if not url:
        raise click.UsageError("give --queue redis://HOST:6379/0 (or ARCHIVE_QUEUE_URL)")
    stream = stream or os.environ.get("ARCHIVE_QUEUE_STREAM") or access.DEFAULT_STREAM
    click.echo(f"Archive writer: {strip_query(url)} stream {stream} -> {db_path}", err=True)
    try:
        stats = archive_writer.run_writer(db_path, url, stream, until_idle=until_idle, batch=batch)
    except archive_writer.WriterRunning as exc:
        raise click.ClickException(str(exc))
    except Exception as exc:
        import redis  # optional: only for the queue

        if isinstance(exc, redis.ConnectionError):
            raise click.ClickException(f"the queue {strip_query(url)} does not answer: {exc}")
        raise
    click.echo(f"{stats['messages']} messages applied ({stats['items']} items, {stats['calls']} "
               f"calls, {stats['replayed']} already applied, {stats['rejected']} rejected)",
               err=True)


def _extract_settings(overrides):
    """The project's settings with ``-s EXTRACT_NAME=VALUE`` overrides, and
    the extraction limits they make (archive.extract.limits.Limits)."""
    from scrapy.settings import Settings  # optional here: Scrapy, for the EXTRACT_* settings

    settings = Settings()
    settings.setmodule("docket_spider.settings", priority="project")
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("EXTRACT_"):
            raise click.BadParameter(f"expected EXTRACT_NAME=VALUE, got {item!r}", param_hint="-s")
        settings.set(name, value, priority="cmdline")
    try:
        return settings, Limits.from_settings(settings)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="-s") from None


def _file_missing(db, doc, crawl) -> int:
    """Record that a document's stored file is gone (its extraction is an error); 1."""
    archive_db.save_extraction(db, doc["id"], {
        "status": "error", "error": f"stored file not found: {doc['file_path']}"}, crawl_id=crawl)
    return 1


def _extract_here(db, db_path, todo, crawl, files_store, workers, ocr, limits):
    """``archive extract`` in this machine's worker processes. Returns
    (documents extracted, errors, files missing)."""
    with tempfile.TemporaryDirectory() as tmp:
        fetch = _file_fetcher(files_store, tmp)
        paths, missing = [], 0
        for doc in todo:
            path = fetch(doc["file_path"])
            if path is None:
                missing += _file_missing(db, doc, crawl)
            else:
                paths.append((doc, path))
        errors = 0
        results = extract_many([p for _, p in paths], workers=workers, ocr=ocr, limits=limits,
                               tmp_dir=tmp_folder_beside(db_path))
        for (doc, path), result in tqdm(zip(paths, results), total=len(paths), unit="doc",
                                        desc="extracting"):
            fields = archive_db.extraction_fields(result)
            archive_db.save_extraction(db, doc["id"], fields, sha256=archive_db.file_sha256(path),
                                       crawl_id=crawl)
            errors += fields["status"] in ("error", "too_large", "timeout")
            if fields["status"] in ("too_large", "timeout"):
                click.echo(f"{doc['file_path']}: {fields['status']}: {fields['error']}", err=True)
    return len(paths), errors, missing


def _extract_on_workers(db, todo, crawl, broker, limits, ocr, files_store):
    """``archive extract`` on Celery workers: every document goes to the queue
    at once (path and SHA-256), results are saved as they come, with a
    progress bar. Returns (documents sent, errors, files missing)."""
    from .extract import queue as extract_queue  # optional: Celery, the extraction queue

    client = extract_queue.QueueClient(broker, limits.time_limit)
    where = strip_query(broker)
    try:
        workers = client.workers()
    except ConnectionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(todo)} documents to {len(workers)} worker(s) via {where}"
               + ("" if workers else f": none answers yet (start `python -m archive worker "
                  f"--broker {where} --files {files_store}`)"), err=True)
    with tempfile.TemporaryDirectory() as tmp:
        fetch = _file_fetcher(files_store, tmp)
        pending, missing = {}, 0
        for doc in todo:
            sha256 = doc.get("sha256")
            if not sha256:  # an older row: hash the stored file once, here
                path = fetch(doc["file_path"])
                if path is None:
                    missing += _file_missing(db, doc, crawl)
                    continue
                sha256 = archive_db.file_sha256(path)
            pending[doc["id"]] = (doc, sha256, client.send(doc["file_path"], sha256, ocr))
    errors, sent = 0, len(pending)
    tasks = {doc_id: task for doc_id, (_, _, task) in pending.items()}
    with tqdm(total=sent, unit="doc", desc="extracting") as bar:
        for doc_id, answer in client.as_done(tasks):
            doc, sha256, _ = pending[doc_id]
            fields = archive_db.extraction_fields(answer)
            archive_db.save_extraction(db, doc_id, fields, sha256=answer.get("sha256") or sha256,
                                       crawl_id=crawl)
            errors += fields["status"] in ("error", "too_large", "timeout")
            if fields["status"] in ("error", "too_large", "timeout"):
                tqdm.write(f"{doc['file_path']}: {fields['status']}: {fields['error']}")
            bar.update(1)
    return sent, errors, missing


def _file_fetcher(store: str, tmp: str):
    """file_path -> a local path (downloading from S3 when the store is a bucket)."""
    if store.startswith("s3://"):
        import boto3  # optional: only for a files store in S3

        parsed = urlparse(store)
        client = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)

        def fetch(file_path):
            local = os.path.join(tmp, file_path.replace("/", "_"))
            try:
                client.download_file(parsed.netloc, parsed.path.lstrip("/") + file_path, local)
            except Exception:
                return None
            return local

        return fetch
    root = os.path.abspath(store)
    return lambda file_path: (os.path.join(root, file_path)
                              if os.path.exists(os.path.join(root, file_path)) else None)


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--out", "out", default="archive/releases", show_default=True,
              help="folder for dockets-YYYY-MM-DD.db, its .manifest.json and latest.json")
@click.option("--to", "to", metavar="s3://BUCKET/PREFIX/",
              help="also upload there (boto3; AWS_ENDPOINT_URL for any S3-compatible store)")
@click.option("--release", "existing", type=click.Path(dir_okay=False), metavar="FILE.db",
              help="with --to: upload this release, already written (after a failed upload)")
def snapshot(db_path, out, to, existing):
    """Write a public release of the archive: a self-contained copy and its manifest.

    Sealed, restricted and badly redacted documents are withheld (their rows
    stay, saying why), the PACER ledger and crawl arguments are left out.
    A second snapshot the same day is dockets-YYYY-MM-DD-2.db: a release is
    never overwritten. latest.json is written last, locally and in the bucket,
    once the files it names are complete (in S3: uploaded and verified).
    """
    if existing and not to:
        raise click.UsageError("--release uploads a release: give --to s3://bucket/prefix/ too")
    try:
        client = bucket = prefix = None
        if to:
            bucket, prefix = release.parse_s3_url(to)
            client = release.s3_client()
            release.check_bucket(client, to)
        if existing:
            manifest_path, pointer = release.existing_release(existing)
            release.upload_release(client, to, existing, manifest_path, pointer, log=click.echo)
            return
        taken = (lambda name: release.s3_exists(client, bucket, prefix + name)) if client else None
        made = release.make_release(db_path, out, taken=taken)
        manifest = made["manifest_data"]
        click.echo(f"{made['db']}: {manifest['size']} bytes, sha256 {manifest['sha256']}")
        click.echo(f"  {', '.join(f'{t} {n}' for t, n in manifest['tables'].items())}")
        click.echo(f"  {len(manifest['cases'])} cases in {', '.join(manifest['courts']) or 'no court'}; "
                   f"filings {manifest['date_range']['first']} to {manifest['date_range']['last']}; "
                   f"{manifest['withheld']['count']} documents withheld")
        click.echo(f"{made['manifest']}\n{made['latest']} -> {made['pointer']['db']}")
        if to:
            try:
                release.upload_release(client, to, made["db"], made["manifest"], made["pointer"],
                                       log=click.echo)
            except release.ReleaseError as exc:
                raise release.ReleaseError(
                    f"{exc}. The release is complete in {out}; upload it again with "
                    f"`python -m archive snapshot --to {to} --release {made['db']}`") from None
    except release.ReleaseError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # boto3 configuration, S3 access at the name check
        if type(exc).__module__.startswith(("botocore", "boto3")):
            raise click.ClickException(f"{to}: {exc}") from None
        raise


# --- following cases (issue 20) ------------------------------------------------

@cli.command()
@click.argument("court", required=False)
@click.argument("docket_number", required=False)
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--list", "list_", is_flag=True, help="the followed cases, their sources and gaps")
@click.option("--remove", is_flag=True, help="stop following COURT DOCKET_NUMBER (and the "
              "appeals found from it)")
@click.option("--webhook", metavar="URL", help="POST signed JSON for each new entry (of every "
              "followed case, or of COURT DOCKET_NUMBER and its appeals)")
@click.option("--remove-webhook", metavar="URL", help="stop sending to URL")
@click.option("--secret-env", default="DOCKET_ARCHIVE_WEBHOOK_SECRET", show_default=True,
              help="the environment variable holding the webhook's signing secret")
@click.option("--documents", is_flag=True, help="also buy the case's new documents on PACER "
              "(within the budgets) when no free source has them")
@click.option("--pacer-case-id", help="PACER's case id, when known (saves a lookup)")
@click.option("--acms-case-id", help="an ACMS appeal's case GUID, when known")
def follow(court, docket_number, db_path, list_, remove, webhook, remove_webhook, secret_env,
           documents, pacer_case_id, acms_case_id):
    """Follow a case (and its appeals, once they exist): `update` keeps it current.

    \b
      python -m archive follow cand 3:20-cv-05910
      python -m archive follow --list
      python -m archive follow --remove cand 3:20-cv-05910
      python -m archive follow --webhook https://example.org/hook
    """
    db = archive_db.open_db(db_path)
    try:
        if remove_webhook:
            n = alerts.remove_webhook(db, remove_webhook)
            click.echo(f"{alerts.shown(remove_webhook)}: {n} webhook(s) stopped")
            return
        if list_:
            _print_follows(db)
            return
        if court and not docket_number:
            raise click.UsageError("give the court and the docket number: follow cand 3:20-cv-05910")
        if remove:
            if not court:
                raise click.UsageError("--remove COURT DOCKET_NUMBER")
            gone = fl.unfollow(db, court, docket_number)
            click.echo(f"no longer following {', '.join(gone)}" if gone else
                       f"{court} {docket_number} was not followed")
            return
        docket_id = None
        if court:
            try:
                docket_id, new = fl.follow_case(db, court, docket_number, documents=documents,
                                                pacer_case_id=pacer_case_id,
                                                acms_case_id=acms_case_id)
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
            feed = fl.followed_one(db, docket_id)["feed"]
            click.echo(f"{'following' if new else 'already following'} {docket_id} "
                       f"(RSS: {fl.coverage_label(feed)}); `python -m archive update` fetches it"
                       + ("; its appeals are followed as they are found"
                          if not fl.is_appellate(court) else ""))
        if webhook:
            try:
                hook = alerts.add_webhook(db, webhook, docket_id, secret_env)
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
            click.echo(f"webhook {hook['id']} -> {alerts.shown(webhook)} for "
                       f"{docket_id or 'every followed case'}: new entries are POSTed, signed "
                       f"(HMAC-SHA256) with the secret in ${secret_env}")
            if hook["secret"]:
                click.echo(f"${secret_env} is not set. A new secret, shown once (give it to the "
                           f"receiver, and to update's environment):\n  export {secret_env}="
                           f"{hook['secret']}", err=True)
        if not court and not webhook:
            raise click.UsageError("give COURT DOCKET_NUMBER, --list, --remove or --webhook")
    finally:
        archive_db.close_db(db)


def _print_follows(db):
    now = _dt.datetime.now(_dt.timezone.utc)
    rows = fl.followed(db)
    if not rows:
        click.echo("No case is followed yet: python -m archive follow COURT DOCKET_NUMBER")
    today = now.date().isoformat()
    for row in rows:
        status = fl.case_status(db.conn, row["id"], now)
        checks = ", ".join(f"{c['name']} {c['ago']}" + ("" if c["status"] == "ok" else
                                                          f" ({c['status']})")
                           for c in status["by"].values()) or "never checked"
        soon = fl.next_dates(db.conn, row["id"], today, limit=1)
        line = (f"{row['id']}  {row.get('case_name') or ''}\n"
                f"    RSS {fl.coverage_label(row['feed'])}; checked: {checks}; {status['line']}")
        if soon:
            ev = soon[0]
            line += f"\n    next: {ev['date']} {ev['time'] or ''} {ev['what'] or ev['kind']}"
        if row.get("parent_id"):
            line += f"\n    appeal of {row['parent_id']}, found by {row['found_by']}"
        click.echo(line)
    for hook in alerts.webhooks(db):
        click.echo(f"webhook {hook['id']}: {alerts.shown(hook['url'])} for "
                   f"{hook['docket_id'] or 'every followed case'} (secret in ${hook['secret_env']})")
    counts = alerts.outbox_counts(db)
    if counts:
        click.echo("alerts: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    last = db.execute("select summary from update_runs where status != 'running' and dry_run = 0 "
                      "order by id desc limit 1").fetchone()
    if last:
        click.echo(f"last update: {last[0]}")


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--dry-run", is_flag=True, help="print what would be fetched and what it would "
              "cost; fetch nothing")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="a knob (FOLLOW_*, COURTLISTENER_*_LIMIT, PACER_MONTHLY_BUDGET) or a Scrapy "
                   "setting passed to the crawls")
@click.option("-v", "--verbose", is_flag=True, help="the crawls' logs on the terminal")
def update(db_path, dry_run, overrides, verbose):
    """Bring every followed case up to date: RSS, CourtListener, the Internet
    Archive, then PACER within its budgets. One summary line (the crawls' logs
    go to archive/logs/update-YYYYMMDD.log; -v shows them); for cron:

    \b
      */30 * * * * cd /srv/docket-archive && .venv/bin/python -m archive update
    """
    def stop(signum, frame):  # SIGTERM (cron's timeout, systemd) stops it as Ctrl-C does: exit 2
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    knobs, crawl = {}, {}
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.UsageError(f"-s takes NAME=VALUE, not {item!r}")
        if name in up.SETTINGS:
            knobs[name] = value
        else:
            crawl[name] = value
    settings = up.load_settings(knobs)
    if settings.get("PACER_MONTHLY_BUDGET") is not None:
        crawl.setdefault("PACER_MONTHLY_BUDGET", str(settings["PACER_MONTHLY_BUDGET"]))
    code = up.run_update(db_path, settings=settings, dry_run=dry_run, echo=click.echo,
                         crawl_settings=crawl, verbose=verbose)
    sys.exit(code)


@cli.command()
@click.argument("court", required=False)
@click.argument("docket_number", required=False)
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
def gaps(court, docket_number, db_path):
    """What a case lacks (every followed case without arguments): entry numbers
    missing between known ones, RSS entries on no docket report yet, documents
    listed but not stored, and when each source last checked it."""
    _existing(db_path)
    db = archive_db.open_db(db_path)
    try:
        ids = ([archive_db.docket_key(court.lower(), docket_number)] if court and docket_number
               else [r["id"] for r in fl.followed(db)])
        for docket_id in ids:
            status = fl.case_status(db.conn, docket_id)
            click.echo(f"{docket_id}: {status['line']}")
            for source, check in status["by"].items():
                click.echo(f"    {check['name']:20} checked {check['ago']}"
                           + ("" if check["status"] == "ok" else f" ({check['status']})")
                           + (f"; {check['detail']}" if check.get("detail") else ""))
            found = fl.gaps_of(db.conn, docket_id)
            for gap in found:
                if gap["kind"] == "missing numbers":
                    span = (f"{gap['entry_from']}" if gap["entry_from"] == gap["entry_to"]
                            else f"{gap['entry_from']}-{gap['entry_to']}")
                    click.echo(f"    missing entries {span}")
                elif gap["kind"] == "rss only":
                    click.echo(f"    on no docket report yet (RSS only): {gap['entry_id']}")
            unstored = [g["document_id"] for g in found if g["kind"] == "not stored"]
            if unstored:
                click.echo(f"    {len(unstored)} documents listed but not stored: "
                           + ", ".join(unstored[:5]) + (", ..." if len(unstored) > 5 else ""))
    finally:
        archive_db.close_db(db)


@cli.command()
@click.argument("court", required=False)
@click.argument("docket_number", required=False)
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--followed", is_flag=True, help="every followed case (the default without a case)")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False), help="write it to a file")
def calendar(court, docket_number, db_path, followed, out):
    """An iCal feed (.ics) of a case's hearings and deadlines, or of every
    followed case's: moved and vacated dates are sent cancelled."""
    _existing(db_path)
    db = archive_db.open_db(db_path)
    try:
        if court and docket_number and not followed:
            ids = [archive_db.docket_key(court.lower(), docket_number)]
            name = f"{court} {docket_number}"
        else:
            ids = [r["id"] for r in fl.followed(db)]
            name = "Followed cases"
        text = ical.calendar(ical.calendar_events(db.conn, ids), name)
    finally:
        archive_db.close_db(db)
    if out:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        click.echo(f"{out}: {text.count('BEGIN:VEVENT')} events")
    else:
        click.echo(text, nl=False)


MB = 1_000_000


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--immutable", is_flag=True,
              help="serve a release: a file nothing writes to any more (no locking, cached counts)")
@click.option("--max-rows", default=1000, show_default=True,
              help="rows one query returns at most (Datasette's max_returned_rows)")
@click.option("--max-value-mb", default=10.0, show_default=True,
              help="longest string or blob a query may read or build (SQLite's LIMIT_LENGTH)")
@click.option("--max-result-mb", default=64.0, show_default=True,
              help="bytes of rows one query may return, all rows together")
@click.option("--sqlite-heap-mb", default=128.0, show_default=True,
              help="memory SQLite may use in all, across connections (hard_heap_limit)")
@click.option("--time-limit-ms", default=3000, show_default=True,
              help="time one query may take (Datasette's sql_time_limit_ms)")
@click.option("--files", "files_store", default="archive/files", show_default=True,
              help="the FILES_STORE the crawls used (a folder or s3://bucket/prefix/): its PDFs "
                   "are linked from the pages")
@click.option("--releases", "releases_dir", default="archive/releases", show_default=True,
              help="the folder `archive snapshot` writes releases to (the home page offers the latest)")
@click.option("--public", "public_path", default=None,
              help="the public copy that is served, kept current from --db "
                   "[default: public/<name>.db beside the archive]")
@click.option("--publish-seconds", default=2.0, show_default=True,
              help="how often the archive's log is checked for rows to publish")
@click.option("--heavy-per-client", default=2, show_default=True,
              help="queries of a reader's own making (?sql=, _where, facets, sorts) one client "
                   "runs at once; more are answered 429")
@click.option("--heavy-at-once", default=2, show_default=True,
              help="such queries all clients run at once (the server has two SQL threads more)")
@click.option("--client-header", default=None, metavar="X-Forwarded-For",
              help="behind a proxy: the header whose first address is the client's")
def serve(db_path, port, host, immutable, max_rows, max_value_mb, max_result_mb,
          sqlite_heap_mb, time_limit_ms, files_store, releases_dir, public_path, publish_seconds,
          heavy_per_client, heavy_at_once, client_header):
    """Publish the archive read-only with Datasette (search, facets, download).

    What is served is the archive's public copy (`archive publish`): what a
    release holds, and nothing more (no PACER ledger, no crawl arguments, no
    withheld text). The server keeps it current while crawls write to the
    archive (a finished crawl shows within seconds). --immutable serves a
    release file as it is.
    """
    # only `serve` runs a web server: the others need not load it (a second of start-up)
    import uvicorn

    if not os.path.exists(db_path):
        raise click.ClickException(f"{db_path} does not exist yet: run `make archive` first.")
    limits = {"max_value_bytes": int(max_value_mb * MB), "max_result_bytes": int(max_result_mb * MB),
              "sqlite_heap_bytes": int(sqlite_heap_mb * MB)}
    if min(limits.values()) < MB or max_rows < 1:
        raise click.ClickException("limits must be at least 1 MB and 1 row")
    source = None
    if not immutable:  # a release is served as it is: upgrading it would change it (and its SHA-256)
        archive_db.close_db(archive_db.open_db(db_path))  # an older archive gets its log first
        source, db_path = os.path.abspath(db_path), os.path.abspath(public_path or default_public(db_path))
        done = publish.publish(source, db_path)
        click.echo(f"Public copy {db_path}: {done['why']}, {done['rows']} rows "
                   f"in {done['seconds']:.1f} s", err=True)
    inspect_file = os.path.splitext(os.path.abspath(db_path))[0] + ".inspect.json"
    inspect_data = None  # `archive snapshot` writes a release's counts beside it
    if immutable and os.path.exists(inspect_file):
        with open(inspect_file) as fh:
            inspect_data = json.load(fh)
    # where the pages find the stored PDFs and the releases (paths made absolute
    # before the chdir below; the plugins never show them)
    # Datasette shows plugin configuration at /-/metadata.json, except values it
    # reads from the environment ({"$env": ...}): the folders stay private
    os.environ["DOCKET_ARCHIVE_FILES"] = (files_store if files_store.startswith("s3://")
                                          else os.path.abspath(files_store))
    os.environ["DOCKET_ARCHIVE_RELEASES"] = os.path.abspath(releases_dir)
    limits["files"] = {"$env": "DOCKET_ARCHIVE_FILES"}
    limits["releases"] = {"$env": "DOCKET_ARCHIVE_RELEASES"}
    limits["heavy_per_client"] = heavy_per_client
    limits["heavy_at_once"] = heavy_at_once
    if client_header:
        limits["client_header"] = client_header
    if source:
        os.environ["DOCKET_ARCHIVE_SOURCE"] = source
        limits["archive"] = {"$env": "DOCKET_ARCHIVE_SOURCE"}
        limits["publish_seconds"] = publish_seconds
    # Datasette shows a database's path (/-/databases.json): serve it by its bare name
    folder, name = os.path.split(os.path.abspath(db_path))
    os.chdir(folder)
    ds = datasette_for(name, immutable=immutable, plugin_settings=limits, max_rows=max_rows,
                       time_limit_ms=time_limit_ms, heavy_at_once=heavy_at_once,
                       inspect_data=inspect_data)
    asyncio.run(ds.invoke_startup())
    click.echo(f"Serving {db_path} on http://{host}:{port}/"
               + (" (immutable)" if immutable else ""), err=True)
    uvicorn.run(ds.app(), host=host, port=port, log_level="info", lifespan="on", workers=1)


def datasette_for(db_path, *, immutable=False, plugin_settings=None, max_rows=1000,
                  time_limit_ms=3000, heavy_at_once=2, inspect_data=None):
    """The Datasette that `serve` runs for ``db_path`` (a public copy, or a release
    when ``immutable``), with the site's plugins: what the tests use in process."""
    from datasette.app import Datasette  # serve only: half a second of every other command

    site.register()  # the site's plugins, when this checkout is not pip-installed
    return Datasette(
        [] if immutable else [str(db_path)], immutables=[str(db_path)] if immutable else [],
        metadata=metadata_for(db_path, plugin_settings),
        inspect_data=inspect_data,
        settings={"max_returned_rows": max_rows, "sql_time_limit_ms": time_limit_ms,
                  # two threads more than heavy queries may hold (public.py)
                  "num_sql_threads": heavy_at_once + 2,
                  "allow_download": True, "truncate_cells_html": 300,
                  # suggestions group by every column: on document text that is
                  # memory enough to meet --sqlite-heap-mb; metadata.yml names the facets
                  "suggest_facets": False})


def default_public(db_path) -> str:
    """Where the public copy of an archive lives by default: ``public/`` beside it."""
    folder, name = os.path.split(os.path.abspath(db_path))
    return os.path.join(folder, "public", name)


@cli.command("publish")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--public", "public_path", default=None,
              help="the public copy [default: public/<name>.db beside the archive]")
@click.option("--everything", is_flag=True, help="copy every row, not only those logged since")
def publish_command(db_path, public_path, everything):
    """Bring the archive's public copy up to date (what `serve` serves).

    The copy holds what a release holds: the public tables, withheld
    documents without their text or file, no PACER ledger, no crawl
    arguments. `serve` keeps it current by itself; this is for a copy served
    elsewhere (plain `datasette`), or from cron after `update`.
    """
    _existing(db_path)
    if not publish.has_log(db_path):  # an older archive gets its log first (a write)
        archive_db.close_db(archive_db.open_db(db_path))
    target = public_path or default_public(db_path)
    done = publish.publish(db_path, target, everything=everything)
    click.echo(f"{target}: {done['why']}: {done['rows']} rows"
               + (f", {done['dockets']} cases" if done.get("dockets") is not None else "")
               + f", log position {done['position']}, {done['seconds']:.2f} s")


def metadata_for(db_path, limits=None) -> dict:
    """The plugins' settings for serving ``db_path`` (the site's own metadata,
    metadata.yml, comes from its ``get_metadata`` hook): Datasette's
    configuration, as `datasette -m` would give it."""
    return {"plugins": {site.PLUGIN: dict(limits or {})}}


def datasette_command(db_path, port, host="127.0.0.1", *options):
    """The command that serves ``db_path`` (for a subprocess, e.g. in tests)."""
    return [sys.executable, "-m", "archive", "serve", "--db", str(db_path), "--host", host,
            "--port", str(port), *options]


if __name__ == "__main__":
    cli()
