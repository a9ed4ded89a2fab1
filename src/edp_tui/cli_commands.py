"""CLI twins of the dashboard's actions: status, reload, launch, runs, logs, up, down.

They use the dashboard's own sources (DockerSource, DagsterClient, Compose resolution, the text sanitizer),
so a script sees exactly what the dashboard shows. Conventions:

- results go to stdout, progress and messages to stderr (``edp-tui launch JOB`` prints only the run id);
- exit codes: 0 ok; 1 something is unhealthy / the run or the reload failed; 2 usage, configuration or
  unreachable-endpoint errors (``edp-tui: <message>`` on stderr); 3 ``--wait`` gave up (timeout);
- every piece of outside text (names, error messages, compute logs) is passed through the sanitizer, so no
  terminal control sequence from a log or an error reaches the terminal.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import httpx
import yaml

from edp_tui.cli import Context, main
from edp_tui.compose import ComposeError, compose_command
from edp_tui.config import DEFAULT_WEBSERVER_URL, default_compose_file, repo_root
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import (
    DagsterError,
    DagsterGraphQLError,
    DagsterHTTPError,
    DagsterPythonError,
    DagsterRequestRejected,
    DagsterUnreachable,
    ReadOnlyRefused,
    RunConfigInvalid,
)
from edp_tui.dagster.models import (
    LocationInfo,
    LogKey,
    RunDetail,
    RunSummary,
    log_keys_from_events,
)
from edp_tui.docker_models import Health, RunState, ServiceState, format_duration
from edp_tui.logtext import LineSplitter, sanitize, visible

T = TypeVar("T")

EXIT_OK = 0
EXIT_UNHEALTHY = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3

STATUS_SCHEMA = "edp-tui.status/1"
RUNS_SCHEMA = "edp-tui.runs/1"
RUN_STATUSES = (
    "QUEUED",
    "NOT_STARTED",
    "MANAGED",
    "STARTING",
    "STARTED",
    "SUCCESS",
    "FAILURE",
    "CANCELING",
    "CANCELED",
)
# Compute logs are printed whole up to this line length (the dashboard cuts at 8 KiB; a file can keep more).
LOG_LINE_MAX_CHARS = 65_536
POLL_S = 1.0
LOG_POLL_S = 0.5
RETRY_BASE_S = 0.5
RETRY_MAX_S = 15.0


# --- shared plumbing ------------------------------------------------------------------------------------
class CliFailure(Exception):
    """Stops a command with ``edp-tui: <message>`` on stderr and the given exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def die(message: str, code: int = EXIT_USAGE) -> NoReturn:
    raise CliFailure(message, code)


def safe(text: object) -> str:
    """Outside text for one terminal line: control characters and escape sequences made visible."""
    return visible(str(text))


def note(message: str) -> None:
    """Progress and explanations: stderr, so that stdout stays machine-readable."""
    click.echo(message, err=True)


def context_of(ctx: click.Context) -> Context:
    obj = ctx.find_object(Context)
    if obj is None:  # only when a command is invoked without the group (a programming error)
        raise click.UsageError("edp-tui subcommands must run under the edp-tui group")
    return obj


def refuse_if_read_only(context: Context, action: str) -> None:
    if context.config.read_only:
        die(
            f"read-only mode: {action} refused "
            "(read-only comes from --read-only, EDP_TUI_READ_ONLY or read_only in the config file)"
        )


def webserver_url(context: Context) -> str:
    """The configured URL, else the port the compose file publishes, else the default."""
    if context.config.webserver_url:
        return context.webserver_url()
    try:
        return context.webserver_url(context.compose_project())
    except ComposeError:
        # Dagster commands do not need Compose: a stack run some other way still answers on the default URL.
        return DEFAULT_WEBSERVER_URL


def dagster_client(context: Context, timeout: float = 10.0) -> DagsterClient:
    return DagsterClient(
        webserver_url(context).rstrip("/") + "/graphql",
        timeout=timeout,
        read_only=context.config.read_only,
        stale_after_s=getattr(context.config, "daemon_stale_after_s", 90.0),
    )


