"""Following the logs of one compose service, or of all services of a project interleaved. No Textual here.

How it works (`LogFollower.run`, blocking, meant for a worker thread):

1. The engine's clock gives T0. The backlog ("how far back", `Backlog`) of every matching container up to
   T0 is read without follow and merged by timestamp (`heapq.merge`, lazily: memory stays bounded).
2. Then one reader thread per running container follows its logs from T0; a watcher thread follows the
   engine's container events (start / destroy) so restarted and new containers are attached as they start.
3. Lines are handed to ``on_lines`` in batches at most every ``batch_interval`` (sorted by timestamp inside a
   batch when several containers speak). A bounded queue between readers and the batcher, plus ``on_lines``
   being allowed to block (e.g. Textual's ``call_from_thread``), is the backpressure: a reader that cannot
   hand over stops reading its socket and the engine waits.
4. A container that stops or is removed while tailed, and an engine that goes away, are reported through
   ``on_event`` (and a visible line in the log); the follower retries the engine with backoff and resumes each
   container from the last timestamp it delivered, so nothing is shown twice.
5. A stream the engine refuses (the ``none`` logging driver, an API error) is retried per container with
   backoff, its reason reported as an "error" event (written into the log once per streak); "attached" is
   reported only once a stream has really opened, so the pane's problem text stays until then.

Reading: the engine sends logs as HTTP chunks of multiplexed frames (8-byte header + payload). docker-py's
own ``logs(stream=True)`` reads each frame with two small reads through urllib3; here the response is read
in large chunks and the frames are parsed from a buffer (`FrameParser`, frames.py): about twice the rate.

Long module: `LogFollower` is one state machine over several threads (sessions, readers, the batcher, the
engine's event stream) sharing one queue, one stop event and the per-container cursors; kept in one file so
that its locking and hand-over rules are read in one place.
"""

from __future__ import annotations

import calendar
import heapq
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions
from docker.types.daemon import CancellableStream

from edp_tui.docker.logs.frames import FrameParser, body_blocks
from edp_tui.docker.logs.model import Backlog, EventKind, LogEvent
from edp_tui.docker.models import PROJECT_LABEL, SERVICE_LABEL
from edp_tui.text import (
    DEFAULT_MAX_CHARS,
    LogLine,
    message_line,
    normalize_timestamp,
)
from edp_tui.util.backoff import Backoff
from edp_tui.util.fmt import duration

log = logging.getLogger(__name__)

# --- engine helpers -------------------------------------------------------------------------------

_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.Timeout,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.HTTPError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def _is_transport_error(exc: BaseException) -> bool:
    if isinstance(exc, docker.errors.APIError):
        return False
    return isinstance(exc, _TRANSPORT_ERRORS) or isinstance(exc, docker.errors.DockerException)


def to_unix(ts: str) -> str:
    """A normalized RFC 3339 UTC timestamp as the engine's ``seconds.nanoseconds`` form for since/until."""
    secs = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    frac = ts[20:29] if len(ts) >= 30 and ts[19] == "." else "000000000"
    return f"{secs}.{frac}"


def _shift(ts: str, seconds: float) -> str:
    """``ts`` (normalized) moved by ``seconds``, in the engine's ``seconds.nanoseconds`` form."""
    secs, frac = to_unix(ts).split(".")
    nanos = int(secs) * 1_000_000_000 + int(frac) + int(seconds * 1_000_000_000)
    return f"{nanos // 1_000_000_000}.{nanos % 1_000_000_000:09d}"


def _close_response(response: Any) -> None:
    """Unblock a reader stuck in recv() on ``response`` from another thread, then close it."""
    try:
        CancellableStream(iter(()), response).close()
    except Exception:  # already closed, or a transport that cannot be shut down: closing is best effort
        pass
    try:
        response.close()
    except Exception:
        pass


