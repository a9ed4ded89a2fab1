"""Runs: the statuses of the live runs shown are pushed (`pipelineRunLogs`), polling stays the fallback.

Reads of the list are held back with the fake's gate where a test must show that the row changed from the
push alone; no timed assertions."""

from __future__ import annotations

import asyncio

from dagster_fake import FakeDagster

from edp_tui.dagster.run_push import RunStatusChange
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from tests.support.pilot import Host, until

QUEUED_RUN = "a1b2c3d4-0000-0000-0000-000000000001"


def status_cell(panel: RunsPanel, run_id: str) -> str:
    return panel.table.get_cell(run_id, "status").plain


async def test_a_pushed_status_shows_without_reading_the_list() -> None:
    fake = FakeDagster()
    panel = RunsPanel(fake)
    async with Host(panel).run_test() as pilot:
        await until(pilot, lambda: QUEUED_RUN in fake.status_queues and QUEUED_RUN in panel.push.connected)
        # Every read of the list from now on waits: only the push can change the row.
        gate = fake.gates["runs"] = asyncio.Event()
        answered = sum(1 for name, _ in fake.calls if name == "runs")
        fake.push_status(QUEUED_RUN, "STARTED")
        await until(pilot, lambda: status_cell(panel, QUEUED_RUN) == "STARTED")
        assert panel.runs[QUEUED_RUN].start_time == fake.now
        assert sum(1 for name, _ in fake.calls if name == "runs") <= answered + 1  # at most one, still held
        fake.push_status(QUEUED_RUN, "SUCCESS")
        await until(pilot, lambda: status_cell(panel, QUEUED_RUN) == "SUCCESS")
        # Every run shown is terminal now: no subscription stays open.
        await until(pilot, lambda: not fake.status_queues and not panel.push.watched)
        gate.set()


async def test_a_read_that_lags_behind_a_push_does_not_move_the_row_back() -> None:
    fake = FakeDagster()
    panel = RunsPanel(fake)
    async with Host(panel).run_test() as pilot:
        await until(pilot, lambda: QUEUED_RUN in panel.push.connected)
        # The event is stored (and pushed) before the runs table is updated: the list still says QUEUED.
        fake.status_queues[QUEUED_RUN].put_nowait([RunStatusChange(QUEUED_RUN, "STARTED", 1.0)])
        await until(pilot, lambda: status_cell(panel, QUEUED_RUN) == "STARTED")
        polls = panel.polls
        await until(pilot, lambda: panel.polls >= polls + 2)
        assert status_cell(panel, QUEUED_RUN) == "STARTED"
        # Once the list catches up, the pushed status is let go of.
        fake.push_status(QUEUED_RUN, "STARTED")
        await until(pilot, lambda: QUEUED_RUN not in panel._pushed)


async def test_a_failing_subscription_is_shown_and_retried_while_the_list_is_polled() -> None:
    fake = FakeDagster()
    fake.push_down = True
    panel = RunsPanel(fake)
    panel.push._retry = (0.01, 0.02)
    async with Host(panel).run_test() as pilot:
        await until(pilot, lambda: "status push lost" in str(panel.border_subtitle))
        await until(pilot, lambda: sum(1 for n, _ in fake.calls if n == "run_status_changes") >= 3)
        # Polling goes on: a change of status reaches the row by the list's read.
        fake.push_status(QUEUED_RUN, "STARTING")
        await until(pilot, lambda: status_cell(panel, QUEUED_RUN) == "STARTING")
        fake.push_down = False
        await until(pilot, lambda: QUEUED_RUN in panel.push.connected)
        await until(pilot, lambda: "status push lost" not in str(panel.border_subtitle))


async def test_at_rest_no_subscription_is_opened() -> None:
    fake = FakeDagster()
    fake.runs_list = [r for r in fake.runs_list if r.is_terminal]
    panel = RunsPanel(fake)
    async with Host(panel).run_test() as pilot:
        await until(pilot, lambda: panel.populated and panel.polls >= 2)
        assert not any(name == "run_status_changes" for name, _ in fake.calls)


async def test_between_page_reads_only_the_live_runs_are_read() -> None:
    fake = FakeDagster()
    fake.push_down = True  # no push: the reads alone must bring the change
    panel = RunsPanel(fake)
    panel.poll_interval = 0.01
    panel.quiet_interval = 3600.0  # one page read, then live reads only
    async with Host(panel).run_test() as pilot:

        def live_reads() -> int:
            return sum(1 for r in fake.runs_requests if r["run_ids"] == [QUEUED_RUN])

        await until(pilot, lambda: live_reads() >= 3)
        assert [r["limit"] for r in fake.runs_requests if r["run_ids"] is None] == [50]
        fake.push_status(QUEUED_RUN, "STARTED")
        await until(pilot, lambda: status_cell(panel, QUEUED_RUN) == "STARTED")
        assert [r["limit"] for r in fake.runs_requests if r["run_ids"] is None] == [50]
        # Every run terminal: the page is read again (and then only probed).
        fake.push_status(QUEUED_RUN, "SUCCESS")
        await until(pilot, lambda: sum(1 for r in fake.runs_requests if r["run_ids"] is None) >= 2)
        assert status_cell(panel, QUEUED_RUN) == "SUCCESS"
