"""The webserver's cross-site guard (edp_platform.webserver) in front of the real Dagster webserver on the
process stack: what a web page can send cross-site never reaches Dagster (a GET mutation reloaded the
location before), what the Dagster UI, edp-tui and dagster-graphql's DagsterGraphQLClient send works."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from dagster_graphql import DagsterGraphQLClient

from edp_tui.dagster.client import DagsterClient
from tests.support.process_stack import ProcessStack

RELOAD = 'mutation { reloadRepositoryLocation(repositoryLocationName: "etl_pipeline") { __typename } }'
LAUNCH = """
mutation ($params: ExecutionParams!) {
  launchRun(executionParams: $params) { __typename ... on LaunchRunSuccess { run { runId } } }
}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessStack]:
    with ProcessStack(tmp_path_factory.mktemp("guard"), start_daemon=False, auto_reload=False) as stack:
        yield stack


def reloads(stack: ProcessStack) -> int:
    return len(json.loads(stack.reload_status_path.read_text())["reloads"])


def test_a_get_mutation_and_a_form_post_never_reach_dagster(stack: ProcessStack) -> None:
    before = reloads(stack)
    with httpx.Client(timeout=60) as http:
        get = http.get(stack.graphql_url, params={"query": RELOAD})
        form = http.post(stack.graphql_url, data={"query": RELOAD})
        text = http.post(
            stack.graphql_url,
            content=json.dumps({"query": RELOAD}),
            headers={"content-type": "text/plain; a=application/json"},
        )
        foreign = http.post(
            stack.graphql_url, json={"query": RELOAD}, headers={"origin": "https://evil.example"}
        )
        rebound = http.post(stack.graphql_url, json={"query": RELOAD}, headers={"host": "evil.example"})
    assert [r.status_code for r in (get, form, text, foreign, rebound)] == [403] * 5
    assert reloads(stack) == before  # none of them reloaded the location


def test_a_launch_with_a_reserved_tag_is_refused_and_one_without_is_launched(stack: ProcessStack) -> None:
    params: dict[str, Any] = {"selector": {**stack.repository_selector, "jobName": "ingestion_job"}}
    forged = {**params, "executionMetadata": {"tags": [{"key": "edp/lost_worker", "value": "forged"}]}}
    with httpx.Client(timeout=60) as http:
        refused = http.post(stack.graphql_url, json={"query": LAUNCH, "variables": {"params": forged}})
        assert refused.status_code == 403 and "edp/lost_worker" in refused.json()["reason"]
        plain = {**params, "executionMetadata": {"tags": [{"key": "team", "value": "data"}]}}
        launched = http.post(stack.graphql_url, json={"query": LAUNCH, "variables": {"params": plain}})
    assert launched.json()["data"]["launchRun"]["__typename"] == "LaunchRunSuccess"


def test_dagster_graphqls_official_client_works(stack: ProcessStack) -> None:
    client = DagsterGraphQLClient("127.0.0.1", port_number=stack.webserver_port)
    info = client.reload_repository_location("etl_pipeline")
    assert info.status.name == "SUCCESS", info


def test_edp_tuis_client_works_over_http_and_its_websocket(stack: ProcessStack) -> None:
    async def use() -> tuple[list[str], Any]:
        async with DagsterClient(stack.graphql_url, timeout=60) as client:
            names = [loc.name for loc in await client.locations()]
            events = client.location_events()
            first = asyncio.ensure_future(anext(events))  # the subscription, over the websocket
            for _ in range(20):  # reload until the subscription (opened meanwhile) reports one
                await client.reload_location("etl_pipeline")
                await asyncio.wait([first], timeout=5)
                if first.done():
                    break
            event = first.result()
            await events.aclose()  # type: ignore[attr-defined]
            return names, event

    names, event = asyncio.run(use())
    assert "etl_pipeline" in names and event is not None


def ws_url(stack: ProcessStack) -> str:
    return stack.graphql_url.replace("http://", "ws://")


async def ws_handshake(stack: ProcessStack, **headers: str) -> dict[str, Any]:
    async with websockets.connect(
        ws_url(stack), subprotocols=[websockets.Subprotocol("graphql-ws")], additional_headers=headers
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        return dict(json.loads(await asyncio.wait_for(ws.recv(), 60)))


def test_the_websocket_opens_for_clients_and_the_same_origin_only(stack: ProcessStack) -> None:
    assert asyncio.run(ws_handshake(stack))["type"] == "connection_ack"
    assert asyncio.run(ws_handshake(stack, Origin=stack.webserver_url))["type"] == "connection_ack"
    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(ws_handshake(stack, Origin="https://evil.example"))
    assert refused.value.response.status_code == 403
