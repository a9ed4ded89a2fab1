"""lost_run_worker_sensor's logic against a real Dagster instance (temporary, default run launcher) and real
processes: a live worker is left alone, a dead one or a reused pid ends the run with a readable reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType, EngineEventData
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._core.test_utils import instance_for_test
from etl_pipeline.run_workers import (
    LOST_WORKER_TAG,
    ReportedWorker,
    end_lost_runs,
    lost_run_worker_sensor,
    worker_gone_reason,
)

CODE_SERVER = {"DAGSTER_CODE_SERVER_HOST": "user-code", "DAGSTER_CODE_SERVER_PORT": "4000"}


@pytest.fixture
def instance(monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    for key, value in CODE_SERVER.items():
        monkeypatch.setenv(key, value)
    with instance_for_test() as inst:
        yield inst


def sleeper() -> subprocess.Popen[bytes]:
    # Named like a run worker: a multiprocessing child of the gRPC server.
    code = "import time; time.sleep(120)  # multiprocessing stand-in"
    return subprocess.Popen([sys.executable, "-c", code])


def add_run(
    instance: dg.DagsterInstance,
    pid: int,
    *,
    host: str = "user-code",
    status: dg.DagsterRunStatus | None = None,
) -> dg.DagsterRun:
    run = instance.add_run(
        dg.DagsterRun(
            job_name="full_refresh_job",
            status=dg.DagsterRunStatus.STARTED,
            tags={GRPC_INFO_TAG: json.dumps({"host": host, "port": 4000})},
        )
    )
    instance.report_engine_event(
        f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
    )
    if status == dg.DagsterRunStatus.CANCELING:
        instance.report_run_canceling(run)
    return run


def engine_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.message for e in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)]


def test_worker_gone_reason_tells_live_dead_and_reused_pids_apart() -> None:
    proc = sleeper()
    try:
        time.sleep(0.2)
        assert worker_gone_reason(ReportedWorker(proc.pid, reported_at=time.time())) is None
        # The same pid, but the worker reported an hour before this process started: the pid was reused.
        reused = worker_gone_reason(ReportedWorker(proc.pid, reported_at=time.time() - 3600))
        assert reused is not None and "reused" in reused
    finally:
        proc.kill()
        proc.wait()
    gone = worker_gone_reason(ReportedWorker(proc.pid, reported_at=time.time()))
    assert gone == f"no process with pid {proc.pid} exists any more"
    # pid 1 started long before "now" but is no dagster process in a test environment's namespace only when
    # it is not one: judged by its command line.
    pid1 = open("/proc/1/cmdline", "rb").read()
    if b"dagster" not in pid1 and b"multiprocessing" not in pid1:
        assert "not a run worker" in (worker_gone_reason(ReportedWorker(1, reported_at=time.time())) or "")


def test_a_run_whose_worker_died_is_failed_with_the_reason_and_a_tag(instance: dg.DagsterInstance) -> None:
    proc = sleeper()
    alive = add_run(instance, proc.pid)
    dead_proc = sleeper()
    dead_proc.kill()
    dead_proc.wait()
    dead = add_run(instance, dead_proc.pid)
    canceling = add_run(instance, dead_proc.pid, status=dg.DagsterRunStatus.CANCELING)
    elsewhere = add_run(instance, dead_proc.pid, host="other-code-server")
    try:
        done = end_lost_runs(instance)
        again = end_lost_runs(instance)
    finally:
        proc.kill()
        proc.wait()
    assert again == []  # a second pass finds nothing more to do
    assert sorted(line.split(":")[0] for line in done) == sorted([dead.run_id, canceling.run_id])

    def status(run: dg.DagsterRun) -> dg.DagsterRunStatus:
        current = instance.get_run_by_id(run.run_id)
        assert current is not None
        return current.status

    assert status(alive) == dg.DagsterRunStatus.STARTED
    assert status(elsewhere) == dg.DagsterRunStatus.STARTED  # another code server's worker: not ours to judge
    assert status(dead) == dg.DagsterRunStatus.FAILURE
    assert status(canceling) == dg.DagsterRunStatus.CANCELED
    failed = instance.get_run_by_id(dead.run_id)
    assert failed is not None
    assert failed.tags[LOST_WORKER_TAG].startswith(f"Run worker lost: worker pid {dead_proc.pid} on host ")
    lost_events = [m for m in engine_messages(instance, dead.run_id) if m.startswith("Run worker lost")]
    assert len(lost_events) == 1
    assert f"no process with pid {dead_proc.pid} exists any more" in lost_events[0]
    assert "detected at" in lost_events[0] and "reported at" in lost_events[0]


def test_the_sensor_reports_what_it_did(instance: dg.DagsterInstance) -> None:
    dead_proc = sleeper()
    dead_proc.kill()
    dead_proc.wait()
    run = add_run(instance, dead_proc.pid)
    with dg.build_sensor_context(instance=instance) as context:
        result = lost_run_worker_sensor.evaluate_tick(context)
    assert result.run_requests == []
    assert result.skip_message is not None and run.run_id in result.skip_message
    with dg.build_sensor_context(instance=instance) as context:
        again = lost_run_worker_sensor.evaluate_tick(context)
    assert again.skip_message == "every run worker of this code server is alive"
    assert os.environ["DAGSTER_CODE_SERVER_HOST"] == "user-code"
