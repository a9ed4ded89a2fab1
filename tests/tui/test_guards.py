"""An action in flight refuses a second one (double presses), and a run detail never continues from the event
cursor of an earlier selection."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from dagster_fake import FakeDagster, run
from shell_fakes import FakeServices, fake_backends, fixed_now
from textual.app import App

from edp_tui.config import Config
from edp_tui.dagster.models import RunEvent
from edp_tui.ui.app import EdpApp
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.screens.reexecute import ReexecuteDialog
from edp_tui.ui.widgets.dagster.assets import AssetsPanel
from edp_tui.ui.widgets.dagster.locations import LocationsPanel
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel
from tests.support.pilot import Host, screen_text, until, wait_shown

SIZE = (130, 32)
FAILED_RUN = "c3d4e5f6-0000-0000-0000-000000000003"


def messages(app: App[None]) -> list[str]:
    return [n.message for n in app._notifications]


async def test_second_restart_while_one_is_in_flight_is_refused() -> None:
    source = FakeServices()
    source.gate = threading.Event()
    app = EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml")),
        fake_backends(source, FakeDagster(silent=True)),
        now=fixed_now,
    )
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.services_panel.populated)
            await pilot.press("R", "y")  # restart asks first
            await until(pilot, lambda: source.calls == [("restart", "postgres")])  # in flight now
            await pilot.press("R")
            await until(pilot, lambda: any("already in progress" in m for m in messages(app)))
            source.gate.set()
            await until(pilot, lambda: any("postgres restarted" in m for m in messages(app)))
            assert source.calls == [("restart", "postgres")]
            # Done: the next press is accepted again.
            await pilot.press("R", "y")
            await until(pilot, lambda: len(source.calls) == 2)
    finally:
        source.gate.set()


async def test_second_reexecute_while_one_is_in_flight_is_refused() -> None:
    fake = FakeDagster()
    gate = fake.gates["reexecute_run"] = asyncio.Event()
    panel = RunsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        panel.table.move_cursor(row=panel.table.get_row_index(FAILED_RUN))
        await until(pilot, lambda: panel.selected is not None and panel.selected.run_id == FAILED_RUN)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ReexecuteDialog))
        await pilot.press("enter")  # from failure
        await until(pilot, lambda: ("reexecute_run", FAILED_RUN) in fake.calls)
        await pilot.press("e")
        await until(pilot, lambda: any("already in progress" in m for m in messages(app)))
        gate.set()
        await until(pilot, lambda: any("Launched" in m for m in messages(app)))
        assert [c for c in fake.calls if c[0] == "reexecute_run"] == [("reexecute_run", FAILED_RUN)]


async def test_second_toggle_while_one_is_in_flight_is_refused() -> None:
    fake = FakeDagster()
    gate = fake.gates["set_running"] = asyncio.Event()
    panel = SchedulesPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        await pilot.press("s")
        await until(pilot, lambda: any(c[0] == "set_running" for c in fake.calls))
        await pilot.press("s")
        await until(pilot, lambda: any("already in progress" in m for m in messages(app)))
        gate.set()
        await until(pilot, lambda: any("RUNNING" in m for m in messages(app)))
        assert len([c for c in fake.calls if c[0] == "set_running"]) == 1


def event(n: int) -> RunEvent:
    return RunEvent("LogMessageEvent", None, f"event number {n}", 1_000.0 + n, "INFO")


async def test_switching_runs_during_a_poll_never_continues_from_a_stale_cursor() -> None:
    fake = FakeDagster()
    a = run("aaaaaaaa-0000-0000-0000-00000000000a", "ingestion_job", "STARTED", 900.0, 901.0, None)
    b = run("bbbbbbbb-0000-0000-0000-00000000000b", "dbt_build_job", "STARTED", 900.0, 901.0, None)
    fake.runs_list[:0] = [a, b]
    fake.events[a.run_id] = [event(1), event(2), event(3)]
    panel = RunDetailPanel(fake)
    panel.poll_interval = 0.1
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.is_mounted)
        panel.show_run(a)
        await until(pilot, lambda: panel.events_cursor == "3")
        # The next poll of A hangs while reading events after cursor 3; two more events arrive meanwhile.
        gate = fake.gates["run_events"] = asyncio.Event()
        fake.events[a.run_id] += [event(4), event(5)]
        await until(pilot, lambda: ("run_events", (a.run_id, "3")) in fake.calls)
        panel.show_run(b)
        panel.show_run(a)  # back to A: the pane starts again from the first event
        del fake.gates["run_events"]
        gate.set()
        await until(pilot, lambda: "event number 5" in screen_text(app))
        await until(pilot, lambda: "event number 1" in screen_text(app), timeout=3)
        assert panel.events_seen == 5


async def test_second_materialize_while_one_is_in_flight_is_refused() -> None:
    """Two confirmations used to launch two materializations: the second is refused, and says why."""
    fake = FakeDagster()
    gate = fake.gates["materialize"] = asyncio.Event()
    panel = AssetsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        panel.table.move_cursor(row=panel.table.get_row_index("marts/fct_orders"))
        await until(pilot, lambda: panel.selected is not None and panel.selected.name == "marts/fct_orders")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: any(c[0] == "materialize" for c in fake.calls))
        await pilot.press("l")
        await until(pilot, lambda: any("already in progress" in m for m in messages(app)))
        assert not isinstance(app.screen, ConfirmScreen)  # refused before asking
        gate.set()
        await until(pilot, lambda: any("materializing 1 asset(s)" in m for m in messages(app)))
        assert fake.materialized == [(("marts", "fct_orders"),)]


async def test_second_reload_while_one_is_in_flight_is_refused_visibly() -> None:
    """A second `r` used to be dropped without a word."""
    fake = FakeDagster()
    gate = fake.gates["reload_location"] = asyncio.Event()
    panel = LocationsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(panel.locations))
        await pilot.press("r")
        await until(pilot, lambda: ("reload_location", "etl_pipeline") in fake.calls)
        await pilot.press("r")
        await wait_shown(pilot, "reload of etl_pipeline already in progress: reload of etl_pipeline refused")
        gate.set()
        await wait_shown(pilot, "reloaded etl_pipeline: loaded")
        assert [c for c in fake.calls if c[0] == "reload_location"] == [("reload_location", "etl_pipeline")]
