"""Backfills of the demo's daily orders, launched by `edp-tui backfill --wait` beside Dagster's own
`launchPartitionBackfill` sent by the official GraphQL client (dagster-graphql's DagsterGraphQLClient): 30
and 365 partitions by default, launch to done, runs per minute, and the CPU of the process that launched and
watched each backfill (edp-tui's, drawing its progress bar; the peer polls the backfill's status once a
second).

Both sides ask for the same thing: the day assets retail_raw/orders, order_items and payments (one step) over
a range of days, distinct ranges so neither finds the other's work done. Dagster's daemon runs one run per
partition (the step has no backfill policy) within the instance's max_concurrent_runs (stack/dagster.yaml), so
runs per minute measures the queue and the run workers, and the two sides should be alike: the difference
is what the launcher costs, not Dagster. On a process stack of its own (PostgreSQL, code server, webserver,
daemon as local processes), or `--webserver-url` for a running stack (its demo location must be loaded).

    .venv/bin/python bench/backfill_bench.py                    # 30 and 365 partitions (365: ~20-40 min)
    .venv/bin/python bench/backfill_bench.py --partitions 30    # a few minutes
    .venv/bin/python bench/backfill_bench.py --webserver-url http://127.0.0.1:3000 -p edp   # + the dashboard

With `-p` (a compose project), the real dashboard (read-only, in tmux) is open on its Backfills tab through
each side's backfill, and its CPU over the side is printed beside the watcher's: what following a backfill
on screen costs.

A figure taken while other suites run is noise: the load line printed before and after says what ran.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from harness import (
    DEMO_DAY,
    EDP_TUI,
    PARTITION_TAG,
    REPO,
    Gql,
    TmuxDashboard,
    cpu_seconds,
    load_line,
    process_stack,
)

DAY_ASSETS = (("retail_raw", "orders"), ("retail_raw", "order_items"), ("retail_raw", "payments"))
# The first day each side's ranges start at: after DEMO_DAY (the reference load), one year a side apart.
FIRST = {"edp-tui": date(2024, 1, 2), "dagster-graphql": date(2025, 1, 2)}
DONE = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"})
LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status timestamp endTimestamp numPartitions }
  }
}"""
BACKFILL_RUNS = """
query Runs($id: String!) {
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { count results { status startTime endTime } }
  }
}"""
IN_FLIGHT = """
query InFlight {
  runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED, CANCELING]}) {
    ... on Runs { count }
  }
}"""


@dataclass
class Figure:
    side: str
    partitions: int
    backfill_id: str
    status: str
    seconds: float  # launch to the backfill's end (Dagster's own timestamps)
    runs: int
    failed_runs: int
    watcher_cpu_s: float  # the launching and watching process
    dashboard_cpu_s: float | None = None  # the dashboard open on its Backfills tab through the side
    side_seconds: float = 0.0  # wall time of the side, the dashboard's window

    @property
    def dashboard_share(self) -> float | None:
        if self.dashboard_cpu_s is None or self.side_seconds <= 0:
            return None
        return self.dashboard_cpu_s / self.side_seconds

    @property
    def runs_per_minute(self) -> float:
        return self.runs / (self.seconds / 60) if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"{self.side:16} {self.partitions:5d} partitions  {self.status:18} {self.seconds:8.1f} s  "
            f"{self.runs:4d} runs ({self.failed_runs} failed)  {self.runs_per_minute:6.1f} runs/min  "
            f"watcher CPU {self.watcher_cpu_s:6.2f} s"
            + (
                f"  dashboard CPU {self.dashboard_cpu_s:6.1f} s ({100 * share:.2f} % of a core)"
                if self.dashboard_cpu_s is not None and (share := self.dashboard_share) is not None
                else ""
            )
        )


def day_range(side: str, partitions: int) -> tuple[str, str]:
    first = FIRST[side]
    return first.isoformat(), (first + timedelta(days=partitions - 1)).isoformat()


def params(first: str, last: str) -> dict[str, Any]:
    return {
        "partitionsByAssets": [
            {"assetKey": {"path": list(key)}, "partitions": {"ranges": [{"start": first, "end": last}]}}
            for key in DAY_ASSETS
        ],
        "title": f"backfill bench {first}..{last}",
    }


def wait_quiet(gql: Gql, deadline: float) -> None:
    """Until no run is queued or in flight: each side starts on an empty queue."""
    while gql.query(IN_FLIGHT)["runsOrError"]["count"]:
        if time.monotonic() > deadline:
            raise TimeoutError("runs still in flight at the bench's deadline")
        time.sleep(1)


def figure(gql: Gql, side: str, partitions: int, backfill_id: str, cpu: float) -> Figure:
    info = gql.query(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
    runs = gql.query(BACKFILL_RUNS, {"id": backfill_id})["runsOrError"]
    return Figure(
        side=side,
        partitions=partitions,
        backfill_id=backfill_id,
        status=str(info["status"]),
        seconds=float(info["endTimestamp"] or time.time()) - float(info["timestamp"]),
        runs=int(runs["count"]),
        failed_runs=sum(1 for r in runs["results"] if r["status"] != "SUCCESS"),
        watcher_cpu_s=cpu,
    )


def edp_tui_side(gql: Gql, url: str, partitions: int, timeout: float) -> Figure:
    first, last = day_range("edp-tui", partitions)
    cmd = [str(EDP_TUI), "--webserver-url", url, "backfill", *("/".join(k) for k in DAY_ASSETS)]
    cmd += ["--from", first, "--to", last, "--wait", "--timeout", str(int(timeout))]
    cpu0 = children_cpu()
    proc = subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=timeout + 60
    )
    out, cpu = proc.stdout, children_cpu() - cpu0
    backfill_id = out.split()[0] if out.split() else ""
    if not backfill_id:
        raise RuntimeError(f"edp-tui backfill printed no backfill id (exit {proc.returncode})")
    # --wait returns when the backfill ends; Dagster stamps endTimestamp in the same daemon tick.
    return figure(gql, "edp-tui", partitions, backfill_id, cpu)


