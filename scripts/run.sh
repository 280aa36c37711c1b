#!/usr/bin/env bash
# One command to try the platform: install, create the SQLite database, load demo data once, serve on
# http://localhost:8000 (portal/admin + API). Test environment, embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export SMARTOA_ENV=test
.venv/bin/smartoa migrate -v0
if [ ! -f var/.demo-loaded ]; then
  .venv/bin/smartoa demo | tee var/demo-logins.txt
  touch var/.demo-loaded
else
  echo "demo data already loaded (logins in var/demo-logins.txt; 'rm -r var' to start afresh)"
fi
echo "serving on http://localhost:${PORT:-8000}  (admin: /admin/, API: /api/v1/effacement, docs: /api/v1/docs)"
exec .venv/bin/smartoa serve --port "${PORT:-8000}"
