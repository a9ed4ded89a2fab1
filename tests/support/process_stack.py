"""The stack as local processes: PostgreSQL, the platform's code servers, dagster-webserver, dagster-daemon.

Used by the integration tests of the platform, the dashboard and the CLI. The processes get the repository's
own stack/dagster.yaml, user-code's own command (`python -m edp_platform.code_server`: one checking code
server per code location) and a workspace written by the platform from the same location settings
(edp_platform.workspace); only the environment differs from the compose stack. The code locations are the
demo (from `code_root`, the repository or a copy of it) unless `locations` names others:

    ProcessStack(workdir, locations={"shop": {"DBT_PROJECT": "/path/to/dbt"}, "etl_pipeline": {}})

    with ProcessStack(tmp_path) as stack:
        stack.graphql("query { version }")

Every wait has a deadline; a process that fails to come up raises ProcessStackError naming it with the tail
of its log, after everything already started was stopped. Each process is stopped through its own PID (its
process group, which holds the code server's gRPC subprocess and the runs it launched): SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import atexit
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import httpx
import psycopg2
from edp_platform.settings import location_key
from edp_platform.workspace import write_workspace

from tests.support.ports import free_port
from tests.support.stack_runs import launchpad_config, with_demo_partition

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCATION_NAME = "etl_pipeline"
DAGSTER_DB = "dagster"
WAREHOUSE_DB = "warehouse"
PG_USER = "dagster"

CODE_SERVER_DEADLINE_S = 240.0  # cold import of dagster + dbt and a cold `dbt parse` on 2 busy cores
WEBSERVER_DEADLINE_S = 120.0
DAEMON_DEADLINE_S = 120.0
STOP_GRACE_S = 20.0

LOCATION_QUERY = """
query LocationHealth {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { serverId }
          ... on PythonError { message className errorChain { error { message className } } }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

DAEMON_QUERY = """
query DaemonHealth {
  instance { daemonHealth { allDaemonStatuses { daemonType required healthy lastHeartbeatTime } } }
}
"""


LAUNCH_RUN = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on RunConfigValidationInvalid { pipelineName errors { __typename message path reason } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on PythonError { message className stack }
  }
}
"""

RUN_STATUS = """
query RunStatus($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { status } ... on RunNotFoundError { message } }
}
"""

RUNS_IN_FLIGHT = """
query {
  runsOrError(filter: {statuses: [QUEUED, STARTING, STARTED, CANCELING]}, limit: 20) {
    ... on Runs { results { runId jobName status tags { key value } } }
  }
}
"""

RUN_EVENTS = """
query RunEvents($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on MessageEvent { message eventType stepKey }
        ... on AssetCheckEvaluationEvent { evaluation { checkName success assetKey { path } } }
        ... on ExecutionStepFailureEvent { error { message cause { message } } }
      }
    }
    ... on PythonError { message }
  }
}
"""

TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}


class ProcessStackError(RuntimeError):
    """A stack process failed to start or to become ready."""


def pg_bindir() -> Path:
    """Debian's PostgreSQL server binaries (newest major), else whatever `initdb` is on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name),
        reverse=True,
    )
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ProcessStackError(
        "PostgreSQL server binaries (initdb) not found: "
        "run `bash scripts/setup.sh` (it installs Debian's postgresql)"
    )


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _default_signals() -> None:
    # A parent that ignores SIGINT (a non-interactive shell's background job) would make `dagster api grpc`
    # ignore SIGTERM as well (it maps SIGTERM onto the SIGINT handler): restore the defaults.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class ProcessStack:
    def __init__(
        self,
        workdir: Path,
        code_root: Path = REPO_ROOT,
        *,
        start_daemon: bool = True,
        auto_reload: bool = True,
        locations: dict[str, dict[str, str]] | None = None,
        may_fail: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ) -> None:
        """`locations`: code location name -> its EDP_LOCATION_<NAME>_* settings without the prefix (paths
        relative to `code_root`); the first one is `location_name`. Default: the demo alone, with its default
        settings. `may_fail`: locations expected not to load (a start does not wait for them to load, only to
        be listed). `auto_reload`: reload on save (EDP_AUTO_RELOAD). `extra_env`: more settings for every
        process (a platform setting under test, say)."""
        self.workdir = Path(workdir).resolve()
        self.code_root = Path(code_root).resolve()
        self.with_daemon = start_daemon
        self.auto_reload = auto_reload
        self.locations = dict(locations or {LOCATION_NAME: {}})
        self.may_fail = set(may_fail)
        self.location_name = next(iter(self.locations))
        self.reload_status_dir = self.workdir / "reload"
        self.landing_dir = self.workdir / "landing"
        self.dagster_home = self.workdir / "dagster_home"
        self.logs_dir = self.workdir / "logs"
        self.workspace_file = self.workdir / "workspace.yaml"
        self.pg_port = free_port()
        self.webserver_port = free_port()
        self.code_server_ports = {name: free_port() for name in self.locations}
        self.code_server_port = self.code_server_ports[self.location_name]
        self.webserver_url = f"http://127.0.0.1:{self.webserver_port}"
        self.graphql_url = f"{self.webserver_url}/graphql"
        self.pg_password = secrets.token_hex(12)
        self.env: dict[str, str] = {}
        self.extra_env = dict(extra_env or {})
        # Seconds from spawn to ready, per process (figures for the closing notes and benchmarks).
        self.timings: dict[str, float] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._log_files: dict[str, IO[bytes]] = {}
        self._pg_dir: Path | None = None
        self._pg_tmp = False
        self._pg_running = False
        self._bin = Path(sys.executable).parent
        self._http = httpx.Client(timeout=30.0)

    # ---- context manager -----------------------------------------------------------------------------------
    def __enter__(self) -> ProcessStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- public --------------------------------------------------------------------------------------------
    def start(self) -> ProcessStack:
        atexit.register(self.stop)  # also after Ctrl-C in a test session
        try:
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            self.landing_dir.mkdir(parents=True, exist_ok=True)
            self._start_postgres()
            self._prepare_instance()
            self.start_code_server()
            self.start_webserver()
            if self.with_daemon:
                self.start_daemon()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._terminate("daemon", "webserver", "code-server")
        self._stop_postgres()
        self._http.close()
        atexit.unregister(self.stop)

    def reload_status_path_of(self, location: str) -> Path:
        return self.reload_status_dir / f"{location}.json"

    @property
    def reload_status_path(self) -> Path:
        return self.reload_status_path_of(self.location_name)

    def start_code_server(self) -> None:
        t0 = time.monotonic()
        self._spawn(
            "code-server",
            [str(self._bin / "python"), "-m", "edp_platform.code_server", "--host", "127.0.0.1"],
        )
        # Each proxy binds its port only after its first load finished (successfully or not).
        ports = list(self.code_server_ports.values())
        self._wait("code-server", CODE_SERVER_DEADLINE_S, lambda: all(_port_open(p) for p in ports))
        self.timings["code-server"] = time.monotonic() - t0
        if "webserver" in self._procs:
            self._wait_location_loaded()

    def stop_code_server(self) -> None:
        self._terminate("code-server")

    def start_webserver(self) -> None:
        t0 = time.monotonic()
        self._spawn(
            "webserver",
            [
                # The compose stack's command: Dagster's webserver app behind the platform's cross-site guard.
                str(self._bin / "python"),
                "-m",
                "edp_platform.webserver",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.webserver_port),
                "-w",
                str(self.workspace_file),
            ],
        )
        self._wait("webserver", WEBSERVER_DEADLINE_S, self._server_info_ok)
        self.timings["webserver"] = time.monotonic() - t0
        self._wait_location_loaded()

    def stop_webserver(self) -> None:
        self._terminate("webserver")

    def start_daemon(self) -> None:
        t0 = time.monotonic()
        spawned_at = time.time()
        self._spawn("daemon", [str(self._bin / "dagster-daemon"), "run", "-w", str(self.workspace_file)])
        self._wait("daemon", DAEMON_DEADLINE_S, lambda: self._daemons_beating_since(spawned_at))
        self.timings["daemon"] = time.monotonic() - t0

    def stop_daemon(self) -> None:
        self._terminate("daemon")

    def is_running(self, name: str) -> bool:
        proc = self._procs.get(name)
        return proc is not None and proc.poll() is None

    def pid(self, name: str) -> int | None:
        proc = self._procs.get(name)
        return proc.pid if proc is not None and proc.poll() is None else None

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, timeout: float = 30.0
    ) -> dict[str, Any]:
        """POST a document and return its `data`; GraphQL errors raise ProcessStackError with their text."""
        resp = self._http.post(
            self.graphql_url, json={"query": query, "variables": variables or {}}, timeout=timeout
        )
        body = resp.json()
        if body.get("errors"):
            raise ProcessStackError(f"GraphQL errors (HTTP {resp.status_code}): {body['errors']}")
        return dict(body["data"])

    @property
    def repository_selector(self) -> dict[str, str]:
        return self.repository_selector_of(self.location_name)

    @staticmethod
    def repository_selector_of(location: str) -> dict[str, str]:
        return {"repositoryLocationName": location, "repositoryName": "__repository__"}

    def launch_run(
        self,
        job_name: str,
        run_config: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        *,
        location: str | None = None,
    ) -> dict[str, Any]:
        """The `launchRun` payload (`__typename` LaunchRunSuccess, RunConfigValidationInvalid, ...). A job of
        the demo is launched for the partition stack_runs.DEMO_DAY unless `tags` name one."""
        location = location or self.location_name
        tags = with_demo_partition(job_name, location, tags)
        params: dict[str, Any] = {
            "selector": {**self.repository_selector_of(location), "jobName": job_name},
            "runConfigData": launchpad_config(self.graphql, job_name, location, tags, run_config),
        }
        if tags:
            params["executionMetadata"] = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
        return dict(self.graphql(LAUNCH_RUN, {"executionParams": params})["launchRun"])

    def wait_for_run(self, run_id: str, timeout: float = 300.0) -> str:
        """Polls until the run is SUCCESS, FAILURE or CANCELED and returns it; raises at the deadline."""
        end = time.monotonic() + timeout
        status = "?"
        while time.monotonic() < end:
            status = self.graphql(RUN_STATUS, {"runId": run_id})["runOrError"].get("status", "?")
            if status in TERMINAL_RUN_STATUSES:
                return str(status)
            time.sleep(0.5)
        raise ProcessStackError(f"run {run_id} still {status} after {timeout:.0f} s; {self.runs_in_flight()}")

    def runs_in_flight(self) -> str:
        """What holds the run queue's slots, to say why a run stayed QUEUED."""
        runs = self.graphql(RUNS_IN_FLIGHT)["runsOrError"].get("results", [])
        return "runs in flight: " + (
            ", ".join(f"{r['runId']} {r['jobName']} {r['status']} {r['tags']}" for r in runs) or "none"
        )

    def run_events(self, run_id: str) -> list[dict[str, Any]]:
        """Every event of a run (paged through logsForRun)."""
        events: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.graphql(RUN_EVENTS, {"runId": run_id, "cursor": cursor})["logsForRun"]
            if page["__typename"] != "EventConnection":
                raise ProcessStackError(f"logsForRun({run_id}): {page}")
            events.extend(page["events"])
            cursor = page["cursor"]
            if not page["hasMore"]:
                return events

    def warehouse_connection(self) -> Any:
        """A psycopg2 connection to the warehouse database (caller closes it)."""
        return psycopg2.connect(**self._pg_params(WAREHOUSE_DB))

    # ---- PostgreSQL ----------------------------------------------------------------------------------------
    def _as_postgres(self, cmd: list[str]) -> list[str]:
        # initdb and the server refuse to run as root.
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    def _start_postgres(self) -> None:
        t0 = time.monotonic()
        bindir = pg_bindir()
        if os.geteuid() == 0:
            # The postgres user must reach the data directory, and pytest's tmp dirs are private to root.
            self._pg_dir = Path(tempfile.mkdtemp(prefix="edp-pg-"))
            self._pg_tmp = True
            pw = pwd.getpwnam("postgres")
            os.chown(self._pg_dir, pw.pw_uid, pw.pw_gid)
            link = self.workdir / "pg"
            if not link.exists():
                link.symlink_to(self._pg_dir)
        else:
            self._pg_dir = self.workdir / "pg"
            self._pg_dir.mkdir(parents=True, exist_ok=True)
        pwfile = self._pg_dir / "pwfile"
        pwfile.write_text(self.pg_password + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        data = self._pg_dir / "data"
        log = self._pg_dir / "postgres.log"
        self._run(
            "initdb",
            self._as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    PG_USER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            timeout=120,
        )
        pwfile.unlink()
        # fsync off: a throw-away test cluster.
        opts = f"-p {self.pg_port} -k {self._pg_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        opts += " -c max_connections=200"
        self._run(
            "postgres",
            self._as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            timeout=90,
            log=log,
        )
        self._pg_running = True
        conn = psycopg2.connect(**self._pg_params("postgres"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                for db in (DAGSTER_DB, WAREHOUSE_DB):
                    cur.execute(f'create database "{db}"')
        finally:
            conn.close()
        self.timings["postgres"] = time.monotonic() - t0

    def _pg_params(self, database: str) -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "port": self.pg_port,
            "user": PG_USER,
            "password": self.pg_password,
            "dbname": database,
            "connect_timeout": 10,
        }

    def _stop_postgres(self) -> None:
        if self._pg_dir is None:
            return
        data = self._pg_dir / "data"
        if self._pg_running:
            try:
                subprocess.run(
                    self._as_postgres(
                        [str(pg_bindir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
                    ),
                    capture_output=True,
                    timeout=60,
                    check=True,
                )
            except (subprocess.SubprocessError, OSError):
                self._kill_postmaster(data)
            self._pg_running = False
        if self._pg_tmp:
            shutil.rmtree(self._pg_dir, ignore_errors=True)
            (self.workdir / "pg").unlink(missing_ok=True)
        self._pg_dir = None

    @staticmethod
    def _kill_postmaster(data: Path) -> None:
        try:
            pid = int((data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass

    # ---- Dagster -------------------------------------------------------------------------------------------
    def _prepare_instance(self) -> None:
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        # The platform's instance (stack/ of this repository), whatever code it serves.
        shutil.copyfile(REPO_ROOT / "stack" / "dagster.yaml", self.dagster_home / "dagster.yaml")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "DBT_", "EDP_"))}
        env.update(
            {
                "PATH": f"{self._bin}{os.pathsep}{os.environ.get('PATH', '')}",
                "PYTHONUNBUFFERED": "1",
                "DAGSTER_HOME": str(self.dagster_home),
                "DAGSTER_PG_HOST": "127.0.0.1",
                "DAGSTER_PG_PORT": str(self.pg_port),
                "DAGSTER_PG_USERNAME": PG_USER,
                "DAGSTER_PG_PASSWORD": self.pg_password,
                "DAGSTER_PG_DB": DAGSTER_DB,
                "WAREHOUSE_DB": WAREHOUSE_DB,
                # dbt and the ingestion connect as the warehouse's own role, with its limits, as in the
                # compose stack (the code server applies it at start: edp_platform.warehouse_role).
                "WAREHOUSE_USER": "warehouse",
                "DAGSTER_COMPUTE_LOGS_DIR": str(self.workdir / "compute_logs"),
                "DAGSTER_LOCAL_ARTIFACT_STORAGE_DIR": str(self.workdir / "storage"),
                "DAGSTER_DBT_PARSE_PROJECT_ON_LOAD": "1",
                # The code locations, as stack/.env gives them to the compose stack (edp_platform.settings).
                "EDP_CODE_ROOT": str(self.code_root),
                "EDP_CODE_LOCATIONS": " ".join(self.locations),
                "EDP_CODE_SERVER_HOST": "127.0.0.1",
                # The platform's dbt folders: own ones, several stacks may share one checkout.
                "EDP_DBT_WORK_DIR": str(self.workdir / "dbt"),
                "EDP_DBT_LOG_DIR": str(self.workdir / "dbt_logs"),
                "LANDING_DIR": str(self.landing_dir),
                "DAGSTER_EVENT_BATCH_SIZE": "1000",  # as stack/docker-compose.yaml
                "LANDING_SENSOR_INTERVAL_SECONDS": "5",
                "EDP_AUTO_RELOAD": "1" if self.auto_reload else "0",
                "EDP_RELOAD_STATUS_DIR": str(self.reload_status_dir),
                # What the webserver's guard allows (edp_platform.webserver): the address clients use.
                "EDP_PUBLISHED_ADDRESS": "127.0.0.1",
                "EDP_PUBLISHED_PORT": str(self.webserver_port),
            }
        )
        for name, own in self.locations.items():
            key = location_key(name)
            env[f"EDP_LOCATION_{key}_PORT"] = str(self.code_server_ports[name])
            for field, value in own.items():
                env[f"EDP_LOCATION_{key}_{field}"] = value
        env.update(self.extra_env)
        self.env = env
        write_workspace(self.workspace_file, env)

    def _server_info_ok(self) -> bool:
        try:
            return self._http.get(f"{self.webserver_url}/server_info", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def location_state(self, name: str | None = None) -> tuple[str, str]:
        """('loaded' | 'error' | 'waiting', detail) of a location (default: the first)."""
        name = name or self.location_name
        try:
            data = self.graphql(LOCATION_QUERY, timeout=10)
        except (httpx.HTTPError, ValueError, ProcessStackError) as exc:
            return "waiting", str(exc)
        entries = data["workspaceOrError"].get("locationEntries", [])
        entry = next((e for e in entries if e["name"] == name), None)
        if entry is None or entry["locationOrLoadError"] is None:
            return "waiting", "location not listed yet"
        result = entry["locationOrLoadError"]
        if result["__typename"] == "RepositoryLocation":
            return "loaded", result["serverId"]
        chain = "\n".join(
            f"  caused by {c['error']['className']}: {c['error']['message']}" for c in result["errorChain"]
        )
        detail = f"{result['className']}: {result['message']}\n{chain}"
        if result["className"] == "DagsterUserCodeUnreachableError":
            return "waiting", detail
        return "error", detail

    def _wait_location_loaded(self) -> None:
        """Every location loaded (an error raises, naming the location)."""
        t0 = time.monotonic()
        last = ""

        def check() -> bool:
            nonlocal last
            for name in self.locations:
                state, last = self.location_state(name)
                if name in self.may_fail:
                    if state == "waiting" and "not listed" in last:
                        return False
                    continue
                if state == "error":
                    raise ProcessStackError(
                        f"code-server: location {name} failed to load:\n{last}\n"
                        f"--- tail of {self.log_path('code-server')} ---\n"
                        f"{tail(self.log_path('code-server'))}"
                    )
                if state != "loaded":
                    return False
            return True

        self._wait("webserver", WEBSERVER_DEADLINE_S, check, detail=lambda: last)
        self.timings["location-loaded"] = time.monotonic() - t0

    def _daemons_beating_since(self, since: float) -> bool:
        try:
            statuses = self.graphql(DAEMON_QUERY, timeout=10)["instance"]["daemonHealth"]["allDaemonStatuses"]
        except (httpx.HTTPError, ValueError, ProcessStackError):
            return False
        required = [s for s in statuses if s["required"]]
        return bool(required) and all((s["lastHeartbeatTime"] or 0) >= since for s in required)

    # ---- processes -----------------------------------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str]) -> None:
        if self.is_running(name):
            raise ProcessStackError(f"{name} is already running (pid {self._procs[name].pid})")
        log = open(self.log_path(name), "ab")  # noqa: SIM115 - closed in _terminate
        log.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(cmd)}\n".encode())
        log.flush()
        self._log_files[name] = log
        self._procs[name] = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: its children (gRPC server, runs) stop with it
            preexec_fn=_default_signals,
        )

    def _terminate(self, *names: str) -> None:
        """SIGTERM to every named process group at once; SIGKILL for whatever outlives the grace period."""
        procs = [p for p in (self._procs.pop(n, None) for n in names) if p is not None]
        for proc in procs:
            _signal_group(proc.pid, signal.SIGTERM)  # group id == the child's own PID (start_new_session)
        end = time.monotonic() + STOP_GRACE_S
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        # The rest of each group (a code server's gRPC subprocess, runs) gets a moment, then SIGKILL.
        end = time.monotonic() + 5.0
        while any(_group_alive(p.pid) for p in procs) and time.monotonic() < end:
            time.sleep(0.1)
        for proc in procs:
            _signal_group(proc.pid, signal.SIGKILL)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for name in names:
            log = self._log_files.pop(name, None)
            if log is not None:
                log.close()

    def _wait(
        self,
        name: str,
        deadline_s: float,
        ready: Callable[[], bool],
        *,
        detail: Callable[[], str] | None = None,
    ) -> None:
        end = time.monotonic() + deadline_s
        while True:
            proc = self._procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise ProcessStackError(
                    f"{name} exited with code {proc.returncode} before it was ready\n"
                    f"--- tail of {self.log_path(name)} ---\n{tail(self.log_path(name))}"
                )
            if ready():
                return
            if time.monotonic() > end:
                extra = f"\nlast state: {detail()}" if detail else ""
                raise ProcessStackError(
                    f"{name} not ready within {deadline_s:.0f} s{extra}\n"
                    f"--- tail of {self.log_path(name)} ---\n{tail(self.log_path(name))}"
                )
            time.sleep(0.25)

    def _run(self, name: str, cmd: list[str], *, timeout: float, log: Path | None = None) -> None:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise ProcessStackError(f"{name} did not finish within {timeout:.0f} s: {cmd}") from exc
        if proc.returncode != 0:
            log_tail = f"\n--- tail of {log} ---\n{tail(log)}" if log else ""
            output = f"{proc.stdout}{proc.stderr}{log_tail}"
            raise ProcessStackError(
                f"{name} failed with exit code {proc.returncode}: {' '.join(cmd)}\n{output}"
            )


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
