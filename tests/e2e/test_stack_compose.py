"""The real compose stack, brought up once by the `compose_stack` fixture (conftest.py), checked end to end.

Order matters and is the file's order: health and bindings, a full-refresh run with its compute logs, hot
reload (edits in the stack's temporary repository copy, reverted afterwards), and last persistence across
down/up.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import stack_runs as sr
from tests.support.docker_engine import STACK_TIMINGS, ComposeStack

RUN_DEADLINE_S = 1500.0  # full_refresh_job: every step imports dagster and parses dbt on a busy 2-core host
RELOAD_DEADLINE_S = 600.0  # a reload re-imports dagster and re-parses dbt; minutes on an overloaded host
SERVICES = {"postgres", "user-code", "dagster-webserver", "dagster-daemon"}

CAPTURED_EVENTS = """
query Captured($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events { __typename ... on LogsCapturedEvent { fileKey stepKeys } }
    }
  }
}"""
CAPTURED_LOGS = """
query Logs($logKey: [String!]!) { capturedLogs(logKey: $logKey) { stdout stderr } }"""
RUNS = """
query Runs { runsOrError(limit: 1000) { __typename ... on Runs { results { runId status } } } }"""
RELOAD = """
mutation Reload($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry {
      loadStatus
      locationOrLoadError {
        __typename
        ... on RepositoryLocation { serverId }
        ... on PythonError { message errorChain { error { message } } }
      }
    }
  }
}"""
LOCATION_ASSETS = """
query Assets {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { serverId repositories { assetNodes { assetKey { path } } } }
          ... on PythonError { message errorChain { error { message } } }
        }
      }
    }
  }
}"""


def service_states(stack: ComposeStack) -> dict[str, dict[str, Any]]:
    out = stack.compose("ps", "-a", "--format", "json").stdout
    # Compose prints one JSON object per line (older releases: one array).
    rows = json.loads(out) if out.lstrip().startswith("[") else [json.loads(x) for x in out.splitlines() if x]
    return {row["Service"]: row for row in rows}


def containers(stack: ComposeStack) -> dict[str, dict[str, Any]]:
    """Service -> {id, started, image} of the running containers."""
    result = {}
    for service, row in service_states(stack).items():
        info = json.loads(
            subprocess.run(
                ["docker", "inspect", row["ID"]], capture_output=True, text=True, check=True, timeout=30
            ).stdout
        )[0]
        result[service] = {"id": info["Id"], "started": info["State"]["StartedAt"], "image": info["Image"]}
    return result


def ended(stack: ComposeStack, run_id: str) -> str:
    """The run's final status, polled every 3 s."""
    return sr.wait_for_status(stack.graphql, run_id, sr.FINISHED, RUN_DEADLINE_S, 3)


def captured_file_keys(stack: ComposeStack, run_id: str) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    cursor = None
    while True:
        conn = stack.graphql(CAPTURED_EVENTS, {"runId": run_id, "cursor": cursor})["logsForRun"]
        for event in conn["events"]:
            if event["__typename"] == "LogsCapturedEvent":
                keys[event["fileKey"]] = event["stepKeys"] or []
        if not conn["hasMore"]:
            return keys
        cursor = conn["cursor"]


def location_assets(stack: ComposeStack) -> tuple[str, set[tuple[str, ...]], str]:
    """(load status, asset keys, serverId or load error text) of the etl_pipeline location."""
    entries = stack.graphql(LOCATION_ASSETS)["workspaceOrError"]["locationEntries"]
    entry = next(e for e in entries if e["name"] == sr.LOCATION)
    loc = entry["locationOrLoadError"] or {}
    if loc.get("__typename") != "RepositoryLocation":
        return entry["loadStatus"], set(), json.dumps(loc)
    keys = {tuple(n["assetKey"]["path"]) for repo in loc["repositories"] for n in repo["assetNodes"]}
    return entry["loadStatus"], keys, loc["serverId"]


def reload_until(stack: ComposeStack, present: set[tuple[str, ...]], absent: set[tuple[str, ...]]) -> float:
    """Reload the location through GraphQL; seconds until the asset graph shows `present` and not `absent`."""
    server_before = location_assets(stack)[2]
    started = time.monotonic()
    result = stack.graphql(RELOAD, {"name": sr.LOCATION}, timeout=RELOAD_DEADLINE_S)[
        "reloadRepositoryLocation"
    ]
    assert result["__typename"] == "WorkspaceLocationEntry", result
    last: Any = None
    while time.monotonic() - started < RELOAD_DEADLINE_S:
        status, keys, detail = location_assets(stack)
        last = (status, detail)
        if status == "LOADED" and present <= keys and not (absent & keys):
            return time.monotonic() - started
        time.sleep(0.5)
    pytest.fail(
        f"after reload the location never showed {present} without {absent}; "
        f"serverId before the reload: {server_before}; last state: {last}"
    )


def test_all_four_services_are_healthy(compose_stack: ComposeStack) -> None:
    states = service_states(compose_stack)
    assert set(states) == SERVICES
    for service, row in states.items():
        assert (row["State"], row["Health"]) == ("running", "healthy"), (service, row)
    info = compose_stack.graphql("query { version }")
    assert info["version"].startswith("1.13.")
    assert "created stack/.env with generated database passwords" in compose_stack.bring_up_log
    env_file = compose_stack.stack_dir / ".env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"


