"""From what an operator asks (these assets or this job; a range, the missing or the failed partitions) to the
backfill to launch, checked first: shared by `edp-tui backfill` and the dashboard.

Every refusal is a PartitionRequestError saying why, and nothing is launched: a key outside the partitions,
a range that runs backwards, an asset that is not partitioned given a range, assets with different partitions,
a backfill of nothing (no missing or failed partitions where asked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from edp_tui.dagster.assets import AssetKey, key_text
from edp_tui.dagster.backfills import BackfillRequest, expand
from edp_tui.dagster.partitions import (
    FAILED,
    MISSING,
    KeyRange,
    PartitionHealth,
    PartitionRequestError,
    check_range,
    count_keys,
    ranges_with,
)

MODES = ("range", "missing", "failed")


class PlanSource(Protocol):
    async def required_assets(self, keys: Sequence[AssetKey]) -> list[AssetKey]: ...

    async def partition_health(
        self, keys: Sequence[AssetKey] | None = None
    ) -> dict[AssetKey, PartitionHealth | None]: ...

    async def partition_keys(self, key: AssetKey) -> list[str]: ...


@dataclass(frozen=True)
class BackfillAsk:
    """What the operator asked for. `start`/`end` bound the range (mode "range": both required); with
    "missing" or "failed" they are optional bounds."""

    assets: tuple[AssetKey, ...]
    mode: str = "range"
    start: str | None = None
    end: str | None = None
    from_job: str | None = None  # the assets are a job's: those not partitioned are built once
    title: str | None = None
    tags: Mapping[str, str] | None = None


def _names(keys: Sequence[AssetKey]) -> str:
    return ", ".join(key_text(k) for k in keys)


async def plan_backfill(source: PlanSource, ask: BackfillAsk) -> BackfillRequest:
    if ask.mode not in MODES:
        raise PartitionRequestError(f"unknown backfill mode {ask.mode!r}; one of {', '.join(MODES)}")
    if not ask.assets:
        what = f"job {ask.from_job}" if ask.from_job else "the request"
        raise PartitionRequestError(f"{what} names no assets: nothing to backfill; nothing launched")
    found = await source.partition_health(ask.assets)
    unknown = [k for k in ask.assets if k not in found]
    if unknown:
        raise PartitionRequestError(f"no asset {_names(unknown)} in the workspace; nothing launched")
    targets = expand(ask.assets, await source.required_assets(ask.assets))
    found.update(await source.partition_health([k for k in targets if k not in found]))
    healths = {k: h for k, h in found.items() if h is not None}
    partitioned = [k for k in targets if k in healths]
    unpartitioned = [k for k in targets if k not in healths]
    if not partitioned:
        verb = "is" if len(targets) == 1 else "are"
        raise PartitionRequestError(
            f"{_names(targets)} {verb} not partitioned: there are no partitions to backfill (materialize "
            "it instead); nothing launched"
        )
    named_unpartitioned = [k for k in ask.assets if k in unpartitioned]
    if named_unpartitioned and ask.from_job is None:
        raise PartitionRequestError(
            f"{_names(named_unpartitioned)} {'is' if len(named_unpartitioned) == 1 else 'are'} not "
            "partitioned and cannot be given partitions; backfill the partitioned assets alone, or a job "
            "(its other assets are built once); nothing launched"
        )
    if ask.mode == "range" and not (ask.start and ask.end):
        raise PartitionRequestError("a range needs its first and last partition (--from and --to)")
    definitions = {healths[k].definition for k in partitioned}
    if len(definitions) > 1:
        raise PartitionRequestError(
            f"{_names(partitioned)} have different partitions ({' / '.join(sorted(definitions))}): "
            "backfill them one at a time; nothing launched"
        )
    keys = await source.partition_keys(partitioned[0])
    if not keys:
        raise PartitionRequestError(f"{key_text(partitioned[0])} has no partitions yet; nothing launched")
    bounds: KeyRange | None = None
    if ask.start or ask.end:
        bounds = check_range(partitioned[0], keys, ask.start or keys[0], ask.end or keys[-1])
    if ask.mode == "range":
        assert bounds is not None
        ranges = [bounds]
    else:
        wanted = MISSING if ask.mode == "missing" else FAILED
        ranges = ranges_with((healths[k] for k in partitioned), keys, wanted, bounds)
    if not ranges:
        where = f" in {bounds.text()}" if bounds else ""
        raise PartitionRequestError(
            f"nothing to backfill: no {ask.mode} partitions of {_names(partitioned)}{where}; nothing launched"
        )
    return BackfillRequest(
        partitioned=tuple(partitioned),
        unpartitioned=tuple(unpartitioned),
        ranges=tuple(ranges),
        count=count_keys(ranges, keys),
        title=ask.title,
        tags=dict(ask.tags or {}),
    )
