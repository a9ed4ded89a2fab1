"""The schedule and the sensor through GraphQL, and the sensor launching ingestion when a file lands."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any

from etl_pipeline.generator import GeneratorParams, generate_reference

from tests.support.process_stack import ProcessStack


def today() -> str:
    return datetime.now(UTC).date().isoformat()  # the newest daily partition


SCHEDULES = """
query Schedules($selector: RepositorySelector!) {
  schedulesOrError(repositorySelector: $selector) {
    __typename
    ... on Schedules { results { name cronSchedule pipelineName defaultStatus scheduleState { status } } }
  }
}
"""

SENSORS = """
query Sensors($selector: RepositorySelector!) {
  sensorsOrError(repositorySelector: $selector) {
    __typename
    ... on Sensors {
      results { name defaultStatus minIntervalSeconds targets { pipelineName } sensorState { status } }
    }
  }
}
"""

RUNS_BY_TAG = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status jobName tags { key value } } }
  }
}
"""

# The reasons the sensor logs for files it skips are the tick's log events (what the dashboard can show).
TICK_LOGS = """
query TickLogs($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState { ticks(limit: 50) { skipReason logEvents { events { message level } } } } }
  }
}
"""


def tick_messages(stack: ProcessStack) -> list[str]:
    selector = {**stack.repository_selector, "sensorName": "landing_zone_sensor"}
    ticks = stack.graphql(TICK_LOGS, {"selector": selector})["sensorOrError"]["sensorState"]["ticks"]
    return [e["message"] for t in ticks for e in (t["logEvents"] or {}).get("events") or []]


def test_schedule_and_sensor_visible_with_default_status(process_stack: ProcessStack) -> None:
    selector = {"selector": process_stack.repository_selector}
    schedules = process_stack.graphql(SCHEDULES, selector)["schedulesOrError"]["results"]
    assert [s["name"] for s in schedules] == ["daily_schedule"]
    schedule = schedules[0]
    assert schedule["pipelineName"] == "daily_job"
    assert schedule["cronSchedule"] == "0 2 * * *"
    assert schedule["defaultStatus"] == "STOPPED"
    assert schedule["scheduleState"]["status"] == "STOPPED"

    sensors = process_stack.graphql(SENSORS, selector)["sensorsOrError"]["results"]
    # Only the demo's own: lost run workers are the platform's business (its code servers), not a sensor.
    assert sorted(s["name"] for s in sensors) == ["landing_zone_sensor"]
    sensor = next(s for s in sensors if s["name"] == "landing_zone_sensor")
    assert sensor["targets"] == [{"pipelineName": "ingestion_job"}]
    assert sensor["defaultStatus"] == "RUNNING"
    assert sensor["sensorState"]["status"] == "RUNNING"
    assert sensor["minIntervalSeconds"] == 5  # LANDING_SENSOR_INTERVAL_SECONDS from the stack's environment


def runs_for_file(stack: ProcessStack, name: str) -> list[dict[str, Any]]:
    flt = {"tags": [{"key": "landing_file", "value": name}]}
    runs = stack.graphql(RUNS_BY_TAG, {"filter": flt})["runsOrError"]["results"]
    return [{**r, "tags": {t["key"]: t["value"] for t in r["tags"]}} for r in runs]


def land(stack: ProcessStack, name: str, content: str, mtime_ns: int | None = None) -> None:
    # Written under a dot name and renamed: the sensor never sees a half-written file.
    partial = stack.landing_dir / f".{name}.part"
    partial.write_text(content)
    if mtime_ns is not None:  # as `mv` from another folder keeps it
        os.utime(partial, ns=(mtime_ns, mtime_ns))
    partial.rename(stack.landing_dir / name)


def wait_for_finished_run(stack: ProcessStack, name: str, deadline_s: float = 240) -> list[dict[str, Any]]:
    deadline = time.monotonic() + deadline_s
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = runs_for_file(stack, name)
        if runs and runs[0]["status"] in {"SUCCESS", "FAILURE", "CANCELED"}:
            break
        time.sleep(1)
    return runs


def test_sensor_launches_ingestion_when_a_file_lands(process_stack: ProcessStack) -> None:
    stack = process_stack
    today_at_start = today()
    stamp = time.time_ns()
    bad, deep, good = f"bad-{stamp}.json", f"deep-{stamp}.json", f"batch-{stamp}.json"
    land(stack, bad, "{not json")
    # Under the 64 KiB a settings file may hold, yet deep enough to make every tick raise RecursionError once.
    land(stack, deep, "[" * 60_000)
    land(stack, good, json.dumps({"customers": 7, "products": 3, "orders": 11, "seed": 5}))

    runs = wait_for_finished_run(stack, good)
    assert len(runs) == 1, f"no run for {good} within the deadline: {runs}"
    assert runs[0]["jobName"] == "ingestion_job"
    assert runs[0]["status"] == "SUCCESS", runs

    # The landed settings were used, for the day the file arrived (it has no day in its name: today's
    # partition); the unreadable file was skipped and launched nothing.
    day = runs[0]["tags"]["dagster/partition"]
    assert day in {today_at_start, today()}
    conn = stack.warehouse_connection()
    try:
        with conn.cursor() as cur:
            # Customers 1..7 are the landed seed's (a larger earlier load leaves its others in place).
            cur.execute("select * from retail_raw.customers where customer_id <= 7 order by customer_id")
            landed = generate_reference(GeneratorParams(customers=7, products=3, seed=5))
            assert cur.fetchall() == landed.tables["customers"]
            cur.execute("select count(*) from retail_raw.orders where order_date = %s", (day,))
            assert cur.fetchone() == (11,)
    finally:
        conn.close()
    assert runs_for_file(stack, bad) == [] and runs_for_file(stack, deep) == []
    messages = tick_messages(stack)
    assert any(f"skipping {bad}: not valid JSON" in m for m in messages), messages
    assert any(f"skipping {deep}: not valid JSON: nested too deeply" in m for m in messages), messages

    # Moved in with a modification time older than every file the sensor has seen: still ingested.
    old = f"old-{stamp}.json"
    day_ago = stamp - 86_400 * 10**9
    land(stack, old, json.dumps({"customers": 2, "products": 2, "orders": 3}), mtime_ns=day_ago)
    runs = wait_for_finished_run(stack, old)
    assert [r["status"] for r in runs] == ["SUCCESS"], f"no finished run for {old}: {runs}"
