"""Typed, frozen views of what the Dagster webserver returns, parsed from GraphQL ``data`` payloads.

The ``from_graphql`` constructors take the JSON objects selected by the documents in ``documents/``.
Union error members (PythonError, ...) are turned into exceptions by the client before they get here.

Long module: one frozen dataclass per GraphQL payload the dashboard reads (locations, runs, events, logs,
schedules/sensors, daemon health), each small, each with its ``from_graphql``; they refer to each other and
are read together, so one file is easier to keep in step with the .graphql documents than several.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edp_tui.dagster.daemon_errors import ErrorsSeen
from edp_tui.dagster.errors import RunConfigProblem
from edp_tui.dagster.metadata import Metadata, metadata_of
from edp_tui.util.fmt import clock

JSON = dict[str, Any]

# Run statuses after which nothing changes any more (no polling needed for these runs).
# Every status a Dagster run can have (RunStatus), in the order of a run's life.
RUN_STATUSES = (
    "QUEUED",
    "NOT_STARTED",
    "MANAGED",
    "STARTING",
    "STARTED",
    "SUCCESS",
    "FAILURE",
    "CANCELING",
    "CANCELED",
)
TERMINAL_RUN_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
# The tag Dagster puts on every run launched from a code location: its name (RunsFilter has no location).
CODE_LOCATION_TAG = "dagster/code_location"

# Daemons heartbeat every 30 s, the scheduler every 60 s; GraphQL `healthy` lags by 30 minutes.
DEFAULT_STALE_AFTER_S = 90.0
SCHEDULER_EXTRA_S = 60.0


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class LoadError:
    """Why a code location failed to load. The real Python error (SyntaxError, ...) is only in the chain."""

    class_name: str
    message: str
    chain: tuple[str, ...] = ()

    @classmethod
    def from_graphql(cls, obj: JSON) -> LoadError:
        chain = tuple(
            f"{link['error'].get('className') or 'Error'}: {link['error'].get('message', '').strip()}"
            for link in obj.get("errorChain") or []
            if link.get("error")
        )
        return cls(
            class_name=obj.get("className") or "PythonError", message=obj.get("message", ""), chain=chain
        )

    @property
    def text(self) -> str:
        """Everything worth showing: the top message followed by each cause in the chain."""
        parts = [self.message.strip(), *self.chain]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class JobInfo:
    name: str
    is_asset_job: bool = False
    description: str = ""

    @property
    def hidden(self) -> bool:
        # `__ASSET_JOB` and friends are implementation details of Dagster.
        return self.name.startswith("__")


@dataclass(frozen=True)
class RepositoryInfo:
    name: str
    jobs: tuple[JobInfo, ...] = ()
    schedules: tuple[str, ...] = ()
    sensors: tuple[str, ...] = ()

    @classmethod
    def from_graphql(cls, obj: JSON) -> RepositoryInfo:
        return cls(
            name=obj["name"],
            jobs=tuple(
                JobInfo(j["name"], bool(j.get("isAssetJob")), j.get("description") or "")
                for j in obj.get("jobs") or []
            ),
            schedules=tuple(s["name"] for s in obj.get("schedules") or []),
            sensors=tuple(s["name"] for s in obj.get("sensors") or []),
        )


@dataclass(frozen=True)
class LocationInfo:
    """One code location. ``state`` is ``loaded``, ``error``, ``loading`` or ``unknown``."""

    name: str
    load_status: str
    state: str
    updated: float | None = None
    server_id: str | None = None
    reload_supported: bool = False
    error: LoadError | None = None
    repositories: tuple[RepositoryInfo, ...] = ()

    @classmethod
    def from_graphql(cls, entry: JSON) -> LocationInfo:
        load_status = entry.get("loadStatus") or "UNKNOWN"
        loc: JSON = entry.get("locationOrLoadError") or {}
        typename = loc.get("__typename")
        if load_status == "LOADING":
            state = "loading"
        elif typename == "RepositoryLocation":
            state = "loaded"
        elif typename == "PythonError":
            state = "error"
        else:
            # Seen right after a reload races a code change: the entry comes back with no location at all.
            state = "unknown"
        return cls(
            name=entry["name"],
            load_status=load_status,
            state=state,
            updated=_opt_float(entry.get("updatedTimestamp")),
            server_id=loc.get("serverId") if typename == "RepositoryLocation" else None,
            reload_supported=bool(loc.get("isReloadSupported"))
            if typename == "RepositoryLocation"
            else False,
            error=LoadError.from_graphql(loc) if typename == "PythonError" else None,
            repositories=tuple(RepositoryInfo.from_graphql(r) for r in loc.get("repositories") or []),
        )

    def visible_jobs(self) -> list[tuple[str, JobInfo]]:
        """(repository name, job) pairs a user may launch, hidden jobs removed."""
        return [(r.name, j) for r in self.repositories for j in r.jobs if not j.hidden]


@dataclass(frozen=True)
class RunSummary:
    """A run as shown in the list: lean fields only."""

    run_id: str
    job_name: str
    status: str
    creation_time: float | None = None
    start_time: float | None = None
    end_time: float | None = None
    can_terminate: bool = False
    update_time: float | None = None
    tags: tuple[tuple[str, str], ...] = ()
    # Where its job lives (None: not known, a run of a job no location defines any more).
    location: str | None = None
    repository: str | None = None

    @classmethod
    def from_graphql(cls, obj: JSON) -> RunSummary:
        origin: JSON = obj.get("repositoryOrigin") or {}
        tags = tuple((t["key"], t["value"]) for t in obj.get("tags") or [] if isinstance(t, dict))
        location = origin.get("repositoryLocationName") or dict(tags).get(CODE_LOCATION_TAG)
        return cls(
            run_id=obj["runId"],
            job_name=obj.get("jobName") or "",
            status=obj.get("status") or "UNKNOWN",
            creation_time=_opt_float(obj.get("creationTime")),
            start_time=_opt_float(obj.get("startTime")),
            end_time=_opt_float(obj.get("endTime")),
            can_terminate=bool(obj.get("canTerminate")),
            update_time=_opt_float(obj.get("updateTime")),
            tags=tags,
            location=location,
            repository=origin.get("repositoryName"),
        )

    @property
    def job_ref(self) -> tuple[str | None, str | None, str]:
        """(location, repository, job): a job name alone may be defined by several locations."""
        return self.location, self.repository, self.job_name

    def tag(self, key: str) -> str | None:
        return next((value for k, value in self.tags if k == key), None)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES

    def duration(self, now: float) -> float | None:
        """Seconds spent running so far (or in total, once ended); None before it started."""
        if self.start_time is None:
            return None
        end = self.end_time if self.end_time is not None else now
        return max(0.0, end - self.start_time)


@dataclass(frozen=True)
class StepStat:
    step_key: str
    status: str | None
    start_time: float | None
    end_time: float | None

    @classmethod
    def from_graphql(cls, obj: JSON) -> StepStat:
        return cls(
            step_key=obj["stepKey"],
            status=obj.get("status"),
            start_time=_opt_float(obj.get("startTime")),
            end_time=_opt_float(obj.get("endTime")),
        )


@dataclass(frozen=True)
class RunDetail:
    """One run with its steps, fetched with ``runOrError`` for the selected run only."""

    run: RunSummary
    steps: tuple[StepStat, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    run_config_yaml: str = ""
    # Where the job lives and the run group's root: what a step re-execution must name.
    location: str | None = None
    repository: str | None = None
    root_run_id: str | None = None

    @classmethod
    def from_graphql(cls, obj: JSON) -> RunDetail:
        origin: JSON = obj.get("repositoryOrigin") or {}
        return cls(
            run=RunSummary.from_graphql(obj),
            steps=tuple(StepStat.from_graphql(s) for s in obj.get("stepStats") or []),
            tags=tuple((t["key"], t["value"]) for t in obj.get("tags") or []),
            run_config_yaml=obj.get("runConfigYaml") or "",
            location=origin.get("repositoryLocationName"),
            repository=origin.get("repositoryName"),
            root_run_id=obj.get("rootRunId"),
        )


@dataclass(frozen=True)
class RunEvent:
    """One event from ``logsForRun``. ``timestamp`` is epoch seconds (the API sends ms as a string)."""

    typename: str
    event_type: str | None
    message: str
    timestamp: float | None
    level: str | None = None
    step_key: str | None = None
    file_key: str | None = None
    step_keys: tuple[str, ...] = ()
    error: str | None = None
    # A step failure's metadata: for a failed dbt step, each failed model's error and compiled SQL.
    metadata: Metadata = ()

    @classmethod
    def from_graphql(cls, obj: JSON) -> RunEvent:
        ts = obj.get("timestamp")
        error = obj.get("error")
        error_text = None
        if error:
            error_text = f"{error.get('className') or 'Error'}: {error.get('message', '').strip()}"
            cause = error.get("cause")
            if cause:
                # The user's own exception is the cause; the top level is Dagster's wrapper.
                error_text += (
                    f"\ncaused by {cause.get('className') or 'Error'}: {cause.get('message', '').strip()}"
                )
        return cls(
            typename=obj.get("__typename") or "",
            event_type=obj.get("eventType"),
            message=obj.get("message") or "",
            timestamp=float(ts) / 1000.0 if ts else None,
            level=obj.get("level"),
            step_key=obj.get("stepKey"),
            file_key=obj.get("fileKey"),
            step_keys=tuple(obj.get("stepKeys") or ()),
            error=error_text,
            metadata=metadata_of((obj.get("failureMetadata") or {}).get("metadataEntries")),
        )


@dataclass(frozen=True)
class EventPage:
    events: tuple[RunEvent, ...]
    cursor: str | None
    has_more: bool

    @classmethod
    def from_graphql(cls, obj: JSON) -> EventPage:
        return cls(
            events=tuple(RunEvent.from_graphql(e) for e in obj.get("events") or []),
            cursor=obj.get("cursor"),
            has_more=bool(obj.get("hasMore")),
        )


@dataclass(frozen=True)
class LogKey:
    """Where a step's stdout/stderr lives: ``[runId, "compute_logs", fileKey]`` (fileKey is random)."""

    run_id: str
    file_key: str
    step_keys: tuple[str, ...] = ()

    def as_list(self) -> list[str]:
        return [self.run_id, "compute_logs", self.file_key]


