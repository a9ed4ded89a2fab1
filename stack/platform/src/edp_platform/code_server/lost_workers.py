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
from 1. So the first time the watch sees the worker it records who holds that pid: the kernel's boot id and
the process's exact start time in clock ticks since boot (/proc/<pid>/stat), in the run tag IDENTITY_TAG
(with the run id and pid, so a copy of the tag on a re-executed run is never taken for that run's own). From
then on the worker is that process exactly: a different boot, a different start tick or no process is a
gone worker, whatever the wall clock did (a clock step moves /proc/stat's btime and every wall-clock start
time derived from it, not the ticks). At that first sight only, the holder must also be plausible: started
no later than the worker's event (measured in seconds since boot for the process, by the wall clock for the
event: a clock step in the seconds between the event and the first look is the one case it can misjudge)
and a multiprocessing/dagster process by its command line.

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
# Set on a run when the watch first sees its worker: who that worker is (WorkerIdentity, JSON).
IDENTITY_TAG = "edp/worker"
LOST_WORKER_MESSAGE = "Run worker lost"
WORKER_STARTED_PREFIX = "Started process for run (pid: "
WATCHED_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
# At first sight: the event is written after the process started, and /proc/uptime has centiseconds.
START_TIME_SLACK_S = 2.0
PROC = Path("/proc")


CONTAINER_TAG = "docker/container_id"  # set by dagster-docker's launcher: its run monitoring watches those
logger = logging.getLogger("edp.lost_workers")


def watch_interval_seconds() -> float:
    # One query of the unfinished runs per pass: every 30 s ends a lost run well within a minute.
    return float(os.environ.get("EDP_LOST_WORKER_INTERVAL_SECONDS", "30"))


@dataclass(frozen=True)
class ReportedWorker:
    pid: int
    reported_at: float  # epoch seconds of the worker's own "Started process" event


@dataclass(frozen=True)
class WorkerIdentity:
    """Who a run's worker is: the process holding `pid` in boot `boot_id`, started at `start_ticks`."""

    run_id: str
    pid: int
    boot_id: str
    start_ticks: int

    def tag_value(self) -> str:
        return json.dumps(
            {
                "run_id": self.run_id,
                "pid": self.pid,
                "boot_id": self.boot_id,
                "start_ticks": self.start_ticks,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_tag(cls, raw: str | None, run_id: str, pid: int) -> WorkerIdentity | None:
        """The identity recorded for this run's worker `pid`, or None (none, unreadable, or recorded for
        another run or pid: a copy from a parent run, or a worker started again)."""
        try:
            data = json.loads(raw or "")
            found = cls(str(data["run_id"]), int(data["pid"]), str(data["boot_id"]), int(data["start_ticks"]))
        except (ValueError, KeyError, TypeError):
            return None
        return found if (found.run_id, found.pid) == (run_id, pid) else None


@dataclass(frozen=True)
class Verdict:
    gone: str | None  # why the worker is gone, or None while it runs
    identity: WorkerIdentity | None  # who it is (recorded at first sight), when it runs


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


def boot_id() -> str:
    return (PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()


def _uptime_s() -> float:
    return float((PROC / "uptime").read_text().split()[0])


def looks_like_worker(cmdline: bytes) -> bool:
    return b"multiprocessing" in cmdline or b"dagster" in cmdline


def _process(pid: int) -> tuple[str, int, bytes] | None:
    """(state, start ticks since boot, command line) of the process holding `pid`, or None."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Fields after the command name, which is in parentheses and may hold spaces: state is field 3,
    # starttime (clock ticks since boot) field 22.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19]), cmdline


def judge(run_id: str, worker: ReportedWorker, recorded: WorkerIdentity | None) -> Verdict:
    """Is the reported worker still running? With `recorded` (its identity from an earlier look) exactly;
    without, at first sight (see the module's docstring)."""
    held = _process(worker.pid)
    if held is None:
        return Verdict(f"no process with pid {worker.pid} exists any more", None)
    state, start_ticks, cmdline = held
    if state in {"Z", "X"}:
        return Verdict(f"process {worker.pid} has exited (state {state})", None)
    boot = boot_id()
    if recorded is not None:
        if recorded.boot_id != boot:
            return Verdict(f"the host restarted since the worker (pid {worker.pid}) was seen", None)
        if recorded.start_ticks != start_ticks:
            return Verdict(
                f"pid {worker.pid} now belongs to a process started at tick {start_ticks} since boot, not "
                f"the worker started at tick {recorded.start_ticks} (the pid was reused after a restart)",
                None,
            )
        return Verdict(None, recorded)
    hz = os.sysconf("SC_CLK_TCK")
    age_s = _uptime_s() - start_ticks / hz
    reported_ago_s = time.time() - worker.reported_at
    if age_s + START_TIME_SLACK_S < reported_ago_s:
        return Verdict(
            f"pid {worker.pid} now belongs to a process started {age_s:.0f} s ago, after the worker reported "
            f"at {_iso(worker.reported_at)} (the pid was reused after a restart)",
            None,
        )
    if not looks_like_worker(cmdline):
        shown = cmdline.decode(errors="replace").strip()[:120]
        return Verdict(f"pid {worker.pid} now runs {shown!r}, not a run worker", None)
    return Verdict(None, WorkerIdentity(run_id, worker.pid, boot, start_ticks))


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
    # The run's own id in the verdict: a copy of the tag on a re-execution of this run is not that run's.
    summary = (
        f"{LOST_WORKER_MESSAGE}: worker pid {worker.pid} of run {run.run_id} on host {where} is gone ({why})"
    )
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
        recorded = WorkerIdentity.from_tag(run.tags.get(IDENTITY_TAG), run.run_id, worker.pid)
        verdict = judge(run.run_id, worker, recorded)
        if verdict.gone is None:
            if recorded is None and verdict.identity is not None:
                instance.add_run_tags(run.run_id, {IDENTITY_TAG: verdict.identity.tag_value()})
            continue
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.is_finished:
            continue  # it ended on its own meanwhile
        done.append(f"{run.run_id}: {end_lost_run(instance, current, worker, verdict.gone)}")
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
