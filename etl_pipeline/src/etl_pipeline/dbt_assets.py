"""The demo's dbt models as Dagster assets, through the platform's dbt integration (edp_platform.dbt).

Only the demo's own sources (source `raw`, in the schema the ingestion writes) map onto the ingestion assets,
so lineage runs from ingestion into dbt; any other source keeps dagster-dbt's default key. Models are keyed
<schema>/<name> and grouped by schema.

Three steps, in the order the models depend on each other (one multi-asset per step, so Dagster never has to
split one to break a cycle, and no dbt test spans two of them): the staging views; the incremental models
(fct_orders, daily_revenue), partitioned by day like the raw orders, whose build for a partition gets its time
window as the dbt vars min_date and max_date (max excluded), and which a backfill of a range builds once over
the range (dagster-dbt's single-run policy for time partitions); the other models (tables over all the days).
Another project in dbt_project/ (a user's own, copied over the demo's) is one unpartitioned step.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator
from dagster_dbt.utils import select_unique_ids
from edp_platform.dbt import build_dbt_assets, dbt_resource, location_project

from etl_pipeline.ingestion import DAILY, RAW_ASSET_KEYS
from etl_pipeline.warehouse import RAW_SCHEMA

# The demo's own dbt project (dbt_project.yml `name:`): only it is split into steps and partitioned.
DEMO_PROJECT = "retail"
STAGING_OP_NAME = "retail_dbt_staging"
DAILY_DBT_OP_NAME = "retail_daily_dbt_models"
DBT_OP_NAME = "retail_dbt_models"
STAGING = "path:models/staging"
INCREMENTAL = "config.materialized:incremental"

dbt_project = location_project()


class RetailTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            name, schema = dbt_resource_props["name"], dbt_resource_props.get("schema")
            if schema == RAW_SCHEMA and name in RAW_ASSET_KEYS:
                return RAW_ASSET_KEYS[name]
            return super().get_asset_key(dbt_resource_props)
        schema = dbt_resource_props.get("config", {}).get("schema")
        if schema:
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"


def window_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The partition's days as dbt vars: min_date is the first day, max_date the day after the last (the
    window's end, midnight UTC)."""
    window = context.partition_time_window
    return {"min_date": window.start.date().isoformat(), "max_date": window.end.date().isoformat()}


def dbt_steps() -> list[dg.AssetsDefinition]:
    """The three steps for the demo's own project; any other project in dbt_project/ (a user's, copied over
    it) is one step of unpartitioned assets as the platform serves any project: its incremental models were
    not written for the demo's day vars, and its tests may span what the split would separate."""
    translator = RetailTranslator()
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    if manifest.get("metadata", {}).get("project_name") != DEMO_PROJECT:
        return [build_dbt_assets(dbt_project, translator=translator, name=DBT_OP_NAME)]

    def selects(select: str, exclude: str = "") -> bool:
        return bool(select_unique_ids(select, exclude, "", dbt_project, manifest))

    steps = []
    if selects(STAGING):
        steps.append(
            build_dbt_assets(dbt_project, translator=translator, name=STAGING_OP_NAME, select=STAGING)
        )
    if selects(INCREMENTAL, STAGING):
        steps.append(
            build_dbt_assets(
                dbt_project,
                translator=translator,
                name=DAILY_DBT_OP_NAME,
                select=INCREMENTAL,
                exclude=STAGING,
                partitions_def=DAILY,
                partition_vars=window_vars,
            )
        )
    rest = f"{STAGING} {INCREMENTAL}"
    if selects("fqn:*", rest):
        steps.append(build_dbt_assets(dbt_project, translator=translator, name=DBT_OP_NAME, exclude=rest))
    return steps


retail_dbt_steps = dbt_steps()
dbt = dbt_resource(dbt_project)
