"""The run's event log (`v`) and timelines (`t`): filters by type, step and level, a case-insensitive
search, a failed dbt model's error and compiled SQL, the step timeline and the timeline of the runs listed;
all outside text literal; snapshots at 80x24 and 200x60."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, TabbedContent

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import T0, FakeDagster  # noqa: E402
from shell_fakes import dashboard_on  # noqa: E402

from edp_tui.dagster.models import RunEvent, StepStat  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.screens.run_events import RunEventsScreen  # noqa: E402
from edp_tui.ui.screens.runs_timeline import RunsTimelineScreen  # noqa: E402
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.runs import RunsPanel  # noqa: E402
from tests.support.pilot import until, wait_shown  # noqa: E402

FAILED = "c3d4e5f6-0000-0000-0000-000000000003"
MODEL = "model.retail.stg_orders"
DBT_ERROR = 'Database Error in model stg_orders\n  column "amount [b]x[/b]" does not exist'
SQL = "```sql\nselect amount\nfrom retail_raw.orders\n```"


def dbt_failure() -> RunEvent:
    return RunEvent(
        "ExecutionStepFailureEvent",
        "STEP_FAILURE",
        'Execution of step "dbt_build" failed.',
        T0 - 880.6,
        "ERROR",
        "dbt_build",
        error="Failure: dbt build failed: 1 error",
        metadata=(
            (f"dbt/error/{MODEL}", DBT_ERROR),
            (f"dbt/compiled_sql/{MODEL}", SQL),
            (f"dbt/file/{MODEL}", "dbt_project/models/staging/stg_orders.sql"),
        ),
    )


def fake_with_dbt_failure() -> FakeDagster:
    fake = FakeDagster()
    events = fake.events[FAILED]
    fake.events[FAILED] = [*events[:-1], dbt_failure(), events[-1]]
    detail = fake.details[FAILED]
    steps = (*detail.steps, StepStat("dbt_build", "FAILURE", T0 - 884, T0 - 880.6))
    fake.details[FAILED] = replace(detail, steps=steps)
    return fake


async def highlight_failed_run(pilot: Pilot[Any], app: EdpApp) -> RunsPanel:
    await pilot.press("2")
    panel = app.query_one(RunsPanel)
    await until(pilot, lambda: panel.table.row_count == 4, what="the runs listed")
    panel.table.focus()
    panel.table.move_cursor(row=2)
    await until(pilot, lambda: panel.selected_id == FAILED)
    return panel


async def open_events(pilot: Pilot[Any], app: EdpApp) -> RunEventsScreen:
    await highlight_failed_run(pilot, app)
    await pilot.press("v")
    await until(pilot, lambda: isinstance(app.screen, RunEventsScreen))
    screen = app.screen
    assert isinstance(screen, RunEventsScreen)
    await until(pilot, lambda: screen.finished and screen.shown_rows == 6, what="every event shown")
    return screen


def shown_kinds(screen: RunEventsScreen) -> list[str]:
    table = screen.query_one("#event-table", DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_events_are_filtered_by_type_step_and_level() -> None:
    app = dashboard_on(fake_with_dbt_failure())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_events(pilot, app)
        kinds: Select[str] = screen.query_one("#event-kind", Select)
        kinds.value = "STEP_FAILURE"
        await until(pilot, lambda: shown_kinds(screen) == ["STEP_FAILURE", "STEP_FAILURE"])
        steps: Select[str] = screen.query_one("#event-step", Select)
        steps.value = "dbt_build"
        await until(pilot, lambda: screen.shown_rows == 1)
        assert screen.highlighted is not None and screen.highlighted.step_key == "dbt_build"
        await pilot.press("x")
        await until(pilot, lambda: screen.shown_rows == 6)
        level: Select[str] = screen.query_one("#event-level", Select)
        level.value = "ERROR"  # ERROR and above: the two step failures and the run failure
        await until(pilot, lambda: shown_kinds(screen) == ["STEP_FAILURE", "STEP_FAILURE", "RUN_FAILURE"])
        level.value = "INFO"  # the user's log line joins them; the DEBUG events stay out
        await until(pilot, lambda: screen.shown_rows == 4)
        await wait_shown(pilot, "4 of 6 events shown")


async def test_search_is_a_case_insensitive_substring_and_text_stays_literal() -> None:
    app = dashboard_on(fake_with_dbt_failure())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_events(pilot, app)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#event-search")
        await pilot.press(*"[B]FROM")  # markup in the search is text too
        await until(pilot, lambda: shown_kinds(screen) == ["LOG"])
        await pilot.press("enter")
        assert app.focused is screen.query_one("#event-table")
        text = await wait_shown(pilot, "read 3 files [b]from[/b] /landing")
        assert "1 of 6 events shown" in text
        await pilot.press("x")
        await until(pilot, lambda: screen.shown_rows == 6)
        # The error text is searched too: KeyError's 'amount' is in the failure's cause only.
        await pilot.press("slash", *"keyerror")
        await until(pilot, lambda: shown_kinds(screen) == ["STEP_FAILURE"])
        await wait_shown(pilot, "caused by KeyError: 'amount'")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RunEventsScreen))


async def test_a_failed_dbt_model_shows_its_error_and_compiled_sql() -> None:
    app = dashboard_on(fake_with_dbt_failure())
    async with app.run_test(size=(120, 50)) as pilot:
        await highlight_failed_run(pilot, app)
        # In the run detail: dbt's own error under the step failure, literally.
        detail = app.query_one(RunDetailPanel)
        await until(pilot, lambda: detail.finished)
        # (The detail pane is narrow here: the ends of the lines are cut.)
        await wait_shown(pilot, f"dbt {MODEL}: Database Er", 'column "amount [b]x[/b]" does not ex')
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, RunEventsScreen))
        screen = app.screen
        assert isinstance(screen, RunEventsScreen)
        await until(pilot, lambda: screen.finished)
        screen.query_one("#event-step", Select).value = "dbt_build"
        await until(pilot, lambda: screen.shown_rows == 1)
        await wait_shown(pilot, "compiled SQL", "from retail_raw.orders", "stg_orders.sql")


async def test_the_step_timeline_draws_a_bar_per_step() -> None:
    app = dashboard_on(fake_with_dbt_failure())
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight_failed_run(pilot, app)
        app.query_one(RunDetailPanel).query_one("#steps-table").focus()
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, RunEventsScreen))
        screen = app.screen
        assert isinstance(screen, RunEventsScreen)
        await until(pilot, lambda: screen.query_one(TabbedContent).active == "timeline-tab")
        text = await wait_shown(pilot, "load_landing_files", "write_raw_table", "dbt_build")
        assert "3.0s" in text and "FAILURE" in text and "━" in text
        await pilot.press("t")
        await until(pilot, lambda: screen.query_one(TabbedContent).active == "events-tab")
        await wait_shown(pilot, "RUN_FAILURE")
        await pilot.press("t")  # and back, the timeline staying on screen
        await wait_shown(pilot, "outcome")


async def test_a_live_run_is_followed_and_only_the_newest_events_are_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("edp_tui.ui.screens.run_events.MAX_EVENTS", 10)
    fake = FakeDagster()
    live = fake.runs_list[0].run_id
    fake.push_status(live, "STARTED")
    fake.events[live] = [RunEvent("LogMessageEvent", None, f"line {i}", T0, "INFO", "s") for i in range(4)]
    app = dashboard_on(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        panel = app.query_one(RunsPanel)
        await until(pilot, lambda: panel.selected_id == live)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, RunEventsScreen))
        screen = app.screen
        assert isinstance(screen, RunEventsScreen)
        await until(pilot, lambda: screen.shown_rows == 4)
        more = [RunEvent("LogMessageEvent", None, f"line {i}", T0, "INFO", "s") for i in range(4, 25)]
        fake.events[live] = [*fake.events[live], *more]
        await until(pilot, lambda: screen.event_log.total == 25, what="the new events read")
        assert screen.shown_rows == 10 and len(screen.event_log) == 10
        await wait_shown(pilot, "10 of 25 events shown", "15 oldest dropped")
        assert screen.highlighted is not None and screen.highlighted.message == "line 24"  # followed


async def test_the_runs_timeline_shows_every_listed_run() -> None:
    app = dashboard_on(FakeDagster())
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight_failed_run(pilot, app)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, RunsTimelineScreen))
        text = await wait_shown(pilot, "full_refresh_job d4e5f6a7", "ingestion_job c3d4e5f6", "not started")
        assert "CANCELED" in text and "16m30s" in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RunsTimelineScreen))


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
@pytest.mark.parametrize("tab", ["events", "timeline"])
def test_snapshot(snap_compare: Any, size: tuple[int, int], tab: str) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EdpApp)
        await open_events(pilot, app)
        if tab == "timeline":
            await pilot.press("t")
            await wait_shown(pilot, "outcome")  # the timeline's header
        else:
            await wait_shown(pilot, "RUN_FAILURE")
        await pilot.pause()

    assert snap_compare(dashboard_on(fake_with_dbt_failure()), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_runs_timeline_snapshot(snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EdpApp)
        await highlight_failed_run(pilot, app)
        await pilot.press("t")
        await wait_shown(pilot, "full_refresh_job")
        await pilot.pause()

    assert snap_compare(dashboard_on(FakeDagster()), terminal_size=size, run_before=run_before)
