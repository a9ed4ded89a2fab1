"""A code location's dbt project as the platform prepared it: `location_project()` for user code.

The code server (edp_platform.code_server) prepares the project before it loads the location's code (the
working copy, `dbt deps`, `dbt parse`: prepare.py) and gives every process that loads that code the resulting
paths in its environment (`location_env`): the candidate servers, the run workers they spawn, and run
containers (through the location's container context). So `location_project()` only reads them: no process
of a run parses again.

Outside a platform code server (a test importing a location's module, `dagster dev`) there is no such
environment: the location is found in the settings (EDP_LOCATION, else the first with a dbt project) and
prepared here, in this process, into EDP_DBT_WORK_DIR.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dagster_dbt import DbtProject

from edp_platform import settings
from edp_platform.dbt import prepare, workcopy
from edp_platform.dbt.profile import PROFILE_NAME, profiles_dir
from edp_platform.errors import PlatformError

LOCATION_VAR = "EDP_LOCATION"
WORK_DIR_VAR = "EDP_DBT_WORK_DIR"
LOG_DIR_VAR = "EDP_DBT_LOG_DIR"
SOURCE_DIR_VAR = "EDP_DBT_SOURCE_DIR"  # the user's own project folder (the working copy links to it)
TRUTHY = {"1", "true", "yes", "on"}


class DbtProjectError(PlatformError):
    """The location's dbt project cannot be used (no project, it does not parse, no manifest)."""


def parse_on_load_requested(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("DAGSTER_DBT_PARSE_PROJECT_ON_LOAD", "1").strip().lower() in TRUTHY


def work_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(WORK_DIR_VAR) or Path(tempfile.gettempdir()) / "edp-dbt")


def work_copy(location: settings.Location, environ: Mapping[str, str] | None = None) -> workcopy.WorkCopy:
    """Where the platform prepares and runs the location's dbt project: EDP_DBT_WORK_DIR/<location> (the
    compose stack's dbt_target volume) and EDP_DBT_LOG_DIR/<location> (its dbt_logs volume)."""
    if location.dbt_project is None:
        raise DbtProjectError(f"code location {location.name!r} has no dbt project")
    env = os.environ if environ is None else environ
    base = work_dir(env)
    logs = Path(env.get(LOG_DIR_VAR) or base / "logs")
    return workcopy.WorkCopy(
        source=location.dbt_project, base=base / location.name, log_dir=logs / location.name
    )


def location_env(location: settings.Location, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What every process loading this location's code gets in its environment."""
    env: dict[str, str] = {LOCATION_VAR: location.name, "EDP_DBT_SCHEMA": location.dbt_schema}
    if location.dbt_project is not None:
        copy = work_copy(location, environ)
        env.update(
            DBT_PROJECT_DIR=str(copy.project_dir),
            DBT_PROFILES_DIR=str(profiles_dir()),
            DBT_TARGET_PATH=str(copy.target_dir),
            DBT_LOG_PATH=str(copy.log_dir),
            EDP_DBT_SOURCE_DIR=str(copy.source),
        )
    return env


def _project(project_dir: Path, target_dir: Path) -> DbtProject:
    return DbtProject(
        project_dir=project_dir, target_path=target_dir, profiles_dir=profiles_dir(), profile=PROFILE_NAME
    )


def location_project() -> DbtProject:
    """This code location's dbt project, its manifest ready; DbtProjectError says why when it is not."""
    if (
        os.environ.get(LOCATION_VAR)
        and os.environ.get("DBT_PROJECT_DIR")
        and os.environ.get("DBT_TARGET_PATH")
    ):
        project_dir, target_dir = Path(os.environ["DBT_PROJECT_DIR"]), Path(os.environ["DBT_TARGET_PATH"])
    else:
        project_dir, target_dir = _prepare_here()
    if not (target_dir / "manifest.json").is_file():
        raise DbtProjectError(
            f"no dbt manifest in {target_dir}: the code server prepares it when it loads the location "
            "(DAGSTER_DBT_PARSE_PROJECT_ON_LOAD=1); with 0, bring the stack up once with 1, or prepare it by "
            "hand: python -m edp_platform.dbt"
        )
    return _project(project_dir, target_dir)


def _prepare_here() -> tuple[Path, Path]:
    name = os.environ.get(LOCATION_VAR)
    locations = settings.load_locations()
    location = next(
        (loc for loc in locations if (loc.name == name if name else loc.dbt_project is not None)), None
    )
    if location is None or location.dbt_project is None:
        raise DbtProjectError(
            f"no dbt project for code location {name!r}" if name else "no code location has a dbt project"
        )
    copy = work_copy(location)
    os.environ.setdefault("EDP_DBT_SCHEMA", location.dbt_schema)
    outcome = prepare.prepare(
        copy, parse=parse_on_load_requested() or not (copy.target_dir / "manifest.json").exists()
    )
    if outcome.action == "failed":
        raise DbtProjectError(f"dbt project {location.dbt_project} is not ready:\n{outcome.message}")
    return copy.project_dir, copy.target_dir
