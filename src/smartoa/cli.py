"""The ``smartoa`` operator command. Each sub-command is a Django management command living in its feature
package (``contracts/management/commands/contracts.py`` for ``smartoa contracts …``, and so on)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartoa.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"smartoa: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["smartoa", *argv])


if __name__ == "__main__":
    main()
