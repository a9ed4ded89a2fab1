"""Figures for the dashboard's Dagster side, measured on the process stack, each beside a raw GraphQL peer.

    .venv/bin/python bench/dagster_bench.py [--runs 10000] [--samples 15]

The dashboard runs headless (Textual's run_test) in this process against a real webserver, and its screen is
read back from the compositor: a figure is the time until something is *painted*, not until a call returned.

1. runs panel refresh (fetch + table update) with 100 vs N runs in history (goal: flat), beside the raw
   RunsLean query for the same page;
2. run status change -> screen (goal <= 1 s), beside a raw GraphQL poll at 50 ms that sees the same change;
3. dashboard start -> every Dagster panel populated and the header's webserver/daemon states set
   (goal <= 0.6 s), beside the raw queries those panels need, run one after the other;
4. reload key -> the new definitions on screen (a job added to a temporary copy of the code), beside the raw
   reloadRepositoryLocation mutation.

Runs for the history are written straight into the instance's run storage with Dagster's own API (launching
10,000 runs through the daemon would take hours); status changes go through the same storage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from harness import Stack, copy_code, headless_backends, process_stack, screen_text  # noqa: E402
from textual.widgets import DataTable, Static, TabbedContent  # noqa: E402

from edp_tui.backends import dagster_client  # noqa: E402
from edp_tui.config import Config  # noqa: E402
from edp_tui.dagster.client import document  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.widgets.dagster.locations import LocationsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.runs import PAGE_SIZE, RunsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel  # noqa: E402

SIZE = (200, 50)

# Runs the instance API writes (a subprocess with the stack's environment: it imports dagster).
ADD_RUNS = """
import sys, uuid
from dagster import DagsterInstance
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus
instance = DagsterInstance.get()
n = int(sys.argv[1])
statuses = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
for i in range(n):
    instance.add_run(DagsterRun(job_name="ingestion_job", run_id=str(uuid.uuid4()), status=statuses[i % 3],
                                tags={"bench": "history"}))
print(n)
"""
# Reads commands from stdin: "new x" adds a STARTED run (prints its id), "<run_id> <status>" ends it.
SET_STATUS = """
import sys
from dagster import DagsterInstance
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus
instance = DagsterInstance.get()
print("ready", flush=True)
for line in sys.stdin:
    run_id, status = line.split()
    if run_id == "new":
        run = DagsterRun(job_name="ingestion_job", status=DagsterRunStatus.STARTED, tags={"bench": "status"})
        instance.add_run(run)
        print(run.run_id, flush=True)
        continue
    run = instance.get_run_by_id(run_id)
    if status == "FAILURE":
        instance.report_run_failed(run)
    else:
        instance.report_run_canceled(run)
    print("done", flush=True)
