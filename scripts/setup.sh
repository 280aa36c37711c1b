#!/usr/bin/env bash
# Create .venv and install the platform (and, with --test, its test tools) from the lock files: every package at
# the version and with the hashes of requirements/runtime.lock (requirements/test.lock with --test), then the
# platform itself without resolving anything more. Idempotent. scripts/lock.sh rewrites the locks.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
lock=requirements/runtime.lock
[ "${1:-}" = "--test" ] && lock=requirements/test.lock
stamp=.venv/.installed-$(cat pyproject.toml clients/python/pyproject.toml "$lock" | sha256sum | cut -c1-16)${1:+-test}
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --require-hashes -r "$lock"
  if [ "${1:-}" = "--test" ]; then
    # The platform, and the producers' client (its own package, clients/python), for its tests.
    .venv/bin/python -m pip install -q --no-deps -e . -e clients/python
  else
    .venv/bin/python -m pip install -q --no-deps -e .
  fi
  touch "$stamp"
fi
