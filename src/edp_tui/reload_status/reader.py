"""Fetching the reload statuses from the user-code container through the Docker API (``get_archive``).

The platform's code server publishes one document per code location, ``/opt/dagster/reload/<location>.json``
(older stacks: one ``status.json``). The whole directory is read in one ``get_archive`` (a tar of every file
in it): one request whatever the number of locations. One reader for the dashboard and the CLI, built on the
composition root's `DockerEndpoint`.
"""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
import time
from typing import Protocol

import docker
import docker.errors

from edp_tui.docker.endpoint import DockerEndpoint, LazyClient
from edp_tui.docker.errors import CONNECTION_ERRORS, ContainerNotFound, EngineUnreachable, describe
from edp_tui.docker.models import PROJECT_LABEL, SERVICE_LABEL
from edp_tui.reload_status.models import ReloadStatus, ReloadStatusError

STATUS_DIR = "/opt/dagster/reload"
# What a stack published before there was one document per location (read when it is the only one).
LEGACY_NAME = "status.json"
STATUS_PATH = f"{STATUS_DIR}/{LEGACY_NAME}"
CODE_SERVICE = "user-code"
MAX_BYTES = 4 * 1024 * 1024
TORN_READ_RETRIES = 3


class TornDocument(ReloadStatusError):
    """Not JSON: torn by a concurrent replace (read again), or broken (the last try raises it)."""


# Location name -> its status; empty when nothing was published.
ReloadStatuses = dict[str, ReloadStatus]


class ReloadStatusSource(Protocol):
    def read(self) -> ReloadStatuses: ...

    def close(self) -> None: ...


class ContainerReloadStatus:
    """Reads the status documents of the project's ``user-code`` container, by location; empty when the
    supervisor wrote none yet (a stack without reload on save, or a first load still starting). Blocking:
    call from a worker thread."""

    def __init__(
        self, project: str, endpoint: DockerEndpoint, *, service: str = CODE_SERVICE, path: str = STATUS_DIR
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

    def read(self) -> ReloadStatuses:
        # The engine's archive can tear a file that is replaced while it is read (its tar header takes the
        # size of one file, the bytes come from the next): a torn document is read again, a few times.
        for _ in range(TORN_READ_RETRIES):
            try:
                return self._read_once()
            except TornDocument:
                time.sleep(0.1)
        return self._read_once()

    def _read_once(self) -> ReloadStatuses:
        try:
            api = self._api()
            stream, _ = api.get_archive(self._container_id(api), self.path)
            data = b"".join(stream)
        except docker.errors.NotFound:
            return {}
        except docker.errors.APIError as exc:
            raise ReloadStatusError(f"reading {self.path}: {describe(exc)}") from exc
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            self.close()
            raise EngineUnreachable(f"{self.endpoint.base_url}: {describe(exc)}") from exc
        return parse_statuses(data, self.path)

    def close(self) -> None:
        self._client.close()


def parse_statuses(data: bytes, path: str = STATUS_DIR) -> ReloadStatuses:
    """Every location's status from the tar stream ``get_archive`` answers for the directory: its ``.json``
    files, not the hidden ones (a document being written beside its final name); the legacy ``status.json``
    only when it is the only one (a leftover beside per-location documents is stale). Keyed by the
    document's own ``location``."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            members = {
                posixpath.basename(m.name): m
                for m in tar.getmembers()
                if m.isfile() and m.name.endswith(".json") and not posixpath.basename(m.name).startswith(".")
            }
            if len(members) > 1:
                members.pop(LEGACY_NAME, None)
            documents = {}
            for name, member in sorted(members.items()):
                if member.size > MAX_BYTES:
                    raise ReloadStatusError(f"{path}/{name}: larger than {MAX_BYTES} bytes")
                handle = tar.extractfile(member)
                documents[name] = handle.read() if handle is not None else b""
    except tarfile.TarError as exc:
        raise ReloadStatusError(f"{path}: unreadable archive ({exc})") from exc
    statuses: ReloadStatuses = {}
    for name, raw in documents.items():
        status = _parse_document(raw, f"{path}/{name}")
        location = status.location if status.location != "?" else name.removesuffix(".json")
        statuses[location] = status
    return statuses


def _parse_document(raw: bytes, where: str) -> ReloadStatus:
    try:
        return ReloadStatus.parse(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TornDocument(f"{where}: not a JSON document ({exc})") from exc


def parse_archive(data: bytes, path: str = STATUS_PATH) -> ReloadStatus:
    """The status from the one-file tar stream ``get_archive`` answers for one document."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = next((m for m in tar.getmembers() if m.isfile()), None)
            if member is None or member.size > MAX_BYTES:
                raise ReloadStatusError(f"{path}: no file of a sensible size in the archive")
            handle = tar.extractfile(member)
            raw = handle.read() if handle is not None else b""
    except tarfile.TarError as exc:
        raise ReloadStatusError(f"{path}: unreadable archive ({exc})") from exc
    return _parse_document(raw, path)
