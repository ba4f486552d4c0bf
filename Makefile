# NCP-AI Infrastructure Labs. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# nbgrader (CLI and the JupyterLab Validate button) reads grader/nbgrader_config.py.
export JUPYTER_CONFIG_PATH := $(CURDIR)/grader
PYTEST := $(BIN)/python -m pytest
# Jupyter refuses to run as root unless told; containers and CI machines run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help setup lab test lint unit release check-release grader-test notebooks nbval \
        integration pipeline release grade grade-audit gpu-check bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed ## create .venv with the pinned dependencies

$(VENV)/.installed: pyproject.toml
	PYTHON=$(PYTHON) VENV=$(VENV) scripts/setup_environment.sh

lab: setup ## start JupyterLab on labs/ (127.0.0.1, token auth)
	$(BIN)/jupyter lab --notebook-dir=labs --ServerApp.ip=127.0.0.1 --no-browser $(ALLOW_ROOT) $(LAB_ARGS) \
	  --ServerApp.open_browser=False

test: setup lint unit check-release grader-test notebooks nbval integration pipeline ## what CI runs
	@echo "make test: all stages passed"

lint: setup ## ruff, shellcheck, nbgrader metadata and stored outputs
	$(BIN)/ruff check .
	$(BIN)/shellcheck -x $$(git ls-files '*.sh') .ci/run
	$(BIN)/labkit course lint

unit: setup ## unit tests (no servers, no notebooks)
	$(PYTEST) tests -m "not slow and not gpu" --ignore=tests/grader \
	  --ignore=tests/notebooks --ignore=tests/integration

check-release: setup ## labs/ equals a fresh release of solutions/
	$(BIN)/labkit course check-release

grader-test: setup ## nbgrader round trip: full, zero, partial, tampered, infinite loop
	$(PYTEST) tests/grader

notebooks: setup ## every solution notebook with papermill (MODE=sim, QUICK=True)
	$(PYTEST) tests/notebooks

nbval: setup ## stored outputs of the cells marked NBVAL_CHECK_OUTPUT
	@nbs=$$($(BIN)/python -m labkit.course.notebooks --nbval); \
	if [ -z "$$nbs" ]; then echo "no notebook has NBVAL_CHECK_OUTPUT cells"; exit 0; fi; \
	echo "nbval: $$nbs"; LABKIT_MODE=sim LABKIT_QUICK=1 $(PYTEST) --nbval-lax \
	  --nbval-current-env -p no:cacheprovider $$nbs

integration: setup ## real components (JupyterLab, tritonserver, doctor) and other slow tests
	$(PYTEST) tests -m "slow and not gpu" --ignore=tests/grader --ignore=tests/notebooks

release: setup ## regenerate labs/ from solutions/ (nbgrader generate_assignment)
	$(BIN)/labkit course release

grade-audit: setup ## replay every exercise with adversarial students -> build/grader/audit.md
	$(BIN)/labkit course audit $(if $(LAB),--lab $(LAB))

grade: setup ## autograde submitted/<student>/<lab>/, feedback HTML, grades CSV
	$(BIN)/labkit course grade

BENCH_SUITES := storage network pipeline verdicts
bench: setup ## speed targets -> build/bench/ (make bench [storage] [network] [pipeline] [verdicts] [QUICK=1])
	@bad="$(filter-out bench $(BENCH_SUITES),$(MAKECMDGOALS))"; if [ -n "$$bad" ]; then \
	  echo "ERROR: unknown bench suite(s): $$bad (valid: $(BENCH_SUITES))" >&2; exit 2; fi
	$(BIN)/python -m labkit.bench $(filter $(BENCH_SUITES),$(MAKECMDGOALS)) \
	  $(if $(QUICK),--quick)

# `make bench storage network`: the suite names are arguments of bench, not targets.
ifneq ($(filter bench,$(MAKECMDGOALS)),)
$(BENCH_SUITES): ; @:
else
pipeline: setup ## Lab 07 end to end: dataset, ETL, train, export, serve, infer, sweep
	$(BIN)/labkit pipeline all
endif

gpu-check: setup ## read-only checks on a real NVIDIA GPU (never changes card settings)
	scripts/gpu-check.sh

clean: ## remove build outputs (keeps .venv)
	rm -rf build outputs labs/*/outputs labs/*/build solutions/*/outputs solutions/*/build .pytest_cache
