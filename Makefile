# make run: set up what running needs, then serve on http://127.0.0.1:9000 (no Node:
#   the socket.io-client bundle is vendored in static/vendor/).
# make test: set up with the test extras (and npm ci, to check the vendored bundle), then test.
# make docs: build the documentation site into build/site, in strict mode.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
NODE_STAMP := node_modules/.package-lock.json
# The official socket.io-client, vendored in static/vendor/ so that the wheel and
# the sdist build without Node; it must equal the npm lock file's copy.
BUNDLE := socket.io.esm.min.js socket.io.esm.min.js.map
NODE_DIST := node_modules/socket.io-client/dist
VENDOR_DIR := static/vendor

.PHONY: setup run test bench lint docs clean vendor vendor-check

setup: $(TEST_STAMP) vendor-check

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): setup.cfg pyproject.toml | $(PY)
	$(PIP) -e ".[speed]"
	touch $@

$(TEST_STAMP): setup.cfg pyproject.toml | $(PY)
	$(PIP) -e ".[test,speed]"
	touch $@ $(RUN_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

vendor-check: $(NODE_STAMP)
	@for f in $(BUNDLE); do \
	  cmp -s $(NODE_DIST)/$$f $(VENDOR_DIR)/$$f || { \
	    echo "$(VENDOR_DIR)/$$f differs from the npm lock file's: run make vendor"; \
	    exit 1; }; \
	done

# After a change of the pinned version: copy the bundle, then update
# static/vendor/README.md and CHANGELOG.md.
vendor: $(NODE_STAMP)
	cp $(addprefix $(NODE_DIST)/,$(BUNDLE)) $(VENDOR_DIR)/

run: $(RUN_STAMP)
	$(PY) server.py

test: setup
	$(PY) -m pytest

# The bench's extras (matplotlib, py-spy) install here only, never for make test.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(TEST_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[bench,speed]"
	touch $@

# Servers side by side, expiry timers, login timing; under ten minutes on
# 2 cores. BENCH_ARGS=--quick for a short run.
bench: setup $(BENCH_STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

# mypy needs the import name on disk: a link named tornado_socketio_jwt.
LINT_STAMP := $(VENV)/.lint-installed
LINT_PATH := build/lint
LINTED := handlers server.py tests bench docs

$(LINT_STAMP): $(TEST_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,lint,bench,speed]"
	mkdir -p $(LINT_PATH) && ln -sfn ../../handlers $(LINT_PATH)/tornado_socketio_jwt
	touch $@

lint: setup $(LINT_STAMP)
	$(PY) -m ruff format --check $(LINTED)
	$(PY) -m ruff check $(LINTED)
	MYPYPATH=$(LINT_PATH) $(PY) -m mypy -p tornado_socketio_jwt -p tests
	MYPYPATH=$(LINT_PATH) $(PY) -m mypy server.py bench docs/generate.py docs/hooks.py
	$(VENV)/bin/lint-imports

# The site: MkDocs + Material + mkdocstrings; docs/hooks.py generates the
# configuration, API and performance pages from the code and the bench's results.
# mkdocstrings reads the sources under the import name: a link, as for lint.
DOCS_STAMP := $(VENV)/.docs-installed
DOCS_PATH := build/docs-src

$(DOCS_STAMP): setup.cfg pyproject.toml | $(PY)
	$(PIP) -e ".[docs,speed]"
	touch $@

docs: $(DOCS_STAMP)
	mkdir -p $(DOCS_PATH) && ln -sfn ../../handlers $(DOCS_PATH)/tornado_socketio_jwt
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) node_modules .pytest_cache *.egg-info build dist