def log_keys_from_events(run_id: str, events: tuple[RunEvent, ...] | list[RunEvent]) -> list[LogKey]:
    """Log keys announced by LOGS_CAPTURED events, in order, without duplicates."""
    seen: dict[str, LogKey] = {}
    for e in events:
        if e.event_type == "LOGS_CAPTURED" and e.file_key and e.file_key not in seen:
            seen[e.file_key] = LogKey(run_id, e.file_key, e.step_keys)
    return list(seen.values())


@dataclass(frozen=True)
class LogChunk:
    """New compute-log bytes since the previous cursor (``"<stdout bytes>:<stderr bytes>"``)."""

    stdout: str
    stderr: str
    cursor: str

    @classmethod
    def from_graphql(cls, obj: JSON) -> LogChunk:
        return cls(
            stdout=obj.get("stdout") or "", stderr=obj.get("stderr") or "", cursor=obj.get("cursor") or "0:0"
        )


@dataclass(frozen=True)
class Tick:
    status: str
    timestamp: float | None
    skip_reason: str | None = None
    error: str | None = None
    run_ids: tuple[str, ...] = ()

    @classmethod
    def from_graphql(cls, obj: JSON) -> Tick:
        err = obj.get("error")
        return cls(
            status=obj.get("status") or "UNKNOWN",
            timestamp=_opt_float(obj.get("timestamp")),
            skip_reason=obj.get("skipReason"),
            error=err.get("message") if err else None,
            run_ids=tuple(obj.get("runIds") or ()),
        )


