"""Asset models and client methods, from bodies captured from the real webserver (dagster-graphql 1.13.27);
every GraphQL document validated against the installed schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from edp_tui.dagster.assets import (
    ASSET_JOB,
    AssetCheck,
    AssetInfo,
    by_group,
    downstream_closure,
    with_op_siblings,
)
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import ReadOnlyRefused

FIXTURES = Path(__file__).parent / "fixtures" / "dagster"
URL = "http://dagster.test/graphql"


def captured(name: str) -> tuple[int, Any]:
    raw = json.loads((FIXTURES / f"{name}.json").read_text())
    return raw["status"], raw["body"]


def serving(responses: dict[str, tuple[int, Any]], seen: list[dict[str, Any]], **kw: Any) -> DagsterClient:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        status, payload = responses[body["operationName"]]
        return httpx.Response(status, json=payload)

    return DagsterClient(URL, transport=httpx.MockTransport(handler), **kw)


async def test_never_materialized_assets_are_missing_with_unrun_checks() -> None:
    seen: list[dict[str, Any]] = []
    async with serving({"Assets": captured("assets_never_materialized")}, seen) as client:
        assets = {a.key: a for a in await client.assets()}
    assert len(assets) == 15 and seen[0]["operationName"] == "Assets"
    groups = by_group(assets.values())
    assert list(groups) == ["analytics", "marts", "raw", "staging"]
    assert [a.name for a in groups["raw"]] == [
        f"raw/{t}" for t in sorted(("customers", "order_items", "orders", "payments", "products"))
    ]
    orders = assets[("staging", "stg_orders")]
    assert orders.location == "etl_pipeline" and orders.repository == "__repository__"
    assert orders.upstream == (("raw", "orders"),) and orders.materializable
    assert ("marts", "fct_orders") in orders.downstream
    assert orders.state == "missing" and orders.last_materialization is None
    assert orders.checks and all(c.status is None for c in orders.checks)
    assert orders.checks_summary == f"0/{len(orders.checks)} ok"
    # Everything downstream of the raw orders, each once, the root first.
    closure = downstream_closure(assets, ("raw", "orders"))
    assert closure[0] == ("raw", "orders") and len(closure) == len(set(closure))
    assert {("staging", "stg_orders"), ("marts", "fct_orders"), ("analytics", "customer_segments")} <= set(
        closure
    )
    assert ("raw", "customers") not in closure
    # The raw tables are one multi-asset (op raw_retail_data): selected together when it cannot be subset.
    raw = with_op_siblings(assets, [("raw", "orders")])
    assert raw[0] == ("raw", "orders") and sorted(raw) == sorted(k for k in assets if k[0] == "raw")


async def test_materialized_assets_after_a_run_of_everything() -> None:
    """Captured right after one __ASSET_JOB run of every asset on the process stack (all dbt tests passed)."""
    seen: list[dict[str, Any]] = []
    async with serving({"Assets": captured("assets_materialized")}, seen) as client:
        assets = await client.assets()
    runs = {a.last_materialization.run_id for a in assets if a.last_materialization}
    assert len(assets) == 15 and len(runs) == 1
    [run_id] = runs
    checks = [c for a in assets for c in a.checks]
    assert len(checks) >= 25 and all(c.status == "SUCCEEDED" and c.run_id == run_id for c in checks)
    assert {a.state for a in assets} == {"fresh"}
    customers = next(a for a in assets if a.key == ("staging", "stg_customers"))
    assert customers.checks_summary == "3/3 ok"
    mat = customers.last_materialization
    assert mat is not None and 1.7e9 < mat.timestamp < 2.0e9  # seconds, from the payload's milliseconds
    # Severity is the check's configured one, also for a passed check: only failures show it.
    assert all(c.severity == "ERROR" for c in customers.checks) and not customers.failed_checks


def test_states_and_check_summaries() -> None:
    node = {
        "assetKey": {"path": ["marts", "fct_orders"]},
        "groupName": "marts",
        "isMaterializable": True,
        "isExecutable": True,
        "repository": {"name": "__repository__", "location": {"name": "etl_pipeline"}},
        "assetMaterializations": [{"runId": "r1", "timestamp": "1767355200000"}],
        "assetChecksOrError": {
            "__typename": "AssetChecks",
            "checks": [
                {
                    "name": "a",
                    "executionForLatestMaterialization": {
                        "status": "SUCCEEDED",
                        "runId": "r1",
                        "timestamp": 1767355201.5,
                    },
                },
                {
                    "name": "b",
                    "executionForLatestMaterialization": {
                        "status": "FAILED",
                        "runId": "r1",
                        "timestamp": 1767355202.0,
                        "evaluation": {"severity": "ERROR"},
                    },
                },
                {"name": "c", "executionForLatestMaterialization": None},
            ],
        },
        "staleStatus": "STALE",
        "staleCauses": [
            {
                "reason": "updated dependency",
                "category": "DATA",
                "dependency": {"path": ["staging", "stg_orders"]},
            }
        ],
    }
    asset = AssetInfo.from_graphql(node)
    assert asset.last_materialization is not None
    assert asset.last_materialization.timestamp == 1767355200.0  # milliseconds in the payload
    assert asset.checks[1] == AssetCheck("b", "FAILED", "ERROR", "r1", 1767355202.0)
    assert asset.checks_summary == "1/3 ok, 1 fail" and asset.state == "failed"
    assert asset.stale_causes == ("updated dependency (staging/stg_orders)",)
    fresh = AssetInfo.from_graphql(
        {**node, "assetChecksOrError": {"__typename": "AssetChecks", "checks": []}}
    )
    assert fresh.state == "stale" and fresh.checks_summary == "-"
    broken = AssetInfo.from_graphql(
        {**node, "assetChecksOrError": {"__typename": "AssetCheckNeedsMigrationError", "message": "migrate"}}
    )
    assert broken.checks == () and broken.checks_error == "migrate"


async def test_materialize_launches_the_asset_job_with_the_selection() -> None:
    seen: list[dict[str, Any]] = []
    async with serving({"LaunchRun": captured("launch_assets_success")}, seen) as client:
        run = await client.materialize("etl_pipeline", "__repository__", [("staging", "stg_orders")])
    assert run.job_name == ASSET_JOB and run.status in ("QUEUED", "NOT_STARTED", "STARTING")
    selector = seen[0]["variables"]["executionParams"]["selector"]
    assert selector == {
        "repositoryLocationName": "etl_pipeline",
        "repositoryName": "__repository__",
        "jobName": ASSET_JOB,
        "assetSelection": [{"path": ["staging", "stg_orders"]}],
    }


async def test_materialize_is_refused_in_read_only_mode_before_sending() -> None:
    seen: list[dict[str, Any]] = []
    async with serving({}, seen, read_only=True) as client:
        with pytest.raises(ReadOnlyRefused):
            await client.materialize("etl_pipeline", "__repository__", [("raw", "orders")])
    assert seen == []
