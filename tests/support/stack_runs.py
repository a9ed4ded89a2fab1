"""Runs through the webserver's GraphQL API, for the run-fault e2e tests and bench/run_latency.py.

Everything takes a `graphql(query, variables) -> data` callable (ComposeStack.graphql, ProcessStack.graphql),
so the same documents serve every stack. Each wait polls until a deadline and raises RunWaitError with the
last state seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from edp_tui.dagster.client import document
from edp_tui.dagster.run_config import merge_run_config

GraphQL = Callable[..., dict[str, Any]]

LOCATION = "etl_pipeline"
REPOSITORY = "__repository__"
# The demo's jobs are partitioned by day: a launch of one is for DEMO_DAY unless its tags name a partition.
DEMO_JOBS = frozenset({"ingestion_job", "dbt_build_job", "daily_job", "full_refresh_job"})
DEMO_DAY = "2024-01-01"
PARTITION_TAG = "dagster/partition"
# Every step in the run worker's own process, as the demo's jobs' own config asks: a run config given at
# launch replaces a partitioned job's default config instead of being merged into it.
IN_PROCESS: dict[str, Any] = {"execution": {"config": {"in_process": {}}}}


def demo_config(customers: int, products: int, orders: int, seed: int = 42) -> dict[str, Any]:
    """The demo's ingestion settings as run config: the reference data's size, and the orders of each day."""
    return {
        "ops": {
            "raw_reference_data": {"config": {"customers": customers, "products": products, "seed": seed}},
            "raw_retail_data": {"config": {"orders": orders, "seed": seed}},
        }
    }


def with_demo_partition(job: str, location: str, tags: dict[str, str] | None) -> dict[str, str]:
    """The run's tags, with the partition DEMO_DAY for a job of the demo launched without one."""
    tags = dict(tags or {})
    named = PARTITION_TAG in tags or any(k.startswith("dagster/asset_partition_range") for k in tags)
    if location == LOCATION and job in DEMO_JOBS and not named:
        tags[PARTITION_TAG] = DEMO_DAY
    return tags


FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
IN_PROGRESS = ["STARTING", "STARTED", "CANCELING"]

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
  }
}"""
RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status creationTime startTime endTime tags { key value } }
    ... on RunNotFoundError { message }
  }
}"""
RUN_EVENTS = """
query Events($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events { __typename ... on MessageEvent { message timestamp eventType stepKey } }
    }
    ... on PythonError { message }
  }
}"""
RUNS_IN_PROGRESS = """
query InProgress($statuses: [RunStatus!]) {
  runsOrError(filter: { statuses: $statuses }, limit: 1000) {
    __typename
    ... on Runs { results { runId status } }
  }
}"""
# The force-terminate the dashboard/CLI use for a run stuck in CANCELING (or any run whose worker is gone):
# Dagster marks it CANCELED without asking the launcher.
FORCE_TERMINATE = """
mutation ForceTerminate($runId: String!) {
  terminateRun(runId: $runId, terminatePolicy: MARK_AS_CANCELED_IMMEDIATELY) {
    __typename
    ... on TerminateRunSuccess { run { runId status } }
    ... on TerminateRunFailure { message run { runId status } }
    ... on RunNotFoundError { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}"""
TERMINATE = """
mutation Terminate($runId: String!) {
  terminateRun(runId: $runId) {
    __typename
    ... on TerminateRunSuccess { run { runId status } }
    ... on TerminateRunFailure { message run { runId status } }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}"""
LOCATION_STATE = """
query Location {
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on RepositoryLocation { serverId } }
      }
    }
  }
}"""


class RunWaitError(AssertionError):
    pass


