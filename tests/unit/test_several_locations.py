"""Two code locations may define jobs (schedules, sensors) of the same name: every place that takes a job name
carries its location with it. Runs know their location, the filter takes `location:NAME`, `edp-tui launch`
asks which one when the name is ambiguous and takes `--location`, a step re-execution goes to the parent's
location, `edp-tui runs` shows and filters it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from edp_tui.cli import common, main
from edp_tui.cli.common import CliFailure
from edp_tui.cli.launch import find_job
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.models import (
    CODE_LOCATION_TAG,
    JobInfo,
    LocationInfo,
    RepositoryInfo,
    RunDetail,
    RunSummary,
)
from edp_tui.dagster.reexecution import step_reexecution_params
from edp_tui.dagster.runs_query import parse_runs_query

REPO = "__repository__"
RUN_ID = "c3d4e5f6-0000-0000-0000-000000000003"


def location(name: str, *jobs: str) -> LocationInfo:
    repo = RepositoryInfo(REPO, jobs=tuple(JobInfo(j) for j in jobs))
    return LocationInfo(name, "LOADED", "loaded", None, None, True, None, (repo,))


def test_a_run_knows_its_location_from_its_origin_or_its_tag() -> None:
    origin = {"repositoryOrigin": {"repositoryLocationName": "analytics", "repositoryName": REPO}}
    run = RunSummary.from_graphql({"runId": RUN_ID, "jobName": "ingestion_job", **origin})
    assert run.job_ref == ("analytics", REPO, "ingestion_job")
    tagged = RunSummary.from_graphql(
        {"runId": RUN_ID, "jobName": "j", "tags": [{"key": CODE_LOCATION_TAG, "value": "etl_pipeline"}]}
    )
    assert tagged.location == "etl_pipeline" and tagged.repository is None
    assert RunSummary.from_graphql({"runId": RUN_ID, "jobName": "j"}).location is None


def test_the_filter_takes_a_location_and_sends_it_as_dagsters_tag() -> None:
    query = parse_runs_query("location:analytics status:failure team=data")
    assert query.location == "analytics" and not query.empty
    assert query.run_tags() == {"team": "data", CODE_LOCATION_TAG: "analytics"}
    assert query.describe() == "status FAILURE · location analytics · tag team=data"
    with pytest.raises(ValueError, match="location: needs a code location name"):
        parse_runs_query("location:")
    with pytest.raises(ValueError, match="use status:, job:, location:, tag:"):
        parse_runs_query("where:x")


def test_an_ambiguous_job_name_lists_its_locations_and_location_chooses() -> None:
    locations = [location("analytics", "ingestion_job"), location("etl_pipeline", "ingestion_job", "dbt_job")]
    with pytest.raises(CliFailure) as refused:
        find_job(locations, "ingestion_job", None)
    message = str(refused.value)
    assert "job 'ingestion_job' exists in several places" in message
    assert f"analytics/{REPO}, etl_pipeline/{REPO}" in message and "--location" in message
    assert find_job(locations, "ingestion_job", "analytics") == ("analytics", REPO)
    assert find_job(locations, "dbt_job", None) == ("etl_pipeline", REPO)
    with pytest.raises(CliFailure, match="unknown code location 'nope'"):
        find_job(locations, "ingestion_job", "nope")


def test_a_step_re_execution_goes_to_the_parents_location() -> None:
    run = RunSummary(RUN_ID, "ingestion_job", "FAILURE", location="analytics", repository=REPO)
    parent = RunDetail(run, location="analytics", repository=REPO, run_config_yaml="{}")
    params = step_reexecution_params(parent, ["load"])
    assert params["selector"] == {
        "repositoryLocationName": "analytics",
        "repositoryName": REPO,
        "jobName": "ingestion_job",
    }


def workspace(*locations: tuple[str, list[str]]) -> dict[str, Any]:
    return {
        "data": {
            "workspaceOrError": {
                "__typename": "Workspace",
                "locationEntries": [
                    {
                        "name": name,
                        "loadStatus": "LOADED",
                        "updatedTimestamp": 1.0,
                        "locationOrLoadError": {
                            "__typename": "RepositoryLocation",
                            "serverId": "s",
                            "isReloadSupported": True,
                            "repositories": [
                                {
                                    "name": REPO,
                                    "jobs": [
                                        {"name": j, "isAssetJob": False, "description": None} for j in jobs
                                    ],
                                    "schedules": [],
                                    "sensors": [],
                                }
                            ],
                        },
                    }
                    for name, jobs in locations
                ],
            }
        }
    }


def launched(location: str) -> dict[str, Any]:
    run = {
        "runId": RUN_ID,
        "jobName": "ingestion_job",
        "status": "QUEUED",
        "repositoryOrigin": {"repositoryLocationName": location, "repositoryName": REPO},
    }
    return {"data": {"launchRun": {"__typename": "LaunchRunSuccess", "run": run}}}


def serve(monkeypatch: pytest.MonkeyPatch, requests: list[dict[str, Any]]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        requests.append(body)
        name = body["operationName"]
        if name == "Workspace":
            return httpx.Response(
                200, json=workspace(("analytics", ["ingestion_job"]), ("etl", ["ingestion_job"]))
            )
        if name == "LaunchRun":
            selector = body["variables"]["executionParams"]["selector"]
            return httpx.Response(200, json=launched(selector["repositoryLocationName"]))
        if name == "RunsLean":
            run = {"runId": RUN_ID, "jobName": "ingestion_job", "status": "SUCCESS", "tags": []}
            run["repositoryOrigin"] = {"repositoryLocationName": "analytics", "repositoryName": REPO}
            return httpx.Response(
                200, json={"data": {"runsOrError": {"__typename": "Runs", "results": [run]}}}
            )
        raise AssertionError(f"unexpected {name}")

    def client(context: Any, timeout: float = 10.0) -> DagsterClient:
        return DagsterClient("http://dagster.test/graphql", transport=httpx.MockTransport(handler))

    monkeypatch.setattr(common.Context, "dagster_client", client)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"EDP_TUI_CONFIG": ""}, catch_exceptions=False)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("EDP_TUI_READ_ONLY", raising=False)


def test_launch_of_an_ambiguous_job_fails_clearly_and_launches_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    requests: list[dict[str, Any]] = []
    serve(monkeypatch, requests)
    result = invoke("launch", "ingestion_job")
    assert result.exit_code == 2
    assert (
        f"exists in several places (analytics/{REPO}, etl/{REPO}): choose one with --location"
        in result.stderr
    )
    assert [r["operationName"] for r in requests] == ["Workspace"]


def test_launch_with_location_launches_that_locations_job(monkeypatch: pytest.MonkeyPatch) -> None:
    requests: list[dict[str, Any]] = []
    serve(monkeypatch, requests)
    result = invoke("launch", "ingestion_job", "--location", "etl")
    assert result.exit_code == 0 and result.stdout.strip() == RUN_ID
    (launch,) = [r for r in requests if r["operationName"] == "LaunchRun"]
    assert launch["variables"]["executionParams"]["selector"]["repositoryLocationName"] == "etl"
    assert "launched ingestion_job (etl)" in result.stderr


def test_runs_shows_and_filters_by_location(monkeypatch: pytest.MonkeyPatch) -> None:
    requests: list[dict[str, Any]] = []
    serve(monkeypatch, requests)
    result = invoke("runs", "--location", "analytics")
    assert result.exit_code == 0
    assert "LOCATION" in result.stdout and "analytics" in result.stdout
    sent = requests[-1]["variables"]["filter"]
    assert sent["tags"] == [{"key": CODE_LOCATION_TAG, "value": "analytics"}]
    report = json.loads(invoke("runs", "--json").stdout)
    assert report["runs"][0]["location"] == "analytics"
