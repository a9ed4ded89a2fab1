"""In-memory stand-in for DagsterClient that TUI tests drive: same methods, same models, no network.

Typed against `DagsterApi` (`as_api` below): mypy checks that the fake has every method of the protocol with
a compatible signature (tests/unit/test_architecture.py runs it), so a method added to the client and the
protocol cannot be missing here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.asset_history import MaterializationRecord
from edp_tui.dagster.assets import (
    ASSET_JOB,
    AssetChangeSignals,
    AssetCheck,
    AssetInfo,
    AssetKey,
    Materialization,
)
from edp_tui.dagster.check_detail import CheckExecution
from edp_tui.dagster.daemon_errors import DaemonErrorHistory
from edp_tui.dagster.errors import (
    DagsterRequestRejected,
    DagsterUnreachable,
    ReadOnlyRefused,
    RunConfigInvalid,
    RunConfigProblem,
)
from edp_tui.dagster.models import (
    CODE_LOCATION_TAG,
    DaemonHealth,
    DaemonStatus,
    EventPage,
    InstigatorInfo,
    JobInfo,
    LoadError,
    LocationEvent,
    LocationInfo,
    LogChunk,
    LogKey,
    RepositoryInfo,
    RunDetail,
    RunEvent,
    RunSummary,
    StepStat,
    Tick,
)
from edp_tui.dagster.run_push import RunStatusChange
from tests.support.partitions_fake import PartitionsFake

T0 = 1_767_355_200.0  # 2026-01-02 12:00:00 UTC
REPO = "__repository__"


def loaded_location(name: str = "etl_pipeline") -> LocationInfo:
    repo = RepositoryInfo(
        REPO,
        jobs=(
            JobInfo("__ASSET_JOB", True),
            JobInfo("ingestion_job", description="Load the landing-zone files into raw tables"),
            JobInfo("dbt_build_job", True, "Build every dbt model and run its tests"),
            JobInfo("full_refresh_job", description="Ingestion, then dbt build with --full-refresh"),
        ),
        schedules=("daily_full_refresh_schedule",),
        sensors=("landing_zone_sensor",),
    )
    return LocationInfo(name, "LOADED", "loaded", T0 - 60, "3f2c9a10-aaaa", True, None, (repo,))


def broken_location(name: str = "scratch") -> LocationInfo:
    error = LoadError(
        "DagsterUserCodeLoadError",
        "Error occurred during the loading of Dagster definitions in\nexecutable_path=/venv/bin/python",
        (
            'SyntaxError:   File "/code/definitions.py", line 78\n    def broken(:\n'
            "               ^\nSyntaxError: "
            "invalid syntax [bold]not markup[/bold]",
        ),
    )
    return LocationInfo(name, "LOADED", "error", T0 - 30, None, False, error, ())


def run(
    run_id: str,
    job: str,
    status: str,
    created: float,
    started: float | None,
    ended: float | None,
    location: str = "etl_pipeline",
) -> RunSummary:
    return RunSummary(
        run_id,
        job,
        status,
        created,
        started,
        ended,
        status in ("QUEUED", "STARTED", "STARTING"),
        location=location,
        repository=REPO,
    )


def sample_runs() -> list[RunSummary]:
    return [
        run("a1b2c3d4-0000-0000-0000-000000000001", "ingestion_job", "QUEUED", T0 - 5, None, None),
        run("b2c3d4e5-0000-0000-0000-000000000002", "dbt_build_job", "SUCCESS", T0 - 600, T0 - 595, T0 - 540),
        run(
            "c3d4e5f6-0000-0000-0000-000000000003", "ingestion_job", "FAILURE", T0 - 900, T0 - 890, T0 - 880.5
        ),
        run(
            "d4e5f6a7-0000-0000-0000-000000000004",
            "full_refresh_job",
            "CANCELED",
            T0 - 4000,
            T0 - 3990,
            T0 - 3000,
        ),
    ]


def sample_instigators() -> list[InstigatorInfo]:
    return [
        InstigatorInfo(
            "schedule",
            "daily_full_refresh_schedule",
            "etl_pipeline",
            REPO,
            "STOPPED",
            "s1::s2",
            "s2",
            "0 3 * * * (UTC)",
            None,
            Tick("SUCCESS", T0 - 86400, None, None, ("e5f6a7b8",)),
            ("full_refresh_job",),
        ),
        InstigatorInfo(
            "sensor",
            "landing_zone_sensor",
            "etl_pipeline",
            REPO,
            "RUNNING",
            "n1::n2",
            "n2",
            "every 30s",
            T0 + 30,
            Tick("FAILURE", T0 - 10, None, "FileNotFoundError: /landing [red]x[/red]"),
            ("ingestion_job",),
        ),
    ]


def sample_assets() -> list[AssetInfo]:
    """raw/orders -> staging/stg_orders -> marts/fct_orders -> analytics/customer_segments; raw/customers.
    The raw tables are one multi-asset that cannot be subset (as in etl_pipeline)."""

    def checks(*pairs: tuple[str, str | None]) -> tuple[AssetCheck, ...]:
        return tuple(
            AssetCheck(name, status, "ERROR" if status == "FAILED" else None, "b2c3d4e5" if status else None)
            for name, status in pairs
        )

    def asset(key: AssetKey, kind: str, op: str, **kw: Any) -> AssetInfo:
        return AssetInfo(key, key[0], "etl_pipeline", REPO, True, kinds=(kind,), op_names=(op,), **kw)

    mat = Materialization("b2c3d4e5-0000-0000-0000-000000000002", T0 - 540)
    raw = "raw_retail_data"
    return [
        asset(
            ("raw", "orders"),
            "python",
            raw,
            downstream=(("staging", "stg_orders"),),
            last_materialization=mat,
            stale_status="FRESH",
        ),
        asset(("raw", "customers"), "python", raw, stale_status="MISSING"),
        asset(
            ("staging", "stg_orders"),
            "dbt",
            "dbt_models",
            upstream=(("raw", "orders"),),
            downstream=(("marts", "fct_orders"),),
            last_materialization=mat,
            stale_status="FRESH",
            checks=checks(
                ("not_null_stg_orders_order_id", "SUCCEEDED"),
                ("accepted_values_stg_orders_status", "FAILED"),
                # As wide as a 16-column cell: it once ran into the check's name.
                ("not_null_stg_orders_order_date", "EXECUTION_FAILED"),
            ),
        ),
        asset(
            ("marts", "fct_orders"),
            "dbt",
            "dbt_models",
            upstream=(("staging", "stg_orders"),),
            downstream=(("analytics", "customer_segments"),),
            last_materialization=mat,
            checks=checks(("unique_fct_orders_order_id", "SUCCEEDED")),
            stale_status="STALE",
            stale_causes=("updated upstream [b]data[/b] (staging/stg_orders)",),
        ),
        asset(
            ("analytics", "customer_segments"),
            "python",
            "customer_segments",
            upstream=(("marts", "fct_orders"),),
            stale_status="MISSING",
        ),
    ]


def many_assets(count: int) -> list[AssetInfo]:
    """A dbt project of realistic size: ``count`` assets in ten groups, each a chain raw -> staging -> mart
    of a model per group member, every model with two checks (the dbt tests), half of them materialized."""
    mat = Materialization("b2c3d4e5-0000-0000-0000-000000000002", T0 - 540)
    assets: list[AssetInfo] = []
    for i in range(count):
        group = f"group_{i % 10:02d}"
        layer = ("raw", "staging", "marts")[i % 3]
        key = (layer, f"model_{i:05d}")
        upstream = (("raw" if layer == "staging" else "staging", f"model_{i - 1:05d}"),) if i % 3 else ()
        downstream = (("staging" if layer == "raw" else "marts", f"model_{i + 1:05d}"),) if i % 3 < 2 else ()
        checks = (
            AssetCheck(f"not_null_model_{i:05d}_id", "SUCCEEDED" if i % 2 else None),
            AssetCheck(f"unique_model_{i:05d}_id", "SUCCEEDED" if i % 2 else None),
        )
        assets.append(
            AssetInfo(
                key,
                group,
                "etl_pipeline",
                REPO,
                True,
                kinds=("dbt",),
                op_names=("dbt_models",),
                upstream=upstream,
                downstream=downstream,
                last_materialization=mat if i % 2 else None,
                checks=checks,
                stale_status="FRESH" if i % 2 else "MISSING",
            )
        )
    return assets


@dataclass
class FakeLogStream:
    """One open ``capturedLogs`` subscription of the fake: its key, its own cursor, the frames to come."""

    key: str  # "<run id>/<file key>"
    cursor: str | None
    frames: asyncio.Queue[LogChunk | BaseException | None] = field(default_factory=asyncio.Queue)


class FakeDagster(PartitionsFake):
    """Scriptable fake. ``down``: every call raises DagsterUnreachable; ``calls``: what was asked."""

    def __init__(self, *, read_only: bool = False, silent: bool = False) -> None:
        self.graphql_url = "http://fake-dagster:3000/graphql"
        self.read_only = read_only
        self.stale_after_s = 90.0
        self.locations_list: list[LocationInfo] = [loaded_location()]
        self.runs_list: list[RunSummary] = sample_runs()
        self.instigators_list = sample_instigators()
        self.assets_list: list[AssetInfo] = sample_assets()
        self.materialized: list[tuple[AssetKey, ...]] = []
        self.materialized_partitions: list[str | None] = []
        self.details: dict[str, RunDetail] = {}
        self.events: dict[str, list[RunEvent]] = {}
        self.logs: dict[str, tuple[str, str]] = {}
        # Open capturedLogs subscriptions (`write_log` pushes to them); subscribing raises `stream_failure`.
        self.log_streams: list[FakeLogStream] = []
        self.stream_failure: BaseException | None = None
        self.log_limits: list[int] = []  # the limit of each capturedLogs query
        self.heartbeat = T0 - 5
        # Errors in the daemons' last heartbeats (daemon type -> messages, newest first), as Dagster has them.
        self.daemon_errors: dict[str, tuple[str, ...]] = {}
        self.error_history = DaemonErrorHistory(self.graphql_url)
        self.now = T0
        self.down = False
        # silent: no call ever answers (a webserver that hangs); for tests of other parts of the screen.
        self.silent = silent
        self.calls: list[tuple[str, Any]] = []
        self.location_event_queue: asyncio.Queue[LocationEvent] | None = None
        self.reload_result: LocationInfo | None = None
        self.launched: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.launched_from: list[tuple[str, str, str]] = []  # (location, repository, job) of each launch
        self.default_config = "ops:\n  extract:\n    config:\n      limit: 100\n"
        self.config_errors: tuple[RunConfigProblem, ...] = ()
        # gates[name] set: calls of that name wait for it (an action or a poll in flight).
        self.gates: dict[str, asyncio.Event] = {}
        # Tags of each run (the lean list has none; RunsFilter.tags matches on them).
        self.run_tags: dict[str, dict[str, str]] = {}
        self.reexecutions: list[tuple[str, str, tuple[str, ...]]] = []
        self.last_runs_filter: dict[str, Any] = {}
        self.runs_requests: list[dict[str, Any]] = []
        # (asset key, check name) -> its latest execution with metadata (the check detail reads it).
        self.check_executions: dict[tuple[AssetKey, str], CheckExecution] = {}
        # An asset's materializations with their metadata, newest first (the asset history reads them).
        self.histories: dict[AssetKey, list[MaterializationRecord]] = {}
        # Pushed run statuses: one queue per subscribed run (`push_status` feeds it); push_down: refused.
        self.status_queues: dict[str, asyncio.Queue[list[RunStatusChange]]] = {}
        self.push_down = False
        self._seed_detail()
        self.init_partitions()

    def _seed_detail(self) -> None:
        failed = self.runs_list[2]
        self.run_tags[failed.run_id] = {"team": "data", "dagster/from_ui": "true"}
        self.details[failed.run_id] = RunDetail(
            failed,
            (
                StepStat("load_landing_files", "SUCCESS", T0 - 889, T0 - 886),
                StepStat("write_raw_table", "FAILURE", T0 - 885, T0 - 881),
            ),
            tuple(self.run_tags[failed.run_id].items()),
            "ops:\n  load_landing_files:\n    config:\n      limit: 100\n",
            "etl_pipeline",
            REPO,
        )
        self.events[failed.run_id] = [
            RunEvent(
                "RunStartEvent",
                "RUN_START",
                'Started execution of run for "ingestion_job".',
                T0 - 890,
                "DEBUG",
            ),
            RunEvent(
                "LogsCapturedEvent",
                "LOGS_CAPTURED",
                "Capturing logs",
                T0 - 889,
                "DEBUG",
                None,
                "abcdefgh",
                ("load_landing_files", "write_raw_table"),
            ),
            RunEvent(
                "LogMessageEvent",
                None,
                "read 3 files [b]from[/b] /landing",
                T0 - 887,
                "INFO",
                "load_landing_files",
            ),
            RunEvent(
                "ExecutionStepFailureEvent",
                "STEP_FAILURE",
                'Execution of step "write_raw_table" failed.',
                T0 - 881,
                "ERROR",
                "write_raw_table",
                None,
                (),
                "DagsterExecutionStepExecutionError: Error occurred\ncaused by KeyError: 'amount'",
            ),
            RunEvent("RunFailureEvent", "RUN_FAILURE", "Execution of run failed.", T0 - 880.5, "ERROR"),
        ]
        self.logs[f"{failed.run_id}/abcdefgh"] = (
            "loading 3 files\n[bold red]not markup[/bold red]\n\x1b[2Jcursor games\n",
            "Traceback (most recent call last):\nKeyError: 'amount'\n",
        )

    async def _call(self, name: str, arg: Any = None) -> None:
        self.calls.append((name, arg))
        gate = self.gates.get(name)
        if gate is not None:
            await gate.wait()
        if self.silent:
            await asyncio.Event().wait()
        if self.down:
            raise DagsterUnreachable(self.graphql_url, "Connection refused")

    def _mutation(self, action: str) -> None:
        # Recorded before the refusal: a test of the UI's own read-only check sees every attempt.
        if self.read_only:
            self.calls.append((f"refused:{action}", None))
            raise ReadOnlyRefused(action)

    async def aclose(self) -> None:
        pass

    async def locations(self) -> list[LocationInfo]:
        await self._call("locations")
        return list(self.locations_list)

    async def reload_location(self, name: str) -> LocationInfo:
        self._mutation("reload")
        await self._call("reload_location", name)
        if self.reload_result is not None:
            self.locations_list = [self.reload_result if x.name == name else x for x in self.locations_list]
        return next(x for x in self.locations_list if x.name == name)

    async def location_events(self) -> AsyncIterator[LocationEvent]:
        await self._call("location_events")
        if self.location_event_queue is None:
            self.location_event_queue = asyncio.Queue()
        while True:
            yield await self.location_event_queue.get()

    async def runs(
        self,
        limit: int = 50,
        cursor: str | None = None,
        *,
        statuses: list[str] | None = None,
        job_name: str | None = None,
        updated_after: float | None = None,
        tags: Any = None,
        run_ids: list[str] | None = None,
    ) -> list[RunSummary]:
        await self._call("runs", (limit, cursor))
        self.last_runs_filter = {"statuses": statuses, "job_name": job_name, "tags": tags, "run_ids": run_ids}
        self.runs_requests.append({"limit": limit, "run_ids": run_ids, "updated_after": updated_after})
        runs = [
            r
            for r in self.runs_list
            if (not statuses or r.status in statuses)
            and (not job_name or r.job_name == job_name)
            and (not run_ids or r.run_id in run_ids)
            and all(self.tags_of(r).get(k) == v for k, v in dict(tags or {}).items())
        ]
        if cursor is not None:
            ids = [r.run_id for r in runs]
            runs = runs[ids.index(cursor) + 1 :] if cursor in ids else []
        return runs[:limit]

    def tags_of(self, run: RunSummary) -> dict[str, str]:
        """A run's tags as the webserver filters on them: the test's, and the location Dagster adds."""
        return {**self.run_tags.get(run.run_id, {}), CODE_LOCATION_TAG: run.location or ""}

    async def run_status_changes(self, run_id: str) -> AsyncIterator[list[RunStatusChange]]:
        self.calls.append(("run_status_changes", run_id))
        if self.push_down or self.down:
            raise DagsterUnreachable(self.graphql_url.replace("http", "ws"), "Connection refused")
        queue = self.status_queues[run_id] = asyncio.Queue()
        try:
            yield []  # the first frame: past events (none the fake keeps)
            while True:
                yield await queue.get()
        finally:
            self.status_queues.pop(run_id, None)

    def push_status(self, run_id: str, status: str, at: float | None = None) -> None:
        """The run changes status; a subscription of it hears at once, the list on its next read."""
        self.runs_list = [
            replace(r, status=status, can_terminate=status in ("QUEUED", "STARTING", "STARTED"))
            if r.run_id == run_id
            else r
            for r in self.runs_list
        ]
        if run_id in self.status_queues:
            self.status_queues[run_id].put_nowait([RunStatusChange(run_id, status, at or self.now)])

    async def run(self, run_id: str) -> RunDetail:
        await self._call("run", run_id)
        summary = next(r for r in self.runs_list if r.run_id == run_id)
        detail = self.details.get(run_id, RunDetail(summary))
        return replace(detail, run=summary)

    async def run_events(self, run_id: str, after_cursor: str | None = None, limit: int = 1000) -> EventPage:
        await self._call("run_events", (run_id, after_cursor))
        events = self.events.get(run_id, [])
        start = int(after_cursor or 0)
        chunk = events[start : start + limit]
        return EventPage(tuple(chunk), str(start + len(chunk)), start + len(chunk) < len(events))

    async def captured_logs(self, key: LogKey, cursor: str | None = None, limit: int = 65536) -> LogChunk:
        await self._call("captured_logs", (key.file_key, cursor))
        self.log_limits.append(limit)
        out, err = self.logs.get(f"{key.run_id}/{key.file_key}", ("", ""))
        o, e = (int(x) for x in (cursor or "0:0").split(":"))
        return LogChunk(out[o:], err[e:], f"{len(out)}:{len(err)}")

    async def captured_logs_stream(self, key: LogKey, cursor: str | None = None) -> AsyncIterator[LogChunk]:
        """As Dagster's subscription: at once what is there after the cursor, then one chunk per `write_log`;
        ends on `end_log_streams` (complete, or an error raised into the consumer)."""
        await self._call("captured_logs_stream", (key.file_key, cursor))
        if self.stream_failure is not None:
            raise self.stream_failure
        stream = FakeLogStream(f"{key.run_id}/{key.file_key}", cursor)
        self.log_streams.append(stream)
        try:
            first = self._fetch(stream)
            if first is not None:
                yield first
            while True:
                frame = await stream.frames.get()
                if frame is None:
                    return
                if isinstance(frame, BaseException):
                    raise frame
                yield frame
        finally:
            self.log_streams.remove(stream)

    def _fetch(self, stream: FakeLogStream) -> LogChunk | None:
        """Everything after the stream's cursor; None when nothing is new (Dagster sends no frame then)."""
        out, err = self.logs.get(stream.key, ("", ""))
        o, e = (int(x) for x in (stream.cursor or "0:0").split(":"))
        cursor = f"{len(out)}:{len(err)}"
        if stream.cursor is not None and cursor == stream.cursor:
            return None
        stream.cursor = cursor
        return LogChunk(out[o:], err[e:], cursor)

    def write_log(self, run_id: str, file_key: str, out: str = "", err: str = "") -> None:
        """A step writes to its compute log and the webserver's watcher notices: the query sees the bytes, and
        each open subscription on the key gets one chunk with everything after its cursor."""
        key = f"{run_id}/{file_key}"
        old_out, old_err = self.logs.get(key, ("", ""))
        self.logs[key] = (old_out + out, old_err + err)
        for stream in self.log_streams:
            if stream.key == key and (chunk := self._fetch(stream)) is not None:
                stream.frames.put_nowait(chunk)

    def end_log_streams(self, error: BaseException | None = None) -> None:
        """Every open subscription completes (``error`` None) or fails with ``error``."""
        for stream in self.log_streams:
            stream.frames.put_nowait(error)

    async def default_run_config(self, location: str, repository: str, job: str) -> str:
        await self._call("default_run_config", job)
        return self.default_config

    async def launch_run(
        self, location: str, repository: str, job: str, run_config: Any = None, tags: Any = None
    ) -> RunSummary:
        self._mutation("launch")
        await self._call("launch_run", job)
        if self.config_errors:
            raise RunConfigInvalid(job, self.config_errors)
        new = run(
            f"e{len(self.launched):07d}-1111-1111-1111-111111111111",
            job,
            "QUEUED",
            self.now,
            None,
            None,
            location,
        )
        self.launched.append((job, dict(run_config or {}), dict(tags or {})))
        self.launched_from.append((location, repository, job))
        self.runs_list.insert(0, new)
        return new

    async def reexecute_run(
        self, run_id: str, strategy: str = "FROM_FAILURE", step_keys: list[str] | None = None
    ) -> RunSummary:
        self._mutation("reexecute")
        await self._call("reexecute_run", run_id)
        self.reexecutions.append((run_id, strategy, tuple(step_keys or ())))
        parent = next(r for r in self.runs_list if r.run_id == run_id)
        new = run(
            "f0000000-2222-2222-2222-222222222222",
            parent.job_name,
            "QUEUED",
            self.now,
            None,
            None,
            parent.location or "etl_pipeline",
        )
        self.runs_list.insert(0, new)
        return new

    async def terminate_run(self, run_id: str, *, force: bool = False) -> None:
        self._mutation("terminate")
        await self._call("force_terminate_run" if force else "terminate_run", run_id)
        self.runs_list = [
            replace(r, status="CANCELED", can_terminate=False) if r.run_id == run_id else r
            for r in self.runs_list
        ]

    async def assets(self) -> list[AssetInfo]:
        await self._call("assets")
        return list(self.assets_list)

    async def check_execution(self, key: AssetKey, check_name: str) -> CheckExecution | None:
        await self._call("check_execution", (key, check_name))
        return self.check_executions.get((key, check_name))

    async def asset_history(self, key: AssetKey, limit: int = 50) -> list[MaterializationRecord]:
        await self._call("asset_history", key)
        return self.histories.get(key, [])[:limit]

    async def asset_change_signals(self, since: float) -> AssetChangeSignals:
        await self._call("asset_change_signals", since)
        return AssetChangeSignals(
            runs_changed=any((r.update_time or r.creation_time or 0.0) > since for r in self.runs_list),
            run_live=any(r.status in ("STARTING", "STARTED", "CANCELING") for r in self.runs_list),
            locations=tuple((loc.name, loc.updated) for loc in self.locations_list),
        )

    async def materialize(
        self, location: str, repository: str, keys: Any, partition: str | None = None
    ) -> RunSummary:
        """Launches at once and succeeds: the keys are materialized by the new run, their checks pass."""
        self._mutation("materialize")
        await self._call("materialize", tuple(keys))
        self.materialized_partitions.append(partition)
        raw = {a.key for a in self.assets_list if "raw_retail_data" in a.op_names}
        if raw & set(keys) and not raw <= set(keys):
            raise DagsterRequestRejected(
                "InvalidSubsetError", "This AssetsDefinition does not support subsetting."
            )
        new = run(
            f"a{len(self.materialized):07d}-3333-3333-3333-333333333333",
            ASSET_JOB,
            "SUCCESS",
            self.now,
            self.now,
            self.now + 5,
        )
        self.materialized.append(tuple(keys))
        self.runs_list.insert(0, new)
        done = Materialization(new.run_id, self.now + 5)
        self.assets_list = [
            replace(
                a,
                last_materialization=done,
                stale_status="FRESH",
                stale_causes=(),
                checks=tuple(
                    replace(c, status="SUCCEEDED", severity=None, run_id=new.run_id) for c in a.checks
                ),
            )
            if a.key in keys
            else a
            for a in self.assets_list
        ]
        return new

    async def instigators(self, location: str, repository: str) -> list[InstigatorInfo]:
        await self._call("instigators", location)
        return [i for i in self.instigators_list if i.location == location]

    async def sensors(self, location: str, repository: str) -> list[InstigatorInfo]:
        await self._call("sensors", location)
        return [i for i in self.instigators_list if i.location == location and i.kind == "sensor"]

    async def set_running(self, item: InstigatorInfo, running: bool) -> str:
        self._mutation("toggle")
        await self._call("set_running", (item.name, running))
        status = "RUNNING" if running else "STOPPED"
        self.instigators_list = [
            replace(i, status=status) if i.name == item.name else i for i in self.instigators_list
        ]
        return status

    async def daemon_health(self, now: float | None = None) -> DaemonHealth:
        await self._call("daemon_health")
        errors = self.daemon_errors
        daemons = tuple(
            DaemonStatus(t, True, not errors.get(t), self.heartbeat, errors.get(t, ()))
            for t in ("SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR")
        )
        history = self.error_history
        seen = {d.daemon_type: history.observe(d.daemon_type, d.last_heartbeat, d.errors) for d in daemons}
        # The fake's own clock, not the caller's: snapshots must not depend on the time they are taken.
        return DaemonHealth.evaluate(daemons, self.now, self.stale_after_s, seen)


def as_api(fake: FakeDagster) -> DagsterApi:
    """The fake where the protocol is expected (the check mypy makes is the point of this function)."""
    return fake
