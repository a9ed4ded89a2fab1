"""The Docker side of the dashboard against a real engine: a small compose project built on the local base
image, its health flipping, a restart from the dashboard, and the engine cut and restored through a socket
proxy this test controls (the real daemon is never touched: others use it)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
from textual.widgets import Static, TabPane

from edp_tui.backends import Backends, dagster_client
from edp_tui.compose import resolve_project
from edp_tui.config import Config
from edp_tui.docker.endpoint import DockerEndpoint, resolve_endpoint
from edp_tui.docker.errors import ContainerNotFound
from edp_tui.docker.logs import DockerLogSource
from edp_tui.docker.models import Health, RunState
from edp_tui.docker.run_containers import DockerRunContainers
from edp_tui.docker.services import DockerServices
from edp_tui.reload_status.reader import ContainerReloadStatus
from edp_tui.ui.app import EdpApp
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.screens.help import HelpScreen
from edp_tui.ui.widgets.header import Level
from tests.support.docker_engine import base_image
from tests.support.pilot import screen_text, until

SIZE = (160, 40)
COMPOSE = """
services:
  flappy:
    image: {image}
    init: true
    command: ["sh", "-c", "touch /tmp/healthy; exec sleep infinity"]
    healthcheck:
      test:
        - CMD-SHELL
        - "test -f /tmp/healthy && echo probe-ok || (echo 'probe-failed: /tmp/healthy gone'; exit 1)"
      interval: 1s
      # Generous: on a loaded machine a probe can take seconds, and a timed-out probe is a failing one.
      timeout: 30s
      retries: 1
  worker:
    image: {image}
    init: true
    command: ["sleep", "infinity"]
  never:
    image: {image}
    command: ["sleep", "infinity"]
