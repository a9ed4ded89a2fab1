#!/usr/bin/env bash
# Brings the stack up from whatever state the host is in, saying at every step what it does and how long it took:
#   1. a Docker engine with Compose v2 (ensure-engine.sh: installs and starts it as root on Debian)
#   2. stack/.env (created from .env.example with a generated password when missing), then the settings checked
#   3. the base images (pulled and tagged, or built from Debian packages when no registry answers)
#   4. the image of user-code/webserver/daemon (stack/Dockerfile), with the host's pip settings in its build stage
#   5. `docker compose up --wait`: all four services healthy, with their states while waiting
#
# Usage: bring-up.sh [--no-build] [--timeout SECONDS]
# Environment: COMPOSE_PROJECT_NAME (default edp) and every variable of .env.example override stack/.env.
#   EDP_RUN_CONTAINERS=1: the scale-out mode, every run in a container of its own
#   (adds docker-compose.run-containers.yaml and sets EDP_CODE_DIR_ABS, the code folder's absolute path for its
#   bind mounts: EDP_CODE_DIR resolved, by default the repository).
set -euo pipefail
EDP_LOG_TAG=bring-up
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build=1
wait_timeout=${EDP_UP_TIMEOUT:-600}
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --timeout) shift; wait_timeout=${1:?--timeout needs a number of seconds} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (expected --no-build or --timeout SECONDS)" ;;
  esac
  shift
done
case "$wait_timeout" in '' | *[!0-9]*) die "--timeout must be a whole number of seconds, not '$wait_timeout'" ;; esac

t_all=$(date +%s)
cd "$edp_stack_dir" # Compose reads .env (and COMPOSE_FILE in it) from the project folder
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0 # Debian's engine has no buildx: the classic builder
case "${EDP_RUN_CONTAINERS:-0}" in
  1 | true | yes)
    code_dir=${EDP_CODE_DIR:-$( (sed -n 's/^EDP_CODE_DIR=//p' .env 2>/dev/null || true) | tail -n1)}
    EDP_CODE_DIR_ABS=${EDP_CODE_DIR_ABS:-$(cd "${code_dir:-..}" && pwd)}
    export EDP_CODE_DIR_ABS COMPOSE_FILE="docker-compose.yaml${COMPOSE_PATH_SEPARATOR:-:}docker-compose.run-containers.yaml"
    say "mode: a container per run (docker-compose.run-containers.yaml; code mounted from $EDP_CODE_DIR_ABS)"
    ;;
  0 | false | no | '') ;;
  *) die "EDP_RUN_CONTAINERS must be 1 (a container per run) or 0 (runs beside the code server), not '$EDP_RUN_CONTAINERS'" ;;
esac

# 1. engine ---------------------------------------------------------------------------------------------
say "step 1/5: Docker engine and Compose"
bash "$edp_stack_dir/scripts/ensure-engine.sh"

# 2. settings ------------------------------------------------------------------------------------------
say "step 2/5: settings (stack/.env)"
if [ ! -f .env ] || ! grep -q '^DAGSTER_PG_PASSWORD=' .env; then
  # Missing, or holding only settings a user added (README "Bring your own code"): the example with a generated
  # password first, the user's lines after it (later lines win in Compose's .env).
  password=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
  umask 077
  own=$(cat .env 2>/dev/null || true)
  { sed "s/^DAGSTER_PG_PASSWORD=.*/DAGSTER_PG_PASSWORD=$password/" .env.example
    [ -z "$own" ] || printf '\n# Added before the first bring-up:\n%s\n' "$own"; } >.env.new
  mv .env.new .env
  umask 022
  say "created stack/.env with a generated database password (mode 600)${own:+, keeping the settings it had}"
fi
config_json=$(docker compose config --format json 2>&1) || {
  printf '%s\n' "$config_json" >&2
  die "Compose rejects the configuration (message above): check stack/.env and the environment"
}
# Checks Compose does not make: a password, port numbers, names. Nothing has been started yet.
summary=$(printf '%s' "$config_json" | python3 -c '
import json, re, sys
cfg = json.load(sys.stdin)
svc = cfg["services"]
errors = []
env = svc["postgres"].get("environment") or {}
password = env.get("POSTGRES_PASSWORD") or ""
if not password:
    errors.append("DAGSTER_PG_PASSWORD is empty: set it in stack/.env (or delete stack/.env to get a generated one)")
elif not re.fullmatch(r"[A-Za-z0-9._-]+", password):
    errors.append("DAGSTER_PG_PASSWORD may contain only letters, digits, \".\", \"_\" and \"-\"")
for name in ("POSTGRES_USER", "POSTGRES_DB", "WAREHOUSE_DB"):
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env.get(name) or ""):
        errors.append(f"{name}={env.get(name)!r} is not a valid PostgreSQL name (letters, digits, underscores)")
