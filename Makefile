# shebao — two commands: `make dev` runs everything locally, `make test` proves it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The locks: every package, transitive ones too, at one version with its hashes. The Dockerfile
# installs requirements.lock (runtime only); the venv here installs requirements-dev.lock.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# The locks resolve as PyPI stood at this instant, so `make lock` gives the same files tomorrow;
# move it forward deliberately to take newer releases.
LOCK_DATE := 2026-12-06T00:00:00Z
# One lock for every Python of requires-python (markers where a wheel differs), hashes for all
# platforms' files.
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--generate-hashes --exclude-newer $(LOCK_DATE) --no-header --annotation-style line

.PHONY: dev test lint typecheck pytest bench clean lock

# (Re)create the venv whenever the dev lock changes: exactly its packages (hash-checked), then
# the project itself without dependencies, so nothing unlocked slips in.
$(STAMP): $(DEV_LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $(STAMP)

# After changing a pin in pyproject.toml: rewrite both locks with the venv's uv (a dev pin);
# tests/test_lock.py checks that they agree with pyproject.toml.
lock:
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra dev -o $(DEV_LOCK)

dev: $(STAMP)
	$(BIN)/python scripts/devstack.py

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

pytest: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -q

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/throughput.py

clean:
	rm -rf .data
