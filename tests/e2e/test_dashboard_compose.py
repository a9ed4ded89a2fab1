"""One e2e check of the Dagster side against the real compose stack: trigger a job from the dashboard and tail
its compute logs there (the run executes in the user-code container; its logs reach the webserver through the
shared compute-log volume)."""

from __future__ import annotations

from textual.widgets import Static

from edp_tui.backends import Backends, dagster_client
from edp_tui.config import Config
from edp_tui.docker.endpoint import DockerEndpoint
from edp_tui.docker.logs import DockerLogSource
from edp_tui.docker.run_containers import DockerRunContainers
from edp_tui.docker.services import DockerServices
from edp_tui.reload_status.reader import ContainerReloadStatus
from edp_tui.ui.app import EdpApp
from tests.integration.test_dashboard_dagster import (
    SIZE,
    SMALL_INGESTION,
    launch_from_dialog,
    row_with,
)
from tests.support.docker_engine import ComposeStack
from tests.support.pilot import on_screen, screen_text, until
from tests.support.stack_runs import DEMO_DAY

SERVICES = ("postgres", "user-code", "dagster-webserver", "dagster-daemon")


async def test_trigger_a_job_and_tail_its_compute_logs(compose_stack: ComposeStack) -> None:
    config = Config(compose_file=compose_stack.compose_file)
    endpoint = DockerEndpoint.resolve(env=compose_stack.env)
    backends = Backends(
        project=compose_stack.project,
        webserver_url=compose_stack.webserver_url,
        services=DockerServices(compose_stack.project, SERVICES, endpoint),
        logs=DockerLogSource(compose_stack.project, endpoint),
        dagster=dagster_client(config, compose_stack.webserver_url),
        reload_status=ContainerReloadStatus(compose_stack.project, endpoint),
        run_containers=DockerRunContainers(compose_stack.project, endpoint),
    )
    app = EdpApp(
        config, backends, logs_panel_factory=lambda: Static("(container logs have their own e2e tests)")
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, on_screen(pilot, "● webserver", "● daemon ok"), 120, "webserver and daemon ok")
        run_id = await launch_from_dialog(pilot, "ingestion_job", SMALL_INGESTION, 60)
        await until(pilot, lambda: "SUCCESS" in row_with(pilot, run_id[:8]), 600, "run SUCCESS")
        await until(pilot, on_screen(pilot, f"loaded {DEMO_DAY}: "), 120, "compute-log line of the step")
        # The run is over: the tail reads what is left and stops.
        await until(pilot, on_screen(pilot, "end of compute log"), 60, "tailing stopped after the run")
        assert "raw_retail_data" in screen_text(app)
