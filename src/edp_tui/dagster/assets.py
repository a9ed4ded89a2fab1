"""Typed views of the asset graph (``Assets.graphql``): assets with their edges, last materialization, checks
and staleness, and the graph walks the Assets tab needs (groups, what is downstream of an asset).

The dbt tests of the dbt project are asset checks of the dbt models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
AssetKey = tuple[str, ...]
# The implicit job of every repository with assets: it can run any selection of them.
ASSET_JOB = "__ASSET_JOB"
# Check outcomes that mean something is wrong with the data (or with the check itself).
FAILED_CHECK_STATUSES = frozenset({"FAILED", "EXECUTION_FAILED"})


def key_of(obj: Mapping[str, Any] | None) -> AssetKey:
    """``{path: [...]}`` -> a tuple key."""
    return tuple(str(p) for p in (obj or {}).get("path") or ())


def key_text(key: AssetKey) -> str:
    return "/".join(key)


@dataclass(frozen=True)
class Materialization:
    run_id: str
    timestamp: float  # seconds since the epoch

    @classmethod
    def from_graphql(cls, obj: JSON) -> Materialization:
        # Event timestamps are milliseconds, as strings.
        return cls(str(obj.get("runId") or ""), float(obj.get("timestamp") or 0) / 1000.0)


@dataclass(frozen=True)
class AssetCheck:
    """One check and its execution for the asset's latest materialization (None: never run against it)."""

    name: str
    status: str | None = None  # SUCCEEDED, FAILED, EXECUTION_FAILED, IN_PROGRESS, SKIPPED
    severity: str | None = None  # ERROR or WARN, when it has been evaluated
    run_id: str | None = None
    timestamp: float | None = None

    @classmethod
    def from_graphql(cls, obj: JSON) -> AssetCheck:
        execution = obj.get("executionForLatestMaterialization") or {}
        evaluation = execution.get("evaluation") or {}
        ts = execution.get("timestamp")
        return cls(
            name=str(obj.get("name") or ""),
            status=execution.get("status"),
            severity=evaluation.get("severity"),
            run_id=execution.get("runId"),
            timestamp=None if ts is None else float(ts),
        )

    @property
    def failed(self) -> bool:
        return self.status in FAILED_CHECK_STATUSES


@dataclass(frozen=True)
class AssetInfo:
    key: AssetKey
    group: str
    location: str
    repository: str
    materializable: bool
    kinds: tuple[str, ...] = ()
    op_names: tuple[str, ...] = ()
    upstream: tuple[AssetKey, ...] = ()
    downstream: tuple[AssetKey, ...] = ()
    last_materialization: Materialization | None = None
    checks: tuple[AssetCheck, ...] = ()
    checks_error: str | None = None
    stale_status: str = "UNKNOWN"  # FRESH, STALE, MISSING
    stale_causes: tuple[str, ...] = ()
    partitioned: bool = False

    @classmethod
    def from_graphql(cls, obj: JSON) -> AssetInfo:
        repo = obj.get("repository") or {}
        mats = obj.get("assetMaterializations") or []
        checks_or_error = obj.get("assetChecksOrError") or {}
        checks: tuple[AssetCheck, ...] = ()
        checks_error = None
        if checks_or_error.get("__typename") == "AssetChecks":
            checks = tuple(AssetCheck.from_graphql(c) for c in checks_or_error.get("checks") or [])
        elif checks_or_error:
            checks_error = str(checks_or_error.get("message") or checks_or_error.get("__typename"))
        return cls(
            key=key_of(obj.get("assetKey")),
            group=str(obj.get("groupName") or "default"),
            location=str((repo.get("location") or {}).get("name") or ""),
            repository=str(repo.get("name") or ""),
            materializable=bool(obj.get("isMaterializable") and obj.get("isExecutable", True)),
            kinds=tuple(str(k) for k in obj.get("kinds") or ()),
            op_names=tuple(str(k) for k in obj.get("opNames") or ()),
            upstream=tuple(key_of(k) for k in obj.get("dependencyKeys") or ()),
            downstream=tuple(key_of(k) for k in obj.get("dependedByKeys") or ()),
            last_materialization=Materialization.from_graphql(mats[0]) if mats else None,
            checks=checks,
            checks_error=checks_error,
            stale_status=str(obj.get("staleStatus") or "UNKNOWN"),
            partitioned=bool(obj.get("isPartitioned")),
            stale_causes=tuple(_cause_text(c) for c in obj.get("staleCauses") or ()),
        )

    @property
    def name(self) -> str:
        return key_text(self.key)

    @property
    def failed_checks(self) -> tuple[AssetCheck, ...]:
        return tuple(c for c in self.checks if c.failed)

    @property
    def checks_summary(self) -> str:
        """``"3/4 ok, 1 fail"`` (fits a 14-column cell): executions against the latest materialization."""
        if not self.checks:
            return "-"
        passed = sum(1 for c in self.checks if c.status == "SUCCEEDED")
        failed = len(self.failed_checks)
        running = sum(1 for c in self.checks if c.status == "IN_PROGRESS")
        text = f"{passed}/{len(self.checks)} ok"
        if failed:
            text += f", {failed} fail"
        if running:
            text += f", {running} run"
        return text

    @property
    def state(self) -> str:
        """One word for the list: missing, stale, failed (a check), fresh, or unknown."""
        if self.stale_status == "MISSING" or self.last_materialization is None:
            return "missing"
        if self.failed_checks:
            return "failed"
        if self.stale_status == "STALE":
            return "stale"
        return "fresh" if self.stale_status == "FRESH" else "unknown"


