"""Run status change -> on screen: from the change's own timestamp in Dagster to the moment the dashboard's
runs table shows it, per transition (QUEUED, STARTING, STARTED, SUCCESS/FAILURE), beside two peers.

    .venv/bin/python bench/run_status_latency.py --webserver-url http://127.0.0.1:3013 [--runs 5]
        [--job ingestion_job] [--rest 6] [--timeout 900]

Launches runs (it is not read-only: use your own stack, not the lead's). The dashboard runs headless
(Textual's run_test) in this process on the Runs tab, with its real Dagster client and an in-memory Docker
source (the Docker side plays no part in a run's status). Runs are launched one at a time by plain GraphQL
(as another client would: the dashboard learns of them by itself; every ``--here-every``-th then handed to the
list as the launch dialog does), each after the dashboard has been at rest
for ``--rest`` s. A watcher samples the runs table every 5 ms and notes when each run's Status cell first
shows a status (or a later one: a status that never showed by itself counts at the first later one, and is
counted as skipped). The change's own time is its event's timestamp in Dagster's event log (RUN_ENQUEUED,
RUN_STARTING, RUN_START, RUN_SUCCESS/RUN_FAILURE/RUN_CANCELED, read back with logsForRun once the run ended).

Peers, same runs, same process: (1) raw poll: RunsLean (50 runs) by plain httpx at the runs list's live
cadence (`RunsPanel.poll_interval`); (2) raw push: a `pipelineRunLogs` subscription opened right after the
launch (it knows the run id at once: a floor for push). Every wait has a deadline; whatever happens, it
prints what it measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from harness import headless_backends  # noqa: E402
from textual.widgets import Static  # noqa: E402

from edp_tui.config import Config  # noqa: E402
from edp_tui.dagster.client import DagsterClient, document  # noqa: E402
from edp_tui.dagster.models import RunSummary  # noqa: E402
from edp_tui.dagster.run_push import EVENT_STATUS, STATUS_RANK  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.widgets.dagster.runs import RunsPanel  # noqa: E402

SIZE = (160, 45)
TRANSITIONS = ("QUEUED", "STARTING", "STARTED", "END")
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")
SAMPLE_S = 0.005
Seen = dict[str, dict[str, float]]  # run id -> transition -> wall time first seen


def transition(status: str) -> str | None:
    if status in TERMINAL:
        return "END"
    return status if status in TRANSITIONS else None


def note(seen: Seen, skipped: dict[str, set[str]], run_id: str, status: str, at: float) -> None:
    """Status ``status`` seen at ``at``: it and every earlier transition not seen yet (those are skipped)."""
    marks = seen.setdefault(run_id, {})
    rank = STATUS_RANK.get(status, -1)
    for name in TRANSITIONS:
        name_rank = 5 if name == "END" else STATUS_RANK[name]
        if name_rank <= rank and name not in marks:
            marks[name] = at
            if name != transition(status):
                skipped.setdefault(run_id, set()).add(name)


def gql(name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"query": document(name), "variables": variables or {}, "operationName": name}


async def post(http: httpx.AsyncClient, url: str, name: str, variables: dict[str, Any] | None = None) -> Any:
    response = await http.post(url, json=gql(name, variables), timeout=60)
    return response.json()["data"]


class Observer:
    """Everything one way of watching saw: first-seen times and skipped transitions per run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: Seen = {}
        self.skipped: dict[str, set[str]] = {}

    def saw(self, run_id: str, status: str) -> None:
        note(self.seen, self.skipped, run_id, status, time.time())


async def watch_table(app: EdpApp, runs: set[str], obs: Observer, stop: asyncio.Event) -> None:
    panel = app.query_one(RunsPanel)
    table = panel.table
    while not stop.is_set():
        for run_id in runs:
            try:
                status = table.get_cell(run_id, "status").plain
            except Exception:  # noqa: BLE001 - the row is not there yet
                continue
            obs.saw(run_id, status)
        await asyncio.sleep(SAMPLE_S)


async def raw_poll(url: str, runs: set[str], obs: Observer, stop: asyncio.Event, every: float) -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                data = await post(http, url, "RunsLean", {"limit": 50})
                for run in data["runsOrError"].get("results") or []:
                    if run["runId"] in runs:
                        obs.saw(run["runId"], run["status"])
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            await asyncio.sleep(max(0.0, every - (time.perf_counter() - t0)))


