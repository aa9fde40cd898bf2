# Two commands for a newcomer: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint openapi bench bench-tools clean browser interop

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	$(BIN)/matter-registry dev

# The browser tests drive Debian's chromium (a browser download by Playwright is not possible here).
# fonts-noto-cjk: without a CJK font the screenshots show boxes instead of Chinese.
# fonts-wqy-zenhei: the TrueType font embedded in the decision PDFs (service/decisions/pdf.py; the service
# needs it too); poppler-utils: pdftoppm draws a PDF's first page for the browser test.
browser:
	@{ command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && \
	   [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] && fc-list :lang=zh 2>/dev/null | grep -q .; } || { \
	  echo "installing Debian's chromium, Chinese fonts and poppler-utils for the browser tests"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk fonts-wqy-zenhei poppler-utils >/dev/null; }

# The audit interoperability test builds tests/audit/interop/verify.go against Debian's Go and
# golang.org/x/mod (GOPATH mode, nothing downloaded): a verifier of the checkpoints that is not ours.
interop:
	@{ command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/note ]; } || { \
	  echo "installing Debian's Go and golang.org/x/mod for the audit interoperability test"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq golang-go golang-golang-x-mod-dev >/dev/null; }

test: $(TEST_STAMP) browser interop
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile

# ruff; the layers: no SQL outside queries.py (tools/lint_sql.py), the import contracts of pyproject.toml
# (lint-imports). tests/test_layers.py runs the last two in `make test` as well.
lint: $(TEST_STAMP)
	$(BIN)/ruff check service tests bench tools
	$(BIN)/python tools/lint_sql.py
	$(BIN)/lint-imports --no-cache

openapi: $(STAMP)
	$(BIN)/matter-registry export-openapi openapi/openapi.json

$(BENCH_STAMP): $(TEST_STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

# The benchmarks drive Debian's wrk over loopback.
bench-tools:
	@command -v wrk >/dev/null 2>&1 || { echo "installing Debian's wrk for the benchmarks"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null; }

# `make bench ARGS=--quick` for a short smoke run; see the README's "Benchmarks (make bench)".
bench: $(BENCH_STAMP) bench-tools
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .data
