"""Pushed run statuses: frames of `pipelineRunLogs` (shapes captured from dagster-webserver 1.13.27), the
forward-only merge, the client over a local graphql-ws server, and the watcher's subscriptions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterRequestRejected, DagsterUnreachable
from edp_tui.dagster.models import RunSummary
from edp_tui.dagster.run_push import RunStatusChange, RunStatusWatcher, apply_change, status_changes

RUN = "05f7777f-f90f-48b0-a17d-bbcf8d2671cd"
# Captured: the first frame of a finished run (past events; only the status events carry fields).
PAST = {
    "__typename": "PipelineRunLogsSubscriptionSuccess",
    "cursor": "eyJ0eXBlIjogIlNUT1JBR0VfSUQiLCAidmFsdWUiOiAyNDd9",
    "messages": [
        {"__typename": "AssetMaterializationPlannedEvent"},
        {"__typename": "RunEnqueuedEvent", "eventType": "RUN_ENQUEUED", "timestamp": "1796128307766"},
        {"__typename": "RunDequeuedEvent"},
        {"__typename": "RunStartingEvent", "eventType": "RUN_STARTING", "timestamp": "1796128308901"},
    ],
}
MISSING = {
    "__typename": "PipelineRunLogsSubscriptionFailure",
    "message": "Could not load run with id 00000000-0000-0000-0000-000000000000",
    "missingRunId": "00000000-0000-0000-0000-000000000000",
}


def test_a_frame_gives_its_status_changes_in_order() -> None:
    assert status_changes(RUN, PAST) == [
        RunStatusChange(RUN, "QUEUED", 1796128307.766),
        RunStatusChange(RUN, "STARTING", 1796128308.901),
    ]
    assert status_changes(RUN, {"__typename": "PipelineRunLogsSubscriptionSuccess", "messages": []}) == []


def test_a_missing_run_is_an_error() -> None:
    with pytest.raises(DagsterRequestRejected, match="Could not load run"):
        status_changes(RUN, MISSING)


def test_a_change_only_moves_a_run_forward() -> None:
    queued = RunSummary(RUN, "job", "QUEUED", 100.0, None, None, True)
    started = apply_change(queued, RunStatusChange(RUN, "STARTED", 105.0))
    assert (started.status, started.start_time, started.end_time, started.can_terminate) == (
        "STARTED",
        105.0,
        None,
        True,
    )
    done = apply_change(started, RunStatusChange(RUN, "FAILURE", 110.0))
    assert (done.status, done.start_time, done.end_time, done.can_terminate) == (
        "FAILURE",
        105.0,
        110.0,
        False,
    )
    # Older news (a past event replayed, a read lagging behind) changes nothing.
    assert apply_change(done, RunStatusChange(RUN, "STARTED", 105.0)) is done
    assert apply_change(started, RunStatusChange(RUN, "STARTING", 104.0)) is started


async def test_the_client_subscribes_with_the_run_id_and_yields_each_frame() -> None:
    starts: list[Any] = []

    async def handler(ws: ServerConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "start":
                starts.append(frame["payload"])
                await ws.send(json.dumps({"type": "connection_ack"}))
                for payload in (PAST, {**PAST, "messages": []}):
                    body = {"data": {"pipelineRunLogs": payload}}
                    await ws.send(json.dumps({"id": frame["id"], "type": "data", "payload": body}))
                await ws.send(json.dumps({"id": frame["id"], "type": "complete"}))

    async with serve(handler, "127.0.0.1", 0, subprotocols=["graphql-ws"]) as srv:  # type: ignore[list-item]
        port = next(iter(srv.sockets)).getsockname()[1]
        client = DagsterClient(f"http://127.0.0.1:{port}/graphql", timeout=5)
        frames = [f async for f in client.run_status_changes(RUN)]
    assert [len(f) for f in frames] == [2, 0]
    assert starts[0]["operation_name"] == "RunStatusEvents" and starts[0]["variables"] == {"runId": RUN}


class Streams:
    """subscribe(run_id) for the watcher: fails ``fail`` times per run, then stays open with queued frames."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.opened: list[str] = []
        self.open: set[str] = set()
        self.queues: dict[str, asyncio.Queue[list[RunStatusChange]]] = {}

    async def subscribe(self, run_id: str) -> AsyncIterator[list[RunStatusChange]]:
        self.opened.append(run_id)
        if self.opened.count(run_id) <= self.fail:
            raise DagsterUnreachable("ws://x/graphql", "Connection refused")
        queue = self.queues.setdefault(run_id, asyncio.Queue())
        self.open.add(run_id)
        try:
            yield []
            while True:
                yield await queue.get()
        finally:
            self.open.discard(run_id)


async def until(predicate: Any, limit: int = 500) -> None:
    for _ in range(limit):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met")


async def test_the_watcher_follows_the_runs_asked_for_and_closes_the_rest() -> None:
    streams = Streams()
    seen: list[RunStatusChange] = []
    watcher = RunStatusWatcher(streams.subscribe, seen.append)
    watcher.watch(["a", "b"])
    await until(lambda: watcher.connected == {"a", "b"})
    streams.queues["a"].put_nowait([RunStatusChange("a", "STARTED", 1.0)])
    await until(lambda: bool(seen))
    assert seen == [RunStatusChange("a", "STARTED", 1.0)]
    watcher.watch(["b"])
    await until(lambda: streams.open == {"b"})
    watcher.close()
    await until(lambda: not streams.open)
    assert not watcher.watched and streams.opened == ["a", "b"]


async def test_a_failed_subscription_is_recorded_and_retried() -> None:
    streams = Streams(fail=2)
    states: list[bool] = []
    watcher = RunStatusWatcher(streams.subscribe, lambda c: None, retry_base=0.01, retry_cap=0.02)
    watcher._on_state = lambda: states.append(bool(watcher.errors))
    watcher.watch(["a"])
    await until(lambda: "a" in watcher.connected)
    assert streams.opened == ["a", "a", "a"]
    assert states == [True, True, False]  # failed, failed, then live again
    assert not watcher.errors
    watcher.close()
