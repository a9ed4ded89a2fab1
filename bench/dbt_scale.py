"""Runs at realistic size: `dbt_build_job` through Dagster beside the bare `dbt build`, per project size.

    .venv/bin/python bench/dbt_scale.py [--sizes 10,100,1000,3000] [--pairs 1] [--no-dashboard]
        [--workdir DIR] [--keep]

Generates its own dbt projects (bench/dbt_projects.py: N table models, every fifth with a test), serves each
as a dbt-only code location of the platform (EDP_CODE_LOCATIONS, EDP_LOCATION_<NAME>_DBT_PROJECT: nothing of
the demo) on the process stack (tests/support/process_stack.py: PostgreSQL, the platform's code servers,
webserver and daemon as local processes, with the repository's stack/dagster.yaml), and prints, per size
and pair (a bare build, then a run; both replace the tables an untimed first build of the size created):

- run: launch (GraphQL) -> SUCCESS; bare: the same `dbt build` by hand, in the location's working copy with
  the platform's profile and target and the location's schema (the code server's own environment);
- CPU of the run worker (its own, and the dbt process it ran) beside the bare dbt process's, and of
  PostgreSQL (every process of the stack's server, Dagster's storage and the warehouse alike) during each;
- the events the run stored (Dagster's event_logs rows);
- the dashboard's CPU while the run is followed on its Runs tab: the real `edp-tui` binary in a tmux pane of
  its own (200x50), the run selected as it starts.

A bench, not a test: it runs to completion and prints what it got (a wait past its deadline is printed as
such). The load average before and after is printed: figures taken beside other work are noise. Not
self-contained of the bench harness (bench/harness.py) because it was not on main when this was written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from bench.dbt_projects import test_count, write_project  # noqa: E402
from bench.harness import Stack as ProcessStack  # noqa: E402
from bench.harness import dagster_db, process_stack  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
RUN_TIMEOUT_S = 3600.0
POLL_S = 0.2
STATUS = "query S($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def proc_cpu(pid: int) -> tuple[float, float] | None:
    """(own, reaped children) CPU seconds of a process; None once it is gone."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def children(pid: int) -> list[int]:
    try:
        text = (Path("/proc") / str(pid) / "task" / str(pid) / "children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, its reaped children and its live descendants."""
    own = proc_cpu(pid)
    if own is None:
        return 0.0
    return own[0] + own[1] + sum(tree_cpu(child) for child in children(pid))


class PostgresCpu:
    """CPU of the stack's PostgreSQL server: the postmaster, the backends it reaped and the live ones."""

    def __init__(self, stack: ProcessStack) -> None:
        pid_file = stack.workdir / "pg" / "data" / "postmaster.pid"
        self.pid = int(pid_file.read_text().splitlines()[0])

    def seconds(self) -> float:
        return tree_cpu(self.pid)


class Dashboard:
    """The real edp-tui binary in a tmux pane of its own, on the Runs tab."""

    def __init__(self, stack: ProcessStack, workdir: Path) -> None:
        self.server = f"edp-bench-{os.getpid()}"
        self.tmux = ["tmux", "-L", self.server]
        binary = Path(sys.executable).parent / "edp-tui"
        command = (
            f"TERM=xterm-256color XDG_CONFIG_HOME={workdir} XDG_STATE_HOME={workdir} {binary} --read-only"
            f" --compose-file {REPO / 'stack' / 'docker-compose.yaml'} -p edpbench{os.getpid()}"
            f" --webserver-url {stack.webserver_url}"
        )
        subprocess.run([*self.tmux, "new-session", "-d", "-x", "200", "-y", "50", command], check=True)
        pane_pid = subprocess.run(
            [*self.tmux, "display-message", "-p", "#{pane_pid}"], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.pid = int(pane_pid)
        deadline = time.monotonic() + 60
        while "Runs" not in self.screen() and time.monotonic() < deadline:
            time.sleep(0.5)
        self.keys("2")

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", *keys], check=True)

    def cpu(self) -> float:
        return tree_cpu(self.pid)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


@dataclass
class Figures:
    wall: float = 0.0
    status: str = ""
    worker: float | None = None  # the run worker's own CPU
    dbt: float | None = None  # the dbt process's (the worker's reaped child, or the bare build itself)
    postgres: float = 0.0
    events: int | None = None
    dashboard: float | None = None
    notes: list[str] = field(default_factory=list)


def worker_pid(db, run_id: str) -> int | None:
    with db.cursor() as cur:
        cur.execute(
            "select event from event_logs where run_id = %s and dagster_event_type = 'ENGINE_EVENT'"
            " and event like %s",
            (run_id, "%Started process for run (pid: %"),
        )
        row = cur.fetchone()
    if row is None:
        return None
    text = row[0]
    start = text.index("Started process for run (pid: ") + len("Started process for run (pid: ")
    return int(text[start : text.index(")", start)])


def count_events(db, run_id: str) -> int:
    with db.cursor() as cur:
        cur.execute("select count(*) from event_logs where run_id = %s", (run_id,))
        return int(cur.fetchone()[0])


def bare_build(stack: ProcessStack, location: str, pg: PostgresCpu) -> Figures:
    """`dbt build` by hand where the code server runs it: the location's working copy and environment."""
    copy = stack.workdir / "dbt" / location / "copy" / location
    target = stack.workdir / "bare-target" / location
    shutil.rmtree(target, ignore_errors=True)
    env = {
        **stack.env,
        "EDP_DBT_SCHEMA": location,
        "DBT_PROFILES_DIR": str(REPO / "stack" / "platform" / "src" / "edp_platform" / "dbt" / "profiles"),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
    }
    # The partial parse the code server left, as dagster-dbt copies it into each invocation's target.
    parsed = stack.workdir / "dbt" / location / "target" / "partial_parse.msgpack"
    target.mkdir(parents=True, exist_ok=True)
    if parsed.exists():
        shutil.copy(parsed, target / parsed.name)
    dbt = str(Path(sys.executable).parent / "dbt")
    pg0, t0, c0 = pg.seconds(), time.monotonic(), os.times()
    proc = subprocess.run(
        [dbt, "build", "--profile", "edp_warehouse"], cwd=copy, env=env, capture_output=True, text=True
    )
    c1 = os.times()
    figures = Figures(wall=time.monotonic() - t0, postgres=pg.seconds() - pg0)
    figures.dbt = (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
    figures.status = "SUCCESS" if proc.returncode == 0 else f"exit {proc.returncode}"
    if proc.returncode:
        figures.notes.append(proc.stdout[-1500:])
    return figures


def dagster_run(stack: ProcessStack, location: str, pg: PostgresCpu, dashboard: Dashboard | None) -> Figures:
    db = dagster_db(stack)
    db.autocommit = True
    figures = Figures()
    pg0, dash0, t0 = pg.seconds(), dashboard.cpu() if dashboard else 0.0, time.monotonic()
    launched = stack.launch_run("dbt_build_job", location=location)
    if launched["__typename"] != "LaunchRunSuccess":
        figures.status = f"launch failed: {launched}"
        return figures
    run_id = launched["run"]["runId"]
    if dashboard:
        threading.Timer(1.0, dashboard.keys, args=("g",)).start()  # the newest run, at the top
    pid, last = None, None
    while time.monotonic() - t0 < RUN_TIMEOUT_S:
        if pid is None:
            pid = worker_pid(db, run_id)
        own = proc_cpu(pid) if pid is not None else None
        if pid is not None and own is not None:
            # The dbt process: the worker's live child while it runs, a reaped one once it is done.
            last = (own[0], tree_cpu(pid) - own[0])
        status = stack.graphql(STATUS, {"id": run_id})["runOrError"].get("status")
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            figures.status = status
            break
        time.sleep(POLL_S)
    else:
        figures.status = f"still running after {RUN_TIMEOUT_S:.0f} s"
    figures.wall = time.monotonic() - t0
    figures.postgres = pg.seconds() - pg0
    if dashboard:
        figures.dashboard = dashboard.cpu() - dash0
    if last is not None:
        figures.worker, figures.dbt = last
    else:
        figures.notes.append("the run worker's pid was not seen")
    figures.events = count_events(db, run_id)
    db.close()
    return figures


def fmt(value: float | None, unit: str = "s") -> str:
    return f"{value:7.1f} {unit}" if value is not None else "      ?  "


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10,100,1000,3000", help="model counts, comma separated")
    ap.add_argument("--pairs", type=int, default=1, help="bare build + run pairs per size")
    ap.add_argument("--no-dashboard", action="store_true", help="do not follow the runs in edp-tui")
    ap.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    ap.add_argument("--keep", action="store_true", help="keep the workdir (projects, logs, targets)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edp-dbt-scale-"))
    code = workdir / "code"
    for n in sizes:
        write_project(code / f"m{n}", n)
    print(f"before: load average {load()}; projects in {code}", flush=True)
    locations = {f"m{n}": {"DBT_PROJECT": f"m{n}"} for n in sizes}
    stack = process_stack(workdir / "stack", code_root=code, locations=locations, auto_reload=False)
    rows = []
    dashboard = None
    try:
        stack.start()
        print(f"stack up: {', '.join(f'{k} {v:.1f} s' for k, v in stack.timings.items())}", flush=True)
        pg = PostgresCpu(stack)
        if not args.no_dashboard and shutil.which("tmux"):
            dashboard = Dashboard(stack, workdir)
        for n in sizes:
            # The first build of a project creates its tables; every later one replaces them (two renames
            # and a drop more per model: about a third more of dbt's CPU at 1,000 models, docs/scaling.md).
            # The timed builds all replace, as every scheduled build does: this untimed one creates them.
            first = bare_build(stack, f"m{n}", pg)
            print(
                f"{n} models: first build (creates the tables, not in the table) {first.wall:.1f} s,"
                f" dbt CPU {fmt(first.dbt)}, {first.status}",
                flush=True,
            )
            for pair in range(args.pairs):
                bare = bare_build(stack, f"m{n}", pg)
                run = dagster_run(stack, f"m{n}", pg, dashboard)
                rows.append((n, pair, bare, run))
                print_row(n, bare, run, flush=True)
    finally:
        if dashboard:
            dashboard.close()
        stack.stop()
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"after: load average {load()}")
    print()
    print(TABLE_HEAD)
    for n, _pair, bare, run in rows:
        print_row(n, bare, run, table=True)


TABLE_HEAD = (
    "models tests |    run     bare  ratio | worker CPU (own + dbt) | bare dbt CPU"
    " | PostgreSQL CPU run / bare | events | dashboard CPU"
)


def print_row(n: int, bare: Figures, run: Figures, *, table: bool = False, flush: bool = False) -> None:
    ratio = f"{run.wall / bare.wall:5.2f}x" if bare.wall and run.status == "SUCCESS" else "   ?  "
    worker = (
        f"{run.worker + run.dbt:6.1f} s ({run.worker:5.1f} + {run.dbt:5.1f})"
        if run.worker is not None and run.dbt is not None
        else "       ?"
    )
    dash = f"{run.dashboard / run.wall * 100:5.1f} % of a core" if run.dashboard is not None else "-"
    line = (
        f"{n:6d} {test_count(n):5d} | {run.wall:6.1f} s {bare.wall:6.1f} s {ratio} | {worker} |"
        f" {fmt(bare.dbt)} | {run.postgres:6.1f} s / {bare.postgres:6.1f} s | {run.events or 0:6d} | {dash}"
    )
    if not table:
        line += f" | run {run.status}, bare {bare.status}"
        for note in bare.notes + run.notes:
            line += f"\n    {note}"
    print(line, flush=flush)


if __name__ == "__main__":
    main()
