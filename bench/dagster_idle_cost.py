"""Cost at rest: CPU of the dashboard and of the webserver container while the dashboard idles on each tab,
and the time from start to every panel populated, each beside a peer measured in the same run.

    .venv/bin/python bench/dagster_idle_cost.py [--webserver-url http://127.0.0.1:3000]
        [--container edp-dagster-webserver-1] [--project edp] [--window 15] [--tabs runs,assets] [--samples 3]

Read-only against any stack (the dashboard runs with read_only=True and only queries): fine on the lead's.
The dashboard runs headless (Textual's run_test) in this process with an in-memory Docker source and no logs
backend, so the figures are its Dagster side: the CPU time of this process over a fixed window (everything the
app does: polls, JSON, table updates, painting) and the webserver container's CPU (docker stats) over the same
window minus a baseline window measured just before with the dashboard not running (other clients of the
webserver keep running: the difference is what the dashboard adds).

Peers, same run: (1) raw GraphQL: the same operations at the same rate as the dashboard sent them on the
Runs tab, replayed by plain httpx (what any client of that API pays); (2) `docker compose ps` (the CLI status
peer): CPU of one call, as a cadence of one per 2 s. Bounded: every wait has a timeout; the whole run takes
about (tabs + 3) x window seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import docker  # noqa: E402
import httpx  # noqa: E402
from harness import headless_backends  # noqa: E402
from textual.widgets import Static  # noqa: E402

from edp_tui.config import Config  # noqa: E402
from edp_tui.dagster.client import DagsterClient, document  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.widgets.dagster.assets import AssetsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.locations import LocationsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.runs import RunsPanel  # noqa: E402
from edp_tui.ui.widgets.dagster.schedules import SchedulesPanel  # noqa: E402

SIZE = (160, 45)
TABS = {
    "logs": "tab-logs",
    "runs": "tab-runs",
    "locations": "tab-locations",
    "schedules": "tab-schedules",
    "assets": "tab-assets",
}
SETTLE_S = 2.0


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests by GraphQL operation name, then hands them to the real transport."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.counts: collections.Counter[str] = collections.Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            self.counts[json.loads(request.content).get("operationName", "?")] += 1
        except ValueError:
            self.counts["?"] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class ContainerCpu:
    """Cumulative CPU seconds of one container, from the engine's stats (read-only)."""

    def __init__(self, name: str) -> None:
        self.container = docker.from_env().containers.get(name)

    def seconds(self) -> float:
        stats = self.container.stats(stream=False, one_shot=True)
        return float(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9


def cpu_s() -> float:
    return time.process_time()


def pct(cpu: float, wall: float) -> str:
    return f"{100 * cpu / wall:5.2f} %"


def dashboard(url: str, transport: CountingTransport) -> EdpApp:
    config = Config(compose_file=Path("/nonexistent/compose.yaml"), read_only=True)
    client = DagsterClient(url.rstrip("/") + "/graphql", read_only=True, transport=transport)
    return EdpApp(
        config,
        headless_backends(client, url),
        logs_panel_factory=lambda: Static("(logs)"),
    )


def populated(app: EdpApp, *, assets: bool = True) -> bool:
    web, daemon = app.header.backend("webserver"), app.header.backend("daemon")
    return (
        app.query_one(RunsPanel).populated
        and bool(app.query_one(LocationsPanel).locations)
        and app.query_one(SchedulesPanel).populated
        and (app.query_one(AssetsPanel).populated or not assets)
        and web is not None
        and web.level == "ok"
        and daemon is not None
    )


async def wait(predicate: Callable[[], bool], timeout: float = 60.0) -> float:
    t0 = time.perf_counter()
    while not predicate():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"not within {timeout}s")
        await asyncio.sleep(0.005)
    return time.perf_counter() - t0


async def startup(url: str, samples: int) -> tuple[list[float], list[float], list[float]]:
    """(start -> every panel but Assets, start -> every panel, the raw queries in sequence)."""
    core: list[float] = []
    ui: list[float] = []
    peer: list[float] = []
    async with httpx.AsyncClient(trust_env=False, timeout=60) as http:
        for _ in range(samples):
            t0 = time.perf_counter()
            app = dashboard(url, CountingTransport())
            async with app.run_test(size=SIZE) as pilot:
                await wait(lambda app=app: populated(app, assets=False))
                core.append(time.perf_counter() - t0)
                await wait(lambda app=app: populated(app))
                await pilot.pause()
                ui.append(time.perf_counter() - t0)
            # The queries those panels need, one after the other (Schedules/Sensors without a selector
            # would be refused: Workspace + RunsLean + Assets + DaemonHealth are the peer).
            t1 = time.perf_counter()
            for name, variables in (
                ("Workspace", None),
                ("RunsLean", {"limit": 50}),
                ("Assets", None),
                ("DaemonHealth", None),
            ):
                await http.post(
                    url.rstrip("/") + "/graphql",
                    json={"query": document(name), "variables": variables or {}, "operationName": name},
                )
            peer.append(time.perf_counter() - t1)
    return core, ui, peer


async def idle_tabs(
    url: str, tabs: list[str], window: float, webserver: ContainerCpu | None
) -> dict[str, tuple[float, float | None, collections.Counter[str]]]:
    out: dict[str, tuple[float, float | None, collections.Counter[str]]] = {}
    transport = CountingTransport()
    app = dashboard(url, transport)
    async with app.run_test(size=SIZE) as pilot:
        await wait(lambda: populated(app))
        for tab in tabs:
            app.action_show_tab(TABS[tab])
            await pilot.pause(SETTLE_S)
            transport.counts.clear()
            ws0 = webserver.seconds() if webserver else None
            c0, t0 = cpu_s(), time.perf_counter()
            await asyncio.sleep(window)
            c1, t1 = cpu_s(), time.perf_counter()
            ws = webserver.seconds() - ws0 if webserver and ws0 is not None else None
            out[tab] = (
                (c1 - c0) / (t1 - t0),
                None if ws is None else ws / (t1 - t0),
                collections.Counter(transport.counts),
            )
    return out


