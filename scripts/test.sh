#!/usr/bin/env bash
# The test suite: install dagy-git with its test extras into .venv and run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

# The Flows UI's browser test drives Debian's headless Chromium through Playwright (never a
# downloaded browser). Install it once when it is missing and apt can (as root); otherwise
# that test is skipped and says why.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y chromium >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get install -y chromium >/dev/null 2>&1; } \
    || echo "warning: could not install chromium; the browser test will be skipped" >&2
fi

# Specs must hash the same on every supported Python: where other CPythons are installed
# (pyenv), give each a small venv with pydantic so tests/test_cross_python.py can run the
# analyser in it. Where none is, that test is skipped and says why.
others=""
for version in 3.10 3.12 3.13; do
  python=$(ls -d "$HOME"/.pyenv/versions/"$version".*/bin/python 2>/dev/null | tail -n 1 || true)
  [ -n "$python" ] || continue
  venv=".venv-cross/$version"
  if [ -x "$venv/bin/python" ] || "$python" -m venv "$venv" >/dev/null 2>&1; then
    if "$venv/bin/python" -m pip install --quiet 'pydantic>=2.5,<3' >/dev/null 2>&1; then
      others="$others${others:+:}$PWD/$venv/bin/python"
    fi
  fi
done
export DAGY_GIT_TEST_PYTHONS="$others"

exec .venv/bin/python -m pytest "$@"
