"""The Assets tab against the shared process stack: a materialization launched from the tab reaches SUCCESS
and the asset's checks (dbt tests) show their outcome."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from textual.widgets import Input

from edp_tui.dagster.assets import ASSET_JOB, AssetInfo
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.models import log_keys_from_events
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.screens.partition_prompt import PartitionPrompt
from edp_tui.ui.widgets.dagster.assets import AssetsPanel
from tests.support.pilot import Host, screen_text, until
from tests.support.process_stack import ProcessStack
from tests.support.stack_runs import DEMO_DAY

RUN_TIMEOUT_S = 600.0


async def run_status(pilot: Any, client: DagsterClient, run_id: str) -> str:
    """The run's final status (the app keeps running meanwhile: no blocking wait)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RUN_TIMEOUT_S
    while not (detail := await client.run(run_id)).run.is_terminal:
        assert loop.time() < deadline, f"run {run_id} not finished within {RUN_TIMEOUT_S}s"
        await pilot.pause(1.0)
    if detail.run.status != "SUCCESS":
        page = await client.run_events(run_id)
        errors = [f"{e.message} {e.error or ''}" for e in page.events if e.level == "ERROR"]
        for key in log_keys_from_events(run_id, page.events):
            errors.append((await client.captured_logs(key, limit=1 << 20)).stdout[-3000:])
        return f"{detail.run.status}: " + "\n".join(errors)
    return detail.run.status


async def select(pilot: Any, panel: AssetsPanel, name: str) -> None:
    panel.table.focus()
    panel.table.move_cursor(row=[a.name for a in panel.assets.values()].index(name))
    await until(pilot, lambda: panel.selected is not None and panel.selected.name == name)


async def materialize_from_tab(pilot: Any, panel: AssetsPanel, name: str, key: str) -> str:
    """Highlight ``name``, press ``key`` and answer (yes, or the demo's day when the assets are
    partitioned); the id of the launched run."""
    await select(pilot, panel, name)
    before = set(panel.pending_runs)
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, (ConfirmScreen, PartitionPrompt)))
    if isinstance(prompt := pilot.app.screen, PartitionPrompt):
        field = prompt.query_one("#partition-key", Input)
        await until(pilot, lambda: not field.disabled, timeout=60)
        field.value = DEMO_DAY
        await pilot.press("enter")
    else:
        await pilot.press("y")
    await until(pilot, lambda: set(panel.pending_runs) - before, timeout=60)
    [run_id] = set(panel.pending_runs) - before
    return run_id


async def test_materialize_from_the_assets_tab_and_see_the_checks(process_stack: ProcessStack) -> None:
    async with DagsterClient(process_stack.graphql_url) as client:
        panel = AssetsPanel(client)
        async with Host(panel).run_test(size=(200, 60)) as pilot:
            await until(pilot, lambda: panel.populated, timeout=60)
            assert {"raw", "staging", "marts", "analytics"} <= {a.group for a in panel.assets.values()}
            orders = panel.assets[("staging", "stg_orders")]
            assert ("retail_raw", "orders") in orders.upstream and orders.checks

            # retail_raw/customers and everything downstream (every asset: the day's tables read the reference
            # ones). On an empty warehouse a single dbt model cannot be built alone: dbt's eager test
            # selection adds relationships tests that read models not built yet. retail_raw/customers is one
            # table of a multi-asset that cannot be subset: Dagster answers InvalidSubsetError and the tab
            # retries with its siblings too. The day's tables are partitioned: the tab asks which day, and one
            # run builds that day and the unpartitioned assets.
            assert panel.assets[("retail_raw", "orders")].partitioned and not orders.partitioned
            run_id = await materialize_from_tab(pilot, panel, "retail_raw/customers", "L")
            status = await run_status(pilot, client, run_id)
            assert status == "SUCCESS", status
            launched = (await client.run(run_id)).run
            assert launched.job_name == ASSET_JOB and ("dagster/partition", DEMO_DAY) in launched.tags

            def materialized(asset: AssetInfo) -> bool:
                mat = asset.last_materialization
                return bool(mat and mat.run_id == run_id and all(c.status for c in asset.checks))

            await until(pilot, lambda: all(materialized(a) for a in panel.assets.values()), timeout=60)
            checks = [c for a in panel.assets.values() for c in a.checks]
            assert len(checks) >= 25 and {c.run_id for c in checks} == {run_id}
            assert all(c.status == "SUCCEEDED" for c in checks), [
                c for c in checks if c.status != "SUCCEEDED"
            ]
            assert all(a.state in ("fresh", "unknown") for a in panel.assets.values())
            customers = panel.assets[("staging", "stg_customers")]
            await select(pilot, panel, customers.name)
            # Each check of the highlighted asset is a row of the checks table (outcome, check, ...): all
            # of them there, each SUCCEEDED, and the first on screen with its outcome beside its name.
            table = panel.checks_table
            await until(pilot, lambda: table.row_count == len(customers.checks))
            # Rows are keyed by position (the next asset's checks overwrite them): the name is cell 2.
            rows = [[str(cell) for cell in table.get_row(key)] for key in table.rows]
            assert "unique_stg_customers_customer_id" in [r[1] for r in rows] and all(
                r[0] == "SUCCEEDED" for r in rows
            )
            first = rows[0][1]
            await until(pilot, lambda: re.search(rf"SUCCEEDED +{first}", screen_text(pilot.app)) is not None)
            assert f"{len(customers.checks)}/{len(customers.checks)} ok" in screen_text(pilot.app)
