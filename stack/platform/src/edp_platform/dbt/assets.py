"""Any dbt project as Dagster assets: every model, seed and snapshot an asset, every test an asset check, and
one job that builds everything with run config for select, exclude, vars, full refresh and target.

    from edp_platform.dbt import dbt_definitions
    defs = dbt_definitions()                  # the location's project, dagster-dbt's default keys

Keys are dagster-dbt's defaults (`meta.dagster.asset_key` honoured; sources [source name, table]) unless the
location passes a translator of its own. The run config is validated at launch where Dagster can (`target` is
one of the platform profile's targets, `vars` a mapping) and at the step's start for the rest (a `select` that
selects nothing fails the run with that reason before dbt starts).
"""

# No `from __future__ import annotations`: Dagster reads the op's config annotation as a class.
import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.asset_utils import (
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.errors import DagsterDbtCliRuntimeError
from dagster_dbt.utils import select_unique_ids
from pydantic import Field

from edp_platform.dbt.drain import drain_output
from edp_platform.dbt.events import StepEvents
from edp_platform.dbt.failures import FailureDetails, WarehouseRows
from edp_platform.dbt.profile import TARGETS
from edp_platform.dbt.project import location_project
from edp_platform.dbt.resource import PlatformDbtCliResource

DEFAULT_OP_NAME = "dbt_models"
BUILD_JOB_NAME = "dbt_build_job"
# Every dbt invocation writes its own <target>/<op>-<run>-<uuid> folder; keep only the newest few.
KEEP_INVOCATION_DIRS = 5

# The platform profile's targets as an Enum: Dagster refuses any other value when the run is launched.
DbtTarget = Enum("DbtTarget", {name: name for name in TARGETS})  # type: ignore[misc]


class DbtBuildConfig(dg.Config):
    """Run config of a dbt build; every field optional (the launch dialog's scaffold offers them)."""

    select: str = Field(default="", description="dbt node selection, as `dbt build --select`; empty: all")
    exclude: str = Field(default="", description="dbt nodes left out, as `dbt build --exclude`")
    vars: dict[str, Any] = Field(default_factory=dict, description="dbt vars, as `dbt build --vars`")
    full_refresh: bool = Field(default=False, description="rebuild incremental models from scratch")
    target: Optional[DbtTarget] = Field(  # noqa: UP045 (Dagster's config types need Optional here)
        default=None,
        description=f"the warehouse profile's target: {' or '.join(TARGETS)}; empty: its default",
    )


def prune_invocation_dirs(target_dir: Path, op_name: str) -> None:
    dirs = sorted((p for p in target_dir.glob(f"{op_name}-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in dirs[:-KEEP_INVOCATION_DIRS]:
        shutil.rmtree(old, ignore_errors=True)


def check_selection(config: DbtBuildConfig, project: DbtProject) -> None:
    """A select/exclude that leaves nothing to build fails the step with that reason before dbt starts (dbt
    itself would report success with nothing done)."""
    if not (config.select.strip() or config.exclude.strip()):
        return
    manifest = json.loads(Path(project.manifest_path).read_text())
    chosen = select_unique_ids(
        config.select.strip() or "fqn:*", config.exclude.strip(), "", project, manifest
    )
    if not chosen:
        raise dg.Failure(
            description=f"the run config's select {config.select!r} / exclude {config.exclude!r} selects "
            f"nothing in the dbt project {Path(project.project_dir).name}: nothing was built"
        )


def selection_args(
    context: dg.AssetExecutionContext,
    project: DbtProject,
    config: DbtBuildConfig,
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
    select: str,
    exclude: str | None,
) -> list[str]:
    """What dbt builds: the run config's select/exclude when given, else the run's subset of the assets,
    else everything the assets cover (as dagster-dbt selects for a context; here dbt runs without one, see
    events.py).

    The run config narrows a build of all the assets: dbt takes several --select flags as their union, so a
    run that is already a subset cannot be narrowed further (the two selections would have to be
    intersected, which neither dbt nor dagster-dbt offers), and is refused.
    """
    if config.select.strip() or config.exclude.strip():
        if context.is_subset:
            raise dg.Failure(
                description="select/exclude in the run config narrow a build of all the dbt assets; this "
                "run materializes a subset of them: launch the job itself, or drop select/exclude"
            )
        check_selection(config, project)
        args = ["--select", config.select.strip() or select]
        return args + (["--exclude", config.exclude.strip()] if config.exclude.strip() else [])
    if context.is_subset:
        # dagster-dbt's own selection for a subset (node names, and which tests come with them). It is one
        # argument however many nodes (dagster-dbt would copy the whole project to use a selector file
        # past 200 of them); dbt reads one argument of up to 128 KiB, several thousand node names.
        args, indirect = get_subset_selection_for_context(
            context=context,
            manifest=manifest,
            select=select,
            exclude=exclude,
            selector=None,
            dagster_dbt_translator=translator,
            current_dbt_indirect_selection_env=os.environ.get("DBT_INDIRECT_SELECTION"),
        )
        # dbt's default (eager) would also run a test of a selected model whose other parent another run
        # builds (a relationships test between two models of the step, when an asset backfill runs them
        # apart): on a fresh warehouse that relation does not exist yet and the test fails. "buildable"
        # runs a test only when all its parents are built here or upstream; the check left out is simply
        # not evaluated in this run (a subsettable multi-asset's checks are optional outputs).
        indirect = indirect or os.environ.get("DBT_INDIRECT_SELECTION") or "buildable"
        return [*args, "--indirect-selection", indirect]
    return ["--select", select, *(["--exclude", exclude] if exclude else [])]


def run_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    project: DbtProject,
    config: DbtBuildConfig,
    op_name: str,
    select: str,
    exclude: str | None,
):
    """`dbt build` with the run's selection, its results yielded as they come (events.py)."""
    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    selection = selection_args(context, project, config, manifest, translator, select, exclude)
    args = build_args(config) + selection
    unique = f"{op_name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    # Without the context dagster-dbt adds no selection of its own, and turns each result into an op's event
    # (AssetMaterialization, AssetCheckEvaluation): StepEvents makes them this step's (events.py).
    invocation = dbt.cli(
        args,
        manifest=manifest,
        dagster_dbt_translator=translator,
        target_path=Path(os.environ.get("DBT_TARGET_PATH", "target")) / unique,
    )
    drain_output(invocation)  # dbt never waits for the events to be stored (drain.py)
    steps = StepEvents(context)
    details = FailureDetails(
        manifest,
        invocation.project_dir,
        invocation.target_path,
        WarehouseRows(dbt_adapter(dbt, invocation.project_dir)),
    )
    try:
        for result in invocation.stream_raw_events():
            for event in result.to_default_asset_events(
                manifest=manifest, dagster_dbt_translator=translator, target_path=invocation.target_path
            ):
                if isinstance(event, AssetCheckEvaluation) and not event.passed:
                    node = result.raw_event["data"].get("node_info", {})
                    found = details.test_metadata(node.get("unique_id", ""), node.get("node_relation"))
                    event = event.with_metadata({**event.metadata, **found})
                yield from steps.convert_all(event)
    except DagsterDbtCliRuntimeError as error:
        # dagster-dbt's own failure, with each failed model's error and compiled SQL (failures.py).
        raise dg.Failure(
            description=error.description, metadata={**error.metadata, **details.failed_nodes_metadata()}
        ) from error
    finally:
        prune_invocation_dirs(invocation.target_path.parent, op_name)


def dbt_adapter(dbt: DbtCliResource, project_dir: Path):
    """A dbt adapter for the platform's profile (dagster-dbt's own `_initialize_dbt_core_adapter`, which the
    platform's resource otherwise skips: resource.py); made only when a test failed (failures.py)."""

    def make() -> Any:
        with contextlib.chdir(project_dir):
            return DbtCliResource._initialize_dbt_core_adapter(dbt, ["build"])

    return make


def build_args(config: DbtBuildConfig) -> list[str]:
    """`dbt build` arguments from the run config, but for the selection (selection_args)."""
    # dagster-dbt sets DBT_LOG_FORMAT=json to read dbt's results from its output, and dbt then writes its
    # debug log file (every SQL statement of every node) in JSON too, unless told otherwise: dbt.log stays
    # in dbt's default format, as for a `dbt build` by hand (9.7 MB of JSON against 3.8 MB of text at
    # 1,000 models, serialized by the dbt process: bench/dbt_scale.py).
    args = ["build", "--log-format-file", "debug"]
    if config.full_refresh:
        args.append("--full-refresh")
    if config.vars:
        args += ["--vars", json.dumps(config.vars)]
    if config.target is not None:
        args += ["--target", config.target.value]
    return args


PartitionVars = Callable[[dg.AssetExecutionContext], Mapping[str, Any]]


def with_partition_vars(
    config: DbtBuildConfig, context: dg.AssetExecutionContext, partition_vars: PartitionVars | None
) -> DbtBuildConfig:
    """The run config with the partition's vars added (they win over the run config's own). A full refresh
    gets none: it rebuilds the models from all their data, not from one partition's window."""
    if partition_vars is None or config.full_refresh:
        return config
    if not (context.has_partition_key or context.has_partition_key_range):
        return config
    return config.model_copy(update={"vars": {**config.vars, **partition_vars(context)}})


def build_dbt_assets(
    project: DbtProject | None = None,
    *,
    translator: DagsterDbtTranslator | None = None,
    name: str = DEFAULT_OP_NAME,
    select: str = "fqn:*",
    exclude: str | None = None,
    partitions_def: dg.PartitionsDefinition | None = None,
    partition_vars: PartitionVars | None = None,
) -> dg.AssetsDefinition:
    """The project's nodes as one multi-asset whose step runs `dbt build` with DbtBuildConfig.

    With `partitions_def` the assets are partitioned (dagster-dbt's partitioned dbt assets: a time-window
    definition gets a single-run backfill policy, one dbt invocation over a backfill's range), and
    `partition_vars(context)` gives the dbt vars of the run's partition, e.g. its time window for incremental
    models (`context.partition_time_window`).
    """
    project = project or location_project()

    @dbt_assets(
        name=name,
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator or DagsterDbtTranslator(),
        select=select,
        exclude=exclude,
        partitions_def=partitions_def,
    )
    def _dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        config = with_partition_vars(config, context, partition_vars)
        yield from run_build(context, dbt, project, config, name, select, exclude)

    return _dbt_models


def dbt_resource(project: DbtProject) -> PlatformDbtCliResource:
    return PlatformDbtCliResource(
        project_dir=str(project.project_dir), profiles_dir=str(project.profiles_dir), profile=project.profile
    )


def dbt_definitions(
    project: DbtProject | None = None,
    *,
    translator: DagsterDbtTranslator | None = None,
    name: str = DEFAULT_OP_NAME,
    job_name: str = BUILD_JOB_NAME,
) -> dg.Definitions:
    """The project's assets, `dbt_build_job` over all of them, and the `dbt` resource."""
    project = project or location_project()
    assets = build_dbt_assets(project, translator=translator, name=name)
    job = dg.define_asset_job(
        job_name,
        selection=dg.AssetSelection.assets(assets),
        description="dbt build of the project (models, seeds, snapshots and tests); run config narrows it.",
        # Every step in the run worker's own process (no process per step: docs/scaling.md).
        config={"execution": {"config": {"in_process": {}}}},
    )
    return dg.Definitions(assets=[assets], jobs=[job], resources={"dbt": dbt_resource(project)})
