#!/usr/bin/env bash
# Update the translation catalogues after changing user-facing text, then compile them (both are committed):
# src/smartoa/locale/en (English of the French pages) and src/smartoa/locale/fr (French of the English user-error
# templates). Fill the new msgstr entries (and check `#, fuzzy` ones) between the two steps: scripts/messages.sh make,
# edit, then scripts/messages.sh compile.
set -euo pipefail
cd "$(dirname "$0")/../src/smartoa"
export SMARTOA_ENV=test DJANGO_SETTINGS_MODULE=smartoa.settings
case "${1:-make}" in
  make) ../../.venv/bin/django-admin makemessages -l en -l fr ;;
  compile) ../../.venv/bin/django-admin compilemessages ;;
  check)  # the committed .mo files are the compiled .po files
    for po in locale/*/LC_MESSAGES/django.po; do
      msgfmt --check -o /tmp/smartoa-check.mo "$po"
      cmp -s /tmp/smartoa-check.mo "${po%.po}.mo" || { echo "${po%.po}.mo is stale: run scripts/messages.sh compile"; exit 1; }
    done ;;
  *) echo "usage: scripts/messages.sh make|compile|check" >&2; exit 2 ;;
esac