for name, s in svc.items():
    for p in s.get("ports") or []:
        pub = str(p.get("published") or "")
        if not pub.isdigit() or not 1 <= int(pub) <= 65535:
            errors.append(f"service {name}: published port {pub!r} is not a port number (1-65535)")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
web = next((p for p in svc["dagster-webserver"].get("ports") or [] if p["target"] == 3000), None)
print(cfg["name"])
print(svc["postgres"]["image"])
print(svc["user-code"]["build"].get("args", {}).get("PYTHON_BASE_IMAGE", ""))
print(svc["user-code"]["image"])
print("http://%s:%s" % (web.get("host_ip") or "127.0.0.1", web["published"]) if web else "")
') || die "stack/.env or the environment holds invalid settings (above); nothing was started"
{
  read -r project
  read -r postgres_image
  read -r python_image
  read -r app_image
  read -r url
} <<<"$summary"
say "project '$project', images: $postgres_image, $python_image -> $app_image"

# 3. base images ---------------------------------------------------------------------------------------
say "step 3/5: base images"
local_names=()
case "$postgres_image" in edp-local/postgres:15) local_names+=(postgres) ;; esac
case "$python_image" in edp-local/python:3.11) local_names+=(python) ;; esac
if [ ${#local_names[@]} -gt 0 ]; then
  bash "$edp_stack_dir/airgap/build-base-images.sh" "${local_names[@]}"
fi
for image in "$postgres_image" "$python_image"; do
  if ! image_exists "$image"; then
    timed "pulling $image" docker pull -q "$image"
  fi
  say "  $image: present"
done

# 4. build ----------------------------------------------------------------------------------------------
if [ "$build" -eq 1 ]; then
  say "step 4/5: building $app_image from stack/Dockerfile (cached layers make a rebuild quick)"
  write_pip_context "$edp_stack_dir/airgap/pip"
  t=$(date +%s)
  log=$(mktemp "${TMPDIR:-/tmp}/edp-compose-build.XXXXXX.log")
  set +e
  docker compose build user-code 2>&1 | tee "$log" |
    grep --line-buffered -E '^Step [0-9]+/[0-9]+ : ' | cut -c1-110 | sed -u 's/^/    /' >&2
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2
    die "building $app_image failed after $(($(date +%s) - t)) s (full log: $log)"
  fi
  rm -f "$log"
  say "built $app_image in $(($(date +%s) - t)) s"
else
  say "step 4/5: build skipped (--no-build)"
  image_exists "$app_image" || die "$app_image does not exist: run without --no-build"
fi

# 5. up --wait -------------------------------------------------------------------------------------------
say "step 5/5: starting the services and waiting until all four are healthy (at most ${wait_timeout} s)"
t=$(date +%s)
log=$(mktemp "${TMPDIR:-/tmp}/edp-compose-up.XXXXXX.log")
docker compose up -d --wait --wait-timeout "$wait_timeout" >"$log" 2>&1 &
up_pid=$!
# While Compose waits, show each service's state when it changes. `compose ps` fails while Compose replaces
# a container (an image rebuilt): that is no reason to stop waiting.
last=""
while kill -0 "$up_pid" 2>/dev/null; do
  now=$(docker compose ps -a --format '{{.Service}}={{.State}}{{if .Health}}/{{.Health}}{{end}}' 2>/dev/null |
    sort | tr '\n' ' ' || true)
  if [ -n "$now" ] && [ "$now" != "$last" ]; then
    say "  +$(($(date +%s) - t))s  $now"
    last=$now
  fi
  sleep 2
done
if ! wait "$up_pid"; then
  cat "$log" >&2
  docker compose ps -a >&2 || true
  for s in $(docker compose ps -a --format '{{.Service}} {{.Health}} {{.State}}' |
    awk '$2 != "healthy" { print $1 }'); do
    say "last log lines of $s:"
    docker compose logs --no-color --tail 25 "$s" >&2 || true
  done
  die "the stack did not become healthy within ${wait_timeout} s (Compose's output and the logs above)"
fi
rm -f "$log"
say "all four services healthy in $(($(date +%s) - t)) s"
say "stack '$project' up in $(($(date +%s) - t_all)) s in total${url:+; Dagster UI and GraphQL: $url (GraphQL at $url/graphql)}"
