"""Run latency of full_refresh_job at the test size on a running compose stack, beside the same work done
directly.

    .venv/bin/python bench/run_latency.py [--project edp] [--url http://127.0.0.1:3000] [--runs 3]

For each of --runs runs (launched through GraphQL, polled every 0.1 s) it prints launch -> SUCCESS and where
the time went, from the run's own events: queued (launch -> RUN_STARTING), worker start (dequeue -> RUN_START:
the default launcher's spawn + import, or a run container's start + import), steps (RUN_START -> end), of
which the dbt step. Then the same with `edp-tui launch full_refresh_job --wait` (when the command is
installed), and, as the peer, the same work without Dagster in the same user-code container: the generator
and loader called directly and `dbt build --full-refresh` on the CLI (one `docker exec`, timed inside).

Which mode it measured (default launcher or a container per run) is read from the runs' tags. The load average
and the containers running on the host are printed first and last: on a shared host, wall-clock figures are
only comparable with the peer measured in the same session. Every wait has a deadline: the bench always
finishes and prints what it got.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.support import stack_runs as sr  # noqa: E402

TEST_SIZE = {"customers": 40, "products": 8, "orders": 300, "seed": 7}
RUN_CONFIG = {"ops": {"raw_retail_data": {"config": TEST_SIZE}}}
RUN_TIMEOUT_S = 600.0
PEER_TIMEOUT_S = 600

# Runs inside user-code: the ingestion work called directly, then dbt build as the op runs it (a subprocess).
PEER = """
import json, os, subprocess, sys, time
from etl_pipeline.generator import GeneratorParams, generate
from etl_pipeline.warehouse import load_raw
t0 = time.monotonic()
load_raw(generate(GeneratorParams(**json.loads(sys.argv[1]))))
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


def user_code_container(project: str) -> str | None:
    ids = subprocess.run(
        [
            "docker",
            "ps",
            "-q",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--filter",
            "label=com.docker.compose.service=user-code",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    return ids[0] if ids else None


def event_time(events: list[dict], event_type: str) -> float | None:
    found = [float(e["timestamp"]) / 1000 for e in events if e.get("eventType") == event_type]
    return found[0] if found else None


def step_seconds(events: list[dict], step: str) -> float | None:
    start = [
        float(e["timestamp"]) for e in events if e.get("eventType") == "STEP_START" and e["stepKey"] == step
    ]
    end = [
        float(e["timestamp"]) for e in events if e.get("eventType") == "STEP_SUCCESS" and e["stepKey"] == step
    ]
    return (end[0] - start[0]) / 1000 if start and end else None


def one_run(graphql: sr.GraphQL) -> tuple[str, dict[str, float | None], str]:
    t0 = time.monotonic()
    run_id = sr.launch(graphql, "full_refresh_job", RUN_CONFIG)
    status = sr.wait_for_status(graphql, run_id, sr.FINISHED, RUN_TIMEOUT_S, interval_s=0.1)
    wall = time.monotonic() - t0
    info = sr.run(graphql, run_id)
    events = sr.events(graphql, run_id)
    dequeued, started = event_time(events, "RUN_STARTING"), event_time(events, "RUN_START")
    phases = {
        "wall": wall,
        "queued": dequeued - info["creationTime"] if dequeued else None,
        "worker start": started - dequeued if started and dequeued else None,
        "steps": info["endTime"] - started if started and info.get("endTime") else None,
        "dbt step": step_seconds(events, "retail_dbt_models"),
    }
    mode = "a container per run" if "docker/container_id" in sr.tags(info) else "default launcher"
    return status, phases, mode


def fmt(value: float | None) -> str:
    return f"{value:5.1f} s" if value is not None else "    ? "


def cli_run(url: str) -> tuple[str, float]:
    exe = shutil.which("edp-tui") or str(REPO / ".venv" / "bin" / "edp-tui")
    if not Path(exe).exists():
        return "edp-tui not installed", 0.0
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        json.dump(RUN_CONFIG, f)  # JSON is YAML
    try:
        t0 = time.monotonic()
        proc = subprocess.run(
            [exe, "--webserver-url", url, "launch", "full_refresh_job", "--config", f.name, "--wait"],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
        return f"exit {proc.returncode}", time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return "timed out", RUN_TIMEOUT_S
    finally:
        os.unlink(f.name)


def peer(project: str) -> dict[str, float] | str:
    container = user_code_container(project)
    if container is None:
        return f"no running user-code container in project {project}"
    try:
        t0 = time.monotonic()
        proc = subprocess.run(
            ["docker", "exec", container, "python", "-c", PEER, json.dumps(TEST_SIZE)],
            capture_output=True,
            text=True,
            timeout=PEER_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {PEER_TIMEOUT_S} s"
    if proc.returncode != 0:
        return f"failed: {proc.stderr[-500:]}"
    parts = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**parts, "docker exec in total": time.monotonic() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", default=os.environ.get("COMPOSE_PROJECT_NAME", "edp"))
    ap.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('DAGSTER_WEBSERVER_PORT', '3000')}")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    http = httpx.Client(timeout=60)

    def graphql(query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        body = http.post(f"{args.url}/graphql", json={"query": query, "variables": variables or {}}).json()
        if body.get("errors"):
            raise AssertionError(body["errors"])
        return dict(body["data"])

    print(f"before: {host_load()}")
    print(f"== full_refresh_job at the test size ({TEST_SIZE}), GraphQL launch -> finished ==")
    walls = []
    for i in range(max(1, args.runs)):
        try:
            status, phases, mode = one_run(graphql)
        except Exception as exc:  # noqa: BLE001 - a bench reports and goes on
            print(f"run {i + 1}: {exc}")
            continue
        walls.append(phases["wall"])
        print(
            f"run {i + 1} ({mode}): {status} {fmt(phases['wall'])}  = queued {fmt(phases['queued'])}"
            f" + worker start {fmt(phases['worker start'])} + steps {fmt(phases['steps'])}"
            f" (dbt step {fmt(phases['dbt step'])})"
        )
    outcome, seconds = cli_run(args.url)
    print(f"edp-tui launch full_refresh_job --wait: {outcome} in {seconds:.1f} s")
    direct = peer(args.project)
    if isinstance(direct, str):
        print(f"peer (same work without Dagster, in user-code): {direct}")
    else:
        print(
            f"peer (same work without Dagster, in user-code): load {direct['load']:.1f} s + dbt build "
            f"{direct['dbt']:.1f} s = {direct['load'] + direct['dbt']:.1f} s "
            f"(docker exec in total {direct['docker exec in total']:.1f} s)"
        )
        if walls:
            best = min(walls)
            print(f"best Dagster run {best:.1f} s = {best / (direct['load'] + direct['dbt']):.1f}x the peer")
    print(f"after: {host_load()}")


if __name__ == "__main__":
    main()
