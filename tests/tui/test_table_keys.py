"""End/G and Home/g move the cursor to the last and first row in every table of the dashboard (DataTable's
own Home/End only scroll sideways): one Pilot test per table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from dagster_fake import FakeDagster, broken_location, loaded_location
from shell_fakes import FakeRunContainers, FakeServices, fixed_now
from textual.widget import Widget
from textual.widgets import DataTable

from edp_tui.docker.run_containers import RunContainer
from edp_tui.ui.widgets.dagster.assets import AssetsPanel
from edp_tui.ui.widgets.dagster.locations import LocationsPanel
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel
from edp_tui.ui.widgets.run_containers import RunContainersPanel
from edp_tui.ui.widgets.services_panel import ServicesPanel
from tests.support.pilot import Host, until

SIZE = (160, 40)
FAILED_RUN = "c3d4e5f6-0000-0000-0000-000000000003"


def two_locations() -> FakeDagster:
    fake = FakeDagster()
    fake.locations_list = [loaded_location(), broken_location()]
    return fake


def run_containers() -> FakeRunContainers:
    one = RunContainer("c1", "edp-run-1", "11111111-0", "ingestion_job", "running", "Up 1 s")
    return FakeRunContainers([one, replace(one, container_id="c2"), replace(one, container_id="c3")])


async def show_failed_run(pilot: Any, panel: Widget) -> None:
    assert isinstance(panel, RunDetailPanel)
    panel.show_run(next(r for r in FakeDagster().runs_list if r.run_id == FAILED_RUN))


async def stg_orders(pilot: Any, panel: Widget) -> None:
    """The asset with two checks, highlighted."""
    assert isinstance(panel, AssetsPanel)
    await until(pilot, lambda: panel.populated)
    panel.table.move_cursor(row=panel.table.get_row_index("staging/stg_orders"))


async def nothing(pilot: Any, panel: Widget) -> None:
    pass


# (name, the panel, the table's id, what to do once it is mounted)
TABLES: list[tuple[str, Callable[[], Widget], str, Callable[[Any, Widget], Awaitable[None]]]] = [
    ("services", lambda: ServicesPanel(FakeServices(), now=fixed_now), "services-table", nothing),
    ("runs", lambda: RunsPanel(FakeDagster()), "runs-table", nothing),
    ("steps", lambda: RunDetailPanel(FakeDagster()), "steps-table", show_failed_run),
    ("locations", lambda: LocationsPanel(two_locations()), "locations-table", nothing),
    ("schedules", lambda: SchedulesPanel(FakeDagster()), "instigators-table", nothing),
    ("assets", lambda: AssetsPanel(FakeDagster()), "assets-table", nothing),
    ("asset checks", lambda: AssetsPanel(FakeDagster()), "asset-checks", stg_orders),
    ("run containers", lambda: RunContainersPanel(run_containers()), "run-containers-table", nothing),
]


@pytest.mark.parametrize(("name", "make", "table_id", "prepare"), TABLES, ids=[t[0] for t in TABLES])
async def test_end_g_and_home_g_move_the_cursor(
    name: str, make: Callable[[], Widget], table_id: str, prepare: Callable[[Any, Widget], Awaitable[None]]
) -> None:
    panel = make()
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.is_mounted)
        await prepare(pilot, panel)
        table = app.query_one(f"#{table_id}", DataTable)
        await until(pilot, lambda: table.row_count >= 2, what=f"rows in the {name} table")
        last = table.row_count - 1
        table.focus()
        for key, row in (("end", last), ("home", 0), ("G", last), ("g", 0)):
            await pilot.press(key)
            await until(pilot, lambda row=row: table.cursor_row == row, what=f"{key} -> row {row}")
