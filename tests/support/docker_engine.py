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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
ENSURE_ENGINE = REPO_ROOT / "stack" / "scripts" / "ensure-engine.sh"
BUILD_BASE_IMAGES = REPO_ROOT / "stack" / "airgap" / "build-base-images.sh"

# The tags stack/airgap/build-base-images.sh provides (EDP_LOCAL_IMAGE_PREFIX names them there too).
IMAGE_PREFIX = os.environ.get("EDP_LOCAL_IMAGE_PREFIX") or "edp-local"
DEBIAN_IMAGE = f"{IMAGE_PREFIX}/debian:bookworm"
POSTGRES_IMAGE = f"{IMAGE_PREFIX}/postgres:15"
PYTHON_IMAGE = f"{IMAGE_PREFIX}/python:3.11"

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


# Figures the e2e session prints at its end (cold build, cold/warm up --wait, reload latencies).
STACK_TIMINGS: dict[str, float] = {}


def copy_worktree(dest: Path) -> Path:
    """Copy the work tree's tracked and untracked-but-not-ignored files (no .venv, caches, .env) to dest.

    Not the integration tests' `copy_repository`, which copies only what a code location needs."""
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        rel = raw.decode()
        src = REPO_ROOT / rel
        if not src.is_file():  # deleted in the work tree but still in the index
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest


# The old name, for tests/e2e/conftest.py until it says copy_worktree.
copy_repository = copy_worktree


@dataclass
class ComposeStack:
    """A running compose stack: what other e2e tests (and the dashboard's) need to reach it."""

    project: str
    repo: Path  # the temporary copy of the repository the stack was built from and bind-mounts
    compose_file: Path
    env: dict[str, str]  # environment for `docker compose` (COMPOSE_PROJECT_NAME, ports, ...)
    webserver_url: str
    bring_up_log: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def graphql_url(self) -> str:
        return f"{self.webserver_url}/graphql"

    @property
    def stack_dir(self) -> Path:
        return self.compose_file.parent

    def compose(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`docker compose ARGS` for this project (run in the stack folder, so its .env applies)."""
        return subprocess.run(
            ["docker", "compose", *args],
            cwd=self.stack_dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, timeout: float = 60
    ) -> dict[str, Any]:
        response = httpx.post(
            self.graphql_url, json={"query": query, "variables": variables or {}}, timeout=timeout
        )
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]
