"""The Backfills tab with the in-memory Dagster: partition bars one line wide at 80 columns, a backfill
launched from the partitions (a range, checked as it is typed; bad input launches nothing; refused in
read-only mode), cancel and re-execute asking first, the queue saying which limit holds each run, a pool's
limit set (asks). Snapshots of the tab and the dialogs at 80x24 and 200x60."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster  # noqa: E402
from shell_fakes import FakeServices, fake_backends, fixed_now  # noqa: E402

from edp_tui.config import Config  # noqa: E402
from edp_tui.dagster.partitions import KeyRange  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.screens.backfill_dialog import BackfillDialog  # noqa: E402
from edp_tui.ui.screens.confirm import ConfirmScreen  # noqa: E402
from edp_tui.ui.screens.pool_dialog import PoolLimitDialog  # noqa: E402
from edp_tui.ui.widgets.dagster.assets import AssetsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.backfills import BackfillsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.partitions_panel import PartitionsOverview  # noqa: E402
from edp_tui.ui.widgets.dagster.queue_panel import QueuePanel  # noqa: E402
from tests.support.partitions_fake import FCT, ITEMS, ORDERS  # noqa: E402
from tests.support.pilot import on_screen, screen_text, until, wait_shown  # noqa: E402


def make_app(fake: FakeDagster | None = None, *, read_only: bool = False) -> EdpApp:
    return EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml"), read_only=read_only),
        fake_backends(FakeServices(), fake or FakeDagster(read_only=read_only)),
        now=fixed_now,
    )


def toasted(app: EdpApp, text: str) -> bool:
    return any(text in n.message for n in app._notifications)


async def open_tab(pilot: Pilot[Any]) -> EdpApp:
    app = pilot.app
    assert isinstance(app, EdpApp)
    await pilot.press("6")
    await until(pilot, lambda: app.query_one(PartitionsOverview).populated, 10, "partitions read")
    await until(pilot, lambda: app.query_one(BackfillsPanel).populated, 10, "backfills read")
    await until(pilot, lambda: app.query_one(QueuePanel).populated, 10, "queue read")
    return app


async def test_each_partition_bar_is_one_line_at_80_columns() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        await open_tab(pilot)
        text = await wait_shown(pilot, "retail_raw/orders", "✖", "▶")
        line = next(ln for ln in text.splitlines() if "retail_raw/orders " in ln)
        assert len(line) <= 80 and line.count("█") > 5 and "✖" in line and "▶" in line
        # The highlighted asset's counts below the bars.
        assert "119 materialized" in text


async def test_b_launches_a_checked_range_and_bad_input_launches_nothing() -> None:
    fake = FakeDagster()
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        app = await open_tab(pilot)
        table = app.query_one("#partitions-table", DataTable)
        table.focus()
        table.move_cursor(row=[str(k.value) for k in table.rows].index("retail_raw/orders"))
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, BackfillDialog), 5, "the backfill dialog")
        dialog = app.screen
        assert isinstance(dialog, BackfillDialog)
        # Pre-filled with the whole range; the plan names the step's other asset too.
        await wait_shown(pilot, "would launch: 365 partitions", "retail_raw/order_items")
        dialog.query_one("#backfill-from", Input).value = "2024-12-31"  # before the first partition
        await wait_shown(pilot, "'2024-12-31' is not a partition of retail_raw/orders")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, BackfillDialog) and fake.launched_backfills == []
        dialog.query_one("#backfill-from", Input).value = "2025-03-01"
        dialog.query_one("#backfill-to", Input).value = "2025-03-31"
        await wait_shown(pilot, "would launch: 31 partitions (2025-03-01..2025-03-31)")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fake.launched_backfills != [], 5, "the backfill launched")
        [request] = fake.launched_backfills
        assert request.partitioned == (ORDERS, ITEMS) and request.ranges == (
            KeyRange("2025-03-01", "2025-03-31"),
        )
        await wait_shown(pilot, "new00001")  # the backfills panel was woken


async def test_failed_mode_plans_the_failed_days_and_nothing_when_there_are_none() -> None:
    fake = FakeDagster()
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        app = await open_tab(pilot)
        app.query_one("#partitions-table", DataTable).focus()
        await pilot.press("b")  # the first row: marts/fct_orders, which has no failed day
        await until(pilot, lambda: isinstance(app.screen, BackfillDialog), 5, "the backfill dialog")
        await pilot.click("#mode-failed")
        await wait_shown(pilot, "nothing to backfill: no failed partitions of marts/fct_orders")
        await pilot.press("escape")
        table = app.query_one("#partitions-table", DataTable)
        table.focus()
        table.move_cursor(row=[str(k.value) for k in table.rows].index("retail_raw/orders"))
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, BackfillDialog), 5, "the backfill dialog")
        await pilot.click("#mode-failed")
        await wait_shown(pilot, "would launch: 1 partition (2025-04-01)")


async def test_read_only_refuses_a_backfill_before_any_dialog() -> None:
    fake = FakeDagster(read_only=True)
    async with make_app(fake, read_only=True).run_test(size=(120, 40)) as pilot:
        app = await open_tab(pilot)
        app.query_one("#partitions-table", DataTable).focus()
        await pilot.press("b")
        await until(pilot, lambda: toasted(app, "Read-only mode: backfill of marts/fct_orders refused"))
        assert not isinstance(app.screen, BackfillDialog) and fake.launched_backfills == []


async def assets_row(pilot: Pilot[Any], name: str) -> AssetsPanel:
    """The Assets tab shown, its table focused on the row of asset ``name``."""
    await pilot.press("5")
    panel = pilot.app.query_one(AssetsPanel)
    await until(pilot, lambda: panel.populated, 10, "assets read")
    panel.table.focus()
    panel.table.move_cursor(row=[str(k.value) for k in panel.table.rows].index(name))
    return panel


async def test_b_in_the_assets_tab_backfills_a_partitioned_asset_and_refuses_one_without_partitions() -> None:
    fake = FakeDagster()
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await assets_row(pilot, "raw/customers")
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, BackfillDialog), 5, "the backfill dialog")
        await wait_shown(pilot, "raw/customers is not partitioned")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, BackfillDialog) and fake.launched_backfills == []
        await pilot.press("escape")
        await assets_row(pilot, "marts/fct_orders")
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, BackfillDialog), 5, "the backfill dialog")
        # The whole range read from Dagster, to narrow.
        await wait_shown(pilot, "would launch: 365 partitions (2025-01-01..2025-12-31)")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fake.launched_backfills != [], 5, "the backfill launched")
        [request] = fake.launched_backfills
        assert request.partitioned == (FCT,) and request.ranges == (KeyRange("2025-01-01", "2025-12-31"),)


async def test_read_only_refuses_a_backfill_from_the_assets_tab() -> None:
    fake = FakeDagster(read_only=True)
    async with make_app(fake, read_only=True).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        assert isinstance(app, EdpApp)
        await assets_row(pilot, "marts/fct_orders")
        await pilot.press("b")
        await until(pilot, lambda: toasted(app, "Read-only mode: backfill of marts/fct_orders refused"))
        assert not isinstance(app.screen, BackfillDialog) and fake.launched_backfills == []


async def test_cancel_and_reexecute_ask_first() -> None:
    fake = FakeDagster()
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        app = await open_tab(pilot)
        table = app.query_one("#backfills-table", DataTable)
        table.focus()
        await pilot.press("e")  # the running one: nothing to re-execute yet
        await until(pilot, lambda: toasted(app, "backfill runnings is still REQUESTED"))
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5, "the question")
        await pilot.press("n")
        assert ("cancel_backfill", "runnings") not in fake.calls
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5, "the question")
        await pilot.press("y")
        await until(pilot, lambda: ("cancel_backfill", "runnings") in fake.calls, 5, "cancel sent")
        await wait_shown(pilot, "CANCELING")
        await pilot.press("down", "e")  # the failed one: its failed partitions, as a new backfill
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5, "the question")
        await pilot.press("y")
        await until(
            pilot, lambda: ("reexecute_backfill", ("failedbf", "FROM_FAILURE")) in fake.calls, 5, "sent"
        )
        await wait_shown(pilot, "retried1")


async def test_the_queue_says_what_holds_each_run_and_a_pool_limit_is_set() -> None:
    fake = FakeDagster()
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        app = await open_tab(pilot)
        await wait_shown(pilot, "q0000000 [2025-07-19] pool warehouse: limit 1, 1 in use, 0 waiting")
        app.query_one("#pools-table", DataTable).focus()
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PoolLimitDialog), 5, "the pool dialog")
        app.screen.query_one("#pool-limit", Input).value = "5000"
        await pilot.press("ctrl+s")
        await wait_shown(pilot, "a pool limit is between 0 and 1000; got 5000")
        app.screen.query_one("#pool-limit", Input).value = "2"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fake.pool_limits == [("warehouse", 2)], 5, "the limit set")
        await until(pilot, on_screen(pilot, "Queue"), 5)
        await until(
            pilot, lambda: "limit 2" in screen_text(app) or "2 " in screen_text(app), 5, "the new limit"
        )


async def test_removing_the_last_limit_while_a_slot_is_held_is_refused() -> None:
    fake = FakeDagster()
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        app = await open_tab(pilot)
        app.query_one("#pools-table", DataTable).focus()
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PoolLimitDialog), 5, "the pool dialog")
        await pilot.click("#pool-remove")
        await until(pilot, lambda: toasted(app, "would stop the run queue"))
        assert fake.pool_limits == []


# ---- snapshots ----
def show_tab(dialog: str | None = None):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EdpApp)
        await until(pilot, lambda: app.services_panel.populated)
        await open_tab(pilot)
        await wait_shown(pilot, "runnings", "warehouse")
        if dialog == "backfill":
            table = app.query_one("#partitions-table", DataTable)
            table.focus()
            table.move_cursor(row=[str(k.value) for k in table.rows].index("retail_raw/orders"))
            await pilot.press("b")
            await wait_shown(pilot, "would launch: 365 partitions")
        elif dialog == "pool":
            app.query_one("#pools-table", DataTable).focus()
            await pilot.press("p")
            await wait_shown(pilot, "Pool warehouse")
        for field in app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor is drawn or not by the time of the shot
        app.clear_notifications()
        await pilot.pause(0.2)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
@pytest.mark.parametrize("dialog", [None, "backfill", "pool"], ids=["tab", "backfill-dialog", "pool-dialog"])
def test_snapshot(snap_compare: Any, dialog: str | None, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=show_tab(dialog))
