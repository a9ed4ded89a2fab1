"""Subscriptions against a real (local) websocket server that sends frames Dagster never should: every bad
frame becomes a `DagsterError` the caller can show and retry, never a bare ValueError/AttributeError."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterError, DagsterUnreachable
from edp_tui.dagster.models import LogKey


@asynccontextmanager
async def server(frames: list[Any], *, close_after: bool = True) -> AsyncIterator[DagsterClient]:
    """A graphql-ws server that answers the start of operation "1" with ``frames`` (str sent raw)."""

    async def handler(ws: ServerConnection) -> None:
        async for raw in ws:
            if json.loads(raw).get("type") == "start":
                await ws.send(json.dumps({"type": "connection_ack"}))
                for frame in frames:
                    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
                if close_after:
                    await ws.close()
                return

    async with serve(handler, "127.0.0.1", 0, subprotocols=["graphql-ws"]) as srv:  # type: ignore[list-item]
        port = next(iter(srv.sockets)).getsockname()[1]
        yield DagsterClient(f"http://127.0.0.1:{port}/graphql", timeout=5)


def data(payload: Any) -> dict[str, Any]:
    return {"id": "1", "type": "data", "payload": payload}


GOOD = data({"data": {"capturedLogs": {"stdout": "hi\n", "stderr": "", "cursor": "c1"}}})
BAD_FRAMES = [
    pytest.param("not json {", id="non-json"),
    pytest.param("[1, 2]", id="a-list"),
    pytest.param(json.dumps("text"), id="a-string"),
    pytest.param(data("payload as a string"), id="payload-not-an-object"),
    pytest.param(data({"data": ["x"]}), id="data-not-an-object"),
]


@pytest.mark.parametrize("bad", BAD_FRAMES)
async def test_a_bad_frame_is_a_dagster_error(bad: Any) -> None:
    async with server([GOOD, bad]) as client:
        got = []
        with pytest.raises(DagsterError) as info:
            async for chunk in client.captured_logs_stream(LogKey("run", "step")):
                got.append(chunk)
        assert got and got[0].stdout == "hi\n"  # what came before the bad frame was delivered
        assert not isinstance(info.value, DagsterUnreachable)


async def test_captured_logs_null_is_an_empty_chunk_not_a_crash() -> None:
    frames = [data({"data": {"capturedLogs": None}}), GOOD, {"id": "1", "type": "complete"}]
    async with server(frames) as client:
        chunks = [c async for c in client.captured_logs_stream(LogKey("run", "step"))]
    assert [c.stdout for c in chunks] == ["", "hi\n"]


async def test_a_socket_closed_mid_stream_is_unreachable() -> None:
    async with server([GOOD], close_after=True) as client:
        # The server closes without `complete`: the caller must learn it was cut, not that it ended.
        with pytest.raises(DagsterUnreachable):
            async for _ in client.captured_logs_stream(LogKey("run", "step")):
                pass