def test_only_loopback_is_bound_on_the_host(compose_stack: ComposeStack) -> None:
    bindings = []
    for service, row in service_states(compose_stack).items():
        info = json.loads(
            subprocess.run(
                ["docker", "inspect", row["ID"]], capture_output=True, text=True, timeout=30
            ).stdout
        )[0]
        for target, hosts in (info["NetworkSettings"]["Ports"] or {}).items():
            for host in hosts or []:
                bindings.append((service, target, host["HostIp"], host["HostPort"]))
    port = compose_stack.webserver_url.rsplit(":", 1)[1]
    assert bindings == [("dagster-webserver", "3000/tcp", "127.0.0.1", port)]


def test_services_refuse_to_start_without_a_password(compose_stack: ComposeStack) -> None:
    image = containers(compose_stack)["user-code"]["image"]
    proc = subprocess.run(
        ["docker", "run", "--rm", "-e", "DAGSTER_PG_HOST=postgres", "-e", "DAGSTER_PG_PORT=5432",
         "-e", "DAGSTER_PG_USERNAME=dagster", "-e", "DAGSTER_PG_DB=dagster", "-e", "DAGSTER_PG_PASSWORD=",
         image, "dagster-daemon", "run"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 64
    assert "DAGSTER_PG_PASSWORD is empty" in proc.stderr


def test_full_refresh_run_succeeds_and_its_compute_logs_are_readable(compose_stack: ComposeStack) -> None:
    started = time.monotonic()
    run_id = sr.launch(compose_stack.graphql, "full_refresh_job")
    assert ended(compose_stack, run_id) == "SUCCESS"
    STACK_TIMINGS["full_refresh_job (launch to SUCCESS)"] = time.monotonic() - started
    keys = captured_file_keys(compose_stack, run_id)
    steps = {step for step_keys in keys.values() for step in step_keys}
    assert {"raw_retail_data", "retail_dbt_models"} <= steps, keys
    for file_key, step_keys in keys.items():
        logs = compose_stack.graphql(CAPTURED_LOGS, {"logKey": [run_id, "compute_logs", file_key]})[
            "capturedLogs"
        ]
        text = (logs["stdout"] or "") + (logs["stderr"] or "")
        # Written by the run process in user-code, read here through the webserver: the volume is shared.
        assert run_id in text, (step_keys, text[:500])
    dbt_key = next(k for k, s in keys.items() if "retail_dbt_models" in s)
    dbt_logs = compose_stack.graphql(CAPTURED_LOGS, {"logKey": [run_id, "compute_logs", dbt_key]})[
        "capturedLogs"
    ]
    assert "dbt" in (dbt_logs["stdout"] or "") + (dbt_logs["stderr"] or "")


PY_PROBE = textwrap.dedent(
    """

    # --- added by tests/e2e/test_stack_compose.py (hot reload probe) ---
    @dg.asset(group_name="hot_reload_probe")
    def hot_reload_probe_asset() -> int:
        return 1


    defs = dg.Definitions.merge(defs, dg.Definitions(assets=[hot_reload_probe_asset]))
    """
)
SQL_PROBE = "-- added by tests/e2e/test_stack_compose.py (hot reload probe)\nselect 1 as probe\n"


def test_hot_reload_of_python_and_dbt_edits_without_rebuild_or_restart(compose_stack: ComposeStack) -> None:
    definitions = compose_stack.repo / "etl_pipeline" / "src" / "etl_pipeline" / "definitions.py"
    model = compose_stack.repo / "dbt_project" / "models" / "marts" / "hot_reload_probe.sql"
    py_key = ("hot_reload_probe_asset",)
    sql_key = ("marts", "hot_reload_probe")
    original = definitions.read_text()
    before = containers(compose_stack)
    status, keys, _ = location_assets(compose_stack)
    assert status == "LOADED" and py_key not in keys and sql_key not in keys
    try:
        definitions.write_text(original + PY_PROBE)
        STACK_TIMINGS["reload latency after a .py edit"] = reload_until(compose_stack, {py_key}, set())
        model.write_text(SQL_PROBE)
        STACK_TIMINGS["reload latency after a .sql edit (dbt parse on load)"] = reload_until(
            compose_stack, {py_key, sql_key}, set()
        )
        # Same containers, same start times, same image: nothing was rebuilt or restarted.
        assert containers(compose_stack) == before
    finally:
        # Back to the original code for the tests that share this stack.
        definitions.write_text(original)
        model.unlink(missing_ok=True)
        reload_until(compose_stack, set(), {py_key, sql_key})
    assert containers(compose_stack) == before


def test_run_history_survives_down_and_up(compose_stack: ComposeStack) -> None:
    def runs() -> list[tuple[str, str]]:
        return sorted(
            (r["runId"], r["status"]) for r in compose_stack.graphql(RUNS)["runsOrError"]["results"]
        )

    history = runs()
    if not history:  # this test alone: make some history first
        run_id = sr.launch(compose_stack.graphql, "ingestion_job")
        assert ended(compose_stack, run_id) == "SUCCESS"
        history = runs()
    compose_stack.compose("down", "--timeout", "20")  # volumes kept
    assert service_states(compose_stack) == {}
    started = time.monotonic()
    compose_stack.compose("up", "-d", "--wait", "--wait-timeout", "900", timeout=960)
    STACK_TIMINGS["warm up --wait (after down, volumes kept)"] = time.monotonic() - started
    assert runs() == history
    assert all(row["Health"] == "healthy" for row in service_states(compose_stack).values())


def test_compose_stack_fixture_exposes_what_other_tests_need(compose_stack: ComposeStack) -> None:
    assert compose_stack.compose_file == compose_stack.repo / "stack" / "docker-compose.yaml"
    assert Path(compose_stack.compose_file).is_file()
    assert compose_stack.graphql_url == compose_stack.webserver_url + "/graphql"
    assert compose_stack.env["COMPOSE_PROJECT_NAME"] == compose_stack.project
