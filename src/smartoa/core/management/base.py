"""Shared bits of the ``smartoa`` sub-commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smartoa.domain.calendar import parse_day

CLI_ACTOR = "cli"


def read_text(path: str) -> str:
    """Read a UTF-8 input file, or raise a CommandError that names it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot be read: {exc}") from None


def day_argument(text: str) -> date:
    """A YYYY-MM-DD command-line argument, or a CommandError saying what is wrong."""
    try:
        return parse_day(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


class ActionCommand(BaseCommand):
    """A command with sub-commands: ``smartoa NAME ACTION …`` runs ``do_ACTION(**options)``; the domain errors
    listed in ``user_errors`` become a CommandError (message on stderr, non-zero exit)."""

    user_errors: tuple[type[Exception], ...] = ()

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except self.user_errors as exc:
            raise CommandError(str(exc)) from None
