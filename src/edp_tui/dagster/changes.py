"""`RunChangeProbe`: is there anything new in the runs list? A question that costs (almost) nothing to answer.

Dagster pushes no run-status changes for the runs list (its subscriptions are per run: `pipelineRunLogs`), so
the list is polled. While every run is terminal and nothing changed for a few reads, a full page (50 runs)
every 0.5 s is wasted work for both sides; instead the panel asks for at most one run updated after the last
full read (`RunsFilter.updatedAfter`: the runs table's update timestamp, set on creation and on every status
change) and reads the full page again only when that answers something, or every `full_every_s` as a safety
net (clock skew between this host and the webserver's database).
"""

from __future__ import annotations

from collections.abc import Sequence

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.models import RunSummary

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
