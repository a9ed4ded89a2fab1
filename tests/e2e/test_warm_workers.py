"""Runs of the compose stack in both run modes do the same, whichever way their worker starts: with the
platform's launcher (stack/dagster.yaml: each run's worker forked from user-code's warm process) and with a
container per run (stack/docker-compose.run-containers.yaml: a fresh container, DockerRunLauncher). In each:
a run's events and compute logs, its termination, and a file saved between two runs executed by the second
(edp_platform/instance/run_launcher.py, warm_workers.py; the process stack's twin, which also compares a warm
and a cold worker on one stack: tests/integration/test_platform_warm_workers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import stack_runs as sr
from tests.support.docker_engine import ComposeStack

TEST_SIZE = sr.demo_config(customers=40, products=8, orders=300, seed=7)  # launched for sr.DEMO_DAY
DEADLINE_S = 600.0
WARM_LINE = "its worker starts from the warm process"
MARKER = "edp-e2e-warm-marker"
LOAD = "    days = partition_days(context)\n"  # the line of the ingestion op the marker is printed before
INGESTION = Path("etl_pipeline") / "src" / "etl_pipeline" / "ingestion.py"
LOGS = """
query Logs($logKey: [String!]!) { capturedLogs(logKey: $logKey) { stdout stderr } }
"""
FILE_KEYS = """
query Keys($runId: ID!) {
  logsForRun(runId: $runId, limit: 1000) {
    ... on EventConnection { events { __typename ... on LogsCapturedEvent { fileKey } } }
  }
}
"""
TERMINATE = """
mutation Terminate($runId: String!) {
  terminateRun(runId: $runId) { __typename ... on TerminateRunSuccess { run { runId } } }
}
"""


@pytest.fixture(params=["compose_stack", "run_container_stack"])
def stack(request: pytest.FixtureRequest) -> ComposeStack:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def compute_logs(stack: ComposeStack, run_id: str) -> str:
    events = stack.graphql(FILE_KEYS, {"runId": run_id})["logsForRun"]["events"]
    text = ""
    for key in {e["fileKey"] for e in events if e["__typename"] == "LogsCapturedEvent"}:
        logs = stack.graphql(LOGS, {"logKey": [run_id, "compute_logs", key]})["capturedLogs"]
        text += (logs["stdout"] or "") + (logs["stderr"] or "")
    return text


def started_warm(stack: ComposeStack, run_id: str) -> bool:
    log = stack.compose("logs", "--no-color", "user-code", timeout=120).stdout
    return f"run {run_id}: {WARM_LINE}" in log


def containerised(stack: ComposeStack) -> bool:
    return "run-containers" in stack.env.get("COMPOSE_FILE", "")


@pytest.fixture
def ingestion(stack: ComposeStack) -> Iterator[Path]:
    """The demo's ingestion module in the stack's code copy, put back (and served again) afterwards."""
    path = stack.repo / INGESTION
    original = path.read_text()
    yield path
    if path.read_text() != original:
        before = sr.location_loaded(stack.graphql)
        path.write_text(original)
        sr.wait_until(
            "the original code served again",
            lambda: sr.location_loaded(stack.graphql) not in (None, before),
            DEADLINE_S,
        )


def run_to_end(stack: ComposeStack) -> tuple[str, dict[str, Any]]:
    run_id = sr.launch(stack.graphql, "full_refresh_job", TEST_SIZE)
    status = sr.wait_for_status(stack.graphql, run_id, sr.FINISHED, DEADLINE_S)
    return status, sr.run(stack.graphql, run_id) | {"runId": run_id}


def test_a_run_its_logs_its_termination_and_a_save_between_two_runs(
    stack: ComposeStack, ingestion: Path
) -> None:
    status, info = run_to_end(stack)
    run_id = info["runId"]
    assert status == "SUCCESS"
    # A container per run starts cold, a worker of the platform's launcher warm.
    assert started_warm(stack, run_id) is not containerised(stack)
    assert ("docker/container_id" in sr.tags(info)) is containerised(stack)
    messages = [e.get("message") or "" for e in sr.events(stack.graphql, run_id)]
    assert any(m.startswith("Started process for run (pid: ") for m in messages)
    assert "Completed successfully" in compute_logs(stack, run_id)  # dbt's own output, captured

    # A file saved between two runs: the second run executes it (reload on save, then the run).
    before = sr.location_loaded(stack.graphql)
    ingestion.write_text(ingestion.read_text().replace(LOAD, f'    print("{MARKER}", flush=True)\n' + LOAD))
    sr.wait_until(
        "the saved file served", lambda: sr.location_loaded(stack.graphql) not in (None, before), DEADLINE_S
    )
    status, info = run_to_end(stack)
    assert status == "SUCCESS"
    assert MARKER in compute_logs(stack, info["runId"])

    # Termination: the run stops where it is, CANCELED.
    run_id = sr.launch(stack.graphql, "full_refresh_job", TEST_SIZE)
    sr.wait_for_step_start(stack.graphql, run_id, "raw_retail_data", DEADLINE_S)
    done = stack.graphql(TERMINATE, {"runId": run_id})["terminateRun"]
    assert done["__typename"] == "TerminateRunSuccess", done
    assert sr.wait_for_status(stack.graphql, run_id, sr.FINISHED, DEADLINE_S) == "CANCELED"
