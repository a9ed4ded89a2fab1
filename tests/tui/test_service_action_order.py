"""A service action's own result goes through the same ordering as the engine's events: the real
DockerServices on a scripted engine, in the real app. The container dies right after the restart, and the
action's read of the state ("running", taken before the die) reaches the app after the die event's read
("exited"): the screen must keep what the engine said last, not what arrived last."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dagster_fake import FakeDagster
from shell_fakes import fake_backends, fixed_now

from edp_tui.config import Config
from edp_tui.docker.models import RunState
from edp_tui.docker.services import DockerServices
from edp_tui.ui.app import EdpApp
from tests.support.docker_fakes import EndpointOver, ScriptedAPI, container_event, container_payload
from tests.support.pilot import until


class ScriptedEngine(ScriptedAPI):
    """The first inspect after a restart (the action's own read) sees "running", then the container dies (a
    die event is queued) and that read is held until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__(container_payload("running"))
        self.restarted = False
        self.held = threading.Event()  # the action's read is being held
        self.release = threading.Event()
        self.events_queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self.hold_next_read = False  # set by a test: hold the next inspect the same way (a refresh's read)
        self.on_inspect = self._hold_the_read
        self.events_script = self._queued_events

    def _hold_the_read(self, n: int, seen: dict[str, Any]) -> None:
        if (self.restarted or self.hold_next_read) and not self.held.is_set():
            self.held.set()
            self.current = container_payload("exited", 1)
            self.events_queue.put(container_event("die"))
            self.release.wait(timeout=30)

    def _queued_events(self) -> Iterator[dict[str, Any]]:
        while not self.stopped.is_set():
            try:
                yield self.events_queue.get(timeout=0.05)
            except queue.Empty:
                continue

    def restart(self, cid: str, timeout: int = 10) -> None:
        self.current = container_payload("running")
        self.restarted = True

    def close(self) -> None:
        self.stopped.set()


def dashboard_on(engine: ScriptedEngine) -> tuple[EdpApp, Callable[[], RunState | None]]:
    """The real app on the real DockerServices over ``engine``, and what its services panel shows for web."""
    source = DockerServices("edp", ["web"], EndpointOver(engine), resync_interval=3600)  # type: ignore[arg-type]
    app = EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml")),
        fake_backends(source, FakeDagster(silent=True)),
        now=fixed_now,
    )

    def shown() -> RunState | None:
        state = app.services_panel.state_of("web")
        return state.state if state is not None else None

    return app, shown


async def test_a_restart_result_read_before_a_newer_event_does_not_overwrite_it() -> None:
    engine = ScriptedEngine()
    app, shown = dashboard_on(engine)

    try:
        async with app.run_test(size=(130, 32)) as pilot:
            await until(pilot, lambda: shown() is RunState.RUNNING)
            await pilot.press("R", "y")  # restart asks first
            await until(pilot, engine.held.is_set)
            # The die event's read lands first: the screen says exited.
            await until(pilot, lambda: shown() is RunState.EXITED)
            engine.release.set()
            # The action finishes with its older read of "running"; the screen keeps "exited".
            await until(pilot, lambda: any("web restarted" in n.message for n in app._notifications))
            # Whatever the action posted to the app was posted before that notice: a callback queued now
            # runs after it (the app's queue is first in, first out).
            drained = threading.Event()
            app.call_later(drained.set)
            await until(pilot, drained.is_set)
            assert shown() is RunState.EXITED
    finally:
        engine.release.set()
        engine.close()


async def test_a_manual_refresh_read_before_a_newer_event_does_not_overwrite_it() -> None:
    """ctrl+l reads every service now; that read, older than a die event, must not overwrite it either."""
    engine = ScriptedEngine()
    app, shown = dashboard_on(engine)

    try:
        async with app.run_test(size=(130, 32)) as pilot:
            await until(pilot, lambda: shown() is RunState.RUNNING)
            engine.hold_next_read = True
            await pilot.press("ctrl+l")
            await until(pilot, engine.held.is_set)
            await until(pilot, lambda: shown() is RunState.EXITED)
            engine.release.set()
            # The refresh finishes with its older read of "running": wait until the worker is done.
            await until(pilot, lambda: not [w for w in app.workers if w.name == "_refresh_worker"])
            drained = threading.Event()
            app.call_later(drained.set)
            await until(pilot, drained.is_set)
            assert shown() is RunState.EXITED
    finally:
        engine.release.set()
        engine.close()
