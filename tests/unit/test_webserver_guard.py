"""edp_platform.webserver's CrossSiteGuard in front of a stand-in of Dagster's app: every request shape a web
page can send cross-site is refused with 403 before it reaches the app; what the Dagster UI, edp-tui and
dagster-graphql's client send passes. (tests/integration/test_platform_webserver_guard.py: the real Dagster
app; tests/e2e: a real browser on the compose stack.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from edp_platform.webserver import Allowed, CrossSiteGuard, allowed_from_env, reserved_launch_tags
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

PORT = 3000
ALLOWED = allowed_from_env({"EDP_PUBLISHED_PORT": str(PORT), "EDP_PUBLISHED_ADDRESS": "127.0.0.1"})
SAME_ORIGIN = f"http://127.0.0.1:{PORT}"
RELOAD = 'mutation { reloadRepositoryLocation(repositoryLocationName: "etl_pipeline") { __typename } }'
reached: list[str] = []


async def graphql(request: Request) -> Any:
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        return HTMLResponse("<html>GraphiQL</html>")
    reached.append(request.method)
    return JSONResponse({"data": {"ok": True}})


async def graphql_ws(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="graphql-ws")
    await websocket.receive_json()
    await websocket.send_json({"type": "connection_ack"})
    await websocket.close()


async def report(request: Request) -> Any:
    reached.append("report")
    return JSONResponse({})


APP = Starlette(
    routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_ws),
        Route("/report_asset_materialization/{key:path}", report, methods=["POST"]),
        Route("/", lambda r: HTMLResponse("ui")),
    ]
)


@pytest.fixture
def client() -> TestClient:
    reached.clear()
    return TestClient(CrossSiteGuard(APP, ALLOWED), base_url=f"http://127.0.0.1:{PORT}")


def post_json(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post(
        "/graphql", content=json.dumps(body), headers={"content-type": "application/json", **headers}
    )


# ---- refused -----------------------------------------------------------------------------------------------


def test_a_mutation_sent_as_a_get_is_refused(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": RELOAD})
    assert response.status_code == 403 and "GraphQL over GET" in response.json()["reason"]
    # Even when it asks for HTML: a query in the URL is no request for GraphiQL's page.
    assert (
        client.get("/graphql", params={"query": RELOAD}, headers={"accept": "text/html"}).status_code == 403
    )
    assert reached == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
        "text/plain; x=application/json",  # Dagster's own check would take this for JSON
        "application/graphql",
        "",
    ],
)
def test_a_post_that_is_not_json_is_refused(client: TestClient, content_type: str) -> None:
    body = json.dumps({"query": RELOAD})
    response = client.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == 403 and "application/json only" in response.json()["reason"]
    assert reached == []


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", f"http://127.0.0.1:{PORT + 1}", "http://localhost"]
)
def test_a_foreign_origin_is_refused(client: TestClient, origin: str) -> None:
    response = post_json(client, {"query": RELOAD}, origin=origin)
    assert response.status_code == 403 and "not an allowed origin" in response.json()["reason"]
    assert client.post("/report_asset_materialization/a", headers={"origin": origin}).status_code == 403
    assert reached == []


@pytest.mark.parametrize("host", ["evil.example", "evil.example:3000", "127.0.0.1.nip.io:3000", ""])
def test_a_foreign_host_is_refused_whatever_the_request(client: TestClient, host: str) -> None:
    """DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 is same-origin for the
    browser; only the Host header tells."""
    assert post_json(client, {"query": "{ version }"}, host=host).status_code == 403
    response = client.get("/", headers={"host": host})
    assert response.status_code == 403 and "not an allowed host" in response.json()["reason"]
    assert reached == []


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_cross_site_fetch_is_refused(client: TestClient, site: str) -> None:
    assert post_json(client, {"query": RELOAD}, **{"sec-fetch-site": site}).status_code == 403
    assert client.post("/report_asset_materialization/a", headers={"sec-fetch-site": site}).status_code == 403
    assert reached == []


def test_a_cross_site_navigation_to_a_page_is_not(client: TestClient) -> None:
    """A link to the UI in a mail or another tool: a top-level GET of a page, harmless."""
    assert (
        client.get("/", headers={"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}).status_code
        == 200
    )


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://evil.example"}, {"origin": "null"}, {"host": "evil.example:3000"}],
)
def test_the_websocket_refuses_a_foreign_origin_or_host(client: TestClient, headers: dict[str, str]) -> None:
    headers = {"host": f"127.0.0.1:{PORT}", **headers}
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/graphql", subprotocols=["graphql-ws"], headers=headers) as ws:
            ws.send_json({"type": "connection_init"})
            ws.receive_json()
    assert refused.value.code == 1008


LAUNCH_VARS = """
mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename } }
"""


@pytest.mark.parametrize("key", ["edp/lost_worker", "edp/worker", " edp/x"])
def test_a_launch_with_a_reserved_tag_is_refused(client: TestClient, key: str) -> None:
    params = {"selector": {}, "executionMetadata": {"tags": [{"key": key, "value": "forged"}]}}
    response = post_json(client, {"query": LAUNCH_VARS, "variables": {"params": params}})
    assert response.status_code == 403 and "reserves" in response.json()["reason"]
    literal = (
        "mutation { launchMultipleRuns(executionParamsList: "
        '[{executionMetadata: {tags: [{key: "%s", value: "x"}]}}]) { __typename } }'
    )
    assert post_json(client, {"query": literal % key.strip()}).status_code == 403
    assert reached == []


def test_reserved_tags_are_found_only_in_launches_and_a_reexecution_may_carry_its_parents() -> None:
    tags = {"executionMetadata": {"tags": [{"key": "edp/lost_worker", "value": "v"}]}}
    assert reserved_launch_tags({"query": LAUNCH_VARS, "variables": {"params": tags}}) == ["edp/lost_worker"]
    reexecute = (
        "mutation R($p: ExecutionParams!) { launchRunReexecution(executionParams: $p) { __typename } }"
    )
    assert reserved_launch_tags({"query": reexecute, "variables": {"p": tags}}) == []
    assert reserved_launch_tags({"query": "query { runsOrError { __typename } }"}) == []
    assert reserved_launch_tags({"query": "mutation {"}) == []  # Dagster answers what does not parse


def test_a_body_past_the_limit_is_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from edp_platform import webserver

    monkeypatch.setattr(webserver, "MAX_GRAPHQL_BODY", 1024)
    response = post_json(client, {"query": "{ version }", "pad": "x" * 2048})
    assert response.status_code == 403 and "larger than" in response.json()["reason"]


# ---- passed ------------------------------------------------------------------------------------------------


def test_what_the_ui_and_the_clients_send_passes(client: TestClient) -> None:
    # The Dagster UI: same origin, JSON, its operation name in the query string.
    ui = client.post(
        "/graphql?op=LaunchRun",
        content=json.dumps({"query": RELOAD}),
        headers={"content-type": "application/json", "origin": SAME_ORIGIN, "sec-fetch-site": "same-origin"},
    )
    assert ui.status_code == 200
    # edp-tui (httpx) and dagster-graphql's client (requests via gql): JSON, no Origin.
    assert (
        post_json(
            client, {"query": "{ version }"}, **{"content-type": "application/json; charset=utf-8"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/graphql", json={"query": "{ version }"}, headers={"host": f"localhost:{PORT}"}
        ).status_code
        == 200
    )
    assert reached == ["POST", "POST", "POST"]
    # GraphiQL's page, and the UI's pages.
    assert client.get("/graphql", headers={"accept": "text/html"}).text == "<html>GraphiQL</html>"
    assert client.get("/").text == "ui"


@pytest.mark.parametrize("headers", [{}, {"origin": SAME_ORIGIN}, {"origin": f"http://localhost:{PORT}"}])
def test_the_websocket_opens_for_the_ui_and_clients(client: TestClient, headers: dict[str, str]) -> None:
    headers = {"host": f"127.0.0.1:{PORT}", **headers}
    with client.websocket_connect("/graphql", subprotocols=["graphql-ws"], headers=headers) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json() == {"type": "connection_ack"}


def test_the_settings() -> None:
    default = allowed_from_env({"EDP_PUBLISHED_PORT": "3111", "EDP_PUBLISHED_ADDRESS": "192.0.2.7"})
    assert (
        default.host_ok("192.0.2.7:3111") and default.host_ok("localhost") and default.host_ok("[::1]:3111")
    )
    assert default.origin_ok("http://192.0.2.7:3111") and default.origin_ok("http://LOCALHOST:3111/")
    assert not default.origin_ok("http://localhost:3000")
    exposed = allowed_from_env({"EDP_PUBLISHED_ADDRESS": "0.0.0.0"})
    assert not exposed.host_ok("0.0.0.0:3000")
    own = allowed_from_env(
        {
            "EDP_WEBSERVER_ALLOWED_HOSTS": "dagster.example.com",
            "EDP_WEBSERVER_ALLOWED_ORIGINS": "https://dagster.example.com",
        }
    )
    assert own == Allowed(frozenset({"dagster.example.com"}), frozenset({"https://dagster.example.com"}))
    assert not own.host_ok("localhost:3000")
