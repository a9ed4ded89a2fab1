"""From "it failed" to "why" on the process stack: a copy of the fixture dbt project (tests/fixtures/projects/
shop_dbt) with a failing test and a failing model, served as a dbt-only location; the failed test's rows are
kept in the location's failures schema and reach its check's metadata with the compiled SQL, file and line,
the failed model's dbt error and compiled SQL reach the step failure's metadata (dbt/failures.py),
and every other model is still materialized, every other test still a check result."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Select

from edp_tui.dagster.asset_history import numeric_series
from edp_tui.dagster.assets import AssetCheck, AssetInfo
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.metadata import failed_nodes
from edp_tui.ui.screens.asset_history import AssetHistoryScreen
from edp_tui.ui.screens.check_detail import CheckDetailScreen
from edp_tui.ui.screens.run_events import RunEventsScreen
from tests.support.pilot import until, wait_shown
from tests.support.process_stack import REPO_ROOT, ProcessStack

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "projects"

# Order 2's customer lives in Vietnam (the fixture's data): one failing row.
FAILING_TEST = "select * from {{ ref('orders_enriched') }} where country_name <> 'Germany'\n"
FAILING_MODEL = "select no_such_column from {{ ref('stg_shop_customers') }}\n"  # not behind the failing test

ENTRIES = """
  metadataEntries {
    label
    __typename
    ... on TextMetadataEntry { text }
    ... on MarkdownMetadataEntry { mdStr }
    ... on PathMetadataEntry { path }
    ... on IntMetadataEntry { intValue }
  }
"""
EVENTS = (
    """
