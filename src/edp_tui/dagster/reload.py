"""Reloading a code location and reading its outcome: one routine for the CLI and the dashboard.

The webserver answers ``reloadRepositoryLocation`` only once the code server has loaded the code again (a dbt
parse can take long): a read timeout means "still busy", not "failed", so the outcome is then read from the
workspace. The mutation's own answer can be stale when code changes meanwhile, so the workspace is always read
again at the end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.errors import DagsterUnreachable
from edp_tui.dagster.models import LocationInfo

POLL_S = 1.0


@dataclass(frozen=True)
class ReloadOutcome:
    name: str
    location: LocationInfo | None
    """The location as the workspace shows it afterwards; None when it is gone from the workspace."""
    took: float
    answered: bool
    """False when the mutation's answer timed out and the outcome was read from the workspace."""

    @property
    def state(self) -> str:
        """``loaded``, ``error``, ``loading`` (still loading when we stopped waiting) or ``gone``."""
        return "gone" if self.location is None else self.location.state

    @property
    def ok(self) -> bool:
        return self.state == "loaded"

    def summary(self, timeout: float) -> str:
        """One line for a person (location names are outside text: callers show it literally)."""
        if self.location is None:
            return f"{self.name}: gone from the workspace after the reload"
        if self.state == "loaded":
            return f"{self.name}: loaded in {self.took:.1f}s ({len(self.location.visible_jobs())} jobs)"
        if self.state == "loading":
            return f"{self.name}: still loading after {timeout:.0f}s"
        return f"{self.name}: FAILED to load ({self.state}) after {self.took:.1f}s"


async def wait_loaded(
    client: DagsterApi, name: str, timeout: float, changed_since: float | None = None
) -> LocationInfo | None:
    """Poll the workspace until ``name`` is no longer loading (None when it vanished) or time is up.

    ``changed_since``: also wait until the entry's update time moved past it (a reload whose answer we did
    not get may not have flipped the entry to "loading" yet)."""
    deadline = time.monotonic() + timeout
    while True:
        found = {loc.name: loc for loc in await client.locations()}.get(name)
        fresh = changed_since is None or (found is not None and (found.updated or 0) > changed_since)
        if found is None or (found.state != "loading" and fresh) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(POLL_S)


async def reload_location(
    client: DagsterApi,
    name: str,
    *,
    timeout: float,
    before: LocationInfo | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> ReloadOutcome:
    """Reload ``name`` and wait (at most ``timeout`` seconds after the mutation) for its outcome.

    ``before``: the location as last seen, so that a timed-out mutation is waited for by its update time.
    Raises what the client raises, except a read timeout of the mutation itself.
    """
    started = time.monotonic()
    changed_since = None
    answered = True
    try:
        await client.reload_location(name)
    except DagsterUnreachable as exc:
        if not isinstance(exc.__cause__, httpx.TimeoutException):
            raise
        answered = False
        if on_progress is not None:
            on_progress("no answer to the reload in time; waiting for the outcome …")
        changed_since = (before.updated if before else None) or 0.0
    location = await wait_loaded(client, name, timeout, changed_since)
    return ReloadOutcome(name, location, time.monotonic() - started, answered)
