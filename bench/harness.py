"""What the benches share, so that none of them imports a test module (a test helper that moves must not
silently break a bench: tests/unit/test_bench_imports.py imports every bench).

- figures: `stats`, `load_line` (load average and the busiest processes: a figure taken on a busy host is
  noise, and says so), `cpu_seconds` of a process;
- the real `edp-tui` binary in a pseudo-terminal (`TmuxDashboard`), its screen read as a person sees it;
- the dashboard headless (Textual's ``run_test``) against a real webserver with an in-memory Docker side
  (`headless_backends`), for figures of the Dagster side alone;
- stacks: plain GraphQL against any webserver (`Gql`: the product's own documents, sent by plain httpx, the
  peer of the dashboard's client), a small throwaway compose project (`small_project`), and the process stack
  of the integration tests (`process_stack`: the one bridge to tests/support, see its docstring).
"""

from __future__ import annotations

import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the harness imports edp_tui where it is used: importing a bench stays cheap
    from edp_tui.backends import Backends
    from edp_tui.dagster.api import DagsterApi
    from edp_tui.docker.logs.model import Backlog, Follower, LogEvent
    from edp_tui.docker.models import ServiceState
    from edp_tui.docker.run_containers import RunContainer
    from edp_tui.docker.services import StatusSink
    from edp_tui.text import LogLine

REPO = Path(__file__).resolve().parents[1]
EDP_TUI = REPO / ".venv" / "bin" / "edp-tui"
STACK_SERVICES = ("postgres", "user-code", "dagster-webserver", "dagster-daemon")


