"""How the code location finds the dbt project and its manifest (real `dbt parse`, no services needed).

- DAGSTER_DBT_PARSE_PROJECT_ON_LOAD=1 parses on every load, so an edit is in the manifest after the next load;
- DBT_PROFILES_DIR is honoured (the project copy has no profiles.yml of its own);
- without the variable the manifest prepared in advance is used as is, and a missing one is a clear error;
- run/step workers (multiprocessing children) never parse, they use the manifest the server wrote.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from etl_pipeline.project import ManifestMissingError, load_dbt_project

from tests.support.process_stack import REPO_ROOT

EXTRA_MODEL = "select 1 as one\n"


@dataclass
class ProjectCopy:
    project_dir: Path
    profiles_dir: Path
    target: Path


def models_in(manifest: Path) -> set[str]:
    nodes = json.loads(manifest.read_text())["nodes"]
    return {n["name"] for n in nodes.values() if n["resource_type"] == "model"}


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProjectCopy]:
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(
        REPO_ROOT / "dbt_project",
        project_dir,
        ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"),
    )
    profiles_dir = tmp_path / "profiles"
    profiles_dir.mkdir()
    shutil.copy2(REPO_ROOT / "dbt_project" / "profiles.yml", profiles_dir / "profiles.yml")
    for var in (
        "DAGSTER_DBT_PARSE_PROJECT_ON_LOAD",
        "DBT_PROFILES_DIR",
        "DBT_TARGET_PATH",
        "DBT_PROJECT_DIR",
    ):
        monkeypatch.delenv(var, raising=False)
    # dagster-dbt runs the `dbt` found on PATH (the stack's processes get the venv's bin first, too).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DBT_PROJECT_DIR", str(project_dir))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    yield ProjectCopy(project_dir, profiles_dir, tmp_path / "target")


def test_parse_on_load_reparses_every_load_with_profiles_dir(
    project_copy: ProjectCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_DBT_PARSE_PROJECT_ON_LOAD", "1")

    # Without DBT_PROFILES_DIR dbt looks in the project folder, which has no profiles.yml here: parsing fails.
    with pytest.raises(Exception, match="(?i)profile"):
        load_dbt_project()

    monkeypatch.setenv("DBT_PROFILES_DIR", str(project_copy.profiles_dir))
    project = load_dbt_project()
    assert project.profiles_dir == project_copy.profiles_dir
    assert project.manifest_path == project_copy.target / "manifest.json"
    assert "customer_lifetime_value" in models_in(project.manifest_path)
    assert "hot_reload_extra" not in models_in(project.manifest_path)

    (project_copy.project_dir / "models" / "marts" / "hot_reload_extra.sql").write_text(EXTRA_MODEL)
    assert "hot_reload_extra" in models_in(load_dbt_project().manifest_path)


def _load_in_child(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put(str(load_dbt_project().manifest_path))


def test_prepared_manifest_is_used_without_parse_on_load(
    project_copy: ProjectCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_PROFILES_DIR", str(project_copy.profiles_dir))
    with pytest.raises(ManifestMissingError, match="DAGSTER_DBT_PARSE_PROJECT_ON_LOAD"):
        load_dbt_project()

    # Prepare the manifest in advance, as the image build does.
    monkeypatch.setenv("DAGSTER_DBT_PARSE_PROJECT_ON_LOAD", "1")
    manifest = load_dbt_project().manifest_path
    prepared = manifest.read_bytes()
    stamp = manifest.stat().st_mtime_ns
    (project_copy.project_dir / "models" / "marts" / "hot_reload_extra.sql").write_text(EXTRA_MODEL)

    # A worker process (multiprocessing child, as run and step workers are) uses it as is, variable or not.
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_load_in_child, args=(queue,))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == str(manifest)
    assert manifest.stat().st_mtime_ns == stamp

    # Without the variable the prepared manifest is used as is: the new model is not in it.
    monkeypatch.delenv("DAGSTER_DBT_PARSE_PROJECT_ON_LOAD")
    assert load_dbt_project().manifest_path == manifest
    assert manifest.read_bytes() == prepared
    assert manifest.stat().st_mtime_ns == stamp
    assert "hot_reload_extra" not in models_in(manifest)
