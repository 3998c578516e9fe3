# The two commands a newcomer needs: `make run` (execute every lesson) and `make test` (all tests).
# Both create .venv on first use; later runs skip the install (the stamp is newer than its inputs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# nbgrader, Playwright, ruff, xdist: for make test, exercises and the checks; make run/lab need none.
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

.PHONY: help setup setup-dev run test lab clean distclean exercises refresh test-portable stress

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Jupyter's settings for this project live in the package, src/gdlessons/jupyter_settings/, and
# `python -m gdlessons.lab --settings-only` copies them into .venv (as `python -m gdlessons.lab`
# does into any environment without make, and repo2docker's postBuild into a hub's image), where
# every `jupyter lab` and every kernel started from .venv reads them: kernels on IPC sockets, what
# the RISE slideshow loads, JupyterLab defaults (no "Jupyter news?" pop-up), and the kernels' figure
# display. See the comments in each file.
JUPYTER_SETTINGS := $(VENV)/.jupyter-settings

setup: $(STAMP) $(JUPYTER_SETTINGS)  ## create .venv and install requirements (fast when already done)

$(STAMP): requirements.txt pyproject.toml jupyter-env/jupyterlab-mathjax3-stub/pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(JUPYTER_SETTINGS): $(wildcard src/gdlessons/jupyter_settings/*) src/gdlessons/lab.py | $(STAMP)
	$(PY) -m gdlessons.lab --settings-only
	@touch $@

setup-dev: $(DEV_STAMP)  ## also the tools for tests and instructors (requirements-dev.txt)

# nbgrader is here for make exercises and make grade: its pages and menus are not for the students'
# JupyterLab, so its Lab and server extensions are switched off in .venv (README, Grading a class:
# formgrader switched on for one server).
$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null 2>&1
	for part in formgrader validate_assignment assignment_list course_list; do \
		$(VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.$$part >/dev/null 2>&1; done
	@touch $@

run: setup  ## execute every lesson into build/run/ (notebooks + offline HTML); notebooks/ untouched
	$(PY) -m tools.run_lessons --out build/run $(LESSONS)

# One pytest run on every core: unit tests, doctests, and nbval over every notebook (each cell run
# twice and compared with its stored outputs both times, see conftest.py); ruff first, it is quick.
TEST_WORKERS ?= auto
test: setup setup-dev  ## lint, unit tests, doctests, and every notebook re-executed against its stored outputs
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check --quiet .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(NBVAL) --ignore=tests/browser tests src notebooks

# Instructors: grade a class's exercise notebooks, SUBMISSIONS/STUDENT_ID/NN_name_exercises.ipynb,
# with nbgrader (autograde, gradebook, feedback, formgrader) in a sandbox (no network, time and
# memory limits); build/grades/ becomes the nbgrader course.
SUBMISSIONS ?=
GRADE_OPTS ?=
.PHONY: grade
grade: setup setup-dev  ## autograde SUBMISSIONS=dir/ on nbgrader -> build/grades/ (gradebook.db, CSV, feedback)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=path/to/submitted  (one folder per student)" >&2; exit 2; }
	$(PY) -m tools.grade $(SUBMISSIONS) --out build/grades $(GRADE_OPTS)

# nbgrader's formgrader (score the written answers, read the flags) on the course make grade built:
# a Jupyter server on the loopback interface with the extension on for this server only.
.PHONY: formgrader
formgrader: setup-dev  ## nbgrader's formgrader on build/grades/ (after make grade): open the URL it prints
	@test -f build/grades/nbgrader_config.py || { echo "no course in build/grades/: run make grade SUBMISSIONS=dir/ first" >&2; exit 2; }
	cd build/grades && ../../$(VENV)/bin/jupyter server --ServerApp.ip=127.0.0.1 \
	    --ServerApp.jpserver_extensions="{'nbgrader.server_extensions.formgrader': True}" \
	    --ServerApp.default_url=/formgrader

# After editing a lesson: its outputs, slide metadata and exercises in one command. First the module
# gdlessons.engine, made from lesson 02's cells tagged engine, which exercise set 02 imports.
refresh: SOLUTION = $(wildcard notebooks/solutions/$(LESSON)_*_solutions.ipynb)
refresh: setup-dev  ## re-execute a lesson, re-tag its slides, regenerate its exercises: make refresh LESSON=05
	@test -n "$(LESSON)" || { echo "usage: make refresh LESSON=05  (the lesson's number)" >&2; exit 2; }
	@test -n "$(wildcard notebooks/$(LESSON)_*.ipynb)" || { echo "no lesson notebooks/$(LESSON)_*.ipynb: \
	LESSON is a lesson's two-digit number, e.g. LESSON=05" >&2; exit 2; }
	$(PY) -m tools.make_engine
	$(PY) -m tools.run_lessons --in-place --timeout 300 $(wildcard notebooks/$(LESSON)_*.ipynb)
	$(PY) -m tools.tag_slides $(wildcard notebooks/$(LESSON)_*.ipynb)
	$(if $(SOLUTION),$(PY) -m tools.make_exercises $(SOLUTION))

# Concurrent torchrun jobs of gdlessons.ddp_train (pairs at a time, as two students on one server):
# every rank must exit cleanly. make test runs 3 pairs; this runs STRESS_PAIRS (about 8 s a pair).
STRESS_PAIRS ?= 20
stress: setup setup-dev  ## STRESS_PAIRS=20 pairs of concurrent torchrun jobs, none may fail
	STRESS_PAIRS=$(STRESS_PAIRS) $(PY) -m pytest -q tests/test_ddp_train.py -k concurrent

# Every notebook against its stored outputs with the kernel on an emulated older CPU (QEMU, no
# AVX), then natively with torch's default kernels and OMP_NUM_THREADS unset: the stored digits
# must be those every machine computes. Installs Debian's qemu-user-static when root.
test-portable: setup setup-dev  ## every notebook's outputs on an emulated older CPU and other settings
	@command -v qemu-x86_64-static >/dev/null || { $(call ROOT_OR_HINT,test-portable needs QEMU,qemu-user-static); \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static; }
	$(PY) -m tools.test_portable

exercises: setup-dev  ## regenerate notebooks/exercises from notebooks/solutions (executes both)
	$(PY) -m tools.make_exercises

# Where students are (README: Without make, On a JupyterHub): the README's Linux/macOS
# commands run literally in a fresh copy of the tracked files, with a fresh .venv, then one lesson;
# the wheel installed beside a server's pinned torch changes no installed package, and every lesson
# and exercise notebook runs alone in an empty folder from it. Two test files on two workers;
# fresh environments under build/test-install/, from the local wheels pip finds (about 4 minutes).
.PHONY: test-install
test-install: setup setup-dev  ## README's no-make commands, the wheel beside torch, each notebook alone
	GDLESSONS_TEST_INSTALL=1 $(PY) -m pytest -n 2 --dist loadfile tests/test_readme_commands.py tests/test_wheel_alone.py

# Not in CI: downloads from PyPI and takes several minutes. Two throwaway environments under
# build/compat/ (oldest declared and newest numpy/matplotlib, the pinned torch): unit tests and
# every notebook executed (not compared) in each, as two nox sessions; see noxfile.py.
.PHONY: test-compat
test-compat: setup-dev  ## unit tests + every notebook with the oldest and newest numpy/matplotlib (not CI)
	$(VENV)/bin/nox

# JupyterLab listens on the loopback interface only and keeps its token login: the URL it prints
# carries the token. It opens the student's own working copy WORK_DIR (git-ignored my-work/), made
# from notebooks/ on first use and never overwritten; new lessons are copied in at each start. So
# running a lesson never rewrites a committed notebook, and `git pull` never conflicts.
# LAB_PORT, LAB_OPTS (e.g. --no-browser) and WORK_DIR can be set on the command line.
LAB_PORT ?= 8888
LAB_OPTS ?=
WORK_DIR ?= my-work
LESSON   ?=
.PHONY: fresh-copy check-lab
lab: setup  ## JupyterLab on 127.0.0.1 (token auth on), opened on your working copy my-work/
	@$(PY) -m tools.working_copy sync --source notebooks --dest $(WORK_DIR)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
		--ServerApp.root_dir=$(WORK_DIR) $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_OPTS)

fresh-copy:  ## a fresh copy of one lesson in my-work/ (old file kept): make fresh-copy LESSON=03
	@python3 -m tools.working_copy fresh "$(LESSON)" --source notebooks --dest $(WORK_DIR)

# JupyterLab as a student sees it, in headless Chromium (tests/browser/test_lab_browser.py):
# no "Jupyter news?" pop-up, a lesson run and shown as a RISE slideshow with rendered math, no
# console errors, no request off the machine, the dark theme. Screenshots go to build/render/.
check-lab: setup setup-dev  ## Lab + RISE in headless Chromium (no console errors); screenshots in build/render
	@$(call NEED_CHROMIUM,check-lab)
	$(BROWSER_TESTS) tests/browser/test_lab_browser.py $(BROWSER_OPTS)

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
# Debian's Chromium (tests/browser/conftest.py launches it): installed by root, a hint for anyone else.
NEED_CHROMIUM = test -x /usr/bin/chromium || { $(call ROOT_OR_HINT,$(1) needs Debian's chromium,chromium); \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

.PHONY: html slides check-render
# The browser tests, tests/browser on pytest-playwright (Debian's Chromium, launched by its
# conftest.py), on what html and slides built; screenshots and reports in build/render/. make test
# leaves them out (no build). check-render and check-explorers on two workers (xdist): a test
# mostly waits on Chromium's frames or Lab. BROWSER_OPTS adds pytest options: "-k 03_torch -n 0".
BROWSER_OPTS ?=
BROWSER_TESTS = $(PY) -m pytest --browser chromium --output build/render/playwright -q
# check-render runs in a network namespace of its own where unshare may make one: nothing leaves.
NETNS = $(shell unshare -n true 2>/dev/null && echo unshare -n)

$(VENDOR_STAMP):
	@command -v npm >/dev/null || { $(call ROOT_OR_HINT,make slides needs npm for reveal.js,npm); \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	npm install --prefix $(VENDOR) --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
		$(REVEAL_JS) $(AXE_CORE)
	@touch $@

html: setup  ## the lessons as a static site: build/html/index.html (offline; SOLUTIONS=1 adds them)
	rm -rf build/html
	$(PY) -m tools.build_site html --out build/html $(LESSONS) $(EXERCISES) \
		$(if $(SOLUTIONS),$(sort $(wildcard notebooks/solutions/[0-9]*_solutions.ipynb)))

slides: setup html $(VENDOR_STAMP)  ## a reveal.js deck per lesson: build/slides/NN_name.slides.html
	$(PY) -m tools.build_site slides --out build/slides --vendor $(VENDOR)/node_modules \
		$(LESSONS) $(EXERCISES)

# Every page and deck (build/run/html's too, after make run), every link, every slide at two sizes.
check-render: setup-dev html slides  ## site, decks, build/run/html in headless Chromium; PDFs
	@$(call NEED_CHROMIUM,check-render)
	$(NETNS) $(BROWSER_TESTS) -n 2 tests/browser/test_render_browser.py $(BROWSER_OPTS)

# The explorers (gdlessons.explorers) in headless Chromium, offline: on the lesson pages and decks,
# and their cells (stored outputs) in JupyterLab; every slider moved by keyboard, the drawn data
# compared with the trainers' runs; every control at every value, its marks inside their plots.
# Screenshots in build/render/ (tests/browser/test_explorer*_browser.py).
.PHONY: check-explorers
check-explorers: setup setup-dev html slides  ## the explorers' sliders in Chromium (page, deck, Lab); shots in build/render
	@$(call NEED_CHROMIUM,check-explorers)
	$(BROWSER_TESTS) -n 2 tests/browser/test_explorer*_browser.py $(BROWSER_OPTS)

# What users wait for against its floor: make test against executing every notebook once, each
# lesson against a bare kernel with its imports, make setup from nothing; medians of 3 interleaved
# rounds (about 30 minutes) in build/bench.md. BENCH_SETUP=0 skips make setup; BENCH_OPTS=--quick.
BENCH_OPTS ?=
.PHONY: bench
bench: setup  ## make test, lessons and setup against their floors -> build/bench.md (~30 min)
	$(PY) -m benchmarks.bench --out build/bench.md $(BENCH_OPTS)
