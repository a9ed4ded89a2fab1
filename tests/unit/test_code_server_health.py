"""user-code's healthcheck (edp_platform.code_server.health): Dagster's question, SERVING for "DagsterApi" on
the standard gRPC health service, asked of real gRPC servers (every location's) without importing dagster."""

from __future__ import annotations

import inspect
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from edp_platform.code_server import health
from grpc_health.v1 import health as grpc_health
from grpc_health.v1 import health_pb2, health_pb2_grpc


@pytest.fixture
def server() -> Iterator[tuple[int, grpc_health.HealthServicer]]:
    servicer = grpc_health.HealthServicer()
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(servicer, srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    try:
        yield port, servicer
    finally:
        srv.stop(None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serving_is_healthy(server: tuple[int, grpc_health.HealthServicer]) -> None:
    port, servicer = server
    servicer.set("DagsterApi", health_pb2.HealthCheckResponse.SERVING)
    assert health.check("127.0.0.1", port) == "SERVING"
    assert health.main([str(port)]) == 0


def test_not_serving_is_unhealthy(server: tuple[int, grpc_health.HealthServicer]) -> None:
    port, servicer = server
    servicer.set("DagsterApi", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert health.check("127.0.0.1", port) == "NOT_SERVING"
    assert health.main([str(port)]) == 1


def test_only_dagsters_service_counts(server: tuple[int, grpc_health.HealthServicer]) -> None:
    """Another service serving says nothing about Dagster's API (not registered yet: not found)."""
    port, servicer = server
    servicer.set("Other", health_pb2.HealthCheckResponse.SERVING)
    assert health.check("127.0.0.1", port).startswith(f"no answer from 127.0.0.1:{port}: NOT_FOUND")
    assert health.main([str(port)]) == 1


def test_nothing_listening_is_unhealthy_with_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert health.main([str(port)]) == 1
    assert f"no answer from 127.0.0.1:{port}: UNAVAILABLE" in capsys.readouterr().out


def test_bad_arguments_are_a_usage_error() -> None:
    assert health.main(["not-a-port"]) == 2
    assert health.main(["1", "x"]) == 2


def test_every_location_must_answer(
    server: tuple[int, grpc_health.HealthServicer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without ports, every configured location's (user-code's healthcheck): one that does not answer is
    unhealthy, and the output names it."""
    port, servicer = server
    servicer.set("DagsterApi", health_pb2.HealthCheckResponse.SERVING)
    monkeypatch.setenv("EDP_CODE_LOCATIONS", "shop, demo")
    monkeypatch.setenv("EDP_LOCATION_SHOP_DBT_PROJECT", "shop")
    monkeypatch.setenv("EDP_LOCATION_SHOP_PORT", str(port))
    monkeypatch.setenv("EDP_LOCATION_DEMO_MODULE", "demo.definitions")
    monkeypatch.setenv("EDP_LOCATION_DEMO_PORT", str(free_port()))
    assert health.main([]) == 1
    out = capsys.readouterr().out
    assert "shop: SERVING" in out and "demo: no answer" in out
    monkeypatch.setenv("EDP_CODE_LOCATIONS", "shop")
    assert health.main([]) == 0


def test_a_settings_mistake_is_unhealthy_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EDP_CODE_LOCATIONS", "shop shop")
    monkeypatch.setenv("EDP_LOCATION_SHOP_DBT_PROJECT", "shop")
    assert health.main([]) == 1
    assert "names the location 'shop' twice" in capsys.readouterr().out


def test_the_check_does_not_import_dagster() -> None:
    probe = "import sys, edp_platform.code_server.health; print('dagster' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_dagsters_server_registers_the_service_this_checks() -> None:
    from dagster._grpc import server as dagster_server

    assert f'self._health_servicer.set("{health.SERVICE}", health_pb2.HealthCheckResponse.SERVING)' in (
        inspect.getsource(dagster_server)
    )