"""


@dataclass
class Project:
    name: str
    compose_file: Path
    services: tuple[str, ...]
    client: docker.APIClient

    def container(self, service: str) -> dict[str, Any]:
        (summary,) = self.client.containers(
            all=True,
            filters={
                "label": [f"com.docker.compose.project={self.name}", f"com.docker.compose.service={service}"]
            },
        )
        return self.client.inspect_container(summary["Id"])

    def exec(self, service: str, *cmd: str) -> None:
        exec_id = self.client.exec_create(self.container(service)["Id"], list(cmd))
        self.client.exec_start(exec_id)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    image = base_image()
    workdir = tmp_path_factory.mktemp("docker-side")
    compose_file = workdir / "docker-compose.yaml"
    compose_file.write_text(COMPOSE.format(image=image))
    name = f"edptui{uuid.uuid4().hex[:8]}"
    compose = ["docker", "compose", "-p", name, "-f", str(compose_file)]
    client = docker.APIClient(version="auto")
    try:
        # "never" stays uncreated on purpose: the panel must still list it.
        subprocess.run(
            [*compose, "up", "-d", "flappy", "worker"], check=True, capture_output=True, timeout=120
        )
        resolved = resolve_project(compose_file, project_name=name)
        yield Project(name, compose_file, resolved.service_names, client)
    finally:
        subprocess.run([*compose, "down", "-t", "1", "-v"], capture_output=True, timeout=120)
        client.close()


class DockerSideApp(EdpApp):
    """The shell with only a stand-in logs tab: this module tests the Docker side, nothing else."""

    def compose_main_panes(self) -> Iterable[TabPane]:
        yield TabPane("Logs", Static("(logs not under test here)"), id="tab-logs")


def make_app(project: Project, source: DockerServices) -> EdpApp:
    config = Config(compose_file=project.compose_file)
    url = "http://127.0.0.1:1"  # no webserver: the Dagster side is not under test here
    backends = Backends(
        project=project.name,
        webserver_url=url,
        services=source,
        logs=DockerLogSource(project.name),
        dagster=dagster_client(config, url),
        reload_status=ContainerReloadStatus(project.name, DockerEndpoint.resolve()),
        run_containers=DockerRunContainers(project.name, DockerEndpoint.resolve()),
    )
    return DockerSideApp(config, backends)


def row(app: EdpApp, service: str) -> dict[str, str]:
    table = app.services_panel.table
    if service not in table.rows:
        return {}
    return {
        str(c.key.value): str(cell)
        for c, cell in zip(table.columns.values(), table.get_row(service), strict=True)
    }


def test_source_snapshot_and_actions(project: Project) -> None:
    source = DockerServices(project.name, project.services)
    try:
        states = {s.service: s for s in source.snapshot()}
        assert set(states) == {"flappy", "worker", "never"}
        assert states["worker"].state is RunState.RUNNING and states["worker"].health is Health.NONE
        assert states["never"].state is RunState.MISSING
        assert states["flappy"].image and states["flappy"].container_name
        with pytest.raises(ContainerNotFound, match="never"):
            source.restart("never")
        stopped = source.stop("worker", timeout=1)
        assert stopped.state is RunState.EXITED and stopped.exit_code is not None
        started = source.start("worker")
        assert started.state is RunState.RUNNING
        assert started.started_at and stopped.started_at and started.started_at > stopped.started_at
    finally:
        source.close()


async def test_panel_follows_health_transitions(project: Project) -> None:
    source = DockerServices(project.name, project.services)
    app = make_app(project, source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: row(app, "flappy").get("health") == "healthy", 30, "flappy healthy")
        assert row(app, "never")["state"] == "missing"
        assert row(app, "worker")["state"] == "running"
        project.exec("flappy", "rm", "-f", "/tmp/healthy")
        await until(
            pilot,
            lambda: (
                row(app, "flappy").get("health") == "unhealthy"
                and row(app, "flappy")["probe"].startswith("exit 1: probe-failed: /tmp/healthy")
            ),
            30,
            "flappy unhealthy, with the failing probe's output",
        )
        assert int(row(app, "flappy")["streak"]) >= 1
        # On the screen, not only in the table's model.
        await until(pilot, lambda: "probe-failed" in screen_text(app), 5, "probe output painted")
        project.exec("flappy", "touch", "/tmp/healthy")
        await until(
            pilot,
            lambda: (
                row(app, "flappy").get("health") == "healthy"
                and row(app, "flappy")["probe"].startswith("exit 0: probe-ok")
            ),
            30,
            "flappy healthy again",
        )
        assert row(app, "flappy")["streak"] == ""


async def test_restart_from_the_dashboard_restarts_the_container(project: Project) -> None:
    before = project.container("worker")["State"]["StartedAt"]
    source = DockerServices(project.name, project.services)
    app = make_app(project, source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: row(app, "worker").get("state") == "running", 30, "worker running")
        table = app.services_panel.table
        table.move_cursor(row=table.get_row_index("worker"))
        await pilot.pause()
        assert app.services_panel.selected_service == "worker"
        await pilot.press("R")  # restart asks first
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 10, "restart confirmation")
        await pilot.press("y")
        await until(
            pilot,
            lambda: any("worker restarted" in n.message for n in app._notifications),
            30,
            "restart notification",
        )
        after = project.container("worker")["State"]
        assert after["Running"] and after["StartedAt"] != before
        await until(pilot, lambda: row(app, "worker").get("uptime", "").endswith("s"), 10, "uptime reset")


class UnixSocketProxy:
    """Forwards a unix socket to the engine's; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, path: Path, upstream: str) -> None:
        self.path = path
        self.upstream = upstream
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # listener closed by cut()
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.path.unlink(missing_ok=True)
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        self.cut()


@pytest.fixture
def engine_proxy(tmp_path: Path) -> Iterator[UnixSocketProxy]:
    endpoint, _ = resolve_endpoint()
    if not endpoint.startswith("unix://"):
        pytest.skip(f"the socket proxy forwards unix sockets only; engine is at {endpoint}")
    # A short path: unix socket paths are limited to about 100 bytes.
    path = Path("/tmp") / f"edptui-proxy-{uuid.uuid4().hex[:8]}.sock"
    proxy = UnixSocketProxy(path, endpoint[len("unix://") :])
    try:
        yield proxy
    finally:
        proxy.close()


