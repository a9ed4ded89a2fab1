"""The Assets tab with a dbt project of realistic size (2,000 assets): filled, navigable with every key, and
cheap at rest: a poll that finds nothing new touches no row, one asset that changed touches its row alone.
(Times are measured by bench/assets_scale.py, not asserted here.)"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from dagster_fake import FakeDagster, many_assets

from edp_tui.dagster.assets import AssetInfo, Materialization, key_text
from edp_tui.ui.widgets.dagster import assets as assets_module
from edp_tui.ui.widgets.dagster.assets import AssetsPanel, asset_cells
from tests.support.pilot import Host, until, wait_shown

COUNT = 2_000
SIZE = (160, 45)


def scaled() -> FakeDagster:
    fake = FakeDagster()
    fake.assets_list = many_assets(COUNT)
    return fake


async def test_thousands_of_assets_fill_the_table_and_every_key_moves_the_cursor() -> None:
    panel = AssetsPanel(scaled())
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated, timeout=20)
        table = panel.table
        assert table.row_count == COUNT
        table.focus()
        await pilot.press("G")
        await until(pilot, lambda: table.cursor_row == COUNT - 1)
        last = panel.selected
        # The last row's asset: the last of the last group, in key order.
        assert last is not None and last.group == "group_09" and last.name == "staging/model_01999"
        await wait_shown(pilot, last.name)  # the detail follows the cursor
        await pilot.press("g", "down", "down")
        await until(pilot, lambda: table.cursor_row == 2)
        assert panel.selected is not None and panel.checks_table.row_count == 2


async def test_a_poll_touches_only_the_rows_of_assets_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = scaled()
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated, timeout=20)
        built: list[str] = []  # the assets whose cells were made (the per-row work of a poll)
        touched: list[Any] = []  # the rows whose cells were written
        table = panel.table
        update_cell = table.update_cell

        def cells(asset: AssetInfo) -> dict[str, Any]:
            built.append(asset.name)
            return asset_cells(asset)

        def spy_update(row_key: Any, column_key: Any, value: Any, **kw: Any) -> None:
            touched.append(row_key)
            update_cell(row_key, column_key, value, **kw)

        monkeypatch.setattr(assets_module, "asset_cells", cells)
        table.update_cell = spy_update  # type: ignore[method-assign]

        async def full_read() -> None:
            polls = panel.polls
            panel.wake()  # a key or Show: a full read, whatever the probe says
            await until(pilot, lambda: panel.polls > polls)

        # Nothing new: no row's cells made or written.
        await full_read()
        assert built == [] and touched == [] and table.row_count == COUNT
        # One asset materialized: its row alone.
        index = 4  # a missing one
        changed = replace(
            fake.assets_list[index],
            last_materialization=Materialization("f00dfeed-0000", 1_767_355_000.0),
            stale_status="FRESH",
        )
        fake.assets_list = [changed if i == index else a for i, a in enumerate(fake.assets_list)]
        await full_read()
        assert built == [changed.name] and set(touched) == {key_text(changed.key)}
