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

.PHONY: report test lint format lab assemble sample clean notebook-filter

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cluster]'
	@$(MAKE) --no-print-directory notebook-filter
	@touch $(STAMP)

## notebook-filter: in a git checkout, `git add` strips notebook outputs (nbstripout, .gitattributes)
# The commands are relative to the top of the work tree, where git runs its filters: each
# clone (and each worktree) uses its own .venv. Outside a git checkout: nothing to do.
# cell ids stay (they are the cells' identity); what a kernel adds to language_info goes
NBSTRIP_KEYS := $(addprefix metadata.language_info.,codemirror_mode file_extension mimetype nbconvert_exporter pygments_lexer version)
notebook-filter:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git config filter.nbstripout.clean '$(BIN)/python -m nbstripout --keep-id' && \
	  git config filter.nbstripout.smudge cat && \
	  git config filter.nbstripout.extrakeys '$(NBSTRIP_KEYS)' && \
	  git config diff.ipynb.textconv '$(BIN)/python -m nbstripout --keep-id -t' && \
	  echo "git: notebooks are committed without outputs (nbstripout filter, see .gitattributes)"; \
	fi

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

## lab: JupyterLab on the notebooks, kernels from this environment; options in ARGS,
## e.g. make lab ARGS="--no-browser --port 8899" (as root, --allow-root is added)
ARGS ?=
lab: $(STAMP)
	@test -d data/$(PERIOD) || $(BIN)/python -m selfcheck sample --period $(PERIOD) --out data
	$(BIN)/python -m selfcheck lab $(ARGS)

## assemble: the Word report again from the saved section results (after edits in JupyterLab)
assemble: $(STAMP)
	$(BIN)/python -m selfcheck assemble params/$(PERIOD).yaml

sample: $(STAMP)
	$(BIN)/python -m selfcheck sample --period $(PERIOD) --out data

clean:
	rm -rf outputs/$(PERIOD)
