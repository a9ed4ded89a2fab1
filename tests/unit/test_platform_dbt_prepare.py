"""The dbt preparation's edges, with real dbt and no database: the working copy skips what is no regular file,
a package that cannot be installed is named, and a profile that cannot connect says why."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
from edp_platform.dbt import prepare, workcopy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "projects"


@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_of(tmp_path: Path, name: str) -> workcopy.WorkCopy:
    source = tmp_path / "code" / Path(name).name
    shutil.copytree(FIXTURES / name, source)
    return workcopy.WorkCopy(source=source, base=tmp_path / "dbt", log_dir=tmp_path / "logs")


def test_the_working_copy_links_regular_files_only(tmp_path: Path) -> None:
    copy = copy_of(tmp_path, "shop_dbt")
    models = copy.source / "models"
    os.mkfifo(models / "pipe.sql")  # a FIFO would block every reader
    (models / "dangling.sql").symlink_to(tmp_path / "nowhere.sql")
    (models / "device.sql").symlink_to("/dev/zero")
    workcopy.sync(copy)
    linked = {p.name for p in (copy.project_dir / "models").iterdir()}
    assert {"staging", "marts"} <= linked
    assert not {"pipe.sql", "dangling.sql", "device.sql"} & linked


def test_a_package_that_cannot_be_installed_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Offline wherever it runs: dbt's package hub at a closed port.
    monkeypatch.setenv("DBT_PACKAGE_HUB_URL", f"http://127.0.0.1:{closed_port()}/")
    copy = copy_of(tmp_path, "broken/offline_dbt")
    outcome = prepare.prepare(copy)
    assert (outcome.action, outcome.deps) == ("failed", "failed")
    named = "dbt deps could not install the packages of offline_dbt (dbt-labs/dbt_utils 1.3.0)"
    assert named in outcome.message
    assert "Hub and git packages need the network" in outcome.message
    # Nothing was stamped: the next load tries again.
    assert not (copy.base / prepare.DEPS_HASH_FILE).exists()


def test_a_profile_that_cannot_connect_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_PG_HOST", "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(closed_port()))
    copy = copy_of(tmp_path, "broken/offline_dbt")
    (copy.source / "packages.yml").unlink()
    workcopy.sync(copy)
    problem = prepare.connection_problem(copy)
    assert problem is not None
    assert problem.startswith("dbt cannot connect to the warehouse with the platform's profile")
    assert "refused" in problem.lower() or "could not connect" in problem.lower()
