# Stampede: `make run` serves the shop on the embedded default; `make test` passes the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: help run test test-unit lint audit install install-dev system-packages migrate seed clean superuser stack stack-down stack-restart stack-ctl docker compose compose-down manage bench bench-waitingroom loadtest chaos

## help: every target with what it does (this list, read from the Makefile's `##` comments)
help:
	@awk '/^## / { sub(/^## /, ""); if (match($$0, /^[a-z-]+: /)) printf "\n  %-19s%s", substr($$0, 1, RLENGTH - 2), substr($$0, RLENGTH + 1); else printf "\n  %-19s%s", "", $$0 } END { print "" }' $(MAKEFILE_LIST)

$(VENV)/bin/python:
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || deploy/system-packages.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

# Stamp files: re-running is instant unless a requirements file changed.
$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

## install: the packages the shop runs on, into .venv (again only when requirements.txt changes)
install: $(VENV)/.installed
## install-dev: the same and the tools of the suite, the benchmarks and the load tests
install-dev: $(VENV)/.installed-dev

## system-packages: the Debian packages the suite, the stack and the benchmarks drive (only those missing)
system-packages:
	@deploy/system-packages.sh

## migrate: apply the database migrations (the embedded SQLite unless DATABASE_URL says otherwise)
migrate: install
	$(PY) manage.py migrate --noinput

## seed: the demo catalog (categories and products with stock; running it again adds nothing)
seed: migrate
	$(PY) manage.py seed_catalog

## run: install, migrate, seed the demo catalog and serve on http://127.0.0.1:$(PORT)
run: seed
	@echo "Stampede is at http://127.0.0.1:$(PORT)/  (admin: make superuser, then /admin/)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

## superuser: create an admin account for /admin/
superuser: migrate
	$(PY) manage.py createsuperuser

## test: install, lint, audit, and run the whole suite against the local PostgreSQL and Redis
test: install-dev system-packages docker lint audit
	$(PY) -m pytest $(PYTEST_ARGS)

## test-unit: the suite without stacks, browsers or chaos (real PostgreSQL and Redis), to run between edits
test-unit: install-dev
	$(PY) -m pytest -m "not stack and not browser and not compose" $(PYTEST_ARGS)

## lint: ruff's checks and its formatting, as CI runs them (`ruff format .` applies the formatting)
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## audit: bandit over the code, pip-audit over the pinned packages (run by `make test`)
audit: install-dev
	$(PY) -m bandit -q -c pyproject.toml -r .
	$(PY) deploy/audit_dependencies.py

## clean: remove .venv, collected static files and pytest's cache
clean:
	rm -rf $(VENV) staticfiles .pytest_cache

## stack: nginx on 127.0.0.1:8080 in front of WEB browsing and CHECKOUT buying replicas, a worker and beat,
## all under supervisord, which starts again any that dies (no Docker)
WEB ?= 2
CHECKOUT ?= 1
stack: install system-packages
	$(PY) -m deploy.stack up --web $(WEB) --checkout $(CHECKOUT)

## stack-down: stop what make stack started: supervisord and every process it runs
stack-down:
	$(PY) -m deploy.stack down

## stack-restart: replace the replicas one at a time, each drained from nginx first (ARGS="web:web-1" for one)
stack-restart:
	$(PY) -m deploy.stack restart $(ARGS)

## stack-ctl: supervisorctl against the stack, e.g. make stack-ctl ARGS="restart web:web-1" (default: status)
stack-ctl:
	$(PY) -m deploy.stack ctl $(or $(ARGS),status)

## docker: Docker Engine (Debian's docker.io, its daemon started if none answers) and the Compose v2 plugin
docker: install-dev
	@deploy/docker-engine.sh $(VENV)

## compose: docker-compose.yml's stack on 127.0.0.1:8080 (WEB and CHECKOUT replicas), installing Docker and
## Compose where missing, writing .env with fresh secrets if there is none, building images from Debian's
## packages where no image registry answers
compose: docker
	$(PY) -m deploy.compose up --web $(WEB) --checkout $(CHECKOUT)

## compose-down: stop make compose's stack and remove its containers, networks and volumes
compose-down: install-dev
	$(PY) -m deploy.compose down

## manage: run a management command against the stack, e.g. make manage ARGS="waitingroom on"
manage: install
	$(PY) -m deploy.stack manage $(ARGS)

## bench: requests/s through nginx with 1 and 3 replicas, microcache and static ceiling; database connections
## kept per thread against one per request (wrk, one run each); TARGET=compose: the nginx table on compose's stack
TARGET ?= stack
bench: install-dev system-packages $(if $(filter compose,$(TARGET)),docker)
	$(PY) -m loadtest.bench --target $(TARGET)
	$(if $(filter compose,$(TARGET)),,$(PY) -m loadtest.bench_connections)

## bench-waitingroom: estimated vs actual wait for 300 simulated visitors, and the room's overhead per request
bench-waitingroom: install-dev
	$(PY) loadtest/waitingroom_overhead.py
	$(PY) loadtest/waitingroom_sim.py --visitors 300 --arrivals-per-second 20 --admit-per-minute 300 --poll-every 2

## loadtest: SCENARIO=baseline|influencer|flash-sale|cold-start|ramp|overload [QUICK=1] [RATE=N] [STACK=var/stack]:
## Locust against Stampede, Stampede without its room and the 2023 configuration, live Prometheus, every order
## audited (var/loadtest/SCENARIO/); ramp: each one's capacity; overload: a spike held at RATE visitors/s;
## TARGET=compose: on docker compose stacks (Stampede with and without its room; WEB_CPUS=0.3 caps each replica);
## CONFIGURATIONS=stampede,stampede-scale-out: the runbook rehearsed, 2 web replicas scaled to 5 at the spike's height
SCENARIO ?= influencer
loadtest: install-dev system-packages $(if $(filter compose,$(TARGET)),docker)
	$(PY) -m loadtest.run --scenario $(SCENARIO) --target $(TARGET) $(if $(QUICK),--quick) $(if $(RATE),--rate $(RATE)) $(if $(STACK),--against $(STACK)) $(if $(CONFIGURATIONS),--configurations $(CONFIGURATIONS))

## chaos: [QUICK=1] [ONLY=worker-killed,...]: each fault under load against a stack of its own, with its
## figure and its pass (var/chaos/summary.json); QUICK is the short subset the suite runs; TARGET=compose: the
## faults Docker causes and recovers from (worker-killed, replica-killed, flash-sale) on compose stacks
chaos: install-dev system-packages $(if $(filter compose,$(TARGET)),docker)
	$(PY) -m loadtest.chaos --target $(TARGET) $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))
