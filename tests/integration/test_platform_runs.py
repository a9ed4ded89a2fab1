"""Jobs launched through the webserver's GraphQL API on the shared process stack, checked against the data.

The expected mart contents are computed here, in plain Python, from the generator's output for the same
parameters and days: nothing is read back from the pipeline to build the expectation.

One test walks the jobs in order because they share one warehouse: each job runs on a clean database and again
on a second run, for a day or for a range of days in one run. The jobs run in process by default (their
default config); the headline full refresh asks for the multiprocess executor, so that path stays covered.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from etl_pipeline.generator import GeneratorParams, days_between, generate, generate_reference

from tests.support.process_stack import ProcessStack
from tests.support.stack_runs import IN_PROCESS

SMALL = GeneratorParams(customers=40, products=8, orders=100, seed=7)
SMALLER = GeneratorParams(customers=25, products=6, orders=120, seed=11)
D1, D3, D4, D5 = date(2024, 2, 1), date(2024, 2, 3), date(2024, 2, 4), date(2024, 2, 5)
FIRST_THREE = days_between(D1, D3)
MULTIPROCESS = {"execution": {"config": {"multiprocess": {}}}}
REVENUE_STATUSES = {"placed", "shipped", "completed"}
VIP_FROM_CENTS = 1_000_000  # the segment rule documented in etl_pipeline.analytics
WAREHOUSE_SCHEMAS = ("retail_raw", "staging", "marts", "analytics")

REPO_CHECKS = """
query Checks($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    ... on Repository {
      assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } }
    }
  }
}
"""


def ingestion_config(params: GeneratorParams) -> dict[str, Any]:
    reference = {"customers": params.customers, "products": params.products, "seed": params.seed}
    day = {"orders": params.orders, "seed": params.seed}
    return {"ops": {"raw_reference_data": {"config": reference}, "raw_retail_data": {"config": day}}}


def day_tags(day: date) -> dict[str, str]:
    return {"dagster/partition": day.isoformat()}


def range_tags(first: date, last: date) -> dict[str, str]:
    """One run over the days first..last (Dagster's partition-range tags)."""
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def expected_marts(params: GeneratorParams, days: Sequence[date]) -> dict[str, Any]:
    tables = generate(params, days).tables
    totals: Counter[int] = Counter()
    units: Counter[int] = Counter()
    for order_id, _line, _product, quantity, price in tables["order_items"]:
        totals[order_id] += quantity * price
        units[order_id] += quantity
    paid: Counter[int] = Counter()
    for _pid, order_id, _method, amount in tables["payments"]:
        paid[order_id] += amount
    orders = {o[0]: o for o in tables["orders"]}
    revenue_orders = {oid for oid, o in orders.items() if o[3] in REVENUE_STATUSES}

    fct = {
        oid: (o[1], o[2], o[3], totals[oid], units[oid], paid[oid])
        for oid, o in orders.items()  # order_id -> customer, date, status, total, units, paid
    }
    clv = {c[0]: [0, 0] for c in tables["customers"]}
    daily: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for oid in revenue_orders:
        customer, day = orders[oid][1], orders[oid][2]
        clv[customer][0] += 1
        clv[customer][1] += totals[oid]
        daily[day][0] += 1
        daily[day][1] += totals[oid]
    category_of = {p[0]: p[2] for p in tables["products"]}
    cat_orders: dict[str, set[int]] = defaultdict(set)
    cat_units: Counter[str] = Counter()
    cat_revenue: Counter[str] = Counter()
    for order_id, _line, product, quantity, price in tables["order_items"]:
        if order_id in revenue_orders:
            cat = category_of[product]
            cat_orders[cat].add(order_id)
            cat_units[cat] += quantity
            cat_revenue[cat] += quantity * price
    segments = Counter(
        "vip" if ltv >= VIP_FROM_CENTS else "regular" if ltv > 0 else "inactive" for _n, ltv in clv.values()
    )
    return {
        "raw_counts": {name: len(rows) for name, rows in tables.items()},
        "fct_orders": fct,
        "customer_lifetime_value": {c: tuple(v) for c, v in clv.items()},
        "daily_revenue": {d: tuple(v) for d, v in daily.items()},
        "category_revenue": {c: (len(cat_orders[c]), cat_units[c], cat_revenue[c]) for c in cat_orders},
        "segments": dict(segments),
    }


def query(stack: ProcessStack, sql: str) -> list[tuple[Any, ...]]:
    conn = stack.warehouse_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def raw_counts(stack: ProcessStack) -> dict[str, int]:
    tables = ("customers", "products", "orders", "order_items", "payments")
    return {t: query(stack, f"select count(*) from retail_raw.{t}")[0][0] for t in tables}


def actual_marts(stack: ProcessStack, *, with_segments: bool = True) -> dict[str, Any]:
    marts = {
        "raw_counts": raw_counts(stack),
        "fct_orders": {
            r[0]: tuple(r[1:])
            for r in query(
                stack,
                "select order_id, customer_id, order_date, status, order_total_cents, units, paid_cents"
                " from marts.fct_orders",
            )
        },
        "customer_lifetime_value": {
            r[0]: (r[1], r[2])
            for r in query(
                stack,
                "select customer_id, revenue_orders, lifetime_value_cents from marts.customer_lifetime_value",
            )
        },
        "daily_revenue": {
            r[0]: (r[1], r[2])
            for r in query(stack, "select order_date, orders, revenue_cents from marts.daily_revenue")
        },
        "category_revenue": {
            r[0]: (r[1], r[2], r[3])
            for r in query(stack, "select category, orders, units, revenue_cents from marts.category_revenue")
        },
    }
    if with_segments:
        segments = query(stack, "select segment, count(*) from analytics.customer_segments group by segment")
        marts["segments"] = dict(segments)
    return marts


def drop_warehouse(stack: ProcessStack) -> None:
    conn = stack.warehouse_connection()
    try:
        with conn, conn.cursor() as cur:
            for schema in WAREHOUSE_SCHEMAS:
                cur.execute(f"drop schema if exists {schema} cascade")
    finally:
        conn.close()


def run_job(
    stack: ProcessStack, job: str, run_config: dict[str, Any], tags: dict[str, str], timeout: float = 420.0
) -> str:
    t0 = time.monotonic()
    launched = stack.launch_run(job, run_config, tags)
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = stack.wait_for_run(run_id, timeout=timeout)
    executor = next(iter(run_config.get("execution", {}).get("config", {"default executor": 0})))
    print(f"{job} ({executor}): {status} in {time.monotonic() - t0:.1f} s")
    if status != "SUCCESS":
        failures = [e for e in stack.run_events(run_id) if e["__typename"] == "ExecutionStepFailureEvent"]
        raise AssertionError(f"{job} run {run_id} ended {status}: {failures}")
    return str(run_id)


def assert_marts(
    stack: ProcessStack, params: GeneratorParams, days: Sequence[date], *, with_segments: bool = True
) -> None:
    expected = expected_marts(params, days)
    actual = actual_marts(stack, with_segments=with_segments)
    if not with_segments:
        expected.pop("segments")
    assert actual.keys() == expected.keys()
    for name in expected:
        assert actual[name] == expected[name], f"{name} differs from the expectation for {params} {days}"


def check_results(stack: ProcessStack, run_id: str) -> dict[str, bool]:
    """checkName -> success, from the run's ASSET_CHECK_EVALUATION events."""
    return {
        e["evaluation"]["checkName"]: e["evaluation"]["success"]
        for e in stack.run_events(run_id)
        if e["__typename"] == "AssetCheckEvaluationEvent"
    }


DAILY_DBT_STEP = "retail_daily_dbt_models"


def assert_parse_reused(stack: ProcessStack, run_id: str) -> None:
    """The run's dbt started from the partial parse the code server left (dagster-dbt copies
    partial_parse.msgpack into each invocation's own target folder): dbt's own log says it found nothing to
    re-parse. Without it every run pays a full parse of the project (docs/scaling.md)."""
    target = stack.workdir / "dbt" / stack.location_name / "target"
    # One folder per dbt step of the run (the demo's job has three: staging, the day's models, the rest). The
    # day's step passes the partition's window as --vars, and dbt re-parses whenever the vars differ from the
    # saved parse's ("config vars ... have changed"): dbt's rule, a cost every partitioned step pays (noted).
    folders = list(target.glob(f"*-{run_id[:7]}-*"))
    assert len(folders) == 3, (target, sorted(p.name for p in target.iterdir()))
    for folder in folders:
        log = (folder / "dbt.log").read_text(errors="replace")
        if folder.name.startswith(f"{DAILY_DBT_STEP}-"):
            assert "Unable to do partial parsing because config vars" in log, (folder, log[:3000])
            continue
        assert "Partial parsing enabled, no changes found, skipping parsing" in log, (folder, log[:3000])
        assert "Unable to do partial parsing" not in log, folder


def test_jobs_on_clean_database_and_second_run(process_stack: ProcessStack) -> None:
    stack = process_stack
    repo = stack.graphql(REPO_CHECKS, {"selector": stack.repository_selector})["repositoryOrError"]
    declared_checks = {
        c["name"] for n in repo["assetNodes"] for c in (n["assetChecksOrError"] or {}).get("checks", [])
    }
    assert len(declared_checks) >= 20

    # 1. full refresh of three days in one run on a clean warehouse, multiprocess executor: every mart as the
    #    generated data implies, and every dbt test ran as an asset check and passed.
    drop_warehouse(stack)
    run_id = run_job(
        stack, "full_refresh_job", {**ingestion_config(SMALL), **MULTIPROCESS}, range_tags(D1, D3)
    )
    assert_marts(stack, SMALL, FIRST_THREE)
    checks = check_results(stack, run_id)
    assert checks.keys() == declared_checks
    assert all(checks.values()), {name for name, ok in checks.items() if not ok}

    # 2. ingestion and dbt build of a day on a clean warehouse.
    drop_warehouse(stack)
    run_job(stack, "ingestion_job", {**ingestion_config(SMALLER), **IN_PROCESS}, day_tags(D1))
    assert raw_counts(stack) == expected_marts(SMALLER, [D1])["raw_counts"]
    run_id = run_job(stack, "dbt_build_job", IN_PROCESS, day_tags(D1))
    assert_marts(stack, SMALLER, [D1], with_segments=False)
    assert_parse_reused(stack, run_id)

    # 3. full refresh again, on a warehouse holding other data: everything, the incremental tables included,
    #    is rebuilt from the new raw data.
    run_job(stack, "full_refresh_job", {**ingestion_config(SMALL), **IN_PROCESS}, range_tags(D1, D3))
    assert_marts(stack, SMALL, FIRST_THREE)

    # 4. dbt build of one day again (the incremental path over existing tables): nothing changes.
    run_job(stack, "dbt_build_job", IN_PROCESS, day_tags(D3))
    assert_marts(stack, SMALL, FIRST_THREE)

    # 5. a new day through the whole pipeline: its orders join the others, the incremental marts gain it.
    run_job(stack, "daily_job", {**ingestion_config(SMALL), **IN_PROCESS}, day_tags(D4))
    assert_marts(stack, SMALL, [*FIRST_THREE, D4])

    # 6. a smaller reference load (another seed) with a new day: the ids it lacks, which the earlier days'
    #    orders point at, stay, so every dbt test (the relationships ones included) still passes. Before the
    #    reference load became an upsert it truncated them, and every later build failed.
    run_id = run_job(stack, "daily_job", {**ingestion_config(SMALLER), **IN_PROCESS}, day_tags(D5))
    checks = check_results(stack, run_id)
    assert checks and all(checks.values()), {name for name, ok in checks.items() if not ok}
    smaller, small = generate_reference(SMALLER).tables, generate_reference(SMALL).tables
    customers = query(stack, "select * from retail_raw.customers order by customer_id")
    assert customers == smaller["customers"] + small["customers"][SMALLER.customers :]
    products = query(stack, "select * from retail_raw.products order by product_id")
    assert products == smaller["products"] + small["products"][SMALLER.products :]


def test_invalid_run_config_is_rejected_and_starts_no_run(process_stack: ProcessStack) -> None:
    stack = process_stack
    count_query = """
    query Count($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs { count } } }
    """
    before = stack.graphql(count_query, {"filter": {}})["runsOrError"]["count"]
    bad = {"ops": {"raw_retail_data": {"config": {"orders": "many", "colour": "blue"}}}}
    result = stack.launch_run("ingestion_job", bad)
    assert result["__typename"] == "RunConfigValidationInvalid", result
    assert result["pipelineName"] == "ingestion_job"
    messages = " | ".join(e["message"] for e in result["errors"])
    assert "orders" in messages and "many" in messages, messages
    assert "colour" in messages, messages
    reasons = {e["reason"] for e in result["errors"]}
    assert {"RUNTIME_TYPE_MISMATCH", "FIELD_NOT_DEFINED"} <= reasons, result["errors"]
    after = stack.graphql(count_query, {"filter": {}})["runsOrError"]["count"]
    assert after == before
