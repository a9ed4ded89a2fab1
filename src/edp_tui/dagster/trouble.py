"""Runs in trouble, as the runs list flags them: a worker that is gone, CANCELING for too long, STARTING past
the start timeout. Thresholds follow stack/dagster.yaml's run monitoring (start 300 s, cancel 180 s): the
dashboard flags a run a little before Dagster itself acts, so a person can force-terminate it."""

from __future__ import annotations

from dataclasses import dataclass

from edp_tui.dagster.models import RunSummary
from edp_tui.util import fmt

# The tag lost_run_worker_sensor (etl_pipeline/run_workers.py) puts on a run whose worker is gone.
LOST_WORKER_TAG = "edp/lost_worker"
CANCELING_TOO_LONG_S = 60.0
STARTING_TOO_LONG_S = 120.0


@dataclass(frozen=True)
class Trouble:
    label: str  # a few words for the list
    detail: str  # a sentence for the detail and the confirmation
    force_terminate: bool  # a forced terminate is the way out


def run_trouble(
    run: RunSummary,
    now: float,
    *,
    canceling_after_s: float = CANCELING_TOO_LONG_S,
    starting_after_s: float = STARTING_TOO_LONG_S,
) -> Trouble | None:
    lost = run.tag(LOST_WORKER_TAG)
    if lost is not None:
        return Trouble("worker lost", lost, force_terminate=not run.is_terminal)
    if run.status == "CANCELING":
        since = run.update_time or run.start_time or run.creation_time
        if since is not None and now - since > canceling_after_s:
            waited = fmt.duration(now - since, coarse=True)
            return Trouble(
                f"canceling {waited}",
                f"CANCELING for {waited}: its worker may be gone; a forced terminate marks it CANCELED now",
                force_terminate=True,
            )
    if run.status == "STARTING":
        since = run.update_time or run.creation_time
        if since is not None and now - since > starting_after_s:
            waited = fmt.duration(now - since, coarse=True)
            return Trouble(
                f"starting {waited}",
                f"STARTING for {waited}: its worker has not reported; a forced terminate ends it now",
                force_terminate=True,
            )
    return None
