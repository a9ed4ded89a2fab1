"""Command line: ``edp-tui`` runs the dashboard; subcommands (status, logs, ...) share its configuration.

Each command lives in a module of its own and is registered here explicitly (no import circle):
``status``, ``reload``, ``launch``, ``runs``, ``terminate``, ``logs``, ``up``/``down``, ``partitions``,
``backfill``/``backfills``, ``queue``, ``pool``; the dashboard (the
composition root) is `edp_tui.cli.dashboard`, the only CLI module that imports the UI.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from edp_tui.cli import backfill, launch, logs, partitions, queue, reload, runs, stack, status, terminate
from edp_tui.cli.common import Context, fail
from edp_tui.config import ConfigError, load_config


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--compose-file", type=click.Path(path_type=Path), help="Compose file of the stack to supervise."
)
@click.option("--env-file", type=click.Path(path_type=Path), help="Env file passed to Compose.")
@click.option("--project", "-p", help="Compose project name (default: as Compose resolves it).")
@click.option("--webserver-url", help="Dagster webserver URL (default: the port the compose file publishes).")
@click.option(
    "--docker-host", help="Docker endpoint (default: DOCKER_HOST, else the current docker context)."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Config file (YAML); default ~/.config/edp-tui/config.yaml.",
)
@click.option("--read-only", is_flag=True, default=None, help="Refuse every action that changes the stack.")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, **flags: Any) -> None:
    """Supervise the Enterprise Data Platform compose stack. Without a subcommand: open the dashboard."""
    try:
        config = load_config(flags, config_path=config_path)
    except ConfigError as exc:
        fail(str(exc))
        return
    ctx.obj = Context(config)
    if ctx.invoked_subcommand is None:
        from edp_tui.cli.dashboard import run_dashboard

        sys.exit(run_dashboard(ctx.obj))


for command in (
    status.status,
    reload.reload,
    launch.launch,
    runs.runs,
    terminate.terminate,
    logs.logs,
    stack.up,
    stack.down,
    partitions.partitions,
    backfill.backfill,
    backfill.backfills,
    queue.queue,
    queue.pool,
):
    main.add_command(command)
