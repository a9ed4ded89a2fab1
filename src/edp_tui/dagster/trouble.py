"""Runs in trouble, as the runs list flags them: a worker that is gone, CANCELING for too long, STARTING past
the start timeout. Thresholds follow stack/dagster.yaml's run monitoring (start 300 s, cancel 180 s): the
dashboard flags a run a little before Dagster itself acts.

A forced terminate (marking a run CANCELED without waiting for its worker) is offered only when no live
worker can be left behind: the platform's verdict that the worker is gone, or no worker ever identified (a
worker that starts after the run was marked canceled refuses to run it). The platform's lost-worker watch
(edp_platform/code_server/lost_workers.py) records a worker's identity in WORKER_TAG when it first sees it
and ends the run itself within a minute once that worker is gone: a run carrying it is one whose worker is
alive. Both tags name their run: a copy on a re-execution (Dagster copies the parent's tags) is not trusted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from edp_tui.dagster.models import RunSummary
from edp_tui.util import fmt

# The platform's verdict on a run whose worker is gone, and its record of who the worker is.
LOST_WORKER_TAG = "edp/lost_worker"
WORKER_TAG = "edp/worker"
CONTAINER_TAG = "docker/container_id"  # a run in a container of its own: Dagster's run monitoring judges it
CANCELING_TOO_LONG_S = 60.0
STARTING_TOO_LONG_S = 120.0


@dataclass(frozen=True)
class Trouble:
    label: str  # a few words for the list
    detail: str  # a sentence for the detail and the confirmation
    force_terminate: bool  # a forced terminate is the way out


def lost_verdict(run: RunSummary) -> str | None:
    """The platform's lost-worker verdict for this run (it names the run), or None."""
    value = run.tag(LOST_WORKER_TAG)
    return value if value is not None and f" of run {run.run_id} " in value else None


def live_worker_pid(run: RunSummary) -> int | None:
    """The pid of the worker the platform identified for this run (and watches), or None."""
    try:
        data = json.loads(run.tag(WORKER_TAG) or "")
        return int(data["pid"]) if data.get("run_id") == run.run_id else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def force_verdict(run: RunSummary) -> tuple[bool, str]:
    """(may the run be marked CANCELED without its worker, why) for a run that has not ended."""
    if lost_verdict(run) is not None:
        return True, "the platform found its worker gone"
    pid = live_worker_pid(run)
    if pid is not None:
        return False, (
            f"its worker (pid {pid} in user-code) is alive: the platform ends the run within a minute of "
            "that worker going, and Dagster's run monitoring marks a run CANCELING for 180 s CANCELED; "
            "marking it canceled now would leave the worker running"
        )
    if run.tag(CONTAINER_TAG) is not None:
        return False, (
            "it runs in a container of its own, which Dagster's run monitoring watches: it marks the run "
            "CANCELED after 180 s in CANCELING"
        )
    return True, "no worker of it was ever seen running (one that starts later refuses a canceled run)"


def run_trouble(
    run: RunSummary,
    now: float,
    *,
    canceling_after_s: float = CANCELING_TOO_LONG_S,
    starting_after_s: float = STARTING_TOO_LONG_S,
) -> Trouble | None:
    lost = lost_verdict(run)
    if lost is not None:
        return Trouble("worker lost", lost, force_terminate=not run.is_terminal)
    if run.status == "CANCELING":
        since = run.update_time or run.start_time or run.creation_time
        if since is not None and now - since > canceling_after_s:
            waited = fmt.duration(now - since, coarse=True)
            force, why = force_verdict(run)
            tail = "a forced terminate marks it CANCELED now" if force else why
            return Trouble(f"canceling {waited}", f"CANCELING for {waited}: {tail}", force_terminate=force)
    if run.status == "STARTING":
        since = run.update_time or run.creation_time
        if since is not None and now - since > starting_after_s:
            waited = fmt.duration(now - since, coarse=True)
            force, why = force_verdict(run)
            tail = "its worker has not reported; a forced terminate ends it now" if force else why
            return Trouble(f"starting {waited}", f"STARTING for {waited}: {tail}", force_terminate=force)
    return None
