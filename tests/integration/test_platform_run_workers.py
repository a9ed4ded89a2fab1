"""The code server's lost-worker watch against a real Dagster instance (temporary, default run launcher), real
processes: a live worker is left alone and its identity recorded, a dead one or a reused pid ends the run with
a readable reason. The workers are Dagster's own (`dagster api execute_run`, the run worker command): they
write the "Started process for run" event themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableJob
from dagster._core.events import DagsterEventType
from dagster._core.execution.api import create_execution_plan
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._core.test_utils import instance_for_test
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import serialize_value
from edp_platform.code_server.lost_workers import (
    IDENTITY_TAG,
    LOST_WORKER_TAG,
    LostWorkerWatch,
    ReportedWorker,
    WorkerIdentity,
    end_lost_runs,
    judge,
    reported_worker,
)

from tests.support.waiting import wait_for

HOST, PORT = "user-code", 4000  # the code server's name in the workspace, and its port
WAIT_S = 120.0
JOB_FILE = """
import os, time
import dagster as dg

@dg.op
def wait_for_release() -> None:
    release = os.environ["EDP_TEST_RELEASE"]
    while not os.path.exists(release):
        time.sleep(0.1)

@dg.job(executor_def=dg.in_process_executor)
def waiting_job():
    wait_for_release()
"""


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with instance_for_test() as inst:
        yield inst


class Worker:
    """A run of `waiting_job` executed by Dagster's own run worker process (`dagster api execute_run`), as
    launched by the code server at HOST:PORT (its grpc-info tag); it waits until released."""

    def __init__(self, instance: dg.DagsterInstance, tmp_path: Path, *, host: str = HOST) -> None:
        job_file = tmp_path / "waiting_job.py"
        job_file.write_text(textwrap.dedent(JOB_FILE))
        self.release = tmp_path / f"release-{time.monotonic_ns()}"
        recon = ReconstructableJob.for_file(str(job_file), "waiting_job")
        job = recon.get_definition()
        run = instance.create_run_for_job(
            job_def=job,
            execution_plan=create_execution_plan(job),
            job_code_origin=recon.get_python_origin(),
            tags={GRPC_INFO_TAG: json.dumps({"host": host, "port": PORT})},
        )
        self.run_id = run.run_id
        args = ExecuteRunArgs(
            job_origin=recon.get_python_origin(), run_id=run.run_id, instance_ref=instance.get_ref()
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "api", "execute_run", serialize_value(args)],
            env={**os.environ, "EDP_TEST_RELEASE": str(self.release)},
            stdout=subprocess.DEVNULL,
        )
        self.reported = wait_for(
            "the worker's own 'Started process' event", lambda: reported_worker(instance, self.run_id), WAIT_S
        )
        assert self.reported.pid == self.proc.pid
        wait_for(
            "the run STARTED", lambda: status(instance, self.run_id) == dg.DagsterRunStatus.STARTED, WAIT_S
        )

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def finish(self) -> None:
        self.release.touch()
        if self.proc.poll() is None:
            self.proc.wait(WAIT_S)


def status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    current = instance.get_run_by_id(run_id)
    assert current is not None
    return current.status


def test_a_live_worker_is_left_alone_and_its_identity_recorded(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    worker = Worker(instance, tmp_path)
    try:
        assert end_lost_runs(instance, HOST, PORT) == []
        run = instance.get_run_by_id(worker.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.STARTED
        identity = WorkerIdentity.from_tag(run.tags.get(IDENTITY_TAG), worker.run_id, worker.proc.pid)
        assert identity is not None
        # What it recorded is the process itself, exactly: judged again it is alive.
        assert judge(worker.run_id, worker.reported, identity).gone is None
        assert end_lost_runs(instance, HOST, PORT) == []
    finally:
        worker.finish()
    assert status(instance, worker.run_id) == dg.DagsterRunStatus.SUCCESS


def test_a_killed_worker_and_a_pid_held_by_another_process_end_their_runs(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    worker = Worker(instance, tmp_path)
    assert end_lost_runs(instance, HOST, PORT) == []  # seen alive: identity recorded
    worker.kill()
    done = end_lost_runs(instance, HOST, PORT)
    assert [line.split(":")[0] for line in done] == [worker.run_id]
    assert status(instance, worker.run_id) == dg.DagsterRunStatus.FAILURE
    # A pid that another process holds, started later than the worker: never taken for it.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)  # multiprocessing"])
    try:
        recorded = WorkerIdentity(worker.run_id, other.pid, "", 0)
        reused = judge(worker.run_id, ReportedWorker(other.pid, reported_at=time.time()), recorded)
        assert reused.gone is not None
    finally:
        other.kill()
        other.wait()


def engine_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.message for e in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)]


def test_a_run_whose_worker_died_is_failed_with_the_reason_and_a_tag(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    alive = Worker(instance, tmp_path)
    dead, canceling, elsewhere = (
        Worker(instance, tmp_path),
        Worker(instance, tmp_path),
        Worker(instance, tmp_path, host="other-code-server"),
    )
    for worker in (dead, canceling, elsewhere):
        worker.kill()
    current = instance.get_run_by_id(canceling.run_id)
    assert current is not None
    instance.report_run_canceling(current)
    try:
        done = end_lost_runs(instance, HOST, PORT)
        again = end_lost_runs(instance, HOST, PORT)
        assert again == []  # a second pass finds nothing more to do
        assert sorted(line.split(":")[0] for line in done) == sorted([dead.run_id, canceling.run_id])
        assert status(instance, alive.run_id) == dg.DagsterRunStatus.STARTED
        # Another code server's worker: not ours to judge.
        assert status(instance, elsewhere.run_id) == dg.DagsterRunStatus.STARTED
        assert status(instance, dead.run_id) == dg.DagsterRunStatus.FAILURE
        assert status(instance, canceling.run_id) == dg.DagsterRunStatus.CANCELED
    finally:
        alive.finish()
    failed = instance.get_run_by_id(dead.run_id)
    assert failed is not None
    pid = dead.proc.pid
    assert failed.tags[LOST_WORKER_TAG].startswith(
        f"Run worker lost: worker pid {pid} of run {dead.run_id} on "
    )
    lost_events = [m for m in engine_messages(instance, dead.run_id) if m.startswith("Run worker lost")]
    assert len(lost_events) == 1
    assert f"no process with pid {pid} exists any more" in lost_events[0]
    assert "detected at" in lost_events[0] and "reported at" in lost_events[0]


def test_the_watch_ends_lost_runs_quietly_and_survives_a_failing_instance(
    instance: dg.DagsterInstance, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    worker = Worker(instance, tmp_path)
    worker.kill()
    watch = LostWorkerWatch(HOST, PORT, interval=60)
    watch._instance = instance
    caplog.set_level("INFO", logger="edp.lost_workers")
    assert [line.split(":")[0] for line in watch.check_once()] == [worker.run_id]
    assert [r.levelname for r in caplog.records] == ["WARNING"] and worker.run_id in caplog.records[0].message
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
