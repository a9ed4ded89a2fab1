"""What can go wrong talking to a Docker engine: one error type per kind, and one way to word a cause."""

from __future__ import annotations

import requests.exceptions

from edp_tui.errors import EdpError


class DockerError(EdpError):
    """Base class of everything the docker package raises."""

    title = "Docker"


class EngineUnreachable(DockerError):
    """The engine does not answer at the endpoint (daemon down, socket gone, proxy cut, TLS failure...)."""


class ContainerNotFound(DockerError):
    """The service has no container (never created, or removed meanwhile)."""


class EngineAPIError(DockerError):
    """The engine answered a read with an error (HTTP 4xx/5xx: shutting down, overloaded, a bad request)."""


class ActionFailed(DockerError):
    """The engine answered but refused or failed an action (restart/stop/start)."""


# Transport failures of the docker SDK (requests/urllib3 underneath) and of raw sockets.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    ConnectionError,
    TimeoutError,
    OSError,
)


_PLAIN_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (FileNotFoundError, "no socket at this path (is the engine running?)"),
    (ConnectionRefusedError, "connection refused (is the engine running?)"),
    (PermissionError, "permission denied on the socket (is this user in the docker group?)"),
    (TimeoutError, "timed out"),
    (requests.exceptions.Timeout, "timed out"),
)


def _find_cause(exc: BaseException, depth: int = 0) -> BaseException | None:
    """The OS-level cause buried in requests/urllib3 wrappers (in args, __cause__ or __context__)."""
    if depth > 8:
        return None
    if isinstance(exc, tuple(kind for kind, _ in _PLAIN_WORDS)):
        return exc
    nested = [a for a in exc.args if isinstance(a, BaseException)]
    nested += [e for e in (exc.__cause__, exc.__context__) if e is not None]
    for inner in nested:
        found = _find_cause(inner, depth + 1)
        if found is not None:
            return found
    return None


def describe(exc: BaseException) -> str:
    """One readable line: the plain cause when there is a known one, else the exception's own text."""
    cause = _find_cause(exc)
    if cause is not None:
        return next(words for kind, words in _PLAIN_WORDS if isinstance(cause, kind))
    text = " ".join((str(exc).strip() or type(exc).__name__).split())
    return text if len(text) <= 240 else text[:237] + "..."
