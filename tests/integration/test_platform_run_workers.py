"""The code server's lost-worker watch against a real Dagster instance (temporary, default run launcher), real
processes: a live worker is left alone, a dead one or a reused pid ends the run with a readable reason."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType, EngineEventData
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._core.test_utils import instance_for_test
from edp_platform.code_server.lost_workers import (
    LOST_WORKER_TAG,
    LostWorkerWatch,
    ReportedWorker,
    end_lost_runs,
    worker_gone_reason,
)

HOST, PORT = "user-code", 4000  # the code server's name in the workspace, and its port


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
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
        done = end_lost_runs(instance, HOST, PORT)
        again = end_lost_runs(instance, HOST, PORT)
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


def test_the_watch_ends_lost_runs_quietly_and_survives_a_failing_instance(
    instance: dg.DagsterInstance, caplog: pytest.LogCaptureFixture
) -> None:
    dead_proc = sleeper()
    dead_proc.kill()
    dead_proc.wait()
    run = add_run(instance, dead_proc.pid)
    watch = LostWorkerWatch(HOST, PORT, interval=60)
    watch._instance = instance
    caplog.set_level("INFO", logger="edp.lost_workers")
    assert [line.split(":")[0] for line in watch.check_once()] == [run.run_id]
    assert [r.levelname for r in caplog.records] == ["WARNING"] and run.run_id in caplog.records[0].message
    caplog.clear()
    assert watch.check_once() == []
    assert caplog.records == []  # nothing lost, nothing in the log (the old sensor wrote two lines a tick)

    class Broken:
        def get_runs(self, **_: object) -> object:
            raise ConnectionError("server closed the connection unexpectedly")

        def dispose(self) -> None:
            pass

    for _ in range(3):
        watch._instance = Broken()  # type: ignore[assignment]
        assert watch.check_once() == []
    # Said once, not once a pass; then said again when it works.
    assert [r.message for r in caplog.records] == [
        "lost-worker watch: ConnectionError: server closed the connection unexpectedly (retried every 60 s)"
    ]
    watch._instance = instance
    assert watch.check_once() == []
    assert caplog.records[-1].message == "lost-worker watch: working again"
