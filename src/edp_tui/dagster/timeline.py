"""Spans for a timeline: each step of one run (start, length, outcome; Dagster's stepStats) or each recent
run across jobs, on a common time window. Plain data; the UI draws one bar per span."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from edp_tui.dagster.models import RunDetail, RunSummary

LIVE_STATUSES = frozenset({"IN_PROGRESS", "STARTED", "STARTING", "CANCELING"})


@dataclass(frozen=True)
class Span:
    label: str
    status: str  # a step's (SUCCESS, FAILURE, IN_PROGRESS, SKIPPED) or a run's status
    start: float | None  # None: not started (a pending step, a queued run)
    end: float | None  # None: still going (drawn up to now)
    key: str = ""  # a run's id for the runs timeline

    def length(self, now: float) -> float | None:
        if self.start is None:
            return None
        return max((self.end if self.end is not None else now) - self.start, 0.0)


@dataclass(frozen=True)
class Timeline:
    spans: tuple[Span, ...]
    begin: float  # the window every bar is drawn in
    end: float

    @property
    def size(self) -> float:
        return max(self.end - self.begin, 1e-3)


def window(spans: Iterable[Span], now: float) -> Timeline:
    spans = tuple(spans)
    starts = [s.start for s in spans if s.start is not None]
    if not starts:
        return Timeline(spans, now, now)
    ends = [s.end if s.end is not None else now for s in spans if s.start is not None]
    return Timeline(spans, min(starts), max(max(ends), min(starts)))


def step_timeline(detail: RunDetail, now: float) -> Timeline:
    """The run's steps in the order they started (those not started last), over the run's own span."""
    steps = sorted(detail.steps, key=lambda s: (s.start_time is None, s.start_time or 0.0, s.step_key))
    spans = [Span(s.step_key, s.status or "PENDING", s.start_time, s.end_time) for s in steps]
    timeline = window(spans, now)
    run = detail.run
    if run.start_time is not None and timeline.spans:  # the run's own start: time before the first step
        begin = min(run.start_time, timeline.begin)
        end = run.end_time if run.end_time is not None and run.end_time > timeline.end else timeline.end
        return Timeline(timeline.spans, begin, end)
    return timeline


def runs_timeline(runs: Iterable[RunSummary], now: float) -> Timeline:
    """Recent runs across jobs, oldest first, labelled by job; a queued run has no bar yet."""
    ordered = sorted(runs, key=lambda r: (r.start_time or r.creation_time or now, r.run_id))
    spans = [
        Span(
            r.job_name,
            r.status,
            r.start_time,
            r.end_time if r.status not in LIVE_STATUSES else None,
            r.run_id,
        )
        for r in ordered
    ]
    return window(spans, now)
