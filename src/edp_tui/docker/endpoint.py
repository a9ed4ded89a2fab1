"""Which Docker engine to talk to, and the one factory of docker SDK clients for it.

The endpoint is resolved once (by the composition root) and shared by every source, so the services panel,
the container logs and the CLI all reach the same engine with the same TLS settings.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
from docker.context import ContextAPI

from edp_tui.docker.errors import CONNECTION_ERRORS, EngineUnreachable, describe


def resolve_endpoint(docker_host: str | None = None, env: Mapping[str, str] | None = None) -> tuple[str, Any]:
    """(base_url, tls config or None) the docker CLI would use.

    An explicit host wins (TLS from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH as the CLI does); otherwise the context
    named by DOCKER_CONTEXT or the docker config's ``currentContext``.
    """
    env = os.environ if env is None else env
    host = docker_host or env.get("DOCKER_HOST")
    if host:
        tls = None
        if env.get("DOCKER_TLS_VERIFY") or env.get("DOCKER_CERT_PATH"):
            tls = docker.utils.kwargs_from_env(environment=dict(env)).get("tls")
        return host, tls
    name = env.get("DOCKER_CONTEXT") or None
    try:
        context = ContextAPI.get_context(name)
    except Exception as exc:  # a corrupt context store is the user's to fix; say so plainly
        raise EngineUnreachable(f"cannot read docker context {name or '(current)'}: {exc}") from exc
    if context is None:
        raise EngineUnreachable(f"docker context {name!r} does not exist (DOCKER_CONTEXT)")
    # A TLS context says so with its TLSConfig (its Host then reads https://...); None otherwise.
    tls = context.TLSConfig
    return context.Host, tls


@dataclass(frozen=True)
class DockerEndpoint:
    """An engine's address and TLS settings; ``error`` when they could not be resolved (shown, not raised)."""

    base_url: str
    tls: Any = None
    error: EngineUnreachable | None = None

    @classmethod
    def resolve(cls, docker_host: str | None = None, env: Mapping[str, str] | None = None) -> DockerEndpoint:
        """The endpoint the docker CLI would use (see `resolve_endpoint`).

        A broken context store is kept as ``error``: the dashboard starts and shows an unreachable engine."""
        try:
            base_url, tls = resolve_endpoint(docker_host, env)
        except EngineUnreachable as exc:
            return cls(docker_host or "(no docker context)", None, exc)
        return cls(base_url, tls)

    def __str__(self) -> str:
        return self.base_url

    def api_client(self, *, timeout: float | None) -> docker.APIClient:
        """A low-level client for this engine. ``timeout=None``: no read timeout (followed log streams)."""
        if self.error is not None:
            raise self.error
        try:
            # version="auto" negotiates the API version, so old engines (20.10, API 1.41) work too.
            return docker.APIClient(
                base_url=self.base_url,
                version="auto",
                timeout=timeout,  # type: ignore[arg-type]
                tls=self.tls,
            )
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            raise EngineUnreachable(f"{self.base_url}: {describe(exc)}") from exc


class LazyClient:
    """One client for the endpoint, made on first use and dropped on `close` (the next use makes a new one):
    what the small readers (reload status, run containers) share instead of each holding its own lock."""

    def __init__(self, endpoint: DockerEndpoint, *, timeout: float | None = 10.0) -> None:
        self.endpoint = endpoint
        self._timeout = timeout
        self._lock = threading.Lock()
        self._client: docker.APIClient | None = None

    def get(self) -> docker.APIClient:
        with self._lock:
            if self._client is None:
                self._client = self.endpoint.api_client(timeout=self._timeout)
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
