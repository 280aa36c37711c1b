#!/usr/bin/env bash
# Write openapi.json (the API contract, committed at the repository's root) from the served /api/v1/openapi.json
# of this checkout's code. Run it after changing the API, then say what changed in CHANGELOG.md under
# [Unreleased] (tests/api/test_contract.py checks both). On a merge conflict in openapi.json: run it again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" SMARTOA_ENV=test SMARTOA_DATA_DIR="${SMARTOA_DATA_DIR:-$PWD/var/test}" \
  .venv/bin/python -m smartoa.api.contract openapi.json
