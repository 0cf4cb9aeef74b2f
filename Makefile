# Two commands a user needs: `make serve` and `make test`. Everything else is a step they depend on.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DEMO_MODEL := build/demo-model
PORT ?= 8080

.PHONY: setup serve test test-python test-busy test-container container-tools bench-tools lint demo-model plugins bench audit audit-online soak clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed plugins

plugins: $(VENV)/.installed
	bash scripts/build_plugins.sh

$(DEMO_MODEL)/model_metadata.json: $(VENV)/.installed $(wildcard training/*.py training/*.csv)
	$(PY) -m training.demo_model --out $(DEMO_MODEL)

demo-model: $(DEMO_MODEL)/model_metadata.json

serve: setup demo-model
	SAGEMAKER_BIND_TO_PORT=$(PORT) MODEL_DIR=$${MODEL_DIR:-$(DEMO_MODEL)} $(PY) entrypoint.py serve

container-tools: $(VENV)/.installed
	bash scripts/install_container_tools.sh

lint: container-tools
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint --failure-threshold error Dockerfile

bench-tools: $(VENV)/.installed
	bash bench/install_tools.sh

bench: setup demo-model bench-tools
	$(PY) -m bench.run $(BENCH_ARGS)

# Offline: every pin of both requirements files against the advisory snapshot in ../shared/advisories (see
# docs/security.md). audit-online asks PyPI's live data where the network allows.
audit: $(VENV)/.installed
	$(PY) -m tests.security.audit

audit-online: $(VENV)/.installed
	$(PY) -m tests.security.audit --online

soak: setup demo-model
	$(PY) -m tests.reliability.soak --minutes $${MINUTES:-10} --report build/reports/soak.json

test-python: setup demo-model bench-tools
	@echo "== unit and integration tests (real MMS, real SeaweedFS S3, moto for AWS APIs) =="
	$(VENV)/bin/pytest -m "not container"

# The same suite on a shared CI machine: 2 CPU-bound processes load both cores for the whole run (stopped by pid after).
test-busy: setup demo-model bench-tools
	@echo "== unit and integration tests while another CPU-bound job keeps every core busy =="
	$(PY) -m tests.support.busy_machine --processes 2 -- $(VENV)/bin/pytest -m "not container" $(PYTEST_ARGS)

test-container: container-tools demo-model
	@echo "== container smoke test: podman build + run of the Dockerfile =="
	$(VENV)/bin/pytest -m container tests/container

test: lint audit test-python test-container

clean:
	rm -rf build $(VENV)
