"""The one root of every domain error: `EdpError`, with a title the UI and the CLI show above its text.

Every package raises its own subclasses (docker/, dagster/, compose, config); callers that only need to say
"something went wrong" catch `EdpError`. ``str(error)`` is one human-readable message of outside text: show it
literally (never as markup).
"""

from __future__ import annotations


class EdpError(Exception):
    """Base of every error edp-tui raises on purpose; ``title`` names the area (per class or per instance)."""

    title = "edp-tui"
    # A few words saying what failed, for a one-line banner ("webserver unreachable"); None: the class name.
    kind: str | None = None

    def __init__(self, message: str = "", *, title: str | None = None) -> None:
        super().__init__(message)
        if title is not None:
            self.title = title


# Failures a backend is expected to have (down, refused, an answer it says is an error): shown and retried,
# never logged. Anything else that escapes a poll or a subscription (a payload of a shape nobody foresaw:
# KeyError, TypeError, AttributeError, ValueError...; a bug) is shown and retried the same way, and logged
# with its traceback. Every loop that retries uses this one tuple.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (EdpError,)
