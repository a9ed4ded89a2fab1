"""`RunChangeProbe`: full reads while runs change, one tiny `updatedAfter` query per poll once they settle."""

from __future__ import annotations

from typing import Any

from edp_tui.dagster.changes import CLOCK_MARGIN_S, RunChangeProbe
from edp_tui.dagster.models import RunSummary

DONE = RunSummary("r1", "job", "SUCCESS", 100.0, 101.0, 110.0, False)
RUNNING = RunSummary("r2", "job", "STARTED", 200.0, 201.0, None, True)


class Runs:
    """Answers `runs(updated_after=...)` from (run, update time) pairs, and records what was asked."""

    def __init__(self, updates: list[tuple[RunSummary, float]]) -> None:
        self.updates = updates
        self.asked: list[dict[str, Any]] = []

    async def runs(self, limit: int = 50, cursor: str | None = None, **kw: Any) -> list[RunSummary]:
        self.asked.append({"limit": limit, **kw})
        after = kw.get("updated_after")
        return [r for r, at in self.updates if after is None or at > after][:limit]


async def test_settled_runs_are_probed_and_a_change_is_seen() -> None:
    probe = RunChangeProbe(quiet_after=2, full_every_s=15.0)
    # A running run: every poll is a full read.
    probe.full_read(1000.0, [RUNNING, DONE])
    probe.full_read(1000.5, [RUNNING, DONE])
    assert probe.needs_full_read(1001.0)
    # Everything terminal and unchanged for two reads: probes from then on.
    settled = [DONE]
    for t in (1001.0, 1001.5, 1002.0):
        probe.full_read(t, settled)
    assert not probe.needs_full_read(1002.5)
    client = Runs([(DONE, 990.0)])
    assert not await probe.changed(client)  # type: ignore[arg-type]
    assert client.asked == [{"limit": 1, "updated_after": 1002.0 - CLOCK_MARGIN_S}]
    # A run created (or changing status) after the last full read is seen by the next probe.
    client.updates.append((RUNNING, 1002.6))
    assert await probe.changed(client)  # type: ignore[arg-type]


def test_safety_net_read_and_hurry() -> None:
    probe = RunChangeProbe(quiet_after=1, full_every_s=10.0)
    probe.full_read(0.0, [DONE])
    probe.full_read(1.0, [DONE])
    assert not probe.needs_full_read(5.0)
    assert probe.needs_full_read(11.0)  # every full_every_s whatever the probes say
    probe.hurry()
    assert probe.needs_full_read(2.0)
