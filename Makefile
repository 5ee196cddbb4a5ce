# Docket Archive. `make archive` then `make serve`; `make test`; `make bench`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= archive/dockets.db
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng qpdf ghostscript chromium redis-server nodejs npm

.PHONY: archive serve test bench soak demo deps clean-venv lock

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/pip install -q -r requirements-test.txt
	touch $@

# the accessibility checker the tests run in Chromium (axe-core, pinned in package-lock.json)
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install nodejs npm (make deps)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

## archive: set up .venv and crawl the default case into $(DB)
archive: $(VENV)/.installed
	$(PY) -m archive crawl-default --db $(DB)

## serve: Datasette on http://127.0.0.1:8001, read-only (SERVE_OPTS="--immutable", limits: see README)
SERVE_OPTS ?=
serve: $(VENV)/.installed
	$(PY) -m archive serve --db $(DB) --port 8001 $(SERVE_OPTS)

## test: the whole test suite (local servers on 127.0.0.1, no network), in one process per
## core and one more (pytest-xdist: the crawl tests wait on their subprocesses part of the
## time), tests handed out one by one so that no long file holds up the end
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
test: $(VENV)/.test-installed
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist load

## bench: crawl, parser, extraction, public-archive, worker, writer and update benchmarks (results in bench/results/)
bench: $(VENV)/.test-installed
	$(PY) bench/bench_crawl.py
	$(PY) bench/bench_parsers.py
	$(PY) bench/bench_pdf.py
	$(PY) bench/bench_site.py
	$(PY) bench/bench_workers.py
	$(PY) bench/bench_writer.py
	$(PY) bench/bench_public.py
	$(PY) bench/bench_update.py

## soak: crawls killed and restarted against servers injecting faults, PACER purchases
## killed at random and on a full disk (bench/soak.py, about ten minutes), then an
## extraction worker killed mid-document (bench/soak_workers.py); both run, and it fails
## if either does; SOAK_OPTS for soak.py
SOAK_OPTS ?=
soak: $(VENV)/.test-installed
	$(PY) bench/soak.py $(SOAK_OPTS); crawls=$$?; \
	$(PY) bench/soak_workers.py; workers=$$?; \
	exit $$(( crawls || workers ))

## demo: crawl the default case from local servers that replay real pages (no network)
demo: $(VENV)/.test-installed
	$(PY) -m tests.servers.demo --db archive/demo.db

## deps: Debian packages for OCR, PDF repair, the browser and accessibility tests and the extraction queue (needs root)
deps:
	apt-get update -qq && apt-get install -y -qq $(APT_PACKAGES)

clean-venv:
	rm -rf $(VENV)

## lock: requirements.txt and requirements-test.txt resolved afresh from pyproject.toml's ranges
lock:
	PYTHON=$(PYTHON) .ci/lock
