#!/usr/bin/env bash
# Provides the three base images the stack and the tests use, under local tags:
#
#   edp-local/debian:bookworm   a small Debian with bash and coreutils    (official alternative: debian:bookworm-slim)
#   edp-local/postgres:15       PostgreSQL with the official contract    (official alternative: postgres:15)
#   edp-local/python:3.11       python + pip                             (official alternative: python:3.11-slim)
#
# For each tag that is missing: pull the official image and tag it, or, when no image registry answers (air-gapped
# hosts) or with --local, build a stand-in from Debian packages: a `debootstrap --variant=minbase bookworm` root
# filesystem imported with `docker import`, then postgres.Dockerfile and python.Dockerfile on top of it. The Debian
# mirror and apt proxy come from the host's apt configuration at run time and reach only the build stages:
# neither is written into the repository nor ships in an image (see README.md).
#
# Usage: build-base-images.sh [--local] [--rebuild] [debian|postgres|python ...]
#   --local    never pull; build the stand-ins (also EDP_LOCAL_BASE_IMAGES=1)
#   --rebuild  rebuild/re-pull even if the tag exists
#   names      only these images (and what they need); default all three
# Environment: EDP_LOCAL_IMAGE_PREFIX (default edp-local) names the tags, e.g. for a trial build of one's own.
# Idempotent: with all tags present it only inspects them (well under a second).
set -euo pipefail
EDP_LOG_TAG=base-images
# shellcheck source=../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
airgap_dir="$edp_stack_dir/airgap"

prefix=${EDP_LOCAL_IMAGE_PREFIX:-edp-local}
DEBIAN_TAG=$prefix/debian:bookworm
POSTGRES_TAG=$prefix/postgres:15
PYTHON_TAG=$prefix/python:3.11
# Raised when the stand-ins change in a way that matters (2: no build-host setting in any image): a stand-in
# built by an older version of this script is rebuilt. Pulled official images carry no such label.
STAND_IN_VERSION=2
declare -A official=([debian]=debian:bookworm-slim [postgres]=postgres:15 [python]=python:3.11-slim)
declare -A tag_of=([debian]=$DEBIAN_TAG [postgres]=$POSTGRES_TAG [python]=$PYTHON_TAG)

local_only=${EDP_LOCAL_BASE_IMAGES:-0}
rebuild=0
wanted=()
for arg in "$@"; do
  case "$arg" in
    --local) local_only=1 ;;
    --rebuild) rebuild=1 ;;
    debian | postgres | python) wanted+=("$arg") ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (expected --local, --rebuild, debian, postgres or python)" ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=(debian postgres python)

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "no Docker engine answers: run stack/scripts/ensure-engine.sh first"

