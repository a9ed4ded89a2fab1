"""Compute-log push vs poll: the time from a line written to a step's compute-log file to the client having
it, by the ``capturedLogs`` subscription and by the panel's 0.5 s ``capturedLogs`` poll, and the webserver's
CPU for each.

    .venv/bin/python bench/compute_log_push.py [--timeouts 0.2,2.5] [--lines 40] [--interval 0.37]
        [--window 20] [--lingering 20] [--deadline 900]

Starts a process stack of its own (bench/harness.process_stack: PostgreSQL, code server, webserver, no daemon;
its own ports and temp dir) and stops it at the end. The lines are written by this process straight
into a compute-log file: the ``.out`` file of a key under a run directory of the compute log manager's
base_dir, where a step's captured stdout goes. No run needs to be going: the webserver watches and reads the
file the same way (it never looks at the run). For each --timeouts value (the manager's ``polling_timeout``,
written into the stack's dagster.yaml, webserver restarted):

  1. rest:      webserver CPU over --window, no subscription ever opened on this webserver process
  2. push:      `follow_live` (the panel's and the CLI's routine) on the real client, a line every --interval
                s (not a multiple of 0.2 or 0.5, so writes land at every phase of the watcher and the poll):
                write -> line handed over, per line; webserver CPU over the same time
  3. poll:      the same routine with push refused (its fallback: a query every 0.5 s), same writes
  4. idle sub:  one subscription open on a key nobody writes to, over --window
  5. lingering: --lingering subscriptions on keys of as many run directories opened and closed, then rest
                again over --window: Dagster 1.13.27's own manager kept polling a directory once it was
                watched; the stack's (edp_platform.instance.compute_logs) releases it

CPU figures are CPU seconds per second of the webserver process (all its threads, from /proc), and of this
process (writer + client). Wall-clock latencies on a busy 2-core host are noisy: the load average and the
busiest other processes are printed first and last. Every wait has a deadline (--deadline bounds the whole
bench); a phase that fails prints why and the bench goes on, so it always finishes and prints what it got.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness import Stack, cpu_seconds, process_stack  # noqa: E402

from edp_tui.dagster.client import DagsterClient  # noqa: E402
from edp_tui.dagster.errors import DagsterUnreachable  # noqa: E402
from edp_tui.dagster.models import LogChunk, LogKey  # noqa: E402
from edp_tui.dagster.tail import LIVE_POLL_S, ComputeLogTail, follow_live  # noqa: E402
from edp_tui.util.backoff import Backoff  # noqa: E402

STACK_DEADLINE_S = 600.0  # the stack's own waits have deadlines; this bounds start + restarts together
PHASE_SLACK_S = 30.0


def threads(pid: int) -> str:
    """The thread count of a process (each directory the webserver watches is one watchdog emitter thread)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "?"
    return next((line.split()[1] for line in status.splitlines() if line.startswith("Threads:")), "?")


