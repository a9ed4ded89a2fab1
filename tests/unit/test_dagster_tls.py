"""An https:// webserver: HTTP and the websocket trust the same certificates (``ca_file``, else the system's
store), checked against real TLS servers whose certificate a test CA of its own signed."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import DagsterUnreachable


def openssl(*args: str, cwd: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is missing (Debian's openssl package)")
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ca.pem (a test CA) and server.pem/server.key (localhost and 127.0.0.1, signed by it)."""
    d = tmp_path_factory.mktemp("tls")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=edp test CA", cwd=d)  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=localhost", cwd=d)  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)  # fmt: skip
    return d


def server_context(certs: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "server.pem", certs / "server.key")
    return context


class GraphQL(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["content-length"]))
        body = json.dumps({"data": {"version": "1.2.3"}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_url(certs: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), GraphQL)
    server.socket = server_context(certs).wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://localhost:{server.server_address[1]}/graphql"
    finally:
        server.shutdown()


async def subscription(ws: ServerConnection) -> None:
    """The legacy graphql-ws protocol, one frame of data, then complete."""
    assert json.loads(await ws.recv())["type"] == "connection_init"
    await ws.send(json.dumps({"type": "connection_ack"}))
    start = json.loads(await ws.recv())
    await ws.send(json.dumps({"id": start["id"], "type": "data", "payload": {"data": {"ok": True}}}))
    await ws.send(json.dumps({"id": start["id"], "type": "complete"}))


async def via_http(url: str, ca_file: Path | None) -> str:
    async with DagsterClient(url, ca_file=ca_file, timeout=10) as client:
        data = await client.execute("DaemonHealth")  # any document: the server answers each the same
        return str(data["version"])


async def via_websocket(certs: Path, ca_file: Path | None) -> list[object]:
    async with serve(subscription, "127.0.0.1", 0, ssl=server_context(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        client = DagsterClient(f"https://localhost:{port}/graphql", ca_file=ca_file, timeout=10)
        return [frame async for frame in client.subscribe("RunStatusEvents")]


def test_https_and_wss_both_trust_the_ca_file(certs: Path, https_url: str) -> None:
    assert asyncio.run(via_http(https_url, certs / "ca.pem")) == "1.2.3"
    assert asyncio.run(via_websocket(certs, certs / "ca.pem")) == [{"ok": True}]


def test_without_the_ca_file_neither_trusts_the_test_ca(certs: Path, https_url: str) -> None:
    with pytest.raises(DagsterUnreachable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        asyncio.run(via_http(https_url, None))
    with pytest.raises(DagsterUnreachable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        asyncio.run(via_websocket(certs, None))


def test_an_unreadable_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    client = DagsterClient("https://localhost:1/graphql", ca_file=tmp_path / "missing.pem")
    with pytest.raises(DagsterUnreachable, match="cannot use ca_file .*missing.pem"):
        client.tls()
