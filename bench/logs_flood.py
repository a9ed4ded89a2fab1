"""Container log flood: edp-tui side by side with `docker logs -f` on the same container, in one run.

    .venv/bin/python bench/logs_flood.py [--lines 1000000] [--image IMAGE] [--deadline SECONDS]

A container writes N lines (as fast as it can) and then idles. Once the engine has stored them all, each
reader follows the container from its first line until it has seen the last one:

  1. `docker logs -f -t`                     the peer (Go CLI), output counted from a pipe
  2. docker-py `logs(stream=True, follow=True)` the SDK's own frame-by-frame reader, for reference
  3. edp-tui LogFollower                     the reader the dashboard uses, into a bounded LogBuffer
  4. edp-tui LogsPanel in a headless Textual app (the whole path to the screen), while a key is pressed every
     200 ms: key response = key event posted -> its action ran -> the next paint finished

The dashboard rightly drops lines beyond its cap that arrive between two screen flushes (LogView's
`pending_dropped`): a line counts as handled once it reached the view or was dropped there, and the figures
say how many were dropped. Each reader stops at a deadline (--deadline, default 300 s) and reports what it
handled by then, so the bench always finishes.

Printed: lines/s of each and the ratio to `docker logs -f` (goal >= 0.8x), RSS growth of this process after
the N lines went through the dashboard (goal <= 50 MB, `docker logs` peak RSS beside it), key response during
the flood (median / p95 / max, goal <= 100 ms). Not a test: figures vary with the host; prefer a quiet one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import NamedTuple

import docker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edp_tui.docker.logs import DockerLogSource, backlog_by_key  # noqa: E402
from edp_tui.text import LogBuffer, LogLine  # noqa: E402


def rss_kib(pid: str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def start_flood(client: docker.DockerClient, image: str, project: str, n: int):  # type: ignore[no-untyped-def]
    line = "flood line %.0f INFO request handled path=/api/v1/items status=200"
    script = f"seq -f '{line}' 1 {n}; exec sleep infinity"
    return client.containers.run(
        image,
        ["sh", "-c", script],
        name=f"{project}-flood-1",
        labels={"com.docker.compose.project": project, "com.docker.compose.service": "flood"},
        detach=True,
        init=True,
    )


def wait_written(container, n: int, timeout: float = 600) -> None:  # type: ignore[no-untyped-def]
    last = f"flood line {n} ".encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if last in container.logs(tail=1):
            return
        time.sleep(0.5)
    raise SystemExit("the container did not finish writing in time")


class Reading(NamedTuple):
    rate: float  # lines handled per second
    handled: int  # lines seen (or, for the dashboard, shown or dropped by the view's cap)
    complete: bool  # all N lines before the deadline


def reading(handled: int, n: int, elapsed: float) -> Reading:
    return Reading(handled / max(elapsed, 1e-9), handled, handled >= n)


def bench_docker_cli(name: str, n: int, deadline_s: float) -> tuple[Reading, int]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        ["docker", "logs", "-f", "-t", name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    seen = 0
    peak = 0
    while seen < n and time.perf_counter() - t0 < deadline_s:
        chunk = proc.stdout.read1(1 << 16)
        if not chunk:
            break
        seen += chunk.count(b"\n")
        if seen % 50 == 0:
            peak = max(peak, hwm_kib(proc.pid))
    elapsed = time.perf_counter() - t0
    peak = max(peak, hwm_kib(proc.pid))
    proc.kill()
    proc.wait()
    return reading(min(seen, n), n, elapsed), peak


def bench_docker_py(container, n: int, deadline_s: float) -> Reading:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    seen = 0
    stream = container.logs(stream=True, follow=True, timestamps=True)
    for chunk in stream:
        seen += chunk.count(b"\n")
        if seen >= n or time.perf_counter() - t0 >= deadline_s:
            break
    elapsed = time.perf_counter() - t0
    stream.close()
    return reading(min(seen, n), n, elapsed)


def bench_follower(project: str, n: int, deadline_s: float) -> Reading:
    buf = LogBuffer(max_lines=20_000, max_bytes=16 << 20)
    done = threading.Event()
    count = 0

    def on_lines(lines: list[LogLine]) -> None:
        nonlocal count
        buf.extend(lines)
        count += len(lines)
        if count >= n:
            done.set()

    follower = DockerLogSource(project).follow("flood", backlog_by_key("all"), on_lines, lambda e: None)
    t0 = time.perf_counter()
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    done.wait(deadline_s)
    elapsed = time.perf_counter() - t0
    follower.stop()
    thread.join(5)
    return reading(min(count, n), n, elapsed)


async def bench_dashboard(
    project: str, n: int, deadline_s: float
) -> tuple[Reading, int, float, float, list[float]]:
    from textual import events
    from textual.app import App, ComposeResult
    from textual.screen import Screen

    from edp_tui.ui.widgets.logs_panel import LogsPanel

    panel = LogsPanel(DockerLogSource(project), service="flood")
    panel.backlog = backlog_by_key("all")

    class BenchApp(App[None]):
        def compose(self) -> ComposeResult:
            yield panel

    # When did the screen last finish painting? (the end of a key's response is the paint that shows it)
    painted: list[float] = []
    original_refresh = Screen._compositor_refresh

    def timed_refresh(self: Screen) -> None:
        original_refresh(self)
        painted.append(time.perf_counter())

    Screen._compositor_refresh = timed_refresh  # type: ignore[method-assign]
    app = BenchApp()
    latencies: list[float] = []
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause(0.3)
            rss0 = rss_kib()
            lines = panel.view.lines_widget
            lines.focus()
            original = lines.watch_show_timestamps
            ran_at: list[float] = []

            def timed() -> None:
                # The key's work: the toggle's watcher lays the rows out again.
                original()
                ran_at.append(time.perf_counter())

            lines.watch_show_timestamps = timed  # type: ignore[method-assign]
            view = panel.view

            def handled() -> int:
                # Shown, or dropped by the view's cap before display: both are lines the dashboard dealt with.
                return lines.lines_received + view.pending_dropped

            t0 = time.perf_counter()
            while handled() < n and time.perf_counter() - t0 < deadline_s:
                # What a terminal driver does with a key press: post the event to the app.
                ran_at.clear()
                pressed = time.perf_counter()
                app.post_message(events.Key("t", "t"))
                while not ran_at and time.perf_counter() - pressed < 10:
                    await asyncio.sleep(0.001)
                while (
                    ran_at
                    and not (painted and painted[-1] > ran_at[0])
                    and time.perf_counter() - pressed < 10
                ):
                    await asyncio.sleep(0.001)
                if ran_at and painted and painted[-1] > ran_at[0]:
                    latencies.append(painted[-1] - pressed)
                await asyncio.sleep(0.2)
            elapsed = time.perf_counter() - t0
            rss1 = rss_kib()
            result = reading(min(handled(), n), n, elapsed)
            dropped = view.pending_dropped
    finally:
        Screen._compositor_refresh = original_refresh  # type: ignore[method-assign]
    return result, dropped, rss0 / 1024, rss1 / 1024, latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds each reader may take at most")
    parser.add_argument("--image", default=None, help="image with sh and seq (default: the local base image)")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="sys.setswitchinterval for this process (how soon the UI thread gets the GIL back from readers)",
    )
    args = parser.parse_args()
    n = args.lines
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    image = args.image
    if image is None:
        from harness import base_image

        image = base_image()
    client = docker.from_env()
    project = f"edpbench{uuid.uuid4().hex[:6]}"
    container = start_flood(client, image, project, n)
    try:
        t = time.perf_counter()
        wait_written(container, n)
        print(f"container wrote {n:,} lines in {time.perf_counter() - t:.1f} s (engine json-file driver)")
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"host: {os.cpu_count()} cores, load average {load} (other work on the host skews every figure); "
            f"GIL switch interval {sys.getswitchinterval() * 1000:.1f} ms\n"
        )
        cpu0 = time.process_time()
        cli, cli_rss = bench_docker_cli(container.name, n, args.deadline)
        py = bench_docker_py(container, n, args.deadline)
        ours = bench_follower(project, n, args.deadline)
        dash, dropped, rss0, rss1, lat = asyncio.run(bench_dashboard(project, n, args.deadline))
        cpu = time.process_time() - cpu0
    finally:
        container.remove(force=True)
    print(f"{'reader':<44}{'lines/s':>12}{'vs docker logs -f':>20}   handled")
    for label, r in (
        ("docker logs -f -t (peer)", cli),
        ("docker-py logs(stream=True) (reference)", py),
        ("edp-tui LogFollower -> LogBuffer", ours),
        ("edp-tui LogsPanel, headless app (to screen)", dash),
    ):
        done = "all" if r.complete else f"{r.handled:,} of {n:,} by the {args.deadline:.0f} s deadline"
        print(f"{label:<44}{r.rate:>12,.0f}{r.rate / cli.rate:>19.2f}x   {done}")
    print(
        f"\nthe dashboard's view dropped {dropped:,} of the {dash.handled:,} lines it handled (more than its"
        " cap arrived between two flushes: only the newest can be shown)"
    )
    print(f"CPU time of this process over the four readers: {cpu:.1f} s")
    print(f"ingest goal >= 0.80x: dashboard {'MET' if dash.rate / cli.rate >= 0.8 else 'MISSED'}")
    growth = rss1 - rss0
    print(
        f"RSS of the dashboard process: {rss0:.1f} MiB before, {rss1:.1f} MiB after {n:,} lines "
        f"(growth {growth:.1f} MiB; goal <= 50 MB: {'MET' if growth * 1.048576 <= 50 else 'MISSED'}); "
        f"`docker logs -f` peak RSS {cli_rss / 1024:.1f} MiB"
    )
    if lat:
        ms = sorted(x * 1000 for x in lat)
        p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
        verdict = "MET" if p95 <= 100 else "MISSED"
        print(
            f"key response during the flood ({len(ms)} presses): median {statistics.median(ms):.0f} ms, "
            f"p95 {p95:.0f} ms, max {ms[-1]:.0f} ms (goal <= 100 ms at p95: {verdict})"
        )


if __name__ == "__main__":
    main()
