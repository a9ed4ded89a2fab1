#!/usr/bin/env bash
# Stops and removes the stack's containers and network. The named volumes (run history, compute logs, dbt
# artifacts) are kept unless --volumes is given.
#
# Usage: tear-down.sh [--volumes]
# Environment: COMPOSE_PROJECT_NAME (default edp, as in stack/.env).
set -euo pipefail
EDP_LOG_TAG=tear-down
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

args=(down --remove-orphans)
for arg in "$@"; do
  case "$arg" in
    --volumes | -v) args+=(--volumes) ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (expected --volumes)" ;;
  esac
done
cd "$edp_stack_dir"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers: nothing to tear down"
timed "docker compose ${args[*]}" docker compose "${args[@]}"
