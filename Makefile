# OneWindow developer entry points. CI runs .ci/run, which uses these targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
INFRA := deploy/local/infra.sh

.PHONY: help install up down test lint bench infra-up infra-down infra-status

help:
	@echo "make install     uv sync + fetch Kafka jars and build FerretDB (cached in .cache/)"
	@echo "make up          start the local infrastructure (Kafka, FerretDB)"
	@echo "make down        stop it"
	@echo "make test        uv run pytest (needs make up)"
	@echo "make lint        ruff + mypy"
	@echo "make bench       raw baselines -> bench/results/raw_baseline.json"

install:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	if [ -f uv.lock ]; then uv sync --all-packages --frozen; else uv sync --all-packages; fi
	$(INFRA) install

up: infra-up

down: infra-down

infra-up:
	$(INFRA) up

infra-down:
	$(INFRA) down

infra-status:
	$(INFRA) status

test:
	uv run pytest

lint:
	uv run ruff check libs services tests bench
	uv run mypy libs/contracts/src libs/servicekit/src

bench:
	uv run python bench/raw_baseline.py
