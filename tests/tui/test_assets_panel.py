"""The Assets tab driven by the in-memory fake: snapshots at 80x24 and 200x60, materialize keys, read-only."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster  # noqa: E402
from shell_fakes import FakeServices, fake_backends, fixed_now  # noqa: E402
from textual.widgets import Input, Static, TabbedContent  # noqa: E402

from edp_tui.config import Config  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.screens.confirm import ConfirmScreen  # noqa: E402
from edp_tui.ui.screens.partition_prompt import PartitionPrompt  # noqa: E402
from edp_tui.ui.widgets.dagster.assets import ACTIVE_INTERVAL_S, PROBE_FAST_S, AssetsPanel  # noqa: E402
from tests.support.partitions_fake import KEYS, daily_health  # noqa: E402
from tests.support.pilot import Host, screen_text, until, wait_shown

SIZE = (130, 32)


def make_app(fake: FakeDagster) -> EdpApp:
    return EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml")),
        fake_backends(FakeServices(), fake),
        now=fixed_now,
        logs_panel_factory=lambda: Static("(logs panel)", id="logs-static"),
    )


async def select(pilot: Any, panel: AssetsPanel, name: str) -> None:
    """Highlight ``name`` with the arrow keys, from the first row."""
    await until(pilot, lambda: panel.populated)
    panel.table.focus()
    await pilot.press("home")
    await until(pilot, lambda: panel.table.cursor_row == 0)
    for _ in range(panel.table.row_count):
        if panel.selected is not None and panel.selected.name == name:
            break
        await pilot.press("down")
    await until(pilot, lambda: panel.selected is not None and panel.selected.name == name)


def snapshot_on_assets_tab() -> Any:
    async def run_before(pilot: Any) -> None:
        await pilot.press("5")
        app = pilot.app
        await until(pilot, lambda: app.query_one("#main", TabbedContent).active == "tab-assets")
        panel = app.query_one(AssetsPanel)
        await select(pilot, panel, "staging/stg_orders")
        await until(pilot, lambda: "upstream: raw/orders" in screen_text(app))
        app.clear_notifications()
        await pilot.pause()

    return run_before


def test_assets_tab_snapshot_80x24(snap_compare: Any) -> None:
    assert snap_compare(make_app(FakeDagster()), terminal_size=(80, 24), run_before=snapshot_on_assets_tab())


def test_assets_tab_snapshot_200x60(snap_compare: Any) -> None:
    assert snap_compare(make_app(FakeDagster()), terminal_size=(200, 60), run_before=snapshot_on_assets_tab())


async def test_assets_are_listed_by_group_with_state_and_checks() -> None:
    fake = FakeDagster()
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        rows = [str(k.value) for k in panel.table.rows]
        # Groups in name order: analytics, marts, raw, staging.
        assert rows == [
            "analytics/customer_segments",
            "marts/fct_orders",
            "raw/customers",
            "raw/orders",
            "staging/stg_orders",
        ]
        await select(pilot, panel, "marts/fct_orders")
        text = screen_text(pilot.app)
        assert "upstream: staging/stg_orders" in text
        assert "downstream: analytics/customer_segments" in text
        # Outside text (a stale cause) is shown literally.
        assert "[b]data[/b]" in text
        await select(pilot, panel, "staging/stg_orders")
        await wait_shown(pilot, "1/3 ok, 2 fail")


async def test_each_check_is_a_row_with_its_outcome_and_its_name_in_cells_of_their_own() -> None:
    panel = AssetsPanel(FakeDagster())
    async with Host(panel).run_test(size=SIZE) as pilot:
        await select(pilot, panel, "staging/stg_orders")
        checks = panel.checks_table
        await until(pilot, lambda: checks.row_count == 3)
        rows = [[str(cell) for cell in checks.get_row_at(i)] for i in range(3)]
        assert [row[:3] for row in rows] == [
            ["SUCCEEDED", "not_null_stg_orders_order_id", ""],
            ["FAILED", "accepted_values_stg_orders_status", "ERROR"],
            ["EXECUTION_FAILED", "not_null_stg_orders_order_date", ""],
        ]
        text = await wait_shown(pilot, "not_null_stg_orders_order_date")
        assert "EXECUTION_FAILEDnot_null" not in text
        assert re.search(r"EXECUTION_FAILED +not_null_stg_orders_order_date", text)
        # Another asset: its own checks (one), none of the previous ones.
        await select(pilot, panel, "marts/fct_orders")
        await until(pilot, lambda: checks.row_count == 1)
        assert str(checks.get_row_at(0)[1]) == "unique_fct_orders_order_id"
        # An asset without checks: no checks table at all.
        await select(pilot, panel, "raw/orders")
        await until(pilot, lambda: not checks.display)


async def test_materialize_with_downstream_asks_then_launches_the_closure() -> None:
    fake = FakeDagster()
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await select(pilot, panel, "staging/stg_orders")
        await pilot.press("L")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await wait_shown(pilot, "stg_orders and 2 downstream")
        await pilot.press("y")
        await until(pilot, lambda: fake.materialized)
        assert fake.materialized == [
            (("staging", "stg_orders"), ("marts", "fct_orders"), ("analytics", "customer_segments"))
        ]
        await until(
            pilot, lambda: "materializing 3 asset(s) from staging/stg_orders" in screen_text(pilot.app)
        )
        # The launched run is waited for quickly, then the tab rests again.
        await until(pilot, lambda: "3/3 ok" in screen_text(pilot.app))
        await until(pilot, lambda: panel.current_interval() != ACTIVE_INTERVAL_S)


async def test_materialize_one_asset_and_cancel() -> None:
    fake = FakeDagster()
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await select(pilot, panel, "raw/customers")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(pilot.app.screen, ConfirmScreen))
        assert fake.materialized == []
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await wait_shown(pilot, "Materialize raw/customers?")
        await pilot.press("y")
        # raw/customers is computed with raw/orders (one multi-asset): Dagster refuses it alone, both go.
        await until(pilot, lambda: fake.materialized == [(("raw", "customers"), ("raw", "orders"))])
        assert fake.calls.count(("materialize", (("raw", "customers"),))) == 1
        await until(pilot, lambda: panel.assets[("raw", "customers")].state == "fresh")
        await wait_shown(pilot, "materializing 2 asset(s) from raw/customers")


def partitioned_orders() -> FakeDagster:
    """The fake with raw/orders partitioned by day (the demo's ingestion), the rest as they are."""
    fake = FakeDagster()
    orders = ("raw", "orders")
    fake.assets_list = [replace(a, partitioned=a.key == orders) for a in fake.assets_list]
    fake.healths = {orders: daily_health(orders, [])}
    return fake


async def test_a_partitioned_asset_asks_which_partition_and_launches_one_run_for_it() -> None:
    fake = partitioned_orders()
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await select(pilot, panel, "raw/orders")
        await pilot.press("L")
        await until(pilot, lambda: isinstance(pilot.app.screen, PartitionPrompt))
        prompt = pilot.app.screen
        field = prompt.query_one("#partition-key", Input)
        # The newest partition is filled in once the asset's partitions are read.
        await until(pilot, lambda: field.value == KEYS[-1] and not field.disabled)
        await wait_shown(pilot, "raw/orders is partitioned: which partition?")
        # A key that is not a partition: said in the prompt, nothing launched, the prompt stays.
        field.value = "2024-13-01"
        await pilot.press("enter")
        await wait_shown(pilot, "'2024-13-01' is not a partition of raw/orders")
        assert fake.materialized == [] and pilot.app.screen is prompt
        field.value = KEYS[41]
        await pilot.press("enter")
        await until(pilot, lambda: fake.materialized)
        # raw/orders, what is downstream and raw/customers (the same multi-asset), one run for that day.
        assert set(fake.materialized[-1]) >= {
            ("raw", "customers"),
            ("raw", "orders"),
            ("staging", "stg_orders"),
        }
        assert set(fake.materialized_partitions) == {KEYS[41]}


async def test_a_partition_prompt_cancelled_launches_nothing() -> None:
    fake = partitioned_orders()
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await select(pilot, panel, "raw/orders")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, PartitionPrompt))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(pilot.app.screen, PartitionPrompt))
        assert fake.materialized == [] and ("partition_keys", ("raw", "orders")) in fake.calls
        # An unpartitioned asset still asks a plain yes/no.
        await select(pilot, panel, "staging/stg_orders")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))