"""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {median(values) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  (n={len(values)})"


def raw(stack: Stack, name: str, variables: dict[str, Any] | None = None) -> tuple[float, Any]:
    t0 = time.perf_counter()
    resp = httpx.post(
        stack.graphql_url, json={"query": document(name), "variables": variables or {}}, timeout=60
    )
    return time.perf_counter() - t0, resp.json()


def dashboard(stack: Stack) -> EdpApp:
    config = Config(compose_file=Path("/nonexistent/compose.yaml"))
    client = dagster_client(config, stack.webserver_url)
    return EdpApp(
        config,
        headless_backends(client, stack.webserver_url),
        logs_panel_factory=lambda: Static("(logs)"),
    )


async def wait(
    pilot: Any, predicate: Callable[[], bool], timeout: float = 60.0, step: float = 0.005
) -> float:
    t0 = time.perf_counter()
    while not predicate():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"not within {timeout}s; screen:\n{screen_text(pilot.app)}")
        await asyncio.sleep(step)
    return time.perf_counter() - t0


def add_runs(stack: Stack, n: int) -> float:
    t0 = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", ADD_RUNS, str(n)], env=stack.env, check=True, capture_output=True, timeout=3600
    )
    return time.monotonic() - t0


def run_count(stack: Stack) -> int:
    return int(stack.graphql("query { runsOrError { ... on Runs { count } } }")["runsOrError"]["count"])


# ---- 1. runs panel refresh vs history size ----------------------------------------------------------------
async def refresh_figures(stack: Stack, samples: int) -> tuple[list[float], list[float]]:
    panel_times: list[float] = []
    raw_times: list[float] = []
    app = dashboard(stack)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#main", TabbedContent).active = "tab-runs"
        runs = app.query_one(RunsPanel)
        await wait(pilot, lambda: runs.populated)
        for _ in range(samples):
            t0 = time.perf_counter()
            await runs.poll_once()  # what each poll of the panel does: fetch the page, update the table
            await pilot.pause()  # and paint it
            panel_times.append(time.perf_counter() - t0)
            raw_times.append(raw(stack, "RunsLean", {"limit": PAGE_SIZE})[0])
    return panel_times, raw_times


# ---- 2. status change -> screen ---------------------------------------------------------------------------
async def status_change_figures(stack: Stack, samples: int) -> tuple[list[float], list[float]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SET_STATUS],
        env=stack.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin and proc.stdout
    assert proc.stdout.readline().strip() == "ready"

    def ask(line: str) -> str:
        assert proc.stdin and proc.stdout
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    screen_times: list[float] = []
    peer_times: list[float] = []
    app = dashboard(stack)
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.query_one("#main", TabbedContent).active = "tab-runs"
            runs = app.query_one(RunsPanel)
            await wait(pilot, lambda: runs.populated)
            for i in range(samples):
                run_id = ask("new x")
                short = run_id[:8]

                def row(short: str = short) -> str:
                    return next((ln for ln in screen_text(app).splitlines() if short in ln), "")

                await wait(pilot, lambda: "STARTED" in row(), timeout=30)
                status = "FAILURE" if i % 2 else "CANCELED"
                ask(f"{run_id} {status}")
                written = time.perf_counter()
                # Peer: a raw poll every 50 ms (in a thread, so the dashboard keeps its event loop).
                peer = asyncio.create_task(asyncio.to_thread(poll_raw_until, stack, run_id, status, written))
                await wait(pilot, lambda s=status: s in row(), timeout=30)
                screen_times.append(time.perf_counter() - written)
                peer_times.append(await peer)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return screen_times, peer_times


def poll_raw_until(stack: Stack, run_id: str, status: str, since: float) -> float:
    query = "query ($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
    with httpx.Client(timeout=30) as client:
        while True:
            body = client.post(stack.graphql_url, json={"query": query, "variables": {"id": run_id}}).json()
            if body["data"]["runOrError"]["status"] == status:
                return time.perf_counter() - since
            time.sleep(0.05)


# ---- 3. start -> all panels populated ---------------------------------------------------------------------
async def startup_figures(stack: Stack, samples: int) -> tuple[list[float], list[float]]:
    ui_times: list[float] = []
    peer_times: list[float] = []
    selector = {
        "repositorySelector": {
            "repositoryLocationName": stack.location_name,
            "repositoryName": "__repository__",
        }
    }
    for _ in range(samples):
        t0 = time.perf_counter()
        app = dashboard(stack)
        async with app.run_test(size=SIZE) as pilot:

            def populated(app: EdpApp = app) -> bool:
                header = app.header
                web, daemon = header.backend("webserver"), header.backend("daemon")
                return (
                    app.query_one(RunsPanel).populated
                    and bool(app.query_one(LocationsPanel).locations)
                    and app.query_one(SchedulesPanel).populated
                    and web is not None
                    and web.level == "ok"
                    and daemon is not None
                    and daemon.level in ("ok", "warn", "error")
                )

            await wait(pilot, populated, timeout=60)
            await pilot.pause()
            ui_times.append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        for name, variables in (
            ("Workspace", None),
            ("RunsLean", {"limit": PAGE_SIZE}),
            ("Schedules", selector),
            ("Sensors", selector),
            ("DaemonHealth", None),
        ):
            raw(stack, name, variables)
        peer_times.append(time.perf_counter() - t1)
    return ui_times, peer_times


# ---- 4. reload key -> new definitions on screen -----------------------------------------------------------
EXTRA_JOB = """

