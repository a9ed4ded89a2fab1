"""The Docker engine, seen through the docker SDK, for one compose project. No Textual here.

- The endpoint honours an explicit host (flag / EDP_TUI_DOCKER_HOST / DOCKER_HOST, see config), else the
  current docker context (``DOCKER_CONTEXT`` or ``currentContext`` in the docker config), like the docker CLI.
- Containers are found by Compose's labels, so services that have no container yet still get a row.
- :meth:`DockerServices.run_watch` is push-driven: the engine's event stream triggers an inspect of the one
  service that changed; a slow resync (30 s) is only a safety net.
  A lost engine is retried with exponential backoff.
- Healthcheck probes change the streak and the last probe without any health_status event (that one comes
  only when the status changes): the engine's ``exec_die`` event (a probe, or a `docker exec`, ended) triggers
  a cheap inspect of that one container.
- States are ordered: each read takes a sequence number before it asks the engine, and a state older than
  the one already delivered for its service (a 30 s resync that lands after an event) is dropped. An
  action's own read of the result (restart/stop/start) is delivered to the running watch's sink through the
  same ordering, so it never overwrites a newer event's state; its return value is for callers without a
  watch (the CLI) and for the message that says it is done.
- One exception type per kind of failure, so callers (TUI, CLI) can say precisely what went wrong.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import docker
import docker.errors

from edp_tui.docker.endpoint import DockerEndpoint
from edp_tui.docker.errors import (
    CONNECTION_ERRORS,
    ActionFailed,
    ContainerNotFound,
    DockerError,
    EngineAPIError,
    EngineUnreachable,
    describe,
)
from edp_tui.docker.models import (
    PROJECT_LABEL,
    SERVICE_LABEL,
    WATCHED_ACTIONS,
    EngineEvent,
    EngineStatus,
    ServiceState,
    pick_container,
    state_from_inspect,
)
from edp_tui.util.backoff import Backoff

log = logging.getLogger(__name__)

# A healthcheck probe (or a `docker exec`) ended: the only sign of a probe that did not change the status.
PROBE_ENDED = "exec_die"
# The engine emits exec_die before it records the probe's result: a few short re-reads until it shows.
PROBE_SETTLE_S = (0.05, 0.1, 0.2)


class StatusSink(Protocol):
    """Receives what the watcher learns. Called from the watcher's thread."""

    def on_status(self, status: EngineStatus) -> None: ...

    def on_states(self, states: Sequence[ServiceState]) -> None: ...


class ServiceSource(Protocol):
    """What the dashboard needs from a Docker backend (DockerServices, or an in-memory fake in TUI tests)."""

    engine_url: str
    services: tuple[str, ...]

    def run_watch(self, sink: StatusSink, stop: threading.Event) -> None: ...

    def snapshot(self) -> list[ServiceState]: ...

    # A snapshot read now and delivered to a running watch's sink through its ordering (None then); with no
    # watch running it is returned for the caller to show.
    def refresh(self) -> list[ServiceState] | None: ...

    # Actions: the resulting state reaches the sink of a running watch (ordered like its events); callers
    # must not apply the returned state over the watch's (it may be older than an event delivered meanwhile).
    def restart(self, service: str) -> ServiceState: ...

    def stop(self, service: str) -> ServiceState: ...

    def start(self, service: str) -> ServiceState: ...

    def close(self) -> None: ...


