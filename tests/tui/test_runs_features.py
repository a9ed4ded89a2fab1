"""Runs: the filter line, tags and run config in the detail, re-execute choices, the launch dialog's job."""

from __future__ import annotations

from typing import Any

from dagster_fake import FakeDagster
from textual.app import App, ComposeResult
from textual.widgets import Input, Select

from edp_tui.ui.screens.launch_dialog import LaunchDialog
from edp_tui.ui.screens.reexecute import ReexecuteDialog
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.dagster.runs_tab import RunsTab
from tests.support.pilot import screen_text, until

SIZE = (150, 40)
FAILED_RUN = "c3d4e5f6-0000-0000-0000-000000000003"
SUCCESS_RUN = "b2c3d4e5-0000-0000-0000-000000000002"


class Host(App[None]):
    def __init__(self, fake: FakeDagster) -> None:
        super().__init__()
        self.fake = fake

    def compose(self) -> ComposeResult:
        yield RunsTab(self.fake, id="runs-tab")

    @property
    def runs(self) -> RunsPanel:
        return self.query_one(RunsPanel)


def picked_job(app: App[None]) -> str:
    """The job name picked in the open launch dialog."""
    picked = app.screen.query_one("#job", Select).value
    assert isinstance(picked, tuple)
    return str(picked[2])


async def filter_with(pilot: Any, text: str) -> None:
    await pilot.press("f")
    box = pilot.app.query_one("#runs-filter", Input)
    await until(pilot, lambda: box.has_focus)
    box.value = text
    await pilot.press("enter")


async def select(pilot: Any, run_id: str) -> None:
    runs = pilot.app.runs
    await until(pilot, lambda: runs.populated and run_id in runs.runs)
    runs.table.move_cursor(row=runs.table.get_row_index(run_id))
    await until(pilot, lambda: runs.selected is not None and runs.selected.run_id == run_id)


async def test_filter_by_status_job_tag_and_id_prefix() -> None:
    fake = FakeDagster()
    app = Host(fake)
    async with app.run_test(size=SIZE) as pilot:
        runs = app.runs
        await until(pilot, lambda: runs.populated)
        await filter_with(pilot, "status:failure,canceled")
        await until(pilot, lambda: runs.order == [FAILED_RUN, "d4e5f6a7-0000-0000-0000-000000000004"])
        assert fake.last_runs_filter["statuses"] == ["FAILURE", "CANCELED"]
        assert "status FAILURE,CANCELED" in str(runs.border_subtitle)
        await filter_with(pilot, "job:ingestion_job team=data")
        await until(pilot, lambda: runs.order == [FAILED_RUN])
        assert fake.last_runs_filter["tags"] == {"team": "data"}
        await filter_with(pilot, "b2c3")  # a run id prefix, as the list shows ids
        await until(pilot, lambda: runs.order == [SUCCESS_RUN])
        await filter_with(pilot, "")  # an empty line clears it
        await until(pilot, lambda: len(runs.order) == 4)
        assert runs.table.has_focus


async def test_a_bad_filter_says_why_and_changes_nothing() -> None:
    fake = FakeDagster()
    app = Host(fake)
    async with app.run_test(size=SIZE) as pilot:
        runs = app.runs
        await until(pilot, lambda: runs.populated)
        await filter_with(pilot, "status:nope")
        await until(pilot, lambda: any("unknown run status 'NOPE'" in n.message for n in app._notifications))
        assert runs.query_filter.empty and len(runs.order) == 4
        box = app.query_one("#runs-filter", Input)
        assert box.has_focus and box.value == "status:nope"  # still open to fix the text
        await pilot.press("escape")
        await until(pilot, lambda: runs.table.has_focus and not box.has_class("-open"))


async def test_the_detail_shows_tags_and_the_run_config() -> None:
    app = Host(FakeDagster())
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, FAILED_RUN)
        await until(pilot, lambda: "team=data" in screen_text(app))
        assert "dagster/from_ui=true" in screen_text(app)
        detail = app.query_one(RunDetailPanel)
        detail.query_one("#steps-table").focus()
        await pilot.press("c")
        await until(pilot, lambda: "limit: 100" in screen_text(app))
        assert "RUN_FAILURE" not in screen_text(app)
        await pilot.press("c")
        await until(pilot, lambda: "RUN_FAILURE" in screen_text(app))


async def test_reexecute_offers_from_failure_all_steps_or_the_highlighted_step() -> None:
    fake = FakeDagster()
    app = Host(fake)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, FAILED_RUN)
        steps = app.query_one("#steps-table")
        await until(pilot, lambda: "write_raw_table" in screen_text(app))
        steps.focus()
        await pilot.press("down")  # write_raw_table
        await until(pilot, lambda: app.runs.selected_step == "write_raw_table")
        app.runs.table.focus()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ReexecuteDialog))
        dialog = app.screen
        assert isinstance(dialog, ReexecuteDialog)
        assert [c.describe() for _, c in dialog.offered] == [
            "from failure",
            "all steps",
            "step write_raw_table",
        ]
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: fake.reexecutions == [(FAILED_RUN, "ALL_STEPS", ("write_raw_table",))])
        await until(
            pilot, lambda: app.runs.selected is not None and app.runs.selected.run_id.startswith("f0")
        )


async def test_a_successful_run_is_reexecuted_with_all_steps_and_a_running_one_not_at_all() -> None:
    fake = FakeDagster()
    app = Host(fake)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, SUCCESS_RUN)
        app.runs.table.focus()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ReexecuteDialog))
        await pilot.press("enter")
        await until(pilot, lambda: fake.reexecutions == [(SUCCESS_RUN, "ALL_STEPS", ())])
        queued = fake.runs_list[0]  # the new run, QUEUED
        await select(pilot, queued.run_id)
        app.runs.table.focus()
        await pilot.press("e")
        await until(pilot, lambda: any("once it has finished" in n.message for n in app._notifications))
        assert not isinstance(app.screen, ReexecuteDialog) and len(fake.reexecutions) == 1


async def test_launch_starts_on_the_job_launched_last_and_shows_its_description() -> None:
    fake = FakeDagster()
    app = Host(fake)
    async with app.run_test(size=SIZE) as pilot:
        runs = app.runs
        await until(pilot, lambda: runs.populated)
        runs.table.focus()
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LaunchDialog) and "limit: 100" in screen_text(app))
        # The newest run's job first (ingestion_job), with its description.
        assert picked_job(app) == "ingestion_job"
        assert "Load the landing-zone files into raw tables" in screen_text(app)
        app.screen.query_one("#job", Select).value = ("etl_pipeline", "__repository__", "full_refresh_job")
        await until(pilot, lambda: "Ingestion, then dbt build" in screen_text(app))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fake.launched and not isinstance(app.screen, LaunchDialog))
        runs.table.focus()
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LaunchDialog) and "limit: 100" in screen_text(app))
        assert picked_job(app) == "full_refresh_job"