stale_stand_in() {
  local labels
  labels=$(docker image inspect -f '{{index .Config.Labels "org.edp.stand-in"}} {{index .Config.Labels "org.edp.stand-in-version"}}' "$1" 2>/dev/null) || return 1
  [ "${labels%% *}" = true ] && [ "${labels#* }" != "$STAND_IN_VERSION" ]
}
needs_work() { [ "$rebuild" -eq 1 ] || ! image_exists "${tag_of[$1]}" || stale_stand_in "${tag_of[$1]}"; }
todo=()
for name in "${wanted[@]}"; do needs_work "$name" && todo+=("$name"); done
[ ${#todo[@]} -gt 0 ] || exit 0 # fast path: everything is there

# Several test sessions may ask for the images at once: one builds, the others wait and then find them.
lock=${TMPDIR:-/tmp}/edp-base-images.lock
exec 9>"$lock"
if ! flock -n 9; then
  say "another build of the base images is running; waiting for it (lock $lock)"
  flock -w 3600 9 || die "gave up waiting for the lock $lock"
fi
t_all=$(date +%s)

registry_ok=unknown
# Tries the official image once; remembers a failure so that an air-gapped host pays for it only once.
try_pull() {
  local name=$1 image=${official[$1]} out
  [ "$local_only" -eq 1 ] && return 1
  [ "$registry_ok" = no ] && return 1
  say "pulling $image"
  if out=$(timeout 600 docker pull -q "$image" 2>&1); then
    registry_ok=yes
    docker tag "$image" "${tag_of[$name]}"
    say "tagged $image as ${tag_of[$name]}"
    return 0
  fi
  registry_ok=no
  say "cannot pull $image ($(printf '%s' "$out" | tail -n1)); building stand-ins from Debian packages"
  return 1
}

# docker build with the classic builder (Debian's engine has no buildx), one line per step on the console and
# the full output in a log file that is shown when the build fails. The context is a temporary folder: the
# Dockerfile, the given files, and apt/ with the host's apt settings for the build stage.
build_image() {
  local tag=$1 dockerfile=$2 log t rc ctx
  shift 2
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/edp-build-ctx.XXXXXX")
  cp "$dockerfile" "$@" "$ctx/"
  write_apt_context "$ctx/apt"
  log=$(mktemp "${TMPDIR:-/tmp}/edp-build.XXXXXX.log")
  say "building $tag from $(basename "$dockerfile") (log: $log)"
  t=$(date +%s)
  set +e
  DOCKER_BUILDKIT=0 docker build --build-arg "BASE_IMAGE=$DEBIAN_TAG" --label org.edp.stand-in=true \
    --label "org.edp.stand-in-version=$STAND_IN_VERSION" \
    -t "$tag" -f "$ctx/$(basename "$dockerfile")" "$ctx" 2>&1 | tee "$log" |
    grep --line-buffered -E '^Step [0-9]+/[0-9]+ : ' | cut -c1-110 | sed -u 's/^/    /' >&2
  rc=${PIPESTATUS[0]}
  set -e
  rm -rf "$ctx"
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2
    die "building $tag failed after $(($(date +%s) - t)) s (full log: $log)"
  fi
  rm -f "$log"
  say "built $tag in $(($(date +%s) - t)) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

build_debian_rootfs() {
  [ "$(id -u)" -eq 0 ] || die "building $DEBIAN_TAG needs root (debootstrap); run as root or provide ${official[debian]}"
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing: apt-get install debootstrap"
  local mirror default rootfs t
  mirror=${EDP_DEBIAN_MIRROR:-$(host_debian_mirror bookworm)}
  [ -n "$mirror" ] || die "no Debian bookworm mirror found in the host's apt sources (set EDP_DEBIAN_MIRROR)"
  default=$(debian_default_mirror)
  [ -n "$default" ] || die "cannot read Debian's default mirror from debootstrap (DEF_MIRROR)"
  rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/edp-rootfs.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the path is fixed
  trap "rm -rf '$rootfs'" EXIT
  say "debootstrap --variant=minbase bookworm from the host's apt mirror (about 1-2 minutes)"
  t=$(date +%s)
  local log="$rootfs.log"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "debootstrap failed (full log: $log)"
  fi
  rm -f "$log"
  say "root filesystem ready in $(($(date +%s) - t)) s"
  # apt sources inside the image: Debian's own, as in the official image, not the build host's mirror or proxy
  # (derived builds get those in their build stage only: write_apt_context). debootstrap also copied the host's
  # resolv.conf and hostname: Docker provides both at run time.
  {
    echo "deb $default bookworm main"
    echo "deb $default bookworm-updates main"
    echo "deb ${default%/debian}/debian-security bookworm-security main"
  } >"$rootfs/etc/apt/sources.list"
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"
  # Same policy as the official Debian images: no package cache left in layers, no recommended packages.
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Install-Recommends "false";
APT
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log \
    "$rootfs"/tmp/* "$rootfs"/dev/* 2>/dev/null || true
  say "importing the root filesystem as $DEBIAN_TAG"
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'LABEL org.edp.stand-in=true' \
    --change "LABEL org.edp.stand-in-version=$STAND_IN_VERSION" \
    --change 'CMD ["bash"]' - "$DEBIAN_TAG" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  say "imported $DEBIAN_TAG ($(docker image inspect -f '{{.Size}}' "$DEBIAN_TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
}

debian_usable() { image_exists "$DEBIAN_TAG" && ! stale_stand_in "$DEBIAN_TAG"; }

# The stand-ins for postgres and python are built on the Debian stand-in, so a missing debian tag is built first
# whenever one of them is built locally.
provide() {
  local name=$1
  needs_work "$name" || return 0
  try_pull "$name" && return 0
  case "$name" in
    debian) build_debian_rootfs ;;
    postgres)
      debian_usable || build_debian_rootfs
      build_image "$POSTGRES_TAG" "$airgap_dir/postgres.Dockerfile" "$airgap_dir/postgres-entrypoint.sh"
      ;;
    python)
      debian_usable || build_debian_rootfs
      build_image "$PYTHON_TAG" "$airgap_dir/python.Dockerfile"
      ;;
  esac
}

say "providing: ${todo[*]}"
for name in "${todo[@]}"; do
  # Another process may have built it while we waited for the lock.
  needs_work "$name" || continue
  provide "$name"
done
say "base images ready in $(($(date +%s) - t_all)) s"
