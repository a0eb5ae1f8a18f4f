# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/loyalty
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run cluster test test-sqlite test-postgres bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# Installs, migrates SQLite, loads the demo street once, closes last month's
# billing, sets up the exchange desk's counters and catalogue, runs campaigns, coupons and a rally with purchases and
# exchanges, adds a department store's own card with ranks at three stores, sets up the member site (/my/) and mail to members with a
# sign-in link for a demo member, prints the admin and merchant portal logins and serves on http://$(HOST):$(PORT) with the django-q2 worker beside it.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py demo_admin --url http://$(HOST):$(PORT)/admin/ | tee $(VENV)/admin-login.txt
	$(PY) manage.py demo_billing --url http://$(HOST):$(PORT)/portal/ | tee -a $(VENV)/admin-login.txt
	$(PY) manage.py demo_exchange
	$(PY) manage.py demo_promotions
	$(PY) manage.py demo_company
	$(PY) manage.py demo_members --url http://$(HOST):$(PORT)/my/ | tee -a $(VENV)/admin-login.txt
	$(PY) bin/serve $(HOST):$(PORT) $(VENV)/admin-login.txt

# The production topology on loopback: HAProxy on :8400 before two gunicorn servers, two django-q2 workers,
# Redis (db 3), a PostgreSQL primary and its streaming replica of their own (bin/cluster; docs/scale-out.md).
# Ctrl-C stops all of it.
cluster: install
	bin/cluster

# Every test, on SQLite and on the local PostgreSQL server.
test: install
	bin/test-all

bench: install
	$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles
