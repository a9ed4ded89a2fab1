"""Subscriptions against a real (local) websocket server that sends frames Dagster never should: every bad
frame becomes a `DagsterError` the caller can show and retry, never a bare ValueError/AttributeError."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterError, DagsterUnreachable
from edp_tui.dagster.models import LogKey
from edp_tui.dagster.tail import ComputeLogTail, FollowState, follow_live


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


async def test_a_webserver_without_websockets_means_polling_with_the_reason() -> None:
    """An HTTP server that refuses the upgrade (a proxy without websockets): `follow_live` polls the query
    instead, says why, and keeps the lines coming."""

    async def http_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    def graphql(request: httpx.Request) -> httpx.Response:
        cursor = json.loads(request.content)["variables"]["cursor"]
        chunk = {"stdout": "polled\n", "stderr": "", "cursor": "7:0"} if cursor is None else None
        return httpx.Response(200, json={"data": {"capturedLogs": chunk or {"cursor": cursor}}})

    srv = await asyncio.start_server(http_only, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    client = DagsterClient(
        f"http://127.0.0.1:{port}/graphql", timeout=5, transport=httpx.MockTransport(graphql)
    )
    lines: list[tuple[str, str]] = []
    states: list[FollowState] = []
    task = asyncio.create_task(
        follow_live(
            ComputeLogTail(LogKey("run", "key")), client, lines.extend, states.append, poll_interval=0.01
        )
    )
    try:
        async with asyncio.timeout(10):
            while not lines:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        srv.close()
        await client.aclose()
    assert lines == [("stdout", "polled")]
    assert states[0].push and not states[-1].push
    assert "polling (push unavailable: " in states[-1].describe() and "404" in states[-1].reason
