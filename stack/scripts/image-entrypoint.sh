#!/usr/bin/env bash
# Entrypoint of the stack's image (user-code, dagster-webserver, dagster-daemon): refuse to start with a clear
# message when a setting the services cannot work without is missing or malformed, instead of letting Dagster
# fail later with a connection error deep in a traceback. With EDP_WRITE_WORKSPACE=1 (dagster-webserver,
# dagster-daemon) write the workspace from the code-location settings (edp_platform.workspace), so it always
# names the locations user-code serves. Then run the service's command.
set -euo pipefail

fail() {
  echo "edp-stack: $*" >&2
  echo "edp-stack: fix stack/.env (see stack/.env.example) or run stack/scripts/bring-up.sh, which creates it." >&2
  exit 64
}

for var in DAGSTER_HOME DAGSTER_PG_HOST DAGSTER_PG_PORT DAGSTER_PG_USERNAME DAGSTER_PG_DB; do
  [ -n "${!var:-}" ] || fail "$var is empty"
done
[ -n "${DAGSTER_PG_PASSWORD:-}" ] || fail "DAGSTER_PG_PASSWORD is empty: the stack needs a database password"
case "$DAGSTER_PG_PORT" in '' | *[!0-9]*) fail "DAGSTER_PG_PORT='$DAGSTER_PG_PORT' is not a port number" ;; esac
[ -f "$DAGSTER_HOME/dagster.yaml" ] || fail "no dagster.yaml in DAGSTER_HOME=$DAGSTER_HOME"
if [ "${EDP_WRITE_WORKSPACE:-0}" = "1" ]; then
  python -m edp_platform.workspace --output "$DAGSTER_HOME/workspace.yaml" || fail "the code-location settings above"
fi

exec "$@"
