"""The dashboard's Dagster side against the real process stack, driven with Pilot and read from the screen.

The shared `process_stack` is only used for things that leave it as found (launches, a toggle put back).
Breaking things (broken code, killed webserver, stopped daemon) happens on a stack of this module's own,
running a temporary copy of the code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from dagster._grpc.client import DagsterGrpcClient
from textual.widgets import DataTable, Input, Select, Static, TabbedContent, TextArea

from edp_tui.backends import dagster_client
from edp_tui.config import Config
from edp_tui.ui.app import EdpApp
from edp_tui.ui.screens.launch_dialog import LaunchDialog
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel
from tests.integration.conftest import copy_repository
from tests.support.pilot import on_screen, screen_text, until
from tests.support.process_stack import ProcessStack
from tests.support.stack_runs import DEMO_DAY
from tests.tui.shell_fakes import FakeServices, fake_backends

SIZE = (320, 60)  # wide enough that long compute-log lines are not cut before the text looked for
REPO = "__repository__"
SMALL_INGESTION = (
    "ops:\n  raw_reference_data:\n    config:\n      customers: 20\n      products: 5\n"
    "  raw_retail_data:\n    config:\n      orders: 40\n"
)
# The demo's jobs are partitioned by day: the dialog's partition field names the day (dagster/partition is a
# reserved tag prefix: the dialog sets it once the day is checked).
RELOAD = "mutation ($n: String!) { reloadRepositoryLocation(repositoryLocationName: $n) { __typename } }"
RUN_COUNT = "query { runsOrError { ... on Runs { count } } }"
SCHEDULE_STATUS = """
query ($selector: ScheduleSelector!) {
  scheduleOrError(scheduleSelector: $selector) {
    __typename
    ... on Schedule { scheduleState { status } }
  }
}
"""


def make_dashboard(stack: ProcessStack, **config: Any) -> EdpApp:
    """The real dashboard; only Docker is a fake (the Docker side has its own tests)."""
    settings = Config(compose_file=Path("/nonexistent/compose.yaml"), **config)
    client = dagster_client(settings, stack.webserver_url)
    return EdpApp(
        settings,
        fake_backends(FakeServices(), client, project="edp-it", webserver_url=stack.webserver_url),
        logs_panel_factory=lambda: Static("(container logs not under test)"),
    )


@asynccontextmanager
async def running(app: EdpApp) -> AsyncIterator[Any]:
    async with app.run_test(size=SIZE) as pilot:
        yield pilot


def show_tab(app: EdpApp, tab: str) -> None:
    app.query_one("#main", TabbedContent).active = tab


def row_with(pilot: Any, needle: str) -> str:
    return next((line for line in screen_text(pilot.app).splitlines() if needle in line), "")


async def open_launch_dialog(pilot: Any, job: str, config_yaml: str) -> LaunchDialog:
    app = pilot.app
    show_tab(app, "tab-runs")
    app.query_one("#runs-table", DataTable).focus()
    await pilot.press("l")
    await until(
        pilot, lambda: isinstance(app.screen, LaunchDialog) and bool(app.screen.jobs), 30, "job picker"
    )
    dialog = app.screen
    assert isinstance(dialog, LaunchDialog)
    names = [j[2] for j in dialog.jobs]
    assert job in names and not any(n.startswith("__") for n in names)
    choice = next(j for j in dialog.jobs if j[2] == job)
    dialog.query_one("#job", Select).value = choice
    editor = dialog.query_one("#run-config", TextArea)
    # The job's default config arrives first (fetched on selection); then the test's own config goes in.
    await until(pilot, lambda: "raw_retail_data" in editor.text, 30, "default run config")
    editor.text = config_yaml
    dialog.query_one("#partition", Input).value = DEMO_DAY
    return dialog


async def launch_from_dialog(pilot: Any, job: str, config_yaml: str, timeout: float) -> str:
    """Launch ``job`` from the Runs tab's dialog; returns the new run's id, once the list selects it."""
    runs = pilot.app.query_one(RunsPanel)
    await until(pilot, lambda: runs.populated, timeout, "runs listed")
    # Runs of earlier tests may be runs of the same job: the new one is the one not listed before.
    earlier = set(runs.runs)
    await open_launch_dialog(pilot, job, config_yaml)
    await pilot.press("ctrl+s")
    await until(
        pilot, lambda: not isinstance(pilot.app.screen, LaunchDialog), timeout, "dialog closed after launch"
    )
    await until(
        pilot,
        lambda: (
            runs.selected is not None
            and runs.selected.job_name == job
            and runs.selected.run_id not in earlier
        ),
        timeout,
        "the new run selected",
    )
    assert runs.selected is not None
    return runs.selected.run_id


# ---- shared stack: launch, logs, invalid config, schedule toggle ---


async def test_launched_job_reaches_success_and_its_compute_logs_appear(process_stack: ProcessStack) -> None:
    app = make_dashboard(process_stack)
    async with running(app) as pilot:
        run_id = await launch_from_dialog(pilot, "ingestion_job", SMALL_INGESTION, 30)
        took = await until(
            pilot, lambda: "SUCCESS" in row_with(pilot, run_id[:8]), 300, "run SUCCESS in the list"
        )
        print(f"launch -> SUCCESS on screen: {took:.1f}s")
        # The step's captured output (its log lines go to the compute log's stderr) in the log pane.
        await until(pilot, on_screen(pilot, f"loaded {DEMO_DAY}: "), 60, "compute-log line")
        assert "raw_retail_data" in screen_text(app)  # the step in the run detail
        tags = process_stack.graphql(
            "query ($id: ID!) { runOrError(runId: $id) { ... on Run { status runConfigYaml } } }",
            {"id": run_id},
        )["runOrError"]
        assert tags["status"] == "SUCCESS" and "orders: 40" in tags["runConfigYaml"]


async def test_invalid_run_config_launches_nothing(process_stack: ProcessStack) -> None:
    before = process_stack.graphql(RUN_COUNT)["runsOrError"]["count"]
    app = make_dashboard(process_stack)
    async with running(app) as pilot:
        await open_launch_dialog(
            pilot, "ingestion_job", "ops:\n  raw_retail_data:\n    config:\n      orders: many\n"
        )
        await pilot.press("ctrl+s")
        await until(
            pilot,
            on_screen(pilot, "nothing launched", "root:ops:raw_retail_data:config:orders"),
            30,
            "validation error with its path",
        )
        assert isinstance(app.screen, LaunchDialog)
        # A YAML mistake is caught before anything is sent.
        app.screen.query_one("#run-config", TextArea).text = "ops: [unclosed"
        await pilot.press("ctrl+s")
        await until(pilot, on_screen(pilot, "not valid YAML"), 10, "not valid YAML")
    assert process_stack.graphql(RUN_COUNT)["runsOrError"]["count"] == before


async def test_schedule_toggled_from_the_dashboard_is_confirmed_by_graphql(
    process_stack: ProcessStack,
) -> None:
    selector = {
        "repositoryLocationName": process_stack.location_name,
        "repositoryName": REPO,
        "scheduleName": "daily_schedule",
    }

    def status() -> str:
        data = process_stack.graphql(SCHEDULE_STATUS, {"selector": selector})["scheduleOrError"]
        return str(data["scheduleState"]["status"])

    assert status() == "STOPPED"
    app = make_dashboard(process_stack)
    async with running(app) as pilot:
        show_tab(app, "tab-schedules")
        panel = app.query_one(SchedulesPanel)
        await until(pilot, on_screen(pilot, "daily_schedule", "0 2 * * *"), 30, "schedule row")
        table = panel.table
        table.focus()
        table.move_cursor(
            row=table.get_row_index(f"schedule:{process_stack.location_name}:{REPO}:daily_schedule")
        )
        try:
            await pilot.press("s")
            await until(pilot, lambda: "RUNNING" in row_with(pilot, "daily_schedule"), 30, "RUNNING")
            assert status() == "RUNNING"
            await pilot.press("s")
            await until(pilot, lambda: "STOPPED" in row_with(pilot, "daily_schedule"), 30, "STOPPED")
            assert status() == "STOPPED"
        finally:
            if status() != "STOPPED":  # leave the shared stack as found
                process_stack.graphql(
                    "mutation ($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) { __typename } }",
                    {"s": selector},
                )


# ---- a stack of this module's own, for breaking things ---


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessStack]:
    workdir = tmp_path_factory.mktemp("dashboard-own-stack")
    code_root = copy_repository(workdir / "repo")
    stack = ProcessStack(workdir / "run", code_root)
    try:
        yield stack.start()
    finally:
        stack.stop()


async def test_a_location_that_never_loaded_shows_its_syntax_error_and_the_fix_recovers(
    own_stack: ProcessStack,
) -> None:
    """A broken save to a serving location is refused and the old definitions serve (the platform's check); a
    location whose code is broken when its code server starts has nothing good to serve, so the Code locations
    tab shows the error itself: the text, file and line, until a save fixes it."""
    definitions = own_stack.code_root / "etl_pipeline" / "src" / "etl_pipeline" / "definitions.py"
    good = definitions.read_text()
    own_stack.stop_code_server()
    definitions.write_text(good + "\n\ndef broken(:\n    pass\n")
    own_stack.may_fail.add(own_stack.location_name)
    try:
        own_stack.start_code_server()
        # Serving the error, the code server still answers GetServerId (an id of its own): without it the
        # webserver's watch of a restarted code server never reconnected, and the tab kept showing "Could not
        # reach user code server" instead of the error (seen whenever the restart took over ~10 s).
        port = own_stack.code_server_ports[own_stack.location_name]
        assert DagsterGrpcClient(port=port, host="127.0.0.1").get_server_id().startswith("edp-load-error-")
        app = make_dashboard(own_stack)
        async with running(app) as pilot:
            show_tab(app, "tab-locations")
            app.query_one("#locations-table", DataTable).focus()
            await until(
                pilot,
                on_screen(
                    pilot, "etl_pipeline failed to load", "SyntaxError", "def broken(:", "definitions.py"
                ),
                240,
                "the SyntaxError of the first load",
            )
            definitions.write_text(good)  # reload on save
            await pilot.press("r")
            await until(
                pilot,
                lambda: (
                    "loaded" in row_with(pilot, "etl_pipeline") and "failed to load" not in screen_text(app)
                ),
                240,
                "recovered after the fix",
            )
    finally:
        own_stack.may_fail.discard(own_stack.location_name)
        if definitions.read_text() != good:  # leave the module's stack usable for the next tests
            definitions.write_text(good)
            own_stack.graphql(RELOAD, {"n": own_stack.location_name}, timeout=240)


async def test_webserver_killed_mid_session_is_shown_and_recovered(own_stack: ProcessStack) -> None:
    app = make_dashboard(own_stack)
    async with running(app) as pilot:
        show_tab(app, "tab-runs")
        await until(pilot, lambda: app.query_one(RunsPanel).populated, 30, "runs panel populated")
        await until(pilot, lambda: "● webserver" in screen_text(app), 30, "webserver ok in the header")
        own_stack.stop_webserver()
        try:
            await until(pilot, on_screen(pilot, "webserver unreachable", "✖ webserver"), 30, "outage shown")
        finally:
            own_stack.start_webserver()
        await until(
            pilot,
            lambda: "● webserver" in screen_text(app) and "webserver unreachable" not in screen_text(app),
            60,
            "recovered by itself",
        )
        assert app.is_running


async def test_stopped_daemon_is_flagged_stale(own_stack: ProcessStack) -> None:
    # Heartbeats come every 30 s (the scheduler's every 60 s): 45 s without one is a dead daemon here.
    app = make_dashboard(own_stack, daemon_stale_after_s=45.0)
    async with running(app) as pilot:
        await until(pilot, on_screen(pilot, "● daemon ok"), 60, "daemon ok")
        own_stack.stop_daemon()
        try:
            took = await until(pilot, on_screen(pilot, "daemon stale"), 120, "daemon flagged stale")
            print(f"daemon stopped -> stale on screen: {took:.1f}s")
        finally:
            own_stack.start_daemon()
        await until(pilot, on_screen(pilot, "● daemon ok"), 60, "daemon ok again")
