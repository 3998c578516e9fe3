# The two commands a newcomer needs: `make run` (execute every lesson) and `make test` (all tests).
# Both create .venv on first use; later runs skip the install (the stamp is newer than its inputs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# nbgrader, Playwright, ruff: for make test, exercises and check-render; make run/lab need none.
DEV_STAMP := $(VENV)/.installed-dev
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
EXERCISES := $(sort $(wildcard notebooks/exercises/[0-9]*_exercises.ipynb))
# reveal.js (decks) and axe-core (check-render): from npm into build/vendor/, never committed.
REVEAL_JS := reveal.js@5.2.1
AXE_CORE  := axe-core@4.14.1
VENDOR    := build/vendor
VENDOR_STAMP := $(VENDOR)/.installed-$(REVEAL_JS)-$(AXE_CORE)
NBVAL   := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: help setup setup-dev run test lab clean distclean exercises

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv and install requirements (fast when already done)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

setup-dev: $(DEV_STAMP)  ## also the tools for tests and instructors (requirements-dev.txt)

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

run: setup  ## execute every lesson into build/run/ (notebooks + offline HTML); notebooks/ untouched
	$(PY) tools/run_lessons.py --out build/run $(LESSONS)

test: setup-dev  ## unit tests, doctests, then nbval over every notebook (stored outputs must match)
	$(PY) -m pytest tests src
	$(PY) -m pytest $(NBVAL) notebooks

exercises: setup-dev  ## regenerate notebooks/exercises from notebooks/solutions (executes both)
	$(PY) tools/make_exercises.py

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

# For instructors: the lessons as an offline HTML site (Python only: the math is MathML) and
# reveal.js decks, both made from the committed notebooks (not re-executed), and a check that opens
# them in headless Chromium. reveal.js and axe-core come from npm into build/vendor/ (never
# committed); the decks load reveal.js from a copy next to them, so everything opens offline.
SOLUTIONS ?=
# Root installs a missing npm/chromium with apt-get; anyone else gets a one-line hint.
ROOT_OR_HINT = [ "$$(id -u)" = 0 ] || { echo "$(1): install it (sudo apt-get install $(2))" >&2; \
	exit 1; }

.PHONY: html slides check-render

$(VENDOR_STAMP):
	@command -v npm >/dev/null || { $(call ROOT_OR_HINT,make slides needs npm for reveal.js,npm); \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	npm install --prefix $(VENDOR) --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
		$(REVEAL_JS) $(AXE_CORE)
	@touch $@

html: setup  ## the lessons as a static site: build/html/index.html (offline; SOLUTIONS=1 adds them)
	rm -rf build/html
	$(PY) tools/build_site.py html --out build/html $(LESSONS) $(EXERCISES) \
		$(if $(SOLUTIONS),$(sort $(wildcard notebooks/solutions/[0-9]*_solutions.ipynb)))

slides: setup html $(VENDOR_STAMP)  ## a reveal.js deck per lesson: build/slides/NN_name.slides.html
	$(PY) tools/build_site.py slides --out build/slides --vendor $(VENDOR)/node_modules \
		$(LESSONS) $(EXERCISES)

check-render: setup-dev html slides  ## site, decks, build/run/html in headless Chromium; PDFs
	@test -x /usr/bin/chromium || { $(call ROOT_OR_HINT,check-render needs Debian's chromium,chromium); \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(PY) tools/check_render.py --html build/html --slides build/slides $(LESSONS) $(EXERCISES) \
		--links $(wildcard build/run/html)

# Per-step cost of the trainers against a NumPy bandwidth floor, lesson wall times against a bare
# kernel, the nbval run, and `make setup` from nothing: a table on stdout and in build/bench.md.
# BENCH_SETUP=0 skips timing `make setup` (a minute or two); BENCH_OPTS=--quick is a smoke run.
BENCH_OPTS ?=
.PHONY: bench
bench: setup  ## benchmarks against their floors -> build/bench.md (BENCH_SETUP=0 skips the setup timing)
	$(PY) benchmarks/bench.py --out build/bench.md $(BENCH_OPTS)
