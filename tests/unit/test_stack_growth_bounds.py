"""Nothing of the stack grows without bound at rest: container logs are rotated, sensor and schedule ticks
are purged (Dagster's retention), the warehouse role and containers are limited. Read from the files the stack
runs with (the compose file as Compose resolves it, the instance's YAML as Dagster validates it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from dagster._config import validate_config
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.instance.config import (
    dagster_instance_config_schema,
    get_default_tick_retention_settings,
    get_tick_retention_settings,
)

STACK = Path(__file__).resolve().parents[2] / "stack"
SERVICES = ("postgres", "user-code", "dagster-webserver", "dagster-daemon")


@pytest.mark.parametrize("name", ["dagster.yaml", "dagster.run-containers.yaml"])
def test_ticks_are_purged(name: str) -> None:
    config = yaml.safe_load((STACK / name).read_text())
    assert validate_config(dagster_instance_config_schema(), config).success
    for kind, key in ((InstigatorType.SENSOR, "sensor"), (InstigatorType.SCHEDULE, "schedule")):
        kept = get_tick_retention_settings(
            config["retention"][key], get_default_tick_retention_settings(kind)
        )
        bounded = {status.value: days for status, days in kept.items() if status.value != "STARTED"}
        assert all(0 < days <= 90 for days in bounded.values()), (key, bounded)


def compose_config() -> dict:
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI to resolve the compose file")
    env = {**os.environ, "DAGSTER_PG_PASSWORD": "x"}
    out = subprocess.run(
        ["docker", "compose", "-f", str(STACK / "docker-compose.yaml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout
    return dict(json.loads(out))


def test_every_service_rotates_its_log_and_has_a_memory_limit() -> None:
    services = compose_config()["services"]
    for name in SERVICES:
        logging = services[name]["logging"]
        assert logging["driver"] == "json-file" and logging["options"] == {"max-size": "10m", "max-file": "3"}
        assert int(services[name]["mem_limit"]) > 0, name
    env = services["postgres"]["environment"]
    assert env["WAREHOUSE_USER"] == "warehouse" and env["WAREHOUSE_STATEMENT_TIMEOUT"] == "30min"
