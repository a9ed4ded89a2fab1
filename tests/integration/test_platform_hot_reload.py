"""Hot reload on a temporary copy of the repository: edits show up after a reload through GraphQL, a syntax
error is refused with its text, file and line while the last good definitions keep serving, and fixing it
recovers. (Every reload goes through the platform's check: a broken save never takes a location down.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.process_stack import ProcessStack

RELOAD = """
mutation Reload($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry {
      locationOrLoadError {
        __typename
        ... on RepositoryLocation { serverId }
        ... on PythonError { message className errorChain { error { message className } } }
      }
    }
    ... on PythonError { message }
  }
}
"""

ASSETS = """
query Assets($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository { assetNodes { assetKey { path } description dependencyKeys { path } } }
  }
}
"""

NEW_ASSET = '''

@dg.asset(key=["analytics", "hot_reload_probe"], deps=[["marts", "daily_revenue"]], group_name="analytics")
def hot_reload_probe() -> None:
    """Added while the code server was running."""


defs = dg.Definitions.merge(defs, dg.Definitions(assets=[hot_reload_probe]))
'''


def reload(stack: ProcessStack) -> dict[str, Any]:
    # A reload re-imports the code and re-parses the dbt project: allow for a slow, busy machine.
    result = stack.graphql(RELOAD, {"name": stack.location_name}, timeout=300)["reloadRepositoryLocation"]
    assert result["__typename"] == "WorkspaceLocationEntry", result
    return dict(result["locationOrLoadError"])


def asset_nodes(stack: ProcessStack) -> dict[str, dict[str, Any]]:
    repo = stack.graphql(ASSETS, {"selector": stack.repository_selector})["repositoryOrError"]
    assert repo["__typename"] == "Repository", repo
    return {"/".join(n["assetKey"]["path"]): n for n in repo["assetNodes"]}


def test_hot_reload_of_dbt_model_and_python_asset(make_process_stack: Callable[..., ProcessStack]) -> None:
    # Reload on save off: every reload here is the one asked through GraphQL (the same checked path).
    stack = make_process_stack(copy_code=True, start_daemon=False, auto_reload=False)
    root = stack.code_root
    before = asset_nodes(stack)
    assert "analytics/hot_reload_probe" not in before
    assert "hot_reload_marker" not in (before["staging/stg_customers"]["description"] or "")

    # Edit a dbt model (new column) and add a Python asset, then reload through GraphQL.
    model = root / "dbt_project/models/staging/stg_customers.sql"
    model.write_text(
        model.read_text().replace("    signup_date\n", "    signup_date,\n    1 as hot_reload_marker\n")
    )
    definitions = root / "etl_pipeline/src/etl_pipeline/definitions.py"
    good = definitions.read_text() + NEW_ASSET
    definitions.write_text(good)
    loaded = reload(stack)
    assert loaded["__typename"] == "RepositoryLocation", loaded
    after = asset_nodes(stack)
    assert "hot_reload_marker" in after["staging/stg_customers"]["description"]
    assert [d["path"] for d in after["analytics/hot_reload_probe"]["dependencyKeys"]] == [
        ["marts", "daily_revenue"]
    ]

    # A syntax error: refused, with its text, file and line in the status; the last good definitions serve.
    definitions.write_text(good + "\ndef broken(:\n    pass\n")
    kept = reload(stack)
    assert kept == loaded, kept  # the same server, the same definitions
    refused = json.loads(stack.reload_status_path.read_text())["reloads"][-1]
    assert refused["outcome"] == "failed" and "SyntaxError" in refused["error"]["text"], refused
    assert refused["error"]["file"] == "etl_pipeline/src/etl_pipeline/definitions.py"
    assert refused["error"]["line"] == good.count("\n") + 2
    assert "analytics/hot_reload_probe" in asset_nodes(stack)

    # Fixing it and reloading recovers, edits intact.
    definitions.write_text(good)
    recovered = reload(stack)
    assert recovered["__typename"] == "RepositoryLocation", recovered
    assert recovered["serverId"] != loaded["serverId"]
    assert "analytics/hot_reload_probe" in asset_nodes(stack)
