"""``edp-tui runs``: recent runs, newest first; the run rows ``status`` shows too."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import click

from edp_tui.cli.common import context_of, note, run_dagster, table, with_failures
from edp_tui.dagster.models import CODE_LOCATION_TAG, RUN_STATUSES, RunSummary
from edp_tui.dagster.partitions import partition_of
from edp_tui.dagster.runs_query import BACKFILL_TAG, PARTITION_TAG
from edp_tui.text import printable
from edp_tui.util import fmt

RUNS_SCHEMA = "edp-tui.runs/1"


def run_json(run: RunSummary) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "job": run.job_name,
        "location": run.location,
        "partition": partition_of(run.tags),
        "status": run.status,
        "created": run.creation_time,
        "started": run.start_time,
        "ended": run.end_time,
        "duration_s": None if run.start_time is None else round(run.duration(time.time()) or 0.0, 1),
    }


def runs_table(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = [
        [
            r["run_id"],
            printable(r["job"]),
            printable(r.get("location") or "-"),
            printable(r["partition"] or "-"),
            r["status"],
            fmt.timestamp(r["started"], with_year=True),
            fmt.duration(r["duration_s"]),
        ]
        for r in runs
    ]
    return table(["RUN ID", "JOB", "LOCATION", "PARTITION", "STATUS", "STARTED (UTC)", "DURATION"], rows)


@click.command()
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="Newest N runs.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(RUN_STATUSES, case_sensitive=False),
    help="Only runs in this status; repeat for several.",
)
@click.option("--job", help="Only runs of this job.")
@click.option("--partition", metavar="KEY", help="Only runs of this partition.")
@click.option("--backfill", metavar="ID", help="Only runs of this backfill.")
@click.option("--location", help="Only runs of jobs of this code location.")
@click.option("--json", "as_json", is_flag=True, help=f"Print one JSON document (schema {RUNS_SCHEMA}).")
@click.pass_context
@with_failures
def runs(
    ctx: click.Context,
    limit: int,
    statuses: tuple[str, ...],
    job: str | None,
    partition: str | None,
    backfill: str | None,
    location: str | None,
    as_json: bool,
) -> None:
    """Recent runs, newest first: id, job, code location, partition, status, start time and duration."""
    context = context_of(ctx)
    wanted = [s.upper() for s in statuses]
    # The webserver filters on the tag Dagster gives every run of a location (RunsFilter has no location).
    tags = {
        k: v
        for k, v in ((PARTITION_TAG, partition), (BACKFILL_TAG, backfill), (CODE_LOCATION_TAG, location))
        if v
    }
    found = run_dagster(
        context,
        lambda client: client.runs(limit=limit, statuses=wanted or None, job_name=job, tags=tags or None),
    )
    rows = [run_json(r) for r in found]
    if as_json:
        click.echo(json.dumps({"schema": RUNS_SCHEMA, "runs": rows}, indent=2))
    elif rows:
        click.echo("\n".join(runs_table(rows)))
    else:
        note("no runs match")
