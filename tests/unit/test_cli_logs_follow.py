"""`edp-tui logs --follow`'s printer follows a live log by the shared `follow_live`: pushed chunks printed as
they come, polling (said on stderr) while the subscription fails, push again once it works."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from edp_tui.cli import logs as logs_cli
from edp_tui.dagster.errors import DagsterUnreachable
from edp_tui.dagster.models import LogChunk, LogKey


class FlakyPush:
    """Pushes two chunks and drops, refuses once, then pushes again; answers queries in between."""

    def __init__(self) -> None:
        self.subscribed: list[str | None] = []
        self.queried: list[str | None] = []

    async def captured_logs_stream(self, key: LogKey, cursor: str | None = None) -> AsyncIterator[LogChunk]:
        self.subscribed.append(cursor)
        if len(self.subscribed) == 1:
            yield LogChunk("out 1\n", "", "6:0")
            yield LogChunk("", "err 1\n", "6:6")
            raise DagsterUnreachable("ws://x/graphql", "the webserver closed the subscription")
        if len(self.subscribed) == 2:
            raise DagsterUnreachable("ws://x/graphql", "Connection refused")
        yield LogChunk("out 3\n", "", "18:6")
        await asyncio.Event().wait()  # open, nothing more to push

    async def captured_logs(self, key: LogKey, cursor: str | None = None, limit: int = 0) -> LogChunk:
        self.queried.append(cursor)
        if cursor == "6:6":
            return LogChunk("out 2\n", "", "12:6")
        return LogChunk("", "", cursor or "0:0")


async def test_the_printer_prints_pushes_falls_back_to_polling_and_resumes_push(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FlakyPush()
    printer = logs_cli.LogPrinter(LogKey("run", "key", ("step",)), ["stdout", "stderr"], tag_stderr=True)
    printer.poll_interval, printer.push_retry = 0.01, (0.05, 0.05)
    task = asyncio.create_task(printer.follow(fake))  # type: ignore[arg-type]
    async with asyncio.timeout(10):
        while printer.tail.cursor != "18:6":
            await asyncio.sleep(0.01)
    await logs_cli.stop_following({"key": task})
    assert task.cancelled()
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["out 1", "stderr| err 1", "out 2", "out 3"]
    # Each subscription starts at the cursor the previous push or poll left.
    assert fake.subscribed == [None, "12:6", "12:6"] and fake.queried[0] == "6:6"
    assert captured.err.splitlines() == [
        "compute log key: polling (push unavailable: the webserver closed the subscription)",
        "compute log key: push",
        "compute log key: polling (push unavailable: Connection refused)",
        "compute log key: push",
    ]


def test_a_file_key_in_a_note_is_printed_literally(capsys: pytest.CaptureFixture[str]) -> None:
    """The webserver's file key is outside text: no terminal control reaches stderr."""
    from edp_tui.dagster.tail import FollowState

    printer = logs_cli.LogPrinter(LogKey("r", "key\x1b]0;pwned\x07[/]"), ("stdout",), tag_stderr=False)
    printer._followed(FollowState(push=False, reason="refused\x1b[2J"))
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert "compute log key␛]0;pwned␇[/]: polling (push unavailable: refused␛[2J)" in err
