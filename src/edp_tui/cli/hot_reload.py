"""The code server's reload-on-save statuses (one per code location) in the CLI: as JSON for ``status
--json``, as lines for people, and the check ``reload`` makes after asking for a reload (the supervisor may
refuse a broken change). Every piece of the documents is outside text: printed through `printable`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from edp_tui import backends
from edp_tui.cli.common import Context
from edp_tui.compose import ComposeError
from edp_tui.errors import EdpError
from edp_tui.reload_status.models import Reload, ReloadError, ReloadStatus
from edp_tui.text import printable
from edp_tui.util import fmt

if TYPE_CHECKING:  # the reader needs the docker SDK: imported when used (see edp_tui.backends)
    from edp_tui.reload_status.reader import ContainerReloadStatus, ReloadStatuses

# How long `reload` waits for the supervisor to publish the reload it just served or refused.
PUBLISH_WAIT_S = 10.0


def status_source(context: Context, *, same_webserver: bool = False) -> ContainerReloadStatus | None:
    """The compose project's user-code status; None without Compose, or (``same_webserver``) when the
    configured webserver is not the one the compose file publishes (its code server is somewhere else)."""
    try:
        compose = context.compose_project()
    except ComposeError:
        return None
    if same_webserver and context.config.webserver_url:
        if context.config.webserver_url.rstrip("/") != (compose.webserver_url() or "").rstrip("/"):
            return None
    from edp_tui.reload_status.reader import ContainerReloadStatus

    return ContainerReloadStatus(compose.name, backends.docker_endpoint(context.config))


def read(context: Context, *, same_webserver: bool = False) -> tuple[ReloadStatuses, str | None]:
    """(statuses by location, None); ({}, None) when the supervisor published none; ({}, why it could not
    be read)."""
    source = status_source(context, same_webserver=same_webserver)
    if source is None:
        return {}, None
    try:
        return source.read(), None
    except EdpError as exc:
        return {}, str(exc)
    finally:
        source.close()


def error_json(error: ReloadError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"kind": error.kind, "file": error.file, "line": error.line, "text": error.text}


def reload_json(reload: Reload) -> dict[str, Any]:
    return {
        "id": reload.id,
        "trigger": reload.trigger,
        "outcome": reload.outcome,
        "files": list(reload.files),
        "phases": {p.name: p.after_s for p in reload.phases},
        "dbt_parse": reload.dbt_parse,
        "diff": reload.diff.summary() if reload.diff else None,
        "error": error_json(reload.error),
    }


def section(status: ReloadStatus | None, error: str | None) -> dict[str, Any]:
    """The ``reload`` section of ``status --json`` (docs/cli.md)."""
    if status is None:
        return {"available": False, "error": error}
    pending = status.pending_failure
    return {
        "available": True,
        "error": None,
        "auto_reload": status.auto_reload,
        "watch": status.watch_state,
        "mode": status.watch_mode,
        "last_good_load_at": status.last_good_load_at,
        "pending_failure": None
        if pending is None
        else {"reload_id": pending.reload_id, "message": pending.message, "error": error_json(pending.error)},
        "last_reload": reload_json(status.last) if status.last else None,
        "warnings": list(status.warnings),
    }


def failure_lines(message: str, error: ReloadError | None) -> list[str]:
    where = f" in {printable(error.where)}" if error and error.where else ""
    kind = printable(error.kind) if error else "?"
    lines = [f"change not served ({kind} error{where}): {printable(message)}"]
    lines += [f"  {printable(line)}" for line in (error.text if error else "").splitlines()]
    return lines


def render(report: dict[str, Any], location: str | None = None) -> list[str]:
    """Lines for ``status``: the watcher, the last reload, a pending failure (``location``: which location
    they are of, when there are several; its load warnings are listed with the code locations)."""
    title = f"Hot reload {printable(location)}" if location else "Hot reload"
    if not report.get("available"):
        return [f"{title}: status unavailable: {printable(report['error'])}"] if report.get("error") else []
    state = "off (reloads only when asked)" if not report["auto_reload"] else printable(str(report["watch"]))
    line = f"{title}: {state}" + (f" ({printable(str(report['mode']))})" if report.get("mode") else "")
    last = report.get("last_reload")
    if last:
        took = max((v for v in last["phases"].values() if v is not None), default=None)
        trigger, outcome = printable(str(last["trigger"])), printable(str(last["outcome"]))
        line += f" · last reload #{last['id']} ({trigger}) {outcome} in {fmt.duration(took)}"
        if last.get("diff"):
            line += f", {last['diff']}"
    lines = [line]
    pending = report.get("pending_failure")
    if pending:
        error = pending["error"]
        lines += [
            "  !! " + printable(text) if i == 0 else "  " + text
            for i, text in enumerate(
                failure_lines(
                    pending["message"],
                    ReloadError(error["kind"], error["file"], error["line"], error["text"])
                    if error
                    else None,
                )
            )
        ]
    return lines


def refused_since(context: Context, location: str, last_id: int) -> Reload | None:
    """The reload the supervisor made of ``location`` after ``last_id`` on a request (trigger grpc), once
    published; None when it served, or when no status can be read (a stack without the supervisor)."""
    source = status_source(context, same_webserver=True)
    if source is None:
        return None
    deadline = time.monotonic() + PUBLISH_WAIT_S
    try:
        while True:
            try:
                status = source.read().get(location)
            except EdpError:
                return None
            if status is None:
                return None
            requested = [r for r in status.after(last_id) if r.trigger == "grpc"]
            if requested:
                newest = requested[-1]
                return None if newest.served else newest
            if time.monotonic() > deadline:
                return None
            time.sleep(0.25)
    finally:
        source.close()
