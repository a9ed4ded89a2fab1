"""The CPU and memory graphs (`c`) in the real binary, in an 80x24 tmux pane against the real compose stack,
fed by Docker's stats stream: a busy loop started in the postgres container shows as its CPU rising (and a
full bar in its graph), and its end as the CPU falling back; escape returns to the dashboard."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_dashboard_tmux import Pane
from tests.support.docker_engine import ComposeStack

STOP_FILE = "/tmp/edp-graphs-stop-load"
# A busy loop that ends when the stop file appears (or after two minutes, whatever happens to this test).
LOAD = (
    f"rm -f {STOP_FILE}; end=$(( $(date +%s) + 120 ));"
    f" while [ ! -e {STOP_FILE} ] && [ $(date +%s) -lt $end ]; do :; done"
)


def postgres_cpu(screen: str) -> float | None:
    """The latest CPU figure of postgres's row (percent of one core), None while it has none."""
    for line in screen.splitlines():
        match = re.match(r"\s*postgres\s.*?(\d+\.\d)%", line)
        if match:
            return float(match.group(1))
    return None


def test_the_graph_follows_a_container_under_load(compose_stack: ComposeStack, tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/setup.sh installs it)")
    container = compose_stack.compose("ps", "-q", "postgres").stdout.strip()
    assert container, "no postgres container"
    binary = Path(sys.executable).parent / "edp-tui"
    pane = Pane(
        f"TERM=xterm-256color XDG_CONFIG_HOME={tmp_path} {binary} --read-only"
        f" --compose-file {compose_stack.compose_file} -p {compose_stack.project}"
        f" --webserver-url {compose_stack.webserver_url}; sleep 60"
    )
    load: subprocess.Popen[bytes] | None = None
    try:
        pane.wait("the services", lambda t: "postgres" in t and "dagster-daemon" in t)
        pane.keys("c")  # the services panel has the focus at start
        pane.wait("postgres's first CPU figure", lambda t: postgres_cpu(t) is not None)
        idle = pane.wait("postgres at rest", lambda t: (postgres_cpu(t) or 100.0) < 30.0)
        load = subprocess.Popen(
            ["docker", "exec", container, "sh", "-c", LOAD],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        busy = pane.wait("postgres's CPU up under the busy loop", lambda t: (postgres_cpu(t) or 0.0) >= 60.0)
        row = next(line for line in busy.splitlines() if line.strip().startswith("postgres"))
        assert "█" in row or "█" in busy, busy  # the graph's bar at the top of its range
        subprocess.run(["docker", "exec", container, "touch", STOP_FILE], check=True, timeout=60)
        pane.wait("postgres's CPU back down", lambda t: (postgres_cpu(t) or 100.0) < 30.0)
        pane.keys("Escape")
        pane.wait("the dashboard back", lambda t: "CPU, % of a core" not in t and "postgres" in t)
        assert "Traceback" not in idle
    finally:
        subprocess.run(
            ["docker", "exec", container, "touch", STOP_FILE], capture_output=True, timeout=60, check=False
        )
        if load is not None:
            load.wait(timeout=60)
        pane.close()
