"""The alert command of the config file: run without a shell, the event as JSON on stdin and as
``EDP_ALERT_KIND``, ``EDP_ALERT_ID``, ``EDP_ALERT_TITLE``, ``EDP_ALERT_TEXT``, ``EDP_ALERT_SUBJECT`` in its
environment (e.g. ``[curl, -sS, -d, "@-", https://hooks.example/…]`` posts the JSON)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence

from edp_tui.alerts.events import AlertEvent

TIMEOUT_S = 30.0


def run_alert_command(argv: Sequence[str], event: AlertEvent, *, timeout: float = TIMEOUT_S) -> str | None:
    """Run it (blocking: call from a thread); None when it succeeded, else what went wrong."""
    env = dict(os.environ)
    env.update(
        EDP_ALERT_KIND=event.kind,
        EDP_ALERT_ID=event.id,
        EDP_ALERT_TITLE=event.title,
        EDP_ALERT_TEXT=event.text,
        EDP_ALERT_SUBJECT=event.subject,
    )
    try:
        done = subprocess.run(
            list(argv),
            input=json.dumps(event.to_json()),
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return f"alert command {argv[0]!r} not found"
    except subprocess.TimeoutExpired:
        return f"alert command {argv[0]!r} still running after {timeout:.0f}s: stopped"
    except OSError as exc:
        return f"alert command {argv[0]!r} cannot run: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        return f"alert command {argv[0]!r} exited with {done.returncode}" + (f": {last}" if last else "")
    return None
