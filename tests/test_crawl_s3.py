"""The same crawl with FILES_STORE=s3://... against moto's S3 server on loopback: each
PDF stored once, by one PUT (S3 shows an object only once it is whole), and nothing
else left in the bucket."""
from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import SHARED, moto_s3, run_crawl
from tests.servers.cases import wechat_cases
from tests.servers.courtlistener import CourtListenerServer

TOKEN = "s3-test-token"
# Credentials come from the environment (boto's usual chain), never from -s
# settings, which Scrapy prints in its log.
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret",
         "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def s3():
    with moto_s3("dockets") as (endpoint, client, _):
        yield endpoint, client


def test_crawl_stores_pdfs_in_s3_once(s3, tmp_path):
    endpoint, client = s3
    with CourtListenerServer(wechat_cases(SHARED if SHARED.exists() else None), token=TOKEN) as cl:
        settings = {"COURTLISTENER_API_URL": cl.api_url,
                    "COURTLISTENER_STORAGE_URL": cl.storage_url,
                    "COURTLISTENER_RATE_PER_MINUTE": "1200",
                    "AWS_ENDPOINT_URL": endpoint}
        args = ("court=cand", "docket_number=3:20-cv-05910-LB")
        db = tmp_path / "dockets.db"
        # what a crawl of an earlier version, killed mid-upload, left: removed at the start
        client.put_object(Bucket="dockets", Body=b"%PDF-1.4 half",
                          Key="archive/files/.partial/cand/x/y.pdf.0123abcd")
        code, log = run_crawl("courtlistener", args=args, env={"COURTLISTENER_TOKEN": TOKEN, **CREDS},
                              db=db, files="s3://dockets/archive/files/", settings=settings)
        assert code == 0 and "Traceback" not in log, log[-3000:]
        stored = [o["Key"] for o in client.list_objects_v2(Bucket="dockets").get("Contents", [])]
        con = sqlite3.connect(db)
        docs = con.execute("select file_path, sha256, status, length(text) from documents "
                           "where file_path is not null").fetchall()
        assert docs and len(stored) == len(docs)
        assert {f"archive/files/{d[0]}" for d in docs} == set(stored)
        assert all(d[1] and len(d[1]) == 64 for d in docs)
        assert any(d[2] in ("ok", "ocr") and d[3] for d in docs)
        downloads = cl.log.tally(kind="storage")
        # re-crawl: everything is already in the bucket
        code, log = run_crawl("courtlistener", args=args, env={"COURTLISTENER_TOKEN": TOKEN, **CREDS},
                              db=db, files="s3://dockets/archive/files/", settings=settings)
        assert code == 0
        failed = con.execute("select count(*) from documents where status = 'download_failed'"
                             ).fetchone()[0]  # the server's empty PDF is asked for again
        assert cl.log.tally(kind="storage") == downloads + failed
        assert "testing-secret" not in log
