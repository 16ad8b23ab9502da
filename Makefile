# Two commands set everything up on a fresh machine with Python 3.11:
#   make demo   -- create .venv, install, run the main job
#   make test   -- create .venv if needed, run the whole test suite (lint, unit, notebooks)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser test drives JupyterLab in Debian's Chromium (never a downloaded browser).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup demo test fuzz faults browser bench study lab present panel-run weights notebooks clean

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/adnet-lab demo

browser:
	@test -x $(CHROMIUM) || { command -v apt-get > /dev/null \
	  && $(SUDO) apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium > /dev/null; } \
	  || echo "Chromium could not be installed: the browser test (-m browser) will be skipped"

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest --nbval-lax tests adnet_lab notebooks

# Every file reader against 2,000 generated and mutated files each (tests/test_fuzz_readers.py;
# make test runs 150).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q tests/test_fuzz_readers.py

# Every fault of tests/faults/ (kills, full disks, damaged files: docs/usage.md's table), each
# at its own random point; make test runs one of each kind.
faults: $(STAMP)
	FAULTS_TIER=long $(BIN)/python -m pytest -q tests/faults

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/training_loop.py

# The ablation study of docs/ablation.md (about 85 minutes on 2 cores; resumable): runs into
# runs/ablation/, then rewrites docs/ablation/ (tables, CSVs, figures).
study: $(STAMP)
	$(BIN)/python -m adnet_lab.studies.study

weights: $(STAMP)
	$(BIN)/python -m adnet_lab.studies.demo

# Builds each notebooks/NN_name.ipynb from its source notebooks/NN_name.py (jupytext percent
# format) and redraws the README's figures, then executes the notebooks in place (they are
# committed with their outputs).
notebooks: $(STAMP)
	$(BIN)/python notebooks/build_notebooks.py
	cd notebooks && ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace *.ipynb

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Presentation mode: the notebooks as apps (outputs and live widgets, no code) with Voila on
# http://127.0.0.1:8866, reachable from this machine only.
present: $(STAMP)
	$(BIN)/voila --no-browser --Voila.ip=127.0.0.1 --port=8866 notebooks/

# The training panel's default run shown in notebook 3 (about 7 minutes on 2 cores):
# rewrites docs/figures/panel_run.{png,json}.
panel-run: $(STAMP)
	$(BIN)/python -m adnet_lab.studies.panel

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
