"""The dbt models as Dagster assets; dbt tests become asset checks (dagster-dbt's default)."""

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from etl_pipeline.ingestion import RAW_ASSET_KEYS
from etl_pipeline.project import load_dbt_project

DBT_OP_NAME = "retail_dbt_models"
# Every dbt invocation writes its own target/<op>-<run>-<uuid> folder; keep only the newest few.
KEEP_INVOCATION_DIRS = 5

dbt_project = load_dbt_project()


class RetailTranslator(DagsterDbtTranslator):
    """Sources map onto the ingestion assets (lineage raw → staging); models are keyed <schema>/<name>."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return RAW_ASSET_KEYS[dbt_resource_props["name"]]
        schema = dbt_resource_props.get("config", {}).get("schema")
        if schema:
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False


def _prune_invocation_dirs(target_dir: Path) -> None:
    dirs = sorted(
        (p for p in target_dir.glob(f"{DBT_OP_NAME}-*") if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    for old in dirs[:-KEEP_INVOCATION_DIRS]:
        shutil.rmtree(old, ignore_errors=True)


@dbt_assets(
    name=DBT_OP_NAME,
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=RetailTranslator(),
)
def retail_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
    invocation = dbt.cli(args, context=context)
    try:
        yield from invocation.stream()
    finally:
        _prune_invocation_dirs(invocation.target_path.parent)
