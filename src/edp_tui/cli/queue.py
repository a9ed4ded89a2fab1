"""``edp-tui queue`` (why runs wait: the queue's limits, the pools, each queued run's reason) and
``edp-tui pool NAME [LIMIT]`` (a pool's limit, shown or set)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from edp_tui.cli.common import (
    EXIT_OK,
    context_of,
    die,
    note,
    refuse_if_read_only,
    run_dagster,
    table,
    with_failures,
)
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.partition_client import QUEUE_RUNS_LIMIT
from edp_tui.dagster.partitions import partition_of
from edp_tui.dagster.queue import Pool, QueueState, removal_refusal, why_queued
from edp_tui.text import printable
from edp_tui.util import fmt

QUEUE_SCHEMA = "edp-tui.queue/1"


def pool_json(pool: Pool) -> dict[str, Any]:
    return {
        "pool": pool.name,
        "limit": pool.limit,
        "using_default": pool.using_default,
        "in_use": pool.in_use,
        "waiting": pool.pending,
        "runs": list(pool.active_run_ids),
    }


def queue_json(state: QueueState, now: float, stale_after_s: float) -> dict[str, Any]:
    return {
        "schema": QUEUE_SCHEMA,
        "queuing": state.queuing,
        "max_concurrent_runs": state.max_concurrent_runs,
        "in_progress": state.in_progress_count,
        "queued": state.queued_count,
        "tag_limits": [
            {"key": t.key, "value": t.value, "per_value": t.per_value, "limit": t.limit, "in_use": used}
            for t, used in state.tag_usage()
        ],
        "pools_block_runs": state.pool_aware,
        "pool_granularity": state.pool_granularity,
        "default_pool_limit": state.default_pool_limit,
        "pools": [pool_json(p) for p in state.pools],
        "queued_runs": [
            {
                "run_id": r.run_id,
                "job": r.job_name,
                "partition": partition_of(r.tags.items()),
                "pools": list(r.pools),
                "why": why_queued(r, state, now, stale_after_s),
            }
            for r in state.queued
        ],
    }


def pool_limit_text(pool: Pool) -> str:
    if pool.limit is None:
        return "-"
    return f"{pool.limit} (default)" if pool.using_default else str(pool.limit)


def print_queue(state: QueueState, now: float, stale_after_s: float) -> None:
    limit = "no limit" if state.max_concurrent_runs in (None, -1) else str(state.max_concurrent_runs)
    running, queued = state.in_progress_count, state.queued_count
    click.echo(f"runs in progress: {running} (max_concurrent_runs: {limit}); queued: {queued}")
    for tag_limit, used in state.tag_usage():
        click.echo(f"tag limit {printable(tag_limit.describe())}: {used} of {tag_limit.limit} in progress")
    if state.pools:
        how = "hold queued runs" if state.pool_aware else "hold steps (runs start, their steps wait)"
        default = state.default_pool_limit if state.default_pool_limit is not None else "none"
        click.echo(f"pools ({how}; default limit: {default}):")
        rows = [[printable(p.name), pool_limit_text(p), str(p.in_use), str(p.pending)] for p in state.pools]
        click.echo("\n".join(table(["POOL", "LIMIT", "IN USE", "WAITING"], rows)))
    if not state.queued:
        note("no queued runs")
        return
    shown = f" (the newest {len(state.queued)})" if state.queued_count > len(state.queued) else ""
    click.echo(f"queued runs{shown}:")
    for run in state.queued:
        partition = partition_of(run.tags.items())
        waited = fmt.duration(now - run.creation_time) if run.creation_time else "?"
        head = f"  {run.run_id[:8]} {printable(run.job_name)}" + (
            f" [{printable(partition)}]" if partition else ""
        )
        click.echo(f"{head}, queued {waited}")
        for reason in why_queued(run, state, now, stale_after_s):
            click.echo(f"    {printable(reason)}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help=f"Print one JSON document (schema {QUEUE_SCHEMA}).")
@click.pass_context
@with_failures
def queue(ctx: click.Context, as_json: bool) -> None:
    """Why queued runs wait: the runs in progress against max_concurrent_runs, each tag concurrency limit,
    the concurrency pools (limit, slots in use, steps waiting) and, for each queued run, the limit that holds
    it (or that none does)."""
    context = context_of(ctx)

    async def work(client: DagsterClient) -> tuple[QueueState, float]:
        return await client.run_queue(), client.stale_after_s

    state, stale_after_s = run_dagster(context, work)
    now = time.time()
    if as_json:
        click.echo(json.dumps(queue_json(state, now, stale_after_s), indent=2))
    else:
        print_queue(state, now, stale_after_s)


@click.command()
@click.argument("name")
@click.argument("limit", type=int, required=False)
@click.option("--reset", is_flag=True, help="Remove the pool's limit (back to the instance's default).")
@click.option("--free-ended", is_flag=True, help="Free the slots held by runs that have ended.")
@click.option("--json", "as_json", is_flag=True, help="Print the pool as JSON.")
@click.pass_context
@with_failures
def pool(
    ctx: click.Context, name: str, limit: int | None, reset: bool, free_ended: bool, as_json: bool
) -> None:
    """Show the concurrency pool NAME, or set its LIMIT (steps of that pool running at once).

    --reset removes the limit; --free-ended frees the slots still held by runs that have ended (a run
    canceled while its step held a slot keeps it). An unknown pool (used by no asset and without a limit:
    the known ones are listed) or a limit outside the instance's bounds exits 2 and changes nothing."""
    context = context_of(ctx)
    if sum((reset, limit is not None, free_ended)) > 1:
        die("one of LIMIT, --reset or --free-ended")
    if reset or free_ended or limit is not None:
        refuse_if_read_only(context, f"changing pool {name}")

    async def work(client: DagsterClient) -> int:
        known = await client.pool_names()
        if name not in known:
            listed = ", ".join(map(printable, known)) or "(none)"
            die(f"unknown pool {printable(name)!r}; known pools: {listed}; nothing changed")
        state = await client.run_queue(limit=QUEUE_RUNS_LIMIT)
        if reset and (refusal := removal_refusal(state, name)) is not None:
            die(f"{printable(refusal)}; nothing changed")
        if free_ended:
            held = state.pool(name)
            ended = state.held_by_ended_runs(held) if held else ()
            if not ended:
                die(f"no slot of pool {printable(name)} is held by a run that has ended; nothing changed")
            for run_id in ended:
                await client.free_pool_slots(run_id)
                note(f"freed the slots of run {run_id} in pool {printable(name)}")
            state = await client.run_queue(limit=QUEUE_RUNS_LIMIT)
        if limit is not None:
            low, high = state.min_limit, state.max_limit or None
            if limit < low or (high is not None and limit > high):
                die(f"a pool limit is between {low} and {high}; got {limit}; nothing changed")
        if limit is not None or reset:
            await client.set_pool_limit(name, None if reset else limit)
            note(f"pool {printable(name)}: " + ("limit removed" if reset else f"limit {limit}"))
            state = await client.run_queue(limit=QUEUE_RUNS_LIMIT)
        found = state.pool(name) or Pool(name, None, False, 0, 0)
        if as_json:
            click.echo(json.dumps(pool_json(found), indent=2))
        else:
            click.echo(f"{printable(found.name)}: {found.describe()}")
        return EXIT_OK

    sys.exit(run_dagster(context, work))
