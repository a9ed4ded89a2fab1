"""`DagsterApi`: what the dashboard and the CLI need from a Dagster backend, as a Protocol.

`DagsterClient` is the real one (GraphQL over httpx/websockets); TUI tests hand in an in-memory fake with the
same methods. Widgets are typed against this Protocol, never against the client class.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

from edp_tui.dagster.asset_history import MaterializationRecord
from edp_tui.dagster.assets import AssetChangeSignals, AssetInfo, AssetKey
from edp_tui.dagster.backfills import BackfillInfo, BackfillRequest
from edp_tui.dagster.check_detail import CheckExecution
from edp_tui.dagster.models import (
    DaemonHealth,
    EventPage,
    InstigatorInfo,
    LocationEvent,
    LocationInfo,
    LogChunk,
    LogKey,
    RunDetail,
    RunSummary,
)
from edp_tui.dagster.partitions import PartitionHealth
from edp_tui.dagster.queue import QueueState
from edp_tui.dagster.run_push import RunStatusChange


class DagsterApi(Protocol):
    graphql_url: str
    read_only: bool
    stale_after_s: float

    async def aclose(self) -> None: ...

    async def locations(self) -> list[LocationInfo]: ...

    async def reload_location(self, name: str) -> LocationInfo: ...

    def location_events(self) -> AsyncIterator[LocationEvent]: ...

    async def runs(
        self,
        limit: int = 50,
        cursor: str | None = None,
        *,
        statuses: list[str] | None = None,
        job_name: str | None = None,
        updated_after: float | None = None,
        tags: Mapping[str, str] | None = None,
        run_ids: list[str] | None = None,
    ) -> list[RunSummary]: ...

    def run_status_changes(self, run_id: str) -> AsyncIterator[list[RunStatusChange]]: ...

    async def run(self, run_id: str) -> RunDetail: ...

    async def run_events(
        self, run_id: str, after_cursor: str | None = None, limit: int = ...
    ) -> EventPage: ...

    async def default_run_config(self, location: str, repository: str, job: str) -> str: ...

    async def launch_run(
        self,
        location: str,
        repository: str,
        job: str,
        run_config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RunSummary: ...

    async def reexecute_run(
        self, run_id: str, strategy: str = "FROM_FAILURE", step_keys: list[str] | None = None
    ) -> RunSummary: ...

    async def terminate_run(self, run_id: str, *, force: bool = False) -> None: ...

    async def captured_logs(self, key: LogKey, cursor: str | None = None, limit: int = ...) -> LogChunk: ...

    def captured_logs_stream(self, key: LogKey, cursor: str | None = None) -> AsyncIterator[LogChunk]: ...

    async def assets(self) -> list[AssetInfo]: ...

    async def asset_change_signals(self, since: float) -> AssetChangeSignals: ...

    async def check_execution(self, key: AssetKey, check_name: str) -> CheckExecution | None: ...

    async def asset_history(self, key: AssetKey, limit: int = ...) -> list[MaterializationRecord]: ...

    async def materialize(
        self, location: str, repository: str, keys: Sequence[AssetKey], partition: str | None = None
    ) -> RunSummary: ...

    async def instigators(self, location: str, repository: str) -> list[InstigatorInfo]: ...

    async def sensors(self, location: str, repository: str) -> list[InstigatorInfo]: ...

    async def set_running(self, item: InstigatorInfo, running: bool) -> str: ...

    async def daemon_health(self, now: float | None = None) -> DaemonHealth: ...

    # ---- partitions, backfills, the run queue (partition_client.PartitionOperations) ----
    async def partition_health(
        self, keys: Sequence[AssetKey] | None = None
    ) -> dict[AssetKey, PartitionHealth | None]: ...

    async def partition_keys(self, key: AssetKey) -> list[str]: ...

    async def required_assets(self, keys: Sequence[AssetKey]) -> list[AssetKey]: ...

    async def job_assets(self, job: str, location: str | None = None) -> list[AssetKey]: ...

    async def launch_backfill(self, request: BackfillRequest) -> str: ...

    async def backfills(
        self, limit: int = 20, cursor: str | None = None, status: str | None = None
    ) -> list[BackfillInfo]: ...

    async def backfill(self, backfill_id: str) -> BackfillInfo: ...

    async def cancel_backfill(self, backfill_id: str) -> None: ...

    async def reexecute_backfill(self, backfill_id: str, strategy: str = "FROM_FAILURE") -> str: ...

    async def run_queue(self, limit: int = ...) -> QueueState: ...

    async def pool_names(self) -> list[str]: ...

    async def free_pool_slots(self, run_id: str) -> None: ...

    async def set_pool_limit(self, pool: str, limit: int | None) -> None: ...
