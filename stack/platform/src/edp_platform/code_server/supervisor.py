"""One code location's code server: Dagster's code-server proxy whose reload checks before it replaces.

    python -m edp_platform.code_server.supervisor --location NAME [-h HOST] [-p PORT]

`python -m edp_platform.code_server` (user-code's command) starts one per configured code location
(edp_platform.settings). It speaks the same gRPC API on the same port as `dagster code-server start` (it is
Dagster's DagsterProxyApiServicer, with the reload step replaced), so the webserver, the daemon, GraphQL's
`reloadRepositoryLocation` and the healthcheck see no difference. A reload, asked over gRPC (`ReloadCode`,
`ReloadCodeWithState`: the UI, `edp-tui reload`) or by the file watcher:

1. checked: the location's settings (its folders exist), then its dbt project when it has one: the working
   copy, `dbt deps` when the package files changed, `dbt parse` when anything dbt reads changed
   (edp_platform.dbt.prepare, in a child process ended after EDP_DBT_PREPARE_TIMEOUT_S); a dbt error or a
   timeout stops here.
2. loaded: a new server process, forked from a warm forkserver that already imported dagster, dagster-dbt and
   dbt, imports the definitions from disk and reports what they define, the warnings the code emitted while
   loading, or the error (child.py).
3. served: only then the proxy switches to the new process (the server id changes, the webserver refreshes the
   location within its 1 s watch) and tells the old one to shut down once its runs finish. A failure keeps the
   old process serving: jobs, schedules and sensors go on; the error is published (status.py).

Beside the proxy it runs the location's lost-run-worker watch (lost_workers.py) and, with EDP_AUTO_RELOAD=1,
the file watcher over the location's folders (watcher.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.utils import FuturesAwareThreadPoolExecutor
from dagster._grpc.proxy_server import DagsterProxyApiServicer
from dagster._grpc.server import DagsterGrpcServer
from dagster._utils.interrupts import setup_interrupt_handlers
from dagster._utils.log import configure_loggers

from edp_platform import settings
from edp_platform.code_server import errors
from edp_platform.code_server.coalesce import Coalescer
from edp_platform.code_server.lost_workers import LostWorkerWatch
from edp_platform.code_server.status import StatusBook, log_event
from edp_platform.code_server.watcher import Watcher, use_polling
from edp_platform.dbt import prepare, workcopy
from edp_platform.dbt.project import location_env, parse_on_load_requested, work_copy

TRUTHY = {"1", "true", "yes", "on"}
DEFAULT_STATUS_DIR = "/opt/dagster/reload"
# What the forkserver imports once, so that each candidate server only imports the watched code.
PRELOAD = [
    "edp_platform.code_server.child",
    "dagster",
    "dagster._cli.api",
    "dagster._grpc.server",
    "dagster_dbt",
    "dagster_postgres",
    "dbt.cli.main",
    "dbt.adapters.postgres",
    "psycopg2",
    "edp_platform.dbt.assets",
    "edp_platform.dbt.prepare",
]
CHILD_START_TIMEOUT_S = float(os.environ.get("EDP_RELOAD_TIMEOUT_S", "300"))
# The gRPC server's threads (Dagster's default is min(32, cores + 4): 6 on a 2-core host, where six reloads
# asked at once stalled StartRun, sensor ticks and the healthcheck).
GRPC_THREADS = int(os.environ.get("EDP_CODE_SERVER_THREADS", "16"))
# gRPC reloads that arrive while one runs wait for its outcome, this many at most; more are answered at once
# (with what serves), so reloads never hold more than 1 + this many of the threads above.
MAX_RELOAD_WAITERS = 4
HEARTBEAT_TTL_S = 30
HEARTBEAT_EVERY_S = (
    5.0  # well inside HEARTBEAT_TTL_S, so a busy host never lets a candidate think it orphaned
)
CONNECTION_RECHECK_S = 60.0

logger = logging.getLogger("dagster.code_server")


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default).strip()


def display_roots(location: settings.Location, root: Path) -> dict[str, str]:
    """Watched folder (as this process sees it) -> the name a user knows it by (relative to the code root,
    which is the repository on the host: etl_pipeline/src, dbt_project)."""
    roots = {}
    extra = workcopy.outside_packages(location.dbt_project) if location.dbt_project else []
    for path in (*location.watched(), *extra):
        real = os.path.realpath(path)
        try:
            roots[real] = str(Path(real).relative_to(os.path.realpath(root)))
        except ValueError:
            roots[real] = str(path)
    return roots


def container_context(location_vars: dict[str, str]) -> dict[str, Any] | None:
    """DAGSTER_CONTAINER_CONTEXT (the run-per-container mode's networks, mounts and labels), with this
    location's environment added, so that a run container loads the code exactly as this server does."""
    raw = os.environ.get("DAGSTER_CONTAINER_CONTEXT")
    if not raw:
        return None
    context = json.loads(raw)
    docker = context.setdefault("docker", {})
    docker["env_vars"] = [
        *docker.get("env_vars", []),
        *(f"{k}={v}" for k, v in sorted(location_vars.items())),
    ]
    return context


class CheckingProxyServicer(DagsterProxyApiServicer):
    # Dagster's proxy starts these as None; this class swaps them (see _swap and _serve_error).
    _load_error: Any
    _client_heartbeat_shutdown_event: Any
    _client_heartbeat_thread: Any

    def __init__(
        self, *, book: StatusBook, location: settings.Location, roots: dict[str, str], **kwargs: Any
    ) -> None:
        self._book = book
        self._location = location
        self._roots = roots
        self._ctx = multiprocessing.get_context("forkserver")
        self._processes: list[Any] = []
        self._current_process: Any = None
        self._copy = work_copy(location) if location.dbt_project is not None else None
        self._parse_on_load = parse_on_load_requested()
        # The dbt profile's connection: checked at the first load, then again (at most once a minute, a
        # failing connect can take its timeout) while it fails, so a fixed warehouse clears the warning.
        self._connection_problem: str | None = None
        self._connection_checked_at: float | None = None
        # The reload under way (set when it ends) and how many gRPC reloads wait for it.
        self._flight_lock = threading.Lock()
        self._running: threading.Event | None = None
        self._waiters = 0
        self._error_server_id: str | None = None  # the server id answered while a load error is served
        super().__init__(**kwargs)  # loads once (calls _reload_location)

    # ---- Dagster's hooks: every way to reload goes through the check -------------------------------------
    def _reload_location(self) -> None:
        self.reload("startup", [], time.monotonic())

    def ReloadCode(self, request, context):
        from dagster._grpc.__generated__ import dagster_api_pb2

        self.reload("grpc", [], time.monotonic())
        return dagster_api_pb2.ReloadCodeReply()

    def ReloadCodeWithState(self, request, context):
        """Dagster's reload with a pinned state of its components (which this platform does not use) would
        re-import the code in the serving process itself, unchecked: it gets the checked reload instead."""
        from dagster._grpc.__generated__ import dagster_api_pb2
        from dagster._serdes import serialize_value

        self.reload("grpc", [], time.monotonic())
        if self._load_error is not None:
            return dagster_api_pb2.ReloadCodeWithStateReply(
                serialized_error=serialize_value(self._load_error)
            )
        server_id = _quietly(self._client.get_server_id) if self._client is not None else None
        return dagster_api_pb2.ReloadCodeWithStateReply(serialized_server_id=server_id or "")

    def cleanup(self) -> None:
        client = self._client
        super().cleanup()
        if client is not None:
            _quietly(client.shutdown_server)
        for proc in self._processes:
            proc.join(timeout=10)

    # ---- the reload ------------------------------------------------------------------------------------
    def reload(self, trigger: str, files: list[str], seen_mono: float) -> None:
        """Check, load and swap; serialised (the base class's reload lock). A gRPC reload asked while one is
        under way (whatever asked for that one) waits for its outcome instead of running one more."""
        mine: threading.Event | None = None
        if trigger == "grpc":
            with self._flight_lock:
                running = self._running
                if running is None:
                    mine = self._running = threading.Event()
                elif self._waiters >= MAX_RELOAD_WAITERS:
                    return  # answered at once: the webserver then reads what serves
                else:
                    self._waiters += 1
            if mine is None and running is not None:
                try:
                    running.wait(prepare.PREPARE_TIMEOUT_S + CHILD_START_TIMEOUT_S + 60)
                finally:
                    with self._flight_lock:
                        self._waiters -= 1
                return
        try:
            with self._reload_lock:
                if mine is None:
                    with self._flight_lock:
                        if self._running is None:
                            mine = self._running = threading.Event()
                self._reload_locked(trigger, files, seen_mono)
        finally:
            if mine is not None:
                with self._flight_lock:
                    self._running = None
                mine.set()

    def _reload_locked(self, trigger: str, files: list[str], seen_mono: float) -> None:
        self._reap()
        seen_wall = time.time() - (time.monotonic() - seen_mono)
        record = self._book.begin(trigger, files, seen_wall, seen_mono)
        try:
            self._reload(record)
        except Exception as exc:  # a bug or an OS error here: say so in the record, keep serving
            logger.exception("reload %s failed unexpectedly", record.id)
            self._book.finish_failed(record, errors.generic_error(f"{type(exc).__name__}: {exc}"))

    def _check(self, record: Any) -> dict[str, Any] | None:
        """The settings' paths and the dbt project; the failure, or None when the location may load."""
        missing = self._location.missing_paths()
        if missing:
            return errors.generic_error(
                "code location settings name paths that do not exist:\n" + "\n".join(missing)
            )
        if self._copy is None:
            return None
        outcome = prepare.prepare_in_child(self._copy, parse=self._parse_on_load)
        record.dbt_parse = outcome.action if self._parse_on_load else "off"
        record.dbt_deps = outcome.deps
        if outcome.action == "failed":
            return errors.dbt_error(outcome.message, self._dbt_name())
        last = self._connection_checked_at
        if last is None or (self._connection_problem and time.monotonic() - last > CONNECTION_RECHECK_S):
            self._connection_problem = prepare.connection_problem_in_child(self._copy)
            self._connection_checked_at = time.monotonic()
        return None

    def _warnings(self, result: dict[str, Any]) -> list[str]:
        return [*result["warnings"], *filter(None, [self._connection_problem])]

    def _reload(self, record: Any) -> None:
        """The steps of one reload (see the module's docstring); every outcome closes `record`."""
        have_good = self._client is not None and self._book.names is not None
        check_failure = self._check(record)
        record.phase("checked")
        if check_failure is not None and (have_good or check_failure["kind"] != "dbt"):
            if not have_good:
                self._serve_error(check_failure)
            self._book.finish_failed(record, check_failure, serving_error=not have_good)
            return
        try:
            proc, result, client = self._start_candidate()
        except Exception as exc:
            record.phase("loaded")
            failure = errors.generic_error(f"{type(exc).__name__}: {exc}")
            if self._client is None:
                self._serve_error(failure)
            self._book.finish_failed(record, failure, serving_error=self._client is None)
            return
        record.phase("loaded")
        if not result["ok"]:
            # With a dbt failure first (nothing good serving), the dbt error is the one to show.
            failure = check_failure or result["error"]
            if not have_good:
                self._serve_error(failure)
            self._book.finish_failed(record, failure, serving_error=not have_good)
            return
        self._swap(proc, client)
        record.phase("served")
        server_id = _quietly(client.get_server_id) or "?"
        if check_failure is not None:  # a dbt failure with nothing good serving: the last manifest serves
            stale = (result["names"], server_id, self._warnings(result))
            self._book.finish_failed(record, check_failure, served_stale=stale)
        else:
            self._book.finish_served(record, result["names"], server_id, self._warnings(result))

    def _serve_error(self, failure: dict[str, Any]) -> None:
        """Nothing good is serving: the location shows this failure as its load error (GraphQL's
        locationOrLoadError), as `dagster code-server start` does for an import error, in the platform's
        words (file and line first) rather than Dagster's own loader's."""
        from dagster._utils.error import SerializableErrorInfo

        where = f"{failure['file']}:{failure['line'] or '?'}: " if failure.get("file") else ""
        detail = failure.get("detail") or ""
        message = f"{where}{failure['text']}" + (
            f"\n\n{detail}" if detail and detail != failure["text"] else ""
        )
        self._load_error = SerializableErrorInfo(
            message=message + "\n", stack=[], cls_name="EdpLoadCheckError", cause=None, context=None
        )
        self._error_server_id = f"edp-load-error-{uuid.uuid4()}"

    def GetServerId(self, request, context):
        """Dagster's proxy asks its server, and has none while a load error is served: the webserver's watch
        of this code server then never reconnects (each GetServerId fails), so a location that restarted
        into an error kept showing "Could not reach user code server" until a manual reload. An id of its own
        for each error served lets the watch see a new server and show the error itself."""
        from dagster._grpc.__generated__ import dagster_api_pb2

        error_id = self._error_server_id
        if self._client is None and error_id is not None:
            return dagster_api_pb2.GetServerIdReply(server_id=error_id)
        return super().GetServerId(request, context)

    def _dbt_name(self) -> str:
        assert self._location.dbt_project is not None
        real = os.path.realpath(self._location.dbt_project)
        return self._roots.get(real, Path(real).name)

    def _start_candidate(self):
        from dagster._grpc.client import DagsterGrpcClient
        from dagster_shared.utils import find_free_port

        from edp_platform.code_server import child

        port = find_free_port()
        receiver, sender = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(
            target=child.check_and_serve,
            args=(sender,),
            kwargs={
                "module_name": self._location.served_module,
                "location_name": self._location.name,
                "python_path": [str(p) for p in self._location.python_path],
                "port": port,
                "roots": self._roots,
                "heartbeat_timeout": HEARTBEAT_TTL_S,
                "log_level": self._log_level,
                "container_context": self._container_context,
                "container_image": self._container_image,
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
                raise TimeoutError(
                    f"the new server did not load the code within {CHILD_START_TIMEOUT_S:.0f} s "
                    "(EDP_RELOAD_TIMEOUT_S) and was ended; the previous definitions keep serving. Something "
                    "in the code keeps its import busy (a loop, a connection, a file that blocks): fix it "
                    "and save again"
                )
        receiver.close()
        if not result["ok"]:
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
        old_client, old_event, old_thread = (
            self._client,
            self._client_heartbeat_shutdown_event,
            self._client_heartbeat_thread,
        )
        event = threading.Event()
        thread = threading.Thread(
            target=heartbeat_forever, args=(client, event), name="grpc-client-heartbeat", daemon=True
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


def heartbeat_forever(client: Any, stop: threading.Event) -> None:
    """Dagster's client_heartbeat_thread (dagster/_grpc/client.py), every HEARTBEAT_EVERY_S instead of every
    second: the candidate shuts itself down after HEARTBEAT_TTL_S without one, and a heartbeat a second was
    two RPCs a second per location at rest."""
    from dagster._core.errors import DagsterUserCodeUnreachableError

    while not stop.wait(HEARTBEAT_EVERY_S):
        try:
            client.heartbeat("ping")
        except DagsterUserCodeUnreachableError:
            continue


def _quietly(fn):
    try:
        return fn()
    except Exception as exc:
        logger.warning("%s failed: %s", getattr(fn, "__name__", fn), exc)
        return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m edp_platform.code_server.supervisor",
        description=__doc__.split("\n\n")[0],
        add_help=False,
    )
    parser.add_argument("--help", action="help", help="show this help and exit")
    parser.add_argument("--location", required=True, help="the code location's name (EDP_CODE_LOCATIONS)")
    parser.add_argument("-h", "--host", default="0.0.0.0")
    parser.add_argument("-p", "--port", type=int, default=None, help="default: the location's port setting")
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def prepare_environment(location: settings.Location) -> dict[str, str]:
    """This process's environment for the code it loads (inherited by candidates and their run workers)."""
    own = location_env(location)
    path = [str(p) for p in location.python_path]
    if path:
        own["PYTHONPATH"] = os.pathsep.join([*path, *filter(None, [os.environ.get("PYTHONPATH", "")])])
    os.environ.update(own)
    sys.path[:0] = [p for p in path if p not in sys.path]
    return own


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    location = settings.find_location(args.location)
    port = args.port or location.port
    auto = setting("EDP_AUTO_RELOAD", "1").lower() in TRUTHY
    root = settings.code_root()
    roots = display_roots(location, root)
    location_vars = prepare_environment(location)
    # SIGTERM (docker stop) is mapped onto SIGINT's handler: make sure that is Python's, even when started
    # with SIGINT ignored (a background job of a non-interactive shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    setup_interrupt_handlers()
    configure_loggers(log_level=args.log_level.upper())
    # dbt's in-process import gives the root logger a handler: keep Dagster's lines from printing twice.
    logging.getLogger("dagster").propagate = False
    logging.getLogger("edp").setLevel(logging.INFO)

    # The warm interpreter every candidate server is forked from (a fresh exec'd process: no gRPC state).
    multiprocessing.set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()
    status_dir = Path(setting("EDP_RELOAD_STATUS_DIR", DEFAULT_STATUS_DIR))
    book = StatusBook(status_dir / f"{location.name}.json", location.name, auto_reload=auto)
    termination = threading.Event()
    working_directory = str(location.python_path[0]) if location.python_path else os.getcwd()
    servicer = CheckingProxyServicer(
        book=book,
        location=location,
        roots=roots,
        loadable_target_origin=LoadableTargetOrigin(
            module_name=location.served_module, working_directory=working_directory
        ),
        fixed_server_id=None,
        container_image=os.getenv("DAGSTER_CURRENT_IMAGE"),
        container_context=container_context(location_vars),
        inject_env_vars_from_instance=False,
        location_name=location.name,
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
        log_event({"event": "watch", "location": location.name, "state": "off", "why": "EDP_AUTO_RELOAD=0"})
    LostWorkerWatch(os.environ.get(settings.HOST_VAR) or None, port).start()
    server = DagsterGrpcServer(
        server_termination_event=termination,
        dagster_api_servicer=servicer,
        port=port,
        socket=None,
        host=args.host,
        threadpool_executor=FuturesAwareThreadPoolExecutor(max_workers=GRPC_THREADS),
        logger=logger,
    )
    logger.info("Started the checking code server of location %s on port %s", location.name, port)
    try:
        server.serve()
    except KeyboardInterrupt:
        logger.info("Code server interrupted")


if __name__ == "__main__":
    main()
