"""Dagster webserver GraphQL source: typed models, one error type per failure kind, an async client.

No Textual and no ``dagster`` import here (start-up cost); see ``client.py``.
"""

from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import (
    DagsterError,
    DagsterGraphQLError,
    DagsterHTTPError,
    DagsterPythonError,
    DagsterRequestRejected,
    DagsterUnreachable,
    ReadOnlyRefused,
    RunConfigInvalid,
    RunConfigProblem,
)

__all__ = [
    "RunConfigProblem",
    "DagsterClient",
    "DagsterError",
    "DagsterGraphQLError",
    "DagsterHTTPError",
    "DagsterPythonError",
    "DagsterRequestRejected",
    "DagsterUnreachable",
    "ReadOnlyRefused",
    "RunConfigInvalid",
]
