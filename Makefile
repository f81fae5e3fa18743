# Tuoke's commands. `make run` and `make test` are the two the README starts with.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TUOKE := $(VENV)/bin/tuoke
PYTEST_WORKERS ?= 2

.PHONY: run test lint bench bench-large deps format clean-var messages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: $(VENV)/.installed node_modules/.installed

## make run: install, migrate the SQLite database under var/, load the demo once, serve on :8000
run: deps
	TUOKE_DEBUG=true $(TUOKE) migrate --no-input
	@if [ ! -f var/.demo-loaded ]; then TUOKE_DEBUG=true $(TUOKE) demo && touch var/.demo-loaded; \
	 else TUOKE_DEBUG=true $(TUOKE) demo --logins-only; fi
	@echo "Tuoke is starting on http://127.0.0.1:8000 (Ctrl-C stops the web server and the job worker)"
	@trap 'kill 0' INT TERM EXIT; \
	 TUOKE_DEBUG=true $(TUOKE) worker --beat --concurrency=1 --loglevel=warning & \
	 TUOKE_DEBUG=true $(TUOKE) runserver 127.0.0.1:8000

## make test: the whole suite (lint, migrations, unit, API, browser); DATABASE_URL picks the database
test: deps lint
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -p no:cacheprovider

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy tuoke/core/services.py tuoke/org/services.py tuoke/org/handover.py tuoke/customers/services.py tuoke/customers/matching.py tuoke/leads/services.py tuoke/core/saved_views.py tuoke/core/notifications.py tuoke/integrations/services.py tuoke/activities/services.py tuoke/sales/services.py tuoke/contracts/services.py tuoke/contracts/payments.py tuoke/contracts/invoices.py tuoke/core/sequences.py tuoke/core/money.py tuoke/org/approvals.py
	$(TUOKE) makemigrations --check --dry-run

format: deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## make messages: refresh and compile the zh-Hans and en catalogues
messages: deps
	cd tuoke && ../$(TUOKE) makemessages --locale zh_Hans --locale en --no-obsolete --ignore 'static/*'
	cd tuoke && ../$(TUOKE) compilemessages

## make bench: the figures that need no large data (throw-away test databases): the foundation
## pages and a customer timeline of 2,000 events; results under bench/results/
bench: deps
	$(PY) -m bench.run foundation
	$(PY) -m bench.timeline

## make bench-large: seed the "large" data set into BENCH_DATABASE_URL once (minutes), then run
## the customer scenarios, the daily plan and the list page under gunicorn with 8 clients on it;
## BENCH_DATABASE_URL=postgres://… for PostgreSQL (never `test`)
BENCH_DATABASE_URL ?= sqlite:///$(CURDIR)/var/bench/large.sqlite3
bench-large: deps
	mkdir -p var/bench
	DATABASE_URL=$(BENCH_DATABASE_URL) $(TUOKE) migrate --no-input
	DATABASE_URL=$(BENCH_DATABASE_URL) $(TUOKE) bench seed --size large
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench.run customers
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench.activities
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench.sales
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench.contracts
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench.load

clean-var:
	rm -rf var
