#!/usr/bin/env bash
# Known vulnerabilities of the locked dependencies (requirements/test.lock, which holds the runtime lock's pins):
# pip-audit against PyPI's vulnerability data. Fails on a vulnerability that is not listed below with its reason
# in docs/decisions.md ("Security checks"). Needs PyPI's JSON API: where it cannot be reached (a mirror, no
# network), the check is SKIPPED with a message, not passed silently.
set -euo pipefail
cd "$(dirname "$0")/.."
# Vulnerability ids accepted for now, each explained in docs/decisions.md: IGNORED=(--ignore-vuln PYSEC-…)
IGNORED=()
report=$(mktemp) errors=$(mktemp)
trap 'rm -f "$report" "$errors"' EXIT
status=0
.venv/bin/pip-audit --disable-pip --require-hashes -r requirements/test.lock --progress-spinner off \
  -f json -o "$report" "${IGNORED[@]}" 2>"$errors" || status=$?
.venv/bin/python - "$report" "$errors" "$status" <<'PY'
import json, sys

report, errors, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    dependencies = json.load(open(report))["dependencies"]
except (OSError, ValueError, KeyError):
    last = (open(errors).read().strip().splitlines() or ["no output"])[-1]
    print(f"pip-audit: SKIPPED, the vulnerability data could not be read ({last[:200]})")
    sys.exit(0)
audited = [d for d in dependencies if "skip_reason" not in d]
if not audited:
    print(f"pip-audit: SKIPPED, PyPI's vulnerability data cannot be reached from here "
          f"({len(dependencies)} locked packages not audited); run scripts/audit.sh where pypi.org answers")
    sys.exit(0)
unaudited = sorted(d["name"] for d in dependencies if "skip_reason" in d)
if unaudited:
    print(f"pip-audit: not audited (unknown to PyPI): {', '.join(unaudited)}")
found = [(d["name"], d["version"], v["id"], v.get("fix_versions")) for d in audited for v in d.get("vulns", [])]
for name, version, vuln, fixes in found:
    print(f"pip-audit: {name} {version}: {vuln} (fixed in {', '.join(fixes) or 'no release yet'})")
if found:
    print("pip-audit: upgrade (scripts/lock.sh --upgrade-package NAME) or explain in docs/decisions.md and list it")
    sys.exit(1)
print(f"pip-audit: {len(audited)} locked packages audited, no known vulnerability")
PY
