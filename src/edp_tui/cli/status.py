"""``edp-tui status``: the health of the whole stack, for a person or (``--json``) a script."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import click

from edp_tui import backends
from edp_tui.cli import hot_reload
from edp_tui.cli.common import (
    EXIT_OK,
    EXIT_UNHEALTHY,
    EXIT_USAGE,
    Context,
    context_of,
    shorten,
    table,
    with_failures,
)
from edp_tui.cli.runs import run_json, runs_table
from edp_tui.compose import ComposeError
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterUnreachable
from edp_tui.dagster.models import LocationInfo
from edp_tui.docker.models import Health, RunState, ServiceState
from edp_tui.text import printable
from edp_tui.util import fmt

STATUS_SCHEMA = "edp-tui.status/1"


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
    section["reload"] = hot_reload.section(*hot_reload.read(context))
    return section


async def dagster_section(client: DagsterClient, runs_limit: int) -> dict[str, Any]:
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
        client.daemon_health(),
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
        section["daemon"] = {
            "state": daemon.state,
            "detail": daemon.detail,
            "healthy": daemon.state == "ok",
            "daemons": [
                {
                    "type": d.daemon_type,
                    "required": d.required,
                    "healthy": d.healthy,
                    "stale": d.is_stale(daemon.checked_at, client.stale_after_s),
                    "last_heartbeat": d.last_heartbeat,
                    "errors": list(d.errors),
                }
                for d in daemon.daemons
            ],
        }
    if isinstance(runs, BaseException):
        section["runs_error"] = str(runs)
    else:
        section["runs"] = [run_json(r) for r in runs]
    return section


def evaluate(docker: Mapping[str, Any], dagster: Mapping[str, Any]) -> tuple[int, list[str]]:
    """Exit code and the list of problems: 2 when a backend is unreachable, 1 when anything is unhealthy."""
    problems: list[str] = []
    unreachable = False
    if docker.get("checked"):
        if not docker.get("reachable"):
            unreachable = True
            problems.append(f"docker: {docker.get('error') or 'unreachable'}")
        for svc in docker.get("services") or []:
            if not svc["healthy"]:
                health = f", {svc['health']}" if svc["health"] != "none" else ""
                problems.append(f"service {svc['service']}: {svc['state']}{health}")
        pending = (docker.get("reload") or {}).get("pending_failure")
        if pending:
            # The location serves its last good load, but the files on disk are broken: new runs fail.
            problems.append(f"hot reload: change not served: {pending['message']}")
    if not dagster.get("reachable"):
        unreachable = True
        problems.append(f"webserver: {dagster.get('error') or 'unreachable'}")
    else:
        if dagster.get("locations_error"):
            problems.append(f"code locations: {dagster['locations_error']}")
        elif not dagster.get("locations"):
            problems.append("code locations: none in the workspace")
        for loc in dagster.get("locations") or []:
            if not loc["healthy"]:
                first = (loc["error"] or "").strip().splitlines()
                problems.append(
                    f"location {loc['name']}: {loc['state']}" + (f": {first[0]}" if first else "")
                )
        daemon = dagster.get("daemon") or {}
        if not daemon.get("healthy"):
            problems.append(f"daemon: {daemon.get('state', '?')} ({daemon.get('detail', '')})")
    if unreachable:
        return EXIT_USAGE, problems
    return (EXIT_UNHEALTHY if problems else EXIT_OK), problems


def status_report(context: Context, *, check_docker: bool, runs_limit: int) -> dict[str, Any]:
    now = datetime.now(UTC)

    async def gather() -> tuple[dict[str, Any], dict[str, Any]]:
        async with context.dagster_client() as client:
            docker_task = (
                asyncio.to_thread(docker_section, context, now)
                if check_docker
                else asyncio.sleep(0, result={"checked": False})
            )
            return await asyncio.gather(docker_task, dagster_section(client, runs_limit))

    docker, dagster = asyncio.run(gather())
    code, problems = evaluate(docker, dagster)
    return {
        "schema": STATUS_SCHEMA,
        "checked_at": now.isoformat(timespec="seconds"),
        "healthy": code == EXIT_OK,
        "exit_code": code,
        "problems": problems,
        "docker": docker,
        "webserver": {"url": dagster["url"], "reachable": dagster["reachable"], "error": dagster["error"]},
        "locations": dagster["locations"],
        "daemon": dagster["daemon"],
        "runs": dagster["runs"],
    }


def render_status(report: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    docker = report["docker"]
    if docker.get("checked"):
        where = f"project {printable(docker['project'])}" if docker.get("project") else "project ?"
        engine = printable(docker.get("endpoint") or "?")
        version = f" · engine {printable(docker['engine_version'])}" if docker.get("engine_version") else ""
        lines.append(f"Services ({where} · {engine}{version})")
        if not docker.get("reachable"):
            lines.append(f"  unreachable: {shorten(str(docker.get('error')), 200)}")
        rows = []
        for svc in docker["services"]:
            uptime = fmt.duration(svc["uptime_s"], coarse=True)
            state = svc["state"] + (f"({svc['exit_code']})" if svc["exit_code"] is not None else "")
            note_text = ""
            if svc["last_probe_output"]:
                note_text = printable(svc["last_probe_output"].splitlines()[-1])[:80]
            elif svc["error"]:
                note_text = printable(svc["error"])[:80]
            rows.append(
                [
                    "ok" if svc["healthy"] else "!!",
                    printable(svc["service"]),
                    state,
                    svc["health"],
                    uptime,
                    str(svc["restart_count"]),
                    note_text,
                ]
            )
        if rows:
            lines += table(["", "SERVICE", "STATE", "HEALTH", "UPTIME", "RESTARTS", "NOTE"], rows)
    if docker.get("reload"):
        lines += hot_reload.render(docker["reload"])
    web = report["webserver"]
    if web["reachable"]:
        lines.append(f"Dagster webserver {printable(web['url'])}: reachable")
    else:
        lines.append(
            f"Dagster webserver {printable(web['url'])}: UNREACHABLE: {shorten(str(web['error']), 200)}"
        )
    if report["locations"]:
        lines.append("Code locations")
        rows = []
        for loc in report["locations"]:
            error = (loc["error"] or "").strip().splitlines()
            rows.append(
                [
                    "ok" if loc["healthy"] else "!!",
                    printable(loc["name"]),
                    loc["state"],
                    f"{len(loc['jobs'])} jobs" if loc["healthy"] else printable(error[-1] if error else ""),
                ]
            )
        lines += table(["", "LOCATION", "STATE", "DETAIL"], rows)
    daemon = report["daemon"]
    if daemon:
        mark = "" if daemon["healthy"] else "!! "
        lines.append(f"Daemon: {mark}{daemon['state']} ({shorten(daemon['detail'], 160)})")
    if report["runs"]:
        lines.append("Recent runs")
        lines += runs_table(report["runs"])
    if report["healthy"]:
        lines.append("Overall: healthy")
    else:
        lines.append(f"Overall: NOT healthy ({len(report['problems'])} problem(s))")
        # Full texts are in --json; a table line stays readable (a database error can quote a whole query).
        lines += [f"  - {shorten(p, 200)}" for p in report["problems"]]
    return lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help=f"Print one JSON document (schema {STATUS_SCHEMA}).")
@click.option(
    "--no-docker",
    is_flag=True,
    help="Check only Dagster (for a stack that does not run under Docker Compose).",
)
@click.option(
    "--runs",
    "runs_limit",
    type=click.IntRange(0, 100),
    default=5,
    show_default=True,
    help="How many recent runs to list.",
)
@click.pass_context
@with_failures
def status(ctx: click.Context, as_json: bool, no_docker: bool, runs_limit: int) -> None:
    """Health of the whole stack: services, code locations, daemon, recent runs.

    Exit code: 0 when everything is healthy, 1 when a service, code location or the daemon is unhealthy,
    2 when the Docker engine or the Dagster webserver cannot be reached (or the configuration is invalid).
    Use it to gate scripts: `edp-tui status && run-the-next-thing`. The JSON shape is documented in
    docs/cli.md.
    """
    report = status_report(context_of(ctx), check_docker=not no_docker, runs_limit=runs_limit)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=False))
    else:
        click.echo("\n".join(render_status(report)))
    sys.exit(report["exit_code"])
