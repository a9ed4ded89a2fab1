"""``edp-tui terminate RUN_ID [--force]``: stop a run, or mark a run whose worker is gone as canceled."""

from __future__ import annotations

import asyncio
import sys
import time

import click

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
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterRequestRejected
from edp_tui.dagster.models import RunDetail
from edp_tui.dagster.trouble import force_verdict
from edp_tui.text import printable

POLL_S = 1.0
# With --force, a run that can still be terminated is asked to stop first, and given this long to do so.
GRACE_S = 15.0


async def current(client: DagsterClient, run_id: str) -> RunDetail:
    try:
        return await client.run(run_id)
    except DagsterRequestRejected as exc:
        if exc.typename == "RunNotFoundError":
            die(f"no run with id {printable(run_id)!r} (list them with `edp-tui runs`)")
        raise


async def wait_until_over(client: DagsterClient, run_id: str, timeout: float) -> RunDetail:
    """The run once it has ended, or as it is after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        detail = await current(client, run_id)
        if detail.run.is_terminal or time.monotonic() >= deadline:
            return detail
        await asyncio.sleep(POLL_S)


@click.command()
@click.argument("run_id")
@click.option(
    "--force",
    is_flag=True,
    help="Mark the run canceled without its worker (for a run stuck in CANCELING or whose worker is gone):"
    " a run that can still stop is asked to first; refused while the platform knows its worker alive.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, 3600),
    default=60,
    show_default=True,
    help="Seconds to wait for the run to end (0: do not wait).",
)
@click.pass_context
@with_failures
def terminate(ctx: click.Context, run_id: str, force: bool, timeout: float) -> None:
    """Terminate RUN_ID and wait until it has ended.

    Without --force the run's worker is asked to stop (the run goes CANCELING, then CANCELED). A run
    whose worker is gone never gets there: --force marks it CANCELED, as Dagster's UI offers, and frees its
    queue slot. It never leaves a live worker behind: a run that can still stop is asked to first (and
    given a few seconds), and a run whose worker the platform knows alive is not marked (exit 1, and why).
    Exit code: 0 when the run ended CANCELED (or had already ended), 1 when it is still not over after
    --timeout or cannot be forced.
    """
    context = context_of(ctx)
    refuse_if_read_only(context, f"{'forced ' if force else ''}termination of {run_id}")

    async def work(client: DagsterClient) -> int:
        detail = await current(client, run_id)
        if detail.run.is_terminal:
            note(f"run {run_id} has already ended: {detail.run.status}")
            return EXIT_OK
        if not force and not detail.run.can_terminate:
            die(f"run {run_id} is {detail.run.status} and cannot be terminated safely; use --force")
        if force and detail.run.can_terminate:
            # End it first: a worker that stops by itself leaves nothing to force.
            await client.terminate_run(run_id, force=False)
            note(f"termination requested: run {run_id} (forced only if it does not end)")
            detail = await wait_until_over(client, run_id, min(GRACE_S, timeout))
        if force and not detail.run.is_terminal:
            allowed, why = force_verdict(detail.run)
            if not allowed:
                note(f"run {run_id} is {detail.run.status} and is not marked canceled: {why}")
                return EXIT_UNHEALTHY
            await client.terminate_run(run_id, force=True)
            note(f"marked canceled ({why}): run {run_id}")
        elif not force:
            await client.terminate_run(run_id, force=False)
            note(f"termination requested: run {run_id}")
        detail = await wait_until_over(client, run_id, timeout)
        click.echo(f"{run_id} {detail.run.status}")
        if detail.run.is_terminal:
            return EXIT_OK
        hint = "" if force else "; if its worker is gone, `edp-tui terminate --force` marks it canceled"
        note(f"run {run_id} is still {detail.run.status} after {timeout:.0f}s{hint}")
        return EXIT_UNHEALTHY

    sys.exit(run_dagster(context, work))
