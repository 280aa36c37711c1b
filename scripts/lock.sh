#!/usr/bin/env bash
# Write the lock files (exact versions and hashes of every package, for Python 3.11 on Linux) from the
# dependencies of pyproject.toml (and the producers' client's, for the tests):
#   requirements/runtime.lock  the platform:          pip install --require-hashes -r requirements/runtime.lock
#   requirements/test.lock     + the test extra and the client with its Modbus extra (scripts/setup.sh --test)
# Run it after changing dependencies (or to take newer releases: scripts/lock.sh --upgrade), then commit both files;
# tests/security/test_lock.py checks that they agree with pyproject.toml. Needs the package index (a minute or two).
set -euo pipefail
cd "$(dirname "$0")/.."
compile() {
  .venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
    --no-emit-find-links --no-header --annotation-style=line "$@"
}
compile "${@}" --output-file requirements/runtime.lock pyproject.toml
compile "${@}" --all-extras --output-file requirements/test.lock pyproject.toml clients/python/pyproject.toml
