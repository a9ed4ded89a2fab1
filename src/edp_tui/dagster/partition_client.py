"""The GraphQL operations for partitions, backfills and the run queue, as a part of `DagsterClient`.

One method per operation over the client's transport (`execute`), like the rest of the client; kept in a
module of its own so the client stays one screen of transport and the older operations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from edp_tui.dagster.assets import AssetKey, key_of, key_text
from edp_tui.dagster.backfills import BackfillInfo, BackfillRequest
from edp_tui.dagster.errors import DagsterRequestRejected
from edp_tui.dagster.models import JSON
from edp_tui.dagster.partitions import PartitionHealth, PartitionRequestError
from edp_tui.dagster.queue import QueueState

MUTATION_TIMEOUT_S = 60.0
# The queued and in-progress runs the queue view reads (each queued run's pools come from its plan).
QUEUE_RUNS_LIMIT = 50


def _expect(obj: Any, *ok: str) -> JSON:
    from edp_tui.dagster.client import expect  # the client's one way to read a union result

    return expect(obj, *ok)


def _key_input(key: AssetKey) -> JSON:
    return {"path": list(key)}


class PartitionOperations:
    """Mixed into `DagsterClient`: every method uses only its `execute` and read-only refusal."""

    if TYPE_CHECKING:  # provided by DagsterClient

        async def execute(
            self, name: str, variables: Mapping[str, Any] | None = None, *, timeout: float | None = None
        ) -> JSON: ...

        def _refuse_if_read_only(self, action: str) -> None: ...

    async def partition_health(
        self, keys: Sequence[AssetKey] | None = None
    ) -> dict[AssetKey, PartitionHealth | None]:
        """The assets (of `keys`, or all) found, each with its partitions' counts and status ranges, or None
        when it is not partitioned. An unknown key is left out."""
        if keys is not None and not keys:
            return {}
        variables = {"assetKeys": [_key_input(k) for k in keys] if keys is not None else None}
        data = await self.execute("PartitionHealth", variables)
        return {
            key_of(n.get("assetKey")): PartitionHealth.from_graphql(n) if n.get("isPartitioned") else None
            for n in data.get("assetNodes") or []
        }

    async def partition_keys(self, key: AssetKey) -> list[str]:
        """Every partition key of one asset, in order (only to launch a backfill: the list can be long)."""
        data = await self.execute("PartitionKeys", {"assetKey": _key_input(key)})
        node = data.get("assetNodeOrError") or {}
        if node.get("__typename") == "AssetNotFoundError":
            raise PartitionRequestError(f"no asset {key_text(key)}; nothing launched")
        node = _expect(node, "AssetNode")
        if not node.get("isPartitioned"):
            return []
        return [str(k) for k in node.get("partitionKeys") or []]

    async def required_assets(self, keys: Sequence[AssetKey]) -> list[AssetKey]:
        """The assets Dagster requires with `keys` (other outputs of a multi-asset that cannot be subset)."""
        data = await self.execute("RequiredAssets", {"assetKeys": [_key_input(k) for k in keys]})
        return [key_of(k) for k in data.get("assetNodeAdditionalRequiredKeys") or []]

    async def job_assets(self, job: str, location: str | None = None) -> list[AssetKey]:
        """The assets of an asset job (of one location, or of any)."""
        data = await self.execute("AssetJobs")
        return [
            key_of(n.get("assetKey"))
            for n in data.get("assetNodes") or []
            if job in (n.get("jobNames") or ())
            and (
                location is None
                or ((n.get("repository") or {}).get("location") or {}).get("name") == location
            )
        ]

    async def launch_backfill(self, request: BackfillRequest) -> str:
        """Launch an asset backfill; returns its id."""
        self._refuse_if_read_only(f"backfill of {request.describe()}")
        data = await self.execute("LaunchBackfill", {"params": request.params()}, timeout=MUTATION_TIMEOUT_S)
        return str(_expect(data["launchPartitionBackfill"], "LaunchBackfillSuccess")["backfillId"])

    async def backfills(
        self, limit: int = 20, cursor: str | None = None, status: str | None = None
    ) -> list[BackfillInfo]:
        """The newest backfills first."""
        data = await self.execute(
            "Backfills", {"limit": max(1, min(limit, 200)), "cursor": cursor, "status": status}
        )
        found = _expect(data["partitionBackfillsOrError"], "PartitionBackfills")
        return [BackfillInfo.from_graphql(b) for b in found.get("results") or []]

    async def backfill(self, backfill_id: str) -> BackfillInfo:
        data = await self.execute("Backfill", {"backfillId": backfill_id})
        result = data.get("partitionBackfillOrError") or {}
        if result.get("__typename") == "BackfillNotFoundError":
            raise DagsterRequestRejected("BackfillNotFoundError", f"no backfill with id {backfill_id!r}")
        return BackfillInfo.from_graphql(_expect(result, "PartitionBackfill"))

    async def cancel_backfill(self, backfill_id: str) -> None:
        """Cancel a backfill: no more runs are launched, and its runs in progress are terminated."""
        self._refuse_if_read_only(f"cancel of backfill {backfill_id}")
        data = await self.execute("CancelBackfill", {"backfillId": backfill_id}, timeout=MUTATION_TIMEOUT_S)
        _expect(data["cancelPartitionBackfill"], "CancelBackfillSuccess")

    async def reexecute_backfill(self, backfill_id: str, strategy: str = "FROM_FAILURE") -> str:
        """A new backfill of what failed in `backfill_id` (FROM_FAILURE) or of all of it (ALL_STEPS)."""
        self._refuse_if_read_only(f"re-execution of backfill {backfill_id}")
        data = await self.execute(
            "ReexecuteBackfill", {"backfillId": backfill_id, "strategy": strategy}, timeout=MUTATION_TIMEOUT_S
        )
        return str(_expect(data["reexecutePartitionBackfill"], "LaunchBackfillSuccess")["backfillId"])

    async def run_queue(self, limit: int = QUEUE_RUNS_LIMIT) -> QueueState:
        return QueueState.from_graphql(await self.execute("RunQueue", {"limit": limit}))

    async def pool_names(self) -> list[str]:
        """The pools the workspace's assets use and those with a limit set."""
        data = await self.execute("PoolNames")
        names = {str(p) for n in data.get("assetNodes") or [] for p in n.get("pools") or []}
        limits = (data.get("instance") or {}).get("concurrencyLimits") or []
        names |= {str(p.get("concurrencyKey")) for p in limits if p.get("concurrencyKey")}
        return sorted(names)

    async def free_pool_slots(self, run_id: str) -> None:
        """Free the pool slots an ended run still holds."""
        self._refuse_if_read_only(f"freeing the pool slots of run {run_id}")
        data = await self.execute("FreePoolSlots", {"runId": run_id}, timeout=MUTATION_TIMEOUT_S)
        if data.get("freeConcurrencySlotsForRun") is not True:
            raise DagsterRequestRejected(
                "ConcurrencyLimit", f"Dagster did not free the slots of run {run_id}"
            )

    async def set_pool_limit(self, pool: str, limit: int | None) -> None:
        """Set a pool's limit (None: remove it, back to the instance's default)."""
        what = f"limit {limit}" if limit is not None else "no limit"
        self._refuse_if_read_only(f"setting pool {pool} to {what}")
        if limit is None:
            data = await self.execute("DeletePoolLimit", {"pool": pool}, timeout=MUTATION_TIMEOUT_S)
            ok = data.get("deleteConcurrencyLimit")
        else:
            data = await self.execute(
                "SetPoolLimit", {"pool": pool, "limit": limit}, timeout=MUTATION_TIMEOUT_S
            )
            ok = data.get("setConcurrencyLimit")
        if ok is not True:
            raise DagsterRequestRejected("ConcurrencyLimit", f"Dagster did not change pool {pool}")
