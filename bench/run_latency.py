"""Run latency of full_refresh_job at the test size on a running compose stack, beside the same work done
directly.

    .venv/bin/python bench/run_latency.py [--project edp] [--url http://127.0.0.1:3000] [--runs 3]
        [--cli-runs 2]

For each of --runs runs (launched through GraphQL, polled every 0.1 s) it prints launch -> SUCCESS and
where the time went, from the run's own events:
- queued: launch -> RUN_STARTING (the daemon's dequeue tick);
- worker start: RUN_STARTING -> RUN_START, split into the worker process (-> "Started process for run":
  the default launcher's spawn and import of dagster and the instance, or a run container's create, start
  and the same import) and the code (-> RUN_START: the definitions, dagster-dbt and dbt, the plan);
- steps: RUN_START -> end, of which the dbt step, split into what dagster-dbt does before it starts dbt
  (-> "Running dbt command") and the dbt process with its events (-> "Finished dbt command");
- the PostgreSQL connections opened to Dagster's database meanwhile (pg_stat_database.sessions, the stack's
  idle rate subtracted): each costs 10-18 ms.
Then --cli-runs times `edp-tui launch full_refresh_job --wait` (when the command is installed). The peer is
the same work without Dagster in the same user-code container: the generator and loader called directly and
`dbt build --full-refresh` on the CLI (one `docker exec`, timed inside).

Runs and peers alternate (peer, run, peer, run, ...), so each run has a peer measured under the same load, and
both get their CPU time beside the wall clock: the CPU the user-code container (and, in the run-per-container
mode, the run's own container) used, read from the containers' cgroups, minus what user-code burns when idle
(healthchecks, sensor ticks: its rate is measured first, over IDLE_S). CPU time barely grows with other load
on the host; wall-clock time does.

Which mode it measured (default launcher or a container per run) is read from the runs' tags. The load average
and the containers running on the host are printed first and last. Every wait has a deadline: the bench always
finishes and prints what it got.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness import (  # noqa: E402
    DEMO_DAY,
    PARTITION_TAG,
    Gql,
    container_cpu_seconds,
    demo_config,
    run_tags,
    service_container,
)  # noqa: E402

TEST_SIZE = {"customers": 40, "products": 8, "orders": 300, "seed": 7}
RUN_CONFIG = demo_config(**TEST_SIZE)  # full_refresh_job for the day DEMO_DAY
RUN_TIMEOUT_S = 600.0
IDLE_S = 20.0
PEER_TIMEOUT_S = 600
RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Runs inside user-code: the ingestion work called directly, then dbt build as the op runs it (a subprocess).
PEER = """
import json, os, subprocess, sys, time
from datetime import date
from etl_pipeline.generator import GeneratorParams, Reference, generate_day, generate_reference
from etl_pipeline.warehouse import load_days, load_reference
t0 = time.monotonic()
params, day = GeneratorParams(**json.loads(sys.argv[1])), date.fromisoformat(sys.argv[2])
reference = generate_reference(params)
load_reference(reference)
load_days(generate_day(day, orders=params.orders, seed=params.seed, reference=Reference.of(reference)), [day])
t1 = time.monotonic()
target = "/tmp/run-latency-peer-target"
subprocess.run(["dbt", "build", "--full-refresh", "--quiet", "--target-path", target],
               cwd=os.environ["DBT_PROJECT_DIR"], check=True, capture_output=True)
t2 = time.monotonic()
print(json.dumps({"load": t1 - t0, "dbt": t2 - t1}))
"""


def host_load() -> str:
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    names = subprocess.run(
        ["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True, timeout=30
    ).stdout.split()
    return f"load average {load}; {len(names)} containers running on the host: {' '.join(sorted(names))}"

    return None


class RunContainerCpu(threading.Thread):
    """Polls the CPU time of the run's container (the run-per-container mode) until it is gone."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.run_id, self.last = "", 0.0
        self.done = threading.Event()

    def run(self) -> None:
        container = None
        while not self.done.is_set():
            if container is None and self.run_id:
                ids = subprocess.run(
                    ["docker", "ps", "-q", "--no-trunc", "--filter", f"label=dagster/run_id={self.run_id}"],
                    capture_output=True,
                    text=True,
                    timeout=30,
                ).stdout.split()
                container = ids[0] if ids else None
            if container is not None:
                self.last = container_cpu_seconds(container) or self.last
            time.sleep(0.2)


