"""The runs filter line, the runs filter sent to Dagster, and a step re-execution's ExecutionParams."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from edp_tui.dagster.client import DagsterClient, document
from edp_tui.dagster.runs_query import RunsQuery, parse_runs_query

URL = "http://dagster.test/graphql"
RUN_ID = "c3d4e5f6-0000-0000-0000-000000000003"


def test_words_become_statuses_job_tags_and_ids() -> None:
    q = parse_runs_query("status:failure,Canceled job:ingestion_job tag:team=data owner=me id:" + RUN_ID)
    assert q.statuses == ("FAILURE", "CANCELED")
    assert q.job_name == "ingestion_job"
    assert q.tags == (("team", "data"), ("owner", "me"))
    assert q.run_ids == (RUN_ID,)
    assert q.id_prefix is None


def test_bare_words_a_job_name_or_a_run_id_prefix() -> None:
    assert parse_runs_query("full_refresh_job").job_name == "full_refresh_job"
    assert parse_runs_query("c3d4e5f6").id_prefix == "c3d4e5f6"
    assert parse_runs_query(RUN_ID.upper()).run_ids == (RUN_ID,)
    assert parse_runs_query("deadbeef").job_name == "deadbeef"  # hex without a digit stays a job name


def test_partition_and_backfill_words_are_dagsters_tags() -> None:
    q = parse_runs_query("partition:2024-01-05 backfill:seawzwlm")
    assert q.tags == (("dagster/partition", "2024-01-05"), ("dagster/backfill", "seawzwlm"))
    assert q.describe() == "partition 2024-01-05 · backfill seawzwlm"
    with pytest.raises(ValueError, match="partition: needs a value"):
        parse_runs_query("partition:")


def test_an_empty_line_clears_the_filter() -> None:
    assert parse_runs_query("   ").empty and RunsQuery().empty
    assert parse_runs_query("status:success").describe() == "status SUCCESS"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status:broken", "unknown run status 'BROKEN'"),
        ("colour:red", "unknown filter 'colour'"),
        ("tag:=x", "expected key=value"),
        ("id:xyz", "is not a run id"),
        ("job:", "needs a job name"),
    ],
)
def test_bad_words_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_runs_query(text)


def serving(responses: dict[str, Any], seen: list[dict[str, Any]]) -> DagsterClient:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        return httpx.Response(200, json={"data": responses[body["operationName"]]})

    return DagsterClient(URL, transport=httpx.MockTransport(handler))


async def test_tags_and_run_ids_go_into_the_runs_filter() -> None:
    seen: list[dict[str, Any]] = []
    answer = {"runsOrError": {"__typename": "Runs", "results": []}}
    async with serving({"RunsLean": answer}, seen) as c:
        await c.runs(limit=5, tags={"team": "data"}, run_ids=[RUN_ID])
    assert seen[0]["variables"]["filter"] == {"tags": [{"key": "team", "value": "data"}], "runIds": [RUN_ID]}


RUN = {
    "__typename": "Run",
    "runId": RUN_ID,
    "jobName": "ingestion_job",
    "status": "FAILURE",
    "runConfigYaml": "ops:\n  extract:\n    config:\n      limit: 100\n",
    "rootRunId": "root0000-0000-0000-0000-000000000000",
    "repositoryOrigin": {"repositoryLocationName": "etl_pipeline", "repositoryName": "__repository__"},
    "tags": [{"key": "team", "value": "data"}, {"key": "dagster/from_ui", "value": "true"}],
    "stepStats": [],
}
NEW_RUN = {"runId": "new", "jobName": "ingestion_job", "status": "QUEUED", "canTerminate": True}


async def test_a_step_reexecution_names_the_parent_selector_config_steps_and_run_group() -> None:
    seen: list[dict[str, Any]] = []
    answers = {
        "Run": {"runOrError": RUN},
        "LaunchStepReexecution": {"launchRunReexecution": {"__typename": "LaunchRunSuccess", "run": NEW_RUN}},
    }
    async with serving(answers, seen) as c:
        new = await c.reexecute_run(RUN_ID, step_keys=["write_raw_table"])
    assert new.run_id == "new"
    params = seen[-1]["variables"]["executionParams"]
    assert params["selector"] == {
        "repositoryLocationName": "etl_pipeline",
        "repositoryName": "__repository__",
        "jobName": "ingestion_job",
    }
    assert params["runConfigData"] == {"ops": {"extract": {"config": {"limit": 100}}}}
    assert params["stepKeys"] == ["write_raw_table"]
    meta = params["executionMetadata"]
    assert (meta["parentRunId"], meta["rootRunId"]) == (RUN_ID, RUN["rootRunId"])
    tags = {t["key"]: t["value"] for t in meta["tags"]}
    assert tags["team"] == "data" and "dagster/from_ui" not in tags
    assert tags["dagster/step_selection"] == "write_raw_table"


async def test_whole_run_reexecutions_keep_using_the_strategy() -> None:
    seen: list[dict[str, Any]] = []
    answers = {
        "LaunchReexecution": {"launchRunReexecution": {"__typename": "LaunchRunSuccess", "run": NEW_RUN}}
    }
    async with serving(answers, seen) as c:
        await c.reexecute_run(RUN_ID, "ALL_STEPS")
    assert seen[0]["variables"] == {"reexecutionParams": {"parentRunId": RUN_ID, "strategy": "ALL_STEPS"}}


def test_the_documents_are_valid_against_the_installed_dagster_graphql_schema() -> None:
    # The fields added for the detail (tags, config, origin), job descriptions and step re-execution included.
    from dagster_graphql.schema import create_schema
    from graphql import parse, validate

    schema = create_schema().graphql_schema
    docs = sorted((Path(__file__).parents[2] / "src/edp_tui/dagster/documents").glob("*.graphql"))
    for path in docs:
        assert validate(schema, parse(document(path.stem))) == [], path.name
