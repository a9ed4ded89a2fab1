"""Polls slow down at rest: the runs list probes with one tiny query once settled; schedules back off."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster, wait_for  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widget import Widget  # noqa: E402

from edp_tui.ui.widgets.dagster.runs import RunsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel  # noqa: E402


class Host(App[None]):
    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def test_a_settled_runs_list_only_asks_whether_something_changed() -> None:
    fake = FakeDagster()
    fake.runs_list = [r for r in fake.runs_list if r.status != "QUEUED"]  # every run terminal
    panel = RunsPanel(fake)
    async with Host(panel).run_test() as pilot:

        def probes() -> list[Any]:
            return [arg for name, arg in fake.calls if name == "runs" and arg[0] == 1]

        await wait_for(pilot, lambda: bool(probes()), timeout=10)
        assert panel.current_interval() == panel.quiet_interval
        # A key (or a launch) reads the full page again at once.
        panel.wake()
        assert panel.current_interval() == panel.poll_interval


async def test_unchanged_schedules_are_polled_less_and_less_often() -> None:
    fake = FakeDagster()
    panel = SchedulesPanel(fake)
    async with Host(panel).run_test() as pilot:
        await wait_for(pilot, lambda: panel.populated)
        assert panel.cadence.interval == panel.poll_interval
        # Two unchanged answers (wake() polls at once): the next poll waits longer.
        for _ in range(2):
            polls = panel.polls
            panel.wake()
            await wait_for(pilot, lambda polls=polls: panel.polls > polls)
        assert panel.cadence.interval > panel.poll_interval
