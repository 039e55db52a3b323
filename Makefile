# Reproduce the SMI analysis. `make reproduce` does everything from a fresh clone;
# `make test` runs the test suite (the command CI runs).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON_BASE ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SMI := $(VENV)/bin/smi
PAPERMILL := $(VENV)/bin/papermill
KERNEL := smi
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
STAMP := $(VENV)/.installed

.PHONY: help setup data corpus reproduce notebooks fit test test-fast lint bench lab labrun experiments book clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (smi)"
	touch $(STAMP)

setup: $(STAMP) ## virtual environment in .venv with the package, torch 2.13.0 (CPU) and the Jupyter kernel

data: setup ## fetch the releases into data/external (mirror: $$SMI_DATA_MIRROR or ../shared/data) and check SHA256
	$(SMI) data fetch

corpus: setup ## write the vital-article corpus to data/corpus/vital_en.jsonl
	$(SMI) corpus vital-articles --out data/corpus/vital_en.jsonl

fit: data ## results/r2_bucketed.csv, r2_per_fact.csv and r2_table.md
	$(SMI) fit --out results

.PHONY: panels
panels: data ## notebook 04's 72 per-model panels and the grid of all models, into figures/ (PNG and PDF)
	$(SMI) panels --out figures

# Each notebook runs into build/notebooks; only a run that succeeds replaces the committed notebook
# (with its per-run metadata stripped), so a failure leaves notebooks/ as it was. Two run at a time
# (NOTEBOOK_JOBS), the longest (06) first.
NOTEBOOK_JOBS ?= 2
notebooks: data corpus ## execute every notebook in place with papermill (full mode): committed outputs, figures/, results/
	@mkdir -p build/notebooks figures results
	@printf '%s\n' $(filter %06_prediction.ipynb,$(NOTEBOOKS)) $(filter-out %06_prediction.ipynb,$(NOTEBOOKS)) | \
	  xargs -P $(NOTEBOOK_JOBS) -I NB sh -c '\
	    run=build/notebooks/$$(basename NB); echo "papermill NB"; \
	    $(PAPERMILL) --cwd notebooks -k $(KERNEL) --no-progress-bar NB $$run > $$run.log 2>&1 \
	      || { echo "NB failed: see $$run.log"; exit 255; }; \
	    $(SMI) notebook clean $$run && cp $$run NB && echo "done NB"'

labrun: setup ## the knowledge lab at full size (3 seeds, 4 sizes) in build/lab; its tables for notebook 07 into notebooks/results/lab
	$(SMI) lab run --out build/lab --no-progress --export notebooks/results/lab

EXPERIMENTS := capacity diversity forgetting holdout

experiments: setup ## the lab's controlled experiments at full size (not part of reproduce): tables for notebook 08 into notebooks/results/experiments
	@for name in $(EXPERIMENTS); do \
	  $(SMI) lab experiment $$name --out build/experiments/$$name --export notebooks/results/experiments/$$name || exit $$?; \
	done

reproduce: fit labrun notebooks panels ## everything: venv, data, the lab, all notebooks, the per-model panels, figures and tables
	@echo "figures: $$(ls figures/*.png 2>/dev/null | wc -l) PNG, $$(ls figures/*.pdf 2>/dev/null | wc -l) PDF; tables in results/"

test: data corpus ## the whole test suite (what CI runs): unit, integration on the released data, nbval on every committed notebook
	$(PY) -m pytest

test-fast: data corpus ## the suite without the tests marked slow (nbval's notebook reruns, long runs): for development
	$(PY) -m pytest -m "not slow"

LINTED := lib tests bench
lint: setup ## ruff check and ruff format --check on lib, tests and bench; the package's layers contract (lint-imports); all in pyproject.toml
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/lint-imports

bench: data corpus ## speed benchmarks in bench/ (ratios measured side by side)
	@for script in $(sort $(wildcard bench/*.py)); do echo "== $$script"; $(PY) $$script || exit 1; done

# JupyterLab serves the whole project (notebooks/ with their outputs, figures/, results/) and opens
# notebooks/. As root (containers) it needs --allow-root. More options: make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: setup ## open the executed notebooks in JupyterLab with the project's kernel (LAB_ARGS: more options)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --ServerApp.default_url=/lab/tree/notebooks $(LAB_ROOT) $(LAB_ARGS)

# The book: the README and the committed notebooks as a static website (Sphinx, MyST-NB, sphinx-book-theme),
# rendered from the committed outputs without running a notebook; -W: any warning fails the build.
book: setup ## the website of the executed notebooks in build/book (open build/book/index.html)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs build/book

clean: ## remove generated outputs (keeps the venv and fetched data)
	rm -rf build docs/notebooks results figures/*.png figures/*.pdf
