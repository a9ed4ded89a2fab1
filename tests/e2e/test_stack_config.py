"""The compose file as Compose resolves it, and bring-up's refusal of bad settings. Starts no stack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.docker_engine import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "stack" / "docker-compose.yaml"
SERVICES = {"postgres", "user-code", "dagster-webserver", "dagster-daemon"}


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DAGSTER_", "EDP_", "POSTGRES_"))
    }
    env.update(extra)
    return env


def compose_config(*files: Path, env: dict[str, str] | None = None) -> dict:
    args = ["docker", "compose"]
    for f in files or (COMPOSE_FILE,):
        args += ["-f", str(f)]
    # --env-file /dev/null: what Compose makes of the file alone, whatever stack/.env holds on this machine.
    args += ["--env-file", "/dev/null", "config", "--format", "json"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env or clean_env())
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_compose_accepts_the_file_without_any_env() -> None:
    cfg = compose_config()
    assert cfg["name"] == "edp"
    services = cfg["services"]
    assert set(services) == SERVICES
    for name, svc in services.items():
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert "dagster_network" in svc["networks"], name
    assert cfg["networks"]["dagster_network"]["driver"] == "bridge"
    assert set(cfg["volumes"]) >= {
        "postgres_data", "dagster_compute_logs", "dagster_local_artifact_storage", "dbt_target", "dbt_logs",
    }  # fmt: skip
    # Start order through healthchecks.
    for name in ("dagster-webserver", "dagster-daemon"):
        deps = services[name]["depends_on"]
        assert deps["user-code"]["condition"] == deps["postgres"]["condition"] == "service_healthy"
    assert services["user-code"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # One image for the three Dagster services, built from stack/Dockerfile with the repository as context.
    image = services["user-code"]["image"]
    assert services["dagster-webserver"]["image"] == services["dagster-daemon"]["image"] == image
    assert Path(services["user-code"]["build"]["context"]) == REPO_ROOT
    # The platform's code servers (one per location) that really reload code, checking before they replace;
    # reload on save by default; the user's code mounted read-only where the location settings say it is.
    assert services["user-code"]["command"] == ["python", "-m", "edp_platform.code_server"]
    env = services["user-code"]["environment"]
    assert (env["EDP_AUTO_RELOAD"], env["EDP_RELOAD_POLLING"]) == ("1", "auto")
    assert env["EDP_RELOAD_STATUS_DIR"] == "/opt/dagster/reload"
    assert env["EDP_CODE_LOCATIONS"] == "etl_pipeline"
    binds = [v for v in services["user-code"]["volumes"] if v["type"] == "bind"]
    assert [(Path(v["source"]), v["target"], v.get("read_only")) for v in binds] == [
        (REPO_ROOT, env["EDP_CODE_ROOT"], True)
    ]
    # The webserver and the daemon write their workspace from the same settings at every start.
    for name in ("dagster-webserver", "dagster-daemon"):
        assert services[name]["environment"]["EDP_WRITE_WORKSPACE"] == "1"
        assert services[name]["environment"]["EDP_CODE_LOCATIONS"] == env["EDP_CODE_LOCATIONS"]
    # Runs execute in user-code: compute logs and artifacts must be shared with it.
    for name in ("user-code", "dagster-webserver", "dagster-daemon"):
        targets = {v["target"]: v.get("source") for v in services[name]["volumes"]}
        assert targets["/opt/dagster/dagster_home/compute_logs"] == "dagster_compute_logs", name
        assert targets["/opt/dagster/dagster_home/storage"] == "dagster_local_artifact_storage", name


def test_published_ports_are_loopback_only_and_postgres_is_not_published() -> None:
    services = compose_config()["services"]
    assert "ports" not in services["postgres"]
    ports = [(name, p) for name, svc in services.items() for p in svc.get("ports", [])]
    assert [(n, p["host_ip"], p["published"], p["target"]) for n, p in ports] == [
        ("dagster-webserver", "127.0.0.1", "3000", 3000)
    ]
    # Configurable, and PostgreSQL published only when asked, still on loopback.
    asked = compose_config(
        COMPOSE_FILE,
        COMPOSE_FILE.with_name("docker-compose.postgres-port.yaml"),
        env=clean_env(DAGSTER_WEBSERVER_PORT="18080", POSTGRES_HOST_PORT="15432"),
    )["services"]
    assert [(p["host_ip"], p["published"]) for p in asked["dagster-webserver"]["ports"]] == [
        ("127.0.0.1", "18080")
    ]
    assert [(p["host_ip"], p["published"]) for p in asked["postgres"]["ports"]] == [("127.0.0.1", "15432")]


@pytest.fixture
def stack_copy(tmp_path: Path) -> Path:
    """stack/ alone in a temporary folder: bring-up.sh there reads that folder's .env."""
    dest = tmp_path / "stack"
    shutil.copytree(REPO_ROOT / "stack", dest, ignore=shutil.ignore_patterns(".env", "pip"))
    return dest


@pytest.mark.parametrize(
    ("env_text", "expected"),
    [
        ("DAGSTER_PG_PASSWORD=abc\nDAGSTER_WEBSERVER_PORT=30o0\n", "invalid hostPort: 30o0"),
        ("DAGSTER_PG_PASSWORD=abc\nDAGSTER_WEBSERVER_PORT=99999\n", "invalid hostPort: 99999"),
        ("DAGSTER_PG_PASSWORD=abc\nTHIS IS NOT AN ASSIGNMENT\n", "line 2: key cannot contain a space"),
        ("DAGSTER_PG_PASSWORD=\n", "DAGSTER_PG_PASSWORD is empty"),
        ("DAGSTER_PG_PASSWORD=p@ss word\n", "DAGSTER_PG_PASSWORD may contain only"),
        (
            "DAGSTER_PG_PASSWORD=abc\nWAREHOUSE_DB=my-warehouse\n",
            "WAREHOUSE_DB='my-warehouse' is not a valid",
        ),
    ],
)
def test_bring_up_refuses_a_broken_env_with_a_clear_message_and_starts_nothing(
    stack_copy: Path, env_text: str, expected: str
) -> None:
    env_file = stack_copy / ".env"
    env_file.write_text(env_text)
    project = f"edpbad{os.getpid()}"
    proc = subprocess.run(
        ["bash", str(stack_copy / "scripts" / "bring-up.sh")],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(COMPOSE_PROJECT_NAME=project),
    )
    assert proc.returncode != 0
    assert expected in proc.stderr, proc.stderr
    assert "step 3/5" not in proc.stderr  # stopped before images, build or containers
    assert env_file.read_text() == env_text  # the user's file is left as it was
    left = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert left.stdout == ""


def test_auto_reload_setting_reaches_user_code() -> None:
    off = compose_config(env=clean_env(EDP_AUTO_RELOAD="0", EDP_RELOAD_POLLING="1"))["services"]["user-code"]
    assert (off["environment"]["EDP_AUTO_RELOAD"], off["environment"]["EDP_RELOAD_POLLING"]) == ("0", "1")
    example = (REPO_ROOT / "stack" / ".env.example").read_text().splitlines()
    assert "EDP_AUTO_RELOAD=1" in example and "EDP_RELOAD_POLLING=auto" in example
