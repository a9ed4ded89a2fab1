"""Lost run workers: the code server ends runs whose worker is gone, so none stays STARTED or holds a slot.

With the default run launcher every run is a `multiprocessing` child of the code server's `dagster api grpc`
process (dagster/_grpc/server.py StartRun). When that process dies with its container (`docker kill`,
`down`), the run's worker dies too and nothing ever writes the run's end: the run stays STARTED (or CANCELING)
for good, and the QueuedRunCoordinator keeps counting it against `max_concurrent_runs`. Dagster's own run
monitoring cannot see this: `DefaultRunLauncher.supports_check_run_worker_health` is False.

Why in the code server, not a daemon-side component: only the user-code container can tell a live run worker
from a dead one. The workers live in its PID namespace, which the daemon and the webserver do not share; the
code server's gRPC API knows only the runs of its current subprocess (dagster/_grpc/proxy_server.py keeps
run -> server in memory; after a reload the previous subprocess keeps serving its runs, after a restart nobody
knows them), so asking it would call live workers lost. So every code server of the platform (one per code
location, edp_platform.code_server.supervisor) runs a LostWorkerWatch thread in that PID namespace, whatever
its location's code: no user adds a sensor for it. It reports through Dagster's own APIs: an engine event
saying which worker, when and why, the run tag LOST_WORKER_TAG, then `report_run_failed` (or
`report_run_canceled` for a run that was being canceled). Nothing is written into Dagster's tables directly.
At rest it is one query of the unfinished runs per interval, and it writes nothing to the log.

Which worker: the pid in the run's "Started process for run (pid: N)." engine event (written by the worker
itself, dagster/_grpc/impl.py). A pid alone is not an identity: after a container restart PIDs start again
from 1, so the process now holding that pid must also have started before the worker reported (its start
time from /proc) and be a multiprocessing/dagster process (its cmdline).

Only runs this code server launched are judged (the launcher's grpc-info tag names host and port, compared
with the code server's own), and only runs of the default launcher (a run in a container of its own, tag
docker/container_id, is watched by Dagster's run monitoring). A run that never got a worker (STARTING without
that event) is ended by run monitoring's start timeout, a cancel that never completes by its cancel timeout
(stack/dagster.yaml `run_monitoring`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType, EngineEventData
from dagster._core.storage.tags import GRPC_INFO_TAG

# Set on a run the watch ended; its value says why (the same text as the engine event's first line).
LOST_WORKER_TAG = "edp/lost_worker"
LOST_WORKER_MESSAGE = "Run worker lost"
WORKER_STARTED_PREFIX = "Started process for run (pid: "
WATCHED_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
# /proc/stat's btime is whole seconds and the event is written after the process started: allow for both.
START_TIME_SLACK_S = 2.0
PROC = Path("/proc")


CONTAINER_TAG = "docker/container_id"  # set by dagster-docker's launcher: its run monitoring watches those
logger = logging.getLogger("edp.lost_workers")


def watch_interval_seconds() -> float:
    return float(os.environ.get("EDP_LOST_WORKER_INTERVAL_SECONDS", "10"))


@dataclass(frozen=True)
class ReportedWorker:
    pid: int
    reported_at: float  # epoch seconds of the worker's own "Started process" event


def reported_worker(instance: dg.DagsterInstance, run_id: str) -> ReportedWorker | None:
    """The newest run worker the run's engine events name, if any."""
    found = None
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        if not entry.message.startswith(WORKER_STARTED_PREFIX):
            continue
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        pid = data.metadata.get("pid") if data else None
        if pid is not None:
            found = ReportedWorker(pid=int(str(pid.value)), reported_at=entry.timestamp)
    return found


def _boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime line")


