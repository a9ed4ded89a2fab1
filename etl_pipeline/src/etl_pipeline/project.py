"""Where the dbt project lives and how its manifest is obtained when the code location loads.

- DBT_PROJECT_DIR: default the `dbt_project` folder beside `etl_pipeline` in this repository, which is also
  the container layout (/opt/dagster/app/{etl_pipeline/src,dbt_project}).
- DBT_PROFILES_DIR: passed explicitly, because dagster-dbt otherwise defaults it to the project folder and
  exports that to every dbt subprocess, overriding the variable.
- DBT_TARGET_PATH: dbt's own variable, honoured here too so parallel test stacks can keep separate targets.
- DAGSTER_DBT_PARSE_PROJECT_ON_LOAD: dagster-dbt 0.29 no longer reads it, so this module does: when truthy,
  the manifest is made to match the files on disk on every load of the code location: `dbt parse` runs
  (in-process, under a file lock, keeping partial parsing) only when the project's inputs changed since the
  manifest was written (etl_pipeline/reload/dbt_parse.py), so a `.py` change costs no parse. Otherwise the
  manifest prepared in advance (image build: `dbt parse`) is used. Run and step workers, which the code
  server starts as multiprocessing children and which import this module again, use the manifest the
  server's last load wrote instead of parsing once more per process; so do the candidate servers of
  etl_pipeline/reload/supervisor.py, whose supervisor has parsed before starting them.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from dagster_dbt import DbtProject

from etl_pipeline.reload.dbt_parse import ensure_manifest

REPO_ROOT = Path(__file__).resolve().parents[3]
TRUTHY = {"1", "true", "yes", "on"}


class ManifestMissingError(RuntimeError):
    pass


class DbtParseError(RuntimeError):
    """`dbt parse` failed; the message is dbt's own."""


def parse_on_load_requested() -> bool:
    return os.environ.get("DAGSTER_DBT_PARSE_PROJECT_ON_LOAD", "").strip().lower() in TRUTHY


def is_worker_process() -> bool:
    return multiprocessing.parent_process() is not None


def build_dbt_project() -> DbtProject:
    project_dir = Path(os.environ.get("DBT_PROJECT_DIR") or REPO_ROOT / "dbt_project")
    profiles_dir = os.environ.get("DBT_PROFILES_DIR") or project_dir
    return DbtProject(
        project_dir=project_dir,
        profiles_dir=profiles_dir,
        target_path=os.environ.get("DBT_TARGET_PATH") or "target",
    )


def load_dbt_project() -> DbtProject:
    project = build_dbt_project()
    if parse_on_load_requested() and not is_worker_process():
        project_dir = Path(project.project_dir)
        outcome = ensure_manifest(project_dir, Path(project.profiles_dir), project_dir / project.target_path)
        if outcome.action == "failed":
            raise DbtParseError(f"dbt parse failed in {project.project_dir}:\n{outcome.message}")
    if not project.manifest_path.exists():
        raise ManifestMissingError(
            f"dbt manifest not found at {project.manifest_path}: set DAGSTER_DBT_PARSE_PROJECT_ON_LOAD=1 to "
            f"parse on load, or prepare it in advance with `dbt parse` in {project.project_dir}"
        )
    return project
