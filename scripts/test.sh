#!/usr/bin/env bash
# One command to set up and pass the tests: installs what is missing (Python packages, Debian's chromium,
# PostgreSQL if absent), starts PostgreSQL if it is not running, checks migrations, then runs the whole suite
# on SQLite and on PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v zbarimg >/dev/null || missing+=(zbar-tools)  # reads the enrolment QR code from screenshots
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)  # tests/deploy: the real proxy in front of the platform
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
command -v msgfmt >/dev/null || missing+=(gettext)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt_install "${missing[@]}"
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL"
  for version in $(ls /etc/postgresql); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

scripts/setup.sh --test
# axe-core, injected by the browser tests to check accessibility (pinned in tests/browser/package-lock.json).
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  npm ci --prefix tests/browser --no-audit --no-fund --silent
fi

export SMARTOA_ENV=test
unset SMARTOA_NOW DATABASE_URL
export SMARTOA_DATA_DIR="$PWD/var/test"
PG_URL=${SMARTOA_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/smartoa}

echo "== models and migrations agree"
.venv/bin/smartoa makemigrations --check --dry-run >/dev/null || {
  echo "models and migrations disagree: run 'smartoa makemigrations'"; exit 1; }

echo "== translations compiled"
scripts/messages.sh check

echo "== lint (ruff) and types (mypy)"
.venv/bin/ruff check src tests bench/* clients/python
.venv/bin/ruff format --check --quiet src tests bench/* clients/python
.venv/bin/mypy

echo "== security: bandit (the code), pip-audit (the locked dependencies)"
.venv/bin/bandit -q -c pyproject.toml -r src clients/python/src
scripts/audit.sh

echo "== tests on SQLite"
.venv/bin/pytest "$@"
echo "== tests on PostgreSQL ($PG_URL)"
DATABASE_URL="$PG_URL" .venv/bin/pytest "$@"
