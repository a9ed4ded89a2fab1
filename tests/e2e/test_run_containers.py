"""The run-per-container mode (stack/docker-compose.run-containers.yaml) on a stack of its own.

One run checks the whole mode, because each run costs a container and a cold import: the run gets a container
labelled with its run id and project and tagged on the run, the container mounts the host's code and dbt
project, the code server is killed in the middle and the run completes anyway, its compute logs are read
through the webserver, and the finished container removes itself.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

from tests.support import stack_runs as sr
from tests.support.docker_engine import STACK_TIMINGS, ComposeStack

SMALL = {"ops": {"raw_retail_data": {"config": {"customers": 40, "products": 8, "orders": 300, "seed": 7}}}}
RUN_DEADLINE_S = 900.0
CAPTURED = """
query Captured($runId: ID!) {
  logsForRun(runId: $runId, limit: 1000) {
    ... on EventConnection { events { __typename ... on LogsCapturedEvent { fileKey stepKeys } } }
  }
}"""
LOGS = "query Logs($logKey: [String!]!) { capturedLogs(logKey: $logKey) { stdout stderr } }"


def run_containers(stack: ComposeStack, run_id: str) -> list[dict[str, Any]]:
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=dagster/run_id={run_id}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    if not ids:
        return []
    out = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, timeout=30).stdout
    return list(json.loads(out)) if out.strip() else []


def test_a_run_gets_its_own_container_and_survives_the_code_server(run_container_stack: ComposeStack) -> None:
    stack = run_container_stack
    graphql = stack.graphql
    started = time.monotonic()
    run_id = sr.launch(graphql, "full_refresh_job", SMALL)
    container = sr.wait_until("the run's container", lambda: run_containers(stack, run_id), RUN_DEADLINE_S)[0]
    labels = container["Config"]["Labels"]
    assert labels["dagster/run_id"] == run_id
    assert labels["edp.project"] == stack.project and labels["edp.role"] == "run-worker"
    assert container["HostConfig"]["AutoRemove"] is True
    mounts = {m["Destination"]: m for m in container["Mounts"]}
    assert mounts["/opt/dagster/app/etl_pipeline/src"]["Source"] == str(stack.repo / "etl_pipeline" / "src")
    assert mounts["/opt/dagster/app/dbt_project"]["Source"] == str(stack.repo / "dbt_project")
    assert mounts["/opt/dagster/dagster_home/compute_logs"]["Name"] == f"{stack.project}_dagster_compute_logs"

    sr.wait_for_step_start(graphql, run_id, "retail_dbt_models", RUN_DEADLINE_S)
    stack.compose("kill", "user-code")
    try:
        assert sr.wait_for_status(graphql, run_id, sr.FINISHED, RUN_DEADLINE_S) == "SUCCESS"
        STACK_TIMINGS["run-container full_refresh_job at test size, code server killed mid-run"] = (
            time.monotonic() - started
        )
        info = sr.run(graphql, run_id)
        assert sr.tags(info)["docker/container_id"] == container["Id"]

        events = graphql(CAPTURED, {"runId": run_id})["logsForRun"]["events"]
        keys = [e for e in events if e["__typename"] == "LogsCapturedEvent"]
        assert {"raw_retail_data", "retail_dbt_models"} <= {s for k in keys for s in k["stepKeys"] or []}
        logs = graphql(LOGS, {"logKey": [run_id, "compute_logs", keys[0]["fileKey"]]})["capturedLogs"]
        assert run_id in (logs["stdout"] or "") + (logs["stderr"] or "")  # written in the run container

        sr.wait_until("the finished run container removed", lambda: run_containers(stack, run_id) == [], 120)
    finally:
        stack.compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=660)
    assert sr.in_progress(graphql) == []
