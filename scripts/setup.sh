#!/usr/bin/env bash
# Prepares a development/test environment on a Debian host: system packages the tests and the
# dashboard need, then a virtual environment at .venv with exactly the locked package set
# (requirements/dev.txt, pinned and hashed; refresh it with `bash scripts/lock.sh`) and edp-tui and
# etl_pipeline installed editable. Only plain pip is used: no lock tool is needed here.
# Idempotent: a second run with nothing changed takes about a second.
# `setup.sh --stamp` only prints the fingerprint of what .venv is built from (the projects and the lock).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

lock=requirements/dev.txt
[ -f "$lock" ] || { echo "missing $lock: run bash scripts/lock.sh" >&2; exit 1; }
# The stamp follows the projects' metadata and the lock: a changed lock reinstalls.
want=$(cat pyproject.toml stack/platform/pyproject.toml etl_pipeline/pyproject.toml "$lock" | sha256sum | cut -c1-16)
case "${1:-}" in
  --stamp) echo "$want"; exit 0 ;;
  "") ;;
  *) echo "unknown argument '$1' (expected --stamp or nothing)" >&2; exit 1 ;;
esac

# --- system packages (Debian) ------------------------------------------------
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
command -v tmux >/dev/null || need+=(tmux)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v git >/dev/null || need+=(git)
# The e2e layer's real browser (the Dagster UI through the webserver's cross-site guard): Debian's Chromium,
# driven headless by Playwright, never a browser download.
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  say "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- Python virtual environment ----------------------------------------------
py=${PYTHON:-python3}
stamp=.venv/.setup-stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/pip ]; then
  # --clear: an interrupted earlier attempt may have left a venv without pip.
  say "creating virtual environment .venv"
  "$py" -m venv --clear .venv
fi
say "installing Python packages from $lock (edp-tui, the platform, the demo and every dependency, pinned)"
start=$(date +%s)
# The host's pip configuration may list local indexes that do not exist for every package: hide that noise.
quiet() {
  local rc
  set +e
  "$@" 2>&1 | grep -v -E "is ignored: it is neither a file nor a directory|BuildBackendWarning|return '\\n'.join"
  rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}
# Hash-checking mode: every package, dependencies included, is the locked version and file. Then the two
# projects themselves, editable, with the locked build backend (setuptools is in the lock): nothing more is
# resolved or downloaded.
quiet .venv/bin/pip install -q --require-hashes --no-deps -r "$lock"
quiet .venv/bin/pip install -q --no-deps --no-build-isolation -e . -e ./stack/platform -e ./etl_pipeline
.venv/bin/pip check >/dev/null || { .venv/bin/pip check; exit 1; }
echo "$want" > "$stamp"
say "Python packages ready in $(( $(date +%s) - start )) s"
