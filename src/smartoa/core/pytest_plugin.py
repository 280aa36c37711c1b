"""Pytest plugin for this project's own tests: the test environment, set before pytest-django loads the settings.

``SMARTOA_ENV`` defaults to production, which (rightly) refuses to start without a secret key; a bare ``pytest``
must run in the test environment. A conftest.py is imported after pytest-django has loaded the settings, so this
is a plugin, named in pyproject's pytest ``addopts`` (``-p smartoa.core.pytest_plugin``). It also creates the data
folder, which the settings no longer create on import, for the SQLite test database and the static files.

Tests of production behaviour start subprocesses with ``SMARTOA_ENV=production`` explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

if not os.environ.get("SMARTOA_ENV", "").strip():
    os.environ["SMARTOA_ENV"] = "test"
# The SQLite test database's folder, and the static files' (WhiteNoise warns when it is missing).
(Path(os.environ.get("SMARTOA_DATA_DIR", "").strip() or Path.cwd() / "var") / "static").mkdir(
    parents=True, exist_ok=True
)