def _last_tick(state: JSON | None) -> Tick | None:
    ticks = (state or {}).get("ticks") or []
    return Tick.from_graphql(ticks[0]) if ticks else None


@dataclass(frozen=True)
class InstigatorInfo:
    """A schedule (``kind="schedule"``) or a sensor (``kind="sensor"``) with its state and last tick."""

    kind: str
    name: str
    location: str
    repository: str
    status: str
    state_id: str | None
    selector_id: str | None
    # "*/5 * * * *" for a schedule, "every 30s" for a sensor
    cadence: str
    next_tick: float | None = None
    last_tick: Tick | None = None
    targets: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.status == "RUNNING"

    @classmethod
    def schedule_from_graphql(cls, obj: JSON, location: str, repository: str) -> InstigatorInfo:
        state = obj.get("scheduleState") or {}
        next_tick = (state.get("nextTick") or {}).get("timestamp")
        tz = obj.get("executionTimezone")
        cron = obj.get("cronSchedule") or ""
        return cls(
            kind="schedule",
            name=obj["name"],
            location=location,
            repository=repository,
            status=state.get("status") or "UNKNOWN",
            state_id=state.get("id"),
            selector_id=state.get("selectorId"),
            cadence=f"{cron} ({tz})" if tz else cron,
            next_tick=_opt_float(next_tick),
            last_tick=_last_tick(state),
            targets=(obj["pipelineName"],) if obj.get("pipelineName") else (),
        )

    @classmethod
    def sensor_from_graphql(cls, obj: JSON, location: str, repository: str) -> InstigatorInfo:
        state = obj.get("sensorState") or {}
        next_tick = (obj.get("nextTick") or {}).get("timestamp")
        interval = obj.get("minIntervalSeconds")
        return cls(
            kind="sensor",
            name=obj["name"],
            location=location,
            repository=repository,
            status=state.get("status") or "UNKNOWN",
            state_id=state.get("id"),
            selector_id=state.get("selectorId"),
            cadence=f"every {interval}s" if interval is not None else "",
            next_tick=_opt_float(next_tick) if state.get("status") == "RUNNING" else None,
            last_tick=_last_tick(state),
            targets=tuple(t["pipelineName"] for t in obj.get("targets") or [] if t.get("pipelineName")),
        )


