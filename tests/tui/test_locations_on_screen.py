"""Two code locations with a job of the same name, on the dashboard: the runs list says which location each
run's job is of and filters by `location:NAME`; the launch dialog names the location of every job, launches
the one picked there, and starts again on the same job of the same location; the schedules say theirs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dagster_fake import REPO, T0, FakeDagster, loaded_location, run, sample_instigators
from textual.widgets import Select

from edp_tui.ui.screens.launch_dialog import LaunchDialog
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel
from tests.support.pilot import Host, screen_text, until, wait_shown

SIZE = (150, 36)
ANALYTICS_RUN = "aaaa0000-0000-0000-0000-00000000000a"


def two_locations() -> FakeDagster:
    fake = FakeDagster()
    fake.locations_list = [loaded_location("analytics"), loaded_location("etl_pipeline")]
    fake.runs_list.insert(
        0, run(ANALYTICS_RUN, "ingestion_job", "SUCCESS", T0 - 3, T0 - 2, T0 - 1, location="analytics")
    )
    return fake


def rows(panel: RunsPanel) -> dict[str, str]:
    return {str(key.value): str(panel.table.get_cell(key, "job")) for key in panel.table.rows}


async def test_runs_of_several_locations_say_their_location_and_filter_by_it() -> None:
    fake = two_locations()
    panel = RunsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        jobs = rows(panel)
        assert jobs[ANALYTICS_RUN] == "analytics: ingestion_job"
        assert jobs["c3d4e5f6-0000-0000-0000-000000000003"] == "etl_pipeline: ingestion_job"
        panel.table.focus()
        await pilot.press("f")
        await pilot.press(*"location:analytics", "enter")
        await until(pilot, lambda: list(rows(panel)) == [ANALYTICS_RUN])
        assert fake.last_runs_filter["tags"] == {"dagster/code_location": "analytics"}
        # One location on the page: the job name alone again.
        assert rows(panel)[ANALYTICS_RUN] == "ingestion_job"
        await wait_shown(pilot, "location analytics · page 1")


async def test_one_location_shows_job_names_alone() -> None:
    panel = RunsPanel(FakeDagster())
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        assert all(":" not in job for job in rows(panel).values())


def picked(app: Any) -> tuple[str, str, str]:
    value = app.screen.query_one("#job", Select).value
    assert isinstance(value, tuple)
    return value  # type: ignore[return-value]


async def test_the_launch_dialog_carries_the_location_of_the_job() -> None:
    fake = two_locations()
    panel = RunsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        panel.table.focus()
        await pilot.press("l")
        # The newest run is analytics' ingestion_job: that one, not etl_pipeline's of the same name.
        await until(pilot, lambda: isinstance(app.screen, LaunchDialog) and "limit: 100" in screen_text(app))
        assert picked(app) == ("analytics", REPO, "ingestion_job")
        await wait_shown(pilot, "analytics: ingestion_job")
        app.screen.query_one("#job", Select).value = ("etl_pipeline", REPO, "ingestion_job")
        await until(pilot, lambda: fake.calls.count(("default_run_config", "ingestion_job")) >= 2)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(fake.launched_from))
        assert fake.launched_from == [("etl_pipeline", REPO, "ingestion_job")]
        await until(pilot, lambda: not isinstance(app.screen, LaunchDialog))
        panel.table.focus()
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LaunchDialog) and "limit: 100" in screen_text(app))
        assert picked(app) == ("etl_pipeline", REPO, "ingestion_job")


async def test_schedules_of_two_locations_with_the_same_name_are_two_rows() -> None:
    fake = two_locations()
    fake.instigators_list = [
        *sample_instigators(),
        *(replace(item, location="analytics") for item in sample_instigators()),
    ]
    panel = SchedulesPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated and panel.table.row_count == 4)
        located = {
            (str(panel.table.get_cell(k, "name")), str(panel.table.get_cell(k, "location")))
            for k in panel.table.rows
        }
        assert ("landing_zone_sensor", "analytics") in located and (
            "landing_zone_sensor",
            "etl_pipeline",
        ) in located
