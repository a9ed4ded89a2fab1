"""Healthcheck probes against the real engine: the streak and the last probe follow each probe, not the 30 s
resync, although the engine sends a health_status event only when the status changes."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence

import docker
import docker.errors

from edp_tui.docker.endpoint import DockerEndpoint
from edp_tui.docker.models import EngineStatus, ServiceState
from edp_tui.docker.services import DockerServices
from tests.support.docker_engine import base_image


class Sink:
    def __init__(self) -> None:
        self.states: list[tuple[float, ServiceState]] = []

    def on_status(self, status: EngineStatus) -> None:
        pass

    def on_states(self, states: Sequence[ServiceState]) -> None:
        self.states.extend((time.monotonic(), s) for s in states)


def test_streak_and_last_probe_follow_each_probe() -> None:
    project = f"edpprobe{uuid.uuid4().hex[:8]}"
    client = docker.from_env()
    # Always failing, with many retries: the status stays "starting" (no health_status event) while the
    # streak grows at every probe.
    healthcheck = {
        "test": ["CMD-SHELL", "echo probe-$(date +%s%N); exit 1"],
        "interval": 1_000_000_000,
        "timeout": 30_000_000_000,
        "retries": 1000,
    }
    container = client.containers.run(
        base_image(),
        ["sleep", "infinity"],
        name=f"{project}-flappy-1",
        labels={"com.docker.compose.project": project, "com.docker.compose.service": "flappy"},
        healthcheck=healthcheck,
        detach=True,
        init=True,
    )
    # The resync is an hour away: only the probes' own events can move the streak.
    source = DockerServices(project, ["flappy"], DockerEndpoint.resolve(), resync_interval=3600)
    sink = Sink()
    stop = threading.Event()
    watcher = threading.Thread(target=source.run_watch, args=(sink, stop), daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            streaks = sorted({s.failing_streak for _, s in sink.states})
            if len([x for x in streaks if x > 0]) >= 3:
                break
            time.sleep(0.1)
        streaks = [s.failing_streak for _, s in sink.states]
        assert len({x for x in streaks if x > 0}) >= 3, f"streaks seen: {streaks}"
        assert streaks == sorted(streaks)  # never backwards
        last = sink.states[-1][1]
        assert last.last_probe is not None and last.last_probe.output.startswith("probe-")
        assert last.health.value == "starting"
    finally:
        stop.set()
        watcher.join(timeout=10)
        source.close()
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        client.close()
