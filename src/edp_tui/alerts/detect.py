"""From what the dashboard polls to candidate `AlertEvent`s (pure functions; the feed drops repeats).

Events with a time of their own (a run's end, a check's execution, a reload) count only when they happened
after ``since`` (the watch began): a run that failed yesterday is history, not news. Conditions (a stale
daemon, an unhealthy service) are edge-triggered by `Episodes`: one event when a subject turns bad.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from edp_tui.alerts.events import (
    CHECK_FAILED,
    DAEMON_STALE,
    RELOAD_REFUSED,
    RUN_FAILED,
    SERVICE_UNHEALTHY,
    AlertEvent,
)
from edp_tui.dagster.assets import AssetInfo
from edp_tui.dagster.models import DaemonHealth, RunSummary
from edp_tui.docker.models import Health, RunState, ServiceState
from edp_tui.reload_status.models import ReloadStatus

FAILED_RUN_STATUSES = frozenset({"FAILURE"})


def failed_runs(runs: Iterable[RunSummary], since: float) -> list[AlertEvent]:
    events = []
    for run in runs:
        when = run.end_time or run.update_time
        if run.status not in FAILED_RUN_STATUSES or when is None or when < since:
            continue
        where = f" ({run.location})" if run.location else ""
        events.append(
            AlertEvent(
                RUN_FAILED,
                f"{RUN_FAILED}:{run.run_id}",
                "Run failed",
                f"{run.job_name}{where} run {run.run_id[:8]} failed",
                when,
                run.run_id,
                {"run_id": run.run_id, "job": run.job_name, "location": run.location},
            )
        )
    return events


def failed_checks(assets: Iterable[AssetInfo], since: float) -> list[AlertEvent]:
    events = []
    for asset in assets:
        for check in asset.failed_checks:
            if check.timestamp is None or check.timestamp < since:
                continue
            subject = f"{asset.name}:{check.name}"
            events.append(
                AlertEvent(
                    CHECK_FAILED,
                    f"{CHECK_FAILED}:{subject}:{check.run_id or check.timestamp}",
                    "Check failed",
                    f"check {check.name} of {asset.name}: {check.status}"
                    + (f" ({check.severity})" if check.severity else ""),
                    check.timestamp,
                    subject,
                    {
                        "asset": asset.name,
                        "check": check.name,
                        "status": check.status,
                        "severity": check.severity,
                        "run_id": check.run_id,
                    },
                )
            )
    return events


def refused_reloads(statuses: Mapping[str, ReloadStatus], since: float) -> list[AlertEvent]:
    events = []
    for location, status in statuses.items():
        for reload in status.reloads:
            at = reload.started_at
            if reload.served or reload.outcome == "?" or at is None or at < since:
                continue
            error = f": {reload.error.where} {reload.error.text}" if reload.error else ""
            events.append(
                AlertEvent(
                    RELOAD_REFUSED,
                    f"{RELOAD_REFUSED}:{location}:{reload.id}:{at}",
                    "Reload refused",
                    f"location {location}: change not served ({reload.outcome}){error}",
                    at,
                    location,
                    {"location": location, "reload_id": reload.id, "outcome": reload.outcome},
                )
            )
    return events


def service_trouble(state: ServiceState) -> str | None:
    """Why a service is unhealthy, or None. A one-shot service that exited 0 did its job."""
    if state.health is Health.UNHEALTHY:
        return "unhealthy"
    if state.state in (RunState.RESTARTING, RunState.DEAD):
        return state.state.value
    if state.state is RunState.EXITED and state.exit_code not in (0, None):
        return f"exited ({state.exit_code})" + (", OOM-killed" if state.oom_killed else "")
    return None


class Episodes:
    """Edge-triggered conditions of one kind: an event when a subject turns bad, none while it stays bad, a
    new one once it recovered and turned bad again. A subject first seen bad is the baseline (it was so
    before the watch began): no event."""

    def __init__(self, kind: str, title: str) -> None:
        self.kind = kind
        self.title = title
        self._bad: dict[str, bool] = {}

    def observe(
        self, subject: str, trouble: str | None, at: float, text: str, details: dict[str, Any]
    ) -> AlertEvent | None:
        was = self._bad.get(subject)
        self._bad[subject] = trouble is not None
        if trouble is None or was is None or was:
            return None
        return AlertEvent(self.kind, f"{self.kind}:{subject}:{at}", self.title, text, at, subject, details)


class Conditions:
    """The stale daemons and the unhealthy services, each an `Episodes`."""

    def __init__(self) -> None:
        self.daemons = Episodes(DAEMON_STALE, "Daemon stale")
        self.services = Episodes(SERVICE_UNHEALTHY, "Service unhealthy")

    def daemon_health(self, health: DaemonHealth) -> list[AlertEvent]:
        events = []
        for daemon in health.daemons:
            if not daemon.required:
                continue
            stale = "stale" if daemon.daemon_type in health.stale_types else None
            beat = daemon.last_heartbeat
            age = f"last heartbeat {health.checked_at - beat:.0f}s ago" if beat else "no heartbeat"
            event = self.daemons.observe(
                daemon.daemon_type,
                stale,
                health.checked_at,
                f"daemon {daemon.daemon_type} stale ({age})",
                {"daemon": daemon.daemon_type, "last_heartbeat": beat},
            )
            if event is not None:
                events.append(event)
        return events

    def service_states(self, states: Iterable[ServiceState], now: float) -> list[AlertEvent]:
        events = []
        for state in states:
            trouble = service_trouble(state)
            event = self.services.observe(
                state.service,
                trouble,
                now,
                f"service {state.service}: {trouble}",
                {"service": state.service, "container": state.container_name, "state": state.state.value},
            )
            if event is not None:
                events.append(event)
        return events
