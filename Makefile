# Every target creates or refreshes .venv itself: a fresh clone needs nothing installed by hand.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mlaudit demo --out ./mlaudit-demo

test: $(STAMP)
	$(PY) -m pytest -n 2 -q -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/ledger.py
	bash bench/setup_peers.sh
	$(PY) bench/drift.py

clean:
	rm -rf $(VENV) mlaudit-demo .pytest_cache
