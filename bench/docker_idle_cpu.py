"""Idle CPU of the real `edp-tui` (in tmux, services populated, nothing happening) over 60 s, side by side
with `docker events` (the push peer) and a `docker compose ps` every 2 s (the polling habit) over the same
window. Goal: ≤ 1 % of a core.

    .venv/bin/python bench/docker_idle_cpu.py [--seconds 60] [--compose-file F -p NAME --webserver-url URL]

Without --compose-file it measures a small throwaway project; with one, an existing (running) stack.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import time
from pathlib import Path

from harness import TmuxDashboard, cpu_seconds, load_line, small_project


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(dash_args: list[str], project: str, compose_file: Path, seconds: float) -> None:
    events = subprocess.Popen(
        ["docker", "events", "--filter", f"label=com.docker.compose.project={project}"],
        stdout=subprocess.DEVNULL,
    )
    try:
        with TmuxDashboard(dash_args) as dash:
            dash.wait_for(lambda s: "running" in s, timeout=60)
            time.sleep(3.0)  # start-up work is not idle time
            pid = dash.pid()
            edp0, ev0, t0 = cpu_seconds(pid), cpu_seconds(events.pid), time.monotonic()
            poll_cpu = 0.0
            polls = 0
            while time.monotonic() - t0 < seconds:
                before = children_cpu()
                subprocess.run(
                    ["docker", "compose", "-f", str(compose_file), "-p", project, "ps"], capture_output=True
                )
                poll_cpu += children_cpu() - before
                polls += 1
                time.sleep(max(0.0, 2.0 - (time.monotonic() - t0) % 2.0))
            elapsed = time.monotonic() - t0
            edp = cpu_seconds(pid) - edp0
            ev = cpu_seconds(events.pid) - ev0
            still_running = "running" in dash.screen()
    finally:
        events.terminate()
        events.wait(timeout=10)
    print(f"idle CPU over {elapsed:.0f} s (percent of one core)")
    print(f"  edp-tui (whole process, all threads)      {100 * edp / elapsed:6.2f} %   ({edp:.2f} s CPU)")
    print(f"  docker events (push peer)                 {100 * ev / elapsed:6.2f} %")
    print(f"  docker compose ps every 2 s ({polls} runs)    {100 * poll_cpu / elapsed:6.2f} %")
    print(f"  screen still live at the end: {still_running}")
    print(f"  ({load_line()})")
    share = 100 * edp / elapsed
    print(f"  goal <= 1 %: {'met' if share <= 1.0 else 'MISSED'} ({share:.2f} %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--compose-file", type=Path)
    parser.add_argument("-p", "--project")
    parser.add_argument("--webserver-url")
    args = parser.parse_args()
    if args.compose_file:
        if not args.project:
            parser.error("--project is needed with --compose-file")
        dash_args = ["--compose-file", str(args.compose_file), "-p", args.project]
        if args.webserver_url:
            dash_args += ["--webserver-url", args.webserver_url]
        measure(dash_args, args.project, args.compose_file, args.seconds)
        return
    with small_project() as project:
        measure(project.dashboard_args(), project.name, project.compose_file, args.seconds)


if __name__ == "__main__":
    main()
