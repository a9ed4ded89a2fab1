#!/usr/bin/env bash
# One command from a fresh Debian clone to a supervised stack: system packages and .venv, the Docker engine
# (installed and started when missing and root), images (built from Debian packages when no registry answers),
# stack/.env (generated password), `docker compose up --wait`, then the dashboard.
# Set EDP_NO_DASHBOARD=1 to stop after the bring-up (scripts, CI).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
bash stack/scripts/bring-up.sh "$@"
if [ "${EDP_NO_DASHBOARD:-0}" = "1" ]; then
  exit 0
fi
exec .venv/bin/edp-tui