class DockerServices:
    """The project's containers on one engine. Thread-safe for one watcher plus concurrent actions."""

    def __init__(
        self,
        project: str,
        services: Sequence[str],
        endpoint: DockerEndpoint | None = None,
        *,
        timeout: float = 10.0,
        resync_interval: float = 30.0,
        backoff: tuple[float, float] = (0.5, 10.0),
    ) -> None:
        self.project = project
        self.services = tuple(services)
        # None: the endpoint the docker CLI would use (the dashboard's composition root passes its own).
        self.endpoint = endpoint or DockerEndpoint.resolve()
        # The engine's address as a person reads it (messages, the header).
        self.engine_url = self.endpoint.base_url
        self._timeout = timeout
        self.resync_interval = resync_interval
        self._backoff = Backoff(*backoff)
        self._lock = threading.Lock()
        self._client: docker.APIClient | None = None
        self._stream: Any = None
        self._closed = False
        # Ordering of deliveries: a sequence number per read, the newest delivered per service.
        self._seq = itertools.count(1)
        self._delivered: dict[str, tuple[int, ServiceState]] = {}
        # The running watch's sink: actions deliver their result there, through the ordering.
        self._sink: StatusSink | None = None

    # --- client ---------------------------------------------------------------------------------------------
    def _api(self) -> docker.APIClient:
        with self._lock:
            if self._client is not None:
                return self._client
        client = self.endpoint.api_client(timeout=self._timeout)
        with self._lock:
            if self._client is None:
                self._client = client
            else:
                client.close()
            return self._client

    def _drop_client(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # closing a broken connection pool may fail; it is being thrown away anyway
                pass

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one API call, mapping transport failures to EngineUnreachable (and dropping the client)."""
        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound:
            raise
        except docker.errors.APIError as exc:
            raise EngineAPIError(
                f"{self.engine_url}: {what}: {describe(Exception(exc.explanation or exc))}"
            ) from exc
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            self._drop_client()
            raise EngineUnreachable(f"{self.engine_url}: {what}: {describe(exc)}") from exc

    def version(self) -> str:
        api = self._api()
        info = self._call("version", api.version)
        return str(info.get("Version") or "?")

    # --- reading --------------------------------------------------------------------------------------------
    def _summaries(self, service: str | None = None) -> list[dict[str, Any]]:
        labels = [f"{PROJECT_LABEL}={self.project}"]
        if service is not None:
            labels.append(f"{SERVICE_LABEL}={service}")
        api = self._api()
        return list(self._call("list containers", api.containers, all=True, filters={"label": labels}))

    def _state_of(self, service: str, summaries: Sequence[Mapping[str, Any]]) -> ServiceState:
        chosen = pick_container(summaries)
        if chosen is None:
            return ServiceState.missing(service)
        api = self._api()
        try:
            inspect = self._call("inspect", api.inspect_container, chosen["Id"])
        except docker.errors.NotFound:
            # Removed between list and inspect: ask again once, it is now either gone or replaced.
            rest = [s for s in summaries if s.get("Id") != chosen["Id"]]
            return self._state_of(service, rest)
        return state_from_inspect(inspect, service, replicas=len(summaries))

    def snapshot(self) -> list[ServiceState]:
        """Every expected service (in compose order), then any other service of the project found running."""
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for summary in self._summaries():
            grouped[str((summary.get("Labels") or {}).get(SERVICE_LABEL, "?"))].append(summary)
        names = list(self.services) + sorted(set(grouped) - set(self.services))
        return [self._state_of(name, grouped.get(name, [])) for name in names]

    def service_state(self, service: str) -> ServiceState:
        return self._state_of(service, self._summaries(service))

    def refresh(self) -> list[ServiceState] | None:
        # Numbered before the read, as a resync: an event newer than the read wins over it.
        seq = next(self._seq)
        states = self.snapshot()
        sink = self._sink
        if sink is None:
            return states
        self._deliver(sink, seq, states)
        return None

    # --- watching -------------------------------------------------------------------------------------------
    def run_watch(self, sink: StatusSink, stop: threading.Event) -> None:
        """Block until ``stop`` is set: report status and states, driven by the engine's event stream."""
        resync = threading.Thread(
            target=self._resync_loop, args=(sink, stop), name="docker-resync", daemon=True
        )
        self._connected = False
        self._sink = sink
        resync.start()
        self._backoff.reset()
        try:
            while not stop.is_set() and not self._closed:
                try:
                    api = self._api()
                    version = str(self._call("version", api.version).get("Version") or "?")
                    # Open the stream before the snapshot, so nothing that happens in between is missed.
                    stream = self._call(
                        "events",
                        api.events,
                        decode=True,
                        # Filtered by the engine: of the exec_* events only exec_die (a probe ended).
                        filters={
                            "type": "container",
                            "label": [f"{PROJECT_LABEL}={self.project}"],
                            "event": [*WATCHED_ACTIONS, PROBE_ENDED],
                        },
                    )
                    self._stream = stream
                    if stop.is_set() or self._closed:
                        break
                    seq = next(self._seq)
                    states = self.snapshot()
                    self._connected = True
                    sink.on_status(EngineStatus(self.engine_url, True, version=version))
                    self._deliver(sink, seq, states)
                    self._backoff.reset()
                    for payload in stream:
                        if stop.is_set():
                            break
                        event = EngineEvent.from_payload(payload)
                        if event is None or not event.service:
                            continue
                        if event.action == PROBE_ENDED:
                            self._probe_ended(sink, event.service, event.container_id, stop)
                        elif event.action in WATCHED_ACTIONS:
                            seq = next(self._seq)
                            self._deliver(sink, seq, [self.service_state(event.service)])
                    if stop.is_set() or self._closed:
                        break
                    raise EngineUnreachable(f"{self.engine_url}: the engine closed the event stream")
                except Exception as exc:  # noqa: BLE001 - any failure of the stream means: reconnect
                    # (a cut stream surfaces as urllib3, http.client or requests errors)
                    if stop.is_set() or self._closed:
                        break
                    self._connected = False
                    self._close_stream()
                    self._drop_client()
                    delay = self._backoff.failed()
                    message = describe(exc)
                    if message.startswith(self.engine_url + ": "):
                        message = message[len(self.engine_url) + 2 :]
                    attempt = self._backoff.failures
                    sink.on_status(
                        EngineStatus(self.engine_url, False, message, retry_in=delay, attempt=attempt)
                    )
                    stop.wait(delay)
        finally:
            self._connected = False
            self._sink = None
            self._close_stream()

    def _resync_loop(self, sink: StatusSink, stop: threading.Event) -> None:
        # Safety net only (a missed event, a stream that silently hangs): one list+inspect every 30 s.
        while not stop.wait(self.resync_interval) and not self._closed:
            if not self._connected:
                continue
            try:
                seq = next(self._seq)
                self._deliver(sink, seq, self.snapshot())
            except (DockerError, docker.errors.DockerException, *CONNECTION_ERRORS):
                # A dead connection the stream did not notice: closing it makes the watcher reconnect.
                self._close_stream()

    def _deliver(self, sink: StatusSink, seq: int, states: Sequence[ServiceState]) -> None:
        """Hand ``states`` (read after sequence number ``seq`` was taken) to the sink, minus any service whose
        delivered state comes from a later read: what the engine said last wins, not what arrived last."""
        with self._lock:
            fresh = []
            for state in states:
                last = self._delivered.get(state.service)
                if last is not None and last[0] > seq:
                    continue
                self._delivered[state.service] = (seq, state)
                fresh.append(state)
            # Under the lock: two deliveries never cross between the check and the sink.
            if fresh:
                sink.on_states(fresh)

    def _probe_ended(self, sink: StatusSink, service: str, container_id: str, stop: threading.Event) -> None:
        """Re-read one container after a probe: one inspect (no list) unless it is not the service's row."""
        with self._lock:
            last = self._delivered.get(service)
        if last is None or last[1].container_id != container_id:
            seq = next(self._seq)
            self._deliver(sink, seq, [self.service_state(service)])
            return
        before = last[1].last_probe
        api = self._api()
        for pause in (0.0, *PROBE_SETTLE_S):
            if pause and stop.wait(pause):
                return
            seq = next(self._seq)
            try:
                inspect = self._call("inspect", api.inspect_container, container_id)
            except docker.errors.NotFound:
                return  # removed: its destroy event follows
            state = state_from_inspect(inspect, service, replicas=last[1].replicas)
            if state.last_probe != before:
                break
        self._deliver(sink, seq, [state])

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # the socket may already be gone
                pass

    def close(self) -> None:
        self._closed = True
        self._close_stream()
        self._drop_client()

    # --- actions --------------------------------------------------------------------------------------------
    def _container_id(self, service: str) -> str:
        chosen = pick_container(self._summaries(service))
        if chosen is None:
            raise ContainerNotFound(
                f"service {service} has no container in project {self.project} "
                "(create it with `docker compose up`)"
            )
        return str(chosen["Id"])

    def _act(self, verb: str, service: str, **kwargs: Any) -> ServiceState:
        container_id = self._container_id(service)
        api = self._api()
        try:
            self._call(verb, getattr(api, verb), container_id, **kwargs)
        except docker.errors.NotFound as exc:
            raise ContainerNotFound(f"service {service}: container was removed ({describe(exc)})") from exc
        except EngineAPIError as exc:
            api_error = exc.__cause__
            reason = getattr(api_error, "explanation", None) or str(api_error or exc)
            raise ActionFailed(f"{verb} {service} failed: {describe(Exception(reason))}") from exc
        # Numbered before the read, like an event's: an event read after it (the container died at once)
        # wins even when this result is slower to arrive.
        seq = next(self._seq)
        state = self.service_state(service)
        sink = self._sink
        if sink is not None:
            self._deliver(sink, seq, [state])
        return state

    def restart(self, service: str, timeout: int = 10) -> ServiceState:
        return self._act("restart", service, timeout=timeout)

    def stop(self, service: str, timeout: int = 10) -> ServiceState:
        return self._act("stop", service, timeout=timeout)

    def start(self, service: str) -> ServiceState:
        return self._act("start", service)


# The old name, for scripts/screenshot.py until it says DockerServices.
DockerSource = DockerServices
