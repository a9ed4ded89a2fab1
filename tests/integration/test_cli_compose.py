"""`edp-tui up` / `down` and the Docker part of `status` on a real engine, with a one-service compose project
of its own (unique name, the locally built Debian base image, removed at the end whatever happens)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edp_tui.cli import main
from tests.support.docker_engine import base_image, engine_available
from tests.support.ports import free_port

pytestmark = pytest.mark.skipif(not engine_available(), reason="needs a Docker engine")

COMPOSE = """\
name: {project}
services:
  probe:
    image: {image}
    pull_policy: never
    init: true
    command: ["sleep", "infinity"]
    healthcheck:
      test: ["CMD", "test", "-d", "/tmp"]
      interval: 1s
      timeout: 5s
      retries: 5
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("EDP_TUI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def project_containers(project: str) -> list[str]:
    proc = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout.split()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    name = f"edp-cli-{uuid.uuid4().hex[:10]}"
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE.format(project=name, image=base_image()))
    yield name, compose
    subprocess.run(
        ["docker", "compose", "-f", str(compose), "down", "--volumes", "--remove-orphans", "-t", "1"],
        capture_output=True,
        timeout=120,
    )


def cli(compose: Path, *args: str) -> Result:
    # No webserver here: Dagster is reported unreachable on a free port, which `status` must tell apart.
    dead = f"http://127.0.0.1:{free_port()}"
    return CliRunner().invoke(
        main, ["--compose-file", str(compose), "--webserver-url", dead, *args], catch_exceptions=False
    )


def test_status_up_status_down(project: tuple[str, Path]) -> None:
    name, compose = project
    before = cli(compose, "status", "--json")
    report = json.loads(before.stdout)
    assert report["docker"]["project"] == name and report["docker"]["reachable"] is True
    (service,) = report["docker"]["services"]
    assert service["service"] == "probe" and service["state"] == "missing" and not service["healthy"]
    assert "service probe: missing" in report["problems"]
    assert before.exit_code == 2  # the webserver is unreachable, which outranks an unhealthy service

    up = cli(compose, "up", "--wait-timeout", "120")
    assert up.exit_code == 0, up.stderr
    assert "compose up: done in" in up.stderr and "docker compose" in up.stderr  # the progress was shown

    after = json.loads(cli(compose, "status", "--json").stdout)
    (service,) = after["docker"]["services"]
    assert service["state"] == "running" and service["health"] == "healthy" and service["healthy"]
    assert not any(p.startswith("service ") for p in after["problems"])
    human = cli(compose, "status").stdout
    assert f"project {name}" in human
    assert ["ok", "probe", "running", "healthy"] in [line.split()[:4] for line in human.splitlines()]

    down = cli(compose, "down", "--volumes")
    assert down.exit_code == 0, down.stderr
    assert project_containers(name) == []


def test_up_failure_is_reported_with_composes_words(tmp_path: Path) -> None:
    name = f"edp-cli-{uuid.uuid4().hex[:10]}"
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE.format(project=name, image=f"edp-absent/{name}:none"))
    try:
        result = cli(compose, "up", "--wait-timeout", "30")
        assert result.exit_code != 0
        assert "compose up failed after" in result.stderr
        assert f"edp-absent/{name}:none" in result.stderr  # Compose names the image it could not find
    finally:
        subprocess.run(
            ["docker", "compose", "-f", str(compose), "down", "--volumes"], capture_output=True, timeout=120
        )


def test_up_and_down_refuse_a_missing_compose_file(tmp_path: Path) -> None:
    for command in ("up", "down"):
        result = cli(tmp_path / "absent.yaml", command)
        assert result.exit_code == 2 and "absent.yaml does not exist" in result.stderr
