"""RetailDbtCliResource: what it skips before each dbt invocation, and that what it overrides still exists."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from dagster_dbt import DbtCliResource
from etl_pipeline.dbt_resource import RetailDbtCliResource, runs_this_environments_dbt
from packaging import version

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """This environment's scripts first on PATH, as in the image and the process stack."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def test_the_overridden_members_are_still_dagster_dbts() -> None:
    # Renamed in a dagster-dbt upgrade, the overrides would silently stop saving anything: revisit them then.
    assert "_cli_version" in vars(DbtCliResource)
    assert callable(vars(DbtCliResource)["_initialize_dbt_core_adapter"])


def test_the_version_comes_from_dbt_core_metadata_not_a_subprocess(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert runs_this_environments_dbt("dbt")  # the test venv's dbt, as the image's

    def no_subprocess(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"dbt was run: {args}")

    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    resource = RetailDbtCliResource(project_dir=str(PROJECT_DIR))
    assert resource._cli_version == version.parse(metadata.version("dbt-core"))
    assert resource._cli_version.major < 2  # dbt Core, so dagster-dbt parses dbt Core's events


def test_another_dbt_is_asked_for_its_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "dbt"
    other.write_text("#!/bin/sh\necho 'Core:\n  - installed: 1.9.4'\n")
    other.chmod(0o755)
    assert not runs_this_environments_dbt(str(other))
    resource = RetailDbtCliResource(project_dir=str(PROJECT_DIR), dbt_executable=str(other))
    assert resource._cli_version == version.parse("1.9.4")


def test_no_dbt_adapter_is_built_in_the_run_worker() -> None:
    resource = RetailDbtCliResource(project_dir=str(PROJECT_DIR))
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_the_project_sends_no_usage_events(tmp_path: Path) -> None:
    """dbt_project.yml turns off dbt's anonymous usage events: dbt builds and sends none for a command."""
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR)}
    env.pop("DBT_SEND_ANONYMOUS_USAGE_STATS", None)  # the project's setting, not the environment's
    proc = subprocess.run(
        ["dbt", "parse", "--log-level", "debug", "--target-path", str(tmp_path / "target")]
        + ["--log-path", str(tmp_path / "logs")],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "'send_anonymous_usage_stats': 'False'" in proc.stdout
    assert "Sending event" not in proc.stdout
