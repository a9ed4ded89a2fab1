"""The composition root: resolve the compose project, build every backend once, run the dashboard.

The only CLI module that imports the UI (and so Textual).
"""

from __future__ import annotations

import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from logging.handlers import RotatingFileHandler
from pathlib import Path

from edp_tui.backends import build_backends, dagster_client, webserver_url
from edp_tui.cli.common import Context, fail
from edp_tui.compose import ComposeError, ComposeProject
from edp_tui.dagster.client import DagsterClient, runs_variables
from edp_tui.dagster.early import Read

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
# What the dashboard's first polls read (the workspace twice: the code locations panel and the schedules
# panel each read it; the first page of runs; the daemons' health), sent before the UI is imported
# (`EarlyReads`); tests/unit/test_early_reads.py keeps them equal to the panels' own first reads (a read that
# differs is only asked again, never answered wrongly).
FIRST_READS: tuple[Read, ...] = (
    ("Workspace", {}),
    ("Workspace", {}),
    ("RunsLean", runs_variables(limit=50)),
    ("DaemonHealth", {}),
)


def setup_logging(path: Path) -> logging.Handler | None:
    """Send the `edp_tui` logger (unexpected errors, with tracebacks) to ``path``; the terminal belongs to the
    app. A file that cannot be opened is said once on stderr and the dashboard runs without it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=2, encoding="utf-8")
    except OSError as exc:
        print(f"edp-tui: cannot write the log file {path}: {exc}; logging disabled", file=sys.stderr)
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger = logging.getLogger("edp_tui")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def resolve_and_read_early(context: Context) -> tuple[ComposeProject, DagsterClient]:
    """The compose project, and the Dagster client with the first polls' reads sent (`FIRST_READS`)."""
    compose = context.compose_project()
    client = dagster_client(context.config, webserver_url(context.config, compose))
    client.read_early(FIRST_READS)
    return compose, client


def run_dashboard(context: Context) -> int:
    """Resolve the project, build the backends and run the app until the user quits; the app's exit code."""
    # `docker compose config` is a subprocess and the first reads wait on the webserver: both run while Python
    # imports Textual (start-up time).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="compose-config") as pool:
        resolution = pool.submit(resolve_and_read_early, context)
        from edp_tui.ui.app import EdpApp

    try:
        compose, dagster = resolution.result()
    except ComposeError as exc:
        fail(str(exc))
    handler = setup_logging(context.config.log_file)
    logging.getLogger("edp_tui").info("dashboard started (project %s)", compose.name)
    app = EdpApp(context.config, build_backends(context.config, compose, dagster=dagster))
    try:
        app.run()
    finally:
        if handler is not None:
            logging.getLogger("edp_tui").removeHandler(handler)
            handler.close()
    return app.return_code or 0
