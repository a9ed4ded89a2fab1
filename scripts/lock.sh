#!/usr/bin/env bash
# Refreshes the lock files: the full, pinned and hashed set of Python packages, resolved from the projects'
# own dependency ranges (pyproject.toml files) on Python 3.11.
#
#   requirements/image.txt   the platform (stack/platform) and its build backend: stack/Dockerfile installs it
#   requirements/dev.txt     edp-tui with its dev extra + the platform + the demo (etl_pipeline), the same
#                            versions as image.txt for what they share: scripts/setup.sh installs it into .venv
#
# Usage: bash scripts/lock.sh [--upgrade]   (--upgrade: newest versions the ranges allow; default: keep the
#                                           current pins where they still fit, add or drop only what changed)
# Commit both files with the pyproject.toml change that needed them; setup.sh and the image follow.
#
# The tool: pip-tools' pip-compile (pinned below, in a throwaway venv under .build/). It resolves with pip itself,
# so it reads the host's pip configuration (index, CA bundle, find-links) exactly as the installs do, and it
# writes hashes for every file of each pinned version. --no-emit-index-url, --no-emit-find-links and
# --no-emit-trusted-host keep the host's index out of the files. (uv is faster but ignores pip.conf.)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf '\033[1m[lock]\033[0m %s\n' "$*" >&2; }
PIP_TOOLS_VERSION=7.6.2
py=${PYTHON:-python3}
"$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
  { echo "the lock is made for Python 3.11 (the image's and setup's); $py is $("$py" -V 2>&1)" >&2; exit 1; }

upgrade=()
case "${1:-}" in
  --upgrade) upgrade=(--upgrade) ;;
  "") ;;
  *) echo "unknown argument '$1' (expected --upgrade)" >&2; exit 1 ;;
esac

tool=.build/lock-venv
if [ "$("$tool/bin/pip-compile" --version 2>/dev/null)" != "pip-compile, version $PIP_TOOLS_VERSION" ]; then
  say "installing pip-tools $PIP_TOOLS_VERSION into $tool"
  "$py" -m venv --clear "$tool"
  "$tool/bin/pip" install -q "pip-tools==$PIP_TOOLS_VERSION"
fi

compile() {
  CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh" "$tool/bin/pip-compile" --quiet "${upgrade[@]}" --allow-unsafe --all-build-deps --generate-hashes --no-strip-extras \
    --no-emit-index-url --no-emit-find-links --no-emit-trusted-host "$@"
}
mkdir -p requirements
say "resolving requirements/image.txt (the platform)"
compile --output-file requirements/image.txt stack/platform/pyproject.toml
say "resolving requirements/dev.txt (edp-tui[dev] + the platform + the demo, constrained to image.txt)"
# Extras stay in the locks (`gql[requests]==4.0.0`): pip 23.0 (Debian's) refuses in hash-checking mode a
# dependency's extra whose plain name alone is pinned. Constraints may not name extras: a stripped copy.
constraint=.build/image-constraints.txt # a fixed path: the lock's "via" notes name it
sed -E 's/^([A-Za-z0-9._-]+)\[[^]]*\]==/\1==/' requirements/image.txt >"$constraint"
compile --extra dev --constraint "$constraint" --output-file requirements/dev.txt \
  pyproject.toml stack/platform/pyproject.toml etl_pipeline/pyproject.toml
if grep -n -E -- '--(extra-)?index-url|--find-links|--trusted-host|://' requirements/*.txt >&2; then
  echo "a lock file names an index or a URL (lines above): it must not" >&2
  exit 1
fi
say "done: $(grep -c -E '^[a-z0-9]' requirements/dev.txt) packages in dev.txt, $(grep -c -E '^[a-z0-9]' requirements/image.txt) in image.txt"
