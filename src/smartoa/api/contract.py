"""The published API contract: ``openapi.json`` at the repository's root is the served ``/api/v1/openapi.json``,
pretty-printed (2-space indent, keys in the served order, which the code fixes: routers, then schema fields).

``scripts/openapi.sh`` (``python -m smartoa.api.contract openapi.json``) writes it from the code of this checkout;
``tests/api/test_contract.py`` fails when the served document and the committed file differ, and when the change
is not in ``CHANGELOG.md`` (docs/development.md, "Changing the API contract").
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

URL = "/api/v1/openapi.json"
REGENERATE = "scripts/openapi.sh"


def render(document: dict) -> str:
    """The committed text of an OpenAPI document."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def served_document() -> dict:
    """The OpenAPI document as the server answers ``GET /api/v1/openapi.json`` (through Django, no database)."""
    from django.test import Client

    response = Client(SERVER_NAME="localhost").get(URL)
    if response.status_code != 200:
        raise RuntimeError(f"GET {URL} answered {response.status_code}: {response.content[:200]!r}")
    return response.json()


def main(argv: list[str]) -> int:
    """Write the served document to the file named by ``argv`` (default ``openapi.json``)."""
    os.environ.setdefault("SMARTOA_ENV", "test")  # the served document is the same in every environment
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartoa.settings")
    import django

    django.setup()
    target = Path(argv[0] if argv else "openapi.json")
    text = render(served_document())
    if target.exists() and target.read_text() == text:
        sys.stdout.write(f"{target} is up to date\n")
    else:
        target.write_text(text)
        sys.stdout.write(f"{target} written: record the change in CHANGELOG.md under [Unreleased]\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
