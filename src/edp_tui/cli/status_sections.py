"""``edp-tui status``'s reading of the stack: one section per backend (Docker with the reload status,
Dagster with the daemon's health), as the JSON the command prints (docs/cli.md)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from edp_tui import backends
from edp_tui.cli import hot_reload
from edp_tui.cli.common import Context, note
from edp_tui.cli.runs import run_json
from edp_tui.compose import ComposeError
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.daemon_errors import heartbeat_every
from edp_tui.dagster.errors import DagsterUnreachable
from edp_tui.dagster.models import DaemonHealth, DaemonStatus, LocationInfo
from edp_tui.docker.models import Health, RunState, ServiceState


def service_healthy(state: ServiceState) -> bool:
    """Running, and healthy if it has a healthcheck ("starting" is not healthy yet)."""
    return state.state is RunState.RUNNING and state.health in (Health.HEALTHY, Health.NONE)


def service_json(state: ServiceState, now: datetime) -> dict[str, Any]:
    uptime = state.uptime(now)
    last = state.last_probe
    return {
        "service": state.service,
        "state": state.state.value,
        "health": state.health.value,
        "healthy": service_healthy(state),
        "exit_code": state.exit_code,
        "restart_count": state.restart_count,
        "failing_streak": state.failing_streak,
        "uptime_s": None if uptime is None else round(uptime.total_seconds(), 1),
        "image": state.image,
        "container": state.container_name,
        "ports": [str(p) for p in state.ports],
        "last_probe_output": last.output.strip() if last and not last.passed else None,
        "error": state.error,
    }


def location_json(loc: LocationInfo) -> dict[str, Any]:
    return {
        "name": loc.name,
        "state": loc.state,
        "load_status": loc.load_status,
        "healthy": loc.state == "loaded",
        "error": loc.error.text if loc.error else None,
        "jobs": [job.name for _, job in loc.visible_jobs()],
    }


def docker_section(context: Context, now: datetime) -> dict[str, Any]:
    """Compose resolution + one snapshot from the engine (blocking; run in a thread)."""
    import docker.errors

    from edp_tui.docker.errors import DockerError
    from edp_tui.docker.services import DockerServices

    section: dict[str, Any] = {
        "checked": True,
        "project": None,
        "endpoint": None,
        "reachable": False,
        "engine_version": None,
        "error": None,
        "services": [],
    }
    try:
        compose = context.compose_project()
    except ComposeError as exc:
        section["error"] = str(exc)
        return section
    section["project"] = compose.name
    source = DockerServices(compose.name, compose.service_names, backends.docker_endpoint(context.config))
    section["endpoint"] = source.engine_url
    try:
        section["engine_version"] = source.version()
        states = source.snapshot()
    except (DockerError, docker.errors.DockerException) as exc:  # APIError: the engine refused a call
        section["error"] = str(exc)
        return section
    finally:
        source.close()
    section["reachable"] = True
    section["services"] = [service_json(s, now) for s in states]
    statuses, error = hot_reload.read(context)
    section["reload_locations"] = {name: hot_reload.section(s, None) for name, s in sorted(statuses.items())}
    # Kept for readers of the document before there were several locations: the first location's section.
    first = min(statuses, default=None)
    section["reload"] = hot_reload.section(statuses[first] if first is not None else None, error)
    return section


def daemon_json(health: DaemonHealth, stale_after_s: float) -> dict[str, Any]:
    daemons = []
    for d in health.daemons:
        seen = health.seen(d.daemon_type)
        known = seen is not None and seen.errors == d.errors
        daemons.append(
            {
                "type": d.daemon_type,
                "required": d.required,
                "healthy": d.healthy,
                "stale": d.is_stale(health.checked_at, stale_after_s),
                "last_heartbeat": d.last_heartbeat,
                "errors": list(d.errors),
                # Past: older than a heartbeat that brought no new error (history, not a problem now).
                "errors_past": bool(d.errors) and d.daemon_type in health.past_error_types,
                "errors_first_seen": [t if seen.age_known(i) else None for i, t in enumerate(seen.first_seen)]
                if known and seen is not None
                else [None] * len(d.errors),
                "no_new_error_since": seen.quiet_since if known and seen is not None else None,
            }
        )
    return {
        "state": health.state,
        "detail": health.detail,
        "healthy": health.state == "ok",
        "daemons": daemons,
    }


async def settled_daemon_health(client: DagsterClient, wait_s: float) -> DaemonHealth:
    """The daemon's health, waiting (at most ``wait_s``) for the next heartbeat of a daemon whose errors are
    of unknown age: seen for the first time (no dashboard or earlier `status` saw the heartbeat before), a
    next heartbeat tells whether they are still happening."""
    health = await client.daemon_health()
    if health.state != "errors" or wait_s <= 0:
        return health

    def undecided(health: DaemonHealth) -> list[DaemonStatus]:
        return [
            d
            for d in health.daemons
            if d.required
            and d.errors
            and (seen := health.seen(d.daemon_type)) is not None
            and not seen.past
            and seen.heartbeat == seen.watched_from
        ]

    waiting = undecided(health)
    if not waiting:
        return health
    now = time.time()
    due = max((d.last_heartbeat or now) + heartbeat_every(d.daemon_type) for d in waiting) + 3.0 - now
    if due > wait_s:
        return health
    names = ", ".join(d.daemon_type for d in waiting)
    note(
        f"daemon {names}: errors of unknown age; waiting for the next heartbeat (at most {max(due, 0):.0f}s)"
    )
    beats = {d.daemon_type: d.last_heartbeat for d in waiting}
    deadline = now + max(due, 0.0)
    while time.time() < deadline:
        await asyncio.sleep(min(2.0, max(0.1, deadline - time.time())))
        health = await client.daemon_health()
        if all(d.last_heartbeat != beats[d.daemon_type] for d in health.daemons if d.daemon_type in beats):
            break
    return health


async def dagster_section(
    client: DagsterClient, runs_limit: int, heartbeat_wait: float = 0.0
) -> dict[str, Any]:
    url = client.graphql_url.removesuffix("/graphql")
    section: dict[str, Any] = {
        "url": url,
        "reachable": False,
        "error": None,
        "locations": [],
        "locations_error": None,
        "daemon": None,
        "runs": [],
        "runs_error": None,
    }
    results = await asyncio.gather(
        client.locations(),
        settled_daemon_health(client, heartbeat_wait),
        client.runs(limit=runs_limit) if runs_limit > 0 else asyncio.sleep(0, result=[]),
        return_exceptions=True,
    )
    unreachable = next((r for r in results if isinstance(r, DagsterUnreachable)), None)
    if unreachable is not None:
        section["error"] = str(unreachable)
        return section
    section["reachable"] = True
    locations, daemon, runs = results
    if isinstance(locations, BaseException):
        section["locations_error"] = str(locations)
    else:
        section["locations"] = [location_json(loc) for loc in locations]
    if isinstance(daemon, BaseException):
        section["daemon"] = {"state": "error", "detail": str(daemon), "healthy": False, "daemons": []}
    else:
        section["daemon"] = daemon_json(daemon, client.stale_after_s)
    if isinstance(runs, BaseException):
        section["runs_error"] = str(runs)
    else:
        section["runs"] = [run_json(r) for r in runs]
    return section