def launchpad_config(
    graphql: GraphQL, job: str, location: str, tags: dict[str, str], run_config: dict[str, Any] | None
) -> dict[str, Any]:
    """The run config Dagster's launchpad sends for a partitioned job: the partition's own (the job's
    default: the demo's in-process executor, full_refresh_job's full refresh) with the test's on top.
    Launched bare, a partitioned job's default config is not applied and every step gets a process."""
    key = tags.get(PARTITION_TAG) or tags.get("dagster/asset_partition_range_start")
    if key is None:
        return run_config or {}
    variables = {
        "repository": {"repositoryLocationName": location, "repositoryName": REPOSITORY},
        "partitionSet": f"{job}_partition_set",
        "partition": key,
    }
    # The client's own document (edp_tui/dagster/documents), sent by the tests' plain GraphQL helpers.
    found = graphql(document("PartitionRunConfig"), variables)["partitionSetOrError"]
    text = (((found.get("partition") or {}).get("runConfigOrError")) or {}).get("yaml")
    if found["__typename"] != "PartitionSet" or not text:
        return run_config or {}
    return merge_run_config(yaml.safe_load(text) or {}, run_config or {})


def launch(
    graphql: GraphQL,
    job: str,
    run_config: dict[str, Any] | None = None,
    *,
    location: str = LOCATION,
    tags: dict[str, str] | None = None,
) -> str:
    run_tags = with_demo_partition(job, location, tags)
    params = {
        "selector": {"repositoryLocationName": location, "repositoryName": REPOSITORY, "jobName": job},
        "runConfigData": launchpad_config(graphql, job, location, run_tags, run_config),
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in run_tags.items()]},
    }
    result = graphql(LAUNCH, {"params": params})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise AssertionError(f"launching {job}: {result}")
    return str(result["run"]["runId"])


def run(graphql: GraphQL, run_id: str) -> dict[str, Any]:
    return dict(graphql(RUN, {"runId": run_id})["runOrError"])


def tags(run_info: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run_info.get("tags") or []}


def events(graphql: GraphQL, run_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = graphql(RUN_EVENTS, {"runId": run_id, "cursor": cursor})["logsForRun"]
        if page["__typename"] != "EventConnection":
            raise AssertionError(f"logsForRun({run_id}): {page}")
        found.extend(page["events"])
        cursor = page["cursor"]
        if not page["hasMore"]:
            return found


def wait_until(what: str, check: Callable[[], Any], deadline_s: float, interval_s: float = 0.5) -> Any:
    """Polls check() until it returns something truthy; RunWaitError with the last value at the deadline."""
    end = time.monotonic() + deadline_s
    last: Any = None
    while True:
        try:
            last = check()
        except Exception as exc:  # a stack in the middle of a restart answers with errors for a while
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > end:
            raise RunWaitError(f"{what}: not within {deadline_s:.0f} s (last: {last!r})")
        time.sleep(interval_s)


def wait_for_status(
    graphql: GraphQL, run_id: str, statuses: Iterable[str], deadline_s: float, interval_s: float = 0.5
) -> str:
    wanted = set(statuses)

    def check() -> str | None:
        status = run(graphql, run_id).get("status")
        return status if status in wanted else None

    return str(wait_until(f"run {run_id} in {sorted(wanted)}", check, deadline_s, interval_s))


def wait_for_step_start(graphql: GraphQL, run_id: str, step_key: str, deadline_s: float) -> None:
    def started() -> bool:
        return any(
            e.get("eventType") == "STEP_START" and e.get("stepKey") == step_key
            for e in events(graphql, run_id)
        )

    wait_until(f"step {step_key} of run {run_id} started", started, deadline_s)


def in_progress(graphql: GraphQL) -> list[dict[str, Any]]:
    return list(graphql(RUNS_IN_PROGRESS, {"statuses": IN_PROGRESS})["runsOrError"]["results"])


def location_loaded(graphql: GraphQL, location: str = LOCATION) -> str | None:
    """The code location's server id once it is loaded, else None."""
    entries = graphql(LOCATION_STATE)["workspaceOrError"].get("locationEntries") or []
    for entry in entries:
        loaded = entry.get("locationOrLoadError") or {}
        if entry["name"] == location and loaded.get("__typename") == "RepositoryLocation":
            return str(loaded["serverId"])
    return None
