"""Typed, immutable views of what the Docker engine says about the compose project's containers.

Built from raw Engine API payloads (``GET /containers/{id}/json`` and ``/events``) so that they can be tested
against payloads captured from a real engine. No I/O and no Textual here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"


class RunState(StrEnum):
    RUNNING = "running"
    EXITED = "exited"
    RESTARTING = "restarting"
    CREATED = "created"
    PAUSED = "paused"
    REMOVING = "removing"
    DEAD = "dead"
    MISSING = "missing"  # expected by the compose file, no container exists
    UNKNOWN = "unknown"


class Health(StrEnum):
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    NONE = "none"  # no healthcheck, or container not running it


_ZERO_TIME = "0001-01-01T00:00:00Z"
_FRACTION = re.compile(r"\.(\d+)")


def parse_time(raw: object) -> datetime | None:
    """Docker's RFC 3339 times carry nanoseconds and "0001-01-01..." for "never"."""
    if not isinstance(raw, str) or not raw or raw.startswith("0001-01-01"):
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), raw, count=1)
    text = text.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class HealthProbe:
    start: datetime | None
    end: datetime | None
    exit_code: int
    output: str

    @property
    def passed(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class PortBinding:
    container_port: str  # e.g. "3000/tcp"
    host_ip: str | None
    host_port: str | None

    def __str__(self) -> str:
        if not self.host_port:
            return self.container_port
        ip = self.host_ip if self.host_ip and self.host_ip not in ("0.0.0.0", "::") else ""
        return f"{ip + ':' if ip else ''}{self.host_port}->{self.container_port}"


@dataclass(frozen=True)
class ServiceState:
    """One row of the services panel: the compose service and its (chosen) container."""

    service: str
    state: RunState = RunState.MISSING
    health: Health = Health.NONE
    exit_code: int | None = None
    failing_streak: int = 0
    probes: tuple[HealthProbe, ...] = ()
    restart_count: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    image: str | None = None
    ports: tuple[PortBinding, ...] = ()
    container_id: str | None = None
    container_name: str | None = None
    oom_killed: bool = False
    error: str | None = None  # the engine's State.Error, e.g. why a start failed
    replicas: int = 0  # containers of this service that exist (scale > 1, leftovers)

    @classmethod
    def missing(cls, service: str) -> ServiceState:
        return cls(service=service)

    @property
    def last_probe(self) -> HealthProbe | None:
        return self.probes[-1] if self.probes else None

    @property
    def is_running(self) -> bool:
        return self.state in (RunState.RUNNING, RunState.RESTARTING, RunState.PAUSED)

    def uptime(self, now: datetime) -> timedelta | None:
        if self.state is not RunState.RUNNING or self.started_at is None:
            return None
        return max(now - self.started_at, timedelta(0))

    @property
    def state_label(self) -> str:
        if self.state is RunState.EXITED and self.exit_code is not None:
            return f"exited({self.exit_code})"
        return self.state.value


def _ports(inspect: Mapping[str, Any]) -> tuple[PortBinding, ...]:
    # Live bindings are under NetworkSettings while running; otherwise show what HostConfig asks for.
    live = (inspect.get("NetworkSettings") or {}).get("Ports") or {}
    wanted = (inspect.get("HostConfig") or {}).get("PortBindings") or {}
    source = live if any(live.values()) else wanted
    result: list[PortBinding] = []
    for container_port, bindings in sorted(source.items()):
        if not bindings:
            continue
        seen: set[tuple[str | None, str | None]] = set()
        for binding in bindings:
            key = (binding.get("HostIp") or None, binding.get("HostPort") or None)
            # Engines list IPv4 and IPv6 wildcards separately for one published port: show it once.
            if key[0] in ("0.0.0.0", "::"):
                key = (None, key[1])
            if key in seen:
                continue
            seen.add(key)
            result.append(PortBinding(container_port, key[0], key[1]))
    return tuple(result)


def state_from_inspect(
    inspect: Mapping[str, Any], service: str | None = None, replicas: int = 1
) -> ServiceState:
    """Model of one container from its ``docker inspect`` payload."""
    labels = (inspect.get("Config") or {}).get("Labels") or {}
    state = inspect.get("State") or {}
    status = str(state.get("Status") or "").lower()
    try:
        run_state = RunState(status)
    except ValueError:
        run_state = RunState.UNKNOWN
    health_raw = state.get("Health") or {}
    health_status = str(health_raw.get("Status") or "none").lower()
    try:
        health = Health(health_status)
    except ValueError:
        health = Health.NONE
    if run_state not in (RunState.RUNNING, RunState.RESTARTING, RunState.PAUSED):
        # The engine leaves the last verdict (often "unhealthy") on a stopped container; no probe runs there.
        health = Health.NONE
    probes = tuple(
        HealthProbe(
            start=parse_time(p.get("Start")),
            end=parse_time(p.get("End")),
            exit_code=int(p.get("ExitCode", -1)),
            output=str(p.get("Output") or ""),
        )
        for p in (health_raw.get("Log") or [])
    )
    exit_code = state.get("ExitCode")
    return ServiceState(
        service=service or str(labels.get(SERVICE_LABEL) or inspect.get("Name", "").lstrip("/")),
        state=run_state,
        health=health,
        exit_code=int(exit_code)
        if run_state in (RunState.EXITED, RunState.DEAD) and exit_code is not None
        else None,
        failing_streak=int(health_raw.get("FailingStreak") or 0),
        probes=probes,
        restart_count=int(inspect.get("RestartCount") or 0),
        started_at=parse_time(state.get("StartedAt")),
        finished_at=parse_time(state.get("FinishedAt")),
        image=(inspect.get("Config") or {}).get("Image") or inspect.get("Image"),
        ports=_ports(inspect),
        container_id=inspect.get("Id"),
        container_name=str(inspect.get("Name") or "").lstrip("/") or None,
        oom_killed=bool(state.get("OOMKilled")),
        error=state.get("Error") or None,
        replicas=replicas,
    )


_STATE_RANK = {
    RunState.RUNNING: 0,
    RunState.RESTARTING: 1,
    RunState.PAUSED: 2,
    RunState.CREATED: 3,
    RunState.EXITED: 4,
    RunState.DEAD: 5,
    RunState.REMOVING: 6,
    RunState.UNKNOWN: 7,
    RunState.MISSING: 8,
}


def pick_container(summaries: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Of several containers of one service (from ``GET /containers/json``), the one a person cares about:
    the liveliest state first, then the newest."""
    candidates = [s for s in summaries if (s.get("Labels") or {}).get(ONEOFF_LABEL, "False") != "True"]

    def key(summary: Mapping[str, Any]) -> tuple[int, int]:
        try:
            rank = _STATE_RANK[RunState(str(summary.get("State") or "").lower())]
        except (ValueError, KeyError):
            rank = _STATE_RANK[RunState.UNKNOWN]
        return (rank, -int(summary.get("Created") or 0))

    return min(candidates, key=key) if candidates else None


@dataclass(frozen=True)
class EngineEvent:
    """A container event from ``GET /events``, reduced to what the dashboard reacts to."""

    action: str  # "start", "die", "health_status", ...
    container_id: str
    project: str | None
    service: str | None
    time: datetime | None
    detail: str | None = None  # e.g. "healthy" for "health_status: healthy", exit code for "die"
    attributes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> EngineEvent | None:
        if payload.get("Type", "container") != "container":
            return None
        actor = payload.get("Actor") or {}
        attributes = {str(k): str(v) for k, v in (actor.get("Attributes") or {}).items()}
        raw_action = str(payload.get("Action") or payload.get("status") or "")
        action, _, detail = raw_action.partition(":")
        container_id = str(actor.get("ID") or payload.get("id") or "")
        if not action or not container_id:
            return None
        if action == "die" and "exitCode" in attributes:
            detail = attributes["exitCode"]
        nanos = payload.get("timeNano")
        when = (
            datetime.fromtimestamp(int(nanos) / 1e9, UTC)
            if nanos
            else (datetime.fromtimestamp(int(payload["time"]), UTC) if payload.get("time") else None)
        )
        return cls(
            action=action.strip(),
            container_id=container_id,
            project=attributes.get(PROJECT_LABEL),
            service=attributes.get(SERVICE_LABEL),
            time=when,
            detail=detail.strip() or None,
            attributes=attributes,
        )


# The events that can change a row of the services panel.
WATCHED_ACTIONS = (
    "create",
    "start",
    "restart",
    "die",
    "stop",
    "kill",
    "oom",
    "pause",
    "unpause",
    "destroy",
    "health_status",
    "rename",
    "update",
)


@dataclass(frozen=True)
class EngineStatus:
    """Whether the engine answers, for the header and the services panel."""

    endpoint: str
    connected: bool
    message: str = ""
    version: str | None = None
    retry_in: float | None = None  # seconds until the next attempt while unreachable
    attempt: int = 0

    @property
    def summary(self) -> str:
        if self.connected:
            return f"engine {self.version}" if self.version else "connected"
        retry = f"; retrying in {self.retry_in:g} s" if self.retry_in is not None else ""
        return f"unreachable: {self.message}{retry}" if self.message else f"unreachable{retry}"
