"""``edp-tui logs RUN_ID``: a run's compute logs (stdout/stderr of its steps), printed literally."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Sequence

import click

from edp_tui.cli.common import (
    EXIT_OK,
    TRANSIENT,
    Retry,
    context_of,
    die,
    note,
    run_dagster,
    with_failures,
)
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterRequestRejected
from edp_tui.dagster.models import LogKey, log_keys_from_events
from edp_tui.dagster.tail import (
    LIVE_POLL_S,
    PUSH_RETRY_S,
    ComputeLogTail,
    FollowState,
    follow_live,
    stop_followers,
)
from edp_tui.text import printable, sanitize
from edp_tui.util.backoff import Backoff

# Compute logs are printed whole up to this line length (the dashboard cuts at 8 KiB; a file can keep more).
LOG_LINE_MAX_CHARS = 65_536
# How often --follow looks for the run's end and new steps (the logs themselves are pushed).
LOG_POLL_S = 0.5


async def all_events_keys(
    client: DagsterClient, run_id: str, cursor: str | None
) -> tuple[list[LogKey], str | None]:
    """Log keys announced since ``cursor`` (every page), and the cursor to continue from."""
    keys: list[LogKey] = []
    while True:
        page = await client.run_events(run_id, cursor)
        keys += log_keys_from_events(run_id, page.events)
        cursor = page.cursor or cursor
        if not page.has_more:
            return keys, cursor


class LogPrinter:
    """Prints one compute log's new lines (the shared `ComputeLogTail` keeps the cursor and partial lines)."""

    poll_interval = LIVE_POLL_S
    push_retry = PUSH_RETRY_S

    def __init__(self, key: LogKey, streams: Sequence[str], tag_stderr: bool) -> None:
        self.key = key
        self.streams = tuple(streams)
        self.tag_stderr = tag_stderr
        self.tail = ComputeLogTail(key)
        self.mode = ""  # how the live log is followed: "push", or "polling (...)"

    def emit(self, lines: Iterable[tuple[str, str]]) -> None:
        for stream, piece in lines:
            if stream not in self.streams:
                continue
            prefix = "stderr| " if stream == "stderr" and self.tag_stderr else ""
            text, _ = sanitize(piece, ansi=False, max_chars=LOG_LINE_MAX_CHARS)
            click.echo(prefix + text)

    async def poll(self, client: DagsterClient) -> bool:
        """Print everything new, read by read (a large log streams out); True when some bytes came."""
        got = False
        while True:
            read = await self.tail.read(client)
            self.emit(read.lines)
            if not read.fresh:
                return got
            got = True

    async def follow(self, client: DagsterClient) -> None:
        """Print the live log as the webserver pushes it (polled while push is unavailable, said on stderr);
        until cancelled, or the log is complete."""
        await follow_live(
            self.tail,
            client,
            self.emit,
            self._followed,
            poll_interval=self.poll_interval,
            retry=Backoff(*self.push_retry),
        )

    def _followed(self, state: FollowState) -> None:
        # Said when it changes: falling back to polling (and why), push coming back; not every poll.
        mode = "push" if state.push else f"polling (push unavailable: {state.reason})"
        if mode != self.mode and (self.mode or not state.push):
            note(f"compute log {printable(self.key.file_key)}: {printable(mode)}")
        self.mode = mode

    def flush(self) -> None:
        self.emit(self.tail.flush())


async def stop_following(followers: dict[str, asyncio.Task[None]]) -> None:
    """Stop every follower (waiting for them: see `stop_followers`) and forget them."""
    await stop_followers(followers.values())
    followers.clear()


@click.command()
@click.argument("run_id")
@click.option(
    "--step", "step_key", help="Only the compute log that holds this step (default: all of the run)."
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output until the run has finished.")
@click.option("--stdout", "only_stdout", is_flag=True, help="Only the steps' stdout.")
@click.option("--stderr", "only_stderr", is_flag=True, help="Only the steps' stderr.")
@click.pass_context
@with_failures
def logs(
    ctx: click.Context,
    run_id: str,
    step_key: str | None,
    follow: bool,
    only_stdout: bool,
    only_stderr: bool,
) -> None:
    """Compute logs (stdout and stderr of the steps) of RUN_ID, printed literally.

    The logs are found through the run's LOGS_CAPTURED events. Both streams are printed, stderr lines
    prefixed with "stderr| "; --stdout or --stderr prints one stream, unprefixed. Terminal control sequences
    in the output are shown as visible symbols, never executed. --follow tails until the run ends.
    """
    context = context_of(ctx)
    if only_stdout and only_stderr:
        die("--stdout and --stderr exclude each other (give neither for both streams)")
    streams = ["stdout"] if only_stdout else ["stderr"] if only_stderr else ["stdout", "stderr"]
    tag_stderr = len(streams) == 2

    async def work(client: DagsterClient) -> int:
        try:
            detail = await client.run(run_id)
        except DagsterRequestRejected as exc:
            if exc.typename == "RunNotFoundError":
                die(f"no run with id {printable(run_id)!r} (list them with `edp-tui runs`)")
            raise
        printers: dict[str, LogPrinter] = {}
        # --follow on a live run: one follower per log (pushed, see dagster/tail.py), until the run is over.
        followers: dict[str, asyncio.Task[None]] = {}
        cursor: str | None = None
        announced: set[str] = set()
        retry = Retry()
        try:
            while True:
                finished = detail.run.is_terminal
                try:
                    keys, cursor = await all_events_keys(client, run_id, cursor)
                    for key in keys:
                        if step_key is not None and step_key not in key.step_keys:
                            continue
                        if key.file_key not in printers:
                            printers[key.file_key] = LogPrinter(key, streams, tag_stderr)
                    if finished:
                        await stop_following(followers)
                    for printer in printers.values():
                        if printer.key.file_key not in announced and len(printers) > 1:
                            steps = ", ".join(map(printable, printer.key.step_keys))
                            note(f"== {steps or printable(printer.key.file_key)} ==")
                        announced.add(printer.key.file_key)
                        if follow and not finished:
                            if printer.key.file_key not in followers:
                                task = asyncio.create_task(printer.follow(client))
                                followers[printer.key.file_key] = task
                        else:
                            # The rest by query; each printer keeps its byte cursor: after a failure it
                            # resumes where it was.
                            await printer.poll(client)
                    if finished or not follow:
                        break
                    await asyncio.sleep(LOG_POLL_S)
                    detail = await client.run(run_id)
                except TRANSIENT as exc:
                    if not follow:
                        raise
                    await retry.failed(exc, "could not read the logs")
                    continue
                retry.ok()
        finally:
            await stop_following(followers)
        for printer in printers.values():
            printer.flush()
        if not printers:
            known = sorted({s.step_key for s in detail.steps})
            if step_key is not None and step_key not in known:
                die(
                    f"run {run_id} has no step {printable(step_key)!r}; "
                    f"its steps: {', '.join(map(printable, known))}"
                )
            note(
                f"run {run_id} ({detail.run.status}) has no captured compute logs"
                + (f" for step {printable(step_key)}" if step_key else "")
            )
        return EXIT_OK

    sys.exit(run_dagster(context, work))
