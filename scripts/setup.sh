#!/usr/bin/env bash
# Create .venv and install the platform (and, with --test, its test tools). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml clients/python/pyproject.toml | sha256sum | cut -c1-16)${1:+-test}
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "${1:-}" = "--test" ]; then
    .venv/bin/python -m pip install -q -e ".[test]"
    # The producers' client (its own package, clients/python) and its Modbus extra, for its tests.
    .venv/bin/python -m pip install -q -e "clients/python[modbus]"
  else
    .venv/bin/python -m pip install -q -e .
  fi
  touch "$stamp"
fi
