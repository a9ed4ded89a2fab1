"""`E` in the real binary, in an 80x24 tmux pane against the real compose stack: the dashboard suspends, a
shell opens in the selected service's container (`docker exec -it`), runs what is typed, and the dashboard
comes back when it ends; `q` then quits with exit code 0."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_dashboard_tmux import Pane
from tests.support.docker_engine import ComposeStack


def test_the_shell_opens_in_the_container_and_the_dashboard_returns(
    compose_stack: ComposeStack, tmp_path: Path
) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/setup.sh installs it)")
    binary = Path(sys.executable).parent / "edp-tui"
    done = tmp_path / "exit-code"
    pane = Pane(
        f"TERM=xterm-256color XDG_CONFIG_HOME={tmp_path} {binary}"
        f" --compose-file {compose_stack.compose_file} -p {compose_stack.project}"
        f" --webserver-url {compose_stack.webserver_url}; echo $? > {done}; sleep 60"
    )
    try:
        # The rows come from the compose file before the engine's states: `E` on a row that does not say
        # running yet is refused ("has no running container"), so wait for the four states.
        pane.wait("the services running", lambda t: t.count(" running ") >= 4)
        pane.keys("E")  # the services table has the focus at start, on its first row
        # The container's shell has the terminal: the dashboard's strip is gone.
        pane.wait("a shell instead of the dashboard", lambda t: "dagster-daemon" not in t)
        pane.keys("echo edp-shell-$((6*7)) $(hostname)", "Enter")
        shell = pane.wait("the echo's output", lambda t: "edp-shell-42" in t)
        assert "Traceback" not in shell, shell
        pane.keys("exit", "Enter")
        pane.wait("the dashboard back", lambda t: "postgres" in t and "dagster-daemon" in t)
        pane.keys("q")
        end = time.monotonic() + 30
        while not done.exists():
            assert time.monotonic() < end, f"q did not quit:\n{pane.screen()}"
            time.sleep(0.2)
        assert done.read_text().strip() == "0"
    finally:
        pane.close()
