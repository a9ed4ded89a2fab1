"""In-memory stand-ins for the dashboard's backends that TUI tests drive directly (no engine, no threads of
their own): `FakeServices` (DockerServices), `SilentLogSource`, `FakeReloadStatus`, `FakeRunContainers`, and
`fake_backends` that hands them to the App as the composition root hands the real ones. Typed against the
protocols the App takes (`fake_backends` passes each one where its protocol is expected): mypy checks them
(tests/unit/test_architecture.py)."""

from __future__ import annotations

import importlib
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from edp_tui.backends import Backends
from edp_tui.dagster.api import DagsterApi
from edp_tui.docker.errors import DockerError
from edp_tui.docker.logs.model import Backlog, Follower, LogEvent, LogSource
from edp_tui.docker.models import EngineStatus, Health, HealthProbe, PortBinding, RunState, ServiceState
from edp_tui.docker.run_containers import RunContainer, RunContainerSource
from edp_tui.docker.services import ServiceSource, StatusSink
from edp_tui.reload_status.models import ReloadStatus
from edp_tui.reload_status.reader import ReloadStatusSource
from edp_tui.text import LogLine

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from edp_tui.ui.app import EdpApp

NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)
ENDPOINT = "unix:///fake/docker.sock"


def fixed_now() -> datetime:
    return NOW


def probe(exit_code: int, output: str, seconds_ago: int = 1) -> HealthProbe:
    end = NOW - timedelta(seconds=seconds_ago)
    return HealthProbe(start=end - timedelta(milliseconds=200), end=end, exit_code=exit_code, output=output)


def running(
    service: str, *, health: Health = Health.HEALTHY, up: timedelta = timedelta(minutes=5), **kw: object
) -> ServiceState:
    fields: dict[str, object] = {
        "service": service,
        "state": RunState.RUNNING,
        "health": health,
        "started_at": NOW - up,
        "image": f"edp/{service}:dev",
        "container_id": f"{service}-0123456789abcdef",
        "container_name": f"edp-{service}-1",
        "replicas": 1,
        "probes": (probe(0, "ok\n"),) if health is not Health.NONE else (),
    }
    fields.update(kw)
    return ServiceState(**fields)  # type: ignore[arg-type]


def stack_states() -> list[ServiceState]:
    """A stack as the screen would see it: healthy, unhealthy with a streak, exited, and one never created."""
    return [
        running("postgres", ports=(PortBinding("5432/tcp", "127.0.0.1", "5432"),)),
        running(
            "user-code",
            health=Health.UNHEALTHY,
            failing_streak=3,
            restart_count=2,
            probes=(
                probe(0, "gRPC connection successful", 40),
                probe(1, "connection refused", 20),
                probe(1, "connection refused", 1),
            ),
        ),
        replace(
            running("dagster-webserver"), state=RunState.EXITED, exit_code=137, health=Health.NONE, probes=()
        ),
    ]


SERVICES = ("postgres", "user-code", "dagster-webserver", "dagster-daemon")


class FakeServices:
    engine_url = ENDPOINT

    def __init__(
        self, services: Sequence[str] = SERVICES, states: Iterable[ServiceState] | None = None
    ) -> None:
        self.services = tuple(services)
        self.states: dict[str, ServiceState] = {s: ServiceState.missing(s) for s in self.services}
        for state in states if states is not None else stack_states():
            self.states[state.service] = state
        self.calls: list[tuple[str, str]] = []
        self.failures: dict[str, DockerError] = {}
        self.connected_at_start = True
        self._inbox: queue.Queue[Callable[[StatusSink], None]] = queue.Queue()
        self.watching = threading.Event()
        self.closed = False
        # Set to an unset Event: actions wait for it after being recorded (an action in flight).
        self.gate: threading.Event | None = None

    # --- driving the screen from a test ---
    def push_states(self, *states: ServiceState) -> None:
        for state in states:
            self.states[state.service] = state
        self._inbox.put(lambda sink: sink.on_states(states))

    def push_status(self, status: EngineStatus) -> None:
        self._inbox.put(lambda sink: sink.on_status(status))

    def go_down(self, message: str = "connection refused") -> None:
        self.push_status(EngineStatus(ENDPOINT, False, message, retry_in=2.0, attempt=1))

    def come_back(self) -> None:
        self.push_status(EngineStatus(ENDPOINT, True, version="20.10.24"))
        self.push_states(*self.states.values())

    # --- ServiceSource ---
    def run_watch(self, sink: StatusSink, stop: threading.Event) -> None:
        if self.connected_at_start:
            sink.on_status(EngineStatus(ENDPOINT, True, version="20.10.24"))
            sink.on_states(list(self.states.values()))
        else:
            sink.on_status(EngineStatus(ENDPOINT, False, "connection refused", retry_in=0.5, attempt=1))
        self.watching.set()
        while not stop.is_set():
            try:
                self._inbox.get(timeout=0.02)(sink)
            except queue.Empty:
                continue

    def snapshot(self) -> list[ServiceState]:
        return list(self.states.values())

    def refresh(self) -> list[ServiceState] | None:
        # As DockerServices with a watch running: the snapshot goes through the sink.
        self.push_states(*self.snapshot())
        return None

    def _act(self, action: str, service: str, result: ServiceState) -> ServiceState:
        self.calls.append((action, service))
        if self.gate is not None:
            self.gate.wait(timeout=30)
        if action in self.failures:
            raise self.failures[action]
        # As DockerServices: the result reaches the watch's sink, in order with the pushed states.
        self.push_states(result)
        return result

    def restart(self, service: str) -> ServiceState:
        state = self.states[service]
        return self._act(
            "restart", service, replace(state, state=RunState.RUNNING, started_at=NOW, exit_code=None)
        )

    def stop(self, service: str) -> ServiceState:
        state = self.states[service]
        return self._act(
            "stop", service, replace(state, state=RunState.EXITED, exit_code=0, health=Health.NONE)
        )

    def start(self, service: str) -> ServiceState:
        state = self.states[service]
        return self._act(
            "start", service, replace(state, state=RunState.RUNNING, started_at=NOW, exit_code=None)
        )

    def close(self) -> None:
        self.closed = True


