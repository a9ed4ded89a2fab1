"""``edp-tui partitions [ASSET]``: each partitioned asset's partitions by status, with its health bar."""

from __future__ import annotations

import json
import shutil
from typing import Any

import click

from edp_tui.cli.common import context_of, die, note, run_dagster, with_failures
from edp_tui.dagster.assets import AssetKey, key_text
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.partitions import FAILED, IN_PROGRESS, MATERIALIZED, MISSING, PARTIAL, PartitionHealth
from edp_tui.text import printable

PARTITIONS_SCHEMA = "edp-tui.partitions/1"
# Plain characters: the bar survives `| grep`, dumb terminals and copy-paste.
BAR_CHARS = {MATERIALIZED: "#", PARTIAL: "+", FAILED: "x", IN_PROGRESS: ">", MISSING: "."}
LEGEND = "# materialized  + partly  x failed  > in progress  . missing"


def parse_asset_key(text: str) -> AssetKey:
    """``schema/table`` (Dagster's own notation) -> a key; an empty part is a usage error."""
    parts = tuple(text.strip().split("/"))
    if not text.strip() or any(not p for p in parts):
        die(f"asset key {printable(text)!r}: expected parts separated by '/', e.g. retail_raw/orders")
    return parts


def bar(health: PartitionHealth, width: int) -> str:
    return "".join(BAR_CHARS[s] for s in health.cells(width))


def counts_text(health: PartitionHealth) -> str:
    return (
        f"{health.materialized} materialized, {health.failed} failed, {health.in_progress} in progress, "
        f"{health.missing} missing of {health.total}"
    )


def health_json(health: PartitionHealth) -> dict[str, Any]:
    return {
        "asset": key_text(health.key),
        "definition": health.definition,
        "type": health.kind,
        "first": health.first_key,
        "last": health.last_key,
        **health.counts(),
        "ranges": [{"start": r.start, "end": r.end, "status": r.status} for r in health.ranges],
    }


@click.command()
@click.argument("asset", required=False)
@click.option("--width", type=click.IntRange(10, 1000), help="Bar width (default: the terminal's).")
@click.option(
    "--json", "as_json", is_flag=True, help=f"Print one JSON document (schema {PARTITIONS_SCHEMA})."
)
@click.pass_context
@with_failures
def partitions(ctx: click.Context, asset: str | None, width: int | None, as_json: bool) -> None:
    """The partitions of ASSET (e.g. retail_raw/orders), or of every partitioned asset: how many are
    materialized, failed, in progress and missing, as a bar over the whole range (oldest on the left), and
    the ranges Dagster reports. An unknown or unpartitioned asset exits 2."""
    context = context_of(ctx)
    key = parse_asset_key(asset) if asset else None

    async def work(client: DagsterClient) -> dict[AssetKey, PartitionHealth | None]:
        return await client.partition_health([key] if key else None)

    found = run_dagster(context, work)
    if key is not None:
        if key not in found:
            die(f"no asset {printable(key_text(key))} in the workspace")
        if found[key] is None:
            die(f"{printable(key_text(key))} is not partitioned")
    healths = [h for k, h in found.items() if h is not None and key in (None, k)]
    if as_json:
        click.echo(
            json.dumps({"schema": PARTITIONS_SCHEMA, "assets": [health_json(h) for h in healths]}, indent=2)
        )
        return
    if not healths:
        note("no partitioned assets")
        return
    columns = width or shutil.get_terminal_size((100, 24)).columns
    if key is not None:
        (health,) = healths
        click.echo(f"{printable(key_text(health.key))}: {printable(health.definition)}")
        click.echo(f"  {health.first_key} .. {health.last_key}: {counts_text(health)}")
        click.echo("  " + bar(health, max(10, columns - 2)))
        click.echo(f"  {LEGEND}")
        for r in health.ranges:
            if r.status != MATERIALIZED:
                click.echo(f"  {r.status.lower():<13} {r.start}..{r.end}")
        return
    name_width = max(len(key_text(h.key)) for h in healths)
    for health in healths:
        label = printable(key_text(health.key)).ljust(name_width)
        tally = f"{health.materialized}/{health.total}"
        if health.failed:
            tally += f" {health.failed}x"
        if health.in_progress:
            tally += f" {health.in_progress}>"
        click.echo(f"{label} {bar(health, max(10, columns - name_width - len(tally) - 3))} {tally}")
    note(LEGEND + "  (materialized/total)")
