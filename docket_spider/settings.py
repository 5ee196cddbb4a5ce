"""Scrapy settings for Docket Archive.

Every knob is a setting (override with ``-s NAME=value``); secrets are not:
``COURTLISTENER_TOKEN`` and PACER credentials are read from the environment
only, so they never show up in Scrapy's "Overridden settings" log line.
"""
import os

BOT_NAME = "docket_spider"
SPIDER_MODULES = ["docket_spider.spiders"]
NEWSPIDER_MODULE = "docket_spider.spiders"

# How the operator can be reached (an email or a URL): the User-Agent names it
# (docket_spider/contact.py; a USER_AGENT set with -s wins)
CONTACT = os.environ.get("DOCKET_ARCHIVE_CONTACT", "")
ROBOTSTXT_OBEY = False  # APIs and file stores, not crawled web pages
ADDONS = {"docket_spider.contact.Contact": 0}

# --- The archive -----------------------------------------------------------
ARCHIVE_DB = "archive/dockets.db"
# Local folder or s3://bucket/prefix/ (with AWS_ENDPOINT_URL etc. for any S3-compatible store).
FILES_STORE = "archive/files"
# Several crawls, one writer (archive/writer.py): with a Redis URL the crawl
# never opens ARCHIVE_DB; its items and questions go to the stream
# ARCHIVE_QUEUE_STREAM, applied by `python -m archive writer --db FILE --queue URL`.
# A question waits at most ARCHIVE_QUEUE_WAIT seconds for the writer's answer.
ARCHIVE_QUEUE_URL = None
ARCHIVE_QUEUE_STREAM = "docket_archive"
ARCHIVE_QUEUE_WAIT = 120
FILES_EXPIRES = 36500  # a stored court filing does not change: never fetch it again
MEDIA_ALLOW_REDIRECTS = True  # archive.org answers downloads with a redirect
# Text extraction worker processes (0 = one per core).
EXTRACT_WORKERS = 0
EXTRACT_OCR = True
# Limits (parsers/pdf_pool.py; 0 turns one off). Each worker's address space
# (RLIMIT_AS, inherited by Tesseract); a document over it is `too_large`.
EXTRACT_MEMORY_LIMIT_MB = 2048
# Seconds for one document, and for one page (so a long scan that progresses
# is not cut short); a worker over either is killed: `timeout`.
EXTRACT_TIME_LIMIT = 1800
EXTRACT_PAGE_TIME_LIMIT = 300
# OCR renders no page beyond this many pixels (lower dpi for big pages, down
# to 100 dpi; beyond that the page is not OCR'd: `too_large`).
EXTRACT_OCR_MAX_PIXELS = 25_000_000
# Characters, images and paths one page may hold before it is abandoned.
EXTRACT_PAGE_MAX_OBJECTS = 100_000
# Extraction on Celery workers (archive/extract_queue.py): a Redis URL, e.g.
# redis://host:6379/0, switches it on (best given in the environment,
# EXTRACT_BROKER_URL, when it holds a password); workers start with
# `python -m archive worker --broker URL --files FILES_STORE`. A document waits at
# most EXTRACT_QUEUE_WAIT seconds for its result (0: the visibility timeout,
# EXTRACT_VISIBILITY_TIMEOUT in the environment, plus EXTRACT_TIME_LIMIT and 10 minutes).
EXTRACT_BROKER_URL = None
# A folder of extraction results by SHA-256 and extractor version, shared by
# every archive on the machine (a file extracted once is not extracted again in
# another archive). None: no cache. The tests set it: their crawls read the same PDFs.
EXTRACT_CACHE_DIR = None
EXTRACT_QUEUE_WAIT = 0

# `scrapy crawl` exits non-zero unless the crawl finished (docket_spider/commands/crawl.py).
COMMANDS_MODULE = "docket_spider.commands"
EXTENSIONS = {
    # a job folder (-s JOBDIR=) is resumed only when its last crawl stopped cleanly
    "docket_spider.resume.JobDirGuard": 0,
    # finished / failed / incomplete / shutdown, for the crawls table and the exit status
    "docket_spider.outcome.CrawlOutcome": 0,
    # PROGRESS=True (make archive): a short view on the terminal, the log in LOG_FILE
    "docket_spider.progress.ProgressView": 100,
}
PROGRESS = False

ITEM_PIPELINES = {
    "docket_spider.pipelines.files.DocumentFilesPipeline": 100,
    "docket_spider.pipelines.extract.ExtractTextPipeline": 200,
    "docket_spider.pipelines.archive.ArchivePipeline": 300,
}

# --- CourtListener ---------------------------------------------------------
COURTLISTENER_API_URL = "https://www.courtlistener.com/api/rest/v4/"
COURTLISTENER_STORAGE_URL = "https://storage.courtlistener.com/"
COURTLISTENER_RATE_PER_MINUTE = 5  # an ordinary account: 5/min, 50/hour, 125/day
# The v4 API pages database endpoints 20 at a time and has no larger page;
# another value is sent as page_size (for servers that honour it).
COURTLISTENER_PAGE_SIZE = 20

