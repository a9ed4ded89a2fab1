"""The demo code location `etl_pipeline`: a retail pipeline served by the platform like any user's code.

Ingestion (generated data into the warehouse's retail_raw schema: reference data, and the orders one day a
partition) -> the dbt project's models through the platform's dbt integration (the incremental ones one day a
partition, the rest over all days) -> a Python asset downstream. Jobs for a day's ingestion, dbt build, the
whole pipeline and a full refresh; a schedule that builds yesterday's partition; a landing-folder sensor that
loads a file's day. The platform serves it from its settings (stack/.env: EDP_LOCATION_ETL_PIPELINE_*);
nothing of it is needed by the platform.

A Python asset whose dbt upstream is missing from the dbt project (a user's own project copied into
dbt_project/, say) is left out at load time with a warning naming the missing assets, which the platform shows
with the location, instead of a run that fails with UndefinedTable.
"""

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from etl_pipeline.analytics import CLV_KEY, customer_segments
from etl_pipeline.dbt_assets import dbt, retail_dbt_steps
from etl_pipeline.ingestion import raw_reference_data, raw_retail_data
from etl_pipeline.sensors import build_landing_zone_sensor

# Run latency: every step in the run worker's own process. The default (multiprocess) executor starts a
# Python process per step that imports dagster, dagster_dbt and these definitions again (1.5-3 s each on a
# quiet host) for jobs that are a straight line anyway: ingestion -> dbt build -> analytics. The executor
# stays Dagster's default (multi_or_in_process): a run may still ask for
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


python_assets = python_assets_with_upstream({key for step in retail_dbt_steps for key in step.keys})
ingestion = [raw_reference_data, raw_retail_data]
dbt_models = retail_dbt_steps

# Every job holds the daily-partitioned assets: a run is for a day (the run tag dagster/partition), and the
# assets that are not partitioned are rebuilt over all the days in the same run.
ingestion_job = dg.define_asset_job(
    "ingestion_job",
    selection=dg.AssetSelection.assets(*ingestion),
    description="Load the reference data and one day of orders into the warehouse's retail_raw schema.",
    config=IN_PROCESS,
)
dbt_build_job = dg.define_asset_job(
    "dbt_build_job",
    selection=dg.AssetSelection.assets(*dbt_models),
    description="dbt build (models and tests) for a day: the incremental models over the day, the rest over "
    "all days.",
    config=IN_PROCESS,
)
daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all(),
    description="The whole pipeline for a day: ingestion, dbt build and the analytics assets.",
    config=IN_PROCESS,
)
full_refresh_job = dg.define_asset_job(
    "full_refresh_job",
    selection=dg.AssetSelection.all(),
    description="Ingestion of a day, then `dbt build --full-refresh` (every model rebuilt from all the raw "
    "data) and the analytics assets.",
    config={
        **IN_PROCESS,
        "ops": {step.node_def.name: {"config": {"full_refresh": True}} for step in retail_dbt_steps},
    },
)


@dg.schedule(
    name="daily_schedule",
    job=daily_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    # STOPPED: a fresh stack must not start building days on its own; an operator turns it on.
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Builds yesterday's partition (UTC) with daily_job at 02:00.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    now = context.scheduled_execution_time or datetime.now(UTC)
    yesterday = (now.astimezone(UTC) - timedelta(days=1)).date().isoformat()
    return dg.RunRequest(run_key=yesterday, partition_key=yesterday)


defs = dg.Definitions(
    assets=[*ingestion, *dbt_models, *python_assets],
    jobs=[ingestion_job, dbt_build_job, daily_job, full_refresh_job],
    schedules=[daily_schedule],
    sensors=[build_landing_zone_sensor(ingestion_job)],
    resources={"dbt": dbt},
)
