# The two jobs a person runs: `make serve` and `make test`. Everything else is set-up they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Leaflet for the web map, from the npm registry (served by the service, never from a CDN)
MAP_ASSETS := maps/assets/node_modules/.installed

.PHONY: serve test lint system-deps

system-deps:
	bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(MAP_ASSETS): maps/assets/package.json maps/assets/package-lock.json
	npm ci --prefix maps/assets --no-audit --no-fund --loglevel=error
	touch $(MAP_ASSETS)

serve: system-deps $(STAMP) $(MAP_ASSETS)
	$(BIN)/schoolgis serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: system-deps $(STAMP) $(MAP_ASSETS) lint
	$(BIN)/pytest $(ARGS)