def children_cpu() -> float:
    """User + system CPU of the children reaped so far (the edp-tui process, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def graphql_side(gql: Gql, url: str, partitions: int, timeout: float) -> Figure:
    from dagster_graphql import DagsterGraphQLClient

    parsed = urlparse(url)
    client = DagsterGraphQLClient(parsed.hostname or "127.0.0.1", port_number=parsed.port)
    first, last = day_range("dagster-graphql", partitions)
    cpu0 = time.process_time()
    # The client has no backfill method: its `_execute` (pinned in tests/unit/test_platform_contracts.py)
    # sends any document, as a user of the official client does for what it does not wrap.
    result = client._execute(LAUNCH_BACKFILL, {"params": params(first, last)})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(f"launchPartitionBackfill: {result}")
    backfill_id = str(result["backfillId"])
    deadline = time.monotonic() + timeout
    while True:
        status = client._execute(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]["status"]
        if status in DONE:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"backfill {backfill_id} still {status} after {timeout:.0f} s")
        time.sleep(1)
    return figure(gql, "dagster-graphql", partitions, backfill_id, time.process_time() - cpu0)


def dashboard_ready(screen: str) -> bool:
    """The Backfills tab read: the partitions overview's counts and the queue's pools."""
    return " missing of " in screen and "Queue and pools" in screen


def with_dashboard(
    side: Any, dash_args: list[str] | None, gql: Gql, url: str, partitions: int, timeout: float
) -> Figure:
    """One side, with the dashboard open on its Backfills tab through it when ``dash_args`` are given."""
    if dash_args is None:
        t0 = time.monotonic()
        result: Figure = side(gql, url, partitions, timeout)
        result.side_seconds = time.monotonic() - t0
        return result
    with TmuxDashboard(dash_args) as dash:
        dash.wait_for(lambda s: "postgres" in s, 60, 0.2)
        dash.keys("6")
        dash.wait_for(dashboard_ready, 120, 0.2)
        pid = dash.pid()
        c0, t0 = cpu_seconds(pid), time.monotonic()
        result = side(gql, url, partitions, timeout)
        result.side_seconds = time.monotonic() - t0
        result.dashboard_cpu_s = cpu_seconds(pid) - c0
    return result


def measure(url: str, sizes: list[int], timeout: float, dash_args: list[str] | None = None) -> list[Figure]:
    gql = Gql(url)
    # The reference data the day loads read, once (a run of ingestion_job for DEMO_DAY).
    launch = gql.query(
        Gql.LAUNCH,
        {
            "params": {
                "selector": {
                    "repositoryLocationName": "etl_pipeline",
                    "repositoryName": "__repository__",
                    "jobName": "ingestion_job",
                },
                "executionMetadata": {"tags": [{"key": PARTITION_TAG, "value": DEMO_DAY}]},
            }
        },
    )["launchRun"]
    if launch["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"ingestion_job for {DEMO_DAY}: {launch}")
    status = gql.wait_finished(launch["run"]["runId"], timeout=600, interval=0.5)
    if status != "SUCCESS":
        raise RuntimeError(f"ingestion_job for {DEMO_DAY} ended {status}")
    figures = []
    for n in sizes:
        for side in (edp_tui_side, graphql_side):
            wait_quiet(gql, time.monotonic() + timeout)
            print(f"  {side.__name__} {n}: {load_line()}", flush=True)
            result = with_dashboard(side, dash_args, gql, url, n, timeout)
            print("  " + result.line(), flush=True)
            figures.append(result)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partitions", default="30,365", help="comma-separated sizes (default 30,365)")
    parser.add_argument("--webserver-url", help="a running stack's webserver instead of a process stack")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds a backfill may take")
    parser.add_argument(
        "-p", "--project", help="with --webserver-url: its compose project, for the dashboard's CPU"
    )
    parser.add_argument("--compose-file", type=Path, default=REPO / "stack" / "docker-compose.yaml")
    args = parser.parse_args()
    if args.project and not args.webserver_url:
        parser.error("-p needs --webserver-url (the compose stack's webserver)")
    sizes = [int(s) for s in args.partitions.split(",") if s.strip()]
    if not sizes or min(sizes) < 1 or max(sizes) > 365:
        parser.error("--partitions: sizes from 1 to 365 (each side's range is one year long)")
    print(f"before: {load_line()}", flush=True)
    t0 = time.monotonic()
    if args.webserver_url:
        dash_args = None
        if args.project:
            dash_args = ["--read-only", "--compose-file", str(args.compose_file), "-p", args.project]
            dash_args += ["--webserver-url", args.webserver_url]
        figures = measure(args.webserver_url, sizes, args.timeout, dash_args)
    else:
        with tempfile.TemporaryDirectory(prefix="edp-backfill-bench-") as tmp:
            with process_stack(Path(tmp)) as stack:
                print(
                    f"process stack up in {time.monotonic() - t0:.0f} s ({stack.webserver_url})", flush=True
                )
                figures = measure(stack.webserver_url, sizes, args.timeout)
    print(f"after: {load_line()}")
    print("\nbackfills of retail_raw/orders (+ order_items, payments), launch to the backfill's end:")
    for f in figures:
        print(f.line())
    return (
        0 if all(f.status in {"COMPLETED", "COMPLETED_SUCCESS"} and not f.failed_runs for f in figures) else 1
    )


if __name__ == "__main__":
    sys.exit(main())
