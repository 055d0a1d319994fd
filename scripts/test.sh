#!/usr/bin/env bash
# Install the project with its test extras in .venv, lint, type-check, and run the whole suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e '.[test]'
# Prism (OpenAPI mock server) for the Catena-X EDC contract test; without node the test says it is skipped
if command -v npm >/dev/null 2>&1; then
  (cd tools/prism && npm ci --no-audit --no-fund --silent) || echo "tools/prism: npm ci failed; the EDC contract test will skip"
fi
ruff check connector tests bench scripts compose
ruff format --check connector tests bench scripts compose
mypy
export CONNECTOR_TEST_DB="${CONNECTOR_TEST_DB:-all}"
if [ "${CI:-}" = "true" ]; then export CONNECTOR_TEST_REQUIRE_POSTGRES=1; fi
python -m pytest -q "$@"
