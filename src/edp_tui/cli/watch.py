"""``edp-tui watch``: the dashboard's alerts for cron and CI, one line per event (JSON lines with --json).

What happened before the watch began is history: only what happens while it runs is told (``--since`` looks
back further). ``--until KIND`` ends it, with exit code 1, at the first event of one of those kinds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
from typing import TYPE_CHECKING

import click

from edp_tui import backends
from edp_tui.alerts.events import KINDS, AlertEvent
from edp_tui.alerts.feed import AlertFeed
from edp_tui.alerts.monitor import AlertMonitor
from edp_tui.cli import hot_reload
from edp_tui.cli.common import (
    EXIT_TIMEOUT,
    EXIT_UNHEALTHY,
    Context,
    context_of,
    note,
    run_dagster,
    shorten,
    with_failures,
)
from edp_tui.compose import ComposeError
from edp_tui.dagster.client import DagsterClient
from edp_tui.text import printable
from edp_tui.util import fmt

if TYPE_CHECKING:  # the docker SDK: imported when the services are watched (not with --no-docker)
    from edp_tui.docker.services import DockerServices


def event_line(event: AlertEvent) -> str:
    return f"{fmt.clock(event.at)}  {event.kind:<17}  {printable(event.text)}"


def services_source(context: Context) -> DockerServices | None:
    """The compose services' source (its `snapshot` is a blocking read), or None (said on stderr) without
    Compose."""
    try:
        compose = context.compose_project()
    except ComposeError as exc:
        note(f"services not watched: {shorten(str(exc), 200)}")
        return None
    from edp_tui.docker.services import DockerServices

    return DockerServices(compose.name, compose.service_names, backends.docker_endpoint(context.config))


@click.command()
@click.option(
    "--until",
    "until",
    multiple=True,
    type=click.Choice(KINDS),
    help="Exit (code 1) after the first event of this kind; repeat for several.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event (schema edp-tui.alert/1).")
@click.option(
    "--interval",
    type=click.FloatRange(1, 3600),
    default=10.0,
    show_default=True,
    help="Seconds between looks.",
)
@click.option(
    "--since",
    "since_s",
    type=click.FloatRange(0, 7 * 86400),
    default=0.0,
    show_default=True,
    help="Also tell what happened this many seconds before the watch began.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, None, min_open=True),
    default=None,
    help="With --until: give up (exit code 3) after this many seconds.",
)
@click.option("--no-docker", is_flag=True, help="Watch only Dagster (no services, no reload statuses).")
@click.pass_context
@with_failures
def watch(
    ctx: click.Context,
    until: tuple[str, ...],
    as_json: bool,
    interval: float,
    since_s: float,
    timeout: float | None,
    no_docker: bool,
) -> None:
    """Tell failed runs, failed checks, stale daemons, refused reloads and unhealthy services as they happen.

    Each event once; the kinds and the rate limit come from the config file's `alerts:` section (kinds
    named by --until are watched even when switched off there). Runs until interrupted, or until an event
    of a kind named by --until (exit code 1) or --timeout (exit code 3).
    """
    context = context_of(ctx)
    config = context.config
    settings = config.alerts
    if until:
        settings = dataclasses.replace(settings, kinds=settings.kinds | set(until))
    services = None if no_docker else services_source(context)
    reload_status = None if no_docker else hot_reload.status_source(context, same_webserver=True)
    started = time.time()
    deadline = None if timeout is None else time.monotonic() + timeout

    async def loop(client: DagsterClient) -> int:
        monitor = AlertMonitor(
            client,
            since=started - since_s,
            reload_status=reload_status,
            services=services.snapshot if services is not None else None,
            poll_daemon=True,
        )
        feed = AlertFeed(settings)
        errors: list[str] = []
        first = True
        kinds = ", ".join(k for k in KINDS if settings.enabled(k))
        note(f"watching {client.graphql_url.removesuffix('/graphql')} for {kinds} since {fmt.clock(started)}")
        while True:
            look = await monitor.look()
            if look.errors != errors:
                for error in look.errors:
                    note(f"cannot read {shorten(error, 300)} (retrying)")
                errors = look.errors
            if first:
                first = False
                note("first look done: what is wrong now is the baseline, told when it turns bad again")
            offered = feed.offer(look.events)
            for event in offered.shown:
                click.echo(json.dumps(event.to_json()) if as_json else event_line(event))
            if offered.suppressed:
                note(f"{len(offered.suppressed)} alert(s) over the rate limit not shown")
            sys.stdout.flush()
            stop = next((e for e in offered.new if e.kind in until), None)
            if stop is not None:
                note(f"{stop.kind}: {printable(stop.text)}")
                return EXIT_UNHEALTHY
            if deadline is not None and time.monotonic() >= deadline:
                note(f"no {' or '.join(until) or 'event'} within {timeout:g}s")
                return EXIT_TIMEOUT
            wait = interval if deadline is None else min(interval, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(wait)

    try:
        code = run_dagster(context, loop)
    finally:
        for source in (reload_status, services):
            if source is not None:
                source.close()
    sys.exit(code)
