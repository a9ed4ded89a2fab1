"""Partitions of an asset: its health over the whole partition range, as Dagster's statuses give it.

`PartitionHealth` is one partitioned asset: the counts (materialized / failed / in progress / missing, from
`partitionStats`, disjoint) and the statuses as ranges of keys (`assetPartitionStatuses`: for time partitions
a handful of ranges whatever the number of partitions, so the query stays the same size from 30 to 3,650
days). `cells(width)` folds the partitions onto a bar of `width` cells; `ranges_with(...)` gives the key
ranges of a status for a backfill, from the full key list (fetched only when a backfill is launched).

Dagster's flattened ranges do not overlap (a partition both materialized and failed since is FAILED).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from edp_tui.dagster.assets import AssetKey, key_of, key_text
from edp_tui.dagster.errors import DagsterError

if TYPE_CHECKING:
    from edp_tui.dagster.api import DagsterApi

JSON = dict[str, Any]

MATERIALIZED = "MATERIALIZED"
FAILED = "FAILED"
IN_PROGRESS = "MATERIALIZING"
MISSING = "MISSING"
# A cell of the bar standing for several partitions: some materialized, some missing (none failed or running).
PARTIAL = "PARTIAL"


class PartitionRequestError(DagsterError):
    """A partition request that cannot be met (a key outside the partitions, an unpartitioned asset given a
    range, a backfill of nothing): nothing was launched."""

    title = "Partitions"


@dataclass(frozen=True)
class KeyRange:
    """Partition keys from `start` to `end`, both included."""

    start: str
    end: str

    def text(self) -> str:
        return self.start if self.start == self.end else f"{self.start}..{self.end}"


@dataclass(frozen=True)
class StatusRange:
    start: str
    end: str
    status: str  # MATERIALIZED, FAILED or MATERIALIZING


@dataclass(frozen=True)
class PartitionHealth:
    """One partitioned asset's partitions, by status."""

    key: AssetKey
    definition: str  # Dagster's description: "Daily, starting 2024-01-01 UTC."
    kind: str  # TIME_WINDOW, STATIC, DYNAMIC or MULTIPARTITIONED
    fmt: str | None
    total: int
    materialized: int
    failed: int
    in_progress: int
    first_key: str | None
    last_key: str | None
    ranges: tuple[StatusRange, ...] = ()  # time partitions
    keys_by_status: Mapping[str, tuple[str, ...]] | None = None  # other partitions: every key, by status

    @property
    def missing(self) -> int:
        return max(0, self.total - self.materialized - self.failed - self.in_progress)

    def counts(self) -> dict[str, int]:
        return {
            "materialized": self.materialized,
            "failed": self.failed,
            "in_progress": self.in_progress,
            "missing": self.missing,
            "total": self.total,
        }

    @classmethod
    def from_graphql(cls, obj: JSON) -> PartitionHealth:
        stats = obj.get("partitionStats") or {}
        definition = obj.get("partitionDefinition") or {}
        statuses = obj.get("assetPartitionStatuses") or {}
        ranges: tuple[StatusRange, ...] = ()
        by_status: dict[str, tuple[str, ...]] | None = None
        if statuses.get("__typename") == "TimePartitionStatuses":
            ranges = tuple(
                StatusRange(str(r["startKey"]), str(r["endKey"]), str(r["status"]))
                for r in statuses.get("ranges") or []
            )
        elif statuses.get("__typename") == "DefaultPartitionStatuses":
            by_status = {
                MATERIALIZED: tuple(statuses.get("materializedPartitions") or ()),
                FAILED: tuple(statuses.get("failedPartitions") or ()),
                IN_PROGRESS: tuple(statuses.get("materializingPartitions") or ()),
                MISSING: tuple(statuses.get("unmaterializedPartitions") or ()),
            }
        first = (obj.get("firstKey") or {}).get("results") or []
        last = (obj.get("lastKey") or {}).get("results") or []
        return cls(
            key=key_of(obj.get("assetKey")),
            definition=str(definition.get("description") or ""),
            kind=str(definition.get("type") or ""),
            fmt=definition.get("fmt"),
            total=int(stats.get("numPartitions") or 0),
            materialized=int(stats.get("numMaterialized") or 0),
            failed=int(stats.get("numFailed") or 0),
            in_progress=int(stats.get("numMaterializing") or 0),
            first_key=str(first[0]) if first else None,
            last_key=str(last[0]) if last else None,
            ranges=ranges,
            keys_by_status=by_status,
        )

    # ---- the bar ----
    def statuses_by_index(self) -> list[tuple[int, int, str]] | None:
        """(first index, last index, status) of each known range, indices counted from the first partition;
        None when the keys cannot be placed (a format that does not parse)."""
        if self.keys_by_status is not None:
            return None
        place = _Placer.of(self)
        if place is None:
            return None
        out = []
        for r in self.ranges:
            lo, hi = place(r.start), place(r.end)
            if lo is None or hi is None:
                return None
            out.append((max(0, lo), min(self.total - 1, hi), r.status))
        return out

    def cells(self, width: int) -> list[str]:
        """The partitions folded onto `width` cells (fewer when there are fewer partitions). A cell is FAILED
        when any of its partitions is, else MATERIALIZING when any is, else MATERIALIZED or MISSING when all
        are, else PARTIAL: a failure or a run is never hidden by its neighbours. Time partitions are folded
        from their ranges (work in cells and ranges, not partitions: as cheap for 3,650 days as for 30)."""
        n = self.total
        width = max(1, min(width, n)) if n else 0
        if not width:
            return []
        if self.keys_by_status is None:
            placed = self.statuses_by_index()
            if placed is None:
                return _proportional(self.counts(), width)
            return _fold_ranges(n, width, placed)
        status = [MISSING] * n
        index = {k: i for i, k in enumerate(self.all_keys())}
        for st in (MATERIALIZED, IN_PROGRESS, FAILED):
            for k in self.keys_by_status.get(st, ()):
                if k in index:
                    status[index[k]] = st
        return [_cell(status[c * n // width : (c + 1) * n // width]) for c in range(width)]

    def all_keys(self) -> list[str]:
        """Every key in order, for partitions that are not time windows (their statuses list them all)."""
        if self.keys_by_status is None:
            return []
        return sorted({k for keys in self.keys_by_status.values() for k in keys})


def _cell(chunk: Sequence[str]) -> str:
    kinds = set(chunk) or {MISSING}
    for status in (FAILED, IN_PROGRESS):
        if status in kinds:
            return status
    return kinds.pop() if len(kinds) == 1 else PARTIAL


def _fold_ranges(n: int, width: int, placed: Sequence[tuple[int, int, str]]) -> list[str]:
    """`cells` of n partitions from (first index, last index, status) ranges that do not overlap: cell c holds
    partitions c*n//width up to (c+1)*n//width (excluded), as `_cell` folds them; a cell not fully covered by
    ranges has missing partitions."""
    kinds: list[set[str]] = [set() for _ in range(width)]
    covered = [0] * width
    for lo, hi, status in placed:
        if lo > hi:
            continue
        # The cell of partition i: the c with c*n//width <= i < (c+1)*n//width.
        for c in range(((lo + 1) * width - 1) // n, ((hi + 1) * width - 1) // n + 1):
            start, end = c * n // width, (c + 1) * n // width
            kinds[c].add(status)
            covered[c] += min(hi + 1, end) - max(lo, start)
    return [
        _cell([*k, MISSING] if covered[c] < (c + 1) * n // width - c * n // width else list(k))
        for c, k in enumerate(kinds)
    ]


def _proportional(counts: Mapping[str, int], width: int) -> list[str]:
    total = max(1, counts["total"])
    out: list[str] = []
    for status, name in ((FAILED, "failed"), (IN_PROGRESS, "in_progress"), (MATERIALIZED, "materialized")):
        out += [status] * round(width * counts[name] / total)
    return (out + [MISSING] * width)[:width]


class _Placer:
    """Key -> index from the first key, for time partitions: keys parse with the definition's format, and
    the partitions are evenly spaced between the first and the last (exact for hours, days and weeks; for
    months the rounding absorbs their different lengths)."""

    def __init__(self, fmt: str, first: datetime, step: float) -> None:
        self.fmt, self.first, self.step = fmt, first, step

    @classmethod
    def of(cls, health: PartitionHealth) -> _Placer | None:
        if not (health.fmt and health.first_key and health.last_key and health.total):
            return None
        try:
            first = datetime.strptime(health.first_key, health.fmt)
            last = datetime.strptime(health.last_key, health.fmt)
        except ValueError:
            return None
        span = (last - first).total_seconds()
        step = span / (health.total - 1) if health.total > 1 else 1.0
        return cls(health.fmt, first, step or 1.0)

    def __call__(self, key: str) -> int | None:
        try:
            at = datetime.strptime(key, self.fmt)
        except ValueError:
            return None
        return round((at - self.first).total_seconds() / self.step)


# ---- backfill targets: key ranges by status, from the full key list ----
def status_of_keys(health: PartitionHealth, keys: Sequence[str]) -> list[str]:
    """The status of each of `keys` (the asset's partition keys in order)."""
    status = [MISSING] * len(keys)
    if health.keys_by_status is not None:
        index = {k: i for i, k in enumerate(keys)}
        for st in (MATERIALIZED, IN_PROGRESS, FAILED):
            for k in health.keys_by_status.get(st, ()):
                if k in index:
                    status[index[k]] = st
        return status
    index = {k: i for i, k in enumerate(keys)}
    for r in health.ranges:
        lo, hi = index.get(r.start), index.get(r.end)
        if lo is None or hi is None:
            continue  # a key no longer in the definition
        for i in range(lo, hi + 1):
            status[i] = r.status
    return status


def runs_of(flags: Sequence[bool], keys: Sequence[str]) -> list[KeyRange]:
    """The runs of consecutive True flags as key ranges."""
    out: list[KeyRange] = []
    start: int | None = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            out.append(KeyRange(keys[start], keys[i - 1]))
            start = None
    return out


def ranges_with(
    healths: Iterable[PartitionHealth], keys: Sequence[str], wanted: str, within: KeyRange | None = None
) -> list[KeyRange]:
    """Key ranges where any of the assets has status `wanted` (MISSING or FAILED), inside `within`."""
    flags = [False] * len(keys)
    for health in healths:
        for i, st in enumerate(status_of_keys(health, keys)):
            if st == wanted:
                flags[i] = True
    if within is not None:
        lo, hi = keys.index(within.start), keys.index(within.end)
        flags = [f and lo <= i <= hi for i, f in enumerate(flags)]
    return runs_of(flags, keys)


def count_keys(ranges: Iterable[KeyRange], keys: Sequence[str]) -> int:
    index = {k: i for i, k in enumerate(keys)}
    return sum(index[r.end] - index[r.start] + 1 for r in ranges)


def check_range(key: AssetKey, keys: Sequence[str], start: str, end: str) -> KeyRange:
    """`start`..`end` as a range of the asset's partitions; PartitionRequestError saying why not."""
    where = f"{keys[0]} to {keys[-1]}" if keys else "none"
    index = {k: i for i, k in enumerate(keys)}
    for k in (start, end):
        if k not in index:
            raise PartitionRequestError(
                f"{k!r} is not a partition of {key_text(key)} (its partitions: {where}); nothing launched"
            )
    if index[start] > index[end]:
        raise PartitionRequestError(f"the range {start}..{end} runs backwards; nothing launched")
    return KeyRange(start, end)


async def check_job_partition(client: DagsterApi, job: str, location: str, partition: str) -> None:
    """PartitionRequestError saying why, unless `partition` is a partition of the job (of its first
    partitioned asset): the one check of `edp-tui launch --partition` and the launch dialog's partition."""
    assets = await client.job_assets(job, location)
    health = await client.partition_health(assets)
    partitioned = [k for k in assets if health.get(k) is not None]
    if not partitioned:
        raise PartitionRequestError(
            f"job {job} is not partitioned: launch it without a partition; nothing launched"
        )
    check_range(partitioned[0], await client.partition_keys(partitioned[0]), partition, partition)


def partition_of(tags: Iterable[tuple[str, str]]) -> str | None:
    """A run's partition from its tags: the key, or `first..last` for a run over a range."""
    found = dict(tags)
    if "dagster/partition" in found:
        return found["dagster/partition"]
    start = found.get("dagster/asset_partition_range_start")
    end = found.get("dagster/asset_partition_range_end")
    if start and end:
        return KeyRange(start, end).text()
    return None