query Events($runId: ID!) {
  logsForRun(runId: $runId, limit: 5000) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on MaterializationEvent { assetKey { path } }
        ... on AssetCheckEvaluationEvent {
          evaluation { checkName success targetMaterialization { runId } """
    + ENTRIES
    + """ }
        }
        ... on ExecutionStepFailureEvent { error { message className } failureMetadata { """
    + ENTRIES
    + """ } }
      }
    }
  }
}
"""
)


@pytest.fixture(scope="module")
def failing_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessStack]:
    code = tmp_path_factory.mktemp("failing-code")
    for name in ("shop_dbt", "shop_macros"):
        shutil.copytree(FIXTURES / name, code / name)
    (code / "shop_dbt" / "tests" / "assert_only_germany.sql").write_text(FAILING_TEST)
    (code / "shop_dbt" / "models" / "marts" / "broken_report.sql").write_text(FAILING_MODEL)
    locations = {"shop": {"DBT_PROJECT": "shop_dbt", "DBT_SCHEMA": "shop"}}
    with ProcessStack(tmp_path_factory.mktemp("failing-stack"), code, locations=locations) as stack:
        yield stack


@pytest.fixture(scope="module")
def failed_build(failing_stack: ProcessStack) -> str:
    """The id of one `dbt_build_job` run of the failing project, ended in FAILURE."""
    launched = failing_stack.launch_run("dbt_build_job", location="shop")
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = str(launched["run"]["runId"])
    assert failing_stack.wait_for_run(run_id) == "FAILURE"
    return run_id


def entries(items: list[dict[str, Any]]) -> dict[str, Any]:
    values = ("text", "mdStr", "path", "intValue")
    return {e["label"]: next((e[k] for k in values if k in e), None) for e in items}


def test_a_failed_test_and_a_failed_model_say_why(failing_stack: ProcessStack, failed_build: str) -> None:
    run_id = failed_build
    events = failing_stack.graphql(EVENTS, {"runId": run_id})["logsForRun"]["events"]

    checks = {e["evaluation"]["checkName"]: e["evaluation"] for e in events if "evaluation" in e}
    failed = checks["assert_only_germany"]
    assert failed["success"] is False
    assert failed["targetMaterialization"]["runId"] == run_id  # it evaluated this run's orders_enriched
    meta = entries(failed["metadataEntries"])
    assert meta["dagster_dbt/failed_row_count"] == 1
    assert meta["dbt/failures_relation"] == '"warehouse"."shop_dbt_failures"."assert_only_germany"'
    assert "Vietnam" in meta["dbt/failing_rows"] and "Germany" not in meta["dbt/failing_rows"]
    assert "country_name <> 'Germany'" in meta["dbt/compiled_sql"]
    assert "shop_marts" in meta["dbt/compiled_sql"]  # compiled: the ref resolved
    assert meta["dbt/file"] == "shop_dbt/tests/assert_only_germany.sql"
    assert meta["dbt/line"] == 1
    assert meta["dbt/model_file"] == "shop_dbt/models/marts/orders_enriched.sql"
    # The failing rows are kept in the schema the platform owns for the location.
    conn = failing_stack.warehouse_connection()
    try:
        with conn.cursor() as cur:
            cur.execute('select count(*) from "shop_dbt_failures"."assert_only_germany"')
            assert cur.fetchone() == (1,)
    finally:
        conn.close()

    # Every other test is a passing check result; every other model a materialization.
    passed = [name for name, e in checks.items() if e["success"]]
    assert any(name.startswith("unique_stg_shop_orders") for name in passed)
    assert all("dbt/failing_rows" not in entries(checks[name]["metadataEntries"]) for name in passed)
    built = {"/".join(e["assetKey"]["path"]) for e in events if e["__typename"] == "MaterializationEvent"}
    assert {"staging/stg_shop_orders", "marts/orders_enriched", "ref/countries"} <= built
    assert not any("broken_report" in key for key in built)

    failure = next(e for e in events if e["__typename"] == "ExecutionStepFailureEvent")
    why = entries(failure["failureMetadata"]["metadataEntries"])
    assert "dbt/error/model.shop.broken_report" in why, failure
    assert "no_such_column" in why["dbt/error/model.shop.broken_report"]
    assert "select no_such_column from" in why["dbt/compiled_sql/model.shop.broken_report"]
    assert why["dbt/file/model.shop.broken_report"] == "shop_dbt/models/marts/broken_report.sql"


class Recorder:
    def __init__(self) -> None:
        self.runs: list[list[str]] = []

    def run(self, app: Any, argv: list[str], **_: Any) -> int:
        self.runs.append(argv)
        return 0


async def test_the_failed_tests_rows_sql_and_file_reach_the_dashboard(
    failing_stack: ProcessStack, failed_build: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", "vi")
    monkeypatch.delenv("VISUAL", raising=False)
    key = ("marts", "orders_enriched")
    async with DagsterClient(failing_stack.webserver_url + "/graphql") as client:
        asset = AssetInfo(key, "marts", "shop", "__repository__", True)
        screen = CheckDetailScreen(client, asset, AssetCheck("assert_only_germany"), failing_stack.code_root)
        app: App[None] = App()
        recorder = Recorder()
        app.terminal = recorder  # type: ignore[attr-defined]
        async with app.run_test(size=(200, 60)) as pilot:
            app.push_screen(screen)
            await until(pilot, lambda: screen.loaded, timeout=60)
            assert screen.execution is not None and screen.execution.run_id == failed_build
            await wait_shown(
                pilot,
                "Vietnam",  # the one failing row
                "a sample of the failing rows (1 of 1)",
                "country_name <> 'Germany'",  # the compiled SQL
                "shop_dbt/tests/assert_only_germany.sql:1",
            )
            await pilot.press("o")
            await until(pilot, lambda: len(recorder.runs) == 1)
            test_file = failing_stack.code_root / "shop_dbt" / "tests" / "assert_only_germany.sql"
            assert recorder.runs == [["vi", "+1", str(test_file)]]


async def test_the_failed_models_error_and_sql_reach_the_event_log(
    failing_stack: ProcessStack, failed_build: str
) -> None:
    """The real webserver's events through the dashboard's client: the failed model's error and compiled SQL
    in the event log (filtered to the failure by type), and the step timeline of the run."""
    async with DagsterClient(failing_stack.webserver_url + "/graphql") as client:
        run = (await client.run(failed_build)).run
        screen = RunEventsScreen(client, run)
        app: App[None] = App()
        async with app.run_test(size=(200, 60)) as pilot:
            app.push_screen(screen)
            await until(pilot, lambda: screen.finished, timeout=60)
            failures = [e for _, e in screen.event_log if e.event_type == "STEP_FAILURE"]
            assert len(failures) == 1, failures
            nodes = failed_nodes(failures[0].metadata)
            assert [n.unique_id for n in nodes] == ["model.shop.broken_report"]
            screen.query_one("#event-kind", Select).value = "STEP_FAILURE"
            await until(pilot, lambda: screen.shown_rows == 1)
            await wait_shown(pilot, "dbt model.shop.broken_report", "no_such_column", "compiled SQL")
            await pilot.press("t")
            await wait_shown(pilot, failures[0].step_key or "?", "FAILURE", "outcome")


async def test_an_assets_history_reads_its_materializations_metadata(
    failing_stack: ProcessStack, failed_build: str
) -> None:
    key = ("marts", "orders_enriched")
    async with DagsterClient(failing_stack.webserver_url + "/graphql") as client:
        records = await client.asset_history(key)
        assert records and records[0].run_id == failed_build, records
        series = numeric_series(records)
        assert series, records[0].metadata  # dbt's execution duration at least
        asset = AssetInfo(key, "marts", "shop", "__repository__", True)
        screen = AssetHistoryScreen(client, asset)
        app: App[None] = App()
        async with app.run_test(size=(120, 40)) as pilot:
            app.push_screen(screen)
            await until(pilot, lambda: screen.loaded, timeout=60)
            await wait_shown(pilot, series[0].label, failed_build[:8])
