"""The partitions, backfills and run-queue side of the in-memory Dagster (mixed into FakeDagster): the demo's
daily assets (365 days of 2025, some materialized, a failed day, a day in progress), two backfills (one
failed, one running), a queue with a full pool holding a queued run. Deterministic, for snapshots."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from edp_tui.dagster.assets import AssetKey
from edp_tui.dagster.backfills import AssetProgress, BackfillInfo, BackfillRequest
from edp_tui.dagster.errors import DagsterRequestRejected
from edp_tui.dagster.models import DaemonStatus
from edp_tui.dagster.partitions import (
    FAILED,
    IN_PROGRESS,
    MATERIALIZED,
    KeyRange,
    PartitionHealth,
    StatusRange,
)
from edp_tui.dagster.queue import Pool, QueuedRun, QueueState

FIRST = date(2025, 1, 1)
DAYS = 365
KEYS = [(FIRST + timedelta(days=i)).isoformat() for i in range(DAYS)]
ORDERS: AssetKey = ("retail_raw", "orders")
ITEMS: AssetKey = ("retail_raw", "order_items")
FCT: AssetKey = ("marts", "fct_orders")
T0 = 1_767_355_200.0


def daily_health(
    key: AssetKey, ranges: Sequence[tuple[int, int, str]], n: int = DAYS, first: date = FIRST
) -> PartitionHealth:
    """A daily asset of `n` partitions from `first`, with (first index, last index, status) ranges."""
    keys = [(first + timedelta(days=i)).isoformat() for i in range(n)]
    counts = {MATERIALIZED: 0, FAILED: 0, IN_PROGRESS: 0}
    for lo, hi, status in ranges:
        counts[status] += hi - lo + 1
    return PartitionHealth(
        key=key,
        definition=f"Daily, starting {first.isoformat()} UTC.",
        kind="TIME_WINDOW",
        fmt="%Y-%m-%d",
        total=n,
        materialized=counts[MATERIALIZED],
        failed=counts[FAILED],
        in_progress=counts[IN_PROGRESS],
        first_key=keys[0],
        last_key=keys[-1],
        ranges=tuple(StatusRange(keys[lo], keys[hi], s) for lo, hi, s in ranges),
    )


def sample_healths() -> dict[AssetKey, PartitionHealth | None]:
    raw = [(0, 89, MATERIALIZED), (90, 90, FAILED), (91, 119, MATERIALIZED), (200, 200, IN_PROGRESS)]
    return {
        ORDERS: daily_health(ORDERS, raw),
        ITEMS: daily_health(ITEMS, raw),
        FCT: daily_health(FCT, [(0, 89, MATERIALIZED), (91, 119, MATERIALIZED)]),
        ("staging", "stg_orders"): None,
    }


def sample_backfills() -> list[BackfillInfo]:
    return [
        BackfillInfo(
            "runnings",
            "REQUESTED",
            T0 - 60,
            None,
            None,
            30,
            12,
            (AssetProgress(ORDERS, True, 30, 17, 0, 3), AssetProgress(ITEMS, True, 30, 17, 0, 3)),
            (KeyRange("2025-07-01", "2025-07-30"),),
        ),
        BackfillInfo(
            "failedbf",
            "COMPLETED_FAILED",
            T0 - 3600,
            T0 - 3000,
            "first quarter",
            120,
            0,
            (AssetProgress(ORDERS, True, 120, 119, 1, 0), AssetProgress(ITEMS, True, 120, 119, 1, 0)),
            (KeyRange("2025-01-01", "2025-04-30"),),
        ),
    ]


def sample_queue() -> QueueState:
    running = QueuedRun(
        "a1b2c3d4-0000-0000-0000-0000000000aa", "__ASSET_JOB", "STARTED", {"dagster/partition": "2025-07-18"}
    )
    queued = tuple(
        QueuedRun(
            f"q{i:07d}-0000-0000-0000-000000000000",
            "__ASSET_JOB",
            "QUEUED",
            {"dagster/partition": f"2025-07-{19 + i:02d}", "dagster/backfill": "runnings"},
            ("warehouse",),
            T0 - 30,
            ("warehouse",),
            False,
        )
        for i in range(3)
    )
    return QueueState(
        queuing=True,
        max_concurrent_runs=3,
        tag_limits=(),
        pool_aware=True,
        pool_granularity=None,
        default_pool_limit=None,
        min_limit=0,
        max_limit=1000,
        pools=(Pool("warehouse", 1, False, 1, 0, (running.run_id,), 1),),
        in_progress=(running,),
        queued=queued,
        queued_count=len(queued),
        in_progress_count=1,
        coordinator=DaemonStatus("QUEUED_RUN_COORDINATOR", True, True, T0 - 2),
    )


class PartitionsFake:
    """Methods of DagsterApi for partitions, backfills and the queue, over in-memory state."""

    if TYPE_CHECKING:

        async def _call(self, name: str, arg: Any = None) -> None: ...

        def _mutation(self, action: str) -> None: ...

    def init_partitions(self) -> None:
        self.healths = sample_healths()
        self.backfills_list = sample_backfills()
        self.queue_state = sample_queue()
        self.launched_backfills: list[BackfillRequest] = []
        self.pool_limits: list[tuple[str, int | None]] = []

    async def partition_health(
        self, keys: Sequence[AssetKey] | None = None
    ) -> dict[AssetKey, PartitionHealth | None]:
        await self._call("partition_health", tuple(keys) if keys is not None else None)
        found: dict[AssetKey, PartitionHealth | None] = {
            k: h for k, h in self.healths.items() if keys is None or k in keys
        }
        # As the client: an asset asked for that exists but has no partitions is None; an unknown one absent.
        known = {a.key for a in getattr(self, "assets_list", [])} | set(self.healths)
        found.update({k: None for k in keys or () if k in known and k not in self.healths})
        return found

    async def partition_keys(self, key: AssetKey) -> list[str]:
        await self._call("partition_keys", key)
        return list(KEYS) if self.healths.get(key) is not None else []

    async def required_assets(self, keys: Sequence[AssetKey]) -> list[AssetKey]:
        await self._call("required_assets", tuple(keys))
        return [k for k in (ORDERS, ITEMS) if k not in keys] if set(keys) & {ORDERS, ITEMS} else []

    async def job_assets(self, job: str, location: str | None = None) -> list[AssetKey]:
        await self._call("job_assets", job)
        return [ORDERS, ITEMS, ("staging", "stg_orders")] if job == "ingestion_job" else []

    async def launch_backfill(self, request: BackfillRequest) -> str:
        await self._call("launch_backfill", request)
        self._mutation(f"backfill of {request.describe()}")
        self.launched_backfills.append(request)
        backfill_id = f"new{len(self.launched_backfills):05d}"
        progress = tuple(AssetProgress(k, True, request.count, 0, 0, 0) for k in request.partitioned)
        info = BackfillInfo(
            backfill_id, "REQUESTED", T0, None, None, request.count, 0, progress, request.ranges
        )
        self.backfills_list.insert(0, info)
        return backfill_id

    async def backfills(
        self, limit: int = 20, cursor: str | None = None, status: str | None = None
    ) -> list[BackfillInfo]:
        await self._call("backfills", limit)
        return list(self.backfills_list[:limit])

    async def backfill(self, backfill_id: str) -> BackfillInfo:
        await self._call("backfill", backfill_id)
        for info in self.backfills_list:
            if info.backfill_id == backfill_id:
                return info
        raise DagsterRequestRejected("BackfillNotFoundError", f"no backfill with id {backfill_id!r}")

    async def cancel_backfill(self, backfill_id: str) -> None:
        await self._call("cancel_backfill", backfill_id)
        self._mutation(f"cancel of backfill {backfill_id}")
        self.backfills_list = [
            BackfillInfo(**{**b.__dict__, "status": "CANCELING"}) if b.backfill_id == backfill_id else b
            for b in self.backfills_list
        ]

    async def reexecute_backfill(self, backfill_id: str, strategy: str = "FROM_FAILURE") -> str:
        await self._call("reexecute_backfill", (backfill_id, strategy))
        self._mutation(f"re-execution of backfill {backfill_id}")
        new = BackfillInfo(
            "retried1", "REQUESTED", T0, None, None, 1, 1, (AssetProgress(ORDERS, True, 1, 0, 0, 1),)
        )
        self.backfills_list.insert(0, new)
        return new.backfill_id

    async def run_queue(self, limit: int = 50) -> QueueState:
        await self._call("run_queue", limit)
        # The run coordinator heartbeats: its heartbeat is always recent.
        beat = DaemonStatus("QUEUED_RUN_COORDINATOR", True, True, time.time() - 2)
        return QueueState(**{**self.queue_state.__dict__, "coordinator": beat})

    async def pool_names(self) -> list[str]:
        await self._call("pool_names")
        return [p.name for p in self.queue_state.pools]

    async def free_pool_slots(self, run_id: str) -> None:
        await self._call("free_pool_slots", run_id)
        self._mutation(f"freeing the pool slots of run {run_id}")

    async def set_pool_limit(self, pool: str, limit: int | None) -> None:
        await self._call("set_pool_limit", (pool, limit))
        self._mutation(f"setting pool {pool}")
        self.pool_limits.append((pool, limit))
        self.queue_state = QueueState(
            **{
                **self.queue_state.__dict__,
                "pools": tuple(
                    Pool(**{**p.__dict__, "limit": limit, "slots": limit}) if p.name == pool else p
                    for p in self.queue_state.pools
                ),
            }
        )
