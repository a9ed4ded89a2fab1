"""Command line: ``edp-tui`` runs the dashboard; subcommands (status, logs, ...) share its configuration."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click

from edp_tui.compose import ComposeError, ComposeProject, resolve_project
from edp_tui.config import DEFAULT_WEBSERVER_URL, Config, ConfigError, load_config


class Context:
    """What every subcommand receives: the merged configuration, and Compose's resolution on demand."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._compose: ComposeProject | None = None

    def compose_project(self) -> ComposeProject:
        if self._compose is None:
            self._compose = resolve_project(
                self.config.compose_file,
                env_file=self.config.env_file,
                project_name=self.config.project,
                docker_host=self.config.docker_host,
            )
        return self._compose

    def webserver_url(self, compose: ComposeProject | None = None) -> str:
        """Flag/env/config file, else the port the compose file publishes for the webserver, else 3000."""
        if self.config.webserver_url:
            return self.config.webserver_url.rstrip("/")
        return (compose.webserver_url() if compose else None) or DEFAULT_WEBSERVER_URL


def fail(message: str) -> None:
    click.echo(f"edp-tui: {message}", err=True)
    sys.exit(2)


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
        sys.exit(run_dashboard(ctx.obj))


def run_dashboard(context: Context) -> int:
    """Resolve the project, build the Docker source and run the app until the user quits."""
    # `docker compose config` is a subprocess: let it run while Python imports Textual (start-up time).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="compose-config") as pool:
        resolution = pool.submit(context.compose_project)
        from edp_tui.docker_source import DockerSource
        from edp_tui.ui.app import EdpApp

    try:
        compose = resolution.result()
    except ComposeError as exc:
        fail(str(exc))
        return 2
    config = context.config
    source = DockerSource(compose.name, compose.service_names, docker_host=config.docker_host)
    app = EdpApp(config, project=compose.name, source=source, webserver_url=context.webserver_url(compose))
    app.run()
    return app.return_code or 0


# The subcommands (status, reload, launch, runs, logs, up, down) register themselves on `main`.
from edp_tui import cli_commands  # noqa: E402, F401
