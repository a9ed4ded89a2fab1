"""In-process checks of the demo's logic: the generator, the landing-zone sensor, the warehouse loader."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from etl_pipeline.generator import (
    TABLE_COLUMNS,
    GeneratorParams,
    Reference,
    generate,
    generate_day,
    generate_reference,
)
from etl_pipeline.ingestion import DAILY, raw_reference_data, raw_retail_data
from etl_pipeline.sensors import build_landing_zone_sensor
from etl_pipeline.warehouse import (
    MissingReference,
    connect,
    connection_params,
    ensure_database,
    load_days,
    load_reference,
    read_reference,
)

from tests.support.process_stack import ProcessStack

# The same construction as in etl_pipeline.definitions, without loading the dbt project.
INGESTION = [raw_reference_data, raw_retail_data]
SENSOR = build_landing_zone_sensor(dg.define_asset_job("ingestion_job", selection=INGESTION))
# Partitioned run requests are resolved against the definitions holding their job.
DEFS = dg.Definitions(assets=INGESTION, sensors=[SENSOR])


DAYS = [date(2024, 1, 1), date(2024, 1, 2), date(2024, 3, 5)]


def test_generator_is_deterministic_and_sized_by_its_parameters() -> None:
    params = GeneratorParams(customers=12, products=4, orders=50, seed=3)
    first, again = generate(params, DAYS), generate(params, reversed(DAYS))
    assert first.tables == again.tables
    assert generate(GeneratorParams(customers=12, products=4, orders=50, seed=4), DAYS).tables != first.tables
    counts = first.row_counts()
    assert (counts["customers"], counts["products"], counts["orders"]) == (12, 4, 50 * len(DAYS))
    assert 150 <= counts["order_items"] <= 600  # one to four lines per order
    for table, rows in first.tables.items():
        assert all(len(row) == len(TABLE_COLUMNS[table]) for row in rows)
    # A day's rows are its own whatever else is loaded: same ids, dates and contents alone or with others.
    reference = Reference.of(generate_reference(params))
    alone = generate_day(DAYS[2], orders=50, seed=3, reference=reference)
    assert set(alone.tables["orders"]) <= set(first.tables["orders"])
    assert {o[2] for o in alone.tables["orders"]} == {DAYS[2]}
    for table in ("orders", "payments"):  # ids unique across days
        ids = [row[0] for row in first.tables[table]]
        assert len(ids) == len(set(ids)), table
    with pytest.raises(ValueError, match="orders must be at least 1"):
        GeneratorParams(orders=0)
    with pytest.raises(ValueError, match="before the first day"):
        generate_day(date(2023, 12, 31), orders=1, seed=1, reference=reference)


def evaluate(landing: Path, cursor: str | None) -> tuple[list[dg.RunRequest], str | None, str | None]:
    """(run requests, new cursor, skip message) for one sensor tick."""
    os.environ["LANDING_DIR"] = str(landing)
    try:
        with dg.build_sensor_context(cursor=cursor, definitions=DEFS) as context:
            result = SENSOR.evaluate_tick(context)
    finally:
        del os.environ["LANDING_DIR"]
    return list(result.run_requests or []), result.cursor, result.skip_message


def test_landing_zone_sensor_requests_each_new_file_once(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    requests, cursor, skip = evaluate(missing, None)
    assert requests == [] and skip is not None and "does not exist" in skip

    landing = tmp_path / "landing"
    landing.mkdir()
    requests, cursor, skip = evaluate(landing, None)
    assert requests == [] and skip is not None and "no new files" in skip

    (landing / "a.csv").write_text("anything")
    (landing / "b.json").write_text(json.dumps({"orders": 9, "seed": 2, "customers": 4}))
    (landing / "bad.json").write_text(json.dumps({"orders": 0}))
    (landing / "orders-2024-03-05.csv").write_text("a day named")
    (landing / "2023-12-31.csv").write_text("before the first partition")
    (landing / ".upload.part").write_text("partial")
    stamp = (landing / "a.csv").stat().st_mtime_ns
    for name in ("b.json", "bad.json"):  # same modification time: names decide what is new
        os.utime(landing / name, ns=(stamp, stamp))
    requests, cursor, skip = evaluate(landing, None)
    by_file = {r.tags["landing_file"]: r for r in requests}
    # bad.json (orders 0), a day without a partition and the dot file launch nothing.
    assert set(by_file) == {"a.csv", "b.json", "orders-2024-03-05.csv"}
    # A file's day is the one in its name, else the newest partition (today's): the day the file arrived.
    today = DAILY.get_last_partition_key()
    assert {name: r.partition_key for name, r in by_file.items()} == {
        "a.csv": today,
        "b.json": today,
        "orders-2024-03-05.csv": "2024-03-05",
    }
    assert by_file["a.csv"].run_config == {}
    # Landed settings reach the step they are for: customers the reference data, orders each day.
    assert by_file["b.json"].run_config == {
        "ops": {
            "raw_reference_data": {"config": {"customers": 4, "seed": 2}},
            "raw_retail_data": {"config": {"orders": 9, "seed": 2}},
        }
    }
    size = (landing / "b.json").stat().st_size
    assert by_file["b.json"].run_key == f"b.json:{size}:{stamp}"

    # The cursor makes the next tick skip those files, but still sees a new one with the same timestamp.
    requests, cursor2, skip = evaluate(landing, cursor)
    assert requests == [] and skip is not None
    (landing / "c.csv").write_text("more")
    os.utime(landing / "c.csv", ns=(stamp, stamp))
    requests, _cursor3, _ = evaluate(landing, cursor2 or cursor)
    assert [r.tags["landing_file"] for r in requests] == ["c.csv"]


def test_ingestion_creates_a_missing_warehouse_database(
    process_stack: ProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"warehouse_probe_{os.getpid()}"
    for key in (
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_PORT",
        "DAGSTER_PG_USERNAME",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
    ):
        monkeypatch.setenv(key, process_stack.env[key])
    monkeypatch.setenv("WAREHOUSE_DB", name)
    try:
        with pytest.raises(MissingReference, match="materialize retail_raw/customers"):
            read_reference()
        params = GeneratorParams(customers=3, products=2, orders=4)
        counts = load_reference(generate_reference(params))
        assert counts == {"customers": 3, "products": 2}
        assert ensure_database() == name  # already there: nothing to do
        reference = read_reference()
        day = generate_day(DAYS[0], orders=4, seed=1, reference=reference)
        assert load_days(day, [DAYS[0]])["orders"] == 4
        # Loading a day again replaces its rows (fewer orders now), and leaves the other days alone.
        assert (
            load_days(generate_day(DAYS[1], orders=2, seed=1, reference=reference), [DAYS[1]])["orders"] == 2
        )
        assert (
            load_days(generate_day(DAYS[0], orders=1, seed=1, reference=reference), [DAYS[0]])["orders"] == 1
        )
        with connect() as conn, conn.cursor() as cur:
            cur.execute("select order_date, count(*) from retail_raw.orders group by 1 order by 1")
            assert cur.fetchall() == [(DAYS[0], 1), (DAYS[1], 2)]
            cur.execute("select count(*) from retail_raw.order_items where order_id < 200000")
            assert cur.fetchone() == (
                len(generate_day(DAYS[0], orders=1, seed=1, reference=reference).tables["order_items"]),
            )
        # A smaller reference load with another seed upserts its ids and deletes none: every order and
        # order line still finds its customer and product (what dbt's relationships tests check).
        smaller = generate_reference(GeneratorParams(customers=1, products=1, seed=9))
        assert load_reference(smaller) == {"customers": 3, "products": 2}
        with connect() as conn, conn.cursor() as cur:
            cur.execute(
                "select count(*) from retail_raw.orders o where not exists "
                "(select 1 from retail_raw.customers c where c.customer_id = o.customer_id)"
            )
            assert cur.fetchone() == (0,)
            cur.execute(
                "select count(*) from retail_raw.order_items i where not exists "
                "(select 1 from retail_raw.products p where p.product_id = i.product_id)"
            )
            assert cur.fetchone() == (0,)
            cur.execute("select * from retail_raw.customers order by customer_id")
            assert (
                cur.fetchall()
                == smaller.tables["customers"] + generate_reference(params).tables["customers"][1:]
            )
    finally:
        admin = psycopg2.connect(**connection_params(process_stack.env["DAGSTER_PG_DB"]))
        try:
            admin.autocommit = True  # DROP DATABASE cannot run inside a transaction
            with admin.cursor() as cur:
                cur.execute(f'drop database if exists "{name}"')
        finally:
            admin.close()
