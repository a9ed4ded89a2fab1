"""PlatformDbtCliResource: what it skips before each dbt invocation, shown on real dbt invocations."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from dagster_dbt import DbtCliResource
from edp_platform.dbt import prepare, workcopy
from edp_platform.dbt.profile import PROFILE_NAME, profiles_dir
from edp_platform.dbt.resource import PlatformDbtCliResource, runs_this_environments_dbt
from packaging import version

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """This environment's scripts first on PATH, as in the image and the process stack."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture
def copy(tmp_path: Path) -> workcopy.WorkCopy:
    """The demo project as the platform runs it (its working copy, parsed)."""
    made = workcopy.WorkCopy(source=PROJECT_DIR, base=tmp_path / "dbt", log_dir=tmp_path / "logs")
    outcome = prepare.prepare(made)
    assert outcome.action == "parsed", outcome.message
    return made


def test_the_version_comes_from_dbt_core_metadata_not_a_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runs_this_environments_dbt("dbt")  # the test venv's dbt, as the image's

    def no_subprocess(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"dbt was run: {args}")

    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    resource = PlatformDbtCliResource(project_dir=str(PROJECT_DIR))
    assert resource._cli_version == version.parse(metadata.version("dbt-core"))
    assert resource._cli_version.major < 2  # dbt Core, so dagster-dbt parses dbt Core's events


def test_another_dbt_is_asked_for_its_version(tmp_path: Path) -> None:
    other = tmp_path / "dbt"
    other.write_text("#!/bin/sh\necho 'Core:\n  - installed: 1.9.4'\n")
    other.chmod(0o755)
    assert not runs_this_environments_dbt(str(other))
    resource = PlatformDbtCliResource(project_dir=str(PROJECT_DIR), dbt_executable=str(other))
    assert resource._cli_version == version.parse("1.9.4")


def test_a_dbt_command_runs_without_an_adapter_or_a_version_subprocess(
    copy: workcopy.WorkCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dagster-dbt's own resource builds a dbt adapter in the worker and runs `dbt --version` first (it
    swallows a failure of the first, so both are counted, not made to fail); a real invocation through the
    platform's resource does neither, and dbt still runs."""
    adapters: list[object] = []
    versions: list[object] = []
    monkeypatch.setattr(
        DbtCliResource, "_initialize_dbt_core_adapter", lambda self, args: adapters.append(args)
    )
    real_check_output = subprocess.check_output

    def counting_check_output(cmd: object, *args: object, **kwargs: object) -> bytes:
        if "--version" in list(cmd):  # type: ignore[call-overload]
            versions.append(cmd)
        return real_check_output(cmd, *args, **kwargs)  # type: ignore[no-any-return, call-overload]

    monkeypatch.setattr(subprocess, "check_output", counting_check_output)
    resource = PlatformDbtCliResource(
        project_dir=str(copy.project_dir), profiles_dir=str(profiles_dir()), profile=PROFILE_NAME
    )
    monkeypatch.setenv("DBT_TARGET_PATH", str(copy.target_dir))
    invocation = resource.cli(["ls", "--resource-type", "model", "--output", "name"], raise_on_error=True)
    lines = [str(e.raw_event["info"]["msg"]) for e in invocation.stream_raw_events()]
    assert invocation.is_successful()
    assert "fct_orders" in lines
    assert adapters == [] and versions == []


def test_the_demo_project_sends_no_usage_events(tmp_path: Path) -> None:
    """dbt_project.yml turns off dbt's anonymous usage events: dbt builds and sends none for a command."""
    env = {**os.environ}
    env.pop("DBT_SEND_ANONYMOUS_USAGE_STATS", None)  # the project's setting, not the environment's
    proc = subprocess.run(
        ["dbt", "parse", "--log-level", "debug", "--target-path", str(tmp_path / "target")]
        + [
            "--log-path",
            str(tmp_path / "logs"),
            "--profiles-dir",
            str(profiles_dir()),
            "--profile",
            PROFILE_NAME,
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "'send_anonymous_usage_stats': 'False'" in proc.stdout
    assert "Sending event" not in proc.stdout
