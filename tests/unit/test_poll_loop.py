"""The one poll loop (util/poll.py) and its one rule for what is logged: a backend's own failures (EdpError)
are shown and retried; any payload-shape error (KeyError as much as AttributeError) is logged too, once per
streak; the compute-log follower logs by the same rule."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from edp_tui.dagster.errors import DagsterUnreachable
from edp_tui.dagster.models import LogChunk, LogKey
from edp_tui.dagster.tail import ComputeLogTail, FollowState, follow_live
from edp_tui.util.backoff import Backoff
from edp_tui.util.poll import PollLoop


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]


async def run_until(loop: PollLoop, predicate: object, timeout: float = 5.0) -> None:
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(timeout):
            while not predicate():  # type: ignore[operator]
                await asyncio.sleep(0.005)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize(
    "failure",
    [KeyError("results"), AttributeError("'NoneType' object has no attribute 'get'"), TypeError("bad")],
    ids=["KeyError", "AttributeError", "TypeError"],
)
async def test_a_payload_shape_error_is_shown_retried_and_logged_once(
    failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    shown: list[tuple[Exception | None, float | None]] = []
    polls = 0

    async def poll() -> None:
        nonlocal polls
        polls += 1
        if polls <= 3:
            raise failure

    loop = PollLoop(
        poll, interval=lambda: 0.001, on_error=lambda e, r: shown.append((e, r)), max_backoff=0.005, name="p"
    )
    with caplog.at_level(logging.ERROR, logger="edp_tui"):
        await run_until(loop, lambda: loop.polls >= 5)
    # Every failure is shown with its retry delay; the recovery clears it; the log has one entry.
    assert [e for e, _ in shown] == [failure, failure, failure, None]
    assert all(r is not None and r > 0 for _, r in shown[:3]) and loop.last_error is None
    assert errors_logged(caplog) == [f"p: poll failed: {failure}"]


async def test_a_backend_failure_is_shown_and_retried_but_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    polls = 0

    async def poll() -> None:
        nonlocal polls
        polls += 1
        raise DagsterUnreachable("http://x/graphql", "Connection refused")

    loop = PollLoop(poll, interval=lambda: 0.001, max_backoff=0.005)
    with caplog.at_level(logging.ERROR, logger="edp_tui"):
        await run_until(loop, lambda: loop.polls >= 3)
    assert isinstance(loop.last_error, DagsterUnreachable) and errors_logged(caplog) == []


async def test_the_loop_sleeps_while_not_wanted_and_a_wake_polls_once() -> None:
    wanted = False
    asked = 0
    polls = 0

    def is_wanted() -> bool:
        nonlocal asked
        asked += 1
        return wanted

    async def poll() -> None:
        nonlocal polls
        polls += 1

    async def until(predicate: object) -> None:
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.001)

    loop = PollLoop(poll, interval=lambda: 0.001, wanted=is_wanted)
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(5):
            # The first poll runs whatever is wanted; once the loop has been told "not wanted" it waits.
            await until(lambda: asked >= 1)
            assert polls == 1
            loop.wake()
            await until(lambda: asked >= 2)
            assert polls == 2  # one wake, one poll
            wanted = True
            loop.wake()
            await until(lambda: polls >= 6)  # wanted: it polls by itself again
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class ShapeErrorLogs:
    """A webserver whose subscription and query both answer with a payload of an unexpected shape."""

    def __init__(self) -> None:
        self.queries = 0

    def captured_logs_stream(self, key: LogKey, cursor: str | None = None) -> AsyncIterator[LogChunk]:
        async def frames() -> AsyncIterator[LogChunk]:
            raise KeyError("capturedLogs")
            yield  # pragma: no cover - an async generator

        return frames()

    async def captured_logs(self, key: LogKey, cursor: str | None = None, limit: int = 0) -> LogChunk:
        self.queries += 1
        raise KeyError("stdout")


async def test_the_compute_log_follower_logs_shape_errors_by_the_same_rule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = ShapeErrorLogs()
    states: list[FollowState] = []
    follower = asyncio.create_task(
        follow_live(
            ComputeLogTail(LogKey("r", "k")),
            client,  # type: ignore[arg-type]
            lambda lines: None,
            states.append,
            poll_interval=0.001,
            retry=Backoff(0.02, 0.02),
        )
    )
    with caplog.at_level(logging.ERROR, logger="edp_tui"):
        try:
            async with asyncio.timeout(5):
                while client.queries < 10:
                    await asyncio.sleep(0.005)
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
    # Polled many times, resubscribed at least once: each kind of failure is in the log once.
    assert sorted(errors_logged(caplog)) == [
        "compute-log poll failed: 'stdout'",
        "compute-log subscription failed: 'capturedLogs'",
    ]
    assert any(s.poll_error is not None for s in states)
