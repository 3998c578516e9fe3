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
# Tests write nothing outside build/ and .venv/: hypothesis keeps its cache under build/.
export HYPOTHESIS_STORAGE_DIRECTORY := $(abspath build/hypothesis)

LESSONS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
NBVAL   := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: help setup run test lab clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv and install requirements (fast when already done)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

run: setup  ## execute every lesson headless into build/ (notebooks and HTML); notebooks/ is untouched
	$(PY) tools/run_lessons.py --out build $(LESSONS)

test: setup  ## unit tests, doctests, then nbval over every notebook (stored outputs must match)
	$(PY) -m pytest tests src
	$(PY) -m pytest $(NBVAL) notebooks

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
