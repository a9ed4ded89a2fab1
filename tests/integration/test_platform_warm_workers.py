"""A warm-started run does what a cold one does (edp_platform/instance/run_launcher.py, warm_workers.py), on
the process stack: the same events, its compute logs, termination, a lost worker ended, and a file saved
between two runs executed by the second. The same checks run twice on one stack: first with the platform's
launcher as stack/dagster.yaml names it (workers forked from the code server's warm process), then with
Dagster's DefaultRunLauncher (a fresh process per run, as before), the webserver and daemon restarted on
that instance; the code server reads the choice from each StartRun's instance."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.process_stack import ProcessStack
from tests.support.waiting import wait_for

MODULE = textwrap.dedent(
    """
    import time

    import dagster as dg

    from version import VERSION


    @dg.op
    def hello() -> None:
        print(f"hello {VERSION}", flush=True)


    @dg.op
    def sleepy() -> None:
        print("sleeping", flush=True)
        for _ in range(600):
            time.sleep(0.2)


    hello_job = dg.GraphDefinition(name="hello_graph", node_defs=[hello]).to_job(name="hello_job")
    sleepy_job = dg.GraphDefinition(name="sleepy_graph", node_defs=[sleepy]).to_job(name="sleepy_job")
    defs = dg.Definitions(jobs=[hello_job, sleepy_job])
    """
)
WARM_LINE = "its worker starts from the warm process"
DEADLINE_S = 180.0

RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    ... on Run { status tags { key value } stepStats { stepKey } }
  }
}
"""
EVENTS = """
query Events($runId: ID!) {
  logsForRun(runId: $runId, limit: 1000) {
    ... on EventConnection {
      events { __typename ... on MessageEvent { message } ... on LogsCapturedEvent { fileKey } }
    }
  }
}
"""
LOGS = """
query Logs($logKey: [String!]!) { capturedLogs(logKey: $logKey) { stdout } }
"""
TERMINATE = """
mutation Terminate($runId: String!) {
  terminateRun(runId: $runId) { __typename ... on TerminateRunSuccess { run { runId } } }
}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessStack]:
    code = tmp_path_factory.mktemp("warm-code")
    (code / "jobs").mkdir()
    (code / "jobs" / "definitions.py").write_text(MODULE)
    (code / "jobs" / "version.py").write_text('VERSION = "v1"\n')
    locations = {"jobs": {"MODULE": "definitions", "PYTHONPATH": "jobs"}}
    with ProcessStack(tmp_path_factory.mktemp("warm-stack"), code, locations=locations) as started:
        yield started


def run_info(stack: ProcessStack, run_id: str) -> dict[str, Any]:
    return dict(stack.graphql(RUN, {"runId": run_id})["runOrError"])


def launch(stack: ProcessStack, job: str) -> str:
    launched = stack.launch_run(job, location="jobs")
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return str(launched["run"]["runId"])


def event_kinds(stack: ProcessStack, run_id: str) -> list[str]:
    events = stack.graphql(EVENTS, {"runId": run_id})["logsForRun"]["events"]
    return [e["__typename"] for e in events]


def messages(stack: ProcessStack, run_id: str) -> list[str]:
    events = stack.graphql(EVENTS, {"runId": run_id})["logsForRun"]["events"]
    return [e.get("message") or "" for e in events]


def stdout_of(stack: ProcessStack, run_id: str) -> str:
    """The run's captured stdout (one file for the in-process executor's steps), "" before it is there."""
    events = stack.graphql(EVENTS, {"runId": run_id})["logsForRun"]["events"]
    keys = [e["fileKey"] for e in events if e["__typename"] == "LogsCapturedEvent"]
    if not keys:
        return ""
    logs = stack.graphql(LOGS, {"logKey": [run_id, "compute_logs", keys[0]]})["capturedLogs"]
    return str(logs["stdout"] or "")


def worker_pid(stack: ProcessStack, run_id: str) -> int | None:
    prefix = "Started process for run (pid: "
    found = [m for m in messages(stack, run_id) if m.startswith(prefix)]
    return int(found[0][len(prefix) :].split(")")[0]) if found else None


def started_warm(stack: ProcessStack, run_id: str) -> bool:
    return f"run {run_id}: {WARM_LINE}" in stack.log_path("code-server").read_text()


def use_launcher(stack: ProcessStack, launcher: dict[str, Any]) -> None:
    """The instance's run launcher, as the webserver and the daemon (which launch) read it at their start."""
    stack.stop_daemon()
    stack.stop_webserver()
    path = stack.dagster_home / "dagster.yaml"
    instance = yaml.safe_load(path.read_text())
    instance["run_launcher"] = launcher
    path.write_text(yaml.safe_dump(instance))
    stack.start_webserver()
    stack.start_daemon()


def one_mode(stack: ProcessStack, *, warm: bool, version: str) -> list[str]:
    """The checks of one launcher; returns the event kinds of a successful run, to compare the modes."""
    # A run: its events and compute logs, started warm or not.
    run_id = launch(stack, "hello_job")
    assert stack.wait_for_run(run_id, DEADLINE_S) == "SUCCESS"
    assert started_warm(stack, run_id) is warm
    assert f"hello {version}" in stdout_of(stack, run_id)
    assert worker_pid(stack, run_id) is not None
    kinds = event_kinds(stack, run_id)

    # Termination: the worker stops at the run's terminate, the run is CANCELED.
    run_id = launch(stack, "sleepy_job")
    wait_for("the op to start", lambda: "sleeping" in stdout_of(stack, run_id), DEADLINE_S)
    done = stack.graphql(TERMINATE, {"runId": run_id})["terminateRun"]
    assert done["__typename"] == "TerminateRunSuccess", done
    assert stack.wait_for_run(run_id, DEADLINE_S) == "CANCELED"
    assert started_warm(stack, run_id) is warm

    # A worker that dies: its run is ended (the code server notices), it does not stay STARTED.
    run_id = launch(stack, "sleepy_job")
    wait_for("the op to start", lambda: "sleeping" in stdout_of(stack, run_id), DEADLINE_S)
    pid = worker_pid(stack, run_id)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert stack.wait_for_run(run_id, DEADLINE_S) == "FAILURE"
    return kinds


def last_reload(stack: ProcessStack) -> dict[str, Any]:
    return dict(json.loads(stack.reload_status_path_of("jobs").read_text())["reloads"][-1])


def save_and_wait_for_reload(stack: ProcessStack, code: Path, version: str) -> None:
    before = last_reload(stack)["id"]
    (code / "jobs" / "version.py").write_text(f'VERSION = "{version}"\n')
    wait_for(
        "the reload on save",
        lambda: last_reload(stack)["id"] != before and last_reload(stack)["outcome"] == "served",
        DEADLINE_S,
    )


def test_a_warm_run_does_what_a_cold_one_does(stack: ProcessStack) -> None:
    code = stack.code_root
    warm = one_mode(stack, warm=True, version="v1")
    # A file saved between two runs: the next run executes it (the reload on save, then a warm worker).
    save_and_wait_for_reload(stack, code, "v2")
    run_id = launch(stack, "hello_job")
    assert stack.wait_for_run(run_id, DEADLINE_S) == "SUCCESS"
    assert started_warm(stack, run_id)
    assert "hello v2" in stdout_of(stack, run_id)

    use_launcher(stack, {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"})
    cold = one_mode(stack, warm=False, version="v2")
    assert warm == cold
