# The two commands a newcomer needs: `make run` (execute every lesson) and `make test` (all tests).
# Both create .venv on first use; later runs skip the install (the stamp is newer than its inputs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The lesson kernels are started from this environment: its python must come first on PATH, and
# PYTHONHASHSEED is fixed so that nothing a kernel prints depends on hash randomization.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHONHASHSEED := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1
# The lessons train tiny models: one torch/BLAS thread is fastest, and cells never wait on a busy core.
export OMP_NUM_THREADS := 1
# Tests write nothing outside build/ and .venv/: hypothesis keeps its cache under build/.
export HYPOTHESIS_STORAGE_DIRECTORY := $(abspath build/hypothesis)

LESSONS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
# reveal.js and MathJax for the offline pages: installed from npm into build/vendor/, never committed.
REVEAL_JS := reveal.js@5.2.1
MATHJAX   := mathjax@3.2.2
VENDOR    := build/vendor
VENDOR_STAMP := $(VENDOR)/.installed-$(REVEAL_JS)-$(MATHJAX)
NBVAL   := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: help setup run test lab clean distclean exercises

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv and install requirements (fast when already done)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

run: setup $(VENDOR_STAMP)  ## execute every lesson headless into build/run/ (notebooks + offline HTML); notebooks/ untouched
	$(PY) tools/run_lessons.py --out build/run --vendor $(VENDOR)/node_modules $(LESSONS)

test: setup  ## unit tests, doctests, then nbval over every notebook (stored outputs must match)
	$(PY) -m pytest tests src
	$(PY) -m pytest $(NBVAL) notebooks

exercises: setup  ## regenerate notebooks/exercises from notebooks/solutions (executes both)
	$(PY) tools/make_exercises.py

# Not in CI: downloads from PyPI and takes several minutes. Two throwaway environments under
# build/compat/ (oldest declared and newest numpy/matplotlib, the pinned torch): unit tests and
# every notebook executed (not compared) in each; see tools/test_compat.py for what is left out.
.PHONY: test-compat
test-compat:  ## unit tests + every notebook with the oldest and newest numpy/matplotlib (not CI)
	python3 tools/test_compat.py

# JupyterLab listens on the loopback interface only and keeps its token login: the URL it prints
# carries the token. LAB_PORT and LAB_OPTS (e.g. --no-browser) can be set on the command line.
LAB_PORT ?= 8888
LAB_OPTS ?=
lab: setup  ## JupyterLab on 127.0.0.1 (token auth on), opened on notebooks/
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
		--ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_OPTS)

clean:  ## remove build outputs and caches (keeps .venv)
	rm -rf build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean  ## also remove .venv
	rm -rf $(VENV)

# For instructors: the lessons as an offline HTML site and reveal.js slide decks, both made from the
# committed notebooks (not re-executed), and a check that opens them in headless Chromium. reveal.js
# and MathJax are installed from npm into build/vendor/ (never committed); every page loads them from
# files next to it, so build/html/ and build/slides/ open from the file system with no network.
EXERCISES := $(sort $(wildcard notebooks/exercises/[0-9]*.ipynb))
SOLUTIONS ?=

.PHONY: html slides check-render

$(VENDOR_STAMP):
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	npm install --prefix $(VENDOR) --no-save --no-package-lock --no-audit --no-fund --loglevel=error $(REVEAL_JS) $(MATHJAX)
	@touch $@

html: setup $(VENDOR_STAMP)  ## the lessons as a static site: build/html/index.html (offline; SOLUTIONS=1 adds them)
	$(PY) tools/build_site.py html --out build/html --vendor $(VENDOR)/node_modules $(LESSONS) \
		--extra $(EXERCISES) $(if $(SOLUTIONS),$(sort $(wildcard notebooks/solutions/[0-9]*.ipynb)))

slides: setup $(VENDOR_STAMP)  ## a reveal.js deck per lesson: build/slides/NN_name.slides.html (offline)
	$(PY) tools/build_site.py slides --out build/slides --vendor $(VENDOR)/node_modules $(LESSONS) \
		--extra $(EXERCISES) --site ../html

check-render: setup html slides  ## check site and decks in headless Chromium (math, images, no network); PDFs in build/pdf
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(PY) tools/check_render.py --html build/html --slides build/slides --shots build/render --pdf build/pdf $(LESSONS)

# Per-step cost of the trainers against a NumPy bandwidth floor, lesson wall times against a bare
# kernel, the nbval run, and `make setup` from nothing: a table on stdout and in build/bench.md.
# BENCH_SETUP=0 skips timing `make setup` (a minute or two); BENCH_OPTS=--quick is a smoke run.
BENCH_OPTS ?=
.PHONY: bench
bench: setup  ## benchmarks against their floors -> build/bench.md (BENCH_SETUP=0 skips the setup timing)
	$(PY) benchmarks/bench.py --out build/bench.md $(BENCH_OPTS)
