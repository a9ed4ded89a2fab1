"""Run workers forked from a warm process of the code server (edp_platform.instance.run_launcher).

Installed by the candidate server (edp_platform/code_server/child.py) before it serves: Dagster's
`dagster api grpc` (grpc_command) builds its servicer from `dagster._grpc.server.DagsterApiServer`, looked up
when it runs, and that servicer starts every run worker through its multiprocessing context
(`self._mp_ctx`, spawn). `WarmApiServer` gives it a context that chooses per StartRun: a forkserver of this
code server when the launching instance's run launcher asks for warm workers, spawn otherwise. Queue, Event
and Process of one StartRun come from the same context.

The forkserver is a fresh interpreter (multiprocessing exec's it), started in the background when the
server starts, that imports PRELOAD once: libraries and the platform only, all of them installed in the
image, never the location's code. Each worker is a fork of it that imports the location's code from disk
when it starts, so it runs the files as they are then, as a spawned worker does; a reload starts a new
candidate server with a forkserver of its own. The forkserver inherits this server's environment (the
location's, edp_platform.code_server.supervisor) and working directory, as spawned workers did.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from multiprocessing import forkserver
from typing import Any

from dagster._grpc.server import DagsterApiServer
from dagster._grpc.types import ExecuteExternalJobArgs
from dagster._serdes import deserialize_value

from edp_platform.instance.run_launcher import wants_warm_workers

# What a run worker imports before the location's code (measured: about 2 s of CPU in a fresh interpreter).
PRELOAD = [
    "dagster",
    "dagster._grpc.impl",
    "dagster._core.execution.api",
    "dagster._core.instance",
    "dagster_postgres",
    "psycopg2",
    "dagster_dbt",
    "dbt.cli.main",
    "dbt.adapters.postgres",
    "edp_platform.instance.storage",
    "edp_platform.instance.compute_logs",
    "edp_platform.instance.run_coordinator",
    "edp_platform.instance.run_launcher",
    "edp_platform.dbt.assets",
]

# A child of the logger `dagster api grpc` configures in the candidate server: its lines reach the log.
logger = logging.getLogger("dagster.code_server.warm_workers")


class ChoosingContext:
    """A multiprocessing context that is the warm one in a thread that asked for it, spawn otherwise."""

    def __init__(self, cold: Any, warm: Any) -> None:
        self.cold, self.warm = cold, warm
        self.choice = threading.local()

    def _current(self) -> Any:
        return self.warm if getattr(self.choice, "warm", False) else self.cold

    def Queue(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (multiprocessing's names)
        return self._current().Queue(*args, **kwargs)

    def Event(self) -> Any:  # noqa: N802
        return self._current().Event()

    def Process(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        return self._current().Process(*args, **kwargs)


class WarmApiServer(DagsterApiServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choosing = ChoosingContext(self._mp_ctx, multiprocessing.get_context("forkserver"))
        self._mp_ctx = self._choosing  # type: ignore[assignment]

    def StartRun(self, request: Any, context: Any) -> Any:  # noqa: N802 (Dagster's RPC name)
        try:
            args = deserialize_value(request.serialized_execute_run_args, ExecuteExternalJobArgs)
            ref = args.instance_ref
            warm = wants_warm_workers(ref.run_launcher_data if ref is not None else None)
        except Exception:  # Dagster's own StartRun reports a request it cannot read
            warm = False
        self._choosing.choice.warm = warm
        try:
            if warm:
                logger.info("run %s: its worker starts from the warm process", args.run_id)
            return super().StartRun(request, context)
        finally:
            self._choosing.choice.warm = False


def install() -> None:
    """Makes `dagster api grpc`, run in this process, serve with WarmApiServer, and starts the forkserver in
    the background, so the first run is warm too; in the run-per-container mode (DAGSTER_CONTAINER_CONTEXT
    set: runs are containers, no StartRun comes) only when a StartRun asks for it."""
    import dagster._grpc.server as server

    multiprocessing.set_forkserver_preload(PRELOAD)
    server.DagsterApiServer = WarmApiServer  # type: ignore[misc]
    if not os.environ.get("DAGSTER_CONTAINER_CONTEXT"):
        threading.Thread(target=forkserver.ensure_running, name="edp-warm-workers", daemon=True).start()
