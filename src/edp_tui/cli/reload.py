"""``edp-tui reload [LOCATION]``: reload code locations and report each outcome (the dashboard's routine)."""

from __future__ import annotations

import asyncio
import sys

import click

from edp_tui.cli import hot_reload
from edp_tui.cli.common import (
    EXIT_OK,
    EXIT_UNHEALTHY,
    context_of,
    die,
    note,
    refuse_if_read_only,
    run_dagster,
    with_failures,
)
from edp_tui.dagster import reload as reloading
from edp_tui.dagster.client import DagsterClient
from edp_tui.text import printable


@click.command()
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
            die(
                f"unknown code location {printable(location)!r}; "
                f"known: {', '.join(map(printable, known)) or '(none)'}"
            )
        if not known:
            die("the workspace has no code locations")
        failed = 0
        before, _ = await asyncio.to_thread(hot_reload.read, context, same_webserver=True)
        last_ids = {name: status.last.id if status.last else 0 for name, status in before.items()}
        for name in [location] if location else known:
            note(f"reloading {printable(name)} …")
            outcome = await reloading.reload_location(
                client, name, timeout=timeout, before=current[name], on_progress=lambda m: note(f"  {m}")
            )
            refused = (
                await asyncio.to_thread(hot_reload.refused_since, context, name, last_ids.get(name, 0))
                if outcome.ok
                else None
            )
            if refused is not None:
                # The code server checked the change and kept serving the definitions it had.
                failed += 1
                click.echo(f"{printable(name)}: FAILED to load; still serving the last good definitions")
                for line in hot_reload.failure_lines("the location keeps its last good load", refused.error):
                    click.echo(f"  {line}")
                continue
            click.echo(printable(outcome.summary(timeout)))
            if outcome.ok:
                continue
            failed += 1
            if outcome.location is not None and outcome.state == "error":
                error = outcome.location.error
                for line in (error.text if error else "no error text").splitlines():
                    click.echo(f"  {printable(line)}")
        return EXIT_UNHEALTHY if failed else EXIT_OK

    sys.exit(run_dagster(context, work))