# --- Internet Archive -------------------------------------------------------
INTERNET_ARCHIVE_URL = "https://archive.org/download/"

# --- Politeness and faults ---------------------------------------------------
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_ENABLED = True
RETRY_TIMES = 3
# 429 is handled by RetryAfterMiddleware (waits as long as the server asks).
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
RETRY_AFTER_MAX_WAIT = 24 * 3600  # give up (and say so) past a day
RETRY_AFTER_MAX_TIMES = 100

DOWNLOADER_MIDDLEWARES = {
    # each spider's allowed_domains, for every request (dont_filter ones and
    # redirects included): nothing is fetched from another host
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "docket_spider.middlewares.HostsOffsiteMiddleware": 50,
    "docket_spider.middlewares.RetryAfterMiddleware": 540,
    # Scrapy's cookie jars (ACMS's session), without fetching the public suffix list
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "docket_spider.middlewares.CookiesMiddleware": 700,
    # after the cache, retry and redirect middlewares on the way out, before
    # them on the way back: credentials exist only while a request is sent
    "docket_spider.middlewares.CredentialsMiddleware": 950,
    # next to the downloader: a PACER purchase's ledger row and kept answer
    "docket_spider.pacer.purchases.PurchaseLedgerMiddleware": 960,
}
# Scrapy's HTTP handler, which writes a PACER purchase's ledger row as it is sent
DOWNLOAD_HANDLERS = {"http": "docket_spider.pacer.purchases.LedgerDownloadHandler",
                     "https": "docket_spider.pacer.purchases.LedgerDownloadHandler"}

# The HTTP cache is off by default (a re-crawl must see what changed). When a
# user turns it on, SafeFilesystemCacheStorage keeps tokens and cookies out of it.
HTTPCACHE_ENABLED = False
HTTPCACHE_STORAGE = "docket_spider.httpcache.SafeFilesystemCacheStorage"
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_IGNORE_HTTP_CODES = [401, 403, 429, 500, 502, 503, 504]

# JOBDIR's queues as Scrapy's, but a request whose body is a secret (a login,
# a SAML sign-in: meta["memory_only"]) is never written there (docket_spider/squeues.py)
SCHEDULER_DISK_QUEUE = "docket_spider.squeues.PickleLifoDiskQueue"
SCHEDULER_START_DISK_QUEUE = "docket_spider.squeues.PickleFifoDiskQueue"

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False  # it would print a console password into the log
# Scrapy 2.19's RemoteControl serves /execute (any Python, in the crawl: its PACER
# password and session) on 127.0.0.1 and writes its bearer token to
# ~/.local/state/scrapy/job_files/, left there by a killed crawl. Off: a crawl
# listens on no port and writes nothing outside the project's folders.
REMOTE_CONTROL_ENABLED = False

# --- PACER (costs money: see archive/fees.py) ----------------------
# Credentials come from the environment only: PACER_USERNAME, PACER_PASSWORD,
# optional PACER_CLIENT_CODE and PACER_OTP. The budget is a spider argument
# (-a max_cost=5.00); without it the PACER spiders buy nothing.
PACER_LOGIN_URL = "https://pacer.login.uscourts.gov/services/cso-auth"
PACER_ECF_URL_TEMPLATE = "https://ecf.{court}.uscourts.gov/"
PACER_ACMS_URL_TEMPLATE = "https://{court}-showdoc.azurewebsites.us/"
PACER_ACMS_API_URL_TEMPLATE = "https://{court}-showdocservices.azurewebsites.us/api/"
# An ACMS purchase (MergePDFFiles) is prepared in the background: its status is
# asked every ACMS_POLL_INTERVAL seconds (or the server's Retry-After, up to a
# minute), at most ACMS_POLL_MAX times.
# A cap across crawls (dollars, counted from pacer_charges this calendar month,
# UTC), for crawls run from cron; -a max_cost= stays the cap of each crawl.
PACER_MONTHLY_BUDGET = None
# PACER's answers to purchases, kept until what they hold is stored (a crawl
# killed in between never buys them twice). Default: purchases/ beside ARCHIVE_DB.
PACER_SPOOL_DIR = None
# Room (MB) a crawl that buys keeps in the spool folder for what must still be
# written once the disk is full (the ledger, the crawl's row, answers on their
# way); no room for it, nothing is bought. On a full disk the crawl waits up to
# PACER_DISK_FULL_WAIT seconds at its end for room to keep what PACER billed.
PACER_DISK_RESERVE_MB = 8
PACER_DISK_FULL_WAIT = 60
ACMS_POLL_INTERVAL = 2.0
ACMS_POLL_MAX = 60

# --- Ninth Circuit decisions (free RSS feeds, latest 25 each: parsers/ca9_decisions.py) ---
CA9_OPINIONS_FEED_URL = "https://www.ca9.uscourts.gov/decisions/opinions/index.xml"
CA9_MEMORANDA_FEED_URL = "https://www.ca9.uscourts.gov/decisions/memoranda/index.xml"
