"""A user's own code on the process stack, nothing of the demo: the fixture projects (tests/fixtures/projects)
served from their location settings alone, side by side, with reload on save in each, jobs that run to
SUCCESS,
the dbt run config, and the mistakes a user makes shown as clear load errors while the rest keeps serving.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.process_stack import REPO_ROOT, ProcessStack
from tests.support.waiting import wait_for

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "projects"
LOCATIONS = {
    "shop": {"DBT_PROJECT": "shop_dbt", "DBT_SCHEMA": "shop"},
    "plain": {"FILE": "plain/definitions.py"},
    "nodefs": {"FILE": "broken/nodefs/definitions.py"},
    "offline": {"DBT_PROJECT": "broken/offline_dbt"},
}
BROKEN = ("nodefs", "offline")

ASSETS = """
query Assets($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository {
      assetNodes {
        assetKey { path }
        assetChecksOrError { ... on AssetChecks { checks { name } } }
      }
    }
  }
}
"""
LOAD_ERRORS = """
{ workspaceOrError { ... on Workspace { locationEntries { name
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessStack]:
    code = tmp_path_factory.mktemp("own-code")
    for name in ("shop_dbt", "shop_macros", "plain", "broken"):
        shutil.copytree(FIXTURES / name, code / name)
    stack = ProcessStack(tmp_path_factory.mktemp("own-stack"), code, locations=LOCATIONS, may_fail=BROKEN)
    # Hub packages need the network: point dbt's package hub at a closed port, so "offline" is offline
    # everywhere.
    original = stack._prepare_instance

    def offline_hub() -> None:
        original()
        stack.env["DBT_PACKAGE_HUB_URL"] = "http://127.0.0.1:9/"

    stack._prepare_instance = offline_hub  # type: ignore[method-assign]
    with stack:
        yield stack


def status(stack: ProcessStack, location: str) -> dict[str, Any]:
    return dict(json.loads(stack.reload_status_path_of(location).read_text()))


def asset_keys(stack: ProcessStack, location: str) -> dict[str, list[str]]:
    repo = stack.graphql(ASSETS, {"selector": stack.repository_selector_of(location)})["repositoryOrError"]
    assert repo["__typename"] == "Repository", repo
    return {
        "/".join(n["assetKey"]["path"]): [c["name"] for c in n["assetChecksOrError"].get("checks", [])]
        for n in repo["assetNodes"]
    }


def load_error(stack: ProcessStack, location: str) -> str:
    entries = stack.graphql(LOAD_ERRORS)["workspaceOrError"]["locationEntries"]
    entry = next(e for e in entries if e["name"] == location)
    result = entry["locationOrLoadError"]
    assert result["__typename"] == "PythonError", result
    return str(result["message"])


def run_to_end(stack: ProcessStack, location: str, job: str, config: dict[str, Any] | None = None) -> str:
    launched = stack.launch_run(job, config, location=location)
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return stack.wait_for_run(launched["run"]["runId"])


def query(stack: ProcessStack, sql: str) -> list[tuple[Any, ...]]:
    conn = stack.warehouse_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def test_each_location_is_served_from_its_settings_side_by_side(own_stack: ProcessStack) -> None:
    shop = asset_keys(own_stack, "shop")
    # dagster-dbt's default keys; meta.dagster.asset_key honoured; sources of two schemas; seed and snapshot.
    assert {"erp/orders_raw", "crm/customers", "ref/countries", "orders_snapshot"} <= set(shop)
    assert {"staging/stg_shop_orders", "staging/stg_shop_customers", "marts/orders_enriched"} <= set(shop)
    assert not any("retired_report" in key for key in shop)  # disabled in dbt: no asset
    assert any(check.startswith("unique_stg_shop_orders") for check in shop["staging/stg_shop_orders"])
    assert set(asset_keys(own_stack, "plain")) == {"numbers", "total"}
    for location in ("shop", "plain"):
        assert status(own_stack, location)["serving"]["definitions"]["jobs"]


def test_mistakes_are_load_errors_that_say_what_is_wrong(own_stack: ProcessStack) -> None:
    message = load_error(own_stack, "nodefs")
    assert "defines no dagster.Definitions" in message
    assert (
        status(own_stack, "nodefs")["pending_failure"]["error"]["text"]
        == status(own_stack, "nodefs")["reloads"][-1]["error"]["text"]
    )
    offline = load_error(own_stack, "offline")
    assert "dbt deps could not install the packages of offline_dbt (dbt-labs/dbt_utils 1.3.0)" in offline
    code_server_log = own_stack.log_path("code-server").read_text()
    assert '"location":"offline"' in code_server_log and "dbt deps could not install" in code_server_log


def test_a_dbt_only_project_builds_with_its_local_package_seed_and_snapshot(own_stack: ProcessStack) -> None:
    assert run_to_end(own_stack, "shop", "dbt_build_job") == "SUCCESS"
    rows = query(own_stack, "select order_id, country_name from shop_marts.orders_enriched order by order_id")
    assert rows == [(1, "Germany"), (2, "Vietnam"), (3, "Germany")]
    assert query(own_stack, "select count(*) from shop_snapshots.orders_snapshot") == [(3,)]


def test_the_build_job_takes_vars_select_and_full_refresh(own_stack: ProcessStack) -> None:
    config = {"ops": {"dbt_models": {"config": {"vars": {"min_order_cents": 1000}, "full_refresh": True}}}}
    assert run_to_end(own_stack, "shop", "dbt_build_job", config) == "SUCCESS"
    assert query(own_stack, "select order_id from shop_marts.orders_enriched order by 1") == [(1,), (3,)]
    only = {"ops": {"dbt_models": {"config": {"select": "stg_shop_customers"}}}}
    launched = own_stack.launch_run("dbt_build_job", only, location="shop")
    assert own_stack.wait_for_run(launched["run"]["runId"]) == "SUCCESS"
    events = own_stack.run_events(launched["run"]["runId"])
    assert [e for e in events if e["__typename"] == "MaterializationEvent"] == [
        e
        for e in events
        if e["__typename"] == "MaterializationEvent" and "stg_shop_customers" in json.dumps(e)
    ]
    assert sum(e["__typename"] == "MaterializationEvent" for e in events) == 1


def test_bad_run_config_is_refused_or_fails_with_its_reason(own_stack: ProcessStack) -> None:
    bad_target = {"ops": {"dbt_models": {"config": {"target": "staging"}}}}
    refused = own_stack.launch_run("dbt_build_job", bad_target, location="shop")
    assert refused["__typename"] == "RunConfigValidationInvalid"
    assert "target" in json.dumps(refused["errors"])
    bad_vars = {"ops": {"dbt_models": {"config": {"vars": "min_order_cents=1"}}}}
    assert (
        own_stack.launch_run("dbt_build_job", bad_vars, location="shop")["__typename"]
        == "RunConfigValidationInvalid"
    )
    nothing = {"ops": {"dbt_models": {"config": {"select": "no_such_model"}}}}
    launched = own_stack.launch_run("dbt_build_job", nothing, location="shop")
    assert own_stack.wait_for_run(launched["run"]["runId"]) == "FAILURE"
    failures = [
        e
        for e in own_stack.run_events(launched["run"]["runId"])
        if e["__typename"] == "ExecutionStepFailureEvent"
    ]
    assert "selects nothing in the dbt project shop_dbt" in json.dumps(failures)


def test_a_plain_module_runs(own_stack: ProcessStack) -> None:
    assert run_to_end(own_stack, "plain", "everything_job") == "SUCCESS"


def test_reload_on_save_in_each_location(own_stack: ProcessStack) -> None:
    plain = own_stack.code_root / "plain" / "definitions.py"
    before = plain.read_text()
    plain.write_text(
        before.replace(
            "defs = dg.Definitions(assets=[numbers, total]",
            "defs = dg.Definitions(assets=[numbers, total, extra]",
        )
        + "\n\n@dg.asset(group_name='plain')\ndef extra() -> int:\n    return 4\n"
    )
    # `extra` is defined after `defs` uses it: a NameError first, then the fix.
    wait_for(
        "the broken save refused",
        lambda: status(own_stack, "plain")["reloads"][-1]["outcome"] == "failed",
        60,
    )
    error = status(own_stack, "plain")["reloads"][-1]["error"]
    assert error["file"] == "plain/definitions.py" and "NameError" in error["text"]
    assert set(asset_keys(own_stack, "plain")) == {"numbers", "total"}  # still serving
    plain.write_text(
        before + "\n\n@dg.asset(group_name='plain')\ndef extra() -> int:\n    return 4\n\n\n"
        "defs = dg.Definitions.merge(defs, dg.Definitions(assets=[extra]))\n"
    )
    wait_for("the fixed save served", lambda: "extra" in asset_keys(own_stack, "plain"), 60)

    model = own_stack.code_root / "shop_dbt" / "models" / "marts" / "big_orders.sql"
    model.write_text("select * from {{ ref('orders_enriched') }} where amount_cents > 2000\n")
    wait_for("a new model served", lambda: "marts/big_orders" in asset_keys(own_stack, "shop"), 90)
    model.write_text("select * from {{ ref('no_such_model') }}\n")
    wait_for(
        "a broken ref refused", lambda: status(own_stack, "shop")["reloads"][-1]["outcome"] == "failed", 90
    )
    error = status(own_stack, "shop")["reloads"][-1]["error"]
    assert error["kind"] == "dbt" and error["file"] == "shop_dbt/models/marts/big_orders.sql"
    assert "model.shop.big_orders" in error["text"] and "no_such_model" in error["text"]
    assert "marts/big_orders" in asset_keys(own_stack, "shop")  # the last good definitions still serve
    model.unlink()
    wait_for("the model removed", lambda: "marts/big_orders" not in asset_keys(own_stack, "shop"), 90)


def test_settings_that_describe_no_workspace_stop_user_code_with_the_reason(tmp_path: Path) -> None:
    """Two locations with one name: user-code's command exits 64 (EX_USAGE) and says which, before loading."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EDP_")},
        "EDP_CODE_ROOT": str(tmp_path),
        "EDP_CODE_LOCATIONS": "shop plain shop",
        "EDP_LOCATION_SHOP_DBT_PROJECT": "shop_dbt",
        "EDP_LOCATION_PLAIN_FILE": "plain/definitions.py",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "edp_platform.code_server"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 64
    assert "EDP_CODE_LOCATIONS names the location 'shop' twice: each name once" in proc.stderr
