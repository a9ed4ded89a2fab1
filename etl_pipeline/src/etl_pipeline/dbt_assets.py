"""The demo's dbt models as Dagster assets, through the platform's dbt integration (edp_platform.dbt).

Only the demo's own sources (source `raw`, in the schema the ingestion writes) map onto the ingestion assets,
so lineage runs from ingestion into dbt; any other source keeps dagster-dbt's default key. Models are keyed
<schema>/<name> and grouped by schema.

Three steps, in the order the models depend on each other (one multi-asset per step, so Dagster never has to
split one to break a cycle, and no dbt test spans two of them): the staging views; the incremental models
(fct_orders, daily_revenue), partitioned by day like the raw orders, whose build for a partition gets its time
window as the dbt vars min_date and max_date (max excluded), and which a backfill of a range builds once over
the range (dagster-dbt's single-run policy for time partitions); the other models (tables over all the days).
A step whose selection finds nothing in the project (a user's own project in dbt_project/) is left out.
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


def selects_something(select: str, exclude: str = "") -> bool:
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    return bool(select_unique_ids(select, exclude, "", dbt_project, manifest))


def dbt_steps() -> list[dg.AssetsDefinition]:
    translator = RetailTranslator()
    steps = []
    if selects_something(STAGING):
        steps.append(
            build_dbt_assets(dbt_project, translator=translator, name=STAGING_OP_NAME, select=STAGING)
        )
    if selects_something(INCREMENTAL, STAGING):
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
    if selects_something("fqn:*", rest):
        steps.append(build_dbt_assets(dbt_project, translator=translator, name=DBT_OP_NAME, exclude=rest))
    return steps


retail_dbt_steps = dbt_steps()
dbt = dbt_resource(dbt_project)
