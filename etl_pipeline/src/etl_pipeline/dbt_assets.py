"""The demo's dbt models as Dagster assets, through the platform's dbt integration (edp_platform.dbt).

Only the demo's own sources (source `raw`, in the schema the ingestion writes) map onto the ingestion assets,
so lineage runs from ingestion into dbt; any other source keeps dagster-dbt's default key. Models are keyed
<schema>/<name> and grouped by schema.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator
from edp_platform.dbt import build_dbt_assets, dbt_resource, location_project

from etl_pipeline.ingestion import RAW_ASSET_KEYS
from etl_pipeline.warehouse import RAW_SCHEMA

DBT_OP_NAME = "retail_dbt_models"

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


retail_dbt_models = build_dbt_assets(dbt_project, translator=RetailTranslator(), name=DBT_OP_NAME)
dbt = dbt_resource(dbt_project)
