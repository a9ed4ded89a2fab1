"""The demo code location `etl_pipeline`: a retail pipeline served by the platform like any user's code.

Ingestion (generated data into the warehouse's retail_raw schema) -> the dbt project's models, through the
platform's dbt integration -> a Python asset downstream, with three jobs, a daily schedule and a
landing-folder
sensor. The platform serves it from its settings (stack/.env: EDP_LOCATION_ETL_PIPELINE_*); nothing of it is
needed by the platform.

A Python asset whose dbt upstream is missing from the dbt project (a user's own project copied into
dbt_project/, say) is left out at load time with a warning naming the missing assets, which the platform shows
with the location, instead of a run that fails with UndefinedTable.
"""

import warnings
from typing import Any

import dagster as dg

from etl_pipeline.analytics import CLV_KEY, customer_segments
from etl_pipeline.dbt_assets import DBT_OP_NAME, dbt, retail_dbt_models
from etl_pipeline.ingestion import raw_retail_data
from etl_pipeline.sensors import build_landing_zone_sensor

# Run latency: every step in the run worker's own process. The default (multiprocess) executor starts a
# Python process per step that imports dagster, dagster_dbt and these definitions again (1.5-3 s each on a
# quiet host) for jobs that are a straight line anyway: ingestion -> dbt build (one op) -> analytics. The
# executor stays Dagster's default (multi_or_in_process): a run may still ask for
# `execution: {config: {multiprocess: {}}}`.
IN_PROCESS: dict[str, Any] = {"execution": {"config": {"in_process": {}}}}


def python_assets_with_upstream(dbt_keys: set[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    """The demo's Python assets whose dbt upstream the project defines; a warning names each left out."""
    missing = [key for key in (CLV_KEY,) if key not in dbt_keys]
    if missing:
        names = ", ".join(key.to_user_string() for key in missing)
        warnings.warn(
            f"the demo's analytics/customer_segments needs {names}, which the dbt project does not define: "
            "it is left out of this location (and of full_refresh_job) until the model is back",
            stacklevel=2,
        )
        return []
    return [customer_segments]


python_assets = python_assets_with_upstream(set(retail_dbt_models.keys))

ingestion_job = dg.define_asset_job(
    "ingestion_job",
    selection=dg.AssetSelection.assets(raw_retail_data),
    description="Generate the retail data and load the warehouse's retail_raw schema.",
    config=IN_PROCESS,
)
dbt_build_job = dg.define_asset_job(
    "dbt_build_job",
    selection=dg.AssetSelection.assets(retail_dbt_models),
    description="dbt build (models and tests) over the current raw data; daily_revenue runs incrementally.",
    config=IN_PROCESS,
)
full_refresh_job = dg.define_asset_job(
    "full_refresh_job",
    selection=dg.AssetSelection.all(),
    description="Ingestion, `dbt build --full-refresh` and the analytics assets.",
    config={**IN_PROCESS, "ops": {DBT_OP_NAME: {"config": {"full_refresh": True}}}},
)

daily_full_refresh_schedule = dg.ScheduleDefinition(
    name="daily_full_refresh_schedule",
    job=full_refresh_job,
    cron_schedule="0 2 * * *",
    # STOPPED: a fresh stack must not start rebuilding the warehouse on its own; an operator turns it on.
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

defs = dg.Definitions(
    assets=[raw_retail_data, retail_dbt_models, *python_assets],
    jobs=[ingestion_job, dbt_build_job, full_refresh_job],
    schedules=[daily_full_refresh_schedule],
    sensors=[build_landing_zone_sensor(ingestion_job)],
    resources={"dbt": dbt},
)
