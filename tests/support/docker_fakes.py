"""A scripted Docker engine for tests of the real DockerServices: the docker.APIClient calls the source makes
(version, containers, inspect_container, events, close), answered from what the test sets, with hooks that
let a test interleave the source's threads (a read held back, an event sent at a chosen moment)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

CID = "c" * 64
LABELS = {"com.docker.compose.project": "edp", "com.docker.compose.service": "web"}


def container_payload(
    status: str, exit_code: int = 0, health: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`docker inspect` of the one container, service "web" of project "edp"."""
    state: dict[str, Any] = {"Status": status, "Running": status == "running", "ExitCode": exit_code}
    if health is not None:
        state["Health"] = health
    return {"Id": CID, "Name": "/edp-web-1", "Config": {"Labels": LABELS, "Image": "img"}, "State": state}


def container_event(action: str) -> dict[str, Any]:
    """An engine event about the container (die, start, exec_die...), stamped now."""
    return {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": CID, "Attributes": dict(LABELS)},
        "timeNano": time.time_ns(),
    }


class ScriptedAPI:
    """``inspect_container`` answers from ``current`` as it is when the call is made (whenever the answer is
    delivered); ``on_inspect`` runs inside each inspect; ``events_script`` gives the event stream."""

    def __init__(self, current: dict[str, Any]) -> None:
        self.current = current
        self.inspects = 0
        self.on_inspect: Callable[[int, dict[str, Any]], None] | None = None
        self.events_script: Callable[[], Iterator[dict[str, Any]]] = lambda: iter(())
        self.event_filters: dict[str, Any] = {}
        self.fail_containers: Exception | None = None
        self.stopped = threading.Event()

    def version(self) -> dict[str, str]:
        return {"Version": "fake"}

    def containers(self, all: bool = False, filters: Any = None) -> list[dict[str, Any]]:
        if self.fail_containers is not None:
            raise self.fail_containers
        return [{"Id": CID, "State": self.current["State"]["Status"], "Labels": LABELS, "Created": 1}]

    def inspect_container(self, cid: str) -> dict[str, Any]:
        self.inspects += 1
        seen = self.current
        if self.on_inspect is not None:
            self.on_inspect(self.inspects, seen)
        return seen

    def events(self, decode: bool = True, filters: Any = None) -> Iterator[dict[str, Any]]:
        self.event_filters = filters or {}
        return self.events_script()

    def close(self) -> None:
        pass  # the source closes its client when it stops or reconnects; the test ends its scripts itself


class EndpointOver:
    """A DockerEndpoint whose API client is the scripted one."""

    base_url = "unix:///scripted.sock"

    def __init__(self, api: ScriptedAPI) -> None:
        self.api = api

    def api_client(self, timeout: float = 10.0) -> ScriptedAPI:
        return self.api
