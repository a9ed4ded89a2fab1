"""Fetching the reload status from the user-code container through the Docker API (``get_archive``).

One reader for the dashboard and the CLI, built on the composition root's `DockerEndpoint`.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Protocol

import docker
import docker.errors

from edp_tui.docker.endpoint import DockerEndpoint, LazyClient
from edp_tui.docker.errors import CONNECTION_ERRORS, ContainerNotFound, EngineUnreachable, describe
from edp_tui.docker.models import PROJECT_LABEL, SERVICE_LABEL
from edp_tui.reload_status.models import ReloadStatus, ReloadStatusError

STATUS_PATH = "/opt/dagster/reload/status.json"
CODE_SERVICE = "user-code"
MAX_BYTES = 4 * 1024 * 1024
TORN_READ_RETRIES = 3


class TornDocument(ReloadStatusError):
    """Not JSON: torn by a concurrent replace (read again), or broken (the last try raises it)."""


class ReloadStatusSource(Protocol):
    def read(self) -> ReloadStatus | None: ...

    def close(self) -> None: ...


class ContainerReloadStatus:
    """Reads ``status.json`` of the project's ``user-code`` container; None when the supervisor wrote none yet
    (a stack without reload on save, or a first load still starting). Blocking: call from a worker thread."""

    def __init__(
        self, project: str, endpoint: DockerEndpoint, *, service: str = CODE_SERVICE, path: str = STATUS_PATH
    ) -> None:
        self.project = project
        self.endpoint = endpoint
        self.service = service
        self.path = path
        self._client = LazyClient(endpoint)

    def _api(self) -> docker.APIClient:
        return self._client.get()

    def _container_id(self, api: docker.APIClient) -> str:
        labels = [f"{PROJECT_LABEL}={self.project}", f"{SERVICE_LABEL}={self.service}"]
        found = api.containers(filters={"label": labels, "status": "running"})
        if not found:
            raise ContainerNotFound(f"no running {self.service} container in project {self.project}")
        return str(found[0]["Id"])

    def read(self) -> ReloadStatus | None:
        # The engine's archive can tear a file that is replaced while it is read (its tar header takes the
        # size of one file, the bytes come from the next): a torn document is read again, a few times.
        for _ in range(TORN_READ_RETRIES):
            try:
                return self._read_once()
            except TornDocument:
                time.sleep(0.1)
        return self._read_once()

    def _read_once(self) -> ReloadStatus | None:
        try:
            api = self._api()
            stream, _ = api.get_archive(self._container_id(api), self.path)
            data = b"".join(stream)
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            raise ReloadStatusError(f"reading {self.path}: {describe(exc)}") from exc
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            self.close()
            raise EngineUnreachable(f"{self.endpoint.base_url}: {describe(exc)}") from exc
        return parse_archive(data, self.path)

    def close(self) -> None:
        self._client.close()


def parse_archive(data: bytes, path: str = STATUS_PATH) -> ReloadStatus:
    """The status from the one-file tar stream ``get_archive`` answers."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = next((m for m in tar.getmembers() if m.isfile()), None)
            if member is None or member.size > MAX_BYTES:
                raise ReloadStatusError(f"{path}: no file of a sensible size in the archive")
            handle = tar.extractfile(member)
            raw = handle.read() if handle is not None else b""
    except tarfile.TarError as exc:
        raise ReloadStatusError(f"{path}: unreadable archive ({exc})") from exc
    try:
        return ReloadStatus.parse(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TornDocument(f"{path}: not a JSON document ({exc})") from exc
