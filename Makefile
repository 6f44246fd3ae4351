# OneWindow developer entry points. CI runs .ci/run, which uses these targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
INFRA := deploy/local/infra.sh
PY := uv run python

.PHONY: help install up down test test-fast lint bench city-day what-if screenshots reconcile schemas asyncapi docs \
        infra-up infra-down infra-status services-up services-down web-up web-down status

help:
	@echo "make up          run the whole system: Kafka + FerretDB, the five services (demo data), web on :8080"
	@echo "make down        stop everything"
	@echo "make docs        the AsyncAPI documents and the generated part of each service README"
	@echo "make test        install, start Kafka + FerretDB, run every test (what CI runs)"
	@echo "make test-fast   unit, contract and use-case tests (no infrastructure, the use cases on in-memory fakes)"
	@echo "make lint        ruff + mypy --strict"
	@echo "make bench       all benchmarks, ratios against raw baselines from the same run"
	@echo "make city-day    the simulated city day;  make what-if  window sweep for one office"
	@echo "make reconcile   check a running system: every ticket everywhere once, DLTs, lag, stuck outboxes"
	@echo "make screenshots screenshots of every screen into docs/screenshots/"

install:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	# --compile-bytecode: with PYTHONDONTWRITEBYTECODE=1 (set on some machines) every run would compile
	# each imported module again, about half of a fast-tier run
	if [ -f uv.lock ]; then uv sync --all-packages --frozen --compile-bytecode; else uv sync --all-packages --compile-bytecode; fi
	$(INFRA) install

up: install infra-up services-up web-up
	@echo "OneWindow is up: http://127.0.0.1:8080/  (staff passwords: grep DEMO_PASSWORD var/secrets.env)"

down: web-down services-down infra-down

status:
	-$(INFRA) status
	-deploy/local/services.sh status
	-deploy/local/web.sh status

infra-up:
	$(INFRA) up

infra-down:
	$(INFRA) down

infra-status:
	$(INFRA) status

services-up:
	deploy/local/services.sh up

services-down:
	deploy/local/services.sh down

web-up:
	deploy/local/web.sh install
	deploy/local/web.sh up

web-down:
	deploy/local/web.sh down

test: install infra-up
	uv run pytest

test-fast:
	uv run pytest -m "not integration and not system and not browser" libs/contracts tests/test_deploy_files.py tests/test_what_if.py services/*/tests/unit services/*/tests/usecases

lint:
	uv run ruff check libs services tests bench ops examples
	uv run mypy libs/contracts/src libs/servicekit/src services/catalog/src services/ticketing/src \
		services/appointments/src services/feedback/src services/notifier/src libs/testbed/src

bench:
	$(PY) bench/run_all.py

city-day:
	$(PY) bench/city_day.py

what-if:
	$(PY) bench/what_if.py --visits 1000 --windows 16 --sweep 12 24

reconcile:
	$(PY) ops/reconcile.py

screenshots:
	$(PY) tests/browser/screenshots.py

schemas:
	$(PY) -m contracts.schemas

asyncapi:
	$(PY) -m servicekit.asyncapi catalog ticketing appointments feedback notifier --out docs/asyncapi

# The generated part of each service README: its contract (contract.py) and its module map.
docs: asyncapi
	$(PY) -m servicekit.contract catalog ticketing appointments feedback notifier --flow docs/architecture.md
