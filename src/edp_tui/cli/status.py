"""``edp-tui status``: the health of the whole stack, for a person or (``--json``) a script.

The sections come from `status_sections` (one per backend); here they are judged (`evaluate`) and shown."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import click

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
from edp_tui.cli.runs import runs_table
from edp_tui.cli.status_sections import dagster_section, docker_section
from edp_tui.text import printable
from edp_tui.util import fmt

STATUS_SCHEMA = "edp-tui.status/1"


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
        by_location = docker.get("reload_locations")
        if by_location is None:  # a section of one location only
            by_location = {"": docker.get("reload") or {}}
        for name, reload in by_location.items():
            pending = reload.get("pending_failure")
            if pending:
                # The location serves its last good load, but the files on disk are broken: new runs fail.
                which = f" ({name})" if len(by_location) > 1 else ""
                problems.append(f"hot reload: change not served: {pending['message']}{which}")
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


def status_report(
    context: Context, *, check_docker: bool, runs_limit: int, heartbeat_wait: float = 0.0
) -> dict[str, Any]:
    now = datetime.now(UTC)

    async def gather() -> tuple[dict[str, Any], dict[str, Any]]:
        async with context.dagster_client() as client:
            docker_task = (
                asyncio.to_thread(docker_section, context, now)
                if check_docker
                else asyncio.sleep(0, result={"checked": False})
            )
            return await asyncio.gather(docker_task, dagster_section(client, runs_limit, heartbeat_wait))

    docker, dagster = asyncio.run(gather())
    reloads = docker.get("reload_locations") or {}
    for loc in dagster["locations"]:
        # Each location with its own reload state and load warnings, side by side.
        loc["reload"] = reloads.get(loc["name"])
        loc["warnings"] = (reloads.get(loc["name"]) or {}).get("warnings") or []
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


def reload_state(reload: Mapping[str, Any] | None) -> str:
    """A location's reload state in one cell: its watcher, or that a saved change is not served."""
    if not reload or not reload.get("available"):
        return "-"
    if reload.get("pending_failure"):
        return "change not served"
    return "on request" if not reload.get("auto_reload") else printable(str(reload.get("watch")))


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
    reloads = docker.get("reload_locations") or {}
    if len(reloads) > 1:
        for name, reload in reloads.items():
            lines += hot_reload.render(reload, location=name)
    elif docker.get("reload"):
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
            pending = (loc.get("reload") or {}).get("pending_failure")
            rows.append(
                [
                    "ok" if loc["healthy"] and not pending else "!!",
                    printable(loc["name"]),
                    loc["state"],
                    reload_state(loc.get("reload")),
                    f"{len(loc['jobs'])} jobs" if loc["healthy"] else printable(error[-1] if error else ""),
                ]
            )
        lines += table(["", "LOCATION", "STATE", "RELOAD", "DETAIL"], rows)
        for loc in report["locations"]:
            for warning in loc.get("warnings") or []:
                lines.append(f"  {printable(loc['name'])} load warning: {shorten(warning, 200)}")
    daemon = report["daemon"]
    if daemon:
        mark = "" if daemon["healthy"] else "!! "
        lines.append(f"Daemon: {mark}{daemon['state']} ({shorten(daemon['detail'], 160)})")
        for d in daemon.get("daemons") or []:
            for message, seen in zip(d["errors"], d["errors_first_seen"], strict=False):
                when = f"first seen {fmt.clock(seen)}" if seen is not None else "age unknown"
                if d["errors_past"]:
                    what = f"past error, none since {fmt.clock(d['no_new_error_since'])}"
                else:
                    what = "error"
                lines.append(f"  {printable(d['type'])} {what} ({when}): {shorten(message, 160)}")
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
@click.option(
    "--heartbeat-wait",
    type=click.FloatRange(0, 600),
    default=70.0,
    show_default=True,
    help="Seconds to wait at most for a daemon's next heartbeat when its errors are of unknown age "
    "(0: never wait; they then count as current).",
)
@click.pass_context
@with_failures
def status(
    ctx: click.Context, as_json: bool, no_docker: bool, runs_limit: int, heartbeat_wait: float
) -> None:
    """Health of the whole stack: services, code locations, daemon, recent runs.

    A daemon's errors older than a heartbeat that brought no new one are past (shown, not a problem); the
    errors of a daemon seen for the first time are waited on until its next heartbeat (--heartbeat-wait).

    Exit code: 0 when everything is healthy, 1 when a service, code location or the daemon is unhealthy,
    2 when the Docker engine or the Dagster webserver cannot be reached (or the configuration is invalid).
    Use it to gate scripts: `edp-tui status && run-the-next-thing`. The JSON shape is documented in
    docs/cli.md.
    """
    report = status_report(
        context_of(ctx), check_docker=not no_docker, runs_limit=runs_limit, heartbeat_wait=heartbeat_wait
    )
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=False))
    else:
        click.echo("\n".join(render_status(report)))
    sys.exit(report["exit_code"])
