# The two commands: `make run` and `make test` (README.md). Everything else is
# what they are made of.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
MANAGE := $(PY) manage.py

# Django 6 needs Python 3.12+. Try the usual names, then pyenv's installs by
# path (the pyenv shims refuse a version that is not selected).
FIND_PYTHON := for c in python3.14 python3.13 python3.12 python3 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV); do \
	  if command -v "$$c" >/dev/null 2>&1 && "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    command -v "$$c"; exit 0; fi; \
	done; exit 1

.PHONY: run serve worker backup restore test lint format lock clean bench

$(PY):
	@python=$$($(FIND_PYTHON)) || { echo "No Python 3.12 or newer found. Install one (python.org, your package manager or pyenv) and run make again." >&2; exit 1; }; \
	echo "Creating $(VENV) with $$python"; \
	"$$python" -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: requirements/base.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements/base.txt
	@touch $@

$(VENV)/.installed-dev: requirements/dev.txt requirements/base.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@touch $@ $(VENV)/.installed-base

# Local use: DEBUG on and a throw-away secret, so nothing needs setting first.
run: export DEBUG ?= true
run: $(VENV)/.installed-base
	@$(MANAGE) migrate --noinput -v0
	@$(MANAGE) createcachetable
	@$(MANAGE) load_reference_data
	@$(MANAGE) load_programmes
	@$(MANAGE) load_timeline
	@$(MANAGE) load_official_statistics
	@$(MANAGE) create_demo_people
	@$(MANAGE) create_demo_reform_plans
	@$(MANAGE) create_demo_trusts
	@$(MANAGE) create_demo_meetings
	@$(MANAGE) create_demo_warnings_dealt_with
	@echo
	@echo "==> Open http://127.0.0.1:$(PORT)/ and sign in as camden.lns@example.org (or any person in README.md) with the password demo-tracker-2026"
	@echo
	@# The task worker (e-mails, the daily digest) beside the server; it
	@# stops when the server does (Ctrl+C), however that happens.
	@$(MANAGE) schedule_digests
	@$(MANAGE) db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) runserver 127.0.0.1:$(PORT)

# Production-style: gunicorn with config/gunicorn.conf.py. Needs SECRET_KEY (and
# usually DATABASE_URL, ALLOWED_HOSTS) in the environment.
serve: $(VENV)/.installed-base
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) load_reference_data
	$(MANAGE) load_programmes
	$(MANAGE) load_timeline
	$(MANAGE) load_official_statistics
	$(MANAGE) collectstatic --noinput -v0
	$(MANAGE) schedule_digests
	$(VENV)/bin/gunicorn config.wsgi -c config/gunicorn.conf.py

# The task worker that sends every e-mail and the daily digest: run one (or
# more) beside `make serve`, with the same environment.
worker: $(VENV)/.installed-base
	$(MANAGE) db_worker --no-reload

# Backups of the database DATABASE_URL (or SQLITE_PATH) names: SQLite with its
# online backup API, PostgreSQL with pg_dump's custom format. `make restore
# FILE=…` restores one into an empty database (authorities/backups.py).
# Run with the app's environment; without one (`make run`'s SQLite), DEBUG
# spares the need for a SECRET_KEY, which neither command uses.
FILE ?= backups/tracker-$(shell date +%Y%m%d-%H%M%S).backup
backup restore: export DEBUG ?= true
backup: $(VENV)/.installed-base
	@mkdir -p $(dir $(FILE))
	$(MANAGE) backup $(FILE)

restore: $(VENV)/.installed-base
	@test -f "$(FILE)" || { echo "Name the backup: make restore FILE=backups/…" >&2; exit 1; }
	$(MANAGE) restore $(FILE)

# The Nu HTML Checker the crawl runs (tests/browser/test_crawl.py): npm's
# vnu-jar, pinned in package-lock.json, run by the system's Java. Install
# scripts are off (.npmrc): vnu-jar's own would download a Java. Without npm
# the HTML checks are skipped locally (and fail in CI).
VNU_JAR := node_modules/vnu-jar/build/dist/vnu.jar
$(VNU_JAR): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "No npm: the HTML checks will be skipped (Debian: apt-get install npm default-jre-headless)" >&2; fi

# Both cores: the suite is CPU-bound (and the form properties are most of it).
test: $(VENV)/.installed-dev lint $(VNU_JAR)
	DEBUG=true $(MANAGE) makemigrations --check --dry-run
	$(VENV)/bin/pytest -n auto --dist worksteal $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Re-pin after editing requirements/*.in.
lock: $(VENV)/.installed-dev
	cd requirements && ../$(VENV)/bin/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links --annotation-style=line base.in -o base.txt
	cd requirements && ../$(VENV)/bin/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links --annotation-style=line dev.in -o dev.txt

# The side-by-side benchmark on PostgreSQL (bench/README.md): cold, mixed and
# warm. DATABASE_URL defaults to a local tracker_bench database (and
# tracker_bench_10x for the 10x query counts); BENCH_ARGS="--duration 10" etc.
# `hey` only adds a calibration line (installed here when run as root).
bench: $(VENV)/.installed-base
	@command -v hey >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hey >/dev/null; } || \
	  echo "(no hey: the trivial view's calibration line is left out)" >&2
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles node_modules
