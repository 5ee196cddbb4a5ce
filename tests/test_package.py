"""The installable package (issue 19): a wheel built from the checkout, installed
into a new venv, used from another folder.

The venv sees this venv's third-party packages through a .pth line (the
dependencies are pinned in requirements.txt and installed already; building
and installing the wheel with --no-deps needs no network; their console
scripts are not in the new venv, so Datasette runs as `python -m datasette`)
but not this checkout: every import of archive, docket_spider and parsers is
the wheel's.
Then, as a user would: the `docket-archive` command, Datasette's plugin list,
`datasette` serving a public copy's pages with no option at all, an
operator's archive refused, and `datasette publish heroku --install <wheel>
--generate-dir` writing an app that installs the package (no hand copying).
"""
from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT, free_port


def run(cmd, cwd, env=None, timeout=300):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("package")
    # built from a copy of the checkout's files: setuptools builds in the source
    # folder (build/), and two test processes may build at once
    source = work / "source"
    for name in subprocess.check_output(["git", "ls-files", "-co", "--exclude-standard"],
                                        cwd=PROJECT, text=True).split("\n"):
        if name and (PROJECT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / name, source / name)
    code, out = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                     "-q", "-w", str(work / "dist"), str(source)], cwd=work)
    assert code == 0, out
    wheel = next((work / "dist").glob("docket_archive-*.whl"))
    venv = work / "venv"
    code, out = run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=work)
    assert code == 0, out
    python = venv / "bin" / "python"
    purelib = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    # this venv's packages (the pinned dependencies), after the new venv's own
    ours = [p for p in site.getsitepackages() if "site-packages" in p] or \
        [sysconfig.get_paths()["purelib"]]
    (purelib / "dependencies.pth").write_text("\n".join(ours) + "\n")
    code, out = run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                     "--no-deps", "--no-index", str(wheel)], cwd=work)
    assert code == 0, out
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {"venv": venv, "bin": venv / "bin", "wheel": wheel, "cwd": elsewhere, "env": env,
            "python": python}


def test_the_checkout_is_not_what_runs(installed):
    code, out = run([installed["python"], "-c", "import archive, docket_spider, parsers; "
                     "print(archive.__file__, docket_spider.__file__, parsers.__file__)"],
                    installed["cwd"], installed["env"])
    assert code == 0, out
    assert str(PROJECT) not in out and out.count(str(installed["venv"])) == 3


def test_the_command_and_the_plugins(installed):
    b, cwd, env = installed["bin"], installed["cwd"], installed["env"]
    code, out = run([b / "docket-archive", "--help"], cwd, env)
    assert code == 0 and "crawl" in out and "publish" in out and "serve" in out, out
    code, out = run([b / "docket-archive", "crawl", "--help"], cwd, env)
    assert code == 0 and "SPIDER" in out, out
    code, out = run([installed["python"], "-m", "datasette", "plugins"], cwd, env)
    assert code == 0, out
    plugins = json.loads(out)
    ours = [p for p in plugins if p["name"] == "docket-archive"]
    assert len(ours) == 8 and all(p["version"] for p in ours)
    assert any(p["templates"] for p in ours)  # archive/site/templates, package data
    hooks = {h for p in ours for h in p["hooks"]}
    assert {"register_routes", "prepare_connection", "asgi_wrapper", "get_metadata"} <= hooks
    # a Scrapy spider's list with no scrapy.cfg in sight: the settings module names it
    code, out = run([b / "docket-archive", "crawl", "nosuchspider"], cwd, env)
    assert code != 0 and "nosuchspider" in out


MAKE_ARCHIVE = """
from archive import db as adb
db = adb.open_db("dockets.db")
c = adb.start_crawl(db, "test", "cand", "3:20-cv-05910", {})
adb.save_docket(db, {"court_id": "cand", "docket_number": "3:20-cv-05910",
                     "case_name": "U.S. WeChat Users Alliance v. Trump"}, c)
adb.save_entry(db, {"court_id": "cand", "docket_number": "3:20-cv-05910", "entry_number": 1,
                    "date_filed": "2020-08-21", "description": "COMPLAINT"}, c)
adb.save_charge(db, {"crawl_id": c, "court_id": "cand", "what": "docket", "cost": 3.0,
                     "status": "charged"})
adb.finish_crawl(db, c, "finished", {})
adb.close_db(db)
"""


def archive_and_copy(installed, folder: Path) -> Path:
    """An archive made with the installed package in ``folder``, and its public copy."""
    folder.mkdir(exist_ok=True)
    code, out = run([installed["python"], "-c", MAKE_ARCHIVE], folder, installed["env"])
    assert code == 0, out
    code, out = run([installed["bin"] / "docket-archive", "publish", "--db", "dockets.db"],
                    folder, installed["env"])
    assert code == 0 and "public/dockets.db" in out, out
    return folder / "public" / "dockets.db"


def test_datasette_serves_the_public_copy_and_refuses_an_archive(installed):
    cwd, env = installed["cwd"], installed["env"]
    archive_and_copy(installed, cwd)
    code, out = run([installed["python"], "-m", "datasette", "dockets.db", "-p", str(free_port())],
                    cwd, env, timeout=60)
    assert code != 0 and "operator's archive" in out and "public copy" in out
    port = free_port()
    server = subprocess.Popen([installed["python"], "-m", "datasette", "public/dockets.db", "-p", str(port)], cwd=cwd,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        pages = {path: urllib.request.urlopen(base + path, timeout=30).read().decode()
                 for path in ("/", "/cases/cand/3:20-cv-05910", "/search?q=complaint",
                              "/robots.txt", "/dockets.json")}
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert "U.S. WeChat Users Alliance v. Trump" in pages["/"]
    assert "COMPLAINT" in pages["/cases/cand/3:20-cv-05910"]
    assert "1 docket entry matches" in pages["/search?q=complaint"]
    assert "Allow: /cases/" in pages["/robots.txt"]
    tables = {t["name"] for t in json.loads(pages["/dockets.json"])["tables"]}
    assert "case_index" in tables and "pacer_charges" not in tables


def test_publishing_installs_the_package(installed, tmp_path):
    """`datasette publish heroku --install <wheel> --generate-dir`: the app it writes
    installs the package and needs nothing copied by hand. (Heroku's CLI is asked
    for before anything is written: a stand-in that says it is there.)"""
    cwd, env = installed["cwd"], dict(installed["env"])
    fake = tmp_path / "bin"
    fake.mkdir()
    heroku = fake / "heroku"
    heroku.write_text("#!/bin/sh\ncase \"$1\" in plugins) echo heroku-builds ;; "
                      "*) echo heroku/9.0.0 ;; esac\n")
    heroku.chmod(0o755)
    env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
    copy = archive_and_copy(installed, cwd / "for-publishing")
    code, out = run([installed["python"], "-m", "datasette", "publish", "heroku", str(copy),
                     "--install", str(installed["wheel"]), "--generate-dir", str(tmp_path / "app")],
                    cwd, env, timeout=120)
    assert code == 0, out
    app = tmp_path / "app"
    assert (app / "dockets.db").exists()
    assert str(installed["wheel"]) in (app / "requirements.txt").read_text()
    procfile = (app / "Procfile").read_text()
    assert "datasette serve" in procfile and "--plugins-dir" not in procfile