def _cause_text(obj: JSON) -> str:
    dependency = key_of(obj.get("dependency")) if obj.get("dependency") else ()
    reason = str(obj.get("reason") or obj.get("category") or "stale")
    return f"{reason} ({key_text(dependency)})" if dependency else reason


def by_group(assets: Iterable[AssetInfo]) -> dict[str, list[AssetInfo]]:
    """Groups in name order, assets in key order inside each."""
    groups: dict[str, list[AssetInfo]] = {}
    for asset in sorted(assets, key=lambda a: (a.group, a.key)):
        groups.setdefault(asset.group, []).append(asset)
    return groups


def downstream_closure(assets: Mapping[AssetKey, AssetInfo], root: AssetKey) -> list[AssetKey]:
    """``root`` and everything downstream of it, in breadth-first order (each key once, cycles are safe)."""
    seen = [root]
    queue = [root]
    while queue:
        current = assets.get(queue.pop(0))
        for child in current.downstream if current else ():
            if child not in seen:
                seen.append(child)
                queue.append(child)
    return seen


def with_op_siblings(assets: Mapping[AssetKey, AssetInfo], keys: Iterable[AssetKey]) -> list[AssetKey]:
    """``keys`` plus every asset computed by the same op in the same location: what a multi-asset that cannot
    be subset (Dagster answers InvalidSubsetError) needs selected together."""
    chosen = list(dict.fromkeys(keys))
    ops = {(a.location, op) for k in chosen if (a := assets.get(k)) for op in a.op_names}
    for key, asset in assets.items():
        if key not in chosen and any((asset.location, op) in ops for op in asset.op_names):
            chosen.append(key)
    return chosen


@dataclass(frozen=True)
class AssetChangeSignals:
    """``AssetsChanged.graphql``: could the asset graph's state have changed since a given time?"""

    runs_changed: bool  # a run created or changed status since
    run_live: bool  # a run in progress now (it may materialize as it goes)
    locations: tuple[tuple[str, float | None], ...]  # (location, updated timestamp): a reload moves it

    @classmethod
    def from_graphql(cls, data: JSON) -> AssetChangeSignals:
        def some(field: str) -> bool:
            result = data.get(field) or {}
            if result.get("__typename") != "Runs":
                # An error answer: say "changed", the full read will show the error.
                return True
            return bool(result.get("results"))

        workspace = data.get("workspaceOrError") or {}
        entries = workspace.get("locationEntries") or [] if workspace.get("__typename") == "Workspace" else []
        return cls(
            runs_changed=some("changed"),
            run_live=some("live"),
            locations=tuple(
                (str(e.get("name")), float(e["updatedTimestamp"]) if e.get("updatedTimestamp") else None)
                for e in entries
                if isinstance(e, dict)
            ),
        )
