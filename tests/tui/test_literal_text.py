"""Outside text reaches every notification, title and prompt literally: markup is never parsed, escapes and
control characters are made visible. Property tests drive each path with markup-like, escape-laden text.

Textual parses a notification's message as markup by default (``[/]`` raises inside the toast's render,
``root:ops:[x]`` loses ``[x]``) and a border title given as ``str`` too, so these paths can fail for real.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Static
from textual.widgets._toast import Toast

from edp_tui.dagster.errors import DagsterPythonError
from edp_tui.docker.models import ServiceState
from edp_tui.text import printable
from edp_tui.ui.notify import literal, report
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.screens.service_detail import ServiceDetailScreen
from edp_tui.ui.widgets.header import BackendHeader

FRAGMENTS = (
    "[/]",
    "[link=https://example.test]x[/link]",
    "[bold]",
    "[/bold]",
    "root:ops:[x]",
    "[@click=app.quit]",
    "\x1b[31m",
    "\x1b[2J",
    "\x1b]8;;https://x\x07",
    "\x07",
    "\u202e",
    "$variable",
    "[",
    "]",
)
OUTSIDE = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet="ab[]/=:@ ", max_size=4)), min_size=1, max_size=6
).map("".join)
EXAMPLES = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def shown(text: str) -> str:
    """What a literal rendering shows for one line of outside text."""
    return printable(text)


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield BackendHeader("edp", id="header")
        yield Static("host")


async def toasts(app: App[Any], pilot: Any) -> list[str]:
    for _ in range(50):
        await pilot.pause(0.02)
        found = [toast.render().plain for toast in app.query(Toast)]
        if found:
            return found
    raise AssertionError("no toast appeared")


@EXAMPLES
@given(text=OUTSIDE)
async def test_an_error_notification_shows_its_text_and_title_literally(text: str) -> None:
    app = Host()
    async with app.run_test(notifications=True) as pilot:
        report(app, DagsterPythonError(text, class_name="SyntaxError"), title=f"Reload {text}")
        (toast,) = await toasts(app, pilot)
        assert toast == f"Reload {shown(text)}\nSyntaxError: {shown(text)}".strip()


@EXAMPLES
@given(text=OUTSIDE)
async def test_a_message_notification_shows_its_text_literally(text: str) -> None:
    app = Host()
    async with app.run_test(notifications=True) as pilot:
        report(app, f"Launched {text}", title="Launch")
        (toast,) = await toasts(app, pilot)
        assert toast == f"Launch\nLaunched {shown(text)}"


@EXAMPLES
@given(text=OUTSIDE)
async def test_a_confirmation_prompt_shows_the_name_literally(text: str) -> None:
    app = Host()
    async with app.run_test() as pilot:
        await app.push_screen(ConfirmScreen(f"Terminate run of {text}?"))
        await pilot.pause()
        question = app.screen.query_one("#question", Static)
        rendered = question.render()
        assert isinstance(rendered, Content) and rendered.plain == f"Terminate run of {shown(text)}?"


@EXAMPLES
@given(text=OUTSIDE)
async def test_a_border_title_shows_the_name_literally(text: str) -> None:
    app = Host()
    async with app.run_test() as pilot:
        await app.push_screen(ServiceDetailScreen(ServiceState.missing(text)))
        await pilot.pause()
        titled = [w for w in app.screen.query("*") if w.border_title]
        assert titled and titled[0]._border_title is not None
        assert titled[0]._border_title.plain == f"Service {shown(text)}"


@EXAMPLES
@given(text=OUTSIDE)
async def test_a_header_state_shows_the_text_literally(text: str) -> None:
    app = Host()
    # Wide enough for the whole text: a narrower header shortens it (tested in test_layout.py).
    async with app.run_test(size=(400, 10)) as pilot:
        header = app.query_one(BackendHeader)
        header.set_backend("webserver", "error", f"unreachable: {text}")
        await pilot.pause()
        assert f"unreachable: {shown(text)}" in header.render().plain


def test_literal_keeps_line_breaks_and_parses_nothing() -> None:
    text = literal("a [b]c[/b]\n\x1b[2Jroot:ops:[x]")
    assert text.plain == "a [b]c[/b]\n␛[2Jroot:ops:[x]" and not text.spans