async def test_pending_run_polls_quickly() -> None:
    fake = FakeDagster()
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        assert panel.current_interval() == PROBE_FAST_S
        panel.pending_runs["not-yet-materialized"] = panel.clock()
        assert panel.current_interval() == ACTIVE_INTERVAL_S


async def test_read_only_refuses_materialize() -> None:
    fake = FakeDagster(read_only=True)
    panel = AssetsPanel(fake, read_only=True)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await select(pilot, panel, "raw/orders")
        await pilot.press("l", "L")
        await until(
            pilot, lambda: "Read-only mode: materialization of raw/orders refused" in screen_text(pilot.app)
        )
        assert not isinstance(pilot.app.screen, ConfirmScreen)
        assert fake.materialized == [] and not any(c[0] == "materialize" for c in fake.calls)


async def test_webserver_down_shows_the_banner_and_recovers() -> None:
    fake = FakeDagster()
    fake.down = True
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "webserver unreachable" in screen_text(pilot.app))
        fake.down = False
        panel.wake()
        await until(pilot, lambda: panel.populated and "webserver unreachable" not in screen_text(pilot.app))


async def test_downstream_of_a_multi_asset_part_covers_the_whole_multi_asset() -> None:
    fake = FakeDagster()
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await select(pilot, panel, "raw/customers")
        await pilot.press("L")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: fake.materialized)
        # raw/customers alone is refused (InvalidSubsetError); its sibling raw/orders and what is downstream
        # of it go too.
        assert [c for c in fake.calls if c[0] == "materialize"][0] == ("materialize", (("raw", "customers"),))
        assert set(fake.materialized[0]) == {
            ("raw", "customers"),
            ("raw", "orders"),
            ("staging", "stg_orders"),
            ("marts", "fct_orders"),
            ("analytics", "customer_segments"),
        }
