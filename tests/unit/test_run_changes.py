"""What changed? `RunChangeProbe` (one tiny `updatedAfter` query once runs settle), `AssetChangeProbe`,
the ticks due of schedules and sensors, and the sensors-only read."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from edp_tui.dagster.assets import AssetChangeSignals
from edp_tui.dagster.changes import CLOCK_MARGIN_S, AssetChangeProbe, RunChangeProbe, next_tick_due
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.models import InstigatorInfo, RunSummary, Tick

DONE = RunSummary("r1", "job", "SUCCESS", 100.0, 101.0, 110.0, False)
RUNNING = RunSummary("r2", "job", "STARTED", 200.0, 201.0, None, True)


class Runs:
    """Answers `runs(updated_after=...)` from (run, update time) pairs, and records what was asked."""

    def __init__(self, updates: list[tuple[RunSummary, float]]) -> None:
        self.updates = updates
        self.asked: list[dict[str, Any]] = []

    async def runs(self, limit: int = 50, cursor: str | None = None, **kw: Any) -> list[RunSummary]:
        self.asked.append({"limit": limit, **kw})
        after = kw.get("updated_after")
        return [r for r, at in self.updates if after is None or at > after][:limit]


async def test_settled_runs_are_probed_and_a_change_is_seen() -> None:
    probe = RunChangeProbe(quiet_after=2, full_every_s=15.0)
    # A running run: every poll is a full read.
    probe.full_read(1000.0, [RUNNING, DONE])
    probe.full_read(1000.5, [RUNNING, DONE])
    assert probe.needs_full_read(1001.0)
    # Everything terminal and unchanged for two reads: probes from then on.
    settled = [DONE]
    for t in (1001.0, 1001.5, 1002.0):
        probe.full_read(t, settled)
    assert not probe.needs_full_read(1002.5)
    client = Runs([(DONE, 990.0)])
    assert not await probe.changed(client)  # type: ignore[arg-type]
    assert client.asked == [{"limit": 1, "updated_after": 1002.0 - CLOCK_MARGIN_S}]
    # A run created (or changing status) after the last full read is seen by the next probe.
    client.updates.append((RUNNING, 1002.6))
    assert await probe.changed(client)  # type: ignore[arg-type]


def test_safety_net_read_and_hurry() -> None:
    probe = RunChangeProbe(quiet_after=1, full_every_s=10.0)
    probe.full_read(0.0, [DONE])
    probe.full_read(1.0, [DONE])
    assert not probe.needs_full_read(5.0)
    assert probe.needs_full_read(11.0)  # every full_every_s whatever the probes say
    probe.hurry()
    assert probe.needs_full_read(2.0)


class Signals:
    """Answers `asset_change_signals(since)` with what the test set, and records each ``since``."""

    def __init__(self) -> None:
        self.answer = AssetChangeSignals(False, False, (("etl_pipeline", 100.0),))
        self.asked: list[float] = []

    async def asset_change_signals(self, since: float) -> AssetChangeSignals:
        self.asked.append(since)
        return self.answer


async def test_assets_are_read_fully_only_when_something_may_have_changed() -> None:
    probe = AssetChangeProbe(full_every_s=120.0)
    client = Signals()
    assert await probe.should_read(client, 1000.0)  # type: ignore[arg-type]
    assert client.asked == []  # the first read is a full one, nothing probed
    probe.full_read(1000.0)
    assert not await probe.should_read(client, 1005.0)  # type: ignore[arg-type]
    assert client.asked == [1000.0 - CLOCK_MARGIN_S]
    client.answer = AssetChangeSignals(True, False, (("etl_pipeline", 100.0),))
    assert await probe.should_read(client, 1010.0)  # type: ignore[arg-type]
    client.answer = AssetChangeSignals(False, True, (("etl_pipeline", 100.0),))
    assert await probe.should_read(client, 1011.0)  # type: ignore[arg-type]
    client.answer = AssetChangeSignals(False, False, (("etl_pipeline", 200.0),))  # reloaded
    assert await probe.should_read(client, 1012.0)  # type: ignore[arg-type]
    assert not await probe.should_read(client, 1013.0)  # type: ignore[arg-type]
    assert await probe.should_read(client, 1120.0)  # type: ignore[arg-type]  # the safety net
    probe.hurry()
    asked = len(client.asked)
    assert await probe.should_read(client, 1013.0)  # type: ignore[arg-type]
    assert len(client.asked) == asked


def test_asset_change_signals_from_graphql() -> None:
    data = {
        "changed": {"__typename": "Runs", "results": []},
        "live": {"__typename": "Runs", "results": [{"runId": "r"}]},
        "workspaceOrError": {
            "__typename": "Workspace",
            "locationEntries": [{"name": "etl_pipeline", "updatedTimestamp": 1796127794.5897179}],
        },
    }
    assert AssetChangeSignals.from_graphql(data) == AssetChangeSignals(
        False, True, (("etl_pipeline", 1796127794.5897179),)
    )
    # An error answer counts as a change: the full read shows the error.
    errors = {"changed": {"__typename": "PythonError"}, "live": None, "workspaceOrError": None}
    assert AssetChangeSignals.from_graphql(errors) == AssetChangeSignals(True, True, ())


def test_the_next_tick_due_of_running_schedules_and_sensors() -> None:
    tick = Tick("SKIPPED", 1000.0)
    sensor = InstigatorInfo("sensor", "s", "loc", "repo", "RUNNING", None, None, "every 10s", 1010.0, tick)
    schedule = InstigatorInfo("schedule", "d", "loc", "repo", "RUNNING", None, None, "0 2 * * *", 5000.0)
    assert next_tick_due([sensor, schedule]) == 1010.0
    # Once due, Dagster answers no next tick for a sensor: its last tick plus its interval.
    assert next_tick_due([replace(sensor, next_tick=None, last_tick=Tick("SKIPPED", 1003.0))]) == 1013.0
    assert next_tick_due([replace(sensor, status="STOPPED"), replace(schedule, status="STOPPED")]) is None
    assert next_tick_due([]) is None


async def test_the_client_reads_the_sensors_of_a_repository_alone() -> None:
    fixtures = Path(__file__).parent / "fixtures" / "dagster"
    body = json.loads((fixtures / "sensors_running.json").read_text())["body"]
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content)["operationName"])
        return httpx.Response(200, json=body)

    client = DagsterClient("http://dagster.test/graphql", transport=httpx.MockTransport(handler))
    sensors = await client.sensors("etl_pipeline", "__repository__")
    assert asked == ["Sensors"]
    assert sensors and all(s.kind == "sensor" and s.location == "etl_pipeline" for s in sensors)
