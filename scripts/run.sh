#!/usr/bin/env bash
# One command to try the platform: install, create the SQLite database, load demo data once, serve on
# http://localhost:8000 (portal, back office, admin, API) with the worker and the event stream server beside it.
# Test environment, embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export SMARTOA_ENV=test
# E-mails (logins, reminders) are written to files instead of being sent.
export SMARTOA_EMAIL_URL=${SMARTOA_EMAIL_URL:-file://$PWD/var/mail}
# GET /api/v1/events on the server is sent (307) to the event stream server.
STREAM_PORT=${STREAM_PORT:-8001}
export SMARTOA_STREAM_URL=${SMARTOA_STREAM_URL:-http://localhost:$STREAM_PORT}
.venv/bin/smartoa migrate -v0
if [ ! -f var/.demo-loaded ]; then
  .venv/bin/smartoa demo | tee var/demo-logins.txt
  touch var/.demo-loaded
else
  echo "demo data already loaded (logins in var/demo-logins.txt; 'rm -r var' to start afresh)"
fi
echo "serving on http://localhost:${PORT:-8000}: the portal at /, the back office at /backoffice/, the admin at /admin/,"
echo "the API at /api/v1/effacement, its event stream at /api/v1/events (served on port $STREAM_PORT)"
echo "(docs: /api/v1/docs); logins above and in var/demo-logins.txt; a TOTP code: .venv/bin/smartoa totp code EMAIL;"
echo "e-mails in var/mail/"
# The worker sends the e-mails and webhooks and runs the deadline jobs; the stream server holds the event streams;
# both stop with the server.
.venv/bin/smartoa worker &
worker=$!
.venv/bin/smartoa stream --port "$STREAM_PORT" &
stream=$!
trap 'kill "$worker" "$stream" 2>/dev/null; wait "$worker" "$stream" 2>/dev/null' EXIT
.venv/bin/smartoa serve --port "${PORT:-8000}"