def run_dagster(
    context: Context, work: Callable[[DagsterClient], Awaitable[T]], *, timeout: float = 10.0
) -> T:
    """Run ``work`` with a client on a fresh event loop, turning Dagster errors into clear exits."""

    async def runner() -> T:
        async with dagster_client(context, timeout=timeout) as client:
            return await work(client)

    try:
        return asyncio.run(runner())
    except KeyboardInterrupt:
        die("interrupted (a run already launched goes on)", 130)
    except DagsterUnreachable as exc:
        die(f"{safe(exc)} (is the stack up? `edp-tui status`; set the URL with --webserver-url)")
    except ReadOnlyRefused as exc:
        die(safe(exc))
    except RunConfigInvalid as exc:
        lines = [f"Dagster rejected the run config for {safe(exc.job_name)}; nothing was launched:"]
        for error in exc.errors:
            where = f"{safe(error.path)}: " if error.path else ""
            lines.append(f"  {where}{safe(error.message)}")
        die("\n".join(lines))
    except DagsterError as exc:
        die(shorten(str(exc)))


def shorten(text: str, limit: int = 400) -> str:
    """One terminal-safe line of at most ``limit`` characters (GraphQL errors can carry whole SQL queries)."""
    text = safe(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


# Failures that can pass while the stack recovers (a webserver restart, a database reconnect): commands
# that wait (launch --wait, logs --follow) retry them with backoff instead of giving up at once.
TRANSIENT = (DagsterUnreachable, DagsterGraphQLError, DagsterHTTPError, DagsterPythonError)
MAX_CONSECUTIVE_FAILURES = 10


class Retry:
    """Consecutive-failure budget with exponential backoff (0.5 s doubling up to 15 s: about 2 minutes)."""

    def __init__(self, limit: int = MAX_CONSECUTIVE_FAILURES) -> None:
        self.limit = limit
        self.failures = 0

    async def failed(self, exc: Exception, what: str) -> None:
        """Sleep before the next attempt, or re-raise ``exc`` once the budget is spent."""
        self.failures += 1
        if self.failures > self.limit:
            raise exc
        delay = min(RETRY_BASE_S * 2 ** (self.failures - 1), RETRY_MAX_S)
        note(f"  {what}: {shorten(str(exc), 200)}; retrying in {delay:.1f}s")
        await asyncio.sleep(delay)

    def ok(self) -> None:
        self.failures = 0


def with_failures(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: CliFailure -> message on stderr + exit code (click's own errors keep their handling)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CliFailure as exc:
            click.echo(f"edp-tui: {exc}", err=True)
            sys.exit(exc.code)

    return wrapper


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return format_duration(timedelta(seconds=seconds))


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], indent: str = "  ") -> list[str]:
    """A plain aligned table (no box drawing: output must survive `| grep` and dumb terminals)."""
    rows = [list(map(str, r)) for r in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], len(cell))
    out = []
    for row in [list(headers), *rows]:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        out.append(indent + "  ".join(cells).rstrip())
    return out


# --- status ---------------------------------------------------------------------------------------------
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


def run_json(run: RunSummary) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "job": run.job_name,
        "status": run.status,
        "created": run.creation_time,
        "started": run.start_time,
        "ended": run.end_time,
        "duration_s": None if run.start_time is None else round(run.duration(time.time()) or 0.0, 1),
    }


