"""The instance's run coordinator (stack/dagster*.yaml `run_coordinator`): Dagster's QueuedRunCoordinator
whose dequeue interval may be a fraction of a second.

Dagster's config takes whole seconds, while the daemon's loop (IntervalDaemon.core_loop) takes any number and
looks at the clock every 0.5 s: with 1 s, a dequeue pass runs every 1.0 s + its own time, so a launched run
waits half that in QUEUED on average and up to all of it; with 0.5 s, every 0.5 s + its time. Below 0.5 s
changes nothing but the name (the loop's own 0.5 s wait). Limits, threads, the daemon itself: all Dagster's.

Only the interval's type differs: the public `dequeue_interval_seconds` property, which the daemon controller
reads to build the queue daemon, and its config field. tests/unit/test_run_coordinator.py builds the daemon
from the stack's configuration the way the controller does and fails if that daemon's interval is not 0.5 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from dagster import Field
from dagster._core.run_coordinator import QueuedRunCoordinator

# A pass is a few queries: a smaller interval would not dequeue sooner (see above), only look more often.
MIN_INTERVAL_S = 0.5


class PromptQueuedRunCoordinator(QueuedRunCoordinator):
    """QueuedRunCoordinator with `dequeue_interval_seconds` in fractions of a second (0.5 at the least)."""

    def __init__(self, dequeue_interval_seconds: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        interval = 5.0 if dequeue_interval_seconds is None else float(dequeue_interval_seconds)
        if interval < MIN_INTERVAL_S:
            raise ValueError(
                f"dequeue_interval_seconds must be at least {MIN_INTERVAL_S} (the daemon's loop wakes every "
                f"0.5 s), got {dequeue_interval_seconds}"
            )
        self._interval = interval

    @property
    def dequeue_interval_seconds(self) -> float:  # type: ignore[override]
        return self._interval

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        schema = dict(cast(Mapping[str, Any], QueuedRunCoordinator.config_type()))
        schema["dequeue_interval_seconds"] = Field(
            config=float,
            is_required=False,
            description=(
                "Seconds between the daemon's looks at the run queue (fractions allowed, at least "
                f"{MIN_INTERVAL_S}; default 5)."
            ),
        )
        return schema