async def raw_replay(
    url: str, rates: collections.Counter[str], window: float, webserver: ContainerCpu | None
) -> tuple[float, float | None]:
    """The same operations at the same per-window counts, evenly spread, by plain httpx."""
    async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
        first = await http.post(
            url.rstrip("/") + "/graphql",
            json={"query": document("RunsLean"), "variables": {"limit": 1}, "operationName": "RunsLean"},
        )
    results = first.json()["data"]["runsOrError"].get("results") or []
    run_id = results[0]["runId"] if results else "00000000-0000-0000-0000-000000000000"
    variables: dict[str, Any] = {
        "RunsLean": {"limit": 50},
        "Run": {"runId": run_id},
        "RunEvents": {"runId": run_id, "limit": 1000},
    }
    plan: list[tuple[float, str]] = []
    for name, count in rates.items():
        if name in ("Workspace", "RunsLean", "Assets", "DaemonHealth", "Run", "RunEvents"):
            plan += [(i * window / count, name) for i in range(count)]
    plan.sort()
    ws0 = webserver.seconds() if webserver else None
    c0, t0 = cpu_s(), time.perf_counter()
    async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
        for at, name in plan:
            await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
            await http.post(
                url.rstrip("/") + "/graphql",
                json={"query": document(name), "variables": variables.get(name) or {}, "operationName": name},
            )
        await asyncio.sleep(max(0.0, t0 + window - time.perf_counter()))
    c1, t1 = cpu_s(), time.perf_counter()
    ws = webserver.seconds() - ws0 if webserver and ws0 is not None else None
    return (c1 - c0) / (t1 - t0), None if ws is None else ws / (t1 - t0)


def compose_ps_cost(project: str, calls: int = 3) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one `docker compose -p <project> ps` (the client side)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    for _ in range(calls):
        subprocess.run(
            ["docker", "compose", "-p", project, "ps"], capture_output=True, timeout=60, check=False
        )
    wall = (time.perf_counter() - t0) / calls
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / calls
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--webserver-url", default="http://127.0.0.1:3000")
    parser.add_argument("--container", default="edp-dagster-webserver-1", help="the webserver container")
    parser.add_argument("--project", default="edp", help="compose project for the `docker compose ps` peer")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per tab")
    parser.add_argument("--tabs", default=",".join(TABS), help="comma-separated: " + ",".join(TABS))
    parser.add_argument("--samples", type=int, default=3, help="start-up samples")
    args = parser.parse_args()
    tabs = [t.strip() for t in args.tabs.split(",") if t.strip()]
    if unknown := [t for t in tabs if t not in TABS]:
        parser.error(f"unknown tab(s): {', '.join(unknown)}")
    try:
        webserver: ContainerCpu | None = ContainerCpu(args.container)
    except docker.errors.DockerException as exc:
        print(f"(no webserver container figures: {exc})")
        webserver = None

    print(f"webserver {args.webserver_url}, container {args.container}, window {args.window:.0f} s")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())}")
    baseline = None
    if webserver:
        s0, t0 = webserver.seconds(), time.perf_counter()
        time.sleep(args.window)
        baseline = (webserver.seconds() - s0) / (time.perf_counter() - t0)
        print(f"\nwebserver baseline (dashboard not running, other clients as they are): {pct(baseline, 1)}")

    core, ui, peer = asyncio.run(startup(args.webserver_url, args.samples))
    print("\nstart -> every Dagster panel populated (goal <= 0.5 s)")
    print(f"  dashboard, all but Assets: {' '.join(f'{x:.3f}' for x in core)} s")
    print(
        f"  dashboard: {' '.join(f'{x:.3f}' for x in ui)} s   raw queries in sequence: "
        f"{' '.join(f'{x:.3f}' for x in peer)} s"
    )

    figures = asyncio.run(idle_tabs(args.webserver_url, tabs, args.window, webserver))
    print("\nidle, per tab (goal: dashboard <= 1 % of a core, <= 1 % added to the webserver)")
    print(f"  {'tab':<10} {'dashboard':>10} {'webserver added':>16}   requests in the window")
    for tab, (own, ws, counts) in figures.items():
        added = "-" if ws is None or baseline is None else pct(ws - baseline, 1)
        reqs = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
        print(f"  {tab:<10} {pct(own, 1):>10} {added:>16}   {reqs}")

    runs_counts = figures.get("runs", next(iter(figures.values())))[2]
    own, ws = asyncio.run(raw_replay(args.webserver_url, runs_counts, args.window, webserver))
    added = "-" if ws is None or baseline is None else pct(ws - baseline, 1)
    print(f"  {'raw peer':<10} {pct(own, 1):>10} {added:>16}   the Runs tab's queries by plain httpx")

    cpu, wall = compose_ps_cost(args.project)
    print(
        f"\n`docker compose -p {args.project} ps`: {cpu * 1000:.0f} ms CPU, {wall * 1000:.0f} ms wall a call"
        f" (= {pct(cpu, 2.0)} of a core at one call per 2 s, client side only)"
    )


if __name__ == "__main__":
    main()
