"""Shared bits of the ``smartoa`` sub-commands."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

CLI_ACTOR = "cli"


def read_text(path: str) -> str:
    """Read a UTF-8 input file, or raise a CommandError that names it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot be read: {exc}") from None
