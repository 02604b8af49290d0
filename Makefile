# One command to set up and run the bot, one to set up and run the tests.
VENV ?= .venv
PYTHON ?= python3

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev,postgres,redis]'
	touch $@

.PHONY: setup run test lint bench eval i18n
setup: $(VENV)/.installed

run: $(VENV)/.installed  ## the bot: Telegram with BOT_TOKEN, else the offline terminal chat
	$(VENV)/bin/citizen-bot run

test: $(VENV)/.installed  ## every test (PostgreSQL and Redis on 127.0.0.1 included)
	$(VENV)/bin/pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check bot handlers knowledge storage tests benchmarks
	$(VENV)/bin/mypy

bench: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/bench_search.py
	$(VENV)/bin/python benchmarks/bench_reports.py

eval: $(VENV)/.installed
	$(VENV)/bin/citizen-bot kb eval knowledge/data/eval_questions.jsonl
	$(VENV)/bin/citizen-bot kb eval tests/data/heldout_questions.jsonl
	$(VENV)/bin/citizen-bot kb eval tests/data/heldout2_questions.jsonl

i18n: $(VENV)/.installed  ## JSON catalogs (a branch's new keys) → Fluent locales/<locale>/*.ftl
	$(VENV)/bin/python -m bot.telegram.i18n_convert
