"""The user's own code on the compose stack, beside the demo: the fixture projects named in stack/.env as the
README's "Bring your own code" says (tests/e2e/conftest.py OWN_CODE_SETTINGS), nothing else edited. Each is
served by a code server of its own, reloads on save, runs a job to SUCCESS, and `edp-tui status` shows the
locations side by side; the code is mounted read-only."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from tests.support import stack_runs
from tests.support.docker_engine import ComposeStack

FIXTURES = Path("tests") / "fixtures" / "projects"
ASSETS = """
query Assets($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    ... on Repository { assetNodes { assetKey { path } } }
  }
}
"""
LOCATIONS = ("etl_pipeline", "shop", "plain")


def asset_keys(stack: ComposeStack, location: str) -> set[str]:
    selector = {"repositoryLocationName": location, "repositoryName": "__repository__"}
    repo = stack.graphql(ASSETS, {"selector": selector})["repositoryOrError"]
    return {"/".join(n["assetKey"]["path"]) for n in repo.get("assetNodes", [])}


def test_the_three_locations_are_served_side_by_side(compose_stack: ComposeStack) -> None:
    for location in LOCATIONS:
        loaded = partial(stack_runs.location_loaded, compose_stack.graphql, location)
        stack_runs.wait_until(f"{location} loaded", loaded, 300)
    assert {"erp/orders_raw", "crm/customers", "marts/orders_enriched", "orders_snapshot"} <= asset_keys(
        compose_stack, "shop"
    )
    assert asset_keys(compose_stack, "plain") == {"numbers", "total"}
    assert "retail_raw/orders" in asset_keys(compose_stack, "etl_pipeline")


@pytest.mark.parametrize(("location", "job"), [("shop", "dbt_build_job"), ("plain", "everything_job")])
def test_a_job_of_each_runs_to_success(compose_stack: ComposeStack, location: str, job: str) -> None:
    run_id = stack_runs.launch(compose_stack.graphql, job, location=location)
    status = stack_runs.wait_for_status(compose_stack.graphql, run_id, stack_runs.FINISHED, 600)
    assert status == "SUCCESS", stack_runs.events(compose_stack.graphql, run_id)[-5:]


def test_reload_on_save_in_each_location(compose_stack: ComposeStack) -> None:
    plain = compose_stack.repo / FIXTURES / "plain" / "definitions.py"
    model = compose_stack.repo / FIXTURES / "shop_dbt" / "models" / "marts" / "e2e_probe.sql"
    before = plain.read_text()
    try:
        plain.write_text(
            before + "\n\n@dg.asset(group_name='plain')\ndef e2e_probe() -> int:\n    return 5\n\n\n"
            "defs = dg.Definitions.merge(defs, dg.Definitions(assets=[e2e_probe]))\n"
        )
        model.write_text("select order_id from {{ ref('orders_enriched') }}\n")
        served = partial(asset_keys, compose_stack)
        stack_runs.wait_until("plain's save served", lambda: "e2e_probe" in served("plain"), 120)
        stack_runs.wait_until("shop's new model served", lambda: "marts/e2e_probe" in served("shop"), 120)
    finally:
        plain.write_text(before)
        model.unlink(missing_ok=True)
    stack_runs.wait_until("plain restored", lambda: "e2e_probe" not in served("plain"), 120)
    stack_runs.wait_until("shop restored", lambda: "marts/e2e_probe" not in served("shop"), 120)


def test_edp_tui_status_shows_every_location(compose_stack: ComposeStack) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "edp_tui", "--compose-file", str(compose_stack.compose_file)]
        + ["status", "--json"],
        env={**compose_stack.env, "EDP_TUI_CONFIG": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(proc.stdout)
    names = [loc["name"] for loc in report["locations"]]
    assert sorted(names) == sorted(LOCATIONS), report


def test_the_code_is_read_only_inside_user_code(compose_stack: ComposeStack) -> None:
    """The platform writes dbt's output into its own volumes: nothing in the container may write the user's
    files."""
    touch = ["exec", "-T", "user-code", "touch", "/opt/dagster/app/dbt_project/x"]
    touched = compose_stack.compose(*touch, check=False)
    assert touched.returncode != 0 and "Read-only file system" in touched.stderr