@dataclass(frozen=True)
class DaemonStatus:
    daemon_type: str
    required: bool
    healthy: bool
    last_heartbeat: float | None
    errors: tuple[str, ...] = ()

    @classmethod
    def from_graphql(cls, obj: JSON) -> DaemonStatus:
        return cls(
            daemon_type=obj["daemonType"],
            required=bool(obj.get("required")),
            healthy=bool(obj.get("healthy")),
            last_heartbeat=_opt_float(obj.get("lastHeartbeatTime")),
            errors=tuple(e.get("message", "") for e in obj.get("lastHeartbeatErrors") or []),
        )

    def stale_after(self, base: float = DEFAULT_STALE_AFTER_S) -> float:
        return base + SCHEDULER_EXTRA_S if self.daemon_type == "SCHEDULER" else base

    def is_stale(self, now: float, base: float = DEFAULT_STALE_AFTER_S) -> bool:
        """True when no heartbeat for longer than the threshold: GraphQL's `healthy` cannot be trusted."""
        if self.last_heartbeat is None:
            return True
        return now - self.last_heartbeat > self.stale_after(base)


@dataclass(frozen=True)
class DaemonHealth:
    """The daemon as a whole: ``state`` is ``ok``, ``stale``, ``errors`` or ``missing``.

    ``errors_seen``: what the heartbeats tell of each daemon's errors (dagster/daemon_errors.py). Errors older
    than a heartbeat that brought no new one are past: ``ok``, with the daemons in ``past_error_types``."""

    daemons: tuple[DaemonStatus, ...]
    state: str
    detail: str = ""
    checked_at: float = 0.0
    stale_types: tuple[str, ...] = field(default=())
    errors_seen: tuple[tuple[str, ErrorsSeen], ...] = field(default=())
    past_error_types: tuple[str, ...] = field(default=())

    def seen(self, daemon_type: str) -> ErrorsSeen | None:
        return dict(self.errors_seen).get(daemon_type)

    @classmethod
    def evaluate(
        cls,
        daemons: tuple[DaemonStatus, ...],
        now: float,
        stale_after: float = DEFAULT_STALE_AFTER_S,
        seen: dict[str, ErrorsSeen] | None = None,
    ) -> DaemonHealth:
        seen = seen or {}
        errors_seen = tuple(sorted(seen.items()))
        required = [d for d in daemons if d.required]
        if not required:
            return cls(daemons, "missing", "no daemon heartbeat recorded", now, errors_seen=errors_seen)
        stale = tuple(d.daemon_type for d in required if d.is_stale(now, stale_after))
        if stale:
            beats = [d.last_heartbeat for d in required if d.last_heartbeat is not None]
            age = f"last heartbeat {now - max(beats):.0f}s ago" if beats else "never seen"
            return cls(daemons, "stale", f"{', '.join(stale)} stale ({age})", now, stale, errors_seen)

        def past(d: DaemonStatus) -> bool:
            known = seen.get(d.daemon_type)
            return known is not None and known.errors == d.errors and known.past

        # GraphQL's `healthy` is false while a heartbeat carries any error, past ones too.
        current = [d for d in required if (d.errors and not past(d)) or (not d.errors and not d.healthy)]
        past_types = tuple(d.daemon_type for d in required if d.errors and past(d))
        if current:
            first = current[0]
            msg = first.errors[0] if first.errors else "unhealthy"
            known = seen.get(first.daemon_type)
            if first.errors and known is not None and known.age_known(0):
                msg += f" (first seen {clock(known.first_seen[0])})"
            detail = f"{first.daemon_type}: {msg}"
            return cls(daemons, "errors", detail, now, (), errors_seen, past_types)
        detail = f"{len(required)} daemons heartbeating"
        if past_types:
            quiet = [q for t in past_types if (q := seen[t].quiet_since) is not None]
            detail += f"; past errors of {', '.join(past_types)}, none since {clock(min(quiet))}"
        return cls(daemons, "ok", detail, now, (), errors_seen, past_types)


@dataclass(frozen=True)
class LocationEvent:
    """A push from the ``locationStateChangeEvents`` subscription."""

    event_type: str
    message: str
    location_name: str
    server_id: str | None = None

    @classmethod
    def from_graphql(cls, obj: JSON) -> LocationEvent:
        ev = obj.get("event") or obj
        return cls(
            event_type=ev.get("eventType") or "",
            message=ev.get("message") or "",
            location_name=ev.get("locationName") or "",
            server_id=ev.get("serverId"),
        )


_PATH_IN_MESSAGE = re.compile(r"at path (\S+?)\.?(?:\s|$)")


def run_config_problem_from_graphql(obj: JSON) -> RunConfigProblem:
    """Dagster sends ``path: []`` and puts the path only into the message text; recover it from there."""
    message = obj.get("message") or ""
    path_list = obj.get("path") or []
    if path_list:
        path = "root:" + ":".join(str(p) for p in path_list)
    else:
        match = _PATH_IN_MESSAGE.search(message)
        path = match.group(1) if match else ""
    return RunConfigProblem(message=message, path=path, reason=obj.get("reason"))
