"""Code location `etl_pipeline`: `dagster code-server start -m etl_pipeline.definitions`."""

import dagster as dg

from etl_pipeline.analytics import customer_segments
from etl_pipeline.dbt_assets import DBT_OP_NAME, dbt_project, retail_dbt_models
from etl_pipeline.dbt_resource import RetailDbtCliResource
from etl_pipeline.ingestion import raw_retail_data
from etl_pipeline.run_workers import lost_run_worker_sensor
from etl_pipeline.sensors import build_landing_zone_sensor

# Run latency: every step in the run worker's own process. The default (multiprocess) executor starts a
# Python process per step that imports dagster, dagster_dbt and these definitions again (1.5-3 s each on a
# quiet host) for jobs that are a straight line anyway: ingestion -> dbt build (one op) -> analytics. The
# executor stays Dagster's default (multi_or_in_process): a run may still ask for
# `execution: {config: {multiprocess: {}}}`.
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}

ingestion_job = dg.define_asset_job(
    "ingestion_job",
    selection=dg.AssetSelection.assets(raw_retail_data),
    description="Generate the retail data and load the warehouse's raw schema.",
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
    assets=[raw_retail_data, retail_dbt_models, customer_segments],
    jobs=[ingestion_job, dbt_build_job, full_refresh_job],
    schedules=[daily_full_refresh_schedule],
    sensors=[build_landing_zone_sensor(ingestion_job), lost_run_worker_sensor],
    resources={"dbt": RetailDbtCliResource(project_dir=dbt_project)},
)
