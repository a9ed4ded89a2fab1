"""The Assets tab at scale: a dbt project of thousands of models, on the dashboard itself.

    .venv/bin/python bench/assets_scale.py [--assets 1000,3000] [--window 20] [--presses 15]
        [--webserver-url http://127.0.0.1:3310]   # a real stack's assets instead of a generated payload

The dashboard runs headless (Textual's run_test, 160x45) with an in-memory Docker side and the real GraphQL
client; the webserver is an in-process fake answering every query the dashboard makes, the Assets query
with a payload of N generated assets of Dagster's shape (a chain raw -> staging -> mart per model, two
checks each, half materialized): the figures are the dashboard's own work, not the webserver's (a real
webserver takes seconds to compute that answer; see --webserver-url). Per N:

  1. start -> the Assets table filled (its first read runs at start, even on another tab);
  2. key 5 -> the Assets tab painted with its rows, and -> its fresh read shown (goal 0.5 s);
  3. every key answered: End, Home, G, g, pagedown, up, down on the assets table, each posted as the
     terminal driver posts it, until the cursor moved and the next frame was painted (goal 50 ms); and what
     the keys cost, counted: frames painted and layouts of the screen per key, this process's CPU per key
     (the key and the pause after it), Python's full garbage collections meanwhile and their CPU each (a
     full collection walks every object alive: at thousands of assets it was the slowest answers);
  4. the Assets tab at rest: this process's CPU over --window (goal 1 % of a core);
  5. peers: the same payload parsed by json + the client's models, and a bare DataTable filled with N rows
     of plain text (Textual's own cost for the rows).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from harness import headless_backends, load_line, stats  # noqa: E402
from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from edp_tui.config import Config  # noqa: E402
from edp_tui.dagster.assets import AssetInfo  # noqa: E402
from edp_tui.dagster.client import DagsterClient  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.widgets.dagster.assets import AssetsPanel  # noqa: E402

SIZE = (160, 45)
# In an order where each one moves the cursor (from row 0): its answer is the first frame painted after it.
KEYS = ("end", "home", "G", "g", "pagedown", "up", "down")
T0 = 1_767_355_200.0


def asset_node(i: int) -> dict[str, Any]:
    layer = ("raw", "staging", "marts")[i % 3]
    key = [layer, f"model_{i:05d}"]
    upstream = [{"path": ["raw" if layer == "staging" else "staging", f"model_{i - 1:05d}"]}] if i % 3 else []
    downstream = (
        [{"path": ["staging" if layer == "raw" else "marts", f"model_{i + 1:05d}"]}] if i % 3 < 2 else []
    )
    materialized = i % 2 == 1
    execution = {
        "status": "SUCCEEDED",
        "runId": "b2c3d4e5",
        "timestamp": T0,
        "evaluation": {"severity": None},
    }
    return {
        "id": f"etl_pipeline.{'/'.join(key)}",
        "assetKey": {"path": key},
        "groupName": f"group_{i % 10:02d}",
        "isMaterializable": True,
        "isExecutable": True,
        "kinds": ["dbt", "postgres"],
        "opNames": ["dbt_models"],
        "dependencyKeys": upstream,
        "dependedByKeys": downstream,
        "repository": {"name": "__repository__", "location": {"name": "etl_pipeline"}},
        "assetMaterializations": [{"runId": "b2c3d4e5-0000", "timestamp": str(int(T0 * 1000))}]
        if materialized
        else [],
        "assetChecksOrError": {
            "__typename": "AssetChecks",
            "checks": [
                {
                    "name": f"{test}_model_{i:05d}_id",
                    "executionForLatestMaterialization": execution if materialized else None,
                }
                for test in ("not_null", "unique")
            ],
        },
        "staleStatus": "FRESH" if materialized else "MISSING",
        "staleCauses": [],
    }


def assets_payload(count: int) -> dict[str, Any]:
    return {"data": {"assetNodes": [asset_node(i) for i in range(count)]}}


class FakeWebserver(httpx.AsyncBaseTransport):
    """Every query the dashboard makes, answered at once; the Assets query with the generated payload."""

    def __init__(self, count: int) -> None:
        self.body = json.dumps(assets_payload(count)).encode()
        self.calls: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = json.loads(request.content).get("operationName", "?")
        self.calls[name] = self.calls.get(name, 0) + 1
        if name == "Assets":
            return httpx.Response(200, content=self.body, headers={"content-type": "application/json"})
        return httpx.Response(200, json={"data": ANSWERS.get(name, {})})


ANSWERS: dict[str, Any] = {
    "Workspace": {
        "workspaceOrError": {
            "__typename": "Workspace",
            "locationEntries": [
                {
                    "name": "etl_pipeline",
                    "loadStatus": "LOADED",
                    "updatedTimestamp": T0,
                    "locationOrLoadError": {
                        "__typename": "RepositoryLocation",
                        "serverId": "s",
                        "isReloadSupported": True,
                        "repositories": [
                            {"name": "__repository__", "jobs": [], "schedules": [], "sensors": []}
                        ],
                    },
                }
            ],
        }
    },
    "RunsLean": {"runsOrError": {"__typename": "Runs", "results": []}},
    "Schedules": {"schedulesOrError": {"__typename": "Schedules", "results": []}},
    "Sensors": {"sensorsOrError": {"__typename": "Sensors", "results": []}},
    "AssetsChanged": {
        "changed": {"__typename": "Runs", "results": []},
        "live": {"__typename": "Runs", "results": []},
        "workspaceOrError": {
            "__typename": "Workspace",
            "locationEntries": [{"name": "etl_pipeline", "updatedTimestamp": T0}],
        },
    },
    "DaemonHealth": {"instance": {"daemonHealth": {"allDaemonStatuses": []}}},
    # Backfills.graphql: no backfill (the Backfills tab polls it at start).
    "Backfills": {"partitionBackfillsOrError": {"__typename": "PartitionBackfills", "results": []}},
}


def dashboard(count: int, url: str | None) -> tuple[EdpApp, FakeWebserver | None]:
    fake = None if url else FakeWebserver(count)
    base = url or "http://fake-webserver"
    client = DagsterClient(base.rstrip("/") + "/graphql", read_only=True, transport=fake, timeout=120)
    config = Config(compose_file=Path("/nonexistent/compose.yaml"), read_only=True)
    return EdpApp(config, headless_backends(client, base)), fake


async def until(predicate: Any, timeout: float = 120.0) -> float:
    t0 = time.perf_counter()
    while not predicate():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"not within {timeout} s")
        await asyncio.sleep(0.002)
    return time.perf_counter() - t0


# Every frame the compositor paints, timed (perf_counter): a key is answered when the frame after it is.
PAINTED: list[float] = []
_compositor_refresh = Screen._compositor_refresh


def _timed_refresh(self: Screen[Any]) -> None:
    _compositor_refresh(self)
    PAINTED.append(time.perf_counter())


Screen._compositor_refresh = _timed_refresh  # type: ignore[method-assign]

# Layouts of the screen (a reflow of every widget), counted.
LAYOUTS: list[float] = []
_refresh_layout = Screen._refresh_layout


def _counted_layout(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
    LAYOUTS.append(time.perf_counter())
    _refresh_layout(self, *args, **kwargs)


Screen._refresh_layout = _counted_layout  # type: ignore[method-assign]

# Full garbage collections (generation 2): the CPU each took (this thread's).
FULL_GCS: list[float] = []
_gc_started: list[float] = []


def _on_gc(phase: str, info: dict[str, int]) -> None:
    if info["generation"] != 2:
        return
    if phase == "start":
        _gc_started[:] = [time.thread_time()]
    elif _gc_started:
        FULL_GCS.append(time.thread_time() - _gc_started[0])


gc.callbacks.append(_on_gc)


async def key_latency(app: App[Any], table: DataTable[Any], key: str) -> float:
    """Post ``key`` as the terminal driver does; seconds until the cursor moved and a frame showed it."""
    before = table.cursor_row
    sent = time.perf_counter()
    app.post_message(events.Key(key, key if len(key) == 1 else None))
    await until(lambda: table.cursor_row != before, timeout=10)
    handled = time.perf_counter()
    await until(lambda: bool(PAINTED) and PAINTED[-1] > handled, timeout=10)
    return next(p for p in PAINTED if p > handled) - sent


async def measure(count: int, url: str | None, window: float, presses: int) -> dict[str, Any]:
    started = time.perf_counter()
    app, fake = dashboard(count, url)
    out: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(AssetsPanel)
        await until(lambda: panel.populated)
        out["start_filled"] = time.perf_counter() - started
        out["rows"] = panel.table.row_count
        await pilot.pause(1.0)  # the start's other work is not the key's
        polls = panel.polls
        t0 = time.perf_counter()
        app.post_message(events.Key("5", "5"))
        await until(lambda: panel.is_on_screen)
        shown = time.perf_counter()
        await until(lambda: bool(PAINTED) and PAINTED[-1] > shown)
        out["key_to_tab"] = next(p for p in PAINTED if p > shown) - t0
        await until(lambda: panel.polls > polls)
        out["key_to_fresh_read"] = time.perf_counter() - t0
        panel.table.focus()
        await pilot.pause(1.0)
        latencies: dict[str, list[float]] = {k: [] for k in KEYS}
        frames, layouts, full_gcs = len(PAINTED), len(LAYOUTS), len(FULL_GCS)
        cpu = time.process_time()
        for _ in range(presses):
            for key in KEYS:
                latencies[key].append(await key_latency(app, panel.table, key))
                await pilot.pause(0.05)  # a person's pace, not a key held down
        pressed = presses * len(KEYS)
        out["keys"] = latencies
        out["key_cpu"] = (time.process_time() - cpu) / pressed
        out["key_frames"] = (len(PAINTED) - frames) / pressed
        out["key_layouts"] = (len(LAYOUTS) - layouts) / pressed
        out["key_full_gcs"] = FULL_GCS[full_gcs:]
        await pilot.pause(2.0)
        c0, t2 = time.process_time(), time.perf_counter()
        await asyncio.sleep(window)
        out["idle"] = (time.process_time() - c0) / (time.perf_counter() - t2)
        out["calls"] = dict(fake.calls) if fake else {}
    return out


def parse_peer(count: int, repeats: int = 3) -> float:
    body = json.dumps(assets_payload(count)).encode()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        nodes = json.loads(body)["data"]["assetNodes"]
        [AssetInfo.from_graphql(n) for n in nodes]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


class BareTable(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def table_peer(count: int) -> float:
    app = BareTable()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        for name, width in (("g", 9), ("a", 28), ("s", 7), ("c", 14), ("m", 14), ("r", 8)):
            table.add_column(name, width=width)
        t0 = time.perf_counter()
        for i in range(count):
            table.add_row(
                f"group_{i % 10:02d}",
                f"raw/model_{i:05d}",
                "fresh",
                "2/2 ok",
                "01-02 11:51",
                "b2c3d4e5",
                key=str(i),
            )
        await pilot.pause()
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", default="1000,3000", help="comma-separated asset counts")
    parser.add_argument("--window", type=float, default=20.0, help="seconds of rest measured on the tab")
    parser.add_argument("--presses", type=int, default=15, help="presses of each key")
    parser.add_argument("--webserver-url", help="a real stack's webserver instead of the generated payload")
    args = parser.parse_args()
    counts = [int(c) for c in args.assets.split(",")] if not args.webserver_url else [0]
    print(f"before: {load_line()}")
    for count in counts:
        result = asyncio.run(measure(count, args.webserver_url, args.window, args.presses))
        n = result["rows"]
        print(f"\n== {n} assets ({'generated payload' if not args.webserver_url else args.webserver_url}) ==")
        goal = {"key_to_tab": "   (goal <= 500 ms)", "key_to_fresh_read": ""}
        print(f"  start -> Assets table filled (hidden tab)   {result['start_filled'] * 1000:8.1f} ms")
        for what, label in (
            ("key_to_tab", "painted with its rows"),
            ("key_to_fresh_read", "its fresh read shown"),
        ):
            print(f"  key 5 -> {label:<33} {result[what] * 1000:8.1f} ms{goal[what]}")
        every = [t for ts in result["keys"].values() for t in ts]
        for key, times in result["keys"].items():
            print(f"  key {key:<8} {stats(times)}")
        median, worst = statistics.median(every) * 1000, max(every) * 1000
        print(f"  every key: median {median:.1f} ms, worst {worst:.1f} ms   (goal <= 50 ms)")
        frames, layouts = result["key_frames"], result["key_layouts"]
        print(
            f"  per key: {frames:.2f} frames, {layouts:.2f} layouts of the screen, "
            f"{result['key_cpu'] * 1000:.1f} ms of CPU (the key and its pause)"
        )
        gcs = result["key_full_gcs"]
        each = ", ".join(f"{g * 1000:.0f}" for g in gcs) or "-"
        print(f"  full garbage collections during the keys: {len(gcs)} (ms of CPU each: {each})")
        idle = 100 * result["idle"]
        print(f"  at rest on the tab: {idle:.2f} % of a core over {args.window:.0f} s   (goal <= 1 %)")
        if result["calls"]:
            asked = ", ".join(f"{v} {k}" for k, v in sorted(result["calls"].items()))
            print(f"  queries while measuring: {asked}")
        if not args.webserver_url:
            print(f"  peer: json + models of the payload          {parse_peer(n) * 1000:8.1f} ms")
            print(
                f"  peer: a bare DataTable filled with {n} rows  {asyncio.run(table_peer(n)) * 1000:8.1f} ms"
            )
    print(f"\nafter: {load_line()}")


if __name__ == "__main__":
    main()
