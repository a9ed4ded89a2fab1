"""Alerts on the real process stack: a run that fails is told exactly once however often the stack is
looked at, and `edp-tui watch --until run_failed` prints it as a JSON line and exits 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from edp_tui.alerts.events import RUN_FAILED
from edp_tui.alerts.feed import AlertFeed
from edp_tui.alerts.monitor import AlertMonitor
from edp_tui.alerts.settings import AlertSettings
from edp_tui.dagster.client import DagsterClient
from tests.support.process_stack import ProcessStack

RUN_DEADLINE_S = 900.0
# The demo's ingestion fails inside its step when it is asked for no orders.
FAILING_CONFIG = {"ops": {"raw_retail_data": {"config": {"orders": 0}}}}


def watch_process(stack: ProcessStack, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDP_TUI_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env["PYTHONUNBUFFERED"] = "1"
    args = ["watch", "--no-docker", "--json", "--until", RUN_FAILED, "--interval", "1"]
    return subprocess.Popen(
        [sys.executable, "-m", "edp_tui", "--webserver-url", stack.webserver_url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


async def test_a_failing_run_is_one_alert_and_ends_watch(process_stack: ProcessStack, tmp_path: Path) -> None:
    watch = watch_process(process_stack, tmp_path)
    try:
        assert watch.stderr is not None
        first = watch.stderr.readline()  # said once the watch began: what fails from now on is news
        assert "watching" in first, first
        async with DagsterClient(process_stack.webserver_url + "/graphql") as client:
            monitor = AlertMonitor(client, since=time.time())
            feed = AlertFeed(AlertSettings())
            told = []
            launched = process_stack.launch_run("ingestion_job", FAILING_CONFIG)
            assert launched["__typename"] == "LaunchRunSuccess", launched
            run_id = launched["run"]["runId"]
            assert process_stack.wait_for_run(run_id, timeout=RUN_DEADLINE_S) == "FAILURE"
            # Looked at again and again after the failure: told on the first look, never again.
            for _ in range(4):
                look = await monitor.look()
                assert look.errors == []
                told += [e for e in feed.offer(look.events).new if e.subject == run_id]
            assert [(e.kind, e.id) for e in told] == [(RUN_FAILED, f"{RUN_FAILED}:{run_id}")]
        out, err = watch.communicate(timeout=120)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    assert watch.returncode == 1, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(e["kind"], e["subject"]) for e in lines] == [(RUN_FAILED, run_id)], out
    assert lines[0]["details"]["job"] == "ingestion_job"
