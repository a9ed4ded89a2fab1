"""In-process checks of the platform's logic: the generator, the landing-zone sensor, the warehouse loader."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from etl_pipeline.generator import TABLE_COLUMNS, GeneratorParams, generate
from etl_pipeline.ingestion import raw_retail_data
from etl_pipeline.sensors import build_landing_zone_sensor
from etl_pipeline.warehouse import connect, connection_params, ensure_database, load_raw

from tests.support.process_stack import ProcessStack

# The same construction as in etl_pipeline.definitions, without loading the dbt project.
SENSOR = build_landing_zone_sensor(dg.define_asset_job("ingestion_job", selection=[raw_retail_data]))


def test_generator_is_deterministic_and_sized_by_its_parameters() -> None:
    params = GeneratorParams(customers=12, products=4, orders=50, seed=3)
    first, again = generate(params), generate(params)
    assert first.tables == again.tables
    assert generate(GeneratorParams(customers=12, products=4, orders=50, seed=4)).tables != first.tables
    counts = first.row_counts()
    assert (counts["customers"], counts["products"], counts["orders"]) == (12, 4, 50)
    assert 50 <= counts["order_items"] <= 200  # one to four lines per order
    for table, rows in first.tables.items():
        assert all(len(row) == len(TABLE_COLUMNS[table]) for row in rows)
    with pytest.raises(ValueError, match="orders must be at least 1"):
        GeneratorParams(orders=0)


def evaluate(landing: Path, cursor: str | None) -> tuple[list[dg.RunRequest], str | None, str | None]:
    """(run requests, new cursor, skip message) for one sensor tick."""
    os.environ["LANDING_DIR"] = str(landing)
    try:
        with dg.build_sensor_context(cursor=cursor) as context:
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
    (landing / "b.json").write_text(json.dumps({"orders": 9, "seed": 2}))
    (landing / "bad.json").write_text(json.dumps({"orders": 0}))
    (landing / ".upload.part").write_text("partial")
    stamp = (landing / "a.csv").stat().st_mtime_ns
    for name in ("b.json", "bad.json"):  # same modification time: names decide what is new
        os.utime(landing / name, ns=(stamp, stamp))
    requests, cursor, skip = evaluate(landing, None)
    by_file = {r.tags["landing_file"]: r for r in requests}
    assert set(by_file) == {"a.csv", "b.json"}  # bad.json (orders 0) and the dot file launch nothing
    assert by_file["a.csv"].run_config == {"ops": {"raw_retail_data": {"config": {}}}}
    assert by_file["b.json"].run_config == {"ops": {"raw_retail_data": {"config": {"orders": 9, "seed": 2}}}}
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
        counts = load_raw(generate(GeneratorParams(customers=3, products=2, orders=4)))
        assert (counts["customers"], counts["orders"]) == (3, 4)
        assert ensure_database() == name  # already there: nothing to do
        with connect() as conn, conn.cursor() as cur:
            cur.execute("select count(*) from retail_raw.products")
            assert cur.fetchone() == (2,)
    finally:
        admin = psycopg2.connect(**connection_params(process_stack.env["DAGSTER_PG_DB"]))
        try:
            admin.autocommit = True  # DROP DATABASE cannot run inside a transaction
            with admin.cursor() as cur:
                cur.execute(f'drop database if exists "{name}"')
        finally:
            admin.close()