async def test_engine_cut_mid_session_is_shown_and_recovered(
    project: Project, engine_proxy: UnixSocketProxy
) -> None:
    host = f"unix://{engine_proxy.path}"
    source = DockerServices(
        project.name, project.services, DockerEndpoint.resolve(host), backoff=(0.2, 1.0), timeout=3
    )
    app = make_app(project, source)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.services_panel
        await until(
            pilot, lambda: row(app, "flappy").get("state") == "running", 30, "populated through the proxy"
        )
        assert app.header.backend("docker").level is Level.OK  # type: ignore[union-attr]
        assert host in app.header.backend("docker").text  # type: ignore[union-attr]

        engine_proxy.cut()
        await until(pilot, lambda: panel.has_class("-unreachable"), 15, "unreachable shown")
        assert app.header.backend("docker").level is Level.ERROR  # type: ignore[union-attr]
        await until(pilot, lambda: "Docker engine unreachable" in screen_text(app), 5, "banner painted")
        # Retried with backoff: the attempt counter grows while the engine stays away.
        await until(
            pilot, lambda: (panel.engine_status.attempt if panel.engine_status else 0) >= 3, 15, "retries"
        )
        # A keypress is answered while the engine is gone.
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")

        engine_proxy.restore()
        await until(pilot, lambda: not panel.has_class("-unreachable"), 15, "recovered")
        assert app.header.backend("docker").level is Level.OK  # type: ignore[union-attr]
        # Events flow again after the reconnection: a change made now reaches the screen.
        project.exec("flappy", "rm", "-f", "/tmp/healthy")
        try:
            await until(
                pilot, lambda: row(app, "flappy").get("health") == "unhealthy", 30, "event after recovery"
            )
        finally:
            project.exec("flappy", "touch", "/tmp/healthy")


def test_the_real_binary_in_a_terminal(project: Project, tmp_path: Path) -> None:
    """`edp-tui` as a person runs it, in a tmux pane (its own tmux server): rows appear, `q` quits cleanly."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/setup.sh installs it)")
    binary = Path(sys.executable).parent / "edp-tui"
    server = f"edptui-{uuid.uuid4().hex[:8]}"
    done = tmp_path / "exit-code"
    command = (
        f"TERM=xterm-256color XDG_CONFIG_HOME={tmp_path} {binary} --compose-file {project.compose_file} "
        f"-p {project.name} --webserver-url http://127.0.0.1:1; echo $? > {done}; sleep 60"
    )
    tmux = ["tmux", "-L", server]
    subprocess.run([*tmux, "new-session", "-d", "-x", "160", "-y", "40", command], check=True, timeout=30)
    try:

        def screen() -> str:
            return subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True, timeout=30
            ).stdout

        def cells(line: str) -> list[str]:
            # The panel's border is light, or heavy while it has the focus.
            return re.split("[│┃]", line)[1:2]

        deadline = time.monotonic() + 90
        while not all(
            any(cells(line) and cells(line)[0].split()[:2] == [svc, state] for line in screen().splitlines())
            for svc, state in (("flappy", "running"), ("worker", "running"), ("never", "missing"))
        ):
            assert time.monotonic() < deadline, f"rows never appeared:\n{screen()}"
            time.sleep(0.2)
        text = screen()
        # (the one-line header drops the word "project" when the terminal is narrow)
        assert f" {project.name} " in text and "● docker" in text
        subprocess.run([*tmux, "send-keys", "q"], check=True, timeout=30)
        deadline = time.monotonic() + 30
        while not done.exists():
            assert time.monotonic() < deadline, f"q did not quit:\n{screen()}"
            time.sleep(0.2)
        assert done.read_text().strip() == "0"
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=30)
        # tmux leaves its socket file behind; it is this test's, remove it.
        (Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / server).unlink(missing_ok=True)
