# Docket Archive. `make archive` then `make serve`; `make test`; `make bench`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= archive/dockets.db
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng qpdf ghostscript chromium redis-server

.PHONY: archive serve test bench soak demo deps clean-venv

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.installed
	$(VENV)/bin/pip install -q -r requirements-test.txt
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

## bench: crawl, parser, extraction, public-archive, worker and writer benchmarks (results in bench/results/)
bench: $(VENV)/.test-installed
	$(PY) bench/bench_crawl.py
	$(PY) bench/bench_parsers.py
	$(PY) bench/bench_pdf.py
	$(PY) bench/bench_site.py
	$(PY) bench/bench_workers.py
	$(PY) bench/bench_writer.py

## soak: crawls killed and restarted against servers injecting faults, PACER purchases
## killed at random and on a full disk (bench/soak.py, about ten minutes), then the
## extraction workers killed (bench/soak_workers.py, when present); SOAK_OPTS for soak.py
SOAK_OPTS ?=
soak: $(VENV)/.test-installed
	$(PY) bench/soak.py $(SOAK_OPTS)
	if [ -f bench/soak_workers.py ]; then $(PY) bench/soak_workers.py; fi

## demo: crawl the default case from local servers that replay real pages (no network)
demo: $(VENV)/.test-installed
	$(PY) -m tests.servers.demo --db archive/demo.db

## deps: Debian packages for OCR, PDF repair, the browser tests and the extraction queue (needs root)
deps:
	apt-get update -qq && apt-get install -y -qq $(APT_PACKAGES)

clean-venv:
	rm -rf $(VENV)
