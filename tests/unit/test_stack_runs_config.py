"""The tests' launches send what Dagster's launchpad sends for a partitioned job: the partition's own run
config (the job's default) with the test's on top (tests/support/stack_runs.launchpad_config)."""

from __future__ import annotations

from typing import Any

from edp_tui.dagster.run_config import merge_run_config
from tests.support.stack_runs import DEMO_DAY, PARTITION_TAG, launchpad_config

DEFAULT_YAML = """
execution:
  config:
    in_process: {}
ops:
  dbt_marts:
    config:
      full_refresh: true
"""


def fake_graphql(typename: str = "PartitionSet", text: str | None = DEFAULT_YAML) -> Any:
    asked: list[dict[str, Any]] = []

    def graphql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        asked.append(variables)
        found: dict[str, Any] = {"__typename": typename}
        if typename == "PartitionSet":
            found["partition"] = {"runConfigOrError": {"yaml": text} if text is not None else {}}
        return {"partitionSetOrError": found}

    graphql.asked = asked  # type: ignore[attr-defined]
    return graphql


def test_the_partitions_config_is_the_base_and_the_tests_own_goes_on_top() -> None:
    graphql = fake_graphql()
    ops = {"ops": {"raw_retail_data": {"config": {"orders": 0}}, "dbt_marts": {"config": {"x": 1}}}}
    config = launchpad_config(graphql, "full_refresh_job", "etl_pipeline", {PARTITION_TAG: DEMO_DAY}, ops)
    assert config == {
        "execution": {"config": {"in_process": {}}},
        "ops": {
            "dbt_marts": {"config": {"full_refresh": True, "x": 1}},
            "raw_retail_data": {"config": {"orders": 0}},
        },
    }
    [asked] = graphql.asked
    assert asked["partition"] == DEMO_DAY
    assert asked["partitionSet"] == "full_refresh_job_partition_set"


def test_an_executor_asked_for_replaces_the_default_whole() -> None:
    multiprocess = {"execution": {"config": {"multiprocess": {}}}}
    config = launchpad_config(
        fake_graphql(), "daily_job", "etl_pipeline", {PARTITION_TAG: DEMO_DAY}, multiprocess
    )
    assert config["execution"] == {"config": {"multiprocess": {}}}
    assert merge_run_config({"a": {"b": 1}}, {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}


def test_without_a_partition_or_a_partition_set_the_config_is_sent_as_given() -> None:
    given = {"ops": {"x": {"config": {}}}}
    assert launchpad_config(fake_graphql(), "job", "shop", {}, given) == given
    not_partitioned = fake_graphql("PartitionSetNotFoundError")
    assert launchpad_config(not_partitioned, "job", "shop", {PARTITION_TAG: "2024-01-01"}, given) == given
    assert launchpad_config(fake_graphql(text=None), "job", "x", {PARTITION_TAG: "d"}, None) == {}
