"""The run-per-container mode (stack/docker-compose.run-containers.yaml) on a stack of its own.

One run checks the whole mode, because each run costs a container and a cold import: the run gets a container
labelled with its run id and project and tagged on the run, the container mounts the host's code and dbt
project, the code server is killed in the middle and the run completes anyway, its compute logs are read
through the webserver, and the finished container removes itself. All of it while the real dashboard
(App.run_test on the backends `build_backends` makes) runs: it shows the run's container beside the services,
mapped to its run id, with its state, CPU and memory, opens its log, and drops the row once the container is
gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from edp_tui.docker.run_containers import RunContainer
from edp_tui.ui.app import EdpApp
from edp_tui.ui.screens.container_log import ContainerLogScreen
from edp_tui.ui.widgets.log_view import LogView
from edp_tui.ui.widgets.run_containers import RunContainersPanel
from tests.e2e.test_faults import dashboard
from tests.support import stack_runs as sr
from tests.support.docker_engine import STACK_TIMINGS, ComposeStack
from tests.support.pilot import screen_text, until

SMALL = sr.demo_config(customers=40, products=8, orders=300, seed=7)
RUN_DEADLINE_S = 900.0
CAPTURED = """
query Captured($runId: ID!) {
  logsForRun(runId: $runId, limit: 1000) {
    ... on EventConnection { events { __typename ... on LogsCapturedEvent { fileKey stepKeys } } }
  }
}"""
LOGS = "query Logs($logKey: [String!]!) { capturedLogs(logKey: $logKey) { stdout stderr } }"


def run_containers(stack: ComposeStack, run_id: str) -> list[dict[str, Any]]:
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=dagster/run_id={run_id}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    if not ids:
        return []
    out = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, timeout=30).stdout
    return list(json.loads(out)) if out.strip() else []


async def off_loop(pilot: Pilot[Any], check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Like `until`, for a blocking check (GraphQL, docker CLI): run in a thread, so the dashboard keeps
    running meanwhile. Returns the first truthy value; errors count as "not yet" (user-code is killed)."""
    start = time.monotonic()
    last: Any = None
    while time.monotonic() - start < timeout:
        try:
            last = await asyncio.to_thread(check)
        except Exception as exc:  # noqa: BLE001 - the stack answers with errors during the kill
            last = exc
        else:
            if last:
                return last
        await pilot.pause(1.0)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def shown_container(app: EdpApp, run_id: str) -> RunContainer | None:
    panel = app.query_one(RunContainersPanel)
    return next((c for c in panel.containers.values() if c.run_id == run_id), None)


def sampled(container: RunContainer | None) -> bool:
    return (
        container is not None
        and container.state == "running"
        and container.cpu_percent is not None
        and (container.memory_bytes or 0) > 0
    )


