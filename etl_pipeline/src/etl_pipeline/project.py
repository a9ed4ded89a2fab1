"""Where the dbt project lives and how its manifest is obtained when the code location loads.

- DBT_PROJECT_DIR: default the `dbt_project` folder beside `etl_pipeline` in this repository, which is also
  the container layout (/opt/dagster/app/{etl_pipeline/src,dbt_project}).
- DBT_PROFILES_DIR: passed explicitly, because dagster-dbt otherwise defaults it to the project folder and
  exports that to every dbt subprocess, overriding the variable.
- DBT_TARGET_PATH: dbt's own variable, honoured here too so parallel test stacks can keep separate targets.
- DAGSTER_DBT_PARSE_PROJECT_ON_LOAD: dagster-dbt 0.29 no longer reads it, so this module does: when truthy,
  `dbt parse` runs on every load of the code location (under dagster-dbt's file lock, keeping partial
  parsing); otherwise the manifest prepared in advance (image build: `dagster-dbt project
  prepare-and-package`, or `dbt parse`) is used. Run and step workers, which the code server starts as
  multiprocessing children and which import this module again, use the manifest the server's last load wrote
  instead of parsing once more per process.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from dagster_dbt import DbtProject

REPO_ROOT = Path(__file__).resolve().parents[3]
TRUTHY = {"1", "true", "yes", "on"}


class ManifestMissingError(RuntimeError):
    pass


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
        project.preparer.prepare(project)
    if not project.manifest_path.exists():
        raise ManifestMissingError(
            f"dbt manifest not found at {project.manifest_path}: set DAGSTER_DBT_PARSE_PROJECT_ON_LOAD=1 to "
            f"parse on load, or prepare it in advance with `dbt parse` in {project.project_dir}"
        )
    return project
