#!/usr/bin/env bash
# Stops and removes the stack's containers and network. The named volumes (run history, compute logs, dbt
# artifacts) are kept unless --volumes is given.
#
# Usage: tear-down.sh [--volumes]
# Environment: COMPOSE_PROJECT_NAME (default edp, as in stack/.env).
# Run containers of the run-per-container mode (docker-compose.run-containers.yaml) are no Compose services:
# they are removed first (their runs are failed by run monitoring at the next start), or the network would
# still have endpoints.
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
# -f: the base file alone names the project, also when COMPOSE_FILE lists the override.
project=$(docker compose -f docker-compose.yaml config --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)["name"])')
run_containers=$(docker ps -aq --filter "label=edp.project=$project" --filter label=edp.role=run-worker)
if [ -n "$run_containers" ]; then
  # shellcheck disable=SC2086  # one id per word
  timed "removing $(echo $run_containers | wc -w) run container(s)" docker rm -f $run_containers
fi
timed "docker compose ${args[*]}" docker compose "${args[@]}"
