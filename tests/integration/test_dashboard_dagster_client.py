"""The GraphQL client against the real webserver of the shared process stack: queries, the push channels
(compute-log and location-state subscriptions over the legacy graphql-ws protocol) and the error types."""

from __future__ import annotations

import asyncio

import pytest

from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterRequestRejected, RunConfigInvalid
from edp_tui.dagster.models import LogChunk, log_keys_from_events
from tests.support.process_stack import ProcessStack
from tests.support.stack_runs import DEMO_DAY

REPO = "__repository__"


async def test_models_from_the_live_webserver(process_stack: ProcessStack) -> None:
    async with DagsterClient(process_stack.graphql_url) as client:
        [location] = await client.locations()
        assert location.name == process_stack.location_name and location.state == "loaded"
        jobs = {job.name for _, job in location.visible_jobs()}
        assert {"ingestion_job", "dbt_build_job", "daily_job", "full_refresh_job"} <= jobs
        items = {(i.kind, i.name): i for i in await client.instigators(location.name, REPO)}
        assert items[("schedule", "daily_schedule")].cadence.startswith("0 2 * * *")
        assert items[("sensor", "landing_zone_sensor")].cadence.startswith("every ")
        health = await client.daemon_health()
        assert health.state == "ok" and {"SCHEDULER", "SENSOR"} <= {d.daemon_type for d in health.daemons}
        with pytest.raises(RunConfigInvalid) as info:
            await client.launch_run(
                location.name,
                REPO,
                "ingestion_job",
                {"ops": {"raw_retail_data": {"config": {"orders": "x"}}}},
            )
        assert [e.path for e in info.value.errors] == ["root:ops:raw_retail_data:config:orders"]
        with pytest.raises(DagsterRequestRejected, match="RunNotFoundError"):
            await client.run("00000000-0000-0000-0000-000000000000")


async def test_compute_logs_by_subscription_equal_the_polled_logs(process_stack: ProcessStack) -> None:
    async with DagsterClient(process_stack.graphql_url) as client:
        run = await client.launch_run(
            process_stack.location_name,
            REPO,
            "ingestion_job",
            {
                "ops": {
                    "raw_reference_data": {"config": {"customers": 10, "products": 3}},
                    "raw_retail_data": {"config": {"orders": 20}},
                }
            },
            {"dagster/partition": DEMO_DAY},
        )
        deadline = asyncio.get_running_loop().time() + 300
        while not (await client.run(run.run_id)).run.is_terminal:
            assert asyncio.get_running_loop().time() < deadline, "run did not finish"
            await asyncio.sleep(1)
        assert (await client.run(run.run_id)).run.status == "SUCCESS"
        page = await client.run_events(run.run_id)
        keys = log_keys_from_events(run.run_id, page.events)
        assert keys and any("raw_retail_data" in k.step_keys for k in keys)
        key = next(k for k in keys if "raw_retail_data" in k.step_keys)
        polled = await client.captured_logs(key)
        pushed: list[LogChunk] = []

        async def follow() -> None:
            async for chunk in client.captured_logs_stream(key):
                pushed.append(chunk)

        await asyncio.wait_for(follow(), timeout=60)  # a finished step's subscription completes
        assert "".join(c.stderr for c in pushed) == polled.stderr
        assert f"loaded {DEMO_DAY}: " in polled.stderr
        assert pushed[-1].cursor == polled.cursor


async def test_reload_is_pushed_as_a_location_event(process_stack: ProcessStack) -> None:
    async with DagsterClient(process_stack.graphql_url) as client:
        events = client.location_events()
        first = asyncio.ensure_future(events.__anext__())
        # A reload made before the webserver registered the subscription is not pushed to it: reload until
        # one is (the subscription has no acknowledgement of its own to wait on).
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            loc = await client.reload_location(process_stack.location_name)
            done, _ = await asyncio.wait({first}, timeout=5)
            if done:
                break
            assert asyncio.get_running_loop().time() < deadline, "no location event within 60 s of reloads"
        event = first.result()
        await events.aclose()
        assert event.location_name == process_stack.location_name
        assert event.event_type in ("LOCATION_UPDATED", "LOCATION_RECONNECTED")
        assert loc.name == process_stack.location_name
        assert (await client.locations())[0].state == "loaded"
