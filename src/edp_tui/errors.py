"""The one root of every domain error: `EdpError`, with a title the UI and the CLI show above its text.

Every package raises its own subclasses (docker/, dagster/, compose, config); callers that only need to say
"something went wrong" catch `EdpError`. ``str(error)`` is one human-readable message of outside text: show it
literally (never as markup).
"""

from __future__ import annotations


class EdpError(Exception):
    """Base of every error edp-tui raises on purpose; ``title`` names the area (per class or per instance)."""

    title = "edp-tui"

    def __init__(self, message: str = "", *, title: str | None = None) -> None:
        super().__init__(message)
        if title is not None:
            self.title = title
