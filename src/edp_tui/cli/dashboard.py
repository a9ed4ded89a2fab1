"""The composition root: resolve the compose project, build every backend once, run the dashboard.

The only CLI module that imports the UI (and so Textual).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from edp_tui.backends import build_backends
from edp_tui.cli.common import Context, fail
from edp_tui.compose import ComposeError


def run_dashboard(context: Context) -> int:
    """Resolve the project, build the backends and run the app until the user quits; the app's exit code."""
    # `docker compose config` is a subprocess: let it run while Python imports Textual (start-up time).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="compose-config") as pool:
        resolution = pool.submit(context.compose_project)
        from edp_tui.ui.app import EdpApp

    try:
        compose = resolution.result()
    except ComposeError as exc:
        fail(str(exc))
    app = EdpApp(context.config, build_backends(context.config, compose))
    app.run()
    return app.return_code or 0
