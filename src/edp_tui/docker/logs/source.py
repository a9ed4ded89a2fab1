"""`DockerLogSource`: the logs pane's source for a compose project on a Docker engine."""

from __future__ import annotations

from collections.abc import Callable

import docker

from edp_tui.docker.endpoint import DockerEndpoint
from edp_tui.docker.logs.follower import LogFollower
from edp_tui.docker.logs.model import Backlog, LogEvent
from edp_tui.text import LogLine


class DockerLogSource:
    """`LogSource` for a compose project on a Docker engine (the endpoint and TLS settings it is given)."""

    def __init__(
        self,
        project: str,
        endpoint: DockerEndpoint | None = None,
        *,
        client_factory: Callable[[], docker.APIClient] | None = None,
        batch_interval: float = 0.05,
    ) -> None:
        self.project = project
        # None: the endpoint the docker CLI would use (the dashboard's composition root passes its own).
        self.endpoint = endpoint or DockerEndpoint.resolve()
        self._factory = client_factory or self._default_factory
        self.batch_interval = batch_interval

    def _default_factory(self) -> docker.APIClient:
        # No read timeout: a followed stream may stay silent for hours.
        return self.endpoint.api_client(timeout=None)

    def follow(
        self,
        service: str | None,
        backlog: Backlog,
        on_lines: Callable[[list[LogLine]], None],
        on_event: Callable[[LogEvent], None],
    ) -> LogFollower:
        return LogFollower(
            self._factory,
            self.project,
            service,
            backlog,
            on_lines,
            on_event,
            batch_interval=self.batch_interval,
        )
