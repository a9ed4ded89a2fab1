"""``edp-tui launch JOB``: launch a job with a run config file and tags; ``--wait`` follows it to the end."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
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
    with_failures,
)
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.models import LocationInfo, RunDetail
from edp_tui.dagster.partitions import PartitionRequestError, check_job_partition
from edp_tui.dagster.run_config import RunConfigSyntaxError, parse_run_config
from edp_tui.dagster.runs_query import PARTITION_TAG
from edp_tui.dagster.tags import parse_tags
from edp_tui.text import printable
from edp_tui.util import fmt

# --wait polls the run: on average half the interval is added to the run's wall time (docs/scaling.md, run
# latency); a quarter second costs four small GraphQL queries a second while waiting.
POLL_S = 0.25


def read_run_config(path: Path | None) -> dict[str, Any]:
    """The run config file as a mapping; every problem is a usage error (nothing launched)."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        die(f"cannot read run config {path}: {exc}")
    try:
        return parse_run_config(text)
    except RunConfigSyntaxError as exc:
        die(f"run config {path}: {printable(str(exc))}")


def tag_option(
    _ctx: click.Context | None, _param: click.Parameter | None, values: Sequence[str]
) -> dict[str, str]:
    """click callback of ``--tag``: the shared tag parser, its errors as click's own."""
    try:
        return parse_tags(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


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
        die(f"job {printable(job)!r} exists in several places ({where}): choose one with --location")
    known = sorted({info.name for loc in locations for _, info in loc.visible_jobs()})
    message = f"unknown job {printable(job)!r}; known jobs: {', '.join(map(printable, known)) or '(none)'}"
    broken = [loc.name for loc in locations if loc.state != "loaded"]
    if broken:
        message += f" (not loaded, jobs unknown: {', '.join(map(printable, broken))})"
    if location is not None and location not in {loc.name for loc in locations}:
        message = f"unknown code location {printable(location)!r}; " + message
    die(message)


async def check_partition(client: DagsterClient, job: str, location: str, partition: str) -> None:
    """A usage error unless `partition` is a partition of the job (of its first partitioned asset)."""
    try:
        await check_job_partition(client, job, location, partition)
    except PartitionRequestError as exc:
        die(printable(str(exc)))


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
            note(f"[{fmt.clock(time.time())}] run {run_id[:8]} {last_status}")
        for step in detail.steps:
            if steps.get(step.step_key, "-") != step.status:
                steps[step.step_key] = step.status
                took = (
                    f" in {fmt.duration(step.end_time - step.start_time)}"
                    if step.end_time and step.start_time
                    else ""
                )
                note(f"  step {printable(step.step_key)}: {step.status or 'pending'}{took}")
        if detail.run.is_terminal:
            return detail
        if deadline is not None and time.monotonic() > deadline:
            raise CliFailure(
                f"run {run_id} is still {detail.run.status} after {timeout:.0f}s; stopped waiting "
                "(the run goes on)",
                EXIT_TIMEOUT,
            )
        await asyncio.sleep(POLL_S)


@click.command()
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
    callback=tag_option,
    metavar="KEY=VALUE",
    help="Tag for the run; repeat for several.",
)
@click.option(
    "--partition",
    metavar="KEY",
    help="The partition to run (a partitioned job): checked against its partitions, set as its tag; the "
    "partition's own run config (the job's default) goes under --config's, as in Dagster's launchpad.",
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
    partition: str | None,
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
        if partition is not None:
            await check_partition(client, job, where, partition)
            tags[PARTITION_TAG] = partition
        run = await client.launch_run(where, repository, job, run_config, tags)
        note(f"launched {printable(job)} ({printable(where)}): run {run.run_id} {run.status}")
        click.echo(run.run_id)
        if not wait:
            return EXIT_OK
        try:
            detail = await follow_run(client, run.run_id, timeout)
        except CliFailure as exc:
            note(f"edp-tui: {exc}")
            return exc.code
        outcome = detail.run.status
        took = fmt.duration(detail.run.duration(time.time()))
        note(f"run {run.run_id} finished: {outcome} in {took}")
        if outcome != "SUCCESS":
            note(f"see its logs: edp-tui logs {run.run_id}")
        return EXIT_OK if outcome == "SUCCESS" else EXIT_UNHEALTHY

    sys.exit(run_dagster(context, work))
