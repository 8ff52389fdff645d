# Every target creates or refreshes what it needs: a fresh clone needs nothing installed by hand.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NODE   := tests/.node
SYSDEP := $(VENV)/.system-deps

.PHONY: demo test lint bench install system-deps clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Test-only tools outside PyPI: Debian's Chromium (browser tests; needs root and apt) and the
# Azurite storage emulator from npm. Where they cannot be installed (no root, no npm), the
# tests that need them skip with the reason — or fail when CI=true.
$(SYSDEP): $(STAMP)
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will not run"; \
	  else echo "note: chromium missing and not root: browser tests will skip"; fi; \
	fi
	@if [ ! -d $(NODE)/node_modules/azurite ]; then \
	  if command -v npm >/dev/null 2>&1; then \
	    npm install --silent --no-audit --no-fund --prefix $(NODE) azurite@3 >/dev/null \
	      || echo "warning: could not install azurite; Azure tests will not run"; \
	  else echo "note: npm missing: Azure tests will skip"; fi; \
	fi
	touch $(SYSDEP)

system-deps: $(SYSDEP)

demo: $(STAMP)
	$(VENV)/bin/mlaudit demo --out ./mlaudit-demo

test: $(STAMP) $(SYSDEP)
	$(PY) -m pytest -n 2 -q -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/ledger.py
	$(PY) bench/lineage.py
	bash bench/setup_peers.sh
	$(PY) bench/drift.py --tools mlaudit,scipy,evidently,nannyml,nannyml-1chunk,whylogs --mlaudit-10m --repeat 3
	$(PY) bench/estimation.py --repeat 5
	$(PY) bench/report_size.py --rows 1000000 --repeat 5 --out docs/benchmarks-reports.md

clean:
	rm -rf $(VENV) $(NODE) mlaudit-demo .pytest_cache
