"""The daemon container's liveness, asked once a process instead of once a check.

    python -m edp_platform.daemon_liveness run -- dagster-daemon run -w workspace.yaml   (the command)
    python -m edp_platform.daemon_liveness check                                        (the healthcheck)

`dagster-daemon liveness-check` is a new Python process importing all of dagster and building the instance
for one question (do all required daemons have a recent heartbeat?): 1.3 s of CPU, every 20 s 6.5 % of a
core, nearly all the daemon container's CPU at rest, in bursts that competed with runs on a 2-core host.
`run` starts the daemon as its child and asks Dagster's same question (`all_daemons_live`, same tolerance)
every CHECK_EVERY_S in this one long-lived process, writing the answer to STATUS_FILE; `check` only reads
that file (no dagster import): healthy while the answer is "live" and fresh.

The child's exit is this process's exit (same code), SIGTERM and SIGINT are passed on to it, so `docker stop`
and a crashing daemon behave as with `dagster-daemon run` as the command.

A hung daemon is restarted: after RESTART_AFTER answers in a row that say "not live" (the question itself
answered: a database that cannot be reached judges nothing), the child is ended (SIGTERM, SIGKILL after
STOP_TIMEOUT_S) and this process exits with RESTART_EXIT_CODE, so that the container's restart policy starts
it again (the restart is counted and visible). Dagster's own controller exits when a daemon thread's
heartbeat is older than the tolerance (DAGSTER_DAEMON_HEARTBEAT_TOLERANCE) only while its own loop still
runs; this covers a daemon process that is hung as a whole. Not-live answers while the daemon starts (none
live yet, within START_GRACE_S) do not count.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATUS_FILE = Path(os.environ.get("EDP_DAEMON_LIVENESS_FILE", "/tmp/edp-daemon-liveness.json"))
# A question is one heartbeat query (a few ms): asked often, a started daemon reads healthy within seconds.
CHECK_EVERY_S = 5.0
# An answer older than this means the asking thread is stuck or gone: unhealthy, like a failed check.
STALE_AFTER_S = 60.0
USAGE = "usage: python -m edp_platform.daemon_liveness run -- COMMAND... | check"
# Not-live answers in a row (one per CHECK_EVERY_S) before the daemon is ended and the container restarted.
RESTART_AFTER = int(os.environ.get("EDP_DAEMON_RESTART_AFTER", "6"))
# A daemon that has not been live yet is starting, for this long at most.
START_GRACE_S = float(os.environ.get("EDP_DAEMON_START_GRACE_S", "300"))
STOP_TIMEOUT_S = 30.0
RESTART_EXIT_CODE = 75  # EX_TEMPFAIL: not a clean stop, so `restart: unless-stopped` starts it again

Question = Callable[[], tuple[bool, str]]  # (live, the line to show)


def write_status(live: bool, detail: str, path: Path = STATUS_FILE) -> None:
    """Atomically (a reader never sees half a document)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"live": live, "at": time.time(), "detail": detail}))
    os.replace(tmp, path)


def read_status(path: Path = STATUS_FILE, now: float | None = None) -> tuple[bool, str]:
    """(healthy, the line Docker keeps as the check's output)."""
    try:
        status: dict[str, Any] = json.loads(path.read_text())
        live, at, detail = bool(status["live"]), float(status["at"]), str(status.get("detail", ""))
    except FileNotFoundError:
        return False, "no liveness answer yet (the daemon is starting)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"unreadable liveness answer {path}: {exc}"
    age = (time.time() if now is None else now) - at
    if age > STALE_AFTER_S:
        return False, f"liveness answer is {age:.0f} s old (nothing asked since): {detail}"
    return live, detail


