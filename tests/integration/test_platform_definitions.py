"""The code location loads in the process stack and its asset graph runs raw → staging → marts → analytics,
the raw orders and the incremental marts partitioned by day, the rest not."""

from __future__ import annotations

from tests.support.process_stack import ProcessStack

ASSET_GRAPH = """
query AssetGraph($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository {
      jobs { name }
      assetNodes {
        assetKey { path }
        groupName
        dependencyKeys { path }
        isPartitioned
        partitionDefinition { type description }
        backfillPolicy { policyType }
        assetChecksOrError { ... on AssetChecks { checks { name } } }
      }
    }
  }
}
"""


def test_asset_graph_connects_raw_to_analytics(process_stack: ProcessStack) -> None:
    repo = process_stack.graphql(ASSET_GRAPH, {"selector": process_stack.repository_selector})[
        "repositoryOrError"
    ]
    assert repo["__typename"] == "Repository"
    assert {"ingestion_job", "dbt_build_job", "daily_job", "full_refresh_job"} <= {
        j["name"] for j in repo["jobs"]
    }
    nodes = {"/".join(n["assetKey"]["path"]): n for n in repo["assetNodes"]}
    deps = {key: {"/".join(d["path"]) for d in n["dependencyKeys"]} for key, n in nodes.items()}

    # Every staging model reads exactly its raw table (the translator maps dbt sources onto ingestion assets).
    for table in ("customers", "products", "orders", "order_items", "payments"):
        assert nodes[f"retail_raw/{table}"]["groupName"] == "raw"
        assert deps[f"staging/stg_{table}"] == {f"retail_raw/{table}"}
    assert deps["marts/fct_orders"] == {
        "staging/stg_orders",
        "staging/stg_order_items",
        "staging/stg_payments",
    }
    assert deps["marts/customer_lifetime_value"] == {"staging/stg_customers", "marts/fct_orders"}
    assert deps["marts/daily_revenue"] == {"marts/fct_orders"}
    assert deps["marts/category_revenue"] == {
        "staging/stg_order_items",
        "staging/stg_orders",
        "staging/stg_products",
    }
    assert deps["analytics/customer_segments"] == {"marts/customer_lifetime_value"}

    # One day a partition: the raw orders (one run a day in a backfill) and the incremental models (one dbt
    # run over a backfill's range); the reference data, the views and the other tables are not partitioned.
    daily = {"retail_raw/orders", "retail_raw/order_items", "retail_raw/payments", "marts/fct_orders"}
    daily.add("marts/daily_revenue")
    assert {key for key, n in nodes.items() if n["isPartitioned"]} == daily
    for key in daily:
        definition = nodes[key]["partitionDefinition"]
        assert (
            definition["type"] == "TIME_WINDOW"
            and "Daily, starting 2024-01-01 UTC" in definition["description"]
        )
    assert nodes["marts/fct_orders"]["backfillPolicy"] == {"policyType": "SINGLE_RUN"}
    assert nodes["retail_raw/orders"]["backfillPolicy"] is None

    # Every raw table feeds a mart; the Python asset sits downstream of raw → staging → marts.
    def ancestors(key: str) -> set[str]:
        seen: set[str] = set()
        todo = [key]
        while todo:
            for parent in deps[todo.pop()]:
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    raw = {k for k in nodes if k.startswith("retail_raw/")}
    assert len(raw) == 5
    marts = [k for k in nodes if k.startswith("marts/")]
    assert raw <= set().union(*(ancestors(m) for m in marts))
    tables = ("customers", "orders", "order_items", "payments")
    assert {f"retail_raw/{t}" for t in tables} <= ancestors("analytics/customer_segments")

    # dbt tests are attached as asset checks of the models they test.
    checks = {
        key: {c["name"] for c in (n["assetChecksOrError"] or {}).get("checks", [])}
        for key, n in nodes.items()
    }
    assert "unique_stg_orders_order_id" in checks["staging/stg_orders"]
    assert (
        "relationships_stg_orders_customer_id__customer_id__ref_stg_customers_"
        in checks["staging/stg_orders"]
    )
    assert (
        "accepted_values_stg_payments_method__card__bank_transfer__voucher" in checks["staging/stg_payments"]
    )
    assert "assert_orders_fully_paid" in checks["marts/fct_orders"]
