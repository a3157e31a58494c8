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

bench: setup
	$(PY) bench/run.py
	$(PY) bench/login_timing.py

# mypy needs the import name on disk: a link named tornado_socketio_jwt.
LINT_STAMP := $(VENV)/.lint-installed
LINT_PATH := build/lint
LINTED := handlers server.py tests bench

$(LINT_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,lint]"
	mkdir -p $(LINT_PATH) && ln -sfn ../../handlers $(LINT_PATH)/tornado_socketio_jwt
	touch $@

lint: setup $(LINT_STAMP)
	$(PY) -m ruff format --check $(LINTED)
	$(PY) -m ruff check $(LINTED)
	MYPYPATH=$(LINT_PATH) $(PY) -m mypy -p tornado_socketio_jwt -p tests
	MYPYPATH=$(LINT_PATH) $(PY) -m mypy server.py bench
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache *.egg-info build
