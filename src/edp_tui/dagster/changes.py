"""Is there anything new? Questions that cost (almost) nothing to answer, asked instead of a full read at
rest: `RunChangeProbe` for the runs list, `AssetChangeProbe` for the Assets tab; and `next_tick_due`, when
the schedules and sensors table can next change by itself (ticks come when they are due, nothing pushes them).

Dagster pushes no run-status changes for the runs list (its subscriptions are per run: `pipelineRunLogs`), so
the list is polled. While every run is terminal and nothing changed for a few reads, a full page (50 runs)
every 0.5 s is wasted work for both sides; instead the panel asks for at most one run updated after the last
full read (`RunsFilter.updatedAfter`: the runs table's update timestamp, set on creation and on every status
change) and reads the full page again only when that answers something, or every `full_every_s` as a safety
net (clock skew between this host and the webserver's database).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.models import InstigatorInfo, RunSummary

# Seconds subtracted from the watermark: the webserver's clock may lag ours a little.
CLOCK_MARGIN_S = 2.0


class RunChangeProbe:
    def __init__(self, *, quiet_after: int = 3, full_every_s: float = 15.0) -> None:
        self.quiet_after = quiet_after
        self.full_every_s = full_every_s
        self.quiet_reads = 0
        self.last_full: float | None = None
        self._previous: tuple[RunSummary, ...] | None = None

    def full_read(self, started_at: float, runs: Sequence[RunSummary]) -> None:
        """Record a full read that started at ``started_at`` (epoch seconds) and what it brought."""
        current = tuple(runs)
        settled = current == self._previous and all(r.is_terminal for r in current)
        self.quiet_reads = self.quiet_reads + 1 if settled else 0
        self._previous = current
        self.last_full = started_at

    def needs_full_read(self, now: float) -> bool:
        """True unless the list has been quiet and the safety-net read is not due yet."""
        if self.last_full is None or self.quiet_reads < self.quiet_after:
            return True
        return now - self.last_full >= self.full_every_s

    def hurry(self) -> None:
        """An action is about to change something: read fully again until things settle."""
        self.quiet_reads = 0

    async def changed(self, client: DagsterApi) -> bool:
        """Whether any run was created or changed status since the last full read (one tiny query)."""
        since = (self.last_full or 0.0) - CLOCK_MARGIN_S
        return bool(await client.runs(limit=1, updated_after=since))


class AssetChangeProbe:
    """Whether the Assets query (one event-log read per asset, staleness per asset: the costliest read the
    dashboard makes) could answer anything new, from `AssetChangeSignals`: a run created or changed status
    since the last full read (materializations and check results come from runs), a run in progress (read
    fully while it lasts), a code location loaded again (new code versions). Read fully anyway every
    ``full_every_s`` (runless asset events, clock skew) and whenever an action or a key asks (`hurry`).
    """

    def __init__(self, *, full_every_s: float = 120.0) -> None:
        self.full_every_s = full_every_s
        self.last_full: float | None = None
        self.run_live = False
        self.locations: tuple[tuple[str, float | None], ...] | None = None
        self._hurried = True

    def full_read(self, started_at: float) -> None:
        self.last_full = started_at
        self._hurried = False

    def hurry(self) -> None:
        self._hurried = True

    async def should_read(self, client: DagsterApi, now: float) -> bool:
        """Whether to read fully now: asked for, or the probe says something may have changed, or due."""
        if self._hurried or self.last_full is None:
            return True
        signals = await client.asset_change_signals(self.last_full - CLOCK_MARGIN_S)
        self.run_live = signals.run_live
        moved = self.locations is not None and signals.locations != self.locations
        self.locations = signals.locations
        changed = signals.runs_changed or signals.run_live or moved
        return changed or now - self.last_full >= self.full_every_s


def sensor_interval_s(item: InstigatorInfo) -> float | None:
    """A sensor's minimum interval, from its cadence text (`InstigatorInfo.sensor_from_graphql`: every Ns)."""
    match = re.fullmatch(r"every (\d+)s", item.cadence)
    return float(match.group(1)) if item.kind == "sensor" and match else None


def tick_due(item: InstigatorInfo) -> float | None:
    """When the next tick of a running schedule or sensor is due (epoch s; in the past if the daemon is
    late); None if it is stopped or has no known cadence. Dagster answers a sensor's next tick (its last tick
    plus its interval) only while it is in the future: once due it is null, so it is worked out here."""
    if not item.running:
        return None
    if item.next_tick is not None:
        return item.next_tick
    if (interval := sensor_interval_s(item)) and item.last_tick and item.last_tick.timestamp:
        return item.last_tick.timestamp + interval
    return None


def next_tick_due(items: Iterable[InstigatorInfo]) -> float | None:
    """The earliest `tick_due`: until then only a toggle or a reload (a key here, or another client) changes
    what the schedules and sensors table shows."""
    return min((d for i in items if (d := tick_due(i)) is not None), default=None)


def without_ticks(item: InstigatorInfo) -> InstigatorInfo:
    """``item`` without what a tick changes: a difference left is a change nobody could predict."""
    return replace(item, next_tick=None, last_tick=None)
