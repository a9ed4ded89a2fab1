"""Tailing one compute log (a step's stdout and stderr) by byte cursor: one routine for the CLI and the panel.

``capturedLogs`` answers the bytes after a ``"<stdout bytes>:<stderr bytes>"`` cursor; this keeps the cursor
and the partial last line of each stream, so a caller only ever sees complete lines (and the rest on `flush`).
A finished log is read with `read_all`: large chunks back to back (an 8 MB log in a few calls instead of one
64 KiB chunk per stream per poll).

A live log is followed with `follow_live`: pushed by the ``capturedLogs`` subscription from the cursor on,
each chunk handed over as it arrives, so the two streams interleave in arrival order (within one chunk the
order between stdout and stderr is not known: its stdout lines come first). When the subscription fails
(socket refused or closed, a bad frame, an error payload, a webserver without websockets) the log is polled
every ``poll_interval`` and the subscription retried with backoff. The subscription completes only for a
step whose log is complete, and not always then (Dagster notices the completion marker without pushing);
never for a killed one: callers stop following once the run is over and read the rest with `read_all` +
`flush`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.client import LOG_CHUNK_BYTES
from edp_tui.dagster.errors import DagsterUnreachable
from edp_tui.dagster.models import LogChunk, LogKey
from edp_tui.text import LineSplitter
from edp_tui.util.backoff import Backoff
from edp_tui.util.poll import UnexpectedErrors

STREAMS = ("stdout", "stderr")
# Bytes per stream per call when catching up on a finished log (the webserver reads the file in one go).
BULK_CHUNK_BYTES = 4 * 1024 * 1024
# Polling while the subscription is unavailable: as often as the panel polled before there was push.
LIVE_POLL_S = 0.5
# Resubscribing after a failure: 1 s doubling to 30 s (a webserver without websockets: asked twice a minute).
PUSH_RETRY_S = (1.0, 30.0)

Lines = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TailRead:
    """What one read brought: complete lines as (stream, text), and whether any new bytes came."""

    lines: Lines
    fresh: bool


class ComputeLogTail:
    def __init__(self, key: LogKey) -> None:
        self.key = key
        self.cursor: str | None = None
        self._splitters = {stream: LineSplitter() for stream in STREAMS}

    def feed(self, chunk: LogChunk) -> TailRead:
        """Take one chunk (queried or pushed) that starts at the cursor: its complete lines, stdout first."""
        fresh = chunk.cursor != self.cursor and bool(chunk.stdout or chunk.stderr)
        self.cursor = chunk.cursor
        lines: list[tuple[str, str]] = []
        for stream, text in (("stdout", chunk.stdout), ("stderr", chunk.stderr)):
            lines += [(stream, piece) for piece in self._splitters[stream].feed(text)]
        return TailRead(tuple(lines), fresh)

    async def read(self, client: DagsterApi, limit: int = LOG_CHUNK_BYTES) -> TailRead:
        """One ``capturedLogs`` call from the cursor on, at most ``limit`` bytes per stream."""
        return self.feed(await client.captured_logs(self.key, self.cursor, limit))

    async def read_all(self, client: DagsterApi, limit: int = BULK_CHUNK_BYTES) -> TailRead:
        """Read until nothing new comes (a finished log, or catching up after a pause)."""
        lines: list[tuple[str, str]] = []
        fresh = False
        while True:
            got = await self.read(client, limit)
            lines += got.lines
            if not got.fresh:
                return TailRead(tuple(lines), fresh)
            fresh = True

    def flush(self) -> list[tuple[str, str]]:
        """The partial last line of each stream (call once the log is complete)."""
        return [(stream, piece) for stream in STREAMS for piece in self._splitters[stream].flush()]


@dataclass(frozen=True)
class FollowState:
    """How a live log is followed right now: pushed, or polled because the subscription failed."""

    push: bool
    reason: str = ""  # why the subscription is not in use
    retry_in: float | None = None  # seconds until the subscription is tried again
    poll_error: Exception | None = None  # the last poll failed too (the webserver is down altogether)

    def describe(self) -> str:
        if self.push:
            return "push"
        retry = f"; retrying push in {self.retry_in:.0f}s" if self.retry_in is not None else ""
        return f"polling (push unavailable: {self.reason}{retry})"


def failure_reason(exc: BaseException) -> str:
    """One line for a title: the socket's own reason for an unreachable webserver, else the error's text."""
    text = exc.reason if isinstance(exc, DagsterUnreachable) else str(exc) or type(exc).__name__
    return " ".join(text.split())[:160]


async def follow_live(
    tail: ComputeLogTail,
    client: DagsterApi,
    on_lines: Callable[[Lines], None],
    on_state: Callable[[FollowState], None] = lambda state: None,
    *,
    poll_interval: float = LIVE_POLL_S,
    retry: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Follow ``tail``'s live log from its cursor, handing each batch of complete lines to ``on_lines`` as it
    arrives; ``on_state`` hears when push is in use and when (and why) polling replaces it.

    Returns when the subscription completes (the step's log is complete); otherwise runs until cancelled.
    Never raises for a backend failure: it polls instead, and polls again after a failed poll.
    """
    retry = retry or Backoff(*PUSH_RETRY_S)
    push_failures = UnexpectedErrors("compute-log subscription")
    poll_failures = UnexpectedErrors("compute-log poll")
    while True:
        on_state(FollowState(push=True))
        try:
            async for chunk in client.captured_logs_stream(tail.key, tail.cursor):
                retry.reset()
                push_failures.cleared()
                read = tail.feed(chunk)
                if read.lines:
                    on_lines(read.lines)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the push channel means: poll instead
            push_failures.saw(exc)
            reason = failure_reason(exc)
        resubscribe_at = clock() + retry.failed()
        while True:
            poll_error: Exception | None = None
            try:
                read = await tail.read(client)
                if read.lines:
                    on_lines(read.lines)
                poll_failures.cleared()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - shown by the caller, polled again
                poll_failures.saw(exc)
                poll_error = exc
            left = resubscribe_at - clock()
            on_state(FollowState(False, reason, max(left, 0.0), poll_error))
            if left <= 0:
                break
            await asyncio.sleep(min(poll_interval, left))


async def stop_followers(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel `follow_live` tasks and wait until they are gone: nothing they read may land after the caller's
    final read of the log."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
