"""Polls slow down at rest: the runs list and the Assets tab probe with one tiny query once settled;
schedules and sensors are read when a tick is due, the workspace seldom."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster  # noqa: E402

from edp_tui.ui.widgets.dagster.assets import AssetsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.runs import RunsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel  # noqa: E402
from edp_tui.util.cadence import Cadence  # noqa: E402
from tests.support.pilot import Host, until


async def test_a_settled_runs_list_only_asks_whether_something_changed() -> None:
    fake = FakeDagster()
    fake.runs_list = [r for r in fake.runs_list if r.status != "QUEUED"]  # every run terminal
    panel = RunsPanel(fake)
    async with Host(panel).run_test() as pilot:

        def probes() -> list[Any]:
            return [arg for name, arg in fake.calls if name == "runs" and arg[0] == 1]

        await until(pilot, lambda: bool(probes()), timeout=10)
        assert panel.current_interval() == panel.quiet_interval
        # A key (or a launch) reads the full page again at once.
        panel.wake()
        assert panel.current_interval() == panel.poll_interval


async def test_unchanged_schedules_are_polled_less_and_less_often() -> None:
    fake = FakeDagster()
    panel = SchedulesPanel(fake)
    async with Host(panel).run_test() as pilot:
        await until(pilot, lambda: panel.populated)
        assert panel.cadence.interval == panel.poll_interval
        # Two unchanged answers (wake() polls at once): the next poll waits longer.
        for _ in range(2):
            polls = panel.polls
            panel.wake()
            await until(pilot, lambda polls=polls: panel.polls > polls)
        assert panel.cadence.interval > panel.poll_interval


async def test_schedules_poll_when_a_tick_is_due_and_read_the_workspace_seldom() -> None:
    fake = FakeDagster()
    panel = SchedulesPanel(fake)
    panel.cadence = Cadence(30.0, 60.0)  # nothing but the tick timer can bring the next poll
    panel.tick_margin_s = 0.01
    async with Host(panel).run_test() as pilot:
        await until(pilot, lambda: panel.populated)
        before = fake.calls.count(("locations", None))
        polls = panel.polls
        # The running sensor's next tick is due now: the timer polls, and reads the sensors alone (the
        # workspace and the schedules are not read again).
        sensor = fake.instigators_list[1]
        fake.instigators_list[1] = replace(sensor, next_tick=panel.clock())
        panel.wake()
        await until(pilot, lambda: panel.polls >= polls + 3)
        assert fake.calls.count(("locations", None)) == before + 1  # once, for the key
        full_reads = sum(1 for name, _ in fake.calls if name == "instigators")
        sensor_reads = sum(1 for name, _ in fake.calls if name == "sensors")
        assert sensor_reads >= 2 and full_reads == 2  # the first poll and the key's
        assert len(panel.items) == 2  # the schedule is still shown
        # A tick that lands (last tick, next tick) is no reason to poll faster.
        panel.cadence = Cadence(3.0, 30.0)
        panel.cadence.interval = 12.0
        assert sensor.last_tick is not None
        ticked = replace(sensor, last_tick=replace(sensor.last_tick, status="SKIPPED"), next_tick=None)
        panel.show_items([fake.instigators_list[0], ticked])
        assert panel.cadence.interval == 24.0
        # A status changed elsewhere (nobody could predict it): fast again.
        panel.show_items([fake.instigators_list[0], replace(ticked, status="STOPPED")])
        assert panel.cadence.interval == panel.cadence.fast


async def test_assets_at_rest_only_ask_whether_anything_changed() -> None:
    fake = FakeDagster()
    panel = AssetsPanel(fake)
    panel.cadence = Cadence(0.01, 0.02)  # quick polls: the test counts requests, it does not time them
    async with Host(panel).run_test() as pilot:

        def count(name: str) -> int:
            return sum(1 for n, _ in fake.calls if n == name)

        await until(pilot, lambda: panel.populated and count("asset_change_signals") >= 3)
        assert count("assets") == 1
        # A run changed status (it may have materialized something): one full read, then probes again.
        fake.assets_list = [replace(fake.assets_list[0], stale_status="FRESH", stale_causes=())]
        fake.runs_list[0] = replace(fake.runs_list[0], status="SUCCESS", update_time=panel.clock() + 30)
        await until(pilot, lambda: len(panel.assets) == 1)
        fake.runs_list[0] = replace(fake.runs_list[0], update_time=None)
        reads = count("assets")
        probes = count("asset_change_signals")
        await until(pilot, lambda: count("asset_change_signals") >= probes + 3)
        assert count("assets") <= reads + 1  # at most the read already on its way
        # A code location loaded again (new code versions): read fully.
        fake.locations_list = [replace(fake.locations_list[0], updated=panel.clock())]
        reads = count("assets")
        await until(pilot, lambda: count("assets") > reads)
        # A key reads fully at once, whatever the probe says.
        reads = count("assets")
        panel.wake()
        await until(pilot, lambda: count("assets") > reads)


async def test_assets_are_read_fully_while_a_run_is_in_progress() -> None:
    fake = FakeDagster()
    fake.runs_list[0] = replace(fake.runs_list[0], status="STARTED")
    panel = AssetsPanel(fake)
    panel.cadence = Cadence(0.01, 0.02)
    async with Host(panel).run_test() as pilot:
        await until(pilot, lambda: sum(1 for n, _ in fake.calls if n == "assets") >= 3)
