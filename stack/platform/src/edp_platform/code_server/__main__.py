"""user-code's command: one checking code server per configured code location.

    python -m edp_platform.code_server [--log-level info]

Each location (edp_platform.settings, EDP_CODE_LOCATIONS) gets a process of its own
(`python -m edp_platform.code_server.supervisor --location NAME`) on its own port: its own reloads, reload
on save, lost-worker watch and forkserver, so one location's broken save or crash never touches another.
A code server that exits is started again after a pause that grows with each quick exit (1 s up to 60 s), and
says so; SIGTERM and SIGINT are passed on to every one of them, and this process exits once they have.
A settings mistake that leaves no workspace (edp_platform.settings.SettingsError) exits 64 with the reason.
Before the code servers start, the warehouse's own role and its limits are applied
(edp_platform.warehouse_role; a malformed warehouse setting also exits 64).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from edp_platform import warehouse_role
from edp_platform.settings import SettingsError, load_locations

RESTART_PAUSE_S = (1.0, 60.0)
QUICK_EXIT_S = 60.0  # an exit sooner than this after a start counts as a crash loop: wait longer next time
POLL_S = 1.0


def say(text: str) -> None:
    print(f"edp-platform: {text}", file=sys.stderr, flush=True)


def reap_orphans(own: set[int]) -> int:
    """Reaps ended processes that are not one of `own` (the code servers, which Popen waits for itself);
    returns how many. This process is PID 1 of user-code: the processes a code server's own children leave
    behind (a reload's check, dbt) are re-parented to it when their parent ends first, and stay zombies
    until PID 1 waits for them. Peeking first (WNOWAIT) leaves a code server's exit status to its Popen."""
    reaped = 0
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return reaped
        if info is None or info.si_pid in own:
            return reaped
        os.waitpid(info.si_pid, 0)
        reaped += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edp_platform.code_server")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    try:
        locations = load_locations()
    except SettingsError as exc:
        say(str(exc))
        return 64
    # The warehouse's own role and its limits (edp_platform.warehouse_role), applied at every start.
    if warehouse_role.main() == 64:
        return 64

    def start(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "edp_platform.code_server.supervisor",
                "--location",
                name,
                "-h",
                args.host,
                "--log-level",
                args.log_level,
            ]
        )

    children = {loc.name: start(loc.name) for loc in locations}
    started = {name: time.monotonic() for name in children}
    pauses = {name: RESTART_PAUSE_S[0] for name in children}
    due: dict[str, float] = {}
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    say("serving " + ", ".join(f"{loc.name} on port {loc.port}" for loc in locations))
    while True:
        if stopping:
            codes = [proc.wait() for proc in children.values()]
            return max((c for c in codes if c > 0), default=0)
        now = time.monotonic()
        for name, proc in children.items():
            code = proc.poll()
            if code is None or name in due:
                continue
            quick = now - started[name] < QUICK_EXIT_S
            pauses[name] = min(pauses[name] * 2, RESTART_PAUSE_S[1]) if quick else RESTART_PAUSE_S[0]
            due[name] = now + pauses[name]
            say(
                f"the code server of {name} exited with code {code}; starting it again in "
                f"{pauses[name]:.0f} s"
            )
        for name, at in list(due.items()):
            if now >= at and not stopping:
                del due[name]
                children[name], started[name] = start(name), time.monotonic()
        reap_orphans({proc.pid for proc in children.values()})
        time.sleep(POLL_S)


if __name__ == "__main__":
    sys.exit(main())