class DagsterQuestion:
    """Dagster's own liveness question, as `dagster-daemon liveness-check` asks it, on one instance kept for
    the process (built on first use, built again after a failure)."""

    def __init__(self) -> None:
        self.instance: Any = None

    def __call__(self) -> tuple[bool, str]:
        from dagster import DagsterInstance
        from dagster._daemon.cli import _get_heartbeat_tolerance
        from dagster._daemon.controller import all_daemons_live

        if self.instance is None:
            self.instance = DagsterInstance.get()
        try:
            live = all_daemons_live(self.instance, heartbeat_tolerance_seconds=_get_heartbeat_tolerance())
        except Exception:
            self.instance.dispose()
            self.instance = None
            raise
        return live, "Daemon live" if live else "Daemon(s) not running"


class Asker(threading.Thread):
    """Asks every CHECK_EVERY_S until stopped; a failing question is an unhealthy answer, not a crash. Sets
    `hung` after `restart_after` answers in a row that say "not live" (see the module's docstring)."""

    def __init__(
        self,
        every: float = CHECK_EVERY_S,
        ask: Question | None = None,
        path: Path = STATUS_FILE,
        *,
        restart_after: int = RESTART_AFTER,
        start_grace_s: float = START_GRACE_S,
    ) -> None:
        super().__init__(name="edp-daemon-liveness", daemon=True)
        self.every, self.path = every, path
        self.ask: Question = ask if ask is not None else DagsterQuestion()
        self.restart_after, self.start_grace_s = restart_after, start_grace_s
        self.stopped = threading.Event()
        self.hung = threading.Event()
        self.on_hung: Callable[[], None] = lambda: None
        self.answers = 0
        self.not_live_in_a_row = 0
        self._seen_live = False
        self._created = time.monotonic()

    def run(self) -> None:
        while not self.stopped.is_set():
            counts = True
            try:
                live, detail = self.ask()
            except Exception as exc:  # any failure to ask is an answer: not live, and why
                live, detail = False, f"liveness question failed: {type(exc).__name__}: {exc}"
                counts = False  # nothing was judged (the database away, say): no step towards a restart
            self.answers += 1
            try:
                write_status(live, detail, self.path)
            except OSError as exc:
                print(f"edp-daemon-liveness: cannot write {self.path}: {exc}", file=sys.stderr, flush=True)
            if counts:
                self._count(live)
            self.stopped.wait(self.every)

    def _count(self, live: bool) -> None:
        if live:
            self._seen_live, self.not_live_in_a_row = True, 0
            return
        if not self._seen_live and time.monotonic() - self._created < self.start_grace_s:
            return  # starting
        self.not_live_in_a_row += 1
        if self.not_live_in_a_row >= self.restart_after and not self.hung.is_set():
            self.hung.set()
            self.on_hung()


def _end(child: subprocess.Popen[bytes], timeout: float) -> None:
    child.terminate()
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()


def run(command: list[str], asker: Asker | None = None, *, stop_timeout: float = STOP_TIMEOUT_S) -> int:
    """Run ``command`` (the daemon) as a child, asking liveness beside it; its exit code is ours, or
    RESTART_EXIT_CODE when it was ended as hung."""
    child = subprocess.Popen(command)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
    asker = asker or Asker()

    def end_hung() -> None:
        print(
            f"edp-daemon-liveness: the daemon answered not live {asker.not_live_in_a_row} times in a row "
            f"({asker.every:.0f} s apart; last: {read_status(asker.path)[1]}): ending it and restarting "
            "the container",
            file=sys.stderr,
            flush=True,
        )
        _end(child, stop_timeout)

    asker.on_hung = end_hung
    asker.start()
    try:
        code = child.wait()
        if asker.hung.is_set():
            return RESTART_EXIT_CODE
        # Killed by a signal: the shell's 128 + N (137 for SIGKILL), as Docker reports for its own command.
        return 128 - code if code < 0 else code
    finally:
        asker.stopped.set()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["check"] and len(args) == 1:
        healthy, line = read_status()
        print(line)
        return 0 if healthy else 1
    command = args[2:] if args[1:2] == ["--"] else args[1:]
    if args[:1] == ["run"] and command:
        return run(command)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
