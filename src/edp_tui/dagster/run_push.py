"""Run status changes pushed by the webserver: `pipelineRunLogs`, one subscription per live run on screen.

Dagster pushes nothing for the runs list, but it pushes every event of one run, and a status change is an
event (RUN_ENQUEUED, RUN_STARTING, RUN_START, RUN_SUCCESS, ...). How soon: the webserver's watcher of a run
(dagster 1.13 `SqlPollingEventWatcher`, also for Postgres: its LISTEN/NOTIFY is no longer listened to) reads
the event log every 0.25 s while events come, backing off to 16 s while the run is quiet; so a push is quick
amid a run's events and may be late after a quiet spell, and the runs list keeps polling while a run is live.

`RunStatusWatcher` keeps one subscription open for each live run the runs list shows, and none once every run
shown is terminal; a failure is recorded (the panel says so) and the subscription retried with backoff, while
the list's polling goes on. No Textual here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, replace

from edp_tui.dagster.errors import DagsterGraphQLError, DagsterRequestRejected
from edp_tui.dagster.models import JSON, TERMINAL_RUN_STATUSES, RunSummary
from edp_tui.util.backoff import Backoff

log = logging.getLogger("edp_tui")

# dagster/_core/events EVENT_TYPE_TO_PIPELINE_RUN_STATUS (RUN_DEQUEUED changes no status).
EVENT_STATUS = {
    "RUN_ENQUEUED": "QUEUED",
    "RUN_STARTING": "STARTING",
    "RUN_START": "STARTED",
    "RUN_CANCELING": "CANCELING",
    "RUN_SUCCESS": "SUCCESS",
    "RUN_FAILURE": "FAILURE",
    "RUN_CANCELED": "CANCELED",
}
# A run only moves forward through these: a read that lags a push (the event is stored, and NOTIFY sent,
# before the runs table is updated) must not move a row back.
STATUS_RANK = {
    "NOT_STARTED": 0,
    "QUEUED": 1,
    "STARTING": 2,
    "STARTED": 3,
    "CANCELING": 4,
    **dict.fromkeys(TERMINAL_RUN_STATUSES, 5),
}
# At most this many subscriptions at once (the newest live runs); any others are left to polling.
MAX_SUBSCRIPTIONS = 10


@dataclass(frozen=True)
class RunStatusChange:
    run_id: str
    status: str
    # Epoch seconds of the event, as Dagster stored it.
    timestamp: float | None


def status_changes(run_id: str, payload: JSON) -> list[RunStatusChange]:
    """The status changes of one ``pipelineRunLogs`` frame, oldest first. A failure (no such run) raises."""
    typename = payload.get("__typename")
    if typename == "PipelineRunLogsSubscriptionFailure":
        raise DagsterRequestRejected(typename, str(payload.get("message") or f"run {run_id}"))
    messages = payload.get("messages") or []
    if not isinstance(messages, list):
        raise DagsterGraphQLError([f"pipelineRunLogs messages is not a list: {messages!r:.200}"])
    out = []
    for message in messages:
        status = EVENT_STATUS.get(message.get("eventType") or "") if isinstance(message, dict) else None
        if status is not None:
            ts = message.get("timestamp")
            out.append(RunStatusChange(run_id, status, float(ts) / 1000.0 if ts else None))
    return out


def apply_change(run: RunSummary, change: RunStatusChange) -> RunSummary:
    """``run`` as the pushed change leaves it; unchanged if the change is not ahead of what it shows."""
    if STATUS_RANK.get(change.status, 0) <= STATUS_RANK.get(run.status, 0):
        return run
    terminal = change.status in TERMINAL_RUN_STATUSES
    return replace(
        run,
        status=change.status,
        start_time=run.start_time or (change.timestamp if change.status == "STARTED" else None),
        end_time=run.end_time or (change.timestamp if terminal else None),
        can_terminate=not terminal and change.status != "CANCELING",
        update_time=change.timestamp or run.update_time,
    )


class RunStatusWatcher:
    """One subscription per watched run; ``on_change`` gets each pushed status change, ``on_state`` is called
    when a subscription connects or fails (for the panel to say so).

    ``subscribe(run_id)`` yields the changes of each frame, as a list (`DagsterClient.run_status_changes`);
    the first frame (past events, possibly none) says the subscription is live.
    """

    def __init__(
        self,
        subscribe: Callable[[str], AsyncIterator[list[RunStatusChange]]],
        on_change: Callable[[RunStatusChange], None],
        on_state: Callable[[], None] = lambda: None,
        *,
        retry_base: float = 1.0,
        retry_cap: float = 15.0,
    ) -> None:
        self._subscribe = subscribe
        self._on_change = on_change
        self._on_state = on_state
        self._retry = (retry_base, retry_cap)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Runs whose subscription has answered its first frame and not failed since.
        self.connected: set[str] = set()
        self.errors: dict[str, Exception] = {}
        self.subscriptions = 0

    @property
    def watched(self) -> set[str]:
        return set(self._tasks)

    @property
    def last_error(self) -> Exception | None:
        return next(iter(self.errors.values()), None)

    def watch(self, run_ids: Iterable[str]) -> None:
        """Subscribe for these runs (the first ``MAX_SUBSCRIPTIONS``), close every other subscription."""
        wanted = list(dict.fromkeys(run_ids))[:MAX_SUBSCRIPTIONS]
        for run_id in set(self._tasks) - set(wanted):
            self._drop(run_id)
        for run_id in wanted:
            if run_id not in self._tasks:
                self._tasks[run_id] = asyncio.get_running_loop().create_task(
                    self._follow(run_id), name=f"run-status-{run_id[:8]}"
                )

    def close(self) -> None:
        for run_id in list(self._tasks):
            self._drop(run_id)

    def _drop(self, run_id: str) -> None:
        task = self._tasks.pop(run_id)
        task.cancel()
        self.connected.discard(run_id)
        self.errors.pop(run_id, None)

    async def _follow(self, run_id: str) -> None:
        backoff = Backoff(*self._retry)
        while True:
            self.subscriptions += 1
            try:
                async for changes in self._subscribe(run_id):
                    if run_id not in self.connected:
                        self.connected.add(run_id)
                        self.errors.pop(run_id, None)
                        backoff.reset()
                        self._on_state()
                    for change in changes:
                        self._on_change(change)
                raise DagsterGraphQLError([f"the status subscription of run {run_id[:8]} ended"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a subscription must never end the watcher: retried
                self.connected.discard(run_id)
                self.errors[run_id] = exc
                log.info("run %s: status subscription failed: %s", run_id[:8], exc)
                self._on_state()
                await asyncio.sleep(backoff.failed())
