"""dbt's output read as fast as dbt writes it, so that storing the run's events never holds dbt up.

dagster-dbt reads dbt's output (a pipe: about 64 KiB, a few dozen result lines at 1,000 models) in the step's
own thread, between the events it yields, and Dagster stores each event before the step goes on: while the
run worker waits for PostgreSQL, dbt's next lines fill the pipe and every dbt thread that logs blocks, so
the build ran at the pace of the event storage (bench/dbt_scale.py at 1,000 models: the same dbt build 42 s
longer in a run than by hand, with the run worker itself at 8 s of CPU). `DrainedPipe` takes the place of the
dbt process's stdout before dagster-dbt reads it: a thread reads the pipe into memory as dbt writes, and
dagster-dbt iterates the lines from there, in order, as they came; the events are still stored as they
happen, only no longer holding dbt back. What is kept is dbt's output of one invocation (a few MB for
thousands of nodes), released as it is read.

A wait for the next line wakes up every WAKE_S, so an interrupt of the step (terminate) reaches dagster-dbt
as before: it forwards it to dbt and waits for dbt to end.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import IO, Any

WAKE_S = 0.5
_END = object()


class DrainedPipe:
    """A stand-in for `subprocess.Popen.stdout` (iteration, `with`, `closed`) fed by a reader thread."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self._pipe = pipe
        self._lines: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, name="edp-dbt-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for line in self._pipe:
                self._lines.put(line)
        except (OSError, ValueError):  # the pipe closed under us (the step ended early): nothing more
            pass
        finally:
            self._lines.put(_END)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                line = self._lines.get(timeout=WAKE_S)
            except queue.Empty:
                continue
            if line is _END:
                return
            yield line

    @property
    def closed(self) -> bool:
        return self._pipe.closed

    def __enter__(self) -> DrainedPipe:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pipe.close()


def drain_output(invocation: Any) -> None:
    """Has dagster-dbt read `invocation`'s dbt output through a DrainedPipe (DbtCliInvocation.process is the
    dbt subprocess, whose `stdout` dagster-dbt iterates: pinned in tests/unit/test_platform_contracts.py)."""
    process = invocation.process
    if process.stdout is not None and not isinstance(process.stdout, DrainedPipe):
        process.stdout = DrainedPipe(process.stdout)
