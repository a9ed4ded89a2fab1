"""``edp-tui backfill`` (launch one, ``--wait`` with a progress bar) and ``edp-tui backfills`` (list them; one
with its partitions and runs; cancel it; re-execute its failed partitions)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import click

from edp_tui.cli.common import (
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_UNHEALTHY,
    TRANSIENT,
    CliFailure,
    Retry,
    context_of,
    die,
    note,
    refuse_if_read_only,
    run_dagster,
    table,
    with_failures,
)
from edp_tui.cli.launch import tag_option
from edp_tui.cli.partitions import parse_asset_key
from edp_tui.dagster.assets import key_text
from edp_tui.dagster.backfill_plan import BackfillAsk, plan_backfill
from edp_tui.dagster.backfills import BACKFILL_TAG, BackfillInfo
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.partitions import PartitionRequestError, partition_of
from edp_tui.text import printable
from edp_tui.util import fmt

BACKFILLS_SCHEMA = "edp-tui.backfills/1"
BACKFILL_SCHEMA = "edp-tui.backfill/1"
# --wait reads the backfill this often: its progress moves a run at a time (seconds each).
POLL_S = 2.0
BAR_WIDTH = 30


def progress_line(info: BackfillInfo) -> str:
    p = info.progress
    filled = round(BAR_WIDTH * p.fraction)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    extra = f", {p.failed} failed" if p.failed else ""
    extra += f", {p.in_progress} in progress" if p.in_progress else ""
    return f"[{bar}] {p.done}/{p.targeted}{extra}  {info.status}"


def backfill_json(info: BackfillInfo) -> dict[str, Any]:
    p = info.progress
    return {
        "backfill_id": info.backfill_id,
        "status": info.status,
        "title": info.title,
        "created": info.created,
        "ended": info.ended,
        "partitions": info.num_partitions,
        "ranges": [{"start": r.start, "end": r.end} for r in info.ranges],
        "keys": list(info.keys),
        "progress": {
            "targeted": p.targeted,
            "materialized": p.materialized,
            "failed": p.failed,
            "in_progress": p.in_progress,
        },
        "assets": [
            {
                "asset": key_text(a.key),
                "partitioned": a.partitioned,
                "targeted": a.targeted,
                "materialized": a.materialized,
                "failed": a.failed,
                "in_progress": a.in_progress,
            }
            for a in info.assets
        ],
        "cancelable_runs": info.num_cancelable,
        "error": info.error,
    }


def outcome_code(info: BackfillInfo) -> int:
    return (
        EXIT_OK
        if info.status in ("COMPLETED_SUCCESS", "COMPLETED") and not info.progress.failed
        else EXIT_UNHEALTHY
    )


async def follow_backfill(client: DagsterClient, backfill_id: str, timeout: float | None) -> BackfillInfo:
    """Poll the backfill, drawing its progress on stderr (in place on a terminal), until it is finished."""
    deadline = None if timeout is None else time.monotonic() + timeout
    in_place = sys.stderr.isatty()
    last = ""
    retry = Retry()
    while True:
        try:
            info = await client.backfill(backfill_id)
        except TRANSIENT as exc:
            await retry.failed(exc, f"could not read backfill {backfill_id}")
            continue
        retry.ok()
        line = progress_line(info)
        if line != last:
            last = line
            if in_place:
                click.echo(f"\r{line}\x1b[K", err=True, nl=False)
            else:
                note(line)
        if info.is_finished:
            if in_place:
                click.echo("", err=True)
            return info
        if deadline is not None and time.monotonic() > deadline:
            if in_place:
                click.echo("", err=True)
            raise CliFailure(
                f"backfill {backfill_id} is still {info.status} after {timeout:.0f}s; stopped waiting "
                "(the backfill goes on)",
                EXIT_TIMEOUT,
            )
        await asyncio.sleep(POLL_S)


async def wait_and_report(client: DagsterClient, backfill_id: str, timeout: float | None) -> int:
    try:
        info = await follow_backfill(client, backfill_id, timeout)
    except CliFailure as exc:
        note(f"edp-tui: {exc}")
        return exc.code
    took = fmt.duration((info.ended or time.time()) - info.created)
    note(f"backfill {backfill_id} finished: {info.status} in {took}")
    if info.progress.failed:
        note(f"re-execute its failed partitions: edp-tui backfills {backfill_id} --reexecute")
    return outcome_code(info)


@click.command()
@click.argument("assets", nargs=-1)
@click.option("--job", help="Backfill the assets of this job (those not partitioned are built once).")
@click.option("--location", help="With --job: the code location of the job.")
@click.option("--from", "start", metavar="KEY", help="First partition (with --to: the range to backfill).")
@click.option("--to", "end", metavar="KEY", help="Last partition, included.")
@click.option("--missing", is_flag=True, help="Only the partitions never materialized (within --from/--to).")
@click.option(
    "--failed", is_flag=True, help="Only the partitions whose last run failed (within --from/--to)."
)
@click.option("--title", help="A title for the backfill.")
@click.option(
    "--tag", "tags", multiple=True, callback=tag_option, metavar="KEY=VALUE", help="Tag for its runs."
)
@click.option(
    "--wait", is_flag=True, help="Follow it with a progress bar; exit 0 when every partition succeeded."
)
@click.option(
    "--timeout", type=click.FloatRange(1), default=None, help="With --wait: give up after S seconds."
)
@click.pass_context
@with_failures
def backfill(
    ctx: click.Context,
    assets: tuple[str, ...],
    job: str | None,
    location: str | None,
    start: str | None,
    end: str | None,
    missing: bool,
    failed: bool,
    title: str | None,
    tags: dict[str, str],
    wait: bool,
    timeout: float | None,
) -> None:
    """Backfill partitioned ASSETS (e.g. retail_raw/orders), or a --job's assets, over a range (--from/--to),
    the missing partitions (--missing) or the failed ones (--failed); prints the backfill's id.

    The assets computed in the same step as those named come along (Dagster requires it). Each partition is a
    run of its own (Dagster's asset backfill; dbt models with a single-run policy build the range at once).
    A key outside the partitions, an asset that is not partitioned, or nothing to backfill exits 2 and
    launches nothing. With --wait: a progress bar on stderr, exit 0 when it completed with no failure, 1
    otherwise, 3 at the timeout (the backfill goes on).
    """
    context = context_of(ctx)
    if missing and failed:
        die("--missing and --failed exclude each other: one backfill at a time")
    if bool(assets) == bool(job):
        die("name the assets to backfill, or --job JOB (not both)")
    if not (missing or failed) and not (start and end):
        die("what to backfill: --from KEY --to KEY, --missing or --failed")
    keys = tuple(parse_asset_key(a) for a in assets)
    refuse_if_read_only(context, "backfill")
    mode = "missing" if missing else "failed" if failed else "range"

    async def work(client: DagsterClient) -> int:
        targets = keys if job is None else tuple(await client.job_assets(job, location))
        if job is not None and not targets:
            die(f"job {printable(job)!r} materializes no assets (or is unknown); nothing launched")
        ask = BackfillAsk(targets, mode, start, end, from_job=job, title=title, tags=tags)
        try:
            request = await plan_backfill(client, ask)
        except PartitionRequestError as exc:
            die(printable(str(exc)))
        backfill_id = await client.launch_backfill(request)
        note(f"launched backfill {backfill_id}: {printable(request.describe())}")
        click.echo(backfill_id)
        return await wait_and_report(client, backfill_id, timeout) if wait else EXIT_OK

    sys.exit(run_dagster(context, work))


def print_backfill(info: BackfillInfo, runs: list[Any]) -> None:
    click.echo(
        f"backfill {info.backfill_id}: {info.status}" + (f"  {printable(info.title)}" if info.title else "")
    )
    click.echo(
        f"  created {fmt.timestamp(info.created, with_year=True)}"
        + (f", ended {fmt.timestamp(info.ended, with_year=True)}" if info.ended else "")
    )
    click.echo(f"  partitions: {printable(info.partitions_text(limit=10))} ({info.num_partitions or 0})")
    click.echo(f"  progress: {progress_line(info)}")
    if info.error:
        click.echo(f"  error: {printable(info.error)}")
    rows = [
        [
            printable(key_text(a.key)),
            str(a.targeted) if a.partitioned else "once",
            str(a.materialized),
            str(a.failed),
            str(a.in_progress),
        ]
        for a in info.assets
    ]
    click.echo("\n".join(table(["ASSET", "TARGETED", "DONE", "FAILED", "IN PROGRESS"], rows)))
    if runs:
        click.echo(f"  runs ({len(runs)} newest):")
        rows = [
            [
                r.run_id,
                printable(partition_of(r.tags) or "-"),
                r.status,
                fmt.timestamp(r.start_time, with_year=True),
            ]
            for r in runs
        ]
        click.echo("\n".join(table(["RUN ID", "PARTITION", "STATUS", "STARTED (UTC)"], rows, indent="    ")))


@click.command()
@click.argument("backfill_id", required=False)
@click.option(
    "--limit", type=click.IntRange(1, 200), default=20, show_default=True, help="Newest N backfills."
)
@click.option("--runs", "run_limit", type=click.IntRange(0, 500), default=20, show_default=True,
              help="With BACKFILL_ID: its newest N runs.")  # fmt: skip
@click.option("--cancel", is_flag=True, help="Cancel BACKFILL_ID (no new runs; its runs are terminated).")
@click.option("--reexecute", is_flag=True, help="A new backfill of BACKFILL_ID's failed partitions.")
@click.option("--wait", is_flag=True, help="With --reexecute: follow the new backfill.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help=f"Print one JSON document ({BACKFILLS_SCHEMA} / {BACKFILL_SCHEMA}).",
)
@click.pass_context
@with_failures
def backfills(
    ctx: click.Context,
    backfill_id: str | None,
    limit: int,
    run_limit: int,
    cancel: bool,
    reexecute: bool,
    wait: bool,
    as_json: bool,
) -> None:
    """The newest backfills (status, progress, partitions); with BACKFILL_ID, that one with its progress per
    asset and its runs, and --cancel or --reexecute (its failed partitions) to act on it."""
    context = context_of(ctx)
    if (cancel or reexecute) and backfill_id is None:
        die("--cancel and --reexecute act on one backfill: give its id")
    if cancel and reexecute:
        die("--cancel and --reexecute exclude each other")
    if cancel or reexecute:
        refuse_if_read_only(context, f"{'cancel' if cancel else 're-execution'} of backfill {backfill_id}")

    async def work(client: DagsterClient) -> int:
        if backfill_id is None:
            found = await client.backfills(limit=limit)
            if as_json:
                click.echo(
                    json.dumps(
                        {"schema": BACKFILLS_SCHEMA, "backfills": [backfill_json(b) for b in found]}, indent=2
                    )
                )
            elif found:
                rows = [
                    [
                        b.backfill_id,
                        b.status,
                        f"{b.progress.done}/{b.progress.targeted}"
                        + (f" ({b.progress.failed} failed)" if b.progress.failed else ""),
                        printable(b.partitions_text()),
                        fmt.timestamp(b.created, with_year=True),
                    ]
                    for b in found
                ]
                click.echo(
                    "\n".join(table(["BACKFILL", "STATUS", "DONE", "PARTITIONS", "CREATED (UTC)"], rows))
                )
            else:
                note("no backfills")
            return EXIT_OK
        info = await client.backfill(backfill_id)
        if cancel:
            if not info.can_cancel:
                die(f"backfill {backfill_id} is {info.status}: nothing to cancel")
            await client.cancel_backfill(backfill_id)
            running = info.num_cancelable
            note(
                f"backfill {backfill_id}: canceling (no new runs; its {running} runs in progress are "
                "terminated)"
            )
            return EXIT_OK
        if reexecute:
            if not info.is_finished:
                die(
                    f"backfill {backfill_id} is still {info.status}: re-execute its failures once it "
                    "has ended"
                )
            if not info.progress.failed:
                die(f"backfill {backfill_id} has no failed partitions: nothing to re-execute")
            new_id = await client.reexecute_backfill(backfill_id, "FROM_FAILURE")
            note(f"launched backfill {new_id}: the failed partitions of {backfill_id}")
            click.echo(new_id)
            return await wait_and_report(client, new_id, None) if wait else EXIT_OK
        runs = await client.runs(limit=run_limit, tags={BACKFILL_TAG: backfill_id}) if run_limit else []
        if as_json:
            doc = {"schema": BACKFILL_SCHEMA, **backfill_json(info)}
            doc["runs"] = [
                {
                    "run_id": r.run_id,
                    "partition": partition_of(r.tags),
                    "status": r.status,
                    "started": r.start_time,
                }
                for r in runs
            ]
            click.echo(json.dumps(doc, indent=2))
        else:
            print_backfill(info, runs)
        return EXIT_OK

    sys.exit(run_dagster(context, work))
