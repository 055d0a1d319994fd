#!/usr/bin/env bash
# Install the project in .venv and run the demo dataspace (embedded SQLite). Extra arguments go to `connector demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e .
connector demo "$@"
