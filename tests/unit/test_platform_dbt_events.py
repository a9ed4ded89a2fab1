"""The dbt step's events (edp_platform.dbt.events.StepEvents) against Dagster's own Output path: the same
data provenance, one stored event per materialization and check, an Output where another step needs one.

No `from __future__ import annotations`: Dagster reads the context annotation as a class."""

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation
from dagster._core.definitions.data_version import CODE_VERSION_TAG, DATA_VERSION_TAG
from edp_platform.dbt.events import StepEvents

A, B = dg.AssetKey("a"), dg.AssetKey("b")
SOURCE = dg.AssetKey("raw")
SPECS = [
    dg.AssetSpec(A, code_version="1", deps=[SOURCE], skippable=True),
    dg.AssetSpec(B, code_version="2", deps=[A], skippable=True),
]
CHECKS = [dg.AssetCheckSpec("b_not_null", asset=B)]
PROVENANCE = ("dagster/code_version", "dagster/data_version", "dagster/input_data_version/")


def multi_asset(body: Callable[[dg.AssetExecutionContext], Iterator[Any]]) -> dg.AssetsDefinition:
    @dg.multi_asset(name="models", specs=SPECS, check_specs=CHECKS, can_subset=True)
    def models(context: dg.AssetExecutionContext):
        yield from body(context)

    return models


def dagster_path(context: dg.AssetExecutionContext) -> Iterator[Any]:
    yield dg.Output(None, output_name="a")
    yield dg.Output(None, output_name="b")
    yield dg.AssetCheckResult(asset_key=B, check_name="b_not_null", passed=False)


def platform_path(context: dg.AssetExecutionContext) -> Iterator[Any]:
    dbt_like = [  # what dagster-dbt yields without a context
        dg.AssetMaterialization(A, metadata={"unique_id": "model.p.a"}),
        dg.AssetMaterialization(B, metadata={"unique_id": "model.p.b"}),
        AssetCheckEvaluation(asset_key=B, check_name="b_not_null", passed=False, metadata={"n": 3}),
    ]
    steps = StepEvents(context)
    yield from (steps.convert(event) for event in dbt_like)


def provenance(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, str]:
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    tags = event.asset_materialization.tags or {}
    return {k: v for k, v in tags.items() if k.startswith(PROVENANCE)}


def run(instance: dg.DagsterInstance, assets: list[Any]) -> dg.ExecuteInProcessResult:
    result = dg.materialize(assets, instance=instance, raise_on_error=False)
    assert result.success
    return result


def test_the_provenance_is_dagsters_own() -> None:
    with dg.instance_for_test() as instance:
        run(instance, [multi_asset(dagster_path)])
        expected = {key: provenance(instance, key) for key in (A, B)}
        run(instance, [multi_asset(platform_path)])
        got = {key: provenance(instance, key) for key in (A, B)}
    # Code versions, data versions and the parents' data versions are Dagster's (the pointer of a parent
    # built in the same step is not: see events.py).
    for key in (A, B):
        assert {k: v for k, v in got[key].items() if "event_pointer" not in k} == {
            k: v for k, v in expected[key].items() if "event_pointer" not in k
        }
    assert got[B][CODE_VERSION_TAG] == "2"
    assert got[B]["dagster/input_data_version/a"] == got[A][DATA_VERSION_TAG]


def test_one_stored_event_per_node_and_a_check_result_with_its_target() -> None:
    with dg.instance_for_test() as instance:
        result = run(instance, [multi_asset(platform_path)])
        types = [e.event_type_value for e in result.all_events]
        assert types.count("ASSET_MATERIALIZATION") == 2
        assert types.count("ASSET_CHECK_EVALUATION") == 1
        assert "STEP_OUTPUT" not in types
        evaluation = result.get_asset_check_evaluations()[0]
        assert not evaluation.passed and evaluation.metadata["n"].value == 3
        target = evaluation.target_materialization_data
        assert target is not None and target.run_id == result.run_id


def test_a_model_another_step_reads_is_an_output() -> None:
    @dg.asset(deps=[B])
    def report() -> None:
        return None

    with dg.instance_for_test() as instance:
        result = run(instance, [multi_asset(platform_path), report])
        assert result.output_for_node("report") is None  # it ran: its upstream output was yielded
        steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_OUTPUT"}
        assert "models" in steps
        assert instance.get_latest_materialization_event(dg.AssetKey("report")) is not None


def test_a_failed_blocking_check_still_fails_the_step() -> None:
    blocking = [dg.AssetCheckSpec("b_not_null", asset=B, blocking=True)]

    @dg.multi_asset(name="models", specs=SPECS, check_specs=blocking, can_subset=True)
    def models(context: dg.AssetExecutionContext):
        yield from platform_path(context)

    with dg.instance_for_test() as instance:
        result = dg.materialize([models], instance=instance, raise_on_error=False)
    assert not result.success


def test_a_partitioned_step_materializes_each_partition_of_its_run() -> None:
    """dbt's results name no partition: a run over a range (an asset backfill's single run) stores one
    materialization per key of the range, which Dagster's asset backfill needs to count them."""
    days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-10")

    @dg.multi_asset(name="models", specs=SPECS, partitions_def=days, can_subset=True)
    def models(context: dg.AssetExecutionContext):
        steps = StepEvents(context)
        for key in (A, B):
            yield from steps.convert_all(
                dg.AssetMaterialization(key, metadata={"unique_id": f"model.p.{key}"})
            )

    with dg.instance_for_test() as instance:
        tags = {
            "dagster/asset_partition_range_start": "2024-01-02",
            "dagster/asset_partition_range_end": "2024-01-04",
        }
        result = dg.materialize([models], instance=instance, tags=tags, raise_on_error=False)
        assert result.success
        for key in (A, B):
            stored = instance.get_materialized_partitions(key)
            assert stored == {"2024-01-02", "2024-01-03", "2024-01-04"}, key
