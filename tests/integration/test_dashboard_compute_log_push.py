"""A live run's compute log reaches the dashboard's panel through the capturedLogs subscription (the real
webserver of the shared process stack, its compute log manager's 0.2 s watcher), not through polled queries;
once the run is over the rest is read by query and the log ends."""

from __future__ import annotations

import collections
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from textual.widgets import Static

from edp_tui.config import Config
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.models import LogChunk, LogKey
from edp_tui.ui.app import EdpApp
from edp_tui.ui.widgets.dagster.compute_logs import ComputeLogsPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from tests.integration.test_dashboard_dagster import SIZE, show_tab
from tests.support.pilot import until
from tests.support.process_stack import ProcessStack
from tests.support.stack_runs import IN_PROCESS, demo_config
from tests.tui.shell_fakes import FakeServices, fake_backends

# Ingestion, the dbt steps and analytics in one process: one compute log, written to for tens of seconds.
# (With the multiprocess executor each step has a log of its own, a few seconds long: a test that follows
# one step raced the step's end under load.)
SMALL_FULL_REFRESH = {**demo_config(customers=20, products=5, orders=40), **IN_PROCESS}


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts queries by operation name on their way to the webserver."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.counts: collections.Counter[str] = collections.Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.counts[json.loads(request.content).get("operationName", "?")] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class CountingClient(DagsterClient):
    """The real client; counts the compute-log subscriptions it opens and the chunks they push."""

    subscriptions = 0
    pushed_chunks = 0

    async def captured_logs_stream(self, key: LogKey, cursor: str | None = None) -> AsyncIterator[LogChunk]:
        self.subscriptions += 1
        async for chunk in super().captured_logs_stream(key, cursor):
            self.pushed_chunks += 1
            yield chunk


async def test_a_live_runs_compute_log_is_pushed_to_the_panel(process_stack: ProcessStack) -> None:
    transport = CountingTransport()
    client = CountingClient(process_stack.graphql_url, transport=transport)
    app = EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml")),
        fake_backends(FakeServices(), client, project="edp-it", webserver_url=process_stack.webserver_url),
        logs_panel_factory=lambda: Static("(container logs not under test)"),
    )
    async with app.run_test(size=SIZE) as pilot:
        show_tab(app, "tab-runs")
        runs = app.query_one(RunsPanel)
        panel = app.query_one(ComputeLogsPanel)
        await until(pilot, lambda: runs.populated, 30, "runs listed")
        launched = process_stack.launch_run("full_refresh_job", SMALL_FULL_REFRESH)
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        await until(pilot, lambda: run_id in runs.runs, 30, "the new run listed")
        runs.table.move_cursor(row=runs.table.get_row_index(run_id))
        await until(
            pilot,
            lambda: panel.run_id == run_id and panel.key is not None and panel.follower is not None,
            120,
            "the run's log followed",
        )
        # Other runs' logs were read by query before (the run listed first is selected at start; the poll that
        # read it is over once the follower runs): from here on, while the run is live, lines on screen come
        # pushed and not one capturedLogs query goes out.
        queried = transport.counts["CapturedLogs"]
        live_counts: set[int] = set()

        def pushed_while_live() -> bool:
            if panel.done or transport.counts["CapturedLogs"] != queried:
                raise AssertionError(
                    f"read by query ({transport.counts['CapturedLogs'] - queried}) or the run over "
                    f"(done={panel.done}) before two pushes arrived; pushes: {client.pushed_chunks}"
                )
            state = panel.follow_state
            if state is not None and state.push and panel.lines_shown:
                live_counts.add(panel.lines_shown)
            return len(live_counts) >= 2

        took = await until(pilot, pushed_while_live, 240, "compute-log lines pushed while the run is live")
        print(f"two pushes on screen {took:.1f}s after following began; {client.pushed_chunks} chunks pushed")
        assert client.subscriptions >= 1 and client.pushed_chunks >= 2
        assert "· push" in str(panel.query_one("#compute-title").render())
        # The run ends: the subscription goes, the rest comes by query, the log says it is complete.
        t0 = time.monotonic()
        await until(pilot, lambda: panel.done, 300, "end of compute log after the run")
        print(f"run over -> end of compute log within {time.monotonic() - t0:.1f}s")
        assert panel.follower is None
        assert transport.counts["CapturedLogs"] > queried  # the final read

        def text() -> str:
            return "\n".join(line.text for line in panel.view.buffer)

        # The final lines reach the view's buffer at its next flush (every 0.05 s), just after `done`.
        await until(pilot, lambda: "end of compute log" in text(), 5, "the end of the log in the pane")
        assert "stg_orders" in text()  # dbt built the staging views
    await client.aclose()