@dataclass
class _Container:
    id: str
    name: str
    service: str
    tty: bool
    running: bool
    created: str | None = None  # engine time the container was created (normalized), before any output
    seen_at_t0: bool = False  # listed when the follower started: its past belongs to the chosen backlog
    last_ts: str | None = None
    reader: threading.Thread | None = None
    response: Any = None
    reported_removed: bool = False
    # Consecutive failures to read this container's logs (reset when a stream delivers lines).
    failures: Backoff = field(default_factory=lambda: Backoff(0.5, 5.0))


@dataclass
class _Item:
    kind: Literal["lines", "end", "docker_event", "events_end", "backlog_done", "opened", "unreadable"]
    container: str = ""
    lines: list[LogLine] = field(default_factory=list)
    error: BaseException | None = None
    event: Mapping[str, Any] | None = None


class LogFollower:
    """Follows the logs of ``service`` (all services when None) of compose ``project``. See the module doc."""

    def __init__(
        self,
        client_factory: Callable[[], docker.APIClient],
        project: str,
        service: str | None,
        backlog: Backlog,
        on_lines: Callable[[list[LogLine]], None],
        on_event: Callable[[LogEvent], None],
        *,
        batch_interval: float = 0.05,
        batch_max: int = 20_000,
        backoff: tuple[float, float] = (0.5, 5.0),
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self._factory = client_factory
        self.project = project
        self.service = service
        self.backlog = backlog
        self._on_lines = on_lines
        self._on_event = on_event
        self.batch_interval = batch_interval
        self.batch_max = batch_max
        self._backoff = backoff
        self._max_chars = max_chars
        self._stop = threading.Event()
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=64)
        self._containers: dict[str, _Container] = {}
        self._api: docker.APIClient | None = None
        self._events_stream: Any = None
        self._events_thread: threading.Thread | None = None
        self._backlog_thread: threading.Thread | None = None
        self._t0: str | None = None
        # Bumped per engine session: a reader still waiting out a retry delay from an ended one gives up.
        self._session_no = 0
        self.lines_delivered = 0

    # --- public -----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask `run` to return; unblocks every reader. Safe from any thread, idempotent."""
        self._stop.set()
        self._close_streams()
        try:
            self._queue.put_nowait(_Item("lines"))  # wakes the batcher if it waits for lines
        except queue.Full:
            pass

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Follow until `stop`. Never raises for engine trouble: it reports and retries."""
        backoff = Backoff(*self._backoff)
        # Sessions that fail for another reason than the engine: their own backoff, reset by delivered lines.
        failing = Backoff(*self._backoff)
        engine_was_down = False
        while not self._stop.is_set():
            api: docker.APIClient | None = None
            try:
                api = self._factory()
                now = self._engine_now(api)
                self._api = api
            except Exception as exc:  # noqa: BLE001 - every failure to reach the engine is retried
                if api is not None:
                    api.close()
                if not engine_was_down:
                    self._event(
                        "engine_unreachable", f"Docker engine unreachable: {_one_line(exc)}; retrying"
                    )
                    engine_was_down = True
                if self._stop.wait(backoff.failed()):
                    return
                continue
            backoff.reset()
            if engine_was_down:
                self._event("engine_back", "Docker engine reachable again; resuming logs")
                engine_was_down = False
            delivered = self.lines_delivered
            try:
                self._session(api, now)
            except Exception as exc:  # noqa: BLE001 - decide below whether the engine went away
                if self._stop.is_set():
                    return
                if _is_transport_error(exc):
                    self._event(
                        "engine_unreachable", f"Docker engine unreachable: {_one_line(exc)}; retrying"
                    )
                    engine_was_down = True
                    delay = backoff.delay
                else:
                    log.exception("log follower failed")
                    if self.lines_delivered > delivered:
                        failing.reset()
                    delay = failing.failed()
                    self._event("error", f"log stream failed: {_reason(exc)}; retrying in {duration(delay)}")
                self._close_streams()
                if self._stop.wait(delay):
                    return
            finally:
                self._join_readers()
                self._api = None
                try:
                    api.close()  # its connection pool; a new client is made for the next session
                except Exception:  # closing a broken connection may fail: it is thrown away anyway
                    pass

    # --- one connected session --------------------------------------------------------------------
    def _session(self, api: docker.APIClient, now: str) -> None:
        self._session_no += 1
        found = self._list(api)
        if not found:
            what = f"service {self.service!r}" if self.service else f"project {self.project!r}"
            self._event("waiting", f"no container for {what} yet; waiting for one to start")
        self._start_events(api, now)
        if self._t0 is None:
            for c in found:
                c.seen_at_t0 = True
            # First session: the backlog is read by its own thread, so that reading goes on while a batch is
            # being handed over; live readers start when it is done ("backlog_done"), from T0.
            self._t0 = now
            self._backlog_thread = threading.Thread(
                target=self._read_backlog, args=(api, found, now), name="logs-backlog", daemon=True
            )
            self._backlog_thread.start()
        else:
            self._attach_running(api)
        self._pump(api)

    def _attach_running(self, api: docker.APIClient) -> None:
        for c in list(self._containers.values()):
            if c.running and not self._stop.is_set():
                # After a reconnection, a container never seen before starts where this follower started.
                self._attach(api, c, since=self._since_for(api, c))

    def _since_for(self, api: docker.APIClient, c: _Container, fallback: str | None = None) -> str:
        """Where to (re)start following ``c``: after the last line shown; for a container that existed when
        the follower started, at T0 (its past is the backlog's); for a new one, at its creation, since its
        first lines may be written before the engine reports its start."""
        if c.last_ts:
            return c.last_ts
        if c.seen_at_t0 and self._t0:
            return self._t0
        return c.created or fallback or self._t0 or self._engine_now(api)

    def _engine_now(self, api: docker.APIClient) -> str:
        """The engine's clock as a normalized timestamp: since/until compare with the engine's own time."""
        info = api.info()
        stamp = str(info.get("SystemTime") or "")
        # "2024-05-01T10:00:00.123456789Z" or with an offset "+00:00": normalize to UTC "Z" form.
        if stamp.endswith("Z"):
            return normalize_timestamp(stamp)
        secs = time.time()
        return normalize_timestamp(
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{int(secs % 1 * 1e9):09d}Z"
        )

    def _list(self, api: docker.APIClient) -> list[_Container]:
        labels = [f"{PROJECT_LABEL}={self.project}"]
        if self.service:
            labels.append(f"{SERVICE_LABEL}={self.service}")
        found: list[_Container] = []
        for summary in api.containers(all=True, filters={"label": labels}):
            cid = summary["Id"]
            known = self._containers.get(cid)
            if known is None:
                known = self._describe(api, cid)
                if known is None:
                    continue
                self._containers[cid] = known
            else:
                known.running = summary.get("State") == "running"
            found.append(known)
        found.sort(key=lambda c: c.service)
        return found

    def _describe(self, api: docker.APIClient, cid: str) -> _Container | None:
        try:
            info = api.inspect_container(cid)
        except docker.errors.NotFound:
            return None
        labels = (info.get("Config") or {}).get("Labels") or {}
        return _Container(
            id=cid,
            name=str(info.get("Name", "")).lstrip("/"),
            service=str(labels.get(SERVICE_LABEL) or info.get("Name", "").lstrip("/")),
            tty=bool((info.get("Config") or {}).get("Tty")),
            running=bool((info.get("State") or {}).get("Running")),
            created=_created(info),
        )

    # --- backlog ----------------------------------------------------------------------------------
    def _read_backlog(self, api: docker.APIClient, containers: Sequence[_Container], now: str) -> None:
        params: dict[str, Any] = {"until": to_unix(now)}
        if self.backlog.tail is not None:
            params["tail"] = str(self.backlog.tail)
        if self.backlog.since_seconds is not None:
            params["since"] = _shift(now, -self.backlog.since_seconds)
        error: BaseException | None = None
        try:
            streams = [self._backlog_lines(api, c, params) for c in containers]
            merged: Iterator[LogLine]
            if len(streams) == 1:
                merged = streams[0]
            else:
                merged = heapq.merge(*streams, key=lambda ln: ln.timestamp or "")
            batch: list[LogLine] = []
            for line in merged:
                batch.append(line)
                if len(batch) >= 2000:
                    self._put(_Item("lines", "backlog", batch))
                    batch = []
                    if self._stop.is_set():
                        return
            if batch:
                self._put(_Item("lines", "backlog", batch))
        except BaseException as exc:  # noqa: BLE001 - handed to the batcher, which decides what it means
            error = exc
        self._put(_Item("backlog_done", error=error))

    def _backlog_lines(
        self, api: docker.APIClient, c: _Container, params: dict[str, Any]
    ) -> Iterator[LogLine]:
        try:
            for lines in self._stream(api, c, follow=False, extra=params):
                yield from lines
                if lines and lines[-1].timestamp:
                    c.last_ts = lines[-1].timestamp
        except docker.errors.APIError as exc:
            # This container's logs cannot be read (logging driver "none"...): the others' backlog goes on.
            self._put(_Item("unreadable", c.id, error=exc))

    def _stream(
        self,
        api: docker.APIClient,
        c: _Container,
        *,
        follow: bool,
        extra: Mapping[str, Any],
        on_open: Callable[[], None] | None = None,
    ) -> Iterator[list[LogLine]]:
        """Lists of lines from one logs request (large reads, frames parsed from a buffer)."""
        params = {"stdout": 1, "stderr": 1, "timestamps": 1, "follow": int(follow), **extra}
        response = api._get(api._url("/containers/{0}/logs", c.id), params=params, stream=True)
        try:
            api._raise_for_status(response)
        except BaseException:
            response.close()
            raise
        c.response = response
        if on_open is not None:
            on_open()
        parser = FrameParser(c.service, multiplexed=not c.tty, max_chars=self._max_chars)
        try:
            for chunk in body_blocks(response):
                if self._stop.is_set():
                    return
                lines = parser.feed(chunk)
                if lines:
                    yield lines
            rest = parser.flush()
            if rest:
                yield rest
        finally:
            c.response = None
            response.close()

    # --- live -------------------------------------------------------------------------------------
    def _attach(self, api: docker.APIClient, c: _Container, *, since: str, delay: float = 0.0) -> None:
        """Follow ``c`` in a reader thread, after ``delay`` (a retry's backoff: the pump never waits)."""
        if c.reader is not None and c.reader.is_alive():
            return
        c.reader = threading.Thread(
            target=self._reader, args=(api, c, since, delay), name=f"logs-{c.name}", daemon=True
        )
        c.reader.start()

    def _reader(self, api: docker.APIClient, c: _Container, since: str, delay: float = 0.0) -> None:
        session = self._session_no
        if delay and (self._stop.wait(delay) or session != self._session_no):
            return
        error: BaseException | None = None
        floor = c.last_ts
        opened = lambda: self._put(_Item("opened", c.id))  # noqa: E731 - "attached" once really open
        try:
            for lines in self._stream(api, c, follow=True, extra={"since": to_unix(since)}, on_open=opened):
                if floor is not None:
                    # since is inclusive: skip what the backlog (or a previous attachment) delivered.
                    lines = [ln for ln in lines if ln.timestamp is None or ln.timestamp > floor]
                    if lines and (lines[-1].timestamp or "") > floor:
                        floor = None
                if lines:
                    c.last_ts = lines[-1].timestamp or c.last_ts
                    c.failures.reset()
                    self._put(_Item("lines", c.id, lines))
        except BaseException as exc:  # noqa: BLE001 - reported to the batcher, which decides what it means
            error = exc
        if not self._stop.is_set():
            self._put(_Item("end", c.id, error=error))

    def _start_events(self, api: docker.APIClient, since: str) -> None:
        labels = [f"{PROJECT_LABEL}={self.project}"]
        if self.service:
            labels.append(f"{SERVICE_LABEL}={self.service}")
        filters = {"type": ["container"], "label": labels, "event": ["start", "destroy"]}
        stream = api.events(since=float(to_unix(since)), filters=filters, decode=True)
        self._events_stream = stream

        def watch() -> None:
            error: BaseException | None = None
            try:
                for event in stream:
                    self._put(_Item("docker_event", event=event))
            except BaseException as exc:  # noqa: BLE001
                error = exc
            if not self._stop.is_set():
                self._put(_Item("events_end", error=error))

        self._events_thread = threading.Thread(target=watch, name="logs-events", daemon=True)
        self._events_thread.start()

    def _pump(self, api: docker.APIClient) -> None:
        """Batch lines from the readers, react to stream ends and engine events, until stop or engine loss."""
        batch: list[LogLine] = []
        sources: set[str] = set()
        deadline = time.monotonic() + self.batch_interval
        while not self._stop.is_set():
            timeout = max(0.0, deadline - time.monotonic()) if batch else 5.0  # idle: no busy polling
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is not None:
                if item.kind == "lines":
                    batch.extend(item.lines)
                    sources.add(item.container)
                elif item.kind == "end":
                    self._flush(batch, sources)
                    batch, sources = [], set()
                    self._stream_ended(api, item)
                elif item.kind == "opened":
                    self._opened(item.container)
                elif item.kind == "unreadable" and item.error is not None:
                    self._unreadable(item.container, item.error)
                elif item.kind == "docker_event" and item.event is not None:
                    self._flush(batch, sources)
                    batch, sources = [], set()
                    self._docker_event(api, item.event)
                elif item.kind == "backlog_done":
                    self._flush(batch, sources)
                    batch, sources = [], set()
                    if item.error is not None:
                        raise item.error
                    self._attach_running(api)
                elif item.kind == "events_end":
                    # The event stream ends when the engine connection breaks: if the engine still answers,
                    # only the stream was lost and it is reopened; otherwise ping raises and we reconnect.
                    self._flush(batch, sources)
                    batch, sources = [], set()
                    api.ping()
                    self._start_events(api, self._engine_now(api))
            if batch and (time.monotonic() >= deadline or len(batch) >= self.batch_max):
                self._flush(batch, sources)
                batch, sources = [], set()
            if not batch:
                deadline = time.monotonic() + self.batch_interval

    def _flush(self, batch: list[LogLine], sources: set[str]) -> None:
        if not batch:
            return
        if len(sources) > 1:
            batch.sort(key=lambda ln: ln.timestamp or "")
        self._deliver(batch)

    def _stream_ended(self, api: docker.APIClient, item: _Item) -> None:
        c = self._containers.get(item.container)
        if c is None:
            return
        if item.error is not None and _is_transport_error(item.error):
            # Maybe the engine is gone, maybe only this stream broke: ask the engine.
            api.ping()
        try:
            info = api.inspect_container(c.id)
        except docker.errors.NotFound:
            self._removed(c)
            return
        state = info.get("State") or {}
        c.running = bool(state.get("Running"))
        if c.running:
            if item.error is not None and not _is_transport_error(item.error):
                # The engine refuses this stream (logging driver "none", an API error): back off, say why.
                delay = self._unreadable(c.id, item.error)
            else:
                # The stream broke while the container runs (e.g. engine restarted the stream): follow again.
                delay = 0.2
            self._attach(api, c, since=self._since_for(api, c), delay=delay)
            return
        code = state.get("ExitCode")
        self._event("stopped", f"{c.name} stopped (exit code {code}); will follow again when it starts", c)

    def _opened(self, container_id: str) -> None:
        c = self._containers.get(container_id)
        if c is not None:
            self._event("attached", f"following {c.name}", c)

    def _unreadable(self, container_id: str, error: BaseException) -> float:
        """Count one more refused read of a container's logs and report it; the delay before the next."""
        c = self._containers.get(container_id)
        if c is None:
            return 0.0
        delay = c.failures.failed()
        message = f"logs of {c.name} cannot be read: {_reason(error)}; retrying in {duration(delay)}"
        # In the log once per streak; every retry updates the pane's problem text.
        self._event("error", message, c, in_log=c.failures.failures == 1)
        return delay

    def _docker_event(self, api: docker.APIClient, event: Mapping[str, Any]) -> None:
        action = str(event.get("Action") or event.get("status") or "")
        cid = str(event.get("id") or (event.get("Actor") or {}).get("ID") or "")
        if not cid:
            return
        if action == "start":
            c = self._containers.get(cid) or self._describe(api, cid)
            if c is None:
                return
            self._containers[cid] = c
            c.running = True
            since = self._since_for(api, c, fallback=normalize_timestamp(_event_time(event)))
            self._attach(api, c, since=since)
        elif action == "destroy":
            c = self._containers.get(cid)
            if c is not None:
                self._removed(c)

    def _removed(self, c: _Container) -> None:
        if not c.reported_removed:
            c.reported_removed = True
            self._event("removed", f"container {c.name} was removed while its logs were followed", c)
        self._containers.pop(c.id, None)

    # --- plumbing ---------------------------------------------------------------------------------
    def _put(self, item: _Item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _deliver(self, lines: list[LogLine]) -> None:
        if lines and not self._stop.is_set():
            self.lines_delivered += len(lines)
            self._on_lines(lines)

    def _event(
        self, kind: EventKind, message: str, c: _Container | None = None, *, in_log: bool = True
    ) -> None:
        service = c.service if c is not None else self.service
        event = LogEvent(kind, message, service, c.name if c is not None else None)
        if kind != "attached" and in_log and not self._stop.is_set():
            # Shown in the log itself too, where the reader's eyes are.
            self._on_lines([message_line(f"── {message} ──", service=service)])
        if not self._stop.is_set():
            self._on_event(event)

    def _close_streams(self) -> None:
        stream, self._events_stream = self._events_stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # best effort: the connection may already be gone
                pass
        for c in list(self._containers.copy().values()):
            if c.response is not None:
                _close_response(c.response)

    def _join_readers(self) -> None:
        self._close_streams()
        threads = [c.reader for c in self._containers.values() if c.reader is not None]
        for extra in (self._events_thread, self._backlog_thread):
            if extra is not None:
                threads.append(extra)
        for t in threads:
            t.join(timeout=2.0)
        for c in self._containers.values():
            c.reader = None
        self._events_thread = None
        self._backlog_thread = None
        # Drop what readers queued after the session ended; they resume from last_ts.
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break


def _created(info: Mapping[str, Any]) -> str | None:
    stamp = str(info.get("Created") or "")
    # "2024-05-01T10:00:00.123456789Z"; anything else (an offset form) is left to the fallbacks.
    return normalize_timestamp(stamp) if len(stamp) >= 20 and stamp.endswith("Z") else None


def _event_time(event: Mapping[str, Any]) -> str:
    nanos = int(event.get("timeNano") or int(event.get("time") or time.time()) * 1_000_000_000)
    secs, frac = divmod(nanos, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def _reason(exc: BaseException) -> str:
    """Why the engine refused: its own explanation for an API error (not the whole request URL)."""
    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        status = exc.status_code
        return _one_line(Exception(f"{exc.explanation} (HTTP {status})" if status else exc.explanation))
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    text = " ".join((str(exc) or type(exc).__name__).split())
    return text if len(text) <= 200 else text[:197] + "..."
