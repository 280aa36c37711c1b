"""Shared bits of the ``smartoa`` sub-commands: the base command that turns user errors into messages, input
file reading and argument parsing."""

from __future__ import annotations

import os
from argparse import SUPPRESS, RawDescriptionHelpFormatter, _SubParsersAction
from datetime import date
from getpass import getuser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smartoa.domain.calendar import parse_day
from smartoa.domain.errors import InvalidInput, NotFound, UserError, gettext_noop

# Django's options of every command (still accepted): hidden from the commands' help, which shows their own.
GENERIC_OPTIONS = {
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}


def cli_actor() -> str:
    """Who acts, for the audit log, when the command line does: ``cli:`` and the system user running it."""
    try:
        return f"cli:{getuser()}"
    except (OSError, KeyError):  # no user name for this uid (some containers)
        return f"cli:uid-{os.getuid()}"


CLI_ACTOR = cli_actor()


class Command(BaseCommand):
    """Base of every ``smartoa`` command: a ``UserError`` raised anywhere below becomes its message on standard
    error and exit status 1 (``CommandError``), never a traceback. ``help`` and ``epilog`` keep their layout; the
    help shows the command's own options only (Django's generic ones are accepted, not listed)."""

    epilog: str | None = None

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", RawDescriptionHelpFormatter)
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = self.epilog
        for action in parser._actions:
            if action.dest in GENERIC_OPTIONS:
                action.help = SUPPRESS
        for action in parser._actions:  # sub-commands (``smartoa curves import --help``) show it too
            if isinstance(action, _SubParsersAction):
                for sub in action.choices.values():
                    sub.formatter_class = RawDescriptionHelpFormatter
                    sub.epilog = sub.epilog or self.epilog
        return parser

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except UserError as exc:
            raise CommandError(str(exc)) from None


class ActionCommand(Command):
    """A command with sub-commands: ``smartoa NAME ACTION …`` runs ``do_ACTION(**options)``."""

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options)


def read_text(path: str) -> str:
    """Read a UTF-8 input file, or raise a user error that names it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(gettext_noop("%(path)s: no such file"), path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(gettext_noop("%(path)s: cannot be read: %(problem)s"), path=path, problem=str(exc)) from None


def day_argument(text: str) -> date:
    """A YYYY-MM-DD command-line argument (InvalidInput, shown as a message, when it is not one)."""
    return parse_day(text)
