"""Reads sent before anyone asks (`EarlyReads`, the dashboard's first reads): each answer is taken once by
the same read; a stale or refused one is asked again; a timed-out one is the read's failure.
tests/tui/test_first_reads.py checks that the dashboard's FIRST_READS are what its panels read first."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest

from edp_tui.dagster import early
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterUnreachable
from edp_tui.dagster.models import LocationInfo
from tests.unit.test_dagster_client import URL, captured

LOADED, BROKEN = captured("workspace_loaded"), captured("workspace_load_error")


class Webserver:
    """Answers every Workspace read with ``answer`` and records what it was asked (operation, variables)."""

    def __init__(self, answer: tuple[int, Any]) -> None:
        self.answer = answer
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        with self.lock:
            self.asked.append((body["operationName"], body["variables"]))
        status, payload = self.answer
        return httpx.Response(status, json=payload)

    def client(self) -> DagsterClient:
        return DagsterClient(URL, transport=httpx.MockTransport(self.handle))


def states(locations: list[LocationInfo]) -> list[str]:
    return [loc.state for loc in locations]


async def test_an_early_answer_is_taken_once_then_the_webserver_is_asked_again() -> None:
    early_server, later = Webserver(LOADED), Webserver(BROKEN)
    client = later.client()
    client.read_early([("Workspace", {})], transport=httpx.MockTransport(early_server.handle))
    first = await client.locations()
    assert early_server.asked == [("Workspace", {})] and later.asked == []
    second = await client.locations()
    assert later.asked == [("Workspace", {})]
    assert states(first) != states(second)  # each from its own answer


async def test_a_read_listed_twice_is_answered_twice() -> None:
    early_server, later = Webserver(LOADED), Webserver(LOADED)
    client = later.client()
    client.read_early(
        [("Workspace", {}), ("Workspace", {})], transport=httpx.MockTransport(early_server.handle)
    )
    await client.locations()
    await client.locations()
    assert len(early_server.asked) == 2 and later.asked == []


async def test_other_variables_are_asked_for_not_answered_early() -> None:
    early_server, later = Webserver(captured("runs_lean")), Webserver(captured("runs_lean"))
    client = later.client()
    client.read_early(
        [("RunsLean", {"filter": None, "cursor": None, "limit": 50})],
        transport=httpx.MockTransport(early_server.handle),
    )
    await client.runs(limit=10)
    assert later.asked == [("RunsLean", {"filter": None, "cursor": None, "limit": 10})]


async def test_a_stale_early_answer_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(early, "FRESH_S", 0.0)
    early_server, later = Webserver(LOADED), Webserver(LOADED)
    client = later.client()
    client.read_early([("Workspace", {})], transport=httpx.MockTransport(early_server.handle))
    await asyncio.sleep(0.01)
    await client.locations()
    assert later.asked == [("Workspace", {})]


async def test_a_refused_early_read_is_asked_again() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    later = Webserver(LOADED)
    client = later.client()
    client.read_early([("Workspace", {})], transport=httpx.MockTransport(refused))
    assert states(await client.locations()) == ["loaded"]
    assert later.asked == [("Workspace", {})]


async def test_a_timed_out_early_read_is_the_reads_failure_not_asked_again() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    later = Webserver(LOADED)
    client = later.client()
    client.read_early([("Workspace", {})], transport=httpx.MockTransport(slow))
    with pytest.raises(DagsterUnreachable, match="timed out"):
        await client.locations()
    assert later.asked == []
