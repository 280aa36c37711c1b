"""The client's tests: its source on the path (the package need not be installed), and, for the end-to-end tests,
the platform's shared fixtures (test data written through the platform's services)."""

from __future__ import annotations

import sys
from pathlib import Path

CLIENT_SRC = Path(__file__).resolve().parents[1] / "src"
REPOSITORY = Path(__file__).resolve().parents[3]
for path in (str(CLIENT_SRC), str(REPOSITORY)):
    if path not in sys.path:
        sys.path.insert(0, path)

from tests.conftest import (  # noqa: F401 - the platform's autouse fixtures apply to the client's tests too
    _eligibility_rules_survive_flushes,
    _empty_shared_cache_after_committed_tests,
    _fresh_api_state,
    _jobs_run_at_once,
    make_contract,
)
