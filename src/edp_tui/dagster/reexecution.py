"""Re-executing chosen steps of a run: the ExecutionParams the webserver's UI sends for it.

``ReexecutionParams`` (FROM_FAILURE / ALL_STEPS) cannot select steps; ``launchRunReexecution`` also takes
``executionParams``: the parent's selector and run config, ``stepKeys``, and the run group (parent and root
ids) in ``executionMetadata``.
"""

from __future__ import annotations

from typing import Any

from edp_tui.dagster.errors import DagsterRequestRejected
from edp_tui.dagster.models import RunDetail
from edp_tui.dagster.run_config import parse_run_config


def step_reexecution_params(parent: RunDetail, step_keys: list[str]) -> dict[str, Any]:
    run_id = parent.run.run_id
    if parent.location is None or parent.repository is None:
        raise DagsterRequestRejected("NoRepositoryOrigin", f"run {run_id}: cannot re-execute its steps")
    root = parent.root_run_id or run_id
    return {
        "selector": {
            "repositoryLocationName": parent.location,
            "repositoryName": parent.repository,
            "jobName": parent.run.job_name,
        },
        "runConfigData": parse_run_config(parent.run_config_yaml),
        "stepKeys": list(step_keys),
        "executionMetadata": {
            "parentRunId": run_id,
            "rootRunId": root,
            "tags": [
                # The parent's own tags carry over, as in the UI; the run group's are set afresh.
                *({"key": k, "value": v} for k, v in parent.tags if not k.startswith("dagster/")),
                {"key": "dagster/parent_run_id", "value": run_id},
                {"key": "dagster/root_run_id", "value": root},
                {"key": "dagster/step_selection", "value": ",".join(step_keys)},
            ],
        },
    }