def host_line() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        top = subprocess.run(
            ["ps", "-eo", "pcpu,args", "--sort=-pcpu", "--no-headers"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.splitlines()[:6]
    except (OSError, subprocess.SubprocessError) as exc:
        top = [f"(ps failed: {exc})"]
    busiest = "; ".join(f"{line.split(None, 1)[-1][:60]} {line.split()[0]}" for line in top)
    return (
        f"{os.cpu_count()} cores, load average {load}; "
        f"busiest processes (% CPU over their lifetime): {busiest}"
    )


class NoPush(DagsterClient):
    """The real client with the subscription refused: `follow_live` falls back to its 0.5 s poll."""

    async def captured_logs_stream(self, key: LogKey, cursor: str | None = None) -> AsyncIterator[LogChunk]:
        raise DagsterUnreachable(self.ws_url, "push refused by the bench")
        yield  # an async generator, as the real one


class Meter:
    """Webserver and own CPU seconds per second over a phase."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __enter__(self) -> Meter:
        self.web0, self.own0, self.t0 = cpu_seconds(self.pid), time.process_time(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.monotonic() - self.t0
        self.web = (cpu_seconds(self.pid) - self.web0) / wall
        self.own = (time.process_time() - self.own0) / wall

    def line(self) -> str:
        return f"webserver {100 * self.web:5.2f} % of a core, this process {100 * self.own:5.2f} %"


def log_file(base_dir: Path, key: LogKey) -> Path:
    path = base_dir / key.run_id / "compute_logs" / f"{key.file_key}.out"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


async def timed_lines(
    client: DagsterClient, key: LogKey, path: Path, lines: int, interval: float
) -> tuple[list[float], int]:
    """Write ``lines`` lines to ``path`` one every ``interval`` s while `follow_live` follows the key: the
    latency of each line that arrived, and how many never did (within the phase's deadline)."""
    written: dict[str, float] = {}
    latencies: list[float] = []

    def on_lines(batch: tuple[tuple[str, str], ...]) -> None:
        now = time.monotonic()
        for _, text in batch:
            if text in written:
                latencies.append(now - written.pop(text))

    tail = ComputeLogTail(key)
    tail.cursor = f"{path.stat().st_size}:0"  # from the end, as a panel that already shows the log so far
    follower = asyncio.create_task(follow_live(tail, client, on_lines, retry=Backoff(3600.0, 3600.0)))
    try:
        await asyncio.sleep(1.0)  # subscribed (or polling) before the first line
        with path.open("a", encoding="utf-8") as f:
            for i in range(lines):
                text = f"bench line {i} {uuid.uuid4().hex[:8]}"
                written[text] = time.monotonic()
                f.write(text + "\n")
                f.flush()
                await asyncio.sleep(interval)
        end = time.monotonic() + 10.0
        while written and time.monotonic() < end:
            await asyncio.sleep(0.05)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    return latencies, len(written)


def summary(latencies: list[float], lost: int) -> str:
    if not latencies:
        return f"no line arrived ({lost} lost)"
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return (
        f"latency median {statistics.median(ms):4.0f} ms, p95 {p95:4.0f} ms, max {ms[-1]:4.0f} ms "
        f"({len(ms)} lines{f', {lost} lost' if lost else ''})"
    )


async def open_for(client: DagsterClient, key: LogKey, seconds: float) -> None:
    """Hold one subscription open for ``seconds`` (nothing is written to its file)."""

    async def hold() -> None:
        async for _ in client.captured_logs_stream(key, None):
            pass

    try:
        await asyncio.wait_for(hold(), timeout=seconds)
    except TimeoutError:
        pass


async def bench_timeout(stack: Stack, base_dir: Path, timeout: float, args: argparse.Namespace) -> None:
    pid = stack.pid("webserver")
    assert pid is not None, "webserver not running"
    run = f"bench-{uuid.uuid4().hex[:8]}"
    key = LogKey(run, "pushkey")
    path = log_file(base_dir, key)
    print(f"\npolling_timeout {timeout} s (webserver pid {pid})")

    async def phase(name: str, body: Callable[[], Awaitable[object]]) -> None:
        try:
            async with asyncio.timeout(args.window + args.lines * args.interval + PHASE_SLACK_S):
                with Meter(pid) as meter:
                    result = await body()
            text = summary(*result) + "; " if isinstance(result, tuple) else ""  # type: ignore[arg-type]
            print(f"  {name:<10} {text}{meter.line()}; webserver threads {threads(pid)}")
        except Exception as exc:  # noqa: BLE001 - a failed phase is reported; the bench goes on
            print(f"  {name:<10} failed: {type(exc).__name__}: {exc}")

    async with (
        DagsterClient(stack.graphql_url, timeout=30) as client,
        NoPush(stack.graphql_url, timeout=30) as no_push,
    ):
        await phase("rest", lambda: asyncio.sleep(args.window))
        await phase("push", lambda: timed_lines(client, key, path, args.lines, args.interval))
        await phase("poll", lambda: timed_lines(no_push, key, path, args.lines, args.interval))
        idle = LogKey(f"bench-{uuid.uuid4().hex[:8]}", "idlekey")
        log_file(base_dir, idle)
        await phase("idle sub", lambda: open_for(client, idle, args.window))

        async def linger() -> None:
            for _ in range(args.lingering):
                other = LogKey(f"bench-{uuid.uuid4().hex[:8]}", "gone")
                log_file(base_dir, other)
                await open_for(client, other, 0.5)
            await asyncio.sleep(2.0)

        try:
            async with asyncio.timeout(args.lingering * 5 + PHASE_SLACK_S):
                await linger()
        except Exception as exc:  # noqa: BLE001
            print(f"  (opening the lingering subscriptions failed: {type(exc).__name__}: {exc})")
        await phase("lingering", lambda: asyncio.sleep(args.window))
    print(
        f"  ({args.lingering} subscriptions on as many run directories opened and closed before 'lingering')"
    )


def set_polling_timeout(stack: Stack, timeout: float) -> None:
    config = stack.dagster_home / "dagster.yaml"
    text = config.read_text(encoding="utf-8")
    text, n = re.subn(r"polling_timeout: [0-9.]+", f"polling_timeout: {timeout}", text)
    if n != 1:
        raise SystemExit(f"{config}: expected one polling_timeout line, found {n}")
    config.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timeouts", default="0.2,2.5", help="polling_timeout values to measure, in order")
    parser.add_argument("--lines", type=int, default=40, help="lines written per push/poll phase")
    parser.add_argument("--interval", type=float, default=0.37, help="seconds between two written lines")
    parser.add_argument("--window", type=float, default=20.0, help="seconds of each CPU-only phase")
    parser.add_argument("--lingering", type=int, default=20, help="subscriptions opened and closed")
    parser.add_argument("--deadline", type=float, default=1500.0, help="seconds the whole bench may take")
    args = parser.parse_args()
    timeouts = [float(x) for x in args.timeouts.split(",") if x.strip()]
    print(f"host: {host_line()}")
    print(f"the poll compared with: every {LIVE_POLL_S} s (the panel's and the CLI's fallback)")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="edp-clog-bench-") as tmp:
        stack = process_stack(Path(tmp), start_daemon=False)
        try:
            stack.start()
            print(f"process stack up in {time.monotonic() - t0:.0f} s ({stack.webserver_url})")
            base_dir = Path(stack.env["DAGSTER_COMPUTE_LOGS_DIR"])
            for i, timeout in enumerate(timeouts):
                if time.monotonic() - t0 > args.deadline - STACK_DEADLINE_S / 4:
                    print(f"\n(deadline: polling_timeout {timeout} s and after not measured)")
                    break
                if (
                    i
                    or f"polling_timeout: {timeout}\n"
                    not in (stack.dagster_home / "dagster.yaml").read_text()
                ):
                    # A fresh webserver each time: nothing watched yet, so 'rest' is a true baseline.
                    stack.stop_webserver()
                    set_polling_timeout(stack, timeout)
                    stack.start_webserver()
                try:
                    asyncio.run(
                        asyncio.wait_for(bench_timeout(stack, base_dir, timeout, args), args.deadline)
                    )
                except Exception as exc:  # noqa: BLE001 - report and go on with the next value
                    print(f"  failed: {type(exc).__name__}: {exc}")
        finally:
            stack.stop()
    print(f"\nhost at the end: {host_line()}")
    print(f"bench took {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
