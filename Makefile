# Two commands for a newcomer: `make demo` (install, crawl the replica portal into archive/) and
# `make test` (install, lint, run the whole suite). Everything installs into .venv from pyproject.toml.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARCHIVE ?= archive
# A fixed port keeps the replica's URLs stable, so a second `make demo` is an incremental crawl.
DEMO_PORT ?= 8765
# Politeness relaxed for loopback only: the replica is ours and on this machine.
LOOPBACK := -s AUTOTHROTTLE_ENABLED=False -s DOWNLOAD_DELAY=0 -s CONCURRENT_REQUESTS_PER_DOMAIN=16

# `make browse`: Datasette on the archive's article store (http://127.0.0.1:$(BROWSE_PORT)/).
BROWSE_PORT ?= 8001

.PHONY: install chromium redis postgresql demo browse test lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# pywb replays our WARCs in the tests; it pins pyOpenSSL and brings brotlipy (which shadows
	# Brotli), so it gets a virtualenv of its own inside $(VENV).
	$(PYTHON) -m venv $(VENV)/pywb
	$(VENV)/pywb/bin/python -m pip install --quiet 'pywb>=2.10'
	touch $@

install: $(VENV)/.installed chromium redis postgresql

# The browse tests drive Debian's headless Chromium; as root (CI) it is installed when missing.
chromium:
	if command -v chromium > /dev/null && command -v chromedriver > /dev/null; then exit 0; fi
	if [ "$$(id -u)" != 0 ]; then
	  echo "chromium/chromedriver missing: sudo apt-get install chromium chromium-driver" \
	    "(the browser tests are skipped without them)" >&2
	  exit 0
	fi
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	  chromium chromium-driver

# The many-workers tests (REDIS_URL) start a private redis-server; as root (CI) it is installed
# when missing.
redis:
	if command -v redis-server > /dev/null; then exit 0; fi
	if [ "$$(id -u)" != 0 ]; then
	  echo "redis-server missing: sudo apt-get install redis-server" \
	    "(the many-workers tests are skipped without it)" >&2
	  exit 0
	fi
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server

# The PostgreSQL store's tests start a private cluster from Debian's binaries
# (/usr/lib/postgresql/<version>/bin); as root (CI) they are installed when missing.
postgresql:
	if command -v pg_ctl > /dev/null || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" > /dev/null
	then exit 0; fi
	if [ "$$(id -u)" != 0 ]; then
	  echo "PostgreSQL missing: sudo apt-get install postgresql" \
	    "(the PostgreSQL store tests are skipped without it, unless CI is set)" >&2
	  exit 0
	fi
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql

demo: install
	mkdir -p $(ARCHIVE)
	rm -f $(ARCHIVE)/.replica-port
	$(BIN)/python -m tests.replica --port $(DEMO_PORT) --port-file $(ARCHIVE)/.replica-port > /dev/null &
	replica=$$!
	trap 'kill $$replica 2>/dev/null || true' EXIT
	for _ in $$(seq 100); do [ -s $(ARCHIVE)/.replica-port ] && break; sleep 0.1; done
	[ -s $(ARCHIVE)/.replica-port ] || { echo "The replica could not listen on 127.0.0.1:$(DEMO_PORT) (in use?): try make demo DEMO_PORT=8766" >&2; exit 1; }
	origin=http://127.0.0.1:$$(cat $(ARCHIVE)/.replica-port)/
	echo "Replica portal at $$origin; crawling it into $(ARCHIVE)/"
	$(BIN)/scrapy crawl baonamdinh -a base_url=$$origin -s ARCHIVE_DIR=$(ARCHIVE) $(LOOPBACK) -L WARNING
	$(BIN)/scrapy export -s ARCHIVE_DIR=$(ARCHIVE) --format jsonl --output $(ARCHIVE)/articles.jsonl
	$(BIN)/scrapy report -s ARCHIVE_DIR=$(ARCHIVE)

browse: install
	$(BIN)/scrapy browse -s ARCHIVE_DIR=$(ARCHIVE) --port $(BROWSE_PORT)

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(ARCHIVE) .pytest_cache .ruff_cache
