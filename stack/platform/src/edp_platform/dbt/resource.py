"""The platform's dbt resource: dagster-dbt's DbtCliResource without two costs it pays before every dbt run.

Measured in the run worker (bench/run_latency.py, docs/scaling.md), `DbtCliResource.cli()` of dagster-dbt
0.29 does this before it starts `dbt build`, one step after the other:

1. `dbt --version` in a subprocess (`_cli_version`, cached per resource instance, i.e. once per run): a second
   Python process that imports all of dbt-core (about 1.6 s of CPU) and asks PyPI twice for the latest
   dbt-core and adapter versions (one-second timeouts each; on a host without that access, a failure).
   dagster-dbt only needs the major version, to tell dbt Core from the dbt Fusion engine. When the `dbt`
   that runs is the script of the dbt-core package installed beside dagster-dbt (same environment: the
   image's venv, the test venv), its version is read from that package's metadata instead.
2. A dbt Core adapter built in the run worker itself (`_initialize_dbt_core_adapter`: imports the adapter,
   loads profile and project, parses dbt's 478 built-in macros; about 0.9 s of CPU). dagster-dbt uses that
   adapter only for `.fetch_row_counts()` and `.fetch_column_metadata()` on the event stream (and DuckDB's
   read-only mode), none of which the platform's assets use: without an adapter those two add nothing,
   everything else (materializations, asset checks, dbt's own output) is unchanged.

Both are private methods of DbtCliResource, overridden here because dagster-dbt offers no setting for
either (checked in 0.29.27's dagster_dbt/core/resource.py). Fail-safe by construction: if a dagster-dbt
upgrade renames them, these overrides are simply unused and every run still works, only slower;
tests/unit/test_platform_dbt_contracts.py fails in that case so that the override is revisited with the
upgrade. A location that wants row counts or column metadata gives its assets dagster-dbt's own
DbtCliResource.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version


def runs_this_environments_dbt(executable: str) -> bool:
    """Whether `executable` is the dbt script of the Python environment this process runs in."""
    found = shutil.which(executable)
    return found is not None and Path(found).parent == Path(sys.executable).parent


class PlatformDbtCliResource(DbtCliResource):
    """DbtCliResource with dbt-core's version from its package metadata and no in-process dbt adapter."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if not runs_this_environments_dbt(self.dbt_executable):  # Fusion, dbt elsewhere: only it can say
            return super()._cli_version
        try:
            return version.parse(metadata.version("dbt-core"))
        except metadata.PackageNotFoundError:
            return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None
