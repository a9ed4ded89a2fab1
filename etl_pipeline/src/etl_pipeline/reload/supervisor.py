"""The `user-code` service: Dagster's code-server proxy whose reload checks before it replaces.

    python -m etl_pipeline.reload.supervisor -h 0.0.0.0 -p 4000 -m etl_pipeline.definitions

It speaks the same gRPC API on the same port as `dagster code-server start` (it is Dagster's
DagsterProxyApiServicer, with the reload step replaced), so the webserver, the daemon, GraphQL's
`reloadRepositoryLocation` and the healthcheck see no difference. A reload, asked over gRPC (`ReloadCode`:
the UI, `edp-tui reload`) or by the file watcher:

1. checked: `dbt parse` in-process when the dbt project's inputs changed (dbt_parse.py); a dbt error
   stops here.
2. loaded: a new server process, forked from a warm forkserver that already imported dagster, dagster-dbt and
   dbt, imports the definitions from disk and reports what they define or the error (child.py).
3. served: only then the proxy switches to the new process (the server id changes, the webserver refreshes the
   location within its 1 s watch) and tells the old one to shut down once its runs finish. A failure keeps the
   old process serving: jobs, schedules and sensors go on; the error is published (status.py).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.utils import FuturesAwareThreadPoolExecutor
from dagster._grpc.proxy_server import DagsterProxyApiServicer
from dagster._grpc.server import DagsterGrpcServer
from dagster._utils.interrupts import setup_interrupt_handlers
from dagster._utils.log import configure_loggers

from etl_pipeline.reload import errors
from etl_pipeline.reload.coalesce import Coalescer
from etl_pipeline.reload.dbt_parse import ensure_manifest
from etl_pipeline.reload.status import StatusBook, log_event
from etl_pipeline.reload.watcher import Watcher, use_polling

TRUTHY = {"1", "true", "yes", "on"}
DEFAULT_STATUS_PATH = "/opt/dagster/reload/status.json"
# What the forkserver imports once, so that each candidate server only imports the watched code.
PRELOAD = [
    "etl_pipeline.reload.child",
    "dagster",
    "dagster._cli.api",
    "dagster._grpc.server",
    "dagster_dbt",
    "dagster_postgres",
    "dbt.cli.main",
    "dbt.adapters.postgres",
    "psycopg2",
]
CHILD_START_TIMEOUT_S = float(os.environ.get("EDP_RELOAD_TIMEOUT_S", "300"))
HEARTBEAT_TTL_S = 30

logger = logging.getLogger("dagster.code_server")


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default).strip()


def watched_roots() -> dict[str, str]:
    """Watched folder -> repository-relative name (EDP_RELOAD_PATHS, else the code's src folder and the dbt
    project)."""
    raw = setting("EDP_RELOAD_PATHS", "")
    if raw:
        paths = [p for p in raw.split(os.pathsep) if p]
    else:
        import importlib.util

        spec = importlib.util.find_spec("etl_pipeline")
        src = Path(next(iter(spec.submodule_search_locations))).parent if spec and spec.origin else None
        paths = [str(p) for p in (src, os.environ.get("DBT_PROJECT_DIR")) if p]
    roots = {}
    for path in paths:
        real = os.path.realpath(path)
        p = Path(real)
        roots[real] = f"{p.parent.name}/{p.name}" if p.name == "src" else p.name
    return roots


def dbt_dirs() -> tuple[Path, Path, Path] | None:
    project = os.environ.get("DBT_PROJECT_DIR")
    if not project:
        return None
    project_dir = Path(project)
    profiles = Path(os.environ.get("DBT_PROFILES_DIR") or project_dir)
    target = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return project_dir, profiles, target if target.is_absolute() else project_dir / target


class CheckingProxyServicer(DagsterProxyApiServicer):
    def __init__(self, *, book: StatusBook, module_name: str, roots: dict[str, str], **kwargs: Any) -> None:
        self._book = book
        self._module_name = module_name
        self._roots = roots
        self._ctx = multiprocessing.get_context("forkserver")
        self._processes: list[Any] = []
        self._current_process: Any = None
        self._dbt = dbt_dirs()
        self._parse_on_load = setting("DAGSTER_DBT_PARSE_PROJECT_ON_LOAD", "").lower() in TRUTHY
        super().__init__(**kwargs)  # loads once (calls _reload_location)

    # ---- Dagster's hooks -------------------------------------------------------------------------------
    def _reload_location(self) -> None:
        self.reload("startup", [], time.monotonic())

    def ReloadCode(self, request, context):
        from dagster._grpc.__generated__ import dagster_api_pb2

        self.reload("grpc", [], time.monotonic())
        return dagster_api_pb2.ReloadCodeReply()

    def cleanup(self) -> None:
        client = self._client
        super().cleanup()
        if client is not None:
            _quietly(client.shutdown_server)
        for proc in self._processes:
            proc.join(timeout=10)

    # ---- the reload ------------------------------------------------------------------------------------
    def reload(self, trigger: str, files: list[str], seen_mono: float) -> None:
        """Check, load and swap; serialised (the base class's reload lock)."""
        with self._reload_lock:
            self._reap()
            seen_wall = time.time() - (time.monotonic() - seen_mono)
            record = self._book.begin(trigger, files, seen_wall, seen_mono)
            try:
                self._reload(record)
            except Exception as exc:  # a bug or an OS error here: say so in the record, keep serving
                logger.exception("reload %s failed unexpectedly", record.id)
                self._book.finish_failed(record, errors.generic_error(f"{type(exc).__name__}: {exc}"))

    def _reload(self, record: Any) -> None:
        """The steps of one reload (see the module's docstring); every outcome closes `record`."""
        have_good = self._client is not None and self._book.names is not None
        dbt_failure = None
        if self._parse_on_load and self._dbt is not None:
            outcome = ensure_manifest(*self._dbt)
            record.dbt_parse = outcome.action
            if outcome.action == "failed":
                dbt_failure = errors.dbt_error(outcome.message, self._dbt_name())
        record.phase("checked")
        if dbt_failure is not None and have_good:
            self._book.finish_failed(record, dbt_failure)
            return
        try:
            proc, result, client = self._start_candidate(serve_on_error=not have_good)
        except Exception as exc:
            record.phase("loaded")
            if self._client is None:
                from dagster._utils.error import serializable_error_info_from_exc_info

                self._load_error = serializable_error_info_from_exc_info(sys.exc_info())
            self._book.finish_failed(record, errors.generic_error(f"{type(exc).__name__}: {exc}"))
            return
        record.phase("loaded")
        if not result["ok"] and have_good:
            self._book.finish_failed(record, result["error"])
            return
        self._swap(proc, client)
        record.phase("served")
        server_id = _quietly(client.get_server_id) or "?"
        if dbt_failure is not None:  # only when nothing good was serving (see above)
            stale = (result["names"], server_id) if result["ok"] else None
            self._book.finish_failed(record, dbt_failure, serving_error=not result["ok"], served_stale=stale)
        elif result["ok"]:
            self._book.finish_served(record, result["names"], server_id)
        else:
            self._book.finish_failed(record, result["error"], serving_error=True)

    def _dbt_name(self) -> str:
        assert self._dbt is not None
        real = os.path.realpath(self._dbt[0])
        return self._roots.get(real, Path(real).name)

    def _start_candidate(self, *, serve_on_error: bool):
        from dagster._grpc.client import DagsterGrpcClient
        from dagster_shared.utils import find_free_port

        port = find_free_port()
        receiver, sender = self._ctx.Pipe(duplex=False)
        from etl_pipeline.reload import child

        proc = self._ctx.Process(
            target=child.check_and_serve,
            args=(sender,),
            kwargs={
                "module_name": self._module_name,
                "location_name": self._location_name,
                "port": port,
                "roots": self._roots,
                "serve_on_error": serve_on_error,
                "heartbeat_timeout": HEARTBEAT_TTL_S,
                "log_level": self._log_level,
            },
            name="edp-candidate-server",
            daemon=False,  # it starts run processes of its own
        )
        proc.start()
        sender.close()
        self._processes.append(proc)
        deadline = time.monotonic() + CHILD_START_TIMEOUT_S
        result = None
        while result is None:
            if receiver.poll(0.02):
                result = receiver.recv()
            elif not proc.is_alive():
                raise RuntimeError(f"the new server process exited with code {proc.exitcode} before loading")
            elif time.monotonic() > deadline:
                proc.terminate()
                raise TimeoutError(f"the new server did not load within {CHILD_START_TIMEOUT_S:.0f} s")
        receiver.close()
        if not result["ok"] and not serve_on_error:
            proc.join(timeout=30)
            return proc, result, None
        client = DagsterGrpcClient(port=port, host="localhost")
        while True:
            try:
                client.ping("")
                break
            except Exception:
                if not proc.is_alive():
                    raise RuntimeError(f"the new server exited ({proc.exitcode}) while starting") from None
                if time.monotonic() > deadline:
                    proc.terminate()
                    raise TimeoutError("the new server loaded but never answered") from None
                time.sleep(0.02)
        return proc, result, client

    def _swap(self, proc: Any, client: Any) -> None:
        from dagster._grpc.client import client_heartbeat_thread

        old_client, old_event, old_thread = (
            self._client,
            self._client_heartbeat_shutdown_event,
            self._client_heartbeat_thread,
        )
        event = threading.Event()
        thread = threading.Thread(
            target=client_heartbeat_thread, args=(client, event), name="grpc-client-heartbeat", daemon=True
        )
        thread.start()
        self._client, self._load_error = client, None
        self._client_heartbeat_shutdown_event, self._client_heartbeat_thread = event, thread
        self._current_process = proc
        if old_client is not None:
            # The old server exits once its runs have finished (Dagster's own shutdown semantics).
            _quietly(old_client.shutdown_server)
        if old_event is not None:
            old_event.set()
        if old_thread is not None:
            old_thread.join(timeout=5)

    def _reap(self) -> None:
        self._processes = [p for p in self._processes if p is self._current_process or p.is_alive()]


def _quietly(fn):
    try:
        return fn()
    except Exception as exc:
        logger.warning("%s failed: %s", getattr(fn, "__name__", fn), exc)
        return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m etl_pipeline.reload.supervisor",
        description=__doc__.split("\n\n")[0],
        add_help=False,
    )
    parser.add_argument("--help", action="help", help="show this help and exit")
    parser.add_argument("-h", "--host", default="0.0.0.0")
    parser.add_argument("-p", "--port", type=int, default=4000)
    parser.add_argument("-m", "--module-name", default="etl_pipeline.definitions")
    parser.add_argument("--location-name", default="etl_pipeline")
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    auto = setting("EDP_AUTO_RELOAD", "1").lower() in TRUTHY
    roots = watched_roots()
    # SIGTERM (docker stop) is mapped onto SIGINT's handler: make sure that is Python's, even when started
    # with SIGINT ignored (a background job of a non-interactive shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    setup_interrupt_handlers()
    configure_loggers(log_level=args.log_level.upper())
    # dbt's in-process import gives the root logger a handler: keep Dagster's lines from printing twice.
    logging.getLogger("dagster").propagate = False

    # The warm interpreter every candidate server is forked from (a fresh exec'd process: no gRPC state).
    multiprocessing.set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()
    if setting("DAGSTER_DBT_PARSE_PROJECT_ON_LOAD", "").lower() in TRUTHY:
        import dbt.cli.main  # noqa: F401  (parses run in this process: import dbt once, now)

    book = StatusBook(
        Path(setting("EDP_RELOAD_STATUS_PATH", DEFAULT_STATUS_PATH)), args.location_name, auto_reload=auto
    )
    termination = threading.Event()
    servicer = CheckingProxyServicer(
        book=book,
        module_name=args.module_name,
        roots=roots,
        loadable_target_origin=LoadableTargetOrigin(
            module_name=args.module_name, working_directory=os.getcwd()
        ),
        fixed_server_id=None,
        container_image=os.getenv("DAGSTER_CURRENT_IMAGE"),
        container_context=None,
        inject_env_vars_from_instance=False,
        location_name=args.location_name,
        log_level=args.log_level,
        startup_timeout=int(CHILD_START_TIMEOUT_S),
        server_termination_event=termination,
        instance_ref=None,
        logger=logger,
        server_heartbeat=False,
        server_heartbeat_timeout=HEARTBEAT_TTL_S,
        heartbeat_ttl=HEARTBEAT_TTL_S,
        defs_state_info=None,
    )
    if auto:
        polling, why = use_polling(setting("EDP_RELOAD_POLLING", "auto"), list(roots))
        coalescer = Coalescer(
            quiet_s=float(setting("EDP_RELOAD_QUIET_MS", "300")) / 1000,
            max_wait_s=float(setting("EDP_RELOAD_MAX_WAIT_MS", "2000")) / 1000,
        )
        book.set_watch(
            mode="polling" if polling else "native",
            why=why,
            roots=sorted(roots.values()),
            quiet_ms=int(coalescer.quiet_s * 1000),
            max_wait_ms=int(coalescer.max_wait_s * 1000),
        )
        watcher = Watcher(
            roots,
            lambda files, first: servicer.reload("watch", files, first),
            polling=polling,
            coalescer=coalescer,
            on_state=book.set_watch,
        )
        watcher.start()
    else:
        log_event({"event": "watch", "state": "off", "why": "EDP_AUTO_RELOAD=0"})
    server = DagsterGrpcServer(
        server_termination_event=termination,
        dagster_api_servicer=servicer,
        port=args.port,
        socket=None,
        host=args.host,
        threadpool_executor=FuturesAwareThreadPoolExecutor(),
        logger=logger,
    )
    logger.info("Started the checking code server for %s on port %s", args.module_name, args.port)
    try:
        server.serve()
    except KeyboardInterrupt:
        logger.info("Code server interrupted")


if __name__ == "__main__":
    main()
