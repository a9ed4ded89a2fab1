"""Shared pieces of the bench/docker_*.py scripts: a small throwaway compose project on the local base image,
and the real `edp-tui` binary running in a tmux pane whose screen is read with capture-pane."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EDP_TUI = REPO / ".venv" / "bin" / "edp-tui"

COMPOSE = """
services:
  alpha:
    image: {image}
    init: true
    command: ["sleep", "infinity"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
  beta:
    image: {image}
    init: true
    command: ["sleep", "infinity"]
  gamma:
    image: {image}
    init: true
    command: ["sleep", "infinity"]
"""


@dataclass
class SmallProject:
    name: str
    compose_file: Path

    def compose(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["docker", "compose", "-p", self.name, "-f", str(self.compose_file), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def container_id(self, service: str) -> str:
        out = subprocess.run(
            [
                "docker",
                "ps",
                "-aq",
                "--filter",
                f"label=com.docker.compose.project={self.name}",
                "--filter",
                f"label=com.docker.compose.service={service}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.split()[0]


@contextmanager
def small_project() -> Iterator[SmallProject]:
    """Three idle containers on the base image from tests/support (built from Debian packages if missing)."""
    from tests.support.docker_engine import base_image, ensure_engine

    ensure_engine()
    image = base_image()
    with tempfile.TemporaryDirectory(prefix="edp-bench-") as tmp:
        compose_file = Path(tmp) / "docker-compose.yaml"
        compose_file.write_text(COMPOSE.format(image=image))
        project = SmallProject(f"edpbench{uuid.uuid4().hex[:8]}", compose_file)
        try:
            up = project.compose("up", "-d", "--wait")
            if up.returncode != 0:
                raise SystemExit(f"docker compose up failed: {up.stderr}")
            yield project
        finally:
            project.compose("down", "-t", "1", "-v")


class TmuxDashboard:
    """The real binary in a detached tmux session, its screen read as a person would see it."""

    def __init__(self, args: list[str], width: int = 160, height: int = 45) -> None:
        if shutil.which("tmux") is None:
            raise SystemExit("tmux is needed (apt-get install tmux)")
        self.session = f"edpbench-{uuid.uuid4().hex[:8]}"
        # A tmux server of its own: nothing here can touch anyone else's sessions.
        self.tmux = ["tmux", "-L", self.session]
        self.args = args
        self.width, self.height = width, height
        self.started_at = 0.0
        self.capture_times: list[float] = []  # how long reading the screen takes: part of every figure

    def start(self) -> TmuxDashboard:
        command = " ".join(_quote(a) for a in [str(EDP_TUI), *self.args])
        env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        self.started_at = time.perf_counter()
        subprocess.run(
            [
                *self.tmux,
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                str(self.width),
                "-y",
                str(self.height),
                f"TERM=xterm-256color exec {command}",
            ],
            check=True,
            env=env,
        )
        return self

    def pid(self) -> int:
        out = subprocess.run(
            [*self.tmux, "list-panes", "-t", self.session, "-F", "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.split()[0])

    def screen(self) -> str:
        t0 = time.perf_counter()
        out = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.session], capture_output=True, text=True
        )
        self.capture_times.append(time.perf_counter() - t0)
        return out.stdout

    def wait_for(self, predicate: Callable[[str], bool], timeout: float, interval: float = 0.01) -> float:
        """Seconds (perf_counter) when the screen first satisfied ``predicate``; raises on timeout."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            text = self.screen()
            if predicate(text):
                return time.perf_counter()
            time.sleep(interval)
        raise TimeoutError(f"screen never matched within {timeout} s; last screen:\n{self.screen()}")

    def stop(self) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, "q"], capture_output=True)
        time.sleep(0.5)
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        # tmux leaves its socket file behind; it is ours, remove it.
        (Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / self.session).unlink(
            missing_ok=True
        )

    def __enter__(self) -> TmuxDashboard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def row_of(screen: str, service: str) -> str:
    """The services-panel line of ``service`` on a captured screen ('' if not shown)."""
    for line in screen.splitlines():
        cells = line.strip("│ ").split()
        if cells and cells[0] == service:
            return line
    return ""


def cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def dashboard_args(project: SmallProject) -> list[str]:
    # Nothing listens on port 9: the Dagster side shows "webserver unreachable", the Docker side is measured.
    return [
        "--compose-file",
        str(project.compose_file),
        "-p",
        project.name,
        "--webserver-url",
        "http://127.0.0.1:9",
    ]


def stats(values: list[float]) -> str:
    values = sorted(values)
    median = values[len(values) // 2]
    return (
        f"median {median * 1000:7.1f} ms   min {values[0] * 1000:7.1f} ms   max {values[-1] * 1000:7.1f} ms"
    )
