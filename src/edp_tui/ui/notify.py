"""The one way the UI reports anything: errors and messages shown as literal text, never parsed as markup.

Textual's ``notify`` parses its message as markup by default, so an error text holding ``[/]`` raises inside
the toast's render, and ``root:ops:[x]`` (the shape of Dagster's config paths) loses its ``[x]``; border
titles parse plain strings as markup too. Every outside text goes through `report` or `literal`.
"""

from __future__ import annotations

import logging

from rich.text import Text
from textual.dom import DOMNode
from textual.notifications import SeverityLevel

from edp_tui.errors import EdpError
from edp_tui.text import printable

log = logging.getLogger("edp_tui")


def literal(text: object) -> Text:
    """Outside text as a `Text` (never markup) with control characters made visible; line breaks kept."""
    return Text("\n".join(printable(line) for line in str(text).split("\n")))


def _plain(text: str) -> str:
    return "\n".join(printable(line) for line in text.split("\n"))


def report(
    node: DOMNode,
    what: BaseException | str,
    *,
    title: str | None = None,
    severity: SeverityLevel | None = None,
    timeout: float | None = None,
) -> None:
    """Show an error (its `EdpError.title` above its text) or a message as a toast, literally.

    An exception that is not an `EdpError` is unexpected: it is also logged with its traceback.
    """
    if isinstance(what, EdpError):
        text, title = str(what), title or what.title
    elif isinstance(what, BaseException):
        log.error("unexpected error: %s", what, exc_info=what)
        text, title = f"{type(what).__name__}: {what}", title or "Unexpected error"
    else:
        text = what
    if severity is None:
        severity = "error" if isinstance(what, BaseException) else "information"
    node.app.notify(_plain(text), title=_plain(title or ""), severity=severity, timeout=timeout, markup=False)
