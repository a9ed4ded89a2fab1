"""Faults injected into the real compose stack while the real dashboard runs (a Textual app in run_test, on
the backends `build_backends` makes): each test measures how long the fault takes to show as a state on screen
and how long the screen takes to be healthy again, and restores what it broke. The figures are printed in
pytest's terminal summary ("fault figures").

The Docker engine itself is never restarted (every helper's containers on this machine run on it): the
dashboard reaches it through a socket proxy this test cuts and restores (as tests/e2e/test_docker_side.py).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from textual.pilot import Pilot

from edp_tui.backends import build_backends
from edp_tui.compose import resolve_project
from edp_tui.config import Config
from edp_tui.docker.endpoint import resolve_endpoint
from edp_tui.docker.models import RunState
from edp_tui.ui.app import EdpApp
from edp_tui.ui.widgets.dagster.compute_logs import ComputeLogsPanel
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from edp_tui.ui.widgets.header import Level
from edp_tui.ui.widgets.logs_panel import LogsPanel
from tests.e2e.test_docker_side import UnixSocketProxy
from tests.support import stack_runs as sr
from tests.support.docker_engine import ComposeStack, base_image
from tests.support.fault_figures import FAULT_FIGURES, FaultFigure
from tests.support.pilot import screen_text, until

SIZE = (200, 50)
SERVICES = ("postgres", "user-code", "dagster-webserver", "dagster-daemon")
# The header calls the daemon stale after this long without a heartbeat (the default is 90 s). Above Dagster's
# heartbeat interval (30 s, dagster/_daemon/controller.py DEFAULT_HEARTBEAT_INTERVAL_SECONDS) plus a busy
# host's delay: at 20 s a healthy daemon read as stale for a third of every interval (heartbeats 28 s old
# were seen on an idle stack), which is what an earlier run took for the daemon breaking on a full disk.
DAEMON_STALE_S = 45.0


@asynccontextmanager
async def dashboard(stack: ComposeStack, **settings: Any) -> AsyncIterator[tuple[EdpApp, Pilot[Any]]]:
    """The real dashboard on the stack, built as `edp-tui` builds it (compose resolution, build_backends)."""
    settings.setdefault("daemon_stale_after_s", DAEMON_STALE_S)
    config = Config(compose_file=stack.compose_file, webserver_url=stack.webserver_url, **settings)
    compose = resolve_project(stack.compose_file, project_name=stack.project, env=stack.env)
    app = EdpApp(config, build_backends(config, compose))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: healthy(app), 300, "a healthy dashboard before the fault")
        yield app, pilot


def level(app: EdpApp, backend: str) -> Level | None:
    state = app.header.backend(backend)
    return state.level if state is not None else None


def service_running(app: EdpApp, service: str) -> bool:
    state = app.services_panel.state_of(service)
    return state is not None and state.state is RunState.RUNNING


def healthy(app: EdpApp) -> bool:
    return all(level(app, b) is Level.OK for b in ("docker", "webserver", "daemon")) and all(
        service_running(app, s) for s in SERVICES
    )


def container_of(stack: ComposeStack, service: str) -> str:
    return stack.compose("ps", "-a", "-q", service).stdout.strip().splitlines()[0]


def record(fault: str, shown: float | None, recovered: float | None, note: str = "") -> None:
    FAULT_FIGURES.append(FaultFigure(fault, shown, recovered, note))


# ---- the engine, cut through a socket proxy ----------------------------------------------------------------


async def test_engine_access_cut_and_restored(compose_stack: ComposeStack) -> None:
    endpoint, _ = resolve_endpoint()
    if not endpoint.startswith("unix://"):
        pytest.skip(f"the socket proxy forwards unix sockets only; engine is at {endpoint}")
    proxy = UnixSocketProxy(Path("/tmp") / f"edpft-{uuid.uuid4().hex[:8]}.sock", endpoint[len("unix://") :])
    shown = recovered = None
    try:
        async with dashboard(compose_stack, docker_host=f"unix://{proxy.path}") as (app, pilot):
            proxy.cut()
            t0 = time.monotonic()
            shown = await until(
                pilot,
                lambda: level(app, "docker") is Level.ERROR and app.services_panel.has_class("-unreachable"),
                60,
                "docker shown unreachable",
            )
            logs = app.query_one(LogsPanel)
            await until(
                pilot, lambda: logs.problem is not None, 60, "the logs pane saying the engine is gone"
            )
            assert time.monotonic() - t0 < 60
            proxy.restore()
            recovered = await until(pilot, lambda: healthy(app), 120, "docker back, four services running")
            await until(pilot, lambda: logs.problem is None, 60, "the logs pane following again")
    finally:
        proxy.close()
        record(
            "engine access cut (socket proxy; dockerd untouched)", shown, recovered, "backoff 0.5 s -> 10 s"
        )


# ---- Dagster: webserver killed, daemon stopped, PostgreSQL restarted mid-run -------------------------------


async def test_webserver_killed(compose_stack: ComposeStack) -> None:
    shown = recovered = None
    note = ""
    try:
        async with dashboard(compose_stack) as (app, pilot):
            client = docker.from_env()
            try:
                client.containers.get(container_of(compose_stack, "dagster-webserver")).kill()
            finally:
                client.close()
            shown = await until(pilot, lambda: level(app, "webserver") is Level.ERROR, 60, "webserver down")
            repaired = time.monotonic()
            # restart: unless-stopped brings a killed container back; start it if the engine did not.
            try:
                await until(pilot, lambda: service_running(app, "dagster-webserver"), 30, "engine restart")
                note = "restarted by its restart policy"
            except AssertionError:
                compose_stack.compose("start", "dagster-webserver")
                note = "started by the test (the restart policy did not)"
            await until(pilot, lambda: healthy(app), 300, "webserver answering again")
            recovered = time.monotonic() - repaired
    finally:
        compose_stack.compose("start", "dagster-webserver", check=False)
        record("webserver killed (SIGKILL)", shown, recovered, note)


async def test_daemon_stopped(compose_stack: ComposeStack) -> None:
    shown = recovered = None
    stale = None
    try:
        async with dashboard(compose_stack) as (app, pilot):
            compose_stack.compose("stop", "-t", "5", "dagster-daemon")
            t0 = time.monotonic()
            shown = await until(
                pilot, lambda: not service_running(app, "dagster-daemon"), 60, "daemon row not running"
            )
            # The header learns it from the heartbeats only: stale after DAEMON_STALE_S.
            await until(
                pilot, lambda: level(app, "daemon") is not Level.OK, DAEMON_STALE_S + 90, "daemon stale"
            )
            stale = time.monotonic() - t0
            compose_stack.compose("start", "dagster-daemon")
            recovered = await until(pilot, lambda: healthy(app), 300, "daemon heartbeating again")
    finally:
        compose_stack.compose("start", "dagster-daemon", check=False)
        note = f"header stale after {stale:.1f} s (threshold {DAEMON_STALE_S:.0f} s)" if stale else ""
        record("daemon stopped (row)", shown, recovered, note)


LAUNCH = """
mutation ($job: String!, $config: RunConfigData) {
  launchRun(executionParams: {
    selector: {repositoryLocationName: "etl_pipeline", repositoryName: "__repository__", jobName: $job},
    runConfigData: $config,
    executionMetadata: {tags: [{key: "dagster/partition", value: "2024-01-01"}]}
  }) { __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } }
}
"""
RUN_STATUS = "query ($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


async def test_postgres_restarted_mid_run(compose_stack: ComposeStack) -> None:
    shown = recovered = None
    note = ""
    try:
        async with dashboard(compose_stack) as (app, pilot):
            config = sr.demo_config(customers=20, products=5, orders=40)
            data = compose_stack.graphql(LAUNCH, {"job": "ingestion_job", "config": config})
            run_id = data["launchRun"]["run"]["runId"]

            def status() -> str:
                try:
                    return str(
                        compose_stack.graphql(RUN_STATUS, {"id": run_id}, timeout=10)["runOrError"]["status"]
                    )
                except Exception as exc:  # noqa: BLE001 - the webserver fails while its database is down
                    return f"unknown ({type(exc).__name__})"

            await until(
                pilot, lambda: status() in ("STARTING", "STARTED", "SUCCESS", "FAILURE"), 300, "run started"
            )
            # Stopped, then started once the screen has shown it: every Dagster process now checks its kept
            # connections at checkout (edp_platform/instance/storage.py), so a quick restart can pass without
            # a failed query for the screen to show; a database that stays away is what the screen must say.
            compose_stack.compose("stop", "-t", "5", "postgres")
            t0 = time.monotonic()
            # What the screen says while the database is away: the postgres row, the Dagster panels' banners.
            shown = await until(
                pilot,
                lambda: (
                    not service_running(app, "postgres")
                    or level(app, "webserver") is not Level.OK
                    or len(app.query(".-failing")) > 0
                ),
                120,
                "postgres restart visible",
            )
            compose_stack.compose("start", "postgres")
            recovered = await until(
                pilot, lambda: healthy(app) and len(app.query(".-failing")) == 0, 300, "healthy again"
            )
            total = time.monotonic() - t0
            final = "?"
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                final = status()
                if final in ("SUCCESS", "FAILURE", "CANCELED"):
                    break
                await pilot.pause(2)
            note = f"the run ended {final}; screen healthy {total:.1f} s after the restart command"
            # The run in flight ends one way or the other (its worker's writes may have met the outage): a
            # run left STARTED for good after PostgreSQL is back is the failure this guards against.
            assert final in ("SUCCESS", "FAILURE", "CANCELED"), f"run {run_id} still {final} 10 min on"
    finally:
        compose_stack.compose("start", "postgres", check=False)
        record("postgres restarted mid-run", shown, recovered, note)


# ---- containers of the project: a crash loop, a log fuzzer -------------------------------------------------


async def test_crash_loop(compose_stack: ComposeStack) -> None:
    client = docker.from_env()
    name = f"{compose_stack.project}-crashloop-1"
    shown = recovered = None
    restarts = 0
    try:
        async with dashboard(compose_stack) as (app, pilot):
            container = client.containers.run(
                base_image(),
                ["sh", "-c", "echo crashing; exit 3"],
                name=name,
                labels={
                    "com.docker.compose.project": compose_stack.project,
                    "com.docker.compose.service": "crashloop",
                },
                restart_policy={"Name": "always"},
                detach=True,
            )

            def restarts_shown() -> int:
                state = app.services_panel.state_of("crashloop")
                return state.restart_count if state is not None else 0

            shown = await until(pilot, lambda: restarts_shown() >= 2, 120, "crash loop with restarts counted")
            restarts = restarts_shown()
            container.remove(force=True)
            recovered = await until(
                pilot,
                lambda: (
                    (s := app.services_panel.state_of("crashloop")) is None or s.state is RunState.MISSING
                ),
                60,
                "crash-looping container gone from the panel",
            )
            assert app.is_running
    finally:
        try:
            client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass
        client.close()
        record("container in a crash loop (2 restarts)", shown, recovered, f"restart count seen {restarts}")


FUZZ = r"""
printf '[bold red]markup[/] [link=file:///etc/passwd]link[/link] [/]\n'
printf 'escapes \033[2J\033[H\033]0;title\007 \033[31mred\033[0m\n'
printf 'controls \000 \010 \177 \033c end\n'
printf 'invalid utf-8 \377\376 \300\200 end\n'
head -c 1000000 /dev/zero | tr '\000' a; printf '\n'
printf 'FUZZ-END\n'
exec sleep infinity
"""


async def test_log_line_fuzz(compose_stack: ComposeStack) -> None:
    client = docker.from_env()
    name = f"{compose_stack.project}-fuzz-1"
    shown = None
    try:
        async with dashboard(compose_stack) as (app, pilot):
            logs = app.query_one(LogsPanel)
            logs.show_service("fuzz")
            t0 = time.monotonic()
            client.containers.run(
                base_image(),
                ["sh", "-c", FUZZ],
                name=name,
                labels={
                    "com.docker.compose.project": compose_stack.project,
                    "com.docker.compose.service": "fuzz",
                },
                detach=True,
                init=True,
            )

            def texts() -> list[str]:
                return [ln.text for ln in logs.view.buffer]

            await until(pilot, lambda: "FUZZ-END" in texts(), 120, "the fuzzer's last line")
            shown = time.monotonic() - t0
            lines = texts()
            assert any("[bold red]markup[/]" in t for t in lines)  # markup shown as typed
            assert not any(
                "\x1b[2J" in t or "\x00" in t for t in lines
            )  # no terminal control reaches the screen
            assert any(t.startswith("invalid utf-8") and "\ufffd" in t for t in lines)
            longest = max(len(t) for t in lines)
            assert longest < 1_000_000  # the 1 MB line is bounded
            assert app.is_running and healthy(app)
    finally:
        try:
            client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass
        client.close()
        record(
            "log line fuzz (markup, escapes, controls, bad UTF-8, 1 MB)",
            shown,
            None,
            "until the last line shown",
        )


# ---- a full disk for compute logs ----------------------------------------------------------------------

# The compute-log directory on a 2 MiB tmpfs of its own (tests/e2e/compose/small-compute-logs.yaml), filled.
SMALL_COMPUTE_LOGS = "tests/e2e/compose/small-compute-logs.yaml"
DAGSTER_SERVICES = ("user-code", "dagster-webserver", "dagster-daemon")
COMPUTE_LOGS = "/opt/dagster/dagster_home/compute_logs"
# head stops at ENOSPC (its own error is expected); df says what is left.
FILL = f"head -c 4000000 /dev/zero > {COMPUTE_LOGS}/fill 2>/dev/null; df -k {COMPUTE_LOGS}"
FREE = f"rm -f {COMPUTE_LOGS}/fill; df -k {COMPUTE_LOGS}"
TEST_SIZE = sr.demo_config(customers=20, products=5, orders=40)
NO_SPACE = "No space left on device"


def run_events_text(app: EdpApp) -> str:
    log = app.query_one(RunDetailPanel).query_one("#run-events")
    return "\n".join(strip.text for strip in log.lines)  # type: ignore[attr-defined]


async def test_compute_log_disk_full(compose_stack: ComposeStack) -> None:
    """A run that writes its output while the compute-log disk is full fails with the engine's reason on
    screen (the dbt step's stdout is the compute log: OSError ENOSPC); the daemon and the services stay up;
    once space is freed, the next run succeeds and its compute log shows, with the same dashboard running.

    Why the platform survives: the compute logs are a volume of their own (stack/docker-compose.yaml), not
    part of dagster_home or PostgreSQL's data; the daemon writes its heartbeats to PostgreSQL and only the
    run workers and the code server's sensor ticks (their captured logs) write there."""
    stack = compose_stack
    files = ("-f", "docker-compose.yaml", "-f", str(stack.repo / SMALL_COMPUTE_LOGS))
    shown = recovered = None
    note = ""
    daemon_levels: set[Level | None] = set()
    try:
        stack.compose(*files, "up", "-d", "--wait", "--wait-timeout", "900", *DAGSTER_SERVICES, timeout=960)
        # The default staleness (90 s): a stale daemon here means the fault broke it, not a slow host.
        async with dashboard(stack, daemon_stale_after_s=90.0) as (app, pilot):
            fill = stack.compose("exec", "-T", "user-code", "sh", "-c", FILL, check=False)
            assert "100%" in fill.stdout and "tmpfs" in fill.stdout, fill.stdout + fill.stderr
            runs = app.query_one(RunsPanel)
            app.action_show_tab("tab-runs")  # the runs list polls only while it is on screen

            def watched(predicate: Callable[[], bool]) -> Callable[[], bool]:
                def check() -> bool:
                    daemon_levels.add(level(app, "daemon"))
                    return predicate()

                return check

            async def select(run_id: str) -> None:
                await until(pilot, watched(lambda: run_id in runs.runs), 120, f"run {run_id} listed")
                runs.table.move_cursor(row=runs.table.get_row_index(run_id))
                detail = app.query_one(RunDetailPanel)
                await until(
                    pilot,
                    lambda: detail.run is not None and detail.run.run_id == run_id,
                    30,
                    f"run {run_id} in the detail",
                )

            def status(run_id: str) -> str | None:
                run = runs.runs.get(run_id)
                return run.status if run is not None else None

            full_run = sr.launch(stack.graphql, "full_refresh_job", TEST_SIZE)
            t0 = time.monotonic()
            await select(full_run)
            await until(
                pilot,
                watched(lambda: status(full_run) == "FAILURE" and NO_SPACE in run_events_text(app)),
                600,
                "the run on the full disk failed with the reason on screen",
            )
            shown = time.monotonic() - t0
            # The platform is not broken: every service runs, the webserver answers, the daemon heartbeats.
            assert all(service_running(app, s) for s in SERVICES), screen_text(app)
            assert level(app, "webserver") is Level.OK

            free = stack.compose("exec", "-T", "user-code", "sh", "-c", FREE)
            assert "100%" not in free.stdout, free.stdout
            t1 = time.monotonic()
            next_run = sr.launch(stack.graphql, "full_refresh_job", TEST_SIZE)
            await select(next_run)
            logs = app.query_one(ComputeLogsPanel)
            await until(
                pilot,
                watched(lambda: status(next_run) == "SUCCESS" and logs.lines_shown > 0),
                600,
                "the next run succeeded and its compute log shown",
            )
            recovered = time.monotonic() - t1
            assert app.is_running and healthy(app)
            assert daemon_levels <= {Level.OK}, f"daemon levels seen during the fault: {daemon_levels}"
            note = (
                "run failed with OSError ENOSPC (dbt step's output); daemon level during the fault: "
                + ", ".join(sorted(str(lv) for lv in daemon_levels))
            )
    finally:
        # Back to the stack's own compute-log volume; the small one goes with it.
        stack.compose(
            "up", "-d", "--wait", "--wait-timeout", "900", *DAGSTER_SERVICES, timeout=960, check=False
        )
        subprocess.run(
            ["docker", "volume", "rm", "-f", f"{stack.project}_small_compute_logs"],
            capture_output=True,
            timeout=60,
        )
        record("compute-log disk full (2 MiB tmpfs, filled)", shown, recovered, note)
