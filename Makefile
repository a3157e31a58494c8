# make run: set up, then serve on http://127.0.0.1:9000.  make test: set up, then test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENDOR := static/vendor/socket.io.esm.min.js
NODE_STAMP := node_modules/.package-lock.json

.PHONY: setup run test bench lint clean

setup: $(STAMP) $(VENDOR)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The official socket.io-client, copied from the pinned npm package so
# Tornado serves it under /client/vendor/ (no CDN).
$(VENDOR): $(NODE_STAMP)
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.esm.min.js \
	   node_modules/socket.io-client/dist/socket.io.esm.min.js.map static/vendor/

run: setup
	$(PY) server.py

test: setup
	$(PY) -m pytest

# The bench's extras (matplotlib, py-spy) install here only, never for make test.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[bench]"
	touch $@

# Servers side by side, expiry timers, login timing; under ten minutes on
# 2 cores. BENCH_ARGS=--quick for a short run.
bench: setup $(BENCH_STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

lint: setup
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[lint]"
	$(PY) -m black --check handlers server.py tests bench
	$(PY) -m flake8 handlers server.py tests bench
	$(PY) -m mypy handlers server.py

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache *.egg-info