def docker_section(context: Context, now: datetime) -> dict[str, Any]:
    """Compose resolution + one snapshot from the engine (blocking; run in a thread)."""
    import docker.errors

    from edp_tui.docker_source import DockerError, DockerSource

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
    source = DockerSource(compose.name, compose.service_names, docker_host=context.config.docker_host)
    section["endpoint"] = source.endpoint
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
        async with dagster_client(context) as client:
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
        where = f"project {safe(docker['project'])}" if docker.get("project") else "project ?"
        engine = safe(docker.get("endpoint") or "?")
        version = f" · engine {safe(docker['engine_version'])}" if docker.get("engine_version") else ""
        lines.append(f"Services ({where} · {engine}{version})")
        if not docker.get("reachable"):
            lines.append(f"  unreachable: {shorten(str(docker.get('error')), 200)}")
        rows = []
        for svc in docker["services"]:
            uptime = fmt_seconds(svc["uptime_s"]) if svc["uptime_s"] is not None else "-"
            state = svc["state"] + (f"({svc['exit_code']})" if svc["exit_code"] is not None else "")
            note_text = ""
            if svc["last_probe_output"]:
                note_text = safe(svc["last_probe_output"].splitlines()[-1])[:80]
            elif svc["error"]:
                note_text = safe(svc["error"])[:80]
            rows.append(
                [
                    "ok" if svc["healthy"] else "!!",
                    safe(svc["service"]),
                    state,
                    svc["health"],
                    uptime,
                    str(svc["restart_count"]),
                    note_text,
                ]
            )
        if rows:
            lines += table(["", "SERVICE", "STATE", "HEALTH", "UPTIME", "RESTARTS", "NOTE"], rows)
    web = report["webserver"]
    if web["reachable"]:
        lines.append(f"Dagster webserver {safe(web['url'])}: reachable")
    else:
        lines.append(f"Dagster webserver {safe(web['url'])}: UNREACHABLE: {shorten(str(web['error']), 200)}")
    if report["locations"]:
        lines.append("Code locations")
        rows = []
        for loc in report["locations"]:
            error = (loc["error"] or "").strip().splitlines()
            rows.append(
                [
                    "ok" if loc["healthy"] else "!!",
                    safe(loc["name"]),
                    loc["state"],
                    f"{len(loc['jobs'])} jobs" if loc["healthy"] else safe(error[-1] if error else ""),
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


def runs_table(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = [
        [r["run_id"], safe(r["job"]), r["status"], fmt_time(r["started"]), fmt_seconds(r["duration_s"])]
        for r in runs
    ]
    return table(["RUN ID", "JOB", "STATUS", "STARTED (UTC)", "DURATION"], rows)


@main.command()
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


# --- reload ---------------------------------------------------------------------------------------------
async def wait_loaded(
    client: DagsterClient, name: str, timeout: float, changed_since: float | None = None
) -> LocationInfo | None:
    """Poll the workspace until ``name`` is no longer loading (None when it vanished).

    ``changed_since``: also wait until the entry's update time moved past it (a reload whose answer we did
    not get may not have flipped the entry to "loading" yet)."""
    deadline = time.monotonic() + timeout
    while True:
        found = {loc.name: loc for loc in await client.locations()}.get(name)
        fresh = changed_since is None or (found is not None and (found.updated or 0) > changed_since)
        if found is None or (found.state != "loading" and fresh) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(POLL_S)


@main.command()
@click.argument("location", required=False)
@click.option(
    "--timeout",
    type=click.FloatRange(1, 3600),
    default=300,
    show_default=True,
    help="Seconds to wait for each location to finish loading.",
)
@click.pass_context
@with_failures
def reload(ctx: click.Context, location: str | None, timeout: float) -> None:
    """Reload a code location (re-import its code), or every location when none is named.

    Shows progress and the outcome; exits 1 and prints the load error (e.g. the SyntaxError with its file and
    line) when a location fails to load.
    """
    context = context_of(ctx)
    refuse_if_read_only(context, "reload")

    async def work(client: DagsterClient) -> int:
        current = {loc.name: loc for loc in await client.locations()}
        known = list(current)
        if location is not None and location not in known:
            die(f"unknown code location {safe(location)!r}; known: {', '.join(map(safe, known)) or '(none)'}")
        if not known:
            die("the workspace has no code locations")
        failed = 0
        for name in [location] if location else known:
            note(f"reloading {safe(name)} …")
            started = time.monotonic()
            changed_since = None
            try:
                await client.reload_location(name)
            except DagsterUnreachable as exc:
                # The webserver answers the mutation only once the code is loaded again (dbt parse...): a
                # read timeout means "still busy", and the outcome is read from the workspace instead.
                if not isinstance(exc.__cause__, httpx.TimeoutException):
                    raise
                note("  no answer to the reload in time; waiting for the outcome …")
                changed_since = current[name].updated or 0.0
            # The mutation's answer can be stale when code changes meanwhile: read the workspace again.
            loc = await wait_loaded(client, name, timeout, changed_since)
            took = time.monotonic() - started
            if loc is None:
                failed += 1
                click.echo(f"{safe(name)}: gone from the workspace after the reload")
            elif loc.state == "loaded":
                jobs = len(loc.visible_jobs())
                click.echo(f"{safe(name)}: loaded in {took:.1f}s ({jobs} jobs)")
            elif loc.state == "loading":
                failed += 1
                click.echo(f"{safe(name)}: still loading after {timeout:.0f}s")
            else:
                failed += 1
                click.echo(f"{safe(name)}: FAILED to load ({loc.state}) after {took:.1f}s")
                for line in (loc.error.text if loc.error else "no error text").splitlines():
                    click.echo(f"  {safe(line)}")
        return EXIT_UNHEALTHY if failed else EXIT_OK

    sys.exit(run_dagster(context, work))


# --- launch ---------------------------------------------------------------------------------------------
def read_run_config(path: Path | None) -> dict[str, Any]:
    """The run config file as a mapping; every problem is a usage error (nothing launched)."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        die(f"cannot read run config {path}: {exc}")
    try:
        value = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        die(f"run config {path} is not valid YAML: {safe(exc)}")
    if value is None:
        return {}
    if not isinstance(value, dict):
        die(f"run config {path} must be a mapping (e.g. `ops: ...`), got {type(value).__name__}")
    return value


def parse_tag(
    _ctx: click.Context | None, _param: click.Parameter | None, values: Sequence[str]
) -> dict[str, str]:
    tags: dict[str, str] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{raw!r} is not key=value")
        tags[key.strip()] = value
    return tags


def find_job(locations: Sequence[LocationInfo], job: str, location: str | None) -> tuple[str, str]:
    """(location, repository) of ``job``; unknown or ambiguous names are usage errors listing the choices."""
    matches = [
        (loc.name, repo)
        for loc in locations
        if location is None or loc.name == location
        for repo, info in loc.visible_jobs()
        if info.name == job
    ]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        where = ", ".join(f"{loc}/{repo}" for loc, repo in matches)
        die(f"job {safe(job)!r} exists in several places ({where}): choose one with --location")
    known = sorted({info.name for loc in locations for _, info in loc.visible_jobs()})
    message = f"unknown job {safe(job)!r}; known jobs: {', '.join(map(safe, known)) or '(none)'}"
    broken = [loc.name for loc in locations if loc.state != "loaded"]
    if broken:
        message += f" (not loaded, jobs unknown: {', '.join(map(safe, broken))})"
    if location is not None and location not in {loc.name for loc in locations}:
        message = f"unknown code location {safe(location)!r}; " + message
    die(message)


async def follow_run(client: DagsterClient, run_id: str, timeout: float | None) -> RunDetail:
    """Poll the run, reporting status and step changes on stderr, until it is finished or time is up."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last_status = None
    steps: dict[str, str | None] = {}
    retry = Retry()
    while True:
        try:
            detail = await client.run(run_id)
        except TRANSIENT as exc:
            await retry.failed(exc, f"could not read run {run_id[:8]}")
            if deadline is not None and time.monotonic() > deadline:
                raise
            continue
        retry.ok()
        if detail.run.status != last_status:
            last_status = detail.run.status
            note(f"[{fmt_time(time.time())[11:]}] run {run_id[:8]} {last_status}")
        for step in detail.steps:
            if steps.get(step.step_key, "-") != step.status:
                steps[step.step_key] = step.status
                took = (
                    f" in {fmt_seconds(step.end_time - step.start_time)}"
                    if step.end_time and step.start_time
                    else ""
                )
                note(f"  step {safe(step.step_key)}: {step.status or 'pending'}{took}")
        if detail.run.is_terminal:
            return detail
        if deadline is not None and time.monotonic() > deadline:
            raise CliFailure(
                f"run {run_id} is still {detail.run.status} after {timeout:.0f}s; stopped waiting "
                "(the run goes on)",
                EXIT_TIMEOUT,
            )
        await asyncio.sleep(POLL_S)


@main.command()
@click.argument("job")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Run config as a YAML file (same shape as in the dashboard's launch dialog).",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    callback=parse_tag,
    metavar="KEY=VALUE",
    help="Tag for the run; repeat for several.",
)
@click.option("--location", help="Code location of the job, when several locations define the same name.")
@click.option(
    "--wait", is_flag=True, help="Follow the run and exit with its outcome (0 SUCCESS, 1 otherwise)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(1),
    default=None,
    help="With --wait: give up after this many seconds (exit 3; the run goes on).",
)
@click.pass_context
@with_failures
def launch(
    ctx: click.Context,
    job: str,
    config_file: Path | None,
    tags: dict[str, str],
    location: str | None,
    wait: bool,
    timeout: float | None,
) -> None:
    """Launch JOB and print its run id.

    Unknown jobs (the known ones are listed), unreadable or invalid YAML, and Dagster's run-config
    validation errors (with their config paths) exit 2 and launch nothing. With --wait, step progress goes to
    stderr and the exit code is the run's outcome: 0 SUCCESS, 1 FAILURE or CANCELED.
    """
    context = context_of(ctx)
    refuse_if_read_only(context, f"launch of {job}")
    run_config = read_run_config(config_file)

    async def work(client: DagsterClient) -> int:
        where, repository = find_job(await client.locations(), job, location)
        run = await client.launch_run(where, repository, job, run_config, tags)
        note(f"launched {safe(job)} ({safe(where)}): run {run.run_id} {run.status}")
        click.echo(run.run_id)
        if not wait:
            return EXIT_OK
        try:
            detail = await follow_run(client, run.run_id, timeout)
        except CliFailure as exc:
            note(f"edp-tui: {exc}")
            return exc.code
        outcome = detail.run.status
        took = fmt_seconds(detail.run.duration(time.time()))
        note(f"run {run.run_id} finished: {outcome} in {took}")
        if outcome != "SUCCESS":
            note(f"see its logs: edp-tui logs {run.run_id}")
        return EXIT_OK if outcome == "SUCCESS" else EXIT_UNHEALTHY

    sys.exit(run_dagster(context, work))


# --- runs -----------------------------------------------------------------------------------------------
@main.command()
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="Newest N runs.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(RUN_STATUSES, case_sensitive=False),
    help="Only runs in this status; repeat for several.",
)
@click.option("--job", help="Only runs of this job.")
@click.option("--json", "as_json", is_flag=True, help=f"Print one JSON document (schema {RUNS_SCHEMA}).")
@click.pass_context
@with_failures
def runs(ctx: click.Context, limit: int, statuses: tuple[str, ...], job: str | None, as_json: bool) -> None:
    """Recent runs, newest first: id, job, status, start time and duration."""
    context = context_of(ctx)
    wanted = [s.upper() for s in statuses]
    found = run_dagster(
        context, lambda client: client.runs(limit=limit, statuses=wanted or None, job_name=job)
    )
    rows = [run_json(r) for r in found]
    if as_json:
        click.echo(json.dumps({"schema": RUNS_SCHEMA, "runs": rows}, indent=2))
    elif rows:
        click.echo("\n".join(runs_table(rows)))
    else:
        note("no runs match")


# --- logs -----------------------------------------------------------------------------------------------
async def all_events_keys(
    client: DagsterClient, run_id: str, cursor: str | None
) -> tuple[list[LogKey], str | None]:
    """Log keys announced since ``cursor`` (every page), and the cursor to continue from."""
    keys: list[LogKey] = []
    while True:
        page = await client.run_events(run_id, cursor)
        keys += log_keys_from_events(run_id, page.events)
        cursor = page.cursor or cursor
        if not page.has_more:
            return keys, cursor


class LogPrinter:
    """Prints one log key's new bytes as sanitized lines; keeps the byte cursor and partial lines."""

    def __init__(self, key: LogKey, streams: Sequence[str], tag_stderr: bool) -> None:
        self.key = key
        self.streams = tuple(streams)
        self.tag_stderr = tag_stderr
        self.cursor: str | None = None
        self.splitters = {name: LineSplitter() for name in ("stdout", "stderr")}

    def emit(self, stream: str, pieces: Iterable[str]) -> None:
        prefix = "stderr| " if stream == "stderr" and self.tag_stderr else ""
        for piece in pieces:
            text, _ = sanitize(piece, ansi=False, max_chars=LOG_LINE_MAX_CHARS)
            click.echo(prefix + text)

    async def poll(self, client: DagsterClient) -> bool:
        """Read everything new; True when some bytes came."""
        got = False
        while True:
            chunk = await client.captured_logs(self.key, self.cursor)
            fresh = chunk.cursor != self.cursor and bool(chunk.stdout or chunk.stderr)
            self.cursor = chunk.cursor
            if not fresh:
                return got
            got = True
            for stream, text in (("stdout", chunk.stdout), ("stderr", chunk.stderr)):
                if stream in self.streams and text:
                    self.emit(stream, self.splitters[stream].feed(text))

    def flush(self) -> None:
        for stream in self.streams:
            self.emit(stream, self.splitters[stream].flush())


@main.command()
@click.argument("run_id")
@click.option(
    "--step", "step_key", help="Only the compute log that holds this step (default: all of the run)."
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output until the run has finished.")
@click.option("--stdout", "only_stdout", is_flag=True, help="Only the steps' stdout.")
@click.option("--stderr", "only_stderr", is_flag=True, help="Only the steps' stderr.")
@click.pass_context
@with_failures
def logs(
    ctx: click.Context,
    run_id: str,
    step_key: str | None,
    follow: bool,
    only_stdout: bool,
    only_stderr: bool,
) -> None:
    """Compute logs (stdout and stderr of the steps) of RUN_ID, printed literally.

    The logs are found through the run's LOGS_CAPTURED events. Both streams are printed, stderr lines
    prefixed with "stderr| "; --stdout or --stderr prints one stream, unprefixed. Terminal control sequences
    in the output are shown as visible symbols, never executed. --follow tails until the run ends.
    """
    context = context_of(ctx)
    if only_stdout and only_stderr:
        die("--stdout and --stderr exclude each other (give neither for both streams)")
    streams = ["stdout"] if only_stdout else ["stderr"] if only_stderr else ["stdout", "stderr"]
    tag_stderr = len(streams) == 2

    async def work(client: DagsterClient) -> int:
        try:
            detail = await client.run(run_id)
        except DagsterRequestRejected as exc:
            if exc.typename == "RunNotFoundError":
                die(f"no run with id {safe(run_id)!r} (list them with `edp-tui runs`)")
            raise
        printers: dict[str, LogPrinter] = {}
        cursor: str | None = None
        announced: set[str] = set()
        retry = Retry()
        while True:
            finished = detail.run.is_terminal
            try:
                keys, cursor = await all_events_keys(client, run_id, cursor)
                for key in keys:
                    if step_key is not None and step_key not in key.step_keys:
                        continue
                    if key.file_key not in printers:
                        printers[key.file_key] = LogPrinter(key, streams, tag_stderr)
                for printer in printers.values():
                    if printer.key.file_key not in announced and len(printers) > 1:
                        steps = ", ".join(map(safe, printer.key.step_keys))
                        note(f"== {steps or printer.key.file_key} ==")
                    announced.add(printer.key.file_key)
                    # Each printer keeps its byte cursor: after a failure it resumes where it was.
                    await printer.poll(client)
                if finished or not follow:
                    break
                await asyncio.sleep(LOG_POLL_S)
                detail = await client.run(run_id)
            except TRANSIENT as exc:
                if not follow:
                    raise
                await retry.failed(exc, "could not read the logs")
                continue
            retry.ok()
        for printer in printers.values():
            printer.flush()
        if not printers:
            known = sorted({s.step_key for s in detail.steps})
            if step_key is not None and step_key not in known:
                die(f"run {run_id} has no step {safe(step_key)!r}; its steps: {', '.join(map(safe, known))}")
            note(
                f"run {run_id} ({detail.run.status}) has no captured compute logs"
                + (f" for step {safe(step_key)}" if step_key else "")
            )
        return EXIT_OK

    sys.exit(run_dagster(context, work))


# --- up / down ------------------------------------------------------------------------------------------
def stack_script(name: str) -> Path | None:
    script = repo_root() / "stack" / "scripts" / name
    return script if script.is_file() else None


def compose_args(context: Context) -> list[str]:
    config = context.config
    args = [*compose_command(), "-f", str(config.compose_file)]
    if config.env_file is not None:
        args += ["--env-file", str(config.env_file)]
    if config.project:
        args += ["-p", config.project]
    return args


def run_streaming(args: Sequence[str], what: str, cwd: Path) -> int:
    """Run a command, passing its output (the progress) through to stderr line by line, timing it."""
    note(f"{what}: {' '.join(args)}")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(args),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except OSError as exc:
        die(f"cannot run {args[0]}: {exc}")
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            # Compose and the scripts are ours, but image build output is not: keep it inert.
            note(sanitize(raw.decode("utf-8", "replace").rstrip("\r\n"), ansi=False)[0])
        rc = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        die(f"{what} interrupted", 130)
    took = time.monotonic() - started
    if rc == 0:
        note(f"{what}: done in {took:.0f}s")
    else:
        note(f"edp-tui: {what} failed after {took:.0f}s (exit code {rc})")
    return rc


def uses_own_stack(context: Context) -> bool:
    """The repository's own compose file with default project/env: its bring-up scripts apply."""
    config = context.config
    return config.compose_file.resolve() == default_compose_file().resolve() and config.env_file is None


def apply_docker_host(context: Context) -> None:
    # The scripts and Compose read DOCKER_HOST; the configured endpoint must reach them too.
    if context.config.docker_host:
        os.environ["DOCKER_HOST"] = context.config.docker_host


@main.command()
@click.option(
    "--wait-timeout",
    type=click.IntRange(10, 7200),
    default=600,
    show_default=True,
    help="Seconds Compose waits for every service to be healthy.",
)
@click.option("--no-build", is_flag=True, help="Do not build the stack's image (use the one already built).")
@click.pass_context
@with_failures
def up(ctx: click.Context, wait_timeout: int, no_build: bool) -> None:
    """Bring the stack up and wait until every service is healthy, showing progress.

    For this repository's own stack it runs stack/scripts/bring-up.sh (engine check, images built air-gapped
    when no registry answers, stack/.env, `docker compose up --wait`); for another compose file
    (--compose-file) it runs `docker compose up --detach --wait` on it. Exit code: Compose's, 2 for
    configuration problems.
    """
    context = context_of(ctx)
    refuse_if_read_only(context, "up")
    apply_docker_host(context)
    if not context.config.compose_file.is_file():
        die(f"compose file {context.config.compose_file} does not exist")
    script = stack_script("bring-up.sh")
    if uses_own_stack(context) and script is not None and not context.config.project:
        args = ["bash", str(script), "--timeout", str(wait_timeout), *(["--no-build"] if no_build else [])]
        rc = run_streaming(args, "bring-up", repo_root())
    else:
        try:
            args = compose_args(context)
        except ComposeError as exc:
            die(str(exc))
        args += ["up", "--detach", "--wait", "--wait-timeout", str(wait_timeout)]
        if no_build:
            args.append("--no-build")
        rc = run_streaming(args, "compose up", context.config.compose_file.parent)
    if rc == 0:
        note("stack is up; check it with `edp-tui status` or open the dashboard with `edp-tui`")
    sys.exit(rc)


@main.command()
@click.option("--volumes", is_flag=True, help="Also delete the named volumes (the database!).")
@click.pass_context
@with_failures
def down(ctx: click.Context, volumes: bool) -> None:
    """Stop and remove the stack's containers (and with --volumes its data), showing progress."""
    context = context_of(ctx)
    refuse_if_read_only(context, "down")
    apply_docker_host(context)
    if not context.config.compose_file.is_file():
        die(f"compose file {context.config.compose_file} does not exist")
    script = stack_script("tear-down.sh")
    if uses_own_stack(context) and script is not None and not context.config.project:
        rc = run_streaming(
            ["bash", str(script), *(["--volumes"] if volumes else [])], "tear-down", repo_root()
        )
    else:
        try:
            args = compose_args(context)
        except ComposeError as exc:
            die(str(exc))
        args += ["down", "--remove-orphans", *(["--volumes"] if volumes else [])]
        rc = run_streaming(args, "compose down", context.config.compose_file.parent)
    sys.exit(rc)
