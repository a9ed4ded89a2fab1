"""Compose resolution through Compose itself (`docker compose config --format json`), on small files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from edp_tui.compose import (
    ComposeFileError,
    ComposeNotFound,
    ComposeProject,
    compose_command,
    parse_config,
    resolve_project,
)


def _compose_available() -> bool:
    try:
        compose_command()
    except ComposeNotFound:
        return False
    return True


needs_compose = pytest.mark.skipif(not _compose_available(), reason="Docker Compose v2 is not installed")

COMPOSE = """
name: ${STACK_NAME:-edpsmall}
services:
  db:
    image: ${DB_IMAGE:-busybox:latest}
    healthcheck:
      test: ["CMD", "true"]
  dagster-webserver:
    image: busybox:latest
    ports:
      - "127.0.0.1:${WEB_PORT:-3000}:3000"
  worker:
    image: busybox:latest
    profiles: ["extra"]
"""


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "docker-compose.yaml").write_text(COMPOSE)
    return tmp_path


@needs_compose
def test_resolves_name_services_and_ports(project_dir: Path) -> None:
    project = resolve_project(project_dir / "docker-compose.yaml", env={"PATH": _path()})
    assert project.name == "edpsmall"
    # Profiles are Compose's business: the inactive one is not expected.
    assert set(project.service_names) == {"db", "dagster-webserver"}
    assert project.service("db") is not None and project.service("db").has_healthcheck  # type: ignore[union-attr]
    assert project.webserver_url() == "http://127.0.0.1:3000"


@needs_compose
def test_interpolation_env_file_and_project_flag_are_composes(project_dir: Path) -> None:
    env_file = project_dir / "custom.env"
    env_file.write_text("WEB_PORT=3456\nSTACK_NAME=fromenvfile\n")
    project = resolve_project(project_dir / "docker-compose.yaml", env_file=env_file, env={"PATH": _path()})
    assert project.name == "fromenvfile"
    assert project.webserver_url() == "http://127.0.0.1:3456"
    # .env next to the file is read by Compose itself, and -p wins over `name:`.
    (project_dir / ".env").write_text("WEB_PORT=4567\n")
    project = resolve_project(
        project_dir / "docker-compose.yaml", project_name="flagname", env={"PATH": _path()}
    )
    assert project.name == "flagname"
    assert project.webserver_url() == "http://127.0.0.1:4567"


@needs_compose
def test_broken_compose_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yaml"
    bad.write_text("services:\n  web:\n    image: busybox\n    ports: [\n")
    with pytest.raises(ComposeFileError) as info:
        resolve_project(bad, env={"PATH": _path()})
    assert str(bad) in str(info.value)
    bad.write_text("services:\n  web:\n    image: ${MUST_BE_SET:?set MUST_BE_SET in .env}\n")
    with pytest.raises(ComposeFileError, match="set MUST_BE_SET in .env"):
        resolve_project(bad, env={"PATH": _path()})


def test_missing_file_and_missing_binary(tmp_path: Path) -> None:
    with pytest.raises(ComposeFileError, match="does not exist"):
        resolve_project(tmp_path / "nope.yaml")
    (tmp_path / "c.yaml").write_text("services: {}\n")
    with pytest.raises(ComposeNotFound):
        resolve_project(tmp_path / "c.yaml", command=[str(tmp_path / "no-such-compose")])


def test_parse_config_ports_and_webserver_url() -> None:
    payload = {
        "name": "p",
        "services": {
            "dagster-webserver": {
                "image": "x",
                "ports": [{"target": 3000, "published": "8080", "protocol": "tcp"}],
            },
            "postgres": {"image": "pg", "healthcheck": {"disable": True}},
        },
    }
    project = parse_config(payload, Path("/x/compose.yaml"))
    assert isinstance(project, ComposeProject)
    assert project.webserver_url() == "http://127.0.0.1:8080"  # no host_ip: published on all, use loopback
    assert project.service("postgres").has_healthcheck is False  # type: ignore[union-attr]
    assert str(project.service("dagster-webserver").ports[0]) == "8080->3000/tcp"  # type: ignore[union-attr]
    assert parse_config({"name": "p", "services": {"a": {}}}, Path("/x")).webserver_url() is None
    with pytest.raises(ComposeFileError):
        parse_config({"services": {}}, Path("/x"))


def _path() -> str:
    docker = shutil.which("docker")
    assert docker is not None
    return str(Path(docker).parent) + ":/usr/bin:/bin"


@needs_compose
def test_compose_command_answers() -> None:
    proc = subprocess.run([*compose_command(), "version"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "v2" in proc.stdout
