"""The client's envelope handling (HTTP statuses, bodies), captured bodies served by httpx.MockTransport."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from edp_tui.dagster.client import DagsterClient, document
from edp_tui.dagster.errors import (
    DagsterGraphQLError,
    DagsterHTTPError,
    DagsterPythonError,
    DagsterUnreachable,
    ReadOnlyRefused,
    RunConfigInvalid,
)
from edp_tui.dagster.models import InstigatorInfo
from edp_tui.dagster.runs_query import PARTITION_TAG
from tests.support.ports import free_port

FIXTURES = Path(__file__).parent / "fixtures" / "dagster"
URL = "http://dagster.test/graphql"


def captured(name: str) -> tuple[int, Any]:
    raw = json.loads((FIXTURES / f"{name}.json").read_text())
    return raw["status"], raw["body"]


def client_serving(
    responses: Mapping[str, tuple[int, Any] | str], seen: list[dict[str, Any]] | None = None, **kw: Any
):
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if seen is not None:
            seen.append(body)
        answer = responses[body["operationName"]]
        if isinstance(answer, str):
            return httpx.Response(502, text=answer)
        status, payload = answer
        return httpx.Response(status, json=payload)

    return DagsterClient(URL, transport=httpx.MockTransport(handler), **kw)


async def test_http_500_with_data_is_parsed_into_a_python_error() -> None:
    async with client_serving(
        {"Schedules": captured("schedules_location_broken_500"), "Sensors": captured("sensors_running")}
    ) as c:
        with pytest.raises(DagsterPythonError, match="Failure loading probe_location"):
            await c.instigators("probe_location", "__repository__")


async def test_reload_race_500_with_partial_errors_still_returns_the_entry() -> None:
    async with client_serving({"ReloadLocation": captured("reload_race_500")}) as c:
        loc = await c.reload_location("probe_location")
    assert loc.name == "probe_location" and loc.state == "unknown"


async def test_validation_error_400_is_a_graphql_error() -> None:
    async with client_serving({"DaemonHealth": captured("graphql_validation_error")}) as c:
        with pytest.raises(DagsterGraphQLError, match="allDaemonsHealthy"):
            await c.daemon_health()


async def test_non_json_error_page_is_an_http_error() -> None:
    async with client_serving({"RunsLean": "<html>Bad Gateway</html>"}) as c:
        with pytest.raises(DagsterHTTPError) as info:
            await c.runs()
    assert info.value.status_code == 502


async def test_launch_sends_variables_not_formatted_documents() -> None:
    seen: list[dict[str, Any]] = []
    evil = 'x"} } mutation { terminateRun(runId: "y'
    async with client_serving({"LaunchRun": captured("launch_success")}, seen) as c:
        run = await c.launch_run("loc", "__repository__", evil, {"ops": {}}, tags={"k": evil})
    assert run.status == "QUEUED"
    assert seen[0]["query"] == document("LaunchRun")
    params = seen[0]["variables"]["executionParams"]
    assert params["selector"]["jobName"] == evil and params["executionMetadata"]["tags"] == [
        {"key": "k", "value": evil}
    ]


async def test_invalid_config_raises_with_paths() -> None:
    async with client_serving({"LaunchRun": captured("launch_config_invalid")}) as c:
        with pytest.raises(RunConfigInvalid, match="root:ops:chatty:config:lines"):
            await c.launch_run("probe_location", "__repository__", "chatty_job", {"ops": {}})


async def test_runs_are_always_bounded() -> None:
    seen: list[dict[str, Any]] = []
    async with client_serving({"RunsLean": captured("runs_lean")}, seen) as c:
        await c.runs(limit=10**6)
        await c.runs(limit=5, cursor="abc", statuses=["FAILURE"], job_name="j")
    assert seen[0]["variables"]["limit"] == 500
    assert seen[1]["variables"] == {
        "filter": {"statuses": ["FAILURE"], "pipelineName": "j"},
        "cursor": "abc",
        "limit": 5,
    }


async def test_read_only_refuses_every_mutation_before_sending() -> None:
    seen: list[dict[str, Any]] = []
    item = InstigatorInfo("schedule", "s", "l", "r", "STOPPED", "a::b", "b", "* * * * *")
    async with client_serving({}, seen, read_only=True) as c:
        for call in (
            c.launch_run("l", "r", "j"),
            c.terminate_run("id"),
            c.reexecute_run("id"),
            c.reload_location("l"),
            c.set_running(item, True),
        ):
            with pytest.raises(ReadOnlyRefused):
                await call
    assert seen == []


async def test_nothing_listening_is_unreachable_for_http_and_websocket() -> None:
    port = free_port()
    async with DagsterClient(f"http://127.0.0.1:{port}/graphql", timeout=2) as c:
        with pytest.raises(DagsterUnreachable):
            await c.locations()
        with pytest.raises(DagsterUnreachable):
            async for _ in c.location_events():
                pass


def test_importing_the_client_does_not_import_dagster() -> None:
    code = (
        "import sys, edp_tui.dagster.client; "
        "print(any(m.split('.')[0] in ('dagster', 'dagster_graphql') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_every_document_parses() -> None:
    from graphql import parse

    docs = sorted((Path(__file__).parents[2] / "src/edp_tui/dagster/documents").glob("*.graphql"))
    assert len(docs) >= 15
    for path in docs:
        parse(document(path.stem))


LAUNCHED = captured("launch_success")


def partition_config_answer(yaml_text: str) -> tuple[int, Any]:
    run_config = {"__typename": "PartitionRunConfig", "yaml": yaml_text}
    found = {"__typename": "PartitionSet", "partition": {"runConfigOrError": run_config}}
    return 200, {"data": {"partitionSetOrError": found}}


async def test_a_partitions_launch_sends_its_run_config_under_the_given_one() -> None:
    """As Dagster's launchpad: a partitioned job's default config (here its executor and an op's setting)
    is not applied to a config given at launch, so the partition's own goes under it."""
    seen: list[dict[str, Any]] = []
    default = "execution: {config: {in_process: {}}}\nops: {dbt: {config: {full_refresh: true}}}\n"
    answers = {"PartitionRunConfig": partition_config_answer(default), "LaunchRun": LAUNCHED}
    given = {"ops": {"dbt": {"config": {"select": "x"}}, "load": {"config": {"orders": 0}}}}
    async with client_serving(answers, seen) as c:
        await c.launch_run("loc", "__repository__", "daily_job", given, tags={PARTITION_TAG: "2024-01-05"})
    assert [b["operationName"] for b in seen] == ["PartitionRunConfig", "LaunchRun"]
    assert seen[0]["variables"]["partitionSet"] == "daily_job_partition_set"
    assert seen[0]["variables"]["partition"] == "2024-01-05"
    assert seen[1]["variables"]["executionParams"]["runConfigData"] == {
        "execution": {"config": {"in_process": {}}},
        "ops": {
            "dbt": {"config": {"full_refresh": True, "select": "x"}},
            "load": {"config": {"orders": 0}},
        },
    }


async def test_an_executor_given_replaces_the_partitions_and_no_partition_asks_nothing() -> None:
    seen: list[dict[str, Any]] = []
    default = "execution: {config: {in_process: {}}}\n"
    answers = {"PartitionRunConfig": partition_config_answer(default), "LaunchRun": LAUNCHED}
    multiprocess = {"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}}
    async with client_serving(answers, seen) as c:
        await c.launch_run("loc", "__repository__", "daily_job", multiprocess, tags={PARTITION_TAG: "d"})
        await c.launch_run("loc", "__repository__", "plain_job", {"ops": {}})
    assert seen[1]["variables"]["executionParams"]["runConfigData"] == multiprocess
    assert [b["operationName"] for b in seen[2:]] == ["LaunchRun"]
    assert seen[2]["variables"]["executionParams"]["runConfigData"] == {"ops": {}}


async def test_a_job_without_a_partition_set_is_launched_with_the_config_as_given() -> None:
    seen: list[dict[str, Any]] = []
    missing = {"__typename": "PartitionSetNotFoundError", "message": "no partition set"}
    answers = {
        "PartitionRunConfig": (200, {"data": {"partitionSetOrError": missing}}),
        "LaunchRun": captured("launch_success"),
    }
    async with client_serving(answers, seen) as c:
        await c.launch_run("loc", "__repository__", "job", {"ops": {}}, tags={PARTITION_TAG: "d"})
    assert seen[1]["variables"]["executionParams"]["runConfigData"] == {"ops": {}}