async def test_a_run_gets_its_own_container_and_survives_the_code_server(
    run_container_stack: ComposeStack,
) -> None:
    stack = run_container_stack
    graphql = stack.graphql
    try:
        async with dashboard(stack) as (app, pilot):
            panel = app.query_one(RunContainersPanel)
            assert not panel.has_class("-present")  # healthy, no run yet: nothing listed
            started = time.monotonic()
            run_id = sr.launch(graphql, "full_refresh_job", SMALL)

            # The dashboard: a row for the run's container, with its state and one stats sample.
            await until(
                pilot, lambda: sampled(shown_container(app, run_id)), RUN_DEADLINE_S, "the run container"
            )
            STACK_TIMINGS["run-container mode: launch -> its container on the dashboard"] = (
                time.monotonic() - started
            )
            row = shown_container(app, run_id)
            assert row is not None and panel.has_class("-present") and panel.display
            # The panel's model has the row; the screen shows it once the next frame is composed.
            await until(
                pilot,
                lambda: all(
                    s in screen_text(app)
                    for s in ("Run containers", run_id[:8], "full_refresh_job", "MiB", "running")
                ),
                10,
                "the run container painted",
            )

            container = (await asyncio.to_thread(run_containers, stack, run_id))[0]
            assert container["Id"] == row.container_id and container["Name"].lstrip("/") == row.name
            labels = container["Config"]["Labels"]
            assert labels["dagster/run_id"] == run_id
            assert labels["edp.project"] == stack.project and labels["edp.role"] == "run-worker"
            assert container["HostConfig"]["AutoRemove"] is True
            mounts = {m["Destination"]: m for m in container["Mounts"]}
            # The user's code as user-code mounts it (read-only), so the run loads what the location serves.
            assert mounts["/opt/dagster/app"]["Source"] == str(stack.repo)
            assert mounts["/opt/dagster/app"]["RW"] is False
            assert mounts["/opt/dagster/dbt"]["Name"] == f"{stack.project}_dbt_target"
            assert (
                mounts["/opt/dagster/dagster_home/compute_logs"]["Name"]
                == f"{stack.project}_dagster_compute_logs"
            )

            # The code server killed while the run is under way: the run's container does not need it.
            assert sr.run(graphql, run_id)["status"] not in sr.FINISHED
            await asyncio.to_thread(stack.compose, "kill", "user-code")

            await off_loop(
                pilot,
                lambda: any(
                    e.get("eventType") == "STEP_START" and e.get("stepKey") == "retail_dbt_models"
                    for e in sr.events(graphql, run_id)
                ),
                RUN_DEADLINE_S,
                "the dbt step started",
            )
            # Its log, from the panel (enter on its row), once the run is under way (its dbt step started).
            table = panel.query_one("DataTable")
            table.focus()
            table.move_cursor(row=table.get_row_index(row.container_id))  # type: ignore[attr-defined]
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ContainerLogScreen), 60, "the container's log")

            def log_text() -> str:
                return "\n".join(line.text for line in app.screen.query_one(LogView).buffer)

            # Dagster's log lines name the run (the backlog arrives from the follower's thread).
            with contextlib.suppress(AssertionError):
                await until(pilot, lambda: run_id in log_text(), 30, "the run id in the container's log")
            engine_log = await asyncio.to_thread(
                subprocess.run,
                ["docker", "logs", "--tail", "20", row.container_id],
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert run_id in app.screen.title_text, app.screen.title_text  # type: ignore[attr-defined]
            # The engine's own `docker logs` is in the message if the dashboard's log lacks the run id.
            assert run_id in log_text(), (
                f"{log_text()!r}\ndocker logs: {engine_log.stdout!r} {engine_log.stderr!r}"
            )
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, ContainerLogScreen), 30, "the log closed")

            status = await off_loop(
                pilot,
                lambda: (s := sr.run(graphql, run_id)["status"]) in sr.FINISHED and s,
                RUN_DEADLINE_S,
                "the run finished",
            )
            assert status == "SUCCESS"
            STACK_TIMINGS["run-container full_refresh_job at test size, code server killed mid-run"] = (
                time.monotonic() - started
            )
            info = sr.run(graphql, run_id)
            assert sr.tags(info)["docker/container_id"] == container["Id"]

            events = graphql(CAPTURED, {"runId": run_id})["logsForRun"]["events"]
            keys = [e for e in events if e["__typename"] == "LogsCapturedEvent"]
            assert {"raw_retail_data", "retail_dbt_models"} <= {s for k in keys for s in k["stepKeys"] or []}
            logs = graphql(LOGS, {"logKey": [run_id, "compute_logs", keys[0]["fileKey"]]})["capturedLogs"]
            assert run_id in (logs["stdout"] or "") + (logs["stderr"] or "")  # written in the run container

            # The finished container removes itself, and the dashboard drops its row and hides the panel.
            finished = time.monotonic()
            await off_loop(
                pilot, lambda: run_containers(stack, run_id) == [], 120, "the finished run container removed"
            )
            await until(
                pilot,
                lambda: shown_container(app, run_id) is None and not panel.has_class("-present"),
                60,
                "the run container gone from the dashboard",
            )
            STACK_TIMINGS["run-container mode: run finished -> its row gone from the dashboard"] = (
                time.monotonic() - finished
            )
            assert app.is_running and panel.last_error is None
    finally:
        await asyncio.to_thread(stack.compose, "up", "-d", "--wait", "--wait-timeout", "600", timeout=660)
    assert sr.in_progress(graphql) == []
