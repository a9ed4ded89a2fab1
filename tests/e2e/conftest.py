"""The e2e layer: a real Docker engine, the repository's base images and one shared compose stack.

`compose_stack` (session scope) brings the real stack up once for every e2e test that asks for it, from a
temporary copy of the repository (tests may edit files there for hot reload without dirtying the work tree),
under a unique project name and a free host port, through the user's own `stack/scripts/bring-up.sh`; it
always tears it down with `docker compose down -v`, also when the bring-up or a test failed.

    def test_something(compose_stack: ComposeStack) -> None:
        compose_stack.graphql("query { version }")
        compose_stack.compose("ps", "--format", "json")
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import fault_figures
from tests.support.docker_engine import (
    STACK_TIMINGS,
    ComposeStack,
    copy_repository,
    ensure_base_images,
    ensure_engine,
)
from tests.support.ports import free_port

# Cold: base images and the image build (about 3 min each on an idle host), then up --wait on 2 cores.
BRING_UP_DEADLINE_S = 2400.0
TEAR_DOWN_DEADLINE_S = 300.0


# pytest-timeout counts fixture set-up: the first test to use the session's stack also pays for the bring-up.
STACK_TEST_TIMEOUT_S = 3600


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
            fixtures = getattr(item, "fixturenames", ())
            uses_stack = "compose_stack" in fixtures or "run_container_stack" in fixtures
            if uses_stack and item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(STACK_TEST_TIMEOUT_S))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if STACK_TIMINGS:
        terminalreporter.section("compose stack timings")
        for name, seconds in STACK_TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
    if fault_figures.ABUSE_FIGURES:
        terminalreporter.section("abuse and fault figures (tests/e2e/test_abuse.py)")
        terminalreporter.write_line("attack or fault | before | now | recovered in | lost")
        for row in fault_figures.ABUSE_FIGURES:
            terminalreporter.write_line(" | ".join(row))
    if fault_figures.FAULT_FIGURES:
        terminalreporter.section("fault figures (tests/e2e/test_faults.py)")
        for line in fault_figures.table():
            terminalreporter.write_line(line)


@pytest.fixture(scope="session", autouse=True)
def docker_engine() -> Iterator[None]:
    """Every e2e test needs the engine and the base images: install/start/build them once, when missing."""
    ensure_engine()
    ensure_base_images()
    yield


def _seconds(pattern: str, text: str) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else None


# The shared stack serves the user's own code beside the demo, set up as the README's "Bring your own code"
# says on a fresh clone: lines appended to stack/.env naming the locations (here the fixture projects of the
# repository copy), which bring-up.sh then completes with the example's settings and a generated password.
OWN_CODE_SETTINGS = """
EDP_CODE_LOCATIONS=etl_pipeline shop plain
EDP_LOCATION_SHOP_DBT_PROJECT=tests/fixtures/projects/shop_dbt
EDP_LOCATION_PLAIN_FILE=tests/fixtures/projects/plain/definitions.py
"""
# Limits the abuse suite (tests/e2e/test_abuse.py) waits out, shorter than the defaults but far above what
# the test-size builds need: a parse that never ends, a runaway warehouse query, a hung daemon. The temp-file
# limit is reached by the abuse suite's spilling sort well before its statement timeout.
PREPARE_TIMEOUT_S, STATEMENT_TIMEOUT_S, HEARTBEAT_TOLERANCE_S = 60, 45, 90
LIMIT_SETTINGS = f"""
EDP_DBT_PREPARE_TIMEOUT_S={PREPARE_TIMEOUT_S}
WAREHOUSE_STATEMENT_TIMEOUT={STATEMENT_TIMEOUT_S}s
WAREHOUSE_TEMP_FILE_LIMIT=200MB
DAGSTER_DAEMON_HEARTBEAT_TOLERANCE={HEARTBEAT_TOLERANCE_S}
EDP_DAEMON_RESTART_AFTER=3
"""


def write_settings(repo: Path, extra: str) -> None:
    """`cat >> stack/.env` of the README, on a clone that has no stack/.env yet."""
    with open(repo / "stack" / ".env", "a") as env_file:
        env_file.write(extra)


@contextlib.contextmanager
def _stack(prefix: str, extra_env: dict[str, str], label: str, settings: str = "") -> Iterator[ComposeStack]:
    """A stack from a temporary copy of the repository under a unique project, port and image tag, through
    stack/scripts/bring-up.sh; always torn down (run containers of the run-per-container mode first)."""
    workdir = Path(tempfile.mkdtemp(prefix="edp-e2e-"))
    project = f"{prefix}{secrets.token_hex(4)}"
    port = free_port()
    repo = copy_repository(workdir / "repo")
    if settings:
        write_settings(repo, settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DAGSTER_", "EDP_"))}
    # An image tag of its own: two e2e sessions (two checkouts) never run each other's build. The layer cache
    # is shared, so an unchanged build costs nothing; the tag is removed at tear-down.
    image = f"edp-dagster:{project}"
    env.update(COMPOSE_PROJECT_NAME=project, DAGSTER_WEBSERVER_PORT=str(port), EDP_IMAGE=image, **extra_env)
    env = {k: v.replace("{repo}", str(repo)) for k, v in env.items()}
    stack = ComposeStack(
        project=project,
        repo=repo,
        compose_file=repo / "stack" / "docker-compose.yaml",
        env=env,
        webserver_url=f"http://127.0.0.1:{port}",
    )
    try:
        started = time.monotonic()
        proc = subprocess.run(
            ["bash", str(repo / "stack" / "scripts" / "bring-up.sh")],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=BRING_UP_DEADLINE_S,
        )
        stack.bring_up_log = proc.stdout
        if proc.returncode != 0:
            pytest.fail(f"bring-up.sh failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}", pytrace=False)
        build = _seconds(r"built \S+ in (\d+) s", proc.stdout)
        up = _seconds(r"all four services healthy in (\d+) s", proc.stdout)
        if build is not None:
            STACK_TIMINGS[
                f"image build{label} (stack/Dockerfile; cold on a fresh host, cached otherwise)"
            ] = build
        if up is not None:
            STACK_TIMINGS[f"cold up --wait{label} (fresh volumes)"] = up
        STACK_TIMINGS[f"bring-up.sh in total{label}"] = time.monotonic() - started
        yield stack
    finally:
        run_containers = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=edp.project={project}"],
            capture_output=True,
            text=True,
            timeout=TEAR_DOWN_DEADLINE_S,
        ).stdout.split()
        if run_containers:
            subprocess.run(
                ["docker", "rm", "-f", *run_containers], capture_output=True, timeout=TEAR_DOWN_DEADLINE_S
            )
        down = subprocess.run(
            ["docker", "compose", "down", "-v", "--remove-orphans", "--timeout", "20"],
            cwd=repo / "stack",
            env=env,
            capture_output=True,
            text=True,
            timeout=TEAR_DOWN_DEADLINE_S,
        )
        subprocess.run(["docker", "image", "rm", image], capture_output=True, timeout=TEAR_DOWN_DEADLINE_S)
        # Files the containers created in the bind mounts (dbt target/logs mount points) belong to root; we
        # are root in CI, and ignore_errors keeps a non-root run from failing its tear-down over them.
        shutil.rmtree(workdir, ignore_errors=True)
        if down.returncode != 0:
            raise RuntimeError(f"docker compose down failed for {project}: {down.stderr}")


@pytest.fixture(scope="session")
def compose_stack(docker_engine: None) -> Iterator[ComposeStack]:
    """The stack serving the demo and two locations of the user's own code (OWN_CODE_SETTINGS)."""
    with _stack("edpe2e", {}, "", OWN_CODE_SETTINGS + LIMIT_SETTINGS) as stack:
        yield stack


@pytest.fixture(scope="session")
def run_container_stack(docker_engine: None) -> Iterator[ComposeStack]:
    """The stack in its run-per-container mode (stack/docker-compose.run-containers.yaml), a second project.
    Its env also names the override (COMPOSE_FILE) and the repository copy (EDP_CODE_DIR_ABS), so that
    `stack.compose(...)` keeps the mode."""
    extra = {
        "EDP_RUN_CONTAINERS": "1",
        "EDP_CODE_DIR_ABS": "{repo}",
        "COMPOSE_FILE": "docker-compose.yaml:docker-compose.run-containers.yaml",
    }
    with _stack("edprc", extra, " (run containers)") as stack:
        yield stack
