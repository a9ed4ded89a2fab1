"""Command line: ``edp-tui`` runs the dashboard; subcommands (status, logs, ...) share its configuration.

Each command lives in a module of its own and is registered here by name (no import circle): ``status``,
``reload``, ``launch``, ``runs``, ``terminate``, ``logs``, ``up``/``down``, ``watch``, each imported only
when it runs (or ``--help`` lists it): the dashboard, run without a command, imports none of them. The
dashboard (the composition root) is `edp_tui.cli.dashboard`, the only CLI module that imports the UI.
``reload``, ``launch``, ``runs``, ``terminate``, ``logs``, ``up``/``down``, ``partitions``,
``backfill``/``backfills``, ``queue``, ``pool``, each imported only when it runs
(or ``--help`` lists it): the dashboard, run without a command, imports none of them. The dashboard (the
composition root) is `edp_tui.cli.dashboard`, the only CLI module that imports the UI.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from edp_tui.cli.common import Context, fail
from edp_tui.config import ConfigError, load_config

# Command name -> "module:function" of its click command.
COMMANDS = {
    "status": "edp_tui.cli.status:status",
    "reload": "edp_tui.cli.reload:reload",
    "launch": "edp_tui.cli.launch:launch",
    "runs": "edp_tui.cli.runs:runs",
    "terminate": "edp_tui.cli.terminate:terminate",
    "logs": "edp_tui.cli.logs:logs",
    "up": "edp_tui.cli.stack:up",
    "down": "edp_tui.cli.stack:down",
    "watch": "edp_tui.cli.watch:watch",
    "partitions": "edp_tui.cli.partitions:partitions",
    "backfill": "edp_tui.cli.backfill:backfill",
    "backfills": "edp_tui.cli.backfill:backfills",
    "queue": "edp_tui.cli.queue:queue",
    "pool": "edp_tui.cli.queue:pool",
}


class LazyGroup(click.Group):
    """The commands of `COMMANDS`, each imported when it is looked up (run, or listed by --help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*COMMANDS, *self.commands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, name = target.partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        self.add_command(command, cmd_name)  # imported once, then found as any registered command
        return command


@click.group(
    cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
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
