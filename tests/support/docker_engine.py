"""A real Docker engine for the tests that need one.

    from tests.support.docker_engine import ensure_engine, base_image

    ensure_engine()          # engine answers and `docker compose` works, or DockerEngineError says why
    image = base_image()     # "edp-local/debian:bookworm": bash, sh and coreutils, built if missing

Both delegate to the repository's own scripts (stack/scripts/ensure-engine.sh and
stack/airgap/build-base-images.sh), so tests exercise exactly what users run. Each runs at most once per test
session (per process); the scripts are idempotent and take a lock, so parallel sessions on one machine
are safe.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENSURE_ENGINE = REPO_ROOT / "stack" / "scripts" / "ensure-engine.sh"
BUILD_BASE_IMAGES = REPO_ROOT / "stack" / "airgap" / "build-base-images.sh"

DEBIAN_IMAGE = "edp-local/debian:bookworm"
POSTGRES_IMAGE = "edp-local/postgres:15"
PYTHON_IMAGE = "edp-local/python:3.11"

# Installing docker.io and Compose takes about half a minute; a cold debootstrap plus two image builds about
# three minutes on 2 cores. The deadlines leave room for a slow mirror.
ENGINE_DEADLINE_S = 600.0
BASE_IMAGES_DEADLINE_S = 1800.0


class DockerEngineError(RuntimeError):
    """The engine or an image could not be provided; the message carries the script's own explanation."""


def _run_script(script: Path, args: list[str], deadline_s: float) -> None:
    if shutil.which("bash") is None:
        raise DockerEngineError("bash is needed to run " + str(script))
    try:
        proc = subprocess.run(
            ["bash", str(script), *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=deadline_s,
            env=os.environ.copy(),
        )
    except subprocess.TimeoutExpired as exc:
        raise DockerEngineError(f"{script.name} did not finish within {deadline_s:.0f} s") from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-30:])
        raise DockerEngineError(f"{script.name} {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")


@functools.cache
def ensure_engine() -> None:
    """Make sure a Docker engine answers and Compose v2 works (installs/starts them as root on Debian)."""
    _run_script(ENSURE_ENGINE, [], ENGINE_DEADLINE_S)


@functools.cache
def ensure_base_images(*names: str) -> None:
    """Provide the named base images ("debian", "postgres", "python"; all when none is named)."""
    ensure_engine()
    _run_script(BUILD_BASE_IMAGES, list(names), BASE_IMAGES_DEADLINE_S)


def base_image() -> str:
    """A small, locally available image with bash, sh and coreutils (built from Debian packages if needed)."""
    ensure_base_images("debian")
    return DEBIAN_IMAGE


def engine_available() -> bool:
    """True when an engine answers right now (no installing): for skip conditions in non-e2e layers."""
    if shutil.which("docker") is None:
        return False
    try:
        return (
            subprocess.run(
                ["docker", "version", "--format", "{{.Server.Version}}"],
                capture_output=True,
                timeout=10,
            ).returncode
            == 0
        )
    except subprocess.TimeoutExpired:
        return False
