"""One exception type per way a call to the Dagster webserver can fail.

Every error carries a one-line, human-readable ``str()`` that the dashboard can show as is.
"""

from __future__ import annotations

from dataclasses import dataclass

from edp_tui.errors import EdpError


class DagsterError(EdpError):
    """Base class: anything that went wrong talking to the Dagster webserver."""

    title = "Dagster"


class DagsterUnreachable(DagsterError):
    """No HTTP answer at all: connection refused, DNS failure, timeout, websocket closed."""

    kind = "webserver unreachable"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Dagster webserver unreachable at {url}: {reason}")
        self.url = url
        self.reason = reason


class DagsterHTTPError(DagsterError):
    """An HTTP error status whose body holds no GraphQL payload we could use."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(f"Dagster webserver answered HTTP {status_code}: {body[:200]}")
        self.status_code = status_code
        self.body = body


class DagsterGraphQLError(DagsterError):
    """The server rejected the document itself (parse/validation errors, HTTP 400, `errors` list)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("GraphQL error: " + "; ".join(messages))
        self.messages = messages


class DagsterPythonError(DagsterError):
    """Dagster caught a Python exception on the server and returned it as a ``PythonError`` union member."""

    def __init__(self, message: str, class_name: str | None = None, chain: tuple[str, ...] = ()) -> None:
        text = f"{class_name}: {message}" if class_name else message
        super().__init__(text.strip())
        self.message = message
        self.class_name = class_name
        self.chain = chain


@dataclass(frozen=True)
class RunConfigProblem:
    """One run-config validation problem (data, not an exception); ``path`` e.g. ``root:ops:x:config:n``."""

    message: str
    path: str
    reason: str | None = None


class RunConfigInvalid(DagsterError):
    """``RunConfigValidationInvalid``: the run config does not fit the job's schema; nothing launched."""

    def __init__(self, job_name: str, errors: tuple[RunConfigProblem, ...]) -> None:
        lines = [f"{e.path}: {e.message}" if e.path else e.message for e in errors]
        super().__init__(f"Invalid run config for {job_name}: " + " | ".join(lines))
        self.job_name = job_name
        self.errors = errors


class DagsterRequestRejected(DagsterError):
    """A typed refusal from Dagster (RunNotFoundError, UnauthorizedError, PipelineNotFoundError, ...)."""

    def __init__(self, typename: str, message: str) -> None:
        super().__init__(f"{typename}: {message}" if message else typename)
        self.typename = typename
        self.message = message


class ReadOnlyRefused(DagsterError):
    """The dashboard is in read-only mode; a mutation was refused before anything was sent."""

    title = "Read-only"

    def __init__(self, action: str) -> None:
        super().__init__(f"read-only mode: {action} refused")
        self.action = action
