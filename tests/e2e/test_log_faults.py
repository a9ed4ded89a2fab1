"""Log streams the engine cannot serve, against the real engine: a container started with the ``none``
logging driver. The follower backs off (it does not re-attach every 0.2 s for ever) and the pane keeps
saying why there is nothing to show."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import pytest

from edp_tui.docker.logs import DockerLogSource, LogEvent, backlog_by_key
from edp_tui.text import LogLine
from edp_tui.ui.widgets.logs_panel import LogsPanel
from tests.support.docker_engine import base_image
from tests.support.pilot import Host

WATCH_S = 8.0


@pytest.fixture
def mute_project() -> Iterator[str]:
    """A running container of service "mute" whose logs cannot be read (logging driver none)."""
    name = f"edpmute{uuid.uuid4().hex[:8]}"
    client = docker.from_env()
    container = client.containers.run(
        base_image(),
        ["sh", "-c", "while true; do echo unseen; sleep 0.1; done"],
        name=f"{name}-mute-1",
        labels={"com.docker.compose.project": name, "com.docker.compose.service": "mute"},
        log_config=docker.types.LogConfig(type="none"),
        detach=True,
        init=True,
    )
    try:
        yield name
    finally:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        client.close()


def test_an_unreadable_stream_is_retried_with_backoff_and_reported(mute_project: str) -> None:
    lines: list[LogLine] = []
    events: list[LogEvent] = []
    lock = threading.Lock()

    def on_lines(batch: list[LogLine]) -> None:
        with lock:
            lines.extend(batch)

    follower = DockerLogSource(mute_project).follow(
        "mute", backlog_by_key("tail200"), on_lines, events.append
    )
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not any(e.kind == "error" for e in events) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(WATCH_S)
    finally:
        follower.stop()
        thread.join(timeout=10)
    errors = [e for e in events if e.kind == "error"]
    assert errors, f"no error event; events: {events}"
    assert "does not support reading" in errors[0].message and "retrying in" in errors[0].message
    # Backoff (0.5 s doubling to 5 s): a handful of attempts in WATCH_S, not one every 0.2 s (40).
    after = [e for e in events if e.kind in ("error", "attached")]
    print(f"\n{len(errors)} error events, {len(after)} attach attempts reported in {WATCH_S:.0f}+ s")
    assert len(errors) <= 8, [e.message for e in errors]
    # A stream that never opened is never reported as attached (that would clear the pane's problem).
    assert not [e for e in events if e.kind == "attached"]
    # The reason is written into the log once per streak, not at every attempt.
    said = [ln for ln in lines if "does not support reading" in ln.text]
    assert 1 <= len(said) <= 2


async def test_the_pane_keeps_showing_why_the_log_is_empty(mute_project: str) -> None:
    panel = LogsPanel(DockerLogSource(mute_project), service="mute")
    app = Host(panel)
    async with app.run_test(size=(140, 30)) as pilot:
        deadline = time.monotonic() + 60
        while panel.problem is None and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert panel.problem is not None and "does not support reading" in panel.problem
        # Sampled for a while: the problem text never goes away while the stream stays unreadable.
        samples: list[Any] = []
        end = time.monotonic() + WATCH_S
        while time.monotonic() < end:
            samples.append(panel.problem)
            await pilot.pause(0.1)
        assert all(s is not None and "does not support reading" in s for s in samples), set(samples)
        assert "does not support reading" in str(app.query_one("#logs-title").render())