class SilentLogSource:
    """A log source whose followers never deliver anything (for apps whose logs panel is not under test)."""

    def follow(
        self,
        service: str | None,
        backlog: Backlog,
        on_lines: Callable[[list[LogLine]], None],
        on_event: Callable[[LogEvent], None],
    ) -> Follower:
        return _SilentFollower()


class _SilentFollower:
    def __init__(self) -> None:
        self._stop = threading.Event()

    def run(self) -> None:
        self._stop.wait()

    def stop(self) -> None:
        self._stop.set()


class FakeReloadStatus:
    """The code server's reload statuses as a test sets them: by location (empty: the supervisor wrote
    none); a single status stands for its own location."""

    def __init__(self, statuses: ReloadStatus | dict[str, ReloadStatus] | None = None) -> None:
        self.statuses = statuses
        self.reads = 0

    @property
    def statuses(self) -> dict[str, ReloadStatus]:
        return dict(self._statuses)

    @statuses.setter
    def statuses(self, statuses: ReloadStatus | dict[str, ReloadStatus] | None) -> None:
        if isinstance(statuses, ReloadStatus):
            statuses = {statuses.location: statuses}
        self._statuses = dict(statuses or {})

    def read(self) -> dict[str, ReloadStatus]:
        self.reads += 1
        return self.statuses

    def close(self) -> None:
        pass


class FakeRunContainers:
    """Run containers as a test sets them; ``logs`` answers the container's id back as its log."""

    def __init__(self, containers: list[RunContainer] | None = None) -> None:
        self.containers = containers or []

    def run_containers(self) -> list[RunContainer]:
        return list(self.containers)

    def logs(self, container_id: str, tail: int = 200) -> bytes:
        return f"log of {container_id}\n[bold]not markup[/bold]\n".encode()

    def close(self) -> None:
        pass


def fake_dagster() -> DagsterApi:
    """A `FakeDagster` (tests/tui puts its own folder on sys.path; tests elsewhere import it as a package)."""
    try:
        module = importlib.import_module("dagster_fake")
    except ImportError:
        module = importlib.import_module("tests.tui.dagster_fake")
    return module.as_api(module.FakeDagster())  # type: ignore[no-any-return]


def fake_backends(
    source: ServiceSource | None = None,
    dagster: DagsterApi | None = None,
    *,
    logs: LogSource | None = None,
    reload_status: ReloadStatusSource | None = None,
    run_containers: RunContainerSource | None = None,
    project: str = "edp",
    webserver_url: str = "http://127.0.0.1:3000",
) -> Backends:
    """The App's backends from in-memory fakes, handed in exactly as the composition root hands real ones."""
    return Backends(
        project=project,
        webserver_url=webserver_url,
        services=source or FakeServices(),
        logs=logs or SilentLogSource(),
        dagster=dagster or fake_dagster(),
        reload_status=reload_status or FakeReloadStatus(),
        run_containers=run_containers or FakeRunContainers(),
    )


def dashboard_on(dagster: DagsterApi) -> EdpApp:
    """The whole dashboard on fake services and the given Dagster, at a fixed now."""
    from pathlib import Path

    from edp_tui.config import Config
    from edp_tui.ui.app import EdpApp

    return EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml")),
        fake_backends(FakeServices(), dagster),
        now=fixed_now,
    )


async def highlight_asset(pilot: Pilot[Any], app: EdpApp, key: tuple[str, ...]) -> None:
    """The Assets tab shown, its table focused and the row of `key` highlighted (moving down to it)."""
    from edp_tui.ui.widgets.dagster.assets import AssetsPanel
    from tests.support.pilot import until

    await pilot.press("5")
    panel = app.query_one(AssetsPanel)
    await until(pilot, lambda: panel.populated)
    panel.table.focus()
    for _ in range(panel.table.row_count):
        if panel.selected is not None and panel.selected.key == key:
            break
        await pilot.press("down")
    assert panel.selected is not None and panel.selected.key == key


# The old name, for scripts/screenshot.py until it says FakeServices.
FakeDockerSource = FakeServices
