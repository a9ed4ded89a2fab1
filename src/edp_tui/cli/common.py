"""What every CLI command shares: its context, exit codes, messages, errors, tables, the Dagster runner.

Conventions of every command:
- results go to stdout, progress and messages to stderr (``edp-tui launch JOB`` prints only the run id);
- exit codes: 0 ok; 1 something is unhealthy / the run or the reload failed; 2 usage, configuration or
  unreachable-endpoint errors (``edp-tui: <message>`` on stderr); 3 ``--wait`` gave up (timeout);
- every piece of outside text (names, error messages, compute logs) goes through `printable` (control
  characters made visible), so no terminal control sequence from a log or an error reaches the terminal.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, NoReturn, TypeVar

import click

from edp_tui import backends
from edp_tui.compose import ComposeError, ComposeProject, resolve_project
from edp_tui.config import Config
from edp_tui.dagster.client import DagsterClient
from edp_tui.dagster.errors import (
    DagsterError,
    DagsterGraphQLError,
    DagsterHTTPError,
    DagsterPythonError,
    DagsterUnreachable,
    ReadOnlyRefused,
    RunConfigInvalid,
)
from edp_tui.errors import EdpError
from edp_tui.text import printable
from edp_tui.util.backoff import Backoff

T = TypeVar("T")

EXIT_OK = 0
EXIT_UNHEALTHY = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3


class Context:
    """What every subcommand receives: the merged configuration, and Compose's resolution on demand."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._compose: ComposeProject | None = None

    def compose_project(self) -> ComposeProject:
        if self._compose is None:
            self._compose = resolve_project(
                self.config.compose_file,
                env_file=self.config.env_file,
                project_name=self.config.project,
                docker_host=self.config.docker_host,
            )
        return self._compose

    def webserver_url(self) -> str:
        """The configured URL, else the port the compose file publishes, else the default."""
        if self.config.webserver_url:
            return backends.webserver_url(self.config, None)
        try:
            compose: ComposeProject | None = self.compose_project()
        except ComposeError:
            # Dagster commands do not need Compose: a stack run some other way answers on the default URL.
            compose = None
        return backends.webserver_url(self.config, compose)

    def dagster_client(self, timeout: float = 10.0) -> DagsterClient:
        """The CLI's one Dagster client (tests replace this method to serve captured answers)."""
        return backends.dagster_client(self.config, self.webserver_url(), timeout=timeout)


class CliFailure(EdpError):
    """Stops a command with ``edp-tui: <message>`` on stderr and the given exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str) -> NoReturn:
    """Outside a command (configuration, Compose resolution): the message and exit code 2."""
    click.echo(f"edp-tui: {message}", err=True)
    sys.exit(EXIT_USAGE)


def die(message: str, code: int = EXIT_USAGE) -> NoReturn:
    raise CliFailure(message, code)


def note(message: str) -> None:
    """Progress and explanations: stderr, so that stdout stays machine-readable."""
    click.echo(message, err=True)


def context_of(ctx: click.Context) -> Context:
    obj = ctx.find_object(Context)
    if obj is None:  # only when a command is invoked without the group (a programming error)
        raise click.UsageError("edp-tui subcommands must run under the edp-tui group")
    return obj


def refuse_if_read_only(context: Context, action: str) -> None:
    if context.config.read_only:
        die(
            f"read-only mode: {action} refused "
            "(read-only comes from --read-only, EDP_TUI_READ_ONLY or read_only in the config file)"
        )


def run_dagster(
    context: Context, work: Callable[[DagsterClient], Awaitable[T]], *, timeout: float = 10.0
) -> T:
    """Run ``work`` with a client on a fresh event loop, turning Dagster errors into clear exits."""

    async def runner() -> T:
        async with context.dagster_client(timeout=timeout) as client:
            return await work(client)

    try:
        return asyncio.run(runner())
    except KeyboardInterrupt:
        die("interrupted (a run already launched goes on)", 130)
    except DagsterUnreachable as exc:
        die(f"{printable(str(exc))} (is the stack up? `edp-tui status`; set the URL with --webserver-url)")
    except ReadOnlyRefused as exc:
        die(printable(str(exc)))
    except RunConfigInvalid as exc:
        lines = [f"Dagster rejected the run config for {printable(exc.job_name)}; nothing was launched:"]
        for error in exc.errors:
            where = f"{printable(error.path)}: " if error.path else ""
            lines.append(f"  {where}{printable(error.message)}")
        die("\n".join(lines))
    except DagsterError as exc:
        die(shorten(str(exc)))


def shorten(text: str, limit: int = 400) -> str:
    """One terminal-safe line of at most ``limit`` characters (GraphQL errors can carry whole SQL queries)."""
    text = printable(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


# Failures that can pass while the stack recovers (a webserver restart, a database reconnect): commands
# that wait (launch --wait, logs --follow) retry them with backoff instead of giving up at once.
TRANSIENT = (DagsterUnreachable, DagsterGraphQLError, DagsterHTTPError, DagsterPythonError)
MAX_CONSECUTIVE_FAILURES = 10
RETRY_BASE_S = 0.5
RETRY_MAX_S = 15.0


class Retry:
    """Consecutive-failure budget with exponential backoff (0.5 s doubling up to 15 s: about 2 minutes)."""

    def __init__(self, limit: int = MAX_CONSECUTIVE_FAILURES) -> None:
        self._backoff = Backoff(RETRY_BASE_S, RETRY_MAX_S, limit=limit)

    async def failed(self, exc: Exception, what: str) -> None:
        """Sleep before the next attempt, or re-raise ``exc`` once the budget is spent."""
        delay = self._backoff.failed()
        if self._backoff.exhausted:
            raise exc
        note(f"  {what}: {shorten(str(exc), 200)}; retrying in {delay:.1f}s")
        await asyncio.sleep(delay)

    def ok(self) -> None:
        self._backoff.reset()


def with_failures(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: CliFailure -> message on stderr + exit code (click's own errors keep their handling)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CliFailure as exc:
            click.echo(f"edp-tui: {exc}", err=True)
            sys.exit(exc.code)

    return wrapper


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], indent: str = "  ") -> list[str]:
    """A plain aligned table (no box drawing: output must survive `| grep` and dumb terminals)."""
    rows = [list(map(str, r)) for r in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], len(cell))
    out = []
    for row in [list(headers), *rows]:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        out.append(indent + "  ".join(cells).rstrip())
    return out
