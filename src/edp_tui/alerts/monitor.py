"""`AlertMonitor`: one look at the stack for what is new since the last (failed runs, failed checks, refused
reloads; with sources for them, the daemon's health and the services too), as candidate events.

The dashboard hands it the daemon health and service states it already has (`observe_daemon`,
`observe_services`) and lets it poll only the rest; `edp-tui watch` gives it every source.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from edp_tui.alerts import detect
from edp_tui.alerts.events import AlertEvent
from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.models import DaemonHealth
from edp_tui.docker.models import ServiceState

if TYPE_CHECKING:  # the reader needs the docker SDK, which `edp-tui watch --no-docker` never imports
    from edp_tui.reload_status.reader import ReloadStatusSource

# Runs and checks are asked for since the last look minus this much (clocks of two hosts, a slow answer):
# the feed drops what was already told.
OVERLAP_S = 60.0
RUNS_PER_LOOK = 50


@dataclass
class Look:
    events: list[AlertEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one per source that could not be read


class AlertMonitor:
    def __init__(
        self,
        client: DagsterApi,
        *,
        since: float,
        reload_status: ReloadStatusSource | None = None,
        services: Callable[[], Sequence[ServiceState]] | None = None,
        poll_daemon: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``since``: what happened before is history (no event). ``services``: a blocking snapshot of the
        service states (run in a thread)."""
        self.client = client
        self.since = since
        self.reload_status = reload_status
        self.services = services
        self.poll_daemon = poll_daemon
        self.clock = clock
        self.conditions = detect.Conditions()
        self._cursor = since

    def observe_daemon(self, health: DaemonHealth) -> list[AlertEvent]:
        return self.conditions.daemon_health(health)

    def observe_services(self, states: Sequence[ServiceState]) -> list[AlertEvent]:
        return self.conditions.service_states(states, self.clock())

    async def look(self) -> Look:
        started = self.clock()
        cursor = max(self.since, self._cursor - OVERLAP_S)
        look = Look()
        reads = {
            "runs": self._runs(cursor),
            "checks": self._checks(cursor),
            **({"reload status": self._reloads()} if self.reload_status is not None else {}),
            **({"daemon": self._daemon()} if self.poll_daemon else {}),
            **({"services": self._services()} if self.services is not None else {}),
        }
        results = await asyncio.gather(*reads.values(), return_exceptions=True)
        for what, result in zip(reads, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                look.errors.append(f"{what}: {result}")
            else:
                look.events += result
        if not look.errors:
            self._cursor = started
        return look

    async def _runs(self, cursor: float) -> list[AlertEvent]:
        runs = await self.client.runs(limit=RUNS_PER_LOOK, statuses=["FAILURE"], updated_after=cursor)
        return detect.failed_runs(runs, self.since)

    async def _checks(self, cursor: float) -> list[AlertEvent]:
        # The asset graph is a big read: only when a run changed since the last look.
        signals = await self.client.asset_change_signals(cursor)
        if not signals.runs_changed:
            return []
        return detect.failed_checks(await self.client.assets(), self.since)

    async def _reloads(self) -> list[AlertEvent]:
        assert self.reload_status is not None
        statuses = await asyncio.to_thread(self.reload_status.read)
        return detect.refused_reloads(statuses, self.since)

    async def _daemon(self) -> list[AlertEvent]:
        return self.observe_daemon(await self.client.daemon_health(now=self.clock()))

    async def _services(self) -> list[AlertEvent]:
        assert self.services is not None
        return self.observe_services(await asyncio.to_thread(self.services))
