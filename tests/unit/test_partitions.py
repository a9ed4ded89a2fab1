"""Partition health, backfill plans and the queue explained, from answers captured from a real webserver
(tests/unit/fixtures/dagster) and from synthetic ones where a state is hard to reach live."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from edp_tui.dagster.assets import AssetKey
from edp_tui.dagster.backfill_plan import BackfillAsk, plan_backfill
from edp_tui.dagster.backfills import BackfillInfo, BackfillRequest
from edp_tui.dagster.models import DaemonStatus
from edp_tui.dagster.partitions import (
    FAILED,
    IN_PROGRESS,
    MATERIALIZED,
    MISSING,
    PARTIAL,
    KeyRange,
    PartitionHealth,
    PartitionRequestError,
    StatusRange,
    check_range,
    count_keys,
    partition_of,
    ranges_with,
)
from edp_tui.dagster.queue import (
    Pool,
    QueuedRun,
    QueueState,
    TagLimit,
    parse_tag_limits,
    removal_refusal,
    why_queued,
)
from tests.support.partitions_fake import daily_health

FIXTURES = Path(__file__).parent / "fixtures" / "dagster"
ORDERS: AssetKey = ("retail_raw", "orders")
ITEMS: AssetKey = ("retail_raw", "order_items")
PAYMENTS: AssetKey = ("retail_raw", "payments")
STG: AssetKey = ("staging", "stg_orders")


def data(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text())["body"]["data"])


def healths(name: str = "partition_health_failed_day") -> dict[AssetKey, PartitionHealth]:
    out = {}
    for node in data(name)["assetNodes"]:
        if node["isPartitioned"]:
            health = PartitionHealth.from_graphql(node)
            out[health.key] = health
    return out


def days(first: date, n: int) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]


def daily(n: int, ranges: Sequence[tuple[int, int, str]], first: date = date(2024, 1, 1)) -> PartitionHealth:
    """A daily asset of n partitions with (first index, last index, status) ranges."""
    return daily_health(ORDERS, ranges, n, first)


# ---- health from a live answer ----
def test_health_of_a_live_answer_with_a_failed_day() -> None:
    found = healths()
    assert set(found) == {ORDERS, ITEMS, PAYMENTS}  # stg_orders is not partitioned
    orders = found[ORDERS]
    assert (orders.total, orders.materialized, orders.failed, orders.in_progress) == (1072, 12, 1, 0)
    assert orders.missing == 1072 - 13
    assert (orders.first_key, orders.last_key) == ("2024-01-01", "2026-12-07")
    assert StatusRange("2024-01-09", "2024-01-09", FAILED) in orders.ranges
    assert orders.definition.startswith("Daily, starting 2024-01-01 UTC")


def test_the_bar_is_one_line_at_80_columns_and_never_hides_a_failure() -> None:
    orders = healths()[ORDERS]
    cells = orders.cells(70)
    assert len(cells) == 70
    assert cells[0] == FAILED  # 2024-01-09 falls in the first cell with materialized days around it
    assert cells[1] in (MISSING, PARTIAL) and cells[-1] == MISSING
    # Wide enough for one cell a partition: every status in place.
    wide = orders.cells(2000)
    assert len(wide) == 1072
    assert wide[:8] == [MATERIALIZED] * 8 and wide[8] == FAILED and wide[9] == MATERIALIZED
    assert wide[10] == MISSING and wide[31:34] == [MATERIALIZED] * 3


@pytest.mark.parametrize("n", [30, 365, 3650])
def test_cells_fold_any_number_of_partitions(n: int) -> None:
    health = daily(n, [(0, n // 2, MATERIALIZED), (n - 3, n - 3, IN_PROGRESS)])
    cells = health.cells(76)
    assert len(cells) == min(76, n)
    assert cells[0] == MATERIALIZED and IN_PROGRESS in cells
    assert cells.count(IN_PROGRESS) == 1  # one running partition shows in exactly one cell
    assert health.missing == n - (n // 2 + 1) - 1


def cells_one_by_one(n: int, width: int, ranges: Sequence[tuple[int, int, str]]) -> list[str]:
    """The fold as its docstring says it, a status per partition: what `cells` must give without one."""
    status = [MISSING] * n
    for lo, hi, st in ranges:
        status[lo : hi + 1] = [st] * (hi - lo + 1)
    out = []
    for c in range(width):
        chunk = set(status[c * n // width : (c + 1) * n // width])
        first = next((st for st in (FAILED, IN_PROGRESS) if st in chunk), None)
        out.append(first or (chunk.pop() if len(chunk) == 1 else PARTIAL))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_cells_from_ranges_match_a_status_per_partition(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.choice([1, 2, 7, 30, 77, 78, 79, 365, 1000, 3650])
    ranges, at = [], rng.randrange(0, 3)
    while at < n:  # disjoint ranges, as Dagster's flattened ones are, with gaps of missing days
        hi = min(n - 1, at + rng.choice([0, 0, 1, 5, 40, 400]))
        ranges.append((at, hi, rng.choice([MATERIALIZED, MATERIALIZED, FAILED, IN_PROGRESS])))
        at = hi + 1 + rng.choice([0, 1, 3, 90])
    health = daily(n, ranges)
    for width in (1, 10, 76, 78, 200, 5000):
        assert health.cells(width) == cells_one_by_one(n, min(width, n), ranges), (n, width, ranges)


def test_cells_place_hourly_and_monthly_keys() -> None:
    hourly = PartitionHealth(
        ORDERS, "Hourly", "TIME_WINDOW", "%Y-%m-%d-%H:%M", 48, 1, 0, 0,
        "2024-01-01-00:00", "2024-01-02-23:00",
        (StatusRange("2024-01-02-00:00", "2024-01-02-00:00", MATERIALIZED),),
    )  # fmt: skip
    assert hourly.cells(48).index(MATERIALIZED) == 24
    monthly = PartitionHealth(
        ORDERS, "Monthly", "TIME_WINDOW", "%Y-%m-%d", 24, 1, 0, 0, "2024-01-01", "2025-12-01",
        (StatusRange("2025-03-01", "2025-03-01", FAILED),),
    )  # fmt: skip
    assert monthly.cells(24).index(FAILED) == 14  # months of unequal length still land on their index


def test_static_partitions_use_their_key_lists() -> None:
    node = {
        "assetKey": {"path": ["regions"]},
        "isPartitioned": True,
        "partitionDefinition": {"type": "STATIC", "description": "us, eu, asia", "fmt": None},
        "partitionStats": {"numPartitions": 3, "numMaterialized": 1, "numFailed": 1, "numMaterializing": 0},
        "assetPartitionStatuses": {
            "__typename": "DefaultPartitionStatuses",
            "materializedPartitions": ["eu"],
            "failedPartitions": ["us"],
            "unmaterializedPartitions": ["asia"],
            "materializingPartitions": [],
        },
        "firstKey": {"results": ["asia"]},
        "lastKey": {"results": ["us"]},
    }
    health = PartitionHealth.from_graphql(node)
    assert health.cells(10) == [MISSING, MATERIALIZED, FAILED]  # asia, eu, us
    assert ranges_with([health], ["asia", "eu", "us"], FAILED) == [KeyRange("us", "us")]


def test_a_format_that_does_not_parse_falls_back_to_proportions() -> None:
    health = daily(100, [(0, 49, MATERIALIZED)])
    odd = PartitionHealth(**{**health.__dict__, "fmt": "%Q"})
    cells = odd.cells(10)
    assert cells.count(MATERIALIZED) == 5 and len(cells) == 10


# ---- key ranges for backfills ----
def test_missing_and_failed_ranges_from_the_key_list() -> None:
    keys = data("partition_keys_orders")["assetNodeOrError"]["partitionKeys"]
    assert len(keys) == 1072
    found = healths()
    failed = ranges_with(found.values(), keys, FAILED)
    assert failed == [KeyRange("2024-01-09", "2024-01-09")]
    missing = ranges_with([found[ORDERS]], keys, MISSING, KeyRange("2024-01-05", "2024-02-10"))
    assert missing == [KeyRange("2024-01-11", "2024-01-31"), KeyRange("2024-02-04", "2024-02-10")]
    assert count_keys(missing, keys) == 21 + 7


def test_check_range_refuses_keys_outside_and_backwards() -> None:
    keys = days(date(2024, 1, 1), 10)
    assert check_range(ORDERS, keys, "2024-01-02", "2024-01-05") == KeyRange("2024-01-02", "2024-01-05")
    with pytest.raises(PartitionRequestError, match=r"'2023-12-31' is not a partition of retail_raw/orders"):
        check_range(ORDERS, keys, "2023-12-31", "2024-01-05")
    with pytest.raises(PartitionRequestError, match="2024-01-01 to 2024-01-10"):
        check_range(ORDERS, keys, "2024-01-01", "2025-01-01")
    with pytest.raises(PartitionRequestError, match="runs backwards"):
        check_range(ORDERS, keys, "2024-01-05", "2024-01-02")


def test_partition_of_a_run() -> None:
    assert partition_of([("dagster/partition", "2024-01-05")]) == "2024-01-05"
    ranged = [
        ("dagster/asset_partition_range_start", "2024-01-01"),
        ("dagster/asset_partition_range_end", "2024-01-06"),
    ]
    assert partition_of(ranged) == "2024-01-01..2024-01-06"
    assert partition_of([("other", "x")]) is None


# ---- backfills ----
def test_backfills_from_live_answers() -> None:
    failed = BackfillInfo.from_graphql(data("backfill_failed")["partitionBackfillOrError"])
    assert failed.status == "COMPLETED_FAILED" and failed.is_finished and not failed.can_cancel
    assert failed.ranges == (KeyRange("2024-01-07", "2024-01-10"),)
    assert (failed.progress.targeted, failed.progress.materialized, failed.progress.failed) == (12, 9, 3)
    assert failed.partitions_text() == "2024-01-07..2024-01-10"
    running = BackfillInfo.from_graphql(data("backfill_in_progress")["partitionBackfillOrError"])
    assert running.status == "REQUESTED" and running.can_cancel and not running.is_finished
    assert running.progress.in_progress == 24
    listed = [
        BackfillInfo.from_graphql(b) for b in data("backfills_list")["partitionBackfillsOrError"]["results"]
    ]
    assert {b.backfill_id for b in listed} >= {"seawzwlm", "jfdtfigq"}
    whole = next(b for b in listed if b.backfill_id == "jfdtfigq")  # every asset, some not partitioned
    assert any(not a.partitioned for a in whole.assets) and whole.progress.failed == 0


def test_a_backfill_request_is_key_ranges_whatever_its_size() -> None:
    small = BackfillRequest((ORDERS, ITEMS), (STG,), (KeyRange("2024-01-01", "2024-01-30"),), 30, "t")
    large = BackfillRequest((ORDERS, ITEMS), (STG,), (KeyRange("2024-01-01", "2033-12-31"),), 3653, "t")
    assert len(json.dumps(small.params())) == len(json.dumps(large.params()))
    params = small.params()
    assert params["partitionsByAssets"][0] == {
        "assetKey": {"path": ["retail_raw", "orders"]},
        "partitions": {"ranges": [{"start": "2024-01-01", "end": "2024-01-30"}]},
    }
    assert params["partitionsByAssets"][-1] == {
        "assetKey": {"path": ["staging", "stg_orders"]},
        "partitions": None,
    }
    assert "30 partitions (2024-01-01..2024-01-30) of retail_raw/orders" in small.describe()


class FakePlanSource:
    """Answers as the client gives them, from the captured fixtures."""

    def __init__(self) -> None:
        self.health: dict[AssetKey, PartitionHealth | None] = {**healths(), STG: None}
        self.keys = data("partition_keys_orders")["assetNodeOrError"]["partitionKeys"]

    async def required_assets(self, keys: Sequence[AssetKey]) -> list[AssetKey]:
        return (
            [k for k in (ORDERS, ITEMS, PAYMENTS) if k not in keys]
            if set(keys) & {ORDERS, ITEMS, PAYMENTS}
            else []
        )

    async def partition_health(
        self, keys: Sequence[AssetKey] | None = None
    ) -> dict[AssetKey, PartitionHealth | None]:
        return {k: v for k, v in self.health.items() if keys is None or k in keys}

    async def partition_keys(self, key: AssetKey) -> list[str]:
        return list(self.keys)


async def test_plans_of_a_range_the_missing_and_the_failed() -> None:
    source = FakePlanSource()
    ranged = await plan_backfill(source, BackfillAsk((ORDERS,), "range", "2024-01-01", "2024-12-31"))
    assert ranged.partitioned == (ORDERS, ITEMS, PAYMENTS)  # the step's other outputs come along
    assert ranged.count == 366 and ranged.ranges == (KeyRange("2024-01-01", "2024-12-31"),)
    failed = await plan_backfill(source, BackfillAsk((ORDERS,), "failed"))
    assert failed.ranges == (KeyRange("2024-01-09", "2024-01-09"),) and failed.count == 1
    missing = await plan_backfill(source, BackfillAsk((ORDERS,), "missing", "2024-01-01", "2024-02-05"))
    assert missing.ranges == (KeyRange("2024-01-11", "2024-01-31"), KeyRange("2024-02-04", "2024-02-05"))
    job = await plan_backfill(
        source, BackfillAsk((ORDERS, STG), "range", "2024-01-01", "2024-01-02", from_job="daily_job")
    )
    assert job.unpartitioned == (STG,)  # a job's unpartitioned assets are built once


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        (BackfillAsk((STG,), "range", "2024-01-01", "2024-01-02"), "staging/stg_orders is not partitioned"),
        (BackfillAsk((ORDERS, STG), "range", "2024-01-01", "2024-01-02"), "cannot be given partitions"),
        (BackfillAsk((("no", "such"),), "range", "2024-01-01", "2024-01-02"), "no asset no/such"),
        (BackfillAsk((ORDERS,), "range", "2023-01-01", "2024-01-02"), "'2023-01-01' is not a partition"),
        (BackfillAsk((ORDERS,), "range", "2024-01-01", None), "needs its first and last partition"),
        (BackfillAsk((ORDERS,), "failed", "2024-02-01", "2024-02-28"), "nothing to backfill: no failed"),
        (BackfillAsk((), "missing"), "names no assets"),
    ],
)
async def test_bad_asks_are_refused_with_the_reason(ask: BackfillAsk, message: str) -> None:
    with pytest.raises(PartitionRequestError, match=message) as info:
        await plan_backfill(FakePlanSource(), ask)
    assert "nothing launched" in str(info.value) or "--from" in str(info.value)


async def test_assets_with_different_partitions_are_refused() -> None:
    source = FakePlanSource()
    other = source.health[ITEMS]
    assert other is not None
    source.health[ITEMS] = PartitionHealth(**{**other.__dict__, "definition": "Hourly"})
    with pytest.raises(PartitionRequestError, match="different partitions"):
        await plan_backfill(source, BackfillAsk((ORDERS,), "range", "2024-01-01", "2024-01-02"))


# ---- the queue ----
def test_a_run_held_by_a_full_pool_says_so() -> None:
    state = QueueState.from_graphql(data("run_queue_pool_full"))
    assert state.queuing and state.max_concurrent_runs == 3 and state.pool_aware
    pool = state.pool("warehouse")
    assert pool is not None and (pool.limit, pool.in_use) == (1, 1) and pool.full
    assert state.queued_count == 7 and len(state.queued) == 7
    run = state.queued[0]
    assert run.root_pools == ("warehouse",) and not run.unconstrained_roots
    assert partition_of(run.tags.items()) == "2024-01-18"
    heartbeat = state.coordinator.last_heartbeat if state.coordinator else None
    assert heartbeat is not None
    reasons = why_queued(run, state, heartbeat + 1, 90)
    assert reasons == ["pool warehouse: limit 1, 1 in use, 0 waiting"]
    # The daemon gone: that comes first.
    assert why_queued(run, state, heartbeat + 1000, 90)[0].startswith(
        "the daemon's run coordinator is not running"
    )


def queue(**changes: Any) -> QueueState:
    base: dict[str, Any] = {
        "queuing": True,
        "max_concurrent_runs": 3,
        "tag_limits": (),
        "pool_aware": True,
        "pool_granularity": None,
        "default_pool_limit": None,
        "min_limit": 0,
        "max_limit": 1000,
        "pools": (),
        "in_progress": (),
        "queued": (),
        "queued_count": 1,
        "in_progress_count": 0,
        "coordinator": DaemonStatus("QUEUED_RUN_COORDINATOR", True, True, 1000.0),
    }
    return QueueState(**{**base, **changes})


def running(run_id: str, **tags: str) -> QueuedRun:
    return QueuedRun(run_id, "job", "STARTED", tags)


def test_max_concurrent_runs_and_tag_limits_explained() -> None:
    waiting = QueuedRun("q", "daily_job", "QUEUED", {"dagster/backfill": "abc", "team": "a"})
    busy = tuple(running(f"r{i}", **{"dagster/backfill": "abc"}) for i in range(3))
    full = queue(in_progress=busy, in_progress_count=3)
    assert why_queued(waiting, full, 1001, 90) == ["max_concurrent_runs: 3 of 3 runs in progress"]
    limits = parse_tag_limits(
        "- key: dagster/backfill\n  limit: 2\n- key: team\n  value: a\n  limit: 5\n"
        "- key: team\n  value: {applyLimitPerUniqueValue: true}\n  limit: 1\n"
    )
    assert limits == (
        TagLimit("dagster/backfill", None, False, 2),
        TagLimit("team", "a", False, 5),
        TagLimit("team", None, True, 1),
    )
    two = (
        running("r1", **{"dagster/backfill": "abc"}),
        running("r2", **{"dagster/backfill": "x", "team": "a"}),
    )
    state = queue(tag_limits=limits, in_progress=two, in_progress_count=2)
    reasons = why_queued(waiting, state, 1001, 90)
    assert reasons == [
        "tag limit dagster/backfill (any value): 2 of 2 runs in progress with dagster/backfill=abc",
        "tag limit team (each value): 1 of 1 runs in progress with team=a",
    ]
    assert why_queued(QueuedRun("q", "j", "QUEUED", {}), state, 1001, 90) == [
        "no limit holds it: the run coordinator starts it at its next pass"
    ]


def test_pools_hold_a_run_only_when_every_first_step_waits() -> None:
    full = Pool("warehouse", 1, False, 1, 0, ("ended-run",), 1)
    free = Pool("dbt", 2, False, 0, 0, (), 2)
    state = queue(pools=(full, free))
    both = QueuedRun("q", "j", "QUEUED", {}, ("warehouse", "dbt"), None, ("warehouse", "dbt"), False)
    assert why_queued(both, state, 1001, 90)[0].startswith("no limit holds it")  # dbt can start
    one = QueuedRun("q", "j", "QUEUED", {}, ("warehouse",), None, ("warehouse",), False)
    [reason] = why_queued(one, state, 1001, 90)
    # The slot is held by a run no longer in progress: said, with what to do.
    assert (
        reason.startswith("pool warehouse: limit 1, 1 in use")
        and "held by runs that ended (ended-ru): free them" in reason
    )
    loose = QueuedRun("q", "j", "QUEUED", {}, ("warehouse",), None, ("warehouse",), True)
    assert why_queued(loose, state, 1001, 90)[0].startswith("no limit holds it")
    by_run = queue(pools=(full, free), pool_granularity="run")
    assert why_queued(both, by_run, 1001, 90)[0].startswith("pool warehouse")


def test_removing_the_last_limit_while_its_slots_are_held_is_refused() -> None:
    held = Pool("warehouse", 1, False, 1, 0, ("r",), 1)
    refusal = removal_refusal(queue(pools=(held,)), "warehouse")
    assert refusal is not None and "would stop the run queue" in refusal
    assert removal_refusal(queue(pools=(Pool("warehouse", 1, False, 0, 0),)), "warehouse") is None
    assert removal_refusal(queue(pools=(held, Pool("dbt", 2, False, 0, 0))), "warehouse") is None
    assert removal_refusal(queue(), "warehouse") == "pool warehouse has no limit to remove"