async def raw_push(client: DagsterClient, run_id: str, obs: Observer) -> None:
    async for changes in client.run_status_changes(run_id):
        for change in changes:
            obs.saw(run_id, change.status)
        if obs.seen.get(run_id, {}).get("END"):
            return


async def event_times(http: httpx.AsyncClient, url: str, run_id: str) -> dict[str, float]:
    """transition -> the event's own timestamp (epoch seconds), from the run's event log."""
    out: dict[str, float] = {}
    cursor = None
    for _ in range(50):
        data = await post(http, url, "RunEvents", {"runId": run_id, "afterCursor": cursor, "limit": 1000})
        page = data["logsForRun"]
        for event in page.get("events") or []:
            status = EVENT_STATUS.get(event.get("eventType") or "")
            name = transition(status) if status else None
            if name and name not in out and event.get("timestamp"):
                out[name] = float(event["timestamp"]) / 1000.0
        cursor = page.get("cursor")
        if not page.get("hasMore"):
            break
    return out


async def wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def dashboard(url: str) -> EdpApp:
    config = Config(compose_file=Path("/nonexistent/compose.yaml"), read_only=True)
    client = DagsterClient(url.rstrip("/") + "/graphql", read_only=True)
    return EdpApp(
        config,
        headless_backends(client, url),
        logs_panel_factory=lambda: Static("(logs)"),
    )


def summary(values: list[float]) -> str:
    if not values:
        return "     -        -        -   (n=0)"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):6.3f}  {p95:6.3f}  {ordered[-1]:6.3f}  (n={len(ordered)})"


async def bench(args: argparse.Namespace) -> None:
    url = args.webserver_url.rstrip("/") + "/graphql"
    deadline = time.perf_counter() + args.timeout
    observers = {
        "dashboard": Observer("dashboard"),
        "raw poll": Observer("raw poll"),
        "raw push": Observer("raw push"),
    }
    truth: dict[str, dict[str, float]] = {}
    launched: set[str] = set()
    here: set[str] = set()
    stop = asyncio.Event()
    problems: list[str] = []
    push_client = DagsterClient(url)
    try:
        await measure(args, url, deadline, observers, truth, (launched, here), stop, problems, push_client)
    except Exception as exc:  # noqa: BLE001 - print what was measured whatever happened
        problems.append(f"stopped early: {type(exc).__name__}: {exc}")
    finally:
        await push_client.aclose()
    report(args, observers, truth, here, problems)


