"""The composition root: one Docker endpoint (with the context's TLS) shared by every Docker source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.context import ContextAPI
from docker.tls import TLSConfig

from edp_tui.backends import build_backends
from edp_tui.compose import ComposeProject, ComposeService
from edp_tui.config import Config


class RecordedClient:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def close(self) -> None:
        pass


@pytest.fixture
def tls_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TLSConfig:
    """A docker config whose current context is a TCP engine with client-certificate TLS."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "remote-tls"}))
    pems = {}
    for name in ("ca", "cert", "key"):
        pems[name] = tmp_path / f"{name}.pem"
        pems[name].write_text(f"not a real {name}\n")
    tls = TLSConfig(client_cert=(str(pems["cert"]), str(pems["key"])), ca_cert=str(pems["ca"]), verify=True)
    ContextAPI.create_context("remote-tls", host="tcp://127.0.0.1:2376", tls_cfg=tls)
    return tls


def test_a_tls_context_reaches_the_services_panel_and_the_logs_pane_alike(
    tls_context: TLSConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[RecordedClient] = []

    def record(**kwargs: Any) -> RecordedClient:
        made.append(RecordedClient(**kwargs))
        return made[-1]

    monkeypatch.setattr(docker, "APIClient", record)
    compose = ComposeProject("edp", Path("compose.yaml"), (ComposeService("db", None, None, (), False),))
    backends = build_backends(Config(compose_file=Path("compose.yaml")), compose)

    backends.services._api()  # type: ignore[attr-defined]  # the services panel's client
    backends.logs._default_factory()  # type: ignore[attr-defined]  # the logs pane's client
    assert len(made) == 2
    for client in made:
        assert client.kwargs["base_url"] == "https://127.0.0.1:2376"  # docker-py: tcp + TLS
        tls = client.kwargs["tls"]
        assert isinstance(tls, TLSConfig), "the context's TLS settings were lost"
        assert tls.ca_cert and tls.ca_cert.endswith("ca.pem")
        assert tls.cert and tls.cert[0].endswith("cert.pem")
    assert backends.webserver_url == "http://127.0.0.1:3000"


def test_an_explicit_host_wins_over_the_context(
    tls_context: TLSConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[dict[str, Any]] = []
    monkeypatch.setattr(docker, "APIClient", lambda **kw: made.append(kw) or RecordedClient(**kw))
    compose = ComposeProject("edp", Path("compose.yaml"), ())
    config = Config(compose_file=Path("compose.yaml"), docker_host="unix:///run/other.sock")
    backends = build_backends(config, compose)
    backends.logs._default_factory()  # type: ignore[attr-defined]
    assert made[0]["base_url"] == "unix:///run/other.sock" and made[0]["tls"] is None
