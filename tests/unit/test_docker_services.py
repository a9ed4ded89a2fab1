"""The Docker source without an engine: endpoint resolution (DOCKER_HOST, docker contexts) and what an
unreachable engine looks like to callers (one error type, a readable cause, retries with backoff)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from edp_tui.docker.endpoint import DockerEndpoint, resolve_endpoint
from edp_tui.docker.errors import EngineUnreachable
from edp_tui.docker.models import EngineStatus, ServiceState
from edp_tui.docker.services import DockerServices


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A docker CLI config dir with a context named "remote", selected as current."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    for name, host in (("remote", "tcp://10.1.2.3:2375"), ("other", "unix:///run/other.sock")):
        meta = tmp_path / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
        meta.mkdir(parents=True)
        (meta / "meta.json").write_text(
            json.dumps(
                {
                    "Name": name,
                    "Metadata": {},
                    "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}},
                }
            )
        )
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    return tmp_path


def test_explicit_host_wins(docker_config: Path) -> None:
    assert (
        resolve_endpoint("unix:///flag.sock", env={"DOCKER_HOST": "unix:///env.sock"})[0]
        == "unix:///flag.sock"
    )
    assert resolve_endpoint(None, env={"DOCKER_HOST": "unix:///env.sock"})[0] == "unix:///env.sock"


def test_current_context_and_docker_context_override(docker_config: Path) -> None:
    assert resolve_endpoint(None, env={})[0] == "tcp://10.1.2.3:2375"
    assert resolve_endpoint(None, env={"DOCKER_CONTEXT": "other"})[0] == "unix:///run/other.sock"
    with pytest.raises(EngineUnreachable, match="docker context 'ghost' does not exist"):
        resolve_endpoint(None, env={"DOCKER_CONTEXT": "ghost"})


def test_default_context_is_the_local_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no config.json: the "default" context
    assert resolve_endpoint(None, env={})[0] == "unix:///var/run/docker.sock"


def test_missing_socket_is_engine_unreachable_with_a_plain_cause(tmp_path: Path) -> None:
    source = DockerServices("edp", ["db"], DockerEndpoint.resolve(f"unix://{tmp_path}/none.sock"))
    with pytest.raises(EngineUnreachable) as info:
        source.snapshot()
    assert str(info.value) == f"unix://{tmp_path}/none.sock: no socket at this path (is the engine running?)"


def test_refused_socket(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()  # the file stays, nobody listens: connection refused
    with pytest.raises(EngineUnreachable, match="connection refused"):
        DockerServices("edp", ["db"], DockerEndpoint.resolve(f"unix://{path}")).restart("db")


class RecordingSink:
    def __init__(self) -> None:
        self.statuses: list[EngineStatus] = []
        self.states: list[ServiceState] = []

    def on_status(self, status: EngineStatus) -> None:
        self.statuses.append(status)

    def on_states(self, states: Sequence[ServiceState]) -> None:
        self.states.extend(states)


def test_watch_retries_with_backoff_and_stops_promptly(tmp_path: Path) -> None:
    source = DockerServices(
        "edp", ["db"], DockerEndpoint.resolve(f"unix://{tmp_path}/none.sock"), backoff=(0.05, 0.2)
    )
    sink = RecordingSink()
    stop = threading.Event()
    watcher = threading.Thread(target=source.run_watch, args=(sink, stop), daemon=True)
    watcher.start()
    deadline = time.monotonic() + 10
    while len(sink.statuses) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    t0 = time.monotonic()
    stop.set()
    watcher.join(timeout=5)
    assert not watcher.is_alive() and time.monotonic() - t0 < 1.0
    assert len(sink.statuses) >= 5 and not any(s.connected for s in sink.statuses)
    assert [s.attempt for s in sink.statuses[:5]] == [1, 2, 3, 4, 5]
    assert [s.retry_in for s in sink.statuses[:5]] == [0.05, 0.1, 0.2, 0.2, 0.2]  # doubling, capped
    assert sink.statuses[0].message == "no socket at this path (is the engine running?)"
    assert sink.states == []