# ---- figures ---------------------------------------------------------------------------------------------
def stats(values: Sequence[float]) -> str:
    """``median … min … max …`` in milliseconds (the worst one matters: a start that takes 10 s is a bug)."""
    if not values:
        return "n/a"
    ordered = sorted(values)
    return (
        f"median {statistics.median(ordered) * 1000:7.1f} ms   min {ordered[0] * 1000:7.1f} ms   "
        f"max {ordered[-1] * 1000:7.1f} ms   (n={len(ordered)})"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def container_cpu_seconds(container_id: str) -> float | None:
    """CPU seconds a container used so far, from its cgroup (v1 cpuacct, v2 cpu.stat); None: unreadable."""
    v1 = Path(f"/sys/fs/cgroup/cpuacct/docker/{container_id}/cpuacct.usage")
    v2 = Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat")
    try:
        if v1.exists():
            return int(v1.read_text()) / 1e9
        for line in v2.read_text().splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
    except (OSError, ValueError):
        return None
    return None


def service_container(project: str, service: str) -> str | None:
    """The full id of a compose service's running container, None when it has none."""
    ids = subprocess.run(
        [
            "docker",
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--filter",
            f"label=com.docker.compose.service={service}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    return ids[0] if ids else None


def load_line(top: int = 4) -> str:
    """The load average and the busiest processes right now: on a shared 2-core host a figure is only as good
    as what else ran beside it."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        ps = subprocess.run(
            ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.splitlines()[:top]
    except (OSError, subprocess.TimeoutExpired):
        ps = []
    busiest = ", ".join(" ".join(line.split()[::-1]) + "%" for line in ps if line.strip())
    return f"load average {load} on {os.cpu_count()} cores; busiest: {busiest or '?'}"


# ---- the real binary in a pseudo-terminal ----------------------------------------------------------------
class TmuxDashboard:
    """The real binary in a detached tmux session of a server of its own, its screen read with capture-pane.

    ``started_at`` is taken just before tmux is asked to start it: every figure includes the process start,
    Python's start-up and every import, as a user pays them."""

    def __init__(
        self, args: list[str], width: int = 160, height: int = 45, env: dict[str, str] | None = None
    ) -> None:
        if shutil.which("tmux") is None:
            raise SystemExit("tmux is needed (apt-get install tmux)")
        self.session = f"edpbench-{uuid.uuid4().hex[:8]}"
        # A tmux server of its own: nothing here can touch anyone else's sessions.
        self.tmux = ["tmux", "-L", self.session]
        self.args = args
        self.width, self.height = width, height
        self.env = env or {}
        self.started_at = 0.0

    def start(self) -> TmuxDashboard:
        command = " ".join(shlex.quote(a) for a in [str(EDP_TUI), *self.args])
        # As a user runs it: Python keeps the bytecode it compiles (a sandbox's PYTHONDONTWRITEBYTECODE would
        # have every start compile edp-tui's own modules from source again).
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("TMUX") and k != "PYTHONDONTWRITEBYTECODE"
        } | self.env
        # The server starts first (its own start-up is not the dashboard's), then the pane runs the binary.
        subprocess.run(
            [
                *self.tmux,
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                str(self.width),
                "-y",
                str(self.height),
            ],
            check=True,
            env=env,
        )
        subprocess.run([*self.tmux, "set-option", "-t", self.session, "remain-on-exit", "on"], check=True)
        self.started_at = time.perf_counter()
        subprocess.run(
            [*self.tmux, "respawn-pane", "-k", "-t", self.session, f"TERM=xterm-256color exec {command}"],
            check=True,
            env=env,
        )
        return self

    def pid(self) -> int:
        out = subprocess.run(
            [*self.tmux, "list-panes", "-t", self.session, "-F", "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.split()[0])

    def screen(self) -> str:
        out = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.session], capture_output=True, text=True
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, *keys], check=True)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float, interval: float = 0.01) -> float:
        """perf_counter when the screen first satisfied ``predicate``; raises with the screen on timeout."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if predicate(self.screen()):
                return time.perf_counter()
            time.sleep(interval)
        raise TimeoutError(f"screen never matched within {timeout} s; last screen:\n{self.screen()}")

    def stop(self) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, "q"], capture_output=True)
        time.sleep(0.3)
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        # tmux leaves its socket file behind; it is ours, remove it.
        (Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / self.session).unlink(
            missing_ok=True
        )

    def __enter__(self) -> TmuxDashboard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def row_of(screen: str, name: str) -> str:
    """The line of a table on a captured screen whose first cell is ``name`` ('' if not shown)."""
    for line in screen.splitlines():
        cells = line.strip("│┃ ").split()
        if cells and cells[0] == name:
            return line
    return ""


# ---- the dashboard headless, with an in-memory Docker side -----------------------------------------------
class StaticServices:
    """A `ServiceSource` whose services are all running and healthy, and stay so (no engine, no threads)."""

    engine_url = "unix:///bench/in-memory-docker.sock"

    def __init__(self, services: Sequence[str] = STACK_SERVICES) -> None:
        from edp_tui.docker.models import Health, RunState, ServiceState

        self.services = tuple(services)
        # Up for an hour, as a stack at rest is: uptimes read per minute, not per second.
        started = datetime.now(UTC) - timedelta(hours=1)
        self._states = [
            replace(
                ServiceState.missing(s), state=RunState.RUNNING, health=Health.HEALTHY, started_at=started
            )
            for s in self.services
        ]

    def run_watch(self, sink: StatusSink, stop: threading.Event) -> None:
        from edp_tui.docker.models import EngineStatus

        sink.on_status(EngineStatus(self.engine_url, True, version="bench"))
        sink.on_states(list(self._states))
        stop.wait()

    def snapshot(self) -> list[ServiceState]:
        return list(self._states)

    def refresh(self) -> None:
        return None

    def restart(self, service: str) -> ServiceState:
        raise NotImplementedError("benches do not act on services")

    def stop(self, service: str) -> ServiceState:
        raise NotImplementedError("benches do not act on services")

    def start(self, service: str) -> ServiceState:
        raise NotImplementedError("benches do not act on services")

    def close(self) -> None:
        pass


class _SilentLogs:
    def follow(
        self,
        service: str | None,
        backlog: Backlog,
        on_lines: Callable[[list[LogLine]], None],
        on_event: Callable[[LogEvent], None],
    ) -> Follower:
        return _SilentFollower()


class _SilentFollower:
    def __init__(self) -> None:
        self._stop = threading.Event()

    def run(self) -> None:
        self._stop.wait()

    def stop(self) -> None:
        self._stop.set()


class _NoReloadStatus:
    def read(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


class _NoRunContainers:
    def run_containers(self) -> list[RunContainer]:
        return []

    def logs(self, container_id: str, tail: int = 200) -> bytes:
        return b""

    def close(self) -> None:
        pass


def headless_backends(dagster: DagsterApi, webserver_url: str, *, project: str = "bench") -> Backends:
    """The dashboard's `Backends` with a real Dagster client and an in-memory Docker side."""
    from edp_tui.backends import Backends

    return Backends(
        project=project,
        webserver_url=webserver_url,
        services=StaticServices(),
        logs=_SilentLogs(),
        dagster=dagster,
        reload_status=_NoReloadStatus(),
        run_containers=_NoRunContainers(),
    )


