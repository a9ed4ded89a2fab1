"""Re-execution through the dashboard's client against the real webserver of the process stack: from failure,
all steps, and chosen steps (the ExecutionParams path, which ReexecutionParams cannot express).

The parent is an ingestion run that fails inside its step (orders: 0 loads nothing), so re-executions carry
its run config, fail the same way and leave the shared warehouse as it was.
"""

from __future__ import annotations

import asyncio
from typing import Any

from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.models import RunSummary
from tests.support.process_stack import ProcessStack
from tests.support.stack_runs import DEMO_DAY

REPO = "__repository__"
FAILING = {"ops": {"raw_retail_data": {"config": {"orders": 0}}}}
RUN_DEADLINE_S = 600.0
RUN_GROUP = """
query Group($runId: ID!) {
  runOrError(runId: $runId) {
    ... on Run { runId status parentRunId rootRunId stepKeysToExecute tags { key value } }
  }
}"""


async def finished(client: DagsterClient, run: RunSummary) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RUN_DEADLINE_S
    while not (detail := await client.run(run.run_id)).run.is_terminal:
        assert loop.time() < deadline, f"run {run.run_id} did not finish"
        await asyncio.sleep(0.5)
    return detail.run.status


def group(stack: ProcessStack, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = stack.graphql(RUN_GROUP, {"runId": run_id})["runOrError"]
    run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
    return run


async def test_from_failure_all_steps_and_a_chosen_step(process_stack: ProcessStack) -> None:
    async with DagsterClient(process_stack.graphql_url) as client:
        parent = await client.launch_run(
            process_stack.location_name,
            REPO,
            "ingestion_job",
            FAILING,
            {"edp-test": "reexecution", "dagster/partition": DEMO_DAY},
        )
        assert await finished(client, parent) == "FAILURE"

        children = {
            "from failure": await client.reexecute_run(parent.run_id, "FROM_FAILURE"),
            "all steps": await client.reexecute_run(parent.run_id, "ALL_STEPS"),
            "chosen step": await client.reexecute_run(parent.run_id, step_keys=["raw_retail_data"]),
        }
        for how, child in children.items():
            assert child.job_name == "ingestion_job", how
            assert await finished(client, child) == "FAILURE", how  # the parent's config came along
            seen = group(process_stack, child.run_id)
            assert (seen["parentRunId"], seen["rootRunId"]) == (parent.run_id, parent.run_id), how
            assert seen["tags"].get("edp-test") == "reexecution", how  # the parent's own tags carry over
            assert seen["tags"].get("dagster/parent_run_id") == parent.run_id, how

        assert group(process_stack, children["from failure"].run_id)["stepKeysToExecute"] == [
            "raw_retail_data"
        ]
        chosen = group(process_stack, children["chosen step"].run_id)
        assert chosen["stepKeysToExecute"] == ["raw_retail_data"]
        assert chosen["tags"].get("dagster/step_selection") == "raw_retail_data"
