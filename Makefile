# The two commands of the README: `make report` and `make test`.
# Both create (or reuse) the local virtual environment .venv from pyproject.toml.
PYTHON ?= python3
PERIOD ?= 2026Q3
VENV := .venv
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
else
BIN := $(VENV)/bin
endif
STAMP := $(VENV)/.installed

.PHONY: report test lint format lab sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## report: the Word report of $(PERIOD) from the built-in sample data (generated when missing)
report: $(STAMP)
	@test -d data/$(PERIOD) || $(BIN)/python -m selfcheck sample --period $(PERIOD) --out data
	$(BIN)/python -m selfcheck run params/$(PERIOD).yaml

## test: lint, then every test (integration and rendering included)
test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## lab: JupyterLab on the notebooks, kernels from this environment
lab: $(STAMP)
	@test -d data/$(PERIOD) || $(BIN)/python -m selfcheck sample --period $(PERIOD) --out data
	$(BIN)/python -m selfcheck lab

sample: $(STAMP)
	$(BIN)/python -m selfcheck sample --period $(PERIOD) --out data

clean:
	rm -rf outputs/$(PERIOD)
