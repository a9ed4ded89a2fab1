"""The Assets tab against the shared process stack: a materialization launched from the tab reaches SUCCESS
and the asset's checks (dbt tests) show their outcome."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App, ComposeResult

from edp_tui.dagster.assets import ASSET_JOB
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.models import log_keys_from_events
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.widgets.dagster.assets import AssetsPanel
from tests.support.process_stack import ProcessStack
from tests.tui.dagster_fake import screen_text, wait_for

# A dbt build of one model and its tests, on a loaded 2-core machine.
RUN_TIMEOUT_S = 300.0


class Host(App[None]):
    def __init__(self, panel: AssetsPanel) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


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


async def materialize_from_tab(pilot: Any, panel: AssetsPanel, name: str, key: str) -> str:
    """Highlight ``name``, press ``key`` and confirm; the id of the launched run."""
    panel.table.focus()
    await pilot.press("home")
    while panel.selected is not None and panel.selected.name != name:
        await pilot.press("down")
    before = set(panel.pending_runs)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    await pilot.press("y")
    await wait_for(pilot, lambda: set(panel.pending_runs) - before, timeout=60)
    [run_id] = set(panel.pending_runs) - before
    return run_id


async def test_materialize_from_the_assets_tab_and_see_the_checks(process_stack: ProcessStack) -> None:
    async with DagsterClient(process_stack.graphql_url) as client:
        panel = AssetsPanel(client)
        async with Host(panel).run_test(size=(200, 60)) as pilot:
            await wait_for(pilot, lambda: panel.populated, timeout=60)
            assert {"raw", "staging", "marts", "analytics"} <= {a.group for a in panel.assets.values()}
            orders = panel.assets[("staging", "stg_orders")]
            assert ("raw", "orders") in orders.upstream and orders.checks

            # The raw tables first (one multi-asset: Dagster runs all of it), then a dbt model and its tests.
            raw_run = await materialize_from_tab(pilot, panel, "raw/orders", "m")
            assert await run_status(pilot, client, raw_run) == "SUCCESS"
            # stg_customers: its tests read no other model (stg_orders' relationships test reads
            # stg_customers, which fails while that view does not exist yet).
            dbt_run = await materialize_from_tab(pilot, panel, "staging/stg_customers", "m")
            assert await run_status(pilot, client, dbt_run) == "SUCCESS"

            def checks_shown() -> bool:
                asset = panel.assets[("staging", "stg_customers")]
                mat = asset.last_materialization
                return bool(mat and mat.run_id == dbt_run and all(c.status for c in asset.checks))

            await wait_for(pilot, checks_shown, timeout=60)
            asset = panel.assets[("staging", "stg_customers")]
            assert {c.run_id for c in asset.checks} == {dbt_run}
            assert all(c.status == "SUCCEEDED" for c in asset.checks), asset.checks
            assert asset.state in ("fresh", "unknown")
            panel.table.focus()
            text = screen_text(pilot.app)
            assert f"{len(asset.checks)}/{len(asset.checks)} ok" in text
            # The run went through the implicit asset job, which ran nothing downstream.
            assert (await client.run(dbt_run)).run.job_name == ASSET_JOB
            assert panel.assets[("marts", "fct_orders")].last_materialization is None
