"""The composition root's one factory of clients: every backend the dashboard and the CLI talk to.

`build_backends` resolves the Docker endpoint (with the current context's TLS settings) once and hands the
same one to the services source and the container-log source, and builds the one Dagster client. The App
receives the result and never constructs a client itself; TUI tests hand in fakes through the same object.
No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edp_tui.compose import ComposeProject
from edp_tui.config import DEFAULT_WEBSERVER_URL, Config
from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.daemon_errors import DaemonErrorHistory

DAEMON_ERRORS_FILE = "daemon-errors.json"

# The Docker side (the docker SDK and requests, heavy imports: docs/performance.md) is imported where it is
# built, so the CLI's Dagster commands (`launch --wait`, `runs`, `reload`) start without it.
if TYPE_CHECKING:
    from edp_tui.docker.endpoint import DockerEndpoint
    from edp_tui.docker.logs.model import LogSource
    from edp_tui.docker.resource_stats import ResourceStatsSource
    from edp_tui.docker.run_containers import RunContainerSource
    from edp_tui.docker.services import ServiceSource
    from edp_tui.reload_status.reader import ReloadStatusSource


@dataclass
class Backends:
    """What the dashboard supervises: the compose project's services and logs, and the Dagster webserver."""

    project: str
    webserver_url: str
    services: ServiceSource
    logs: LogSource
    dagster: DagsterApi
    reload_status: ReloadStatusSource
    run_containers: RunContainerSource
    # The code folder on this host (what dbt/file paths are relative to); None: not known (the repository).
    code_dir: Path | None = None
    # CPU and memory of the containers from Docker's stats stream (the resource graphs); None: not offered.
    resource_stats: ResourceStatsSource | None = None

    async def aclose(self) -> None:
        if self.resource_stats is not None:
            self.resource_stats.close()
        self.services.close()
        self.reload_status.close()
        self.run_containers.close()
        await self.dagster.aclose()


def docker_endpoint(config: Config) -> DockerEndpoint:
    """The engine of the configured host, else DOCKER_HOST, else the current docker context (with its TLS)."""
    from edp_tui.docker.endpoint import DockerEndpoint

    return DockerEndpoint.resolve(config.docker_host)


def webserver_url(config: Config, compose: ComposeProject | None) -> str:
    """Flag/env/config file, else the port the compose file publishes for the webserver, else the default."""
    if config.webserver_url:
        return config.webserver_url.rstrip("/")
    return (compose.webserver_url() if compose else None) or DEFAULT_WEBSERVER_URL


def dagster_client(config: Config, url: str, *, timeout: float = 10.0) -> DagsterClient:
    graphql_url = url.rstrip("/") + "/graphql"
    return DagsterClient(
        graphql_url,
        timeout=timeout,
        read_only=config.read_only,
        ca_file=config.ca_file,
        stale_after_s=config.daemon_stale_after_s,
        # Beside the log file: what the dashboard saw of the daemons' errors tells the CLI's `status` too.
        error_history=DaemonErrorHistory(graphql_url, config.log_file.parent / DAEMON_ERRORS_FILE),
    )


def build_backends(
    config: Config, compose: ComposeProject, *, dagster: DagsterClient | None = None
) -> Backends:
    """Every backend of ``compose``; ``dagster``: a client made already (for the webserver of ``compose``)."""
    from edp_tui.docker.logs.source import DockerLogSource
    from edp_tui.docker.resource_stats import DockerResourceStats
    from edp_tui.docker.run_containers import DockerRunContainers
    from edp_tui.docker.services import DockerServices
    from edp_tui.reload_status.reader import ContainerReloadStatus

    endpoint = docker_endpoint(config)
    url = webserver_url(config, compose)
    return Backends(
        project=compose.name,
        webserver_url=url,
        services=DockerServices(compose.name, compose.service_names, endpoint),
        logs=DockerLogSource(compose.name, endpoint),
        dagster=dagster or dagster_client(config, url),
        reload_status=ContainerReloadStatus(compose.name, endpoint),
        run_containers=DockerRunContainers(compose.name, endpoint),
        code_dir=compose.code_dir,
        resource_stats=DockerResourceStats(endpoint),
    )
