# The two commands a newcomer needs: `make run` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PACKAGES := -e ./contracts -e ./plumbing -e './services/social[postgres]' -e './services/notifier[postgres]'
# pip on machines of this kind warns about every configured package index that is absent; keep the
# install quiet but for real problems (pipefail keeps pip's own exit status).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
QUIET_PIP := 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }

.PHONY: install run test lint bench bench-smoke schemas translations clean

install: $(STAMP)

$(STAMP): contracts/pyproject.toml plumbing/pyproject.toml services/social/pyproject.toml services/notifier/pyproject.toml requirements-dev.txt constraints.txt
	@if test -x $(BIN)/python; then echo "make: the dependencies changed: updating .venv ..."; \
	else echo "make: installing dependencies into .venv (a minute or two, once) ..."; fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip $(QUIET_PIP)
	@$(BIN)/python -m pip install --quiet -c constraints.txt $(PACKAGES) -r requirements-dev.txt $(QUIET_PIP)
	@touch $(STAMP)

## run: the whole system on this machine (web :5000, relay, notifier, mail sink :8025)
run: install
	@$(BIN)/python tools/devrun.py

## test: every test: unit, integration (real RabbitMQ, PostgreSQL, SMTP) and end to end
test: install
	tools/ensure-machine
	$(BIN)/pytest

## lint: ruff, mypy and the import contract between the services
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: ours against the tutorial's design and this machine's limits (10-20 min); writes
## bench/results.json, bench/chart.png and the README's benchmark block, then profiles the notifier
## (also after a failed measurement, whose failure is still the exit status)
bench: install
	tools/ensure-machine
	bench/ensure-tools
	$(BIN)/python -m bench; status=$$?; $(BIN)/python -m bench --profile && exit $$status

## translations: bring the catalogs up to date: the mail's (templates/_locales/) and the web pages' (social/translations/)
translations: install
	$(BIN)/python tools/translations.py

## schemas: rewrite contracts/schemas/ from the pydantic models
schemas: install
	$(BIN)/python -m microblog_contracts.schemas contracts/schemas

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
