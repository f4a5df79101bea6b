#!/usr/bin/env bash
# The main job: install dagy-git into .venv and run the quickstart demo.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/python examples/quickstart.py "$@"
