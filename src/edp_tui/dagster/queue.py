"""The run queue explained: why a QUEUED run is waiting, and Dagster's concurrency pools.

Dagster's run coordinator starts a queued run once no limit holds it (dagster #16441: blocked runs "just look
stuck"). The limits, checked here in the coordinator's order with the numbers that make them hold:
- `max_concurrent_runs`: runs in progress (STARTING, STARTED, CANCELING) against the limit;
- tag concurrency limits: runs in progress carrying the same tag (the same value, or any value for a limit
  without one; per value with `applyLimitPerUniqueValue`);
- concurrency pools, when the coordinator blocks runs on pools (`isOpConcurrencyAware`): at the `op`
  granularity (the default) a run waits when every step it starts with is in a pool whose slots are all
  taken (claimed or promised to waiting steps); at the `run` granularity, when any of its pools is full;
- and no daemon: nothing dequeues while the run coordinator's heartbeat is stale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from edp_tui.dagster.models import DaemonStatus

JSON = dict[str, Any]
IN_PROGRESS_STATUSES = ("STARTING", "STARTED", "CANCELING")


@dataclass(frozen=True)
class TagLimit:
    key: str
    value: str | None  # None: any value
    per_value: bool  # applyLimitPerUniqueValue: the limit applies to each value on its own
    limit: int

    def describe(self) -> str:
        if self.per_value:
            return f"{self.key} (each value)"
        return f"{self.key}={self.value}" if self.value is not None else f"{self.key} (any value)"

    def matches(self, tags: Mapping[str, str]) -> bool:
        if self.key not in tags:
            return False
        return self.value is None or self.per_value or tags[self.key] == self.value

    def holding(self, tags: Mapping[str, str], running: Sequence[Mapping[str, str]]) -> int:
        """How many runs in progress count against this limit for a run with `tags`."""
        if self.per_value:
            return sum(1 for r in running if r.get(self.key) == tags[self.key])
        return sum(1 for r in running if self.matches(r))


def parse_tag_limits(text: str | None) -> tuple[TagLimit, ...]:
    """`tagConcurrencyLimitsYaml` as Dagster serves it (a YAML list of {key, value?, limit})."""
    if not text:
        return ()
    try:
        items = yaml.safe_load(text) or []
    except yaml.YAMLError:
        return ()
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or "key" not in item or "limit" not in item:
            continue
        value = item.get("value")
        per_value = isinstance(value, dict) and bool(value.get("applyLimitPerUniqueValue"))
        out.append(
            TagLimit(
                key=str(item["key"]),
                value=None if value is None or isinstance(value, dict) else str(value),
                per_value=per_value,
                limit=int(item["limit"]),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Pool:
    """A concurrency pool (Dagster's concurrency key): its limit and the slots in use."""

    name: str
    limit: int | None  # None: no limit set (and no default)
    using_default: bool
    in_use: int  # slots claimed by running steps
    pending: int  # steps waiting for a slot
    active_run_ids: tuple[str, ...] = ()
    slots: int | None = None  # the slots Dagster counts (the limit, once set)

    @classmethod
    def from_graphql(cls, obj: JSON) -> Pool:
        return cls(
            name=str(obj.get("concurrencyKey") or ""),
            limit=obj.get("limit"),
            using_default=bool(obj.get("usingDefaultLimit")),
            in_use=int(obj.get("activeSlotCount") or 0),
            pending=int(obj.get("pendingStepCount") or 0),
            active_run_ids=tuple(str(r) for r in obj.get("activeRunIds") or ()),
            slots=obj.get("slotCount"),
        )

    @property
    def full(self) -> bool:
        """No slot left: the slots are claimed or promised to steps already waiting."""
        slots = self.slots if self.slots is not None else self.limit
        return slots is not None and self.in_use + self.pending >= slots

    def describe(self) -> str:
        limit = "no limit" if self.limit is None else f"limit {self.limit}"
        if self.using_default and self.limit is not None:
            limit += " (the default)"
        return f"{limit}, {self.in_use} in use, {self.pending} waiting"


@dataclass(frozen=True)
class QueuedRun:
    run_id: str
    job_name: str
    status: str
    tags: Mapping[str, str]
    pools: tuple[str, ...] = ()
    creation_time: float | None = None
    root_pools: tuple[str, ...] = ()  # pools of the steps it starts with
    unconstrained_roots: bool = True  # it starts with a step in no pool

    @classmethod
    def from_graphql(cls, obj: JSON) -> QueuedRun:
        return cls(
            run_id=str(obj["runId"]),
            job_name=str(obj.get("jobName") or ""),
            status=str(obj.get("status") or ""),
            tags={t["key"]: t["value"] for t in obj.get("tags") or [] if isinstance(t, dict)},
            pools=tuple(str(p) for p in obj.get("allPools") or ()),
            creation_time=obj.get("creationTime"),
            root_pools=tuple(str(p) for p in obj.get("rootConcurrencyKeys") or ()),
            unconstrained_roots=bool(obj.get("hasUnconstrainedRootNodes", True)),
        )


@dataclass(frozen=True)
class QueueState:
    queuing: bool  # the instance queues runs (a QueuedRunCoordinator)
    max_concurrent_runs: int | None
    tag_limits: tuple[TagLimit, ...]
    pool_aware: bool  # the coordinator holds runs whose pools are full
    pool_granularity: str | None
    default_pool_limit: int | None
    min_limit: int
    max_limit: int
    pools: tuple[Pool, ...]
    in_progress: tuple[QueuedRun, ...]
    queued: tuple[QueuedRun, ...]
    queued_count: int
    in_progress_count: int
    coordinator: DaemonStatus | None = None

    @classmethod
    def from_graphql(cls, data: JSON) -> QueueState:
        instance = data.get("instance") or {}
        config = instance.get("runQueueConfig") or {}
        pools_config = instance.get("poolConfig") or {}
        in_progress = (data.get("inProgress") or {}).get("results") or []
        queued = (data.get("queued") or {}).get("results") or []
        daemon = ((instance.get("daemonHealth") or {}).get("daemonStatus")) or None
        return cls(
            queuing=bool(instance.get("runQueuingSupported")),
            max_concurrent_runs=config.get("maxConcurrentRuns"),
            tag_limits=parse_tag_limits(config.get("tagConcurrencyLimitsYaml")),
            pool_aware=bool(config.get("isOpConcurrencyAware")),
            pool_granularity=pools_config.get("poolGranularity"),
            default_pool_limit=pools_config.get("defaultPoolLimit"),
            min_limit=int(instance.get("minConcurrencyLimitValue") or 0),
            max_limit=int(instance.get("maxConcurrencyLimitValue") or 0),
            pools=tuple(Pool.from_graphql(p) for p in instance.get("concurrencyLimits") or []),
            in_progress=tuple(QueuedRun.from_graphql(r) for r in in_progress),
            queued=tuple(QueuedRun.from_graphql(r) for r in queued),
            queued_count=int((data.get("queuedCount") or {}).get("count") or len(queued)),
            coordinator=DaemonStatus.from_graphql(daemon) if daemon else None,
            in_progress_count=int((data.get("inProgressCount") or {}).get("count") or len(in_progress)),
        )

    def pool(self, name: str) -> Pool | None:
        return next((p for p in self.pools if p.name == name), None)

    def held_by_ended_runs(self, pool: Pool) -> tuple[str, ...]:
        """Runs holding a slot of `pool` that are no longer in progress (a run canceled while its step held
        the slot keeps it until it is freed): the slot is lost to every other run. Only meaningful while
        every run in progress is listed."""
        if len(self.in_progress) < self.in_progress_count:
            return ()
        running = {r.run_id for r in self.in_progress}
        return tuple(r for r in pool.active_run_ids if r not in running)

    def tag_usage(self) -> list[tuple[TagLimit, int]]:
        """Each tag limit with the runs in progress it counts (per value: the busiest value)."""
        running = [r.tags for r in self.in_progress]
        out = []
        for limit in self.tag_limits:
            if limit.per_value:
                values = {r[limit.key] for r in running if limit.key in r}
                used = max((sum(1 for r in running if r.get(limit.key) == v) for v in values), default=0)
            else:
                used = sum(1 for r in running if limit.matches(r))
            out.append((limit, used))
        return out


def holding_pools(run: QueuedRun, state: QueueState) -> list[Pool]:
    """The full pools that keep the run in the queue (Dagster's GlobalOpConcurrencyLimitsCounter rules)."""
    if not state.pool_aware:
        return []
    limited = [p for p in (state.pool(n) for n in run.pools) if p is not None and p.limit is not None]
    if state.pool_granularity == "run":
        return [p for p in limited if p.full]
    if run.unconstrained_roots or not run.root_pools:
        return []
    roots = [state.pool(n) for n in run.root_pools]
    if any(p is None or p.limit is None or not p.full for p in roots):
        return []  # a step it starts with can run: it leaves the queue
    return [p for p in roots if p is not None]


def why_queued(run: QueuedRun, state: QueueState, now: float, stale_after_s: float) -> list[str]:
    """What holds a QUEUED run, most fundamental first; one line saying it is free when nothing does."""
    reasons: list[str] = []
    if not state.queuing:
        return ["the instance does not queue runs (no QueuedRunCoordinator): it launches them at once"]
    daemon = state.coordinator
    if daemon is None or daemon.is_stale(now, stale_after_s):
        reasons.append(
            "the daemon's run coordinator is not running: nothing leaves the queue until it is back"
        )
    limit = state.max_concurrent_runs
    if limit is not None and limit >= 0 and state.in_progress_count >= limit:
        reasons.append(f"max_concurrent_runs: {state.in_progress_count} of {limit} runs in progress")
    running = [r.tags for r in state.in_progress]
    for tag_limit in state.tag_limits:
        if not tag_limit.matches(run.tags):
            continue
        used = tag_limit.holding(run.tags, running)
        if used >= tag_limit.limit:
            value = run.tags[tag_limit.key]
            reasons.append(
                f"tag limit {tag_limit.describe()}: {used} of {tag_limit.limit} runs in progress "
                f"with {tag_limit.key}={value}"
            )
    for pool in holding_pools(run, state):
        reason = f"pool {pool.name}: {pool.describe()}"
        ended = state.held_by_ended_runs(pool)
        if ended:
            runs = ", ".join(r[:8] for r in ended)
            reason += f"; {len(ended)} slot(s) held by runs that ended ({runs}): free them"
        reasons.append(reason)
    if not reasons:
        reasons.append("no limit holds it: the run coordinator starts it at its next pass")
    return reasons


def removal_refusal(state: QueueState, name: str) -> str | None:
    """Why removing `name`'s limit would be refused, or None.

    Dagster 1.13.27 keeps the slot rows of a removed limit that a step still holds; once no limit is left,
    every later look at the pools (the run coordinator's, each pooled step's, `setConcurrencyLimit` itself)
    re-creates limits from those rows with an empty insert and fails: the queue stops, pooled steps fail and
    no GraphQL call repairs it. Removing the last limit while its slots are held is therefore refused.
    """
    pool = state.pool(name)
    if pool is None or pool.limit is None:
        return f"pool {name} has no limit to remove"
    others = [p for p in state.pools if p.name != name and p.limit is not None]
    if not others and pool.in_use:
        return (
            f"pool {name} is the last pool with a limit and {pool.in_use} of its slots are held: removing it "
            "now would stop the run queue (a Dagster 1.13 storage bug); wait until its slots are free, free "
            "those of ended runs, or set a high limit instead"
        )
    return None
