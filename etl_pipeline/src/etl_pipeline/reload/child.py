"""The candidate server of a reload, run in a process forked from the warm forkserver (see supervisor.py).

It drops the watched code from its module cache (the forkserver preloaded only libraries and this
package), imports the definitions from disk, sends the outcome to the supervisor (the names it defines, or
the error with its file and line), then serves them as `dagster api grpc` does (Dagster's own command,
in-process: the module is already imported, so Dagster's loader finds it in the cache). A failed import is
served as the load error only when nothing good is serving yet (`serve_on_error`), as `dagster code-server
start` does.
"""

from __future__ import annotations

import importlib
import sys
from multiprocessing.connection import Connection
from typing import Any

from etl_pipeline.reload.errors import python_error


def forget_watched_modules(roots: list[str]) -> None:
    for name, module in list(sys.modules.items()):
        if name in ("__main__", "__mp_main__"):  # multiprocessing's own (the supervisor's module): keep
            continue
        path = getattr(module, "__file__", None) or ""
        if any(path.startswith(root.rstrip("/") + "/") for root in roots):
            del sys.modules[name]
    importlib.invalidate_caches()


def definition_names(module: Any) -> dict[str, list[str]]:
    import dagster as dg

    found = [v for v in vars(module).values() if isinstance(v, dg.Definitions)]
    if not found:
        raise RuntimeError(f"module {module.__name__} defines no dagster.Definitions object")
    repo = found[0].get_repository_def()
    return {
        "assets": sorted(key.to_user_string() for key in repo.asset_graph.get_all_asset_keys()),
        "jobs": sorted(name for name in repo.job_names if not name.startswith("__")),
        "schedules": sorted(s.name for s in repo.schedule_defs),
        "sensors": sorted(s.name for s in repo.sensor_defs),
    }


def check_and_serve(
    conn: Connection,
    *,
    module_name: str,
    location_name: str,
    port: int,
    roots: dict[str, str],
    serve_on_error: bool,
    heartbeat_timeout: int,
    log_level: str,
) -> None:
    forget_watched_modules(list(roots))
    try:
        module = importlib.import_module(module_name)
        outcome = {"ok": True, "names": definition_names(module)}
    except BaseException as exc:  # a user's code can raise anything, SystemExit included
        outcome = {"ok": False, "error": python_error(exc, roots)}
    try:
        conn.send(outcome)
        conn.close()
    except OSError:  # the supervisor gave up on us (timeout, shutdown): nothing to serve for
        return
    if not outcome["ok"] and not serve_on_error:
        return
    from dagster._cli.api import grpc_command

    grpc_command.main(
        args=[
            "--port",
            str(port),
            "--host",
            "localhost",
            "--lazy-load-user-code",
            "--heartbeat",
            "--heartbeat-timeout",
            str(heartbeat_timeout),
            "--log-level",
            log_level,
            "--location-name",
            location_name,
            "-m",
            module_name,
        ],
        prog_name="dagster api grpc",
        standalone_mode=False,
    )
