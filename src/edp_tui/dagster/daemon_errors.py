"""How old a daemon's errors are, told from its heartbeats. No Textual here.

Dagster puts every error a daemon had in the last five minutes (its error interval) into each heartbeat,
newest first, whether or not the daemon recovered since, and says nothing of when each one happened
(``DaemonStatus.lastHeartbeatErrors``: message and class only). So four minutes after PostgreSQL came back
the sensor daemon's heartbeats still carry ``OperationalError: server closed the connection``.

What the heartbeats do tell: a heartbeat that carries no error the previous one did not carry (the list only
lost its oldest entries, as they expired) proves that the daemon's loop went round since without failing.
From that heartbeat on, its errors are *past*: history, not a current problem. `ErrorsSeen` keeps that per
daemon across observations; `DaemonErrorHistory` keeps it per webserver in a small JSON file, so that the
CLI's one-shot `status` knows what an earlier `status` or a running dashboard saw.

Limit: two errors with the same text, one expiring as the other arrives within one heartbeat, look like
none (Dagster sends no time and no id); a daemon failing that regularly shows errors again at its next
different one.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Dagster's DAEMON_HEARTBEAT_ERROR_LIMIT: a heartbeat carries at most this many errors.
HEARTBEAT_ERROR_LIMIT = 5
# How often a daemon heartbeats (Dagster's default interval; the scheduler's loop takes longer).
HEARTBEAT_EVERY_S = 30.0
SCHEDULER_HEARTBEAT_EVERY_S = 60.0


def heartbeat_every(daemon_type: str) -> float:
    return SCHEDULER_HEARTBEAT_EVERY_S if daemon_type == "SCHEDULER" else HEARTBEAT_EVERY_S


log = logging.getLogger("edp_tui")


@dataclass(frozen=True)
class ErrorsSeen:
    """One daemon's errors as observed over its heartbeats."""

    heartbeat: float  # the heartbeat these errors came with (epoch seconds)
    errors: tuple[str, ...]  # newest first, as Dagster lists them
    # Per error, the first heartbeat seen carrying it: it happened before that (and, unless it was there at
    # the first observation, after the heartbeat before it).
    first_seen: tuple[float, ...]
    watched_from: float  # the first heartbeat observed: errors seen in it may be older
    # The heartbeat from which on no new error came (None: the newest error may be happening still).
    quiet_since: float | None = None

    @property
    def past(self) -> bool:
        """Every error is older than a heartbeat that brought no new one: history."""
        return bool(self.errors) and self.quiet_since is not None

    def age_known(self, index: int) -> bool:
        return self.first_seen[index] > self.watched_from

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ErrorsSeen:
        return cls(
            heartbeat=float(raw["heartbeat"]),
            errors=tuple(str(e) for e in raw["errors"]),
            first_seen=tuple(float(t) for t in raw["first_seen"]),
            watched_from=float(raw["watched_from"]),
            quiet_since=None if raw.get("quiet_since") is None else float(raw["quiet_since"]),
        )


def observe(previous: ErrorsSeen | None, heartbeat: float | None, errors: tuple[str, ...]) -> ErrorsSeen:
    """What is known after seeing ``errors`` in the heartbeat at ``heartbeat``, given what was known."""
    hb = heartbeat or 0.0
    if previous is None or hb < previous.heartbeat:  # first sight, or another daemon process started over
        return ErrorsSeen(hb, errors, (hb,) * len(errors), hb)
    if hb == previous.heartbeat:
        return previous  # the same heartbeat read again: nothing new
    if not errors:
        return ErrorsSeen(hb, (), (), previous.watched_from)
    old = previous.errors
    # Expired errors leave from the end; new ones come in at the front: how many are new?
    new = next(k for k in range(len(errors) + 1) if errors[k:] == old[: len(errors) - k])
    if new == 0 and not (len(errors) == HEARTBEAT_ERROR_LIMIT and errors == old):
        # Nothing new since the previous heartbeat (a full, unchanged list could hide a new error).
        quiet = previous.quiet_since if previous.quiet_since is not None else previous.heartbeat
        return ErrorsSeen(hb, errors, previous.first_seen[: len(errors)], previous.watched_from, quiet)
    first_seen = (hb,) * new + previous.first_seen[: len(errors) - new]
    return ErrorsSeen(hb, errors, first_seen, previous.watched_from)


class DaemonErrorHistory:
    """`ErrorsSeen` per daemon type of one webserver, kept in memory and (with ``path``) in a JSON file shared
    by every edp-tui process of the user: the dashboard and the CLI read and write it."""

    def __init__(self, key: str, path: Path | None = None) -> None:
        self.key = key
        self.path = path
        self.seen: dict[str, ErrorsSeen] = {}
        self._loaded = False

    def observe(self, daemon_type: str, heartbeat: float | None, errors: tuple[str, ...]) -> ErrorsSeen:
        if not self._loaded:
            self._loaded = True
            self.seen = {**self._read(), **self.seen}
        before = self.seen.get(daemon_type)
        after = observe(before, heartbeat, errors)
        self.seen[daemon_type] = after
        if after != before and (after.errors or (before is not None and before.errors)):
            self._write()  # only while errors come or go: at rest, nothing is written
        return after

    def _read(self) -> dict[str, ErrorsSeen]:
        if self.path is None:
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {t: ErrorsSeen.from_json(s) for t, s in (raw.get(self.key) or {}).items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("daemon error history %s unreadable, starting afresh: %s", self.path, exc)
            return {}

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            try:
                document = json.loads(self.path.read_text(encoding="utf-8"))
                if not isinstance(document, dict):
                    document = {}
            except (OSError, ValueError):
                document = {}
            document[self.key] = {t: s.to_json() for t, s in self.seen.items()}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Replaced whole: another edp-tui process never reads half a file.
            with tempfile.NamedTemporaryFile(
                "w", dir=self.path.parent, prefix=".daemon-errors-", delete=False, encoding="utf-8"
            ) as handle:
                json.dump(document, handle)
            os.replace(handle.name, self.path)
        except OSError as exc:
            log.warning("cannot keep the daemon error history in %s: %s", self.path, exc)
