"""The real `edp-tui` binary in an 80x24 tmux pane against the real compose stack, as a person uses it: every
tab shows its content, the Runs tab shows at least five run rows beside a compute-log area, `m` maximizes the
focused panel and restores it, `q` quits with exit code 0.

Five ingestion runs that fail at once (orders: 0 loads nothing) make sure the runs list has rows; they leave
the warehouse as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import stack_runs as sr
from tests.support.docker_engine import ComposeStack

WIDTH, HEIGHT = 80, 24
FAILING = {"ops": {"raw_retail_data": {"config": {"orders": 0}}}}
DEADLINE_S = 120.0


class Pane:
    """One tmux server of this test's own, one pane running the binary."""

    def __init__(self, command: str) -> None:
        self.server = f"edptui-{uuid.uuid4().hex[:8]}"
        self.tmux = ["tmux", "-L", self.server]
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), command],
            check=True,
            timeout=30,
        )

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p"], capture_output=True, text=True, timeout=30
        ).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", *keys], check=True, timeout=30)

    def wait(self, what: str, check: Callable[[str], bool], deadline_s: float = DEADLINE_S) -> str:
        end = time.monotonic() + deadline_s
        while True:
            text = self.screen()
            if check(text):
                return text
            assert time.monotonic() < end, f"{what}: not on screen within {deadline_s:.0f} s:\n{text}"
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=30)
        # tmux leaves its socket file behind; it is this test's, remove it.
        (Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / self.server).unlink(
            missing_ok=True
        )


@pytest.fixture
def failed_runs(compose_stack: ComposeStack) -> list[str]:
    tag = uuid.uuid4().hex[:10]
    params = {
        "selector": {
            "repositoryLocationName": sr.LOCATION,
            "repositoryName": sr.REPOSITORY,
            "jobName": "ingestion_job",
        },
        "runConfigData": FAILING,
        "executionMetadata": {
            "tags": [{"key": "edp-tmux", "value": tag}, {"key": sr.PARTITION_TAG, "value": sr.DEMO_DAY}]
        },
    }
    ids = []
    for _ in range(5):
        launched = compose_stack.graphql(sr.LAUNCH, {"params": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        ids.append(launched["run"]["runId"])
    return ids


@pytest.fixture
def pane(compose_stack: ComposeStack, tmp_path: Path) -> Iterator[tuple[Pane, Path]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/setup.sh installs it)")
    binary = Path(sys.executable).parent / "edp-tui"
    done = tmp_path / "exit-code"
    command = (
        f"TERM=xterm-256color XDG_CONFIG_HOME={tmp_path} {binary} --read-only"
        f" --compose-file {compose_stack.compose_file} -p {compose_stack.project}"
        f" --webserver-url {compose_stack.webserver_url}; echo $? > {done}; sleep 60"
    )
    pane = Pane(command)
    try:
        yield pane, done
    finally:
        pane.close()


def test_every_tab_at_80x24_in_the_real_binary(
    compose_stack: ComposeStack, failed_runs: list[str], pane: tuple[Pane, Path]
) -> None:
    term, done = pane
    logs = term.wait("services strip and the Logs tab", lambda t: "postgres" in t and "dagster-daemon" in t)
    assert len(logs.splitlines()) <= HEIGHT and all(len(line) <= WIDTH for line in logs.splitlines())

    term.keys("2")
    runs = term.wait(
        "five run rows on the Runs tab", lambda t: sum(r[:8] in t for r in failed_runs) >= 5, DEADLINE_S
    )
    assert "Compute logs" in runs, runs  # the compute-log area shares the tab with the table

    # m maximizes the focused panel (the runs table: the tab's key gave it the focus) and restores it.
    term.keys("m")
    maxed = term.wait("runs table maximized", lambda t: "Compute logs" not in t and "postgres" not in t)
    assert all(r[:8] in maxed for r in failed_runs), maxed
    term.keys("m")
    term.wait("layout restored", lambda t: "Compute logs" in t)

    term.keys("3")
    term.wait("Code locations tab", lambda t: "etl_pipeline" in t and "Hot reload" in t)
    term.keys("4")
    term.wait("Schedules & sensors tab", lambda t: "daily_schedule" in t and "landing_zone" in t)
    term.keys("5")
    # Three code locations' assets do not fit 80x24: the first page, then the rows further down by paging.
    term.wait("Assets tab", lambda t: "analytics/customer_segments" in t and "marts/fct_orders" in t)
    term.keys("NPage", "NPage", "NPage")
    term.wait("Assets tab paged down", lambda t: "retail_raw/orders" in t)

    term.keys("q")
    end = time.monotonic() + 30
    while not done.exists():
        assert time.monotonic() < end, f"q did not quit:\n{term.screen()}"
        time.sleep(0.2)
    assert done.read_text().strip() == "0"
