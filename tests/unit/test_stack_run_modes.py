"""The two run modes' configuration files agree where they must (read as files, nothing started).

- stack/dagster.run-containers.yaml is stack/dagster.yaml with another `run_launcher` and `run_monitoring`,
  and its launcher config is valid for dagster-docker's DockerRunLauncher;
- the run containers of stack/docker-compose.run-containers.yaml mount what user-code mounts, at the same
  paths, so a run container executes the code and dbt project user-code serves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from dagster._config import process_config
from dagster_docker import DockerRunLauncher
from edp_platform.instance.run_launcher import WarmRunLauncher

STACK = Path(__file__).resolve().parents[2] / "stack"


def load(name: str) -> dict:
    return yaml.safe_load((STACK / name).read_text())


def test_the_run_container_instance_differs_only_in_launcher_and_monitoring() -> None:
    default, containers = load("dagster.yaml"), load("dagster.run-containers.yaml")
    assert set(default) == set(containers)
    assert sorted(k for k in default if default[k] != containers[k]) == ["run_launcher", "run_monitoring"]
    assert default["run_launcher"]["class"] == WarmRunLauncher.__name__
    assert default["run_launcher"]["module"] == "edp_platform.instance.run_launcher"
    checked = process_config(WarmRunLauncher.config_type(), default["run_launcher"]["config"])
    assert checked.success, checked.errors
    assert containers["run_launcher"] == {**containers["run_launcher"], "module": "dagster_docker"}
    assert containers["run_launcher"]["class"] == DockerRunLauncher.__name__
    checked = process_config(DockerRunLauncher.config_type(), containers["run_launcher"]["config"])
    assert checked.success, checked.errors
    for instance in (default, containers):
        assert instance["run_monitoring"]["enabled"] is True
        assert instance["run_monitoring"]["start_timeout_seconds"] > 0
        assert instance["run_monitoring"]["cancel_timeout_seconds"] > 0


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}, enough for these files."""

    def value(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in env:
            return env[name]
        assert op == ":-", f"{name} has no value and no default"
        return arg

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", value, text)


def test_run_containers_mount_what_user_code_mounts() -> None:
    base = load("docker-compose.yaml")
    override = load("docker-compose.run-containers.yaml")
    env = {"COMPOSE_PROJECT_NAME": "proj", "EDP_CODE_DIR_ABS": "/host/repo"}
    context = json.loads(
        interpolate(override["services"]["user-code"]["environment"]["DAGSTER_CONTAINER_CONTEXT"], env)
    )["docker"]
    assert context["networks"] == ["proj_dagster_network"]
    assert set(base["networks"]) == {"dagster_network"}
    volumes = context["container_kwargs"]["volumes"]
    assert context["container_kwargs"]["labels"] == {"edp.project": "proj", "edp.role": "run-worker"}

    def mounts(entries: list[str], named: str, host_root: str) -> dict[str, str]:
        """target -> source, with named volumes as Docker names them and host paths made absolute."""
        out = {}
        for entry in entries:
            source, target = interpolate(entry, {}).split(":")[:2]
            if source == "..":
                source = host_root
            elif source.startswith("../"):
                source = f"{host_root}/{source[3:]}"
            elif not source.startswith("/"):
                source = f"{named}{source}"
            out[target] = source
        return out

    user_code = mounts(base["services"]["user-code"]["volumes"], "proj_", "/host/repo")
    run_container = mounts(volumes, "", "/host/repo")
    assert run_container == user_code
    assert user_code["/opt/dagster/app"] == "/host/repo"  # the code, read-only in both (checked below)
    assert all(e.endswith(":ro") for e in volumes if e.startswith("/host/repo:"))
    assert set(user_code.values()) - {"/host/repo"} <= {f"proj_{name}" for name in base["volumes"]}
