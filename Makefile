# The two jobs a person runs: `make serve` and `make test`. Everything else is set-up they call
# or a developer's shortcut (`make help` lists them).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions of every Python package, tested together; `make lock` writes it anew
LOCK := requirements.lock
# Leaflet for the web map, from the npm registry (served by the service, never from a CDN)
MAP_ASSETS := maps/assets/node_modules/.installed

.PHONY: help serve test lint format lock system-deps schemathesis

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

system-deps: ## Debian packages (PostGIS, SpatiaLite, Chromium, npm); starts PostgreSQL
	bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint $(LOCK) -e '.[dev]'
	touch $(STAMP)

$(MAP_ASSETS): maps/assets/package.json maps/assets/package-lock.json
	npm ci --prefix maps/assets --no-audit --no-fund --loglevel=error
	touch $(MAP_ASSETS)

serve: system-deps $(STAMP) $(MAP_ASSETS) ## Serve the bundled district on the embedded store (ARGS="--port 8080")
	$(BIN)/schoolgis serve $(ARGS)

lint: $(STAMP) ## ruff, ruff format --check, mypy (strict) and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: system-deps $(STAMP) $(MAP_ASSETS) lint ## Install, lint, then the whole suite on SpatiaLite and PostGIS (ARGS="-k x")
	$(BIN)/pytest --numprocesses 2 --dist loadgroup $(ARGS)

schemathesis: $(STAMP) $(MAP_ASSETS) ## Schemathesis over /openapi.json, anonymous and admin (MAX_EXAMPLES=20)
	BIN=$(BIN) bash scripts/schemathesis.sh

format: $(STAMP) ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: ## Write requirements.lock anew from the newest versions pyproject.toml allows
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet --upgrade pip
	build/lock-venv/bin/pip install --quiet -e '.[dev]'
	{ echo "# Exact versions installed by make (pip --constraint); make lock writes it anew."; \
	  build/lock-venv/bin/pip freeze --exclude-editable --all | grep -v '^pip=='; } > $(LOCK)
	rm -rf build/lock-venv