bench_extra_job_{n} = dg.define_asset_job(
    "bench_extra_job_{n}", selection=dg.AssetSelection.assets(raw_retail_data)
)
defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[bench_extra_job_{n}]))
"""


async def reload_figures(stack: Stack, samples: int) -> tuple[list[float], list[float]]:
    definitions = stack.code_root / "etl_pipeline" / "src" / "etl_pipeline" / "definitions.py"
    original = definitions.read_text()
    ui_times: list[float] = []
    peer_times: list[float] = []
    app = dashboard(stack)
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.query_one("#main", TabbedContent).active = "tab-locations"
            panel = app.query_one(LocationsPanel)
            await wait(pilot, lambda: bool(panel.locations))
            app.query_one("#locations-table", DataTable).focus()
            for n in range(samples):
                jobs_before = len(panel.locations[stack.location_name].visible_jobs())
                definitions.write_text(definitions.read_text() + EXTRA_JOB.format(n=n))
                want = f"{jobs_before + 1} jobs"
                t0 = time.perf_counter()
                await pilot.press("r")
                await wait(pilot, lambda w=want: w in screen_text(app), timeout=120)
                ui_times.append(time.perf_counter() - t0)
                await wait(pilot, lambda: panel.reloading is None, timeout=60)
                # Peer: the raw mutation after one more job was added.
                definitions.write_text(definitions.read_text() + EXTRA_JOB.format(n=f"{n}_peer"))
                took, body = raw(stack, "ReloadLocation", {"name": stack.location_name})
                assert body["data"]["reloadRepositoryLocation"]["__typename"] == "WorkspaceLocationEntry"
                peer_times.append(took)
                panel.wake()
                await wait(
                    pilot,
                    lambda b=jobs_before: len(panel.locations[stack.location_name].visible_jobs()) == b + 2,
                )
    finally:
        definitions.write_text(original)
        raw(stack, "ReloadLocation", {"name": stack.location_name})
    return ui_times, peer_times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the large history (default 10000)")
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="dagster-bench-") as tmp:
        code_root = copy_code(Path(tmp) / "repo")
        with process_stack(Path(tmp) / "run", code_root) as stack:
            print(f"stack up: {json.dumps({k: round(v, 1) for k, v in stack.timings.items()})} s", flush=True)
            print(f"writing 100 runs: {add_runs(stack, 100 - run_count(stack)):.1f}s", flush=True)
            small = asyncio.run(refresh_figures(stack, args.samples))
            print(
                f"writing {args.runs - 100} more runs: {add_runs(stack, args.runs - run_count(stack)):.1f}s",
                flush=True,
            )
            large = asyncio.run(refresh_figures(stack, args.samples))
            results["history"] = run_count(stack)
            status = asyncio.run(status_change_figures(stack, max(5, args.samples // 2)))
            startup = asyncio.run(startup_figures(stack, max(3, args.samples // 3)))
            reload = asyncio.run(reload_figures(stack, max(3, args.samples // 3)))

    print()
    print("1. runs panel refresh (fetch page of 50 + update table + paint)")
    print(f"   100 runs      dashboard {fmt(small[0])}")
    print(f"                 raw query {fmt(small[1])}")
    print(f"   {results['history']:<6} runs  dashboard {fmt(large[0])}")
    print(f"                 raw query {fmt(large[1])}")
    ratio = median(large[0]) / median(small[0])
    print(f"   large/small ratio (dashboard medians): {ratio:.2f}  (goal: flat, ~1)")
    print("2. run status change -> on screen (goal <= 1000 ms)")
    print(f"   dashboard          {fmt(status[0])}")
    print(f"   raw poll @50 ms    {fmt(status[1])}")
    print("3. dashboard start -> all Dagster panels populated + header states (goal <= 600 ms)")
    print(f"   dashboard          {fmt(startup[0])}")
    print(f"   raw queries        {fmt(startup[1])}")
    print("4. reload key -> new job count on screen")
    print(f"   dashboard          {fmt(reload[0])}")
    print(f"   raw reload         {fmt(reload[1])}")


if __name__ == "__main__":
    main()