def pg_sessions(postgres: str | None) -> int | None:
    """Connections opened to Dagster's database since PostgreSQL started; None: unreadable."""
    if postgres is None:
        return None
    sql = "select sessions from pg_stat_database where datname = current_database()"
    try:
        proc = subprocess.run(
            [
                "docker",
                "exec",
                postgres,
                "sh",
                "-c",
                f'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "{sql}"',
            ],  # noqa: E501
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        return None
    return int(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip().isdigit() else None


def event_time(events: list[dict], event_type: str | None, message: str = "") -> float | None:
    """Time of the first event of this type (None: a log message) whose message starts so."""
    found = [
        float(e["timestamp"]) / 1000
        for e in events
        if e.get("eventType") == event_type and (e.get("message") or "").startswith(message)
    ]
    return found[0] if found else None


def between(start: float | None, end: float | None) -> float | None:
    return end - start if start is not None and end is not None else None


def step_seconds(events: list[dict], step: str) -> float | None:
    start = [
        float(e["timestamp"]) for e in events if e.get("eventType") == "STEP_START" and e["stepKey"] == step
    ]
    end = [
        float(e["timestamp"]) for e in events if e.get("eventType") == "STEP_SUCCESS" and e["stepKey"] == step
    ]
    return (end[0] - start[0]) / 1000 if start and end else None


def one_run(
    gql: Gql, user_code: str | None, postgres: str | None
) -> tuple[str, dict[str, float | None], str]:
    poller = RunContainerCpu()
    poller.start()
    cpu0 = container_cpu_seconds(user_code) if user_code else None
    sessions0 = pg_sessions(postgres)
    t0 = time.monotonic()
    try:
        run_id = gql.launch("full_refresh_job", RUN_CONFIG)
        poller.run_id = run_id
        status = gql.wait_finished(run_id, RUN_TIMEOUT_S, interval=0.1)
    finally:
        poller.done.set()
    wall = time.monotonic() - t0
    cpu1 = container_cpu_seconds(user_code) if user_code else None
    sessions1 = pg_sessions(postgres)
    info = gql.run(run_id)
    events = gql.events(run_id)
    dequeued, started = event_time(events, "RUN_STARTING"), event_time(events, "RUN_START")
    process = event_time(events, "ENGINE_EVENT", "Started process for run")
    step_start = [
        float(e["timestamp"]) / 1000
        for e in events
        if e.get("eventType") == "STEP_START" and e["stepKey"] == "retail_dbt_models"
    ]
    dbt_start = event_time(events, None, "Running dbt command")  # dagster-dbt's own log lines
    dbt_end = event_time(events, None, "Finished dbt command")
    phases = {
        "wall": wall,
        "queued": dequeued - info["creationTime"] if dequeued else None,
        "worker start": between(dequeued, started),
        "process": between(dequeued, process),
        "code": between(process, started),
        "steps": info["endTime"] - started if started and info.get("endTime") else None,
        "dbt step": step_seconds(events, "retail_dbt_models"),
        "before dbt": between(step_start[0] if step_start else None, dbt_start),
        "dbt": between(dbt_start, dbt_end),
        "cpu": cpu1 - cpu0 + poller.last if cpu0 is not None and cpu1 is not None else None,
        "pg": float(sessions1 - sessions0) if sessions0 is not None and sessions1 is not None else None,
    }
    mode = "a container per run" if "docker/container_id" in run_tags(info) else "default launcher"
    return status, phases, mode


def fmt(value: float | None) -> str:
    return f"{value:5.1f} s" if value is not None else "    ? "


def cli_run(url: str, gql: Gql) -> tuple[str, float]:
    """(outcome, seconds) of one `edp-tui launch --wait`; the outcome says how long the run itself took."""
    exe = shutil.which("edp-tui") or str(REPO / ".venv" / "bin" / "edp-tui")
    if not Path(exe).exists():
        return "edp-tui not installed", 0.0
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        json.dump(RUN_CONFIG, f)  # JSON is YAML
    try:
        t0 = time.monotonic()
        proc = subprocess.run(
            [exe, "--webserver-url", url, "launch", "full_refresh_job", "--config", f.name, "--wait"]
            + ["--tag", f"{PARTITION_TAG}={DEMO_DAY}"],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
        seconds = time.monotonic() - t0
        outcome = f"exit {proc.returncode}"
        found = RUN_ID.search(proc.stdout + proc.stderr)
        if found:
            info = gql.run(found.group(0))
            if info.get("endTime"):
                run_s = info["endTime"] - info["creationTime"]
                outcome += f" (the run itself: {run_s:.1f} s; the rest is the CLI's start and polling)"
        return outcome, seconds
    except subprocess.TimeoutExpired:
        return "timed out", RUN_TIMEOUT_S
    finally:
        os.unlink(f.name)


def peer(container: str) -> dict[str, float] | str:
    cpu0 = container_cpu_seconds(container)
    try:
        t0 = time.monotonic()
        proc = subprocess.run(
            ["docker", "exec", container, "python", "-c", PEER, json.dumps(TEST_SIZE), DEMO_DAY],
            capture_output=True,
            text=True,
            timeout=PEER_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {PEER_TIMEOUT_S} s"
    if proc.returncode != 0:
        return f"failed: {proc.stderr[-500:]}"
    parts = json.loads(proc.stdout.strip().splitlines()[-1])
    wall = time.monotonic() - t0
    cpu1 = container_cpu_seconds(container)
    cpu = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else float("nan")
    return {**parts, "wall": wall, "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", default=os.environ.get("COMPOSE_PROJECT_NAME", "edp"))
    ap.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('DAGSTER_WEBSERVER_PORT', '3000')}")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cli-runs", type=int, default=2, help="timed `edp-tui launch --wait` runs at the end")
    args = ap.parse_args()
    gql = Gql(args.url)

    print(f"before: {host_load()}")
    user_code = service_container(args.project, "user-code")
    postgres = service_container(args.project, "postgres")
    if user_code is None:
        print(f"no running user-code container in project {args.project}: nothing to measure")
        return
    idle0, sessions0 = container_cpu_seconds(user_code), pg_sessions(postgres)
    time.sleep(IDLE_S)
    idle1, sessions1 = container_cpu_seconds(user_code), pg_sessions(postgres)
    idle_rate = (idle1 - idle0) / IDLE_S if idle0 is not None and idle1 is not None else 0.0
    pg_idle_rate = 0.0
    if sessions0 is not None and sessions1 is not None:
        pg_idle_rate = (sessions1 - sessions0) / IDLE_S
    print(
        f"user-code idle: {idle_rate * 100:.0f}% of a core; Dagster's database idle: {pg_idle_rate:.1f} new "
        "connections/s (both subtracted from the figures below)"
    )
    print(f"== full_refresh_job at the test size ({TEST_SIZE}): a peer, then a run, {args.runs} times ==")
    pairs = []
    for i in range(max(1, args.runs)):
        direct = peer(user_code)
        if isinstance(direct, str):
            print(f"peer {i + 1}: {direct}")
            continue
        direct["cpu"] -= idle_rate * direct["wall"]
        print(
            f"peer {i + 1} (no Dagster, docker exec in user-code): {fmt(direct['wall'])} wall, "
            f"{fmt(direct['cpu'])} CPU  = load {direct['load']:.1f} s + dbt build {direct['dbt']:.1f} s"
        )
        try:
            status, phases, mode = one_run(gql, user_code, postgres)
        except Exception as exc:  # noqa: BLE001 - a bench reports and goes on
            print(f"run {i + 1}: {exc}")
            continue
        if phases["cpu"] is not None and phases["wall"] is not None:
            phases["cpu"] -= idle_rate * phases["wall"]
        if phases["pg"] is not None and phases["wall"] is not None:
            phases["pg"] -= pg_idle_rate * phases["wall"]
        print(
            f"run {i + 1} ({mode}): {status} {fmt(phases['wall'])} wall, {fmt(phases['cpu'])} CPU"
            f"  = queued {fmt(phases['queued'])} + worker start {fmt(phases['worker start'])}"
            f" + steps {fmt(phases['steps'])} (dbt step {fmt(phases['dbt step'])})\n"
            f"    worker start = process {fmt(phases['process'])} + code {fmt(phases['code'])};"
            f" dbt step = before dbt {fmt(phases['before dbt'])} + dbt {fmt(phases['dbt'])};"
            + (f" {phases['pg']:.0f} PostgreSQL connections" if phases["pg"] is not None else "")
        )
        pairs.append((phases, direct))
    if pairs:
        walls = statistics.median(p["wall"] / d["wall"] for p, d in pairs)
        cpus = [p["cpu"] / d["cpu"] for p, d in pairs if p["cpu"] and d["cpu"] == d["cpu"] and d["cpu"] > 0]
        print(
            f"median run/peer: wall {walls:.2f}x"
            + (f", CPU {statistics.median(cpus):.2f}x" if cpus else "")
            + f"; best run {min(p['wall'] for p, _ in pairs):.1f} s wall"
        )
    for i in range(max(0, args.cli_runs)):
        outcome, seconds = cli_run(args.url, gql)
        print(f"edp-tui launch full_refresh_job --wait ({i + 1}): {outcome} in {seconds:.1f} s")
    print(f"after: {host_load()}")


if __name__ == "__main__":
    main()
