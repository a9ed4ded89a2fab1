"""Runs in trouble in the runs list: flagged, and the terminate key offers a forced terminate (asks first)."""

from __future__ import annotations

from dataclasses import replace

from dagster_fake import FakeDagster

from edp_tui.dagster.trouble import LOST_WORKER_TAG
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from tests.support.pilot import Host, until, wait_shown

SIZE = (130, 30)


async def test_a_stuck_canceling_run_is_flagged_and_force_terminated_after_confirmation() -> None:
    fake = FakeDagster()
    stuck = replace(fake.runs_list[0], status="CANCELING", can_terminate=False, update_time=fake.now - 600)
    verdict = f"Run worker lost: worker pid 42 of run {fake.runs_list[1].run_id} on host user-code is gone"
    lost = replace(fake.runs_list[1], status="FAILURE", tags=((LOST_WORKER_TAG, verdict),))
    fake.runs_list = [stuck, lost, *fake.runs_list[2:]]
    panel = RunsPanel(fake)
    panel.clock = lambda: fake.now  # type: ignore[method-assign]
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated)
        text = await wait_shown(pilot, "⚠ canceling", "⚠ worker lost")
        assert "⚠ canceling 10m" in text and "⚠ worker lost" in text
        panel.table.focus()
        panel.table.move_cursor(row=panel.table.get_row_index(stuck.run_id))
        await until(pilot, lambda: panel.selected is not None and panel.selected.run_id == stuck.run_id)
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await wait_shown(pilot, "Force-terminate: mark it CANCELED now")
        await pilot.press("n")  # declined: nothing sent
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: ("force_terminate_run", stuck.run_id) in fake.calls)
        assert ("terminate_run", stuck.run_id) not in fake.calls
        assert [c for c in fake.calls if c[0] == "force_terminate_run"] == [
            ("force_terminate_run", stuck.run_id)
        ]