def worker_gone_reason(worker: ReportedWorker) -> str | None:
    """Why the reported worker is not running any more, or None when it still is."""
    try:
        stat = (PROC / str(worker.pid) / "stat").read_text()
        cmdline = (PROC / str(worker.pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except (FileNotFoundError, ProcessLookupError):
        return f"no process with pid {worker.pid} exists any more"
    # Fields after the command name, which is in parentheses and may hold spaces: state is field 3,
    # starttime (clock ticks since boot) field 22.
    fields = stat.rsplit(")", 1)[1].split()
    state, start_ticks = fields[0], int(fields[19])
    if state in {"Z", "X"}:
        return f"process {worker.pid} has exited (state {state})"
    started_at = _boot_time() + start_ticks / os.sysconf("SC_CLK_TCK")
    if started_at > worker.reported_at + START_TIME_SLACK_S:
        return (
            f"pid {worker.pid} now belongs to a process started at {_iso(started_at)}, after the worker "
            f"reported at {_iso(worker.reported_at)} (the pid was reused after a restart)"
        )
    if b"multiprocessing" not in cmdline and b"dagster" not in cmdline:
        shown = cmdline.decode(errors="replace").strip()[:120]
        return f"pid {worker.pid} now runs {shown!r}, not a run worker"
    return None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")


def launched_here(run: dg.DagsterRun, host: str | None, port: int) -> bool:
    """True when the code server at (host, port) launched the run's worker in this container (host None:
    any host name, for a code server that does not know the name the workspace gives it)."""
    raw = run.tags.get(GRPC_INFO_TAG)
    if not raw or CONTAINER_TAG in run.tags:
        return False
    try:
        info = json.loads(raw)
    except ValueError:
        return False
    return (host is None or info.get("host") == host) and str(info.get("port")) == str(port)


def end_lost_run(instance: dg.DagsterInstance, run: dg.DagsterRun, worker: ReportedWorker, why: str) -> str:
    where = socket.gethostname()
    summary = f"{LOST_WORKER_MESSAGE}: worker pid {worker.pid} on host {where} is gone ({why})"
    detail = (
        f"{summary}. The worker reported at {_iso(worker.reported_at)}; detected at {_iso(time.time())} by "
        "the code server's lost-worker watch. Its code server was most likely restarted or killed during the "
        "run."
    )
    instance.report_engine_event(
        detail,
        run,
        EngineEventData(
            metadata={
                "pid": str(worker.pid),
                "worker_host": where,
                "worker_reported_at": _iso(worker.reported_at),
                "reason": why,
            }
        ),
    )
    instance.add_run_tags(run.run_id, {LOST_WORKER_TAG: summary})
    if run.status == dg.DagsterRunStatus.CANCELING:
        instance.report_run_canceled(run, message=f"{summary}: the cancel is complete")
    else:
        instance.report_run_failed(run, message=summary)
    return summary


def end_lost_runs(instance: dg.DagsterInstance, host: str | None, port: int) -> list[str]:
    """Ends every watched run of the code server at (host, port) whose worker is gone; says what it did."""
    done = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=WATCHED_STATUSES)):
        if not launched_here(run, host, port):
            continue
        worker = reported_worker(instance, run.run_id)
        if worker is None:
            continue  # not started yet: run monitoring's start timeout covers a worker that never comes
        why = worker_gone_reason(worker)
        current = instance.get_run_by_id(run.run_id)
        if why is None or current is None or current.is_finished:
            continue  # alive, or it ended on its own meanwhile
        done.append(f"{run.run_id}: {end_lost_run(instance, current, worker, why)}")
    return done


class LostWorkerWatch(threading.Thread):
    """Every interval, ends the runs of this code server whose worker is gone (see the module docstring).
    Quiet when nothing is lost; an error (the database restarting, say) is logged once and retried."""

    def __init__(self, host: str | None, port: int, interval: float | None = None) -> None:
        super().__init__(name="edp-lost-workers", daemon=True)
        self.host, self.port = host, port
        self.interval = watch_interval_seconds() if interval is None else interval
        self.stopped = threading.Event()
        self._instance: dg.DagsterInstance | None = None
        self._failing = False

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.check_once()

    def check_once(self) -> list[str]:
        try:
            if self._instance is None:
                self._instance = dg.DagsterInstance.get()
            done = end_lost_runs(self._instance, self.host, self.port)
        except Exception as exc:  # the database restarting, a broken instance: say so once, try again
            if not self._failing:
                logger.warning(
                    "lost-worker watch: %s: %s (retried every %.0f s)", type(exc).__name__, exc, self.interval
                )
            self._failing = True
            if self._instance is not None:
                self._instance.dispose()
                self._instance = None
            return []
        if self._failing:
            logger.info("lost-worker watch: working again")
        self._failing = False
        for line in done:
            logger.warning(line)
        return done

    def stop(self) -> None:
        self.stopped.set()
