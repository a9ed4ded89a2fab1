"""Run workers forked from a warm process of the code server (edp_platform.instance.run_launcher).

Dagster's `dagster api grpc` (grpc_command, which the candidate server runs in-process: code_server/child.py)
builds its servicer from `dagster._grpc.server.DagsterApiServer`, looked up when it runs, and that servicer
starts every run worker through its multiprocessing context (`self._mp_ctx`, spawn: a fresh interpreter that
imports dagster, dagster-postgres, dagster-dbt and dbt, about 2 s of CPU). `install` gives it WarmApiServer,
whose context chooses per StartRun: multiprocessing's forkserver when the launching instance's run launcher
asks for warm workers, spawn otherwise. Queue, Event and Process of one StartRun come from the same context.

The forkserver is the warm process: `fork_warm_process`, called by the candidate server as it starts, before
it imports the location's code, forks it from the candidate itself, which is then a fork of the code
server's own forkserver (supervisor.py) and holds the libraries that one preloaded, but none of the
location's modules. It runs multiprocessing's own forkserver loop (`multiprocessing.forkserver.main`) and is
registered as this process's forkserver, in place of the one multiprocessing would exec (which would import
every library again, at every reload): no import, no CPU, its memory shared with the candidate's until
written. Each worker is a fork of it that imports the location's code from disk when it starts, so it runs
the files as they are then, as a spawned worker does; a reload starts a new candidate with a warm process of
its own; the warm process ends when the candidate and the workers it started are gone (multiprocessing's
"alive" pipe). The registration writes three attributes of `multiprocessing.forkserver._forkserver`
(`_forkserver_address`, `_forkserver_alive_fd`, `_forkserver_pid`), what `ForkServer.ensure_running` sets
after it started a server: pinned in tests/unit/test_platform_contracts.py.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
from multiprocessing import connection, forkserver, util
from typing import Any

from dagster._grpc.server import DagsterApiServer
from dagster._grpc.types import ExecuteExternalJobArgs
from dagster._serdes import deserialize_value

from edp_platform.instance.run_launcher import wants_warm_workers

# A child of the logger `dagster api grpc` configures in the candidate server: its lines reach its log.
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


def fork_warm_process(close_in_child: tuple[int, ...] = ()) -> int | None:
    """Forks this process as its multiprocessing forkserver (see the module); returns its pid, or None in the
    run-per-container mode (DAGSTER_CONTAINER_CONTEXT set: runs are containers, no StartRun comes). Call it
    while this process has one thread and none of the location's code imported. `close_in_child`: file
    descriptors the warm process must not keep (the candidate's connection to its supervisor)."""
    if os.environ.get("DAGSTER_CONTAINER_CONTEXT"):
        return None
    listener = socket.socket(socket.AF_UNIX)
    # multiprocessing's own private helpers (pinned in tests/unit/test_platform_contracts.py): the address and
    # the state ForkServer.ensure_running would make and record itself.
    address = connection.arbitrary_address("AF_UNIX")  # type: ignore[attr-defined]
    listener.bind(address)
    if not util.is_abstract_socket_namespace(address):
        os.chmod(address, 0o600)
    listener.listen()
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the warm process: multiprocessing's forkserver loop, then exit (never back to the caller)
        try:
            os.close(alive_w)
            for fd in close_in_child:
                os.close(fd)
            forkserver.main(listener.fileno(), alive_r, [])
        finally:
            os._exit(0)
    os.close(alive_r)
    listener.close()
    server: Any = forkserver._forkserver  # type: ignore[attr-defined]
    server._forkserver_address = address
    server._forkserver_alive_fd = alive_w
    server._forkserver_pid = pid
    return pid


def install() -> None:
    """Makes `dagster api grpc`, run in this process, serve with WarmApiServer."""
    import dagster._grpc.server as server

    server.DagsterApiServer = WarmApiServer  # type: ignore[misc]