def screen_text(app: Any) -> str:
    """What a headless app's terminal shows right now, as plain text lines."""
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())


# ---- stacks ----------------------------------------------------------------------------------------------
class Gql:
    """Plain GraphQL over httpx with the product's own documents: the peer set beside a dashboard figure."""

    LAUNCH = """
    mutation Launch($params: ExecutionParams!) {
      launchRun(executionParams: $params) {
        __typename
        ... on LaunchRunSuccess { run { runId status } }
        ... on PythonError { message }
        ... on RunConfigValidationInvalid { errors { message } }
        ... on PipelineNotFoundError { message }
      }
    }"""
    RUN = """
    query Run($runId: ID!) {
      runOrError(runId: $runId) {
        __typename
        ... on Run { runId status creationTime startTime endTime tags { key value } }
        ... on RunNotFoundError { message }
      }
    }"""
    EVENTS = """
    query Events($runId: ID!, $cursor: String) {
      logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
        __typename
        ... on EventConnection {
          cursor
          hasMore
          events { __typename ... on MessageEvent { message timestamp eventType stepKey } }
        }
        ... on PythonError { message }
      }
    }"""
    FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

    def __init__(self, webserver_url: str, timeout: float = 60.0) -> None:
        import httpx

        self.url = webserver_url.rstrip("/") + "/graphql"
        self.http = httpx.Client(timeout=timeout, trust_env=False)

    def query(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.http.post(self.url, json={"query": text, "variables": variables or {}}).json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return dict(body["data"])

    def operation(self, name: str, variables: dict[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
        """(seconds, body) of one of the dashboard's own documents (``src/edp_tui/dagster/documents``)."""
        from edp_tui.dagster.client import document

        t0 = time.perf_counter()
        response = self.http.post(
            self.url, json={"query": document(name), "variables": variables or {}, "operationName": name}
        )
        return time.perf_counter() - t0, response.json()

    def launch(
        self,
        job: str,
        run_config: dict[str, Any] | None = None,
        *,
        location: str = "etl_pipeline",
        repository: str = "__repository__",
    ) -> str:
        params = {
            "selector": {"repositoryLocationName": location, "repositoryName": repository, "jobName": job},
            "runConfigData": run_config or {},
        }
        result = self.query(self.LAUNCH, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"launching {job}: {result}")
        return str(result["run"]["runId"])

    def run(self, run_id: str) -> dict[str, Any]:
        return dict(self.query(self.RUN, {"runId": run_id})["runOrError"])

    def events(self, run_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.query(self.EVENTS, {"runId": run_id, "cursor": cursor})["logsForRun"]
            if page["__typename"] != "EventConnection":
                raise RuntimeError(f"logsForRun({run_id}): {page}")
            found.extend(page["events"])
            cursor = page["cursor"]
            if not page["hasMore"]:
                return found

    def wait_finished(self, run_id: str, timeout: float, interval: float = 0.1) -> str:
        deadline = time.monotonic() + timeout
        while True:
            status = str(self.run(run_id).get("status"))
            if status in self.FINISHED:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {status} after {timeout:.0f} s")
            time.sleep(interval)


def run_tags(run_info: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run_info.get("tags") or []}


@dataclass
class SmallProject:
    """A throwaway compose project of three idle containers."""

    name: str
    compose_file: Path

    def compose(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["docker", "compose", "-p", self.name, "-f", str(self.compose_file), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def container_id(self, service: str) -> str:
        out = subprocess.run(
            [
                "docker",
                "ps",
                "-aq",
                "--filter",
                f"label=com.docker.compose.project={self.name}",
                "--filter",
                f"label=com.docker.compose.service={service}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.split()[0]

    def dashboard_args(self) -> list[str]:
        # Nothing listens on port 9: the Dagster side is "webserver unreachable", the Docker side is measured.
        return [
            "--compose-file",
            str(self.compose_file),
            "-p",
            self.name,
            "--webserver-url",
            "http://127.0.0.1:9",
        ]


SMALL_COMPOSE = """
services:
  alpha:
    image: {image}
    init: true
    command: ["sleep", "infinity"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
  beta:
    image: {image}
    init: true
    command: ["sleep", "infinity"]
  gamma:
    image: {image}
    init: true
    command: ["sleep", "infinity"]
"""
# The repository's own script provides it (pulled, or built from Debian packages without a registry).
BASE_IMAGE = f"{os.environ.get('EDP_LOCAL_IMAGE_PREFIX') or 'edp-local'}/debian:bookworm"


def base_image() -> str:
    """A small local image with sh and coreutils: ``EDP_BENCH_IMAGE``, else the air-gap base image (built by
    ``stack/airgap/build-base-images.sh`` when missing)."""
    image = os.environ.get("EDP_BENCH_IMAGE") or BASE_IMAGE
    present = subprocess.run(["docker", "image", "inspect", image], capture_output=True, timeout=60)
    if present.returncode != 0:
        script = REPO / "stack" / "airgap" / "build-base-images.sh"
        subprocess.run(["bash", str(script), "debian"], cwd=REPO, check=True, timeout=1800)
    return image


@contextmanager
def small_project() -> Iterator[SmallProject]:
    """Three idle containers on a small local image, removed at the end."""
    image = base_image()
    with tempfile.TemporaryDirectory(prefix="edp-bench-") as tmp:
        compose_file = Path(tmp) / "docker-compose.yaml"
        compose_file.write_text(SMALL_COMPOSE.format(image=image))
        project = SmallProject(f"edpbench{uuid.uuid4().hex[:8]}", compose_file)
        try:
            up = project.compose("up", "-d", "--wait")
            if up.returncode != 0:
                raise SystemExit(f"docker compose up failed: {up.stderr}")
            yield project
        finally:
            project.compose("down", "-t", "1", "-v")


def copy_code(dest: Path) -> Path:
    """The repository's tracked and not-ignored files (no .venv, caches, .env), copied to ``dest``: a code
    tree a bench may edit (a reload figure adds jobs to its definitions) without touching the work tree."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.split(b"\0")
    for raw in listed:
        src = REPO / raw.decode()
        if raw and src.is_file():
            target = dest / raw.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def process_stack(*args: Any, **kwargs: Any) -> Any:
    """A process stack (PostgreSQL, code server, webserver, daemon as local processes, its own ports and
    directory): `tests/support/process_stack.ProcessStack`, the integration tests' own.

    The one place a bench reaches into the test tree, on purpose: the process stack is 700 lines that must
    behave exactly as the integration layer's, and it is imported when a bench calls this, so importing a
    bench never needs it. tests/unit/test_bench_imports.py also checks that this import works, so a move of
    that module fails a unit test instead of a bench nobody runs."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.support.process_stack import ProcessStack

    return ProcessStack(*args, **kwargs)


def dagster_login() -> tuple[str, str]:
    """The process stack's PostgreSQL user and Dagster's database on it (bridged as `process_stack` is)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.support.process_stack import DAGSTER_DB, PG_USER

    return PG_USER, DAGSTER_DB


# What `process_stack` returns (typed loosely: the class lives with the tests).
Stack = Any

# The demo's jobs are partitioned by day: a bench launches them for this day, with the demo's ingestion
# settings as run config (the same as tests/support/stack_runs.py: tests/unit/test_bench_imports.py checks).
DEMO_DAY = "2024-01-01"
PARTITION_TAG = "dagster/partition"


def demo_config(customers: int, products: int, orders: int, seed: int = 42) -> dict[str, Any]:
    """The demo's ingestion settings as run config: the reference data's size, and the orders of each day."""
    return {
        "ops": {
            "raw_reference_data": {"config": {"customers": customers, "products": products, "seed": seed}},
            "raw_retail_data": {"config": {"orders": orders, "seed": seed}},
        }
    }


def dagster_db(stack: Stack) -> Any:
    """A psycopg2 connection to a process stack's Dagster storage database (its user and database names are
    the process stack's own, imported from there for the same reason as `process_stack`)."""
    import psycopg2

    user, database = dagster_login()
    return psycopg2.connect(
        host="127.0.0.1", port=stack.pg_port, user=user, password=stack.pg_password, dbname=database
    )
