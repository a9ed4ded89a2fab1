"""Container state change → screen: pause/unpause a container and time until the real `edp-tui` (in tmux)
shows it, side by side with `docker events` printing the same change. Goal: ≤ 0.3 s.

    .venv/bin/python bench/docker_state_change.py [--trials 10]
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import threading
import time

import docker
from harness import TmuxDashboard, row_of, small_project, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    client = docker.APIClient(version="auto")
    with small_project() as project:
        container = project.container_id("beta")
        events = subprocess.Popen(
            [
                "docker",
                "events",
                "--filter",
                f"container={container}",
                "--filter",
                "event=pause",
                "--filter",
                "event=unpause",
                "--format",
                "{{.Action}}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        arrivals: queue.Queue[tuple[str, float]] = queue.Queue()

        def read() -> None:
            assert events.stdout is not None
            for line in events.stdout:
                arrivals.put((line.strip(), time.perf_counter()))

        threading.Thread(target=read, daemon=True).start()
        screen: list[float] = []
        peer: list[float] = []
        try:
            with TmuxDashboard(project.dashboard_args()) as dash:
                dash.wait_for(lambda s: "running" in row_of(s, "beta"), timeout=60)
                time.sleep(1.0)  # let start-up settle
                for i in range(args.trials * 2):
                    action, shown = ("pause", "paused") if i % 2 == 0 else ("unpause", "running")
                    t0 = time.perf_counter()
                    getattr(client, action)(container)
                    t_screen = dash.wait_for(lambda s, shown=shown: shown in row_of(s, "beta"), timeout=10)
                    name, t_event = arrivals.get(timeout=10)
                    assert name == action, (name, action)
                    screen.append(t_screen - t0)
                    peer.append(t_event - t0)
                    time.sleep(0.3)
                capture = dash.capture_times
        finally:
            events.terminate()
            events.wait(timeout=10)
            try:
                client.unpause(container)
            except docker.errors.APIError:
                pass
    print(f"container state change -> visible, {len(screen)} changes (pause/unpause)")
    print(f"  edp-tui screen (tmux capture-pane, 10 ms poll)  {stats(screen)}")
    print(f"  docker events CLI line                           {stats(peer)}")
    print(f"  one screen read (tmux capture-pane) takes        {stats(capture)}")
    print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    median = sorted(screen)[len(screen) // 2]
    print(f"  goal <= 300 ms: {'met' if median <= 0.3 else 'MISSED'} (median {median * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
