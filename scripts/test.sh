#!/usr/bin/env bash
# Sets up everything the test suite needs on a Debian host (system packages, .venv, a Docker engine,
# locally built base images when no registry can be reached) and runs every test layer.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/unit -x`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf '\033[1m[test]\033[0m %s\n' "$*"; }
t0=$(date +%s)

bash scripts/setup.sh
if [ -x stack/scripts/ensure-engine.sh ]; then
  say "checking the Docker engine"
  bash stack/scripts/ensure-engine.sh
fi
say "setup done in $(( $(date +%s) - t0 )) s; running tests"

set +e
# A skipped test fails the run (tests/conftest.py): this host has everything every test needs.
EDP_SKIPS_FAIL=1 .venv/bin/python -m pytest -p no:cacheprovider -ra --durations=30 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
fi
say "finished in $(( $(date +%s) - t0 )) s (pytest exit code $rc)"
exit "$rc"
