"""Backfills (Dagster's asset backfills): what one targets, its status and progress, and the request that
launches one.

A backfill's progress comes from `assetBackfillData`: per partitioned asset the partitions targeted,
materialized, failed and in progress; per asset that is not partitioned whether it is done. Its partitions
are `rootTargetedPartitions` (ranges of keys, or keys): the query stays small however many it targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edp_tui.dagster.assets import AssetKey, key_of, key_text
from edp_tui.dagster.partitions import KeyRange

JSON = dict[str, Any]
BACKFILL_TAG = "dagster/backfill"
# Dagster's BulkActionStatus values a backfill no longer changes from.
FINISHED = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"})
CANCELABLE = frozenset({"REQUESTED", "FAILING"})


@dataclass(frozen=True)
class AssetProgress:
    """One asset of a backfill: partitions targeted and how far they got (1 and 0/1 for an asset that is
    not partitioned)."""

    key: AssetKey
    partitioned: bool
    targeted: int
    materialized: int
    failed: int
    in_progress: int

    @classmethod
    def from_graphql(cls, obj: JSON) -> AssetProgress:
        key = key_of(obj.get("assetKey"))
        if obj.get("__typename") == "UnpartitionedAssetStatus":
            return cls(
                key,
                False,
                1,
                int(bool(obj.get("materialized"))),
                int(bool(obj.get("failed"))),
                int(bool(obj.get("inProgress"))),
            )
        return cls(
            key,
            True,
            int(obj.get("numPartitionsTargeted") or 0),
            int(obj.get("numPartitionsMaterialized") or 0),
            int(obj.get("numPartitionsFailed") or 0),
            int(obj.get("numPartitionsInProgress") or 0),
        )


@dataclass(frozen=True)
class Progress:
    targeted: int = 0
    materialized: int = 0
    failed: int = 0
    in_progress: int = 0

    @property
    def done(self) -> int:
        return self.materialized + self.failed

    @property
    def fraction(self) -> float:
        return self.done / self.targeted if self.targeted else 0.0


@dataclass(frozen=True)
class BackfillInfo:
    backfill_id: str
    status: str  # Dagster's BulkActionStatus
    created: float
    ended: float | None
    title: str | None
    num_partitions: int | None
    num_cancelable: int
    assets: tuple[AssetProgress, ...] = ()
    ranges: tuple[KeyRange, ...] = ()
    keys: tuple[str, ...] = ()
    error: str | None = None
    tags: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def from_graphql(cls, obj: JSON) -> BackfillInfo:
        data = obj.get("assetBackfillData") or {}
        root = data.get("rootTargetedPartitions") or {}
        error = obj.get("error") or {}
        return cls(
            backfill_id=str(obj["id"]),
            status=str(obj.get("status") or "UNKNOWN"),
            created=float(obj.get("timestamp") or 0.0),
            ended=float(obj["endTimestamp"]) if obj.get("endTimestamp") is not None else None,
            title=obj.get("title"),
            num_partitions=obj.get("numPartitions"),
            num_cancelable=int(obj.get("numCancelable") or 0),
            assets=tuple(AssetProgress.from_graphql(a) for a in data.get("assetBackfillStatuses") or []),
            ranges=tuple(KeyRange(str(r["start"]), str(r["end"])) for r in root.get("ranges") or []),
            keys=tuple(str(k) for k in root.get("partitionKeys") or ()),
            error=error.get("message") if error else None,
            tags=tuple((t["key"], t["value"]) for t in obj.get("tags") or [] if isinstance(t, dict)),
        )

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def can_cancel(self) -> bool:
        return self.status in CANCELABLE

    @property
    def progress(self) -> Progress:
        """Over the partitioned assets (each counts its partitions); the others count one each."""
        p = Progress()
        for a in self.assets:
            p = Progress(
                p.targeted + a.targeted,
                p.materialized + a.materialized,
                p.failed + a.failed,
                p.in_progress + a.in_progress,
            )
        return p

    def partitions_text(self, limit: int = 3) -> str:
        parts = [r.text() for r in self.ranges] or list(self.keys)
        if not parts:
            return "-"
        shown = ", ".join(parts[:limit])
        return shown + (f" (+{len(parts) - limit} more)" if len(parts) > limit else "")

    def failed_assets(self) -> list[AssetKey]:
        return [a.key for a in self.assets if a.failed]


@dataclass(frozen=True)
class BackfillRequest:
    """What to launch: the assets (each partitioned one over `ranges`, the others once)."""

    partitioned: tuple[AssetKey, ...]
    unpartitioned: tuple[AssetKey, ...]
    ranges: tuple[KeyRange, ...]
    count: int  # partitions in `ranges`
    title: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def params(self) -> JSON:
        """`LaunchBackfillParams`: an asset backfill by key ranges (the same size for 30 or 3,650 days)."""
        selectors: list[JSON] = [
            {
                "assetKey": {"path": list(k)},
                "partitions": {"ranges": [{"start": r.start, "end": r.end} for r in self.ranges]},
            }
            for k in self.partitioned
        ]
        selectors += [{"assetKey": {"path": list(k)}, "partitions": None} for k in self.unpartitioned]
        params: JSON = {"partitionsByAssets": selectors}
        if self.title:
            params["title"] = self.title
        if self.tags:
            params["tags"] = [{"key": k, "value": v} for k, v in self.tags.items()]
        return params

    def describe(self) -> str:
        assets = ", ".join(key_text(k) for k in self.partitioned)
        ranges = ", ".join(r.text() for r in self.ranges[:3]) + (
            f" (+{len(self.ranges) - 3} more ranges)" if len(self.ranges) > 3 else ""
        )
        text = f"{self.count} partition{'s' if self.count != 1 else ''} ({ranges}) of {assets}"
        if self.unpartitioned:
            text += f"; once: {', '.join(key_text(k) for k in self.unpartitioned)}"
        return text


def expand(keys: Sequence[AssetKey], required: Sequence[AssetKey]) -> list[AssetKey]:
    """The chosen keys and, after them, those Dagster requires with them (one step of a multi-asset)."""
    out = list(dict.fromkeys(keys))
    out += [k for k in required if k not in out]
    return out
