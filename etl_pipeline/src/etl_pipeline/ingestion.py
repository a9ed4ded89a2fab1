"""Ingestion into the warehouse's retail_raw schema: the reference data, and the orders one day at a time.

`retail_raw/customers` and `retail_raw/products` are reference data, not partitioned: every load upserts its
rows and deletes none, since earlier days' orders point at them. `retail_raw/orders`, `order_items` and
`payments` are partitioned by day (DAILY): a run loads the days of its partition (one day, or the days of a
partition range) and replaces exactly those days' rows, so days load in any order, side by side, and again.
"""

# No `from __future__ import annotations`: Dagster reads the ops' config annotations as classes.

from datetime import date, datetime

import dagster as dg

from etl_pipeline.generator import (
    DAY_TABLES,
    FIRST_DAY,
    REFERENCE_TABLES,
    GeneratorParams,
    RetailData,
    days_between,
    generate_day,
    generate_reference,
)
from etl_pipeline.landing import day_settings_path, read_settings
from etl_pipeline.warehouse import RAW_SCHEMA, MissingReference, load_days, load_reference, read_reference

# One partition a day (UTC) from the generator's first day to today: today's is there from midnight and
# fills as files land; the daily schedule builds yesterday's.
DAILY = dg.DailyPartitionsDefinition(start_date=FIRST_DAY.isoformat(), end_offset=1)

# The demo's loads run in this concurrency pool: no limit unless an operator sets one (`edp-tui pool
# warehouse 1`, or the dashboard), e.g. to keep loads off the warehouse while something else needs it.
WAREHOUSE_POOL = "warehouse"

RAW_ASSET_KEYS: dict[str, dg.AssetKey] = {
    table: dg.AssetKey([RAW_SCHEMA, table]) for table in (*REFERENCE_TABLES, *DAY_TABLES)
}


class ReferenceConfig(dg.Config):
    """Size of the reference data; the same values always produce the same rows."""

    customers: int = 500
    products: int = 50
    seed: int = 42


class DayConfig(dg.Config):
    """Orders of each day and the seed; a day's own settings file (<LANDING_DIR>/<YYYY-MM-DD>.json) overrides
    them for that day."""

    orders: int = 40
    seed: int = 42


@dg.multi_asset(
    name="raw_reference_data",
    specs=[
        dg.AssetSpec(
            RAW_ASSET_KEYS[table],
            group_name="raw",
            kinds={"python", "postgres"},
            description=f"{RAW_SCHEMA}.{table}",
        )
        for table in REFERENCE_TABLES
    ],
    pool=WAREHOUSE_POOL,
)
def raw_reference_data(context: dg.AssetExecutionContext, config: ReferenceConfig):
    try:
        params = GeneratorParams(customers=config.customers, products=config.products, seed=config.seed)
    except ValueError as exc:  # e.g. customers=0: fail the step with the reason, load nothing
        raise dg.Failure(description=str(exc)) from exc
    counts = load_reference(generate_reference(params))
    # counts are the tables' rows: more than params asks for when an earlier load was larger (none deleted).
    context.log.info(f"loaded the reference data with {params}; the tables hold {counts}")
    for table in REFERENCE_TABLES:
        yield dg.MaterializeResult(
            asset_key=RAW_ASSET_KEYS[table],
            metadata={"dagster/row_count": counts[table], "seed": params.seed},
        )


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days of the run's partition or partition range; a Failure saying how to launch without one."""
    if not (context.has_partition_key or context.has_partition_key_range):
        raise dg.Failure(
            description="raw_retail_data loads days: launch it for a partition (the run tag "
            "dagster/partition=YYYY-MM-DD, e.g. `edp-tui launch ingestion_job --partition 2024-01-01`) or "
            "backfill a range of days"
        )
    window = context.partition_time_window
    last = datetime.fromtimestamp(window.end.timestamp() - 1, tz=window.end.tzinfo).date()
    return days_between(window.start.date(), last)


def day_params(day: date, config: DayConfig) -> tuple[GeneratorParams, str]:
    """The day's settings (run config, then the day's own settings file) and where they came from."""
    settings: dict[str, int] = {"orders": config.orders, "seed": config.seed}
    source = "run config"
    path = day_settings_path(day)
    if path.is_file():
        try:
            landed = read_settings(path)
        except (OSError, ValueError) as exc:
            raise dg.Failure(description=f"{day.isoformat()}: its settings file {path.name}: {exc}") from exc
        settings.update({k: v for k, v in landed.items() if k in settings})
        source = path.name
    try:
        return GeneratorParams(orders=settings["orders"], seed=settings["seed"]), source
    except ValueError as exc:
        raise dg.Failure(description=f"{day.isoformat()} ({source}): {exc}") from exc


@dg.multi_asset(
    name="raw_retail_data",
    specs=[
        dg.AssetSpec(
            RAW_ASSET_KEYS[table],
            group_name="raw",
            kinds={"python", "postgres"},
            description=f"{RAW_SCHEMA}.{table}, one day a partition",
            deps=[RAW_ASSET_KEYS[t] for t in REFERENCE_TABLES],
        )
        for table in DAY_TABLES
    ],
    partitions_def=DAILY,
    pool=WAREHOUSE_POOL,
)
def raw_retail_data(context: dg.AssetExecutionContext, config: DayConfig):
    days = partition_days(context)
    try:
        reference = read_reference()
    except MissingReference as exc:
        raise dg.Failure(description=str(exc)) from exc
    data = RetailData(tables={table: [] for table in DAY_TABLES})
    for day in days:
        params, source = day_params(day, config)
        day_data = generate_day(day, orders=params.orders, seed=params.seed, reference=reference)
        for table, rows in day_data.tables.items():
            data.tables[table].extend(rows)
        context.log.info(f"{day.isoformat()}: {params.orders} orders, seed {params.seed} ({source})")
    counts = load_days(data, days)
    span = days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()}..{days[-1].isoformat()}"
    context.log.info(f"loaded {span}: {counts}")
    for table in DAY_TABLES:
        yield dg.MaterializeResult(
            asset_key=RAW_ASSET_KEYS[table], metadata={"dagster/row_count": counts[table], "days": len(days)}
        )