async def measure(
    args: argparse.Namespace,
    url: str,
    deadline: float,
    observers: dict[str, Observer],
    truth: dict[str, dict[str, float]],
    runs: tuple[set[str], set[str]],
    stop: asyncio.Event,
    problems: list[str],
    push_client: DagsterClient,
) -> None:
    launched, here = runs
    async with httpx.AsyncClient(trust_env=False, timeout=60) as http:
        workspace = await post(http, url, "Workspace")
        entry = next(
            e
            for e in workspace["workspaceOrError"]["locationEntries"]
            if (e.get("locationOrLoadError") or {}).get("__typename") == "RepositoryLocation"
        )
        location, repo = entry["name"], entry["locationOrLoadError"]["repositories"][0]["name"]
        app = dashboard(args.webserver_url)
        async with app.run_test(size=SIZE):
            app.action_show_tab("tab-runs")
            panel = app.query_one(RunsPanel)
            if not await wait(lambda: panel.populated, 60):
                problems.append("the runs list never populated")
            tasks = [
                asyncio.create_task(watch_table(app, launched, observers["dashboard"], stop)),
                asyncio.create_task(raw_poll(url, launched, observers["raw poll"], stop, args.poll_every)),
            ]
            pushes: list[asyncio.Task[None]] = []
            for i in range(args.runs):
                if time.perf_counter() > deadline:
                    problems.append(f"deadline reached after {i} run(s)")
                    break
                # At rest first: the list settled on its quiet probe, every subscription closed.
                await asyncio.sleep(args.rest)
                subs = len(panel.push.watched) if hasattr(panel, "push") else 0
                if subs:
                    problems.append(f"run {i + 1}: {subs} status subscription(s) still open at rest")
                data = await post(
                    http,
                    url,
                    "LaunchRun",
                    {
                        "executionParams": {
                            "selector": {
                                "repositoryLocationName": location,
                                "repositoryName": repo,
                                "jobName": args.job,
                            },
                            "runConfigData": {},
                        }
                    },
                )
                result = data["launchRun"]
                if result.get("__typename") != "LaunchRunSuccess":
                    problems.append(f"launch {i + 1}: {result.get('__typename')}: {result.get('message')}")
                    continue
                run_id = result["run"]["runId"]
                launched.add(run_id)
                if args.here_every and (i + 1) % args.here_every == 0:
                    # As the launch dialog does on success: the list shows the new run at once.
                    here.add(run_id)
                    panel.select_run(RunSummary.from_graphql(result["run"]))
                pushes.append(asyncio.create_task(raw_push(push_client, run_id, observers["raw push"])))
                budget = min(args.run_timeout, max(1.0, deadline - time.perf_counter()))
                ended = await wait(lambda r=run_id: "END" in observers["dashboard"].seen.get(r, {}), budget)
                await wait(lambda r=run_id: "END" in observers["raw push"].seen.get(r, {}), 5)
                if not ended:
                    problems.append(f"run {run_id[:8]}: the table did not show its end within {budget:.0f} s")
                truth[run_id] = await event_times(http, url, run_id)
                print(f"  run {i + 1}/{args.runs} {run_id[:8]}: {sorted(truth[run_id])}", flush=True)
            stop.set()
            for task in [*tasks, *pushes]:
                task.cancel()
            await asyncio.gather(*tasks, *pushes, return_exceptions=True)


def report(
    args: argparse.Namespace,
    observers: dict[str, Observer],
    truth: dict[str, dict[str, float]],
    here: set[str],
    problems: list[str],
) -> None:
    print(
        f"\nstatus change -> shown, seconds from the event's timestamp in Dagster"
        f" ({len(truth)} runs of {args.job})"
    )
    print(f"  {'transition':<11} {'observer':<10} {'median':>6}  {'p95':>6}  {'max':>6}")
    rows = [("QUEUED", "QUEUED*", set(truth) - here), ("QUEUED", "QUEUED/here", here & set(truth))]
    rows += [(name, name, set(truth)) for name in TRANSITIONS[1:]]
    for name, label, ids in rows:
        if not ids:
            continue
        for obs in observers.values():
            if label == "QUEUED/here" and obs.name != "dashboard":
                continue
            values = [
                obs.seen[r][name] - truth[r][name]
                for r in ids
                if name in truth[r] and name in obs.seen.get(r, {})
            ]
            skipped = sum(1 for r in ids if name in obs.skipped.get(r, set()))
            extra = f"  {skipped} shown only as a later status" if skipped else ""
            print(f"  {label:<11} {obs.name:<10} {summary(values)}{extra}")
    print(
        "\nQUEUED*: a run launched elsewhere, found by the list's probe at rest (nothing pushes new runs);"
        " QUEUED/here: launched as the dashboard's launch dialog does. The later statuses: polled and pushed."
    )
    if problems:
        print("\nproblems:\n  " + "\n  ".join(problems))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--webserver-url", default="http://127.0.0.1:3000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--job", default="ingestion_job")
    parser.add_argument("--rest", type=float, default=6.0, help="seconds at rest before each launch")
    parser.add_argument(
        "--here-every", type=int, default=2, help="every Nth run launched as the dashboard does (0: none)"
    )
    parser.add_argument(
        "--poll-every",
        type=float,
        default=RunsPanel.poll_interval,
        help="the raw poll peer's cadence (default: the runs list's while a run is live)",
    )
    parser.add_argument("--run-timeout", type=float, default=180.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="for the whole bench")
    args = parser.parse_args()
    print(f"webserver {args.webserver_url}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        asyncio.run(asyncio.wait_for(bench(args), args.timeout + 120))
    except TimeoutError:
        print("the bench did not finish within its deadline")


if __name__ == "__main__":
    main()
