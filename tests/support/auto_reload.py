"""What the reload-on-save tests of both stacks share: the location query, the probe asset appended to the
definitions, and the poll-until-deadline helper (tests.support.waiting's, re-exported).

Each takes a `graphql(query, variables) -> data` callable (ComposeStack.graphql, ProcessStack.graphql).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.waiting import wait_for

__all__ = ["LOCATION", "PY_PROBE", "GraphQL", "location", "wait_for"]

GraphQL = Callable[..., dict[str, Any]]

LOCATION = """
query Location {
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation {
            serverId
            repositories { jobs { name } sensors { name } assetNodes { assetKey { path } } }
          }
          ... on PythonError { message }
        }
      }
    }
  }
}"""

# Appended to definitions.py: one more asset, so a served reload shows in the location's asset list.
PY_PROBE = """

@dg.asset(group_name="auto_reload_probe")
def {name}() -> int:
    return 1


defs = dg.Definitions.merge(defs, dg.Definitions(assets=[{name}]))
"""


def location(graphql: GraphQL, name: str) -> dict[str, Any]:
    """The location's load status, type and, when loaded, its server id, jobs, sensors and asset keys."""
    entries = graphql(LOCATION)["workspaceOrError"]["locationEntries"]
    entry = next(e for e in entries if e["name"] == name)
    loc = entry["locationOrLoadError"] or {}
    result: dict[str, Any] = {"status": entry["loadStatus"], "type": loc.get("__typename")}
    if loc.get("__typename") == "RepositoryLocation":
        repo = loc["repositories"][0]
        result["server_id"] = loc["serverId"]
        result["jobs"] = {j["name"] for j in repo["jobs"]}
        result["sensors"] = {s["name"] for s in repo["sensors"]}
        result["assets"] = {"/".join(a["assetKey"]["path"]) for a in repo["assetNodes"]}
    return result
