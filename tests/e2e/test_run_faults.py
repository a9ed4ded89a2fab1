"""Runs that survive faults, on the shared compose stack (default launcher: runs are processes of user-code).

In file order: the code server killed mid-run (the run ends as lost within 60 s of the code server's return,
a run stuck in CANCELING is cleared by a forced terminate, the queue is at full width again), twenty runs
launched at once drain, and `down`/`up` in the middle of a run leaves no run STARTED. Each test leaves the
stack healthy for the next file.
"""

from __future__ import annotations

import time
from typing import Any

from tests.support import stack_runs as sr
from tests.support.docker_engine import STACK_TIMINGS, ComposeStack

SMALL = sr.demo_config(customers=40, products=8, orders=300, seed=7)
LOST_DEADLINE_S = 60.0  # the promise: a lost run ends within this of its code server's return
RUN_DEADLINE_S = 900.0  # a busy 2-core host: a cold worker imports dagster and dbt for tens of seconds
BACK_DEADLINE_S = 600.0
LOST_TAG = "edp/lost_worker"


def kill_code_server(stack: ComposeStack) -> str:
    """SIGKILL user-code (a manual stop for the restart policy: it stays down); returns the old server id."""
    server_id = sr.wait_until("location loaded", lambda: sr.location_loaded(stack.graphql), BACK_DEADLINE_S)
    stack.compose("kill", "user-code")
    return str(server_id)


def start_code_server(stack: ComposeStack, old_server_id: str) -> float:
    """Starts user-code; returns when (monotonic) the webserver has loaded the new server."""
    stack.compose("start", "user-code")

    def back() -> bool:
        server_id = sr.location_loaded(stack.graphql)
        return server_id is not None and server_id != old_server_id

    sr.wait_until("code server back with a new server id", back, BACK_DEADLINE_S)
    return time.monotonic()


def wait_healthy(stack: ComposeStack) -> None:
    stack.compose(
        "up", "-d", "--wait", "--wait-timeout", str(int(BACK_DEADLINE_S)), timeout=BACK_DEADLINE_S + 60
    )


def dequeued_at(stack: ComposeStack, run_id: str) -> float:
    found = [e for e in sr.events(stack.graphql, run_id) if e.get("eventType") == "RUN_STARTING"]
    assert found, f"run {run_id} has no RUN_STARTING event"
    return float(found[0]["timestamp"]) / 1000


def failure_reason(stack: ComposeStack, run_id: str) -> list[str]:
    """What a failed run's events say about why (for the assertion message)."""
    kinds = {"RunFailureEvent", "ExecutionStepFailureEvent", "EngineEvent"}
    return [e.get("message") or "" for e in sr.events(stack.graphql, run_id) if e["__typename"] in kinds][-4:]


def assert_lost(stack: ComposeStack, run_id: str) -> dict[str, Any]:
    info = sr.run(stack.graphql, run_id)
    assert info["status"] == "FAILURE", info
    reason = sr.tags(info).get(LOST_TAG, "")
    assert reason.startswith("Run worker lost: worker pid "), info
    messages = [e.get("message") or "" for e in sr.events(stack.graphql, run_id)]
    detail = [m for m in messages if m.startswith("Run worker lost") and "detected at" in m]
    assert len(detail) == 1, messages[-5:]
    return info


def test_code_server_killed_mid_run_ends_the_run_as_lost_and_frees_its_slot(
    compose_stack: ComposeStack,
) -> None:
    graphql = compose_stack.graphql
    lost = sr.launch(graphql, "full_refresh_job", SMALL)
    canceled = sr.launch(graphql, "full_refresh_job", SMALL)
    sr.wait_for_step_start(graphql, lost, "retail_dbt_models", RUN_DEADLINE_S)
    sr.wait_for_status(graphql, canceled, ["STARTED"], RUN_DEADLINE_S)

    old_server = kill_code_server(compose_stack)
    try:
        # Terminating while the code server is gone: the webserver marks the run CANCELING, then cannot reach
        # anyone to cancel it. Only a forced terminate clears it (what `edp-tui terminate --force` sends).
        terminate = graphql(sr.TERMINATE, {"runId": canceled})["terminateRun"]
        assert terminate["__typename"] != "TerminateRunSuccess", terminate
        assert sr.run(graphql, canceled)["status"] == "CANCELING"
        forced = graphql(sr.FORCE_TERMINATE, {"runId": canceled})["terminateRun"]
        assert forced["__typename"] == "TerminateRunSuccess", forced
        assert forced["run"]["status"] == "CANCELED"
        assert sr.run(graphql, lost)["status"] == "STARTED"  # nobody can know yet
    finally:
        back = start_code_server(compose_stack, old_server)

    sr.wait_for_status(graphql, lost, sr.FINISHED, LOST_DEADLINE_S)
    STACK_TIMINGS["lost run ended, after its code server was back"] = time.monotonic() - back
    assert_lost(compose_stack, lost)
    assert sr.in_progress(graphql) == []  # no slot held by a dead run

    # The queue works at full width again: max_concurrent_runs (3) runs go through. (Whether they left the
    # queue before the first of them ended is a race with these short runs: the daemon dequeued the first
    # before the other two were launched and it ended in 0.2 s; the slot itself is checked just above.)
    runs = [sr.launch(graphql, "ingestion_job", SMALL) for _ in range(3)]
    for run_id in runs:
        assert sr.wait_for_status(graphql, run_id, sr.FINISHED, RUN_DEADLINE_S) == "SUCCESS"
    assert all(dequeued_at(compose_stack, r) for r in runs)  # each went through the queue (RUN_STARTING)
    wait_healthy(compose_stack)


def test_twenty_runs_launched_at_once_drain_with_none_stuck(compose_stack: ComposeStack) -> None:
    graphql = compose_stack.graphql
    started = time.monotonic()
    runs = [sr.launch(graphql, "ingestion_job", SMALL) for _ in range(20)]
    statuses = [sr.wait_for_status(graphql, r, sr.FINISHED, RUN_DEADLINE_S, interval_s=2) for r in runs]
    STACK_TIMINGS["twenty ingestion_job runs launched at once, drained"] = time.monotonic() - started
    outcome = zip(runs, statuses, strict=True)
    failed = {r: failure_reason(compose_stack, r) for r, status in outcome if status != "SUCCESS"}
    assert failed == {}
    assert sr.in_progress(graphql) == []


def test_down_and_up_in_the_middle_of_a_run_leaves_no_run_started(compose_stack: ComposeStack) -> None:
    graphql = compose_stack.graphql
    run_id = sr.launch(graphql, "full_refresh_job", SMALL)
    sr.wait_for_step_start(graphql, run_id, "retail_dbt_models", RUN_DEADLINE_S)
    old_server = str(sr.location_loaded(graphql))
    # SIGKILL one second after SIGTERM: with a longer grace the code server lets a small run finish first.
    compose_stack.compose("down", "--timeout", "1")  # volumes kept
    wait_healthy(compose_stack)

    def new_server() -> bool:
        server_id = sr.location_loaded(graphql)
        return server_id is not None and server_id != old_server

    sr.wait_until("location loaded after up", new_server, BACK_DEADLINE_S)
    # Ended one way or another (lost, interrupted, or finished within the grace): never left STARTED.
    status = sr.wait_for_status(graphql, run_id, sr.FINISHED, LOST_DEADLINE_S)
    if status == "FAILURE" and LOST_TAG in sr.tags(sr.run(graphql, run_id)):
        assert_lost(compose_stack, run_id)
    assert sr.in_progress(graphql) == []
