"""Backfills, partition health and the run queue on a process stack of their own (pool limits and landed files
must not leak into the shared stack): the story of tests/support/backfill_story.py, in order, through the CLI
twins, checked through GraphQL and the warehouse; then the Backfills tab against the same stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.partitions import MATERIALIZED
from edp_tui.ui.screens.backfill_dialog import BackfillDialog
from edp_tui.ui.widgets.dagster.backfills import BackfillsPanel, BackfillsTab
from edp_tui.ui.widgets.dagster.partitions_panel import PartitionsOverview
from tests.support import backfill_story as story
from tests.support.pilot import Host, until, wait_shown
from tests.support.process_stack import ProcessStack


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("EDP_TUI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[story.Stack]:
    with ProcessStack(tmp_path_factory.mktemp("backfills")) as own:

        def land(name: str, text: str) -> None:
            partial = own.landing_dir / f".{name}.part"  # the sensor never sees a half-written file
            partial.write_text(text)
            partial.rename(own.landing_dir / name)

        def orders_by_day() -> dict[str, int]:
            conn = own.warehouse_connection()
            try:
                with conn.cursor() as cur:
                    cur.execute("select order_date::text, count(*) from retail_raw.orders group by 1")
                    return dict(cur.fetchall())
            finally:
                conn.close()

        yield story.Stack(
            own.webserver_url, land, lambda name: (own.landing_dir / name).unlink(), orders_by_day
        )


def test_a_range_with_a_failing_day_shows_it_failed_and_reexecuting_it_reaches_success(
    stack: story.Stack,
) -> None:
    story.range_with_a_failing_day_reaches_success_after_reexecuting(stack)


def test_a_queued_run_says_which_limit_holds_it_and_cancel_stops_the_backfill(stack: story.Stack) -> None:
    story.queued_run_explained_and_cancel_stops(stack)


async def test_the_backfills_tab_launches_a_range_and_follows_it_to_success_with_the_bar_right(
    stack: story.Stack,
) -> None:
    """The tab against the real webserver: a range of retail_raw/orders launched with b from its bar, the
    backfill followed to COMPLETED_SUCCESS, and the bar and counts as Dagster has them. Days of May 2024,
    which no other test touches (the story's first test loaded the reference data the days read)."""
    first, last = story.day(1, 5), story.day(2, 5)
    async with DagsterClient(f"{stack.webserver_url}/graphql") as client:
        tab = BackfillsTab(client, read_only=False)
        async with Host(tab).run_test(size=(120, 40)) as pilot:
            overview, panel = tab.query_one(PartitionsOverview), tab.query_one(BackfillsPanel)
            await until(pilot, lambda: overview.populated and panel.populated, 60, "the tab read")
            before = set(panel.backfills)
            overview.table.focus()
            overview.table.move_cursor(
                row=[str(k.value) for k in overview.table.rows].index("retail_raw/orders")
            )
            await pilot.press("b")
            await until(pilot, lambda: isinstance(pilot.app.screen, BackfillDialog), 10, "the dialog")
            pilot.app.screen.query_one("#backfill-from", Input).value = first
            pilot.app.screen.query_one("#backfill-to", Input).value = last
            await wait_shown(pilot, f"would launch: 2 partitions ({first}..{last})", timeout=30)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: set(panel.backfills) - before, 60, "the backfill listed")
            [backfill_id] = set(panel.backfills) - before
            await until(
                pilot,
                lambda: panel.backfills[backfill_id].is_finished,
                story.BACKFILL_DEADLINE_S,
                "the backfill finished",
            )
            assert panel.backfills[backfill_id].status == "COMPLETED_SUCCESS", panel.backfills[backfill_id]
            await wait_shown(pilot, backfill_id, "COMPLETED_SUCCESS", timeout=30)

            def days_shown_materialized() -> bool:
                health = overview.healths.get(story.ORDERS)
                return health is not None and story.statuses(health, [first, last]) == [MATERIALIZED] * 2

            await until(pilot, days_shown_materialized, 120, "the two days materialized on the bar")
            shown = overview.healths[story.ORDERS]
            dagster = (await client.partition_health([story.ORDERS]))[story.ORDERS]
            assert dagster is not None and shown.counts() == dagster.counts()
            await wait_shown(pilot, f"retail_raw/orders: {shown.materialized} materialized", timeout=30)
