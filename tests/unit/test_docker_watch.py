"""The services watcher against a scripted in-memory engine (a stand-in for docker.APIClient): states never
go backwards when a resync lands after a newer event, engine API errors stay DockerErrors, and a finished
healthcheck probe (exec_die) refreshes that one service without waiting for the resync."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import docker.errors
import pytest

from edp_tui.docker.errors import DockerError
from edp_tui.docker.models import EngineStatus, RunState, ServiceState
from edp_tui.docker.services import DockerServices
from tests.support.docker_fakes import EndpointOver, ScriptedAPI, container_event, container_payload
from tests.support.waiting import wait_for


def inspect_payload(status: str, streak: int = 0, probes: int = 0) -> dict[str, Any]:
    log = [
        {"Start": f"2026-01-01T00:00:{i:02d}Z", "End": f"2026-01-01T00:00:{i:02d}.5Z", "ExitCode": 1}
        for i in range(probes)
    ]
    return container_payload(status, health={"Status": "starting", "FailingStreak": streak, "Log": log})


class FakeAPI(ScriptedAPI):
    def __init__(self) -> None:
        super().__init__(inspect_payload("running"))


class Sink:
    def __init__(self) -> None:
        self.states: list[ServiceState] = []
        self.lock = threading.Lock()

    def on_status(self, status: EngineStatus) -> None:
        pass

    def on_states(self, states: Sequence[ServiceState]) -> None:
        with self.lock:
            self.states.extend(states)


def watching(source: DockerServices, sink: Sink) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=source.run_watch, args=(sink, stop), daemon=True)
    thread.start()
    return stop, thread


def test_a_resync_that_lands_after_a_newer_event_is_dropped() -> None:
    api = FakeAPI()
    slow_read = threading.Event()  # the resync has read "running" and is slow to deliver it
    newer_delivered = threading.Event()

    def on_inspect(n: int, seen: dict[str, Any]) -> None:
        if n == 2:  # the first resync's read (1 was the initial snapshot)
            slow_read.set()
            newer_delivered.wait(timeout=10)

    def script() -> Iterator[dict[str, Any]]:
        slow_read.wait(timeout=10)
        api.current = inspect_payload("exited")
        yield container_event("die")  # the watcher reads "exited" and delivers it before the resync delivers
        newer_delivered.set()
        api.stopped.wait(timeout=30)
        return

    api.on_inspect = on_inspect
    api.events_script = script
    source = DockerServices("edp", ["web"], EndpointOver(api), resync_interval=0.05)  # type: ignore[arg-type]
    sink = Sink()
    stop, thread = watching(source, sink)
    try:
        # Later resyncs ran too: the slow one was delivered or dropped.
        wait_for("later resyncs", lambda: api.inspects >= 6, 10, 0.01)
    finally:
        api.stopped.set()
        stop.set()
        thread.join(timeout=5)
    states = [s.state for s in sink.states]
    first_exit = states.index(RunState.EXITED)
    assert RunState.RUNNING not in states[first_exit:], states


def test_engine_api_errors_are_docker_errors() -> None:
    api = FakeAPI()
    api.fail_containers = docker.errors.APIError("500 Server Error", explanation="engine is shutting down")
    source = DockerServices("edp", ["web"], EndpointOver(api))  # type: ignore[arg-type]
    with pytest.raises(DockerError, match="engine is shutting down"):
        source.snapshot()
    with pytest.raises(DockerError):
        source.service_state("web")


def test_a_finished_probe_refreshes_the_streak_without_the_resync() -> None:
    api = FakeAPI()
    probed = threading.Event()

    def script() -> Iterator[dict[str, Any]]:
        probed.wait(timeout=10)
        api.current = inspect_payload("running", streak=1, probes=1)
        yield container_event("exec_die")  # no health_status event: the status ("starting") did not change
        api.stopped.wait(timeout=30)
        return

    api.events_script = script
    # A resync far away: only the probe's event can bring the new streak.
    source = DockerServices("edp", ["web"], EndpointOver(api), resync_interval=3600)  # type: ignore[arg-type]
    sink = Sink()
    stop, thread = watching(source, sink)
    try:
        wait_for("the first states", lambda: len(sink.states) >= 1, 10, 0.01)
        probed.set()
        wait_for("the new streak", lambda: any(s.failing_streak == 1 for s in sink.states), 5, 0.01)
    finally:
        api.stopped.set()
        stop.set()
        thread.join(timeout=5)
    assert "exec_die" in api.event_filters["event"]
    assert sink.states[-1].last_probe is not None
