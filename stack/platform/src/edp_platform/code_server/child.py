"""The candidate server of a reload, run in a process forked from the warm forkserver (see supervisor.py).

It drops the watched code from its module cache (the forkserver preloaded only libraries and the platform),
imports the location's definitions from disk, sends the outcome to the supervisor (the names it defines and
the warnings its code emitted while loading, or the error with its file and line), then serves them as
`dagster api grpc` does (Dagster's own command, in-process: the module is already imported, so Dagster's
loader
finds it in the cache). After a failed check it exits: the supervisor keeps the old server, or shows the error
as the location's load error when nothing good is serving.
"""

from __future__ import annotations

import importlib
import json
import socket
import sys
import warnings
from multiprocessing.connection import Connection
from typing import Any

from edp_platform.code_server import snapshots
from edp_platform.code_server.errors import python_error

MAX_WARNINGS = 20
MAX_WARNING_CHARS = 2000


def forget_watched_modules(roots: list[str]) -> None:
    for name, module in list(sys.modules.items()):
        if name in ("__main__", "__mp_main__"):  # multiprocessing's own (the supervisor's module): keep
            continue
        path = getattr(module, "__file__", None) or ""
        if any(path.startswith(root.rstrip("/") + "/") for root in roots):
            del sys.modules[name]
    importlib.invalidate_caches()


def served_repository(module: Any) -> Any:
    """The repository of the module's Definitions (the one Dagster's loader serves: the first found)."""
    import dagster as dg

    found = [v for v in vars(module).values() if isinstance(v, dg.Definitions)]
    if not found:
        raise RuntimeError(
            f"module {module.__name__} ({getattr(module, '__file__', '?')}) defines no dagster.Definitions "
            "object at its top level: a code location's module needs one, e.g. `defs = dg.Definitions(...)`"
        )
    return found[0].get_repository_def()


def definition_names(module: Any) -> dict[str, list[str]]:
    repo = served_repository(module)
    return {
        "assets": sorted(key.to_user_string() for key in repo.asset_graph.get_all_asset_keys()),
        "jobs": sorted(name for name in repo.job_names if not name.startswith("__")),
        "schedules": sorted(s.name for s in repo.schedule_defs),
        "sensors": sorted(s.name for s in repo.sensor_defs),
    }


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("localhost", port), timeout=1):
            return True
    except OSError:
        return False


def own_warnings(caught: list[warnings.WarningMessage], roots: list[str]) -> list[str]:
    """The warnings raised from the location's own files (not the libraries' deprecation notices)."""
    found: list[str] = []
    for w in caught:
        if any(str(w.filename).startswith(root.rstrip("/") + "/") for root in roots):
            text = str(w.message)[:MAX_WARNING_CHARS]
            if text not in found:
                found.append(text)
    return found[:MAX_WARNINGS]


def check_and_serve(
    conn: Connection,
    *,
    module_name: str,
    location_name: str,
    python_path: list[str],
    port: int,
    roots: dict[str, str],
    heartbeat_timeout: int,
    log_level: str,
    container_context: dict[str, Any] | None = None,
    container_image: str | None = None,
) -> None:
    sys.path[:0] = [p for p in python_path if p not in sys.path]
    forget_watched_modules(list(roots))
    # The warm process run workers are forked from: this process now, libraries without the location's code.
    from edp_platform.instance import warm_workers

    warm_workers.fork_warm_process(close_in_child=(conn.fileno(),))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(module_name)
            names = definition_names(module)
        outcome = {"ok": True, "names": names, "warnings": own_warnings(caught, list(roots))}
    except BaseException as exc:  # a user's code can raise anything, SystemExit included
        outcome = {"ok": False, "error": python_error(exc, roots)}
    try:
        conn.send(outcome)
        conn.close()
    except OSError:  # the supervisor gave up on us (timeout, shutdown): nothing to serve for
        return
    if not outcome["ok"]:
        return
    from dagster._cli.api import grpc_command

    # The snapshot the webserver and the daemon both ask for once they see this server: computed once, as
    # soon as the server answers (snapshots.py).
    cache = snapshots.SnapshotCache()
    snapshots.install(cache)
    snapshots.prime(cache, served_repository(module), serving=lambda: port_open(port))
    warm_workers.install()  # run workers from the warm process, when the instance's launcher asks for them
    args = [
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
    ]
    if python_path:
        args += ["--working-directory", python_path[0]]
    if container_context is not None:
        args += ["--container-context", json.dumps(container_context)]
    if container_image:
        args += ["--container-image", container_image]
    grpc_command.main(args=args, prog_name="dagster api grpc", standalone_mode=False)
