"""Frozen views of the supervisor's ``edp-reload-status/1`` document (schema: docs/hot-reload.md), one per
code location (its ``location`` names it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edp_tui.errors import EdpError

SCHEMA = "edp-reload-status/1"
PHASES = ("change_seen", "checked", "loaded", "served")
KINDS = ("assets", "jobs", "schedules", "sensors")


class ReloadStatusError(EdpError):
    """The status document is missing, unreadable or of another schema."""

    title = "Hot reload"


def _time(raw: object) -> float | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _strings(raw: object) -> tuple[str, ...]:
    return tuple(str(x) for x in raw) if isinstance(raw, list) else ()


@dataclass(frozen=True)
class ReloadError:
    kind: str  # "python" | "dbt"
    file: str | None
    line: int | None
    text: str

    @classmethod
    def parse(cls, raw: Any) -> ReloadError | None:
        if not isinstance(raw, dict):
            return None
        line = raw.get("line")
        return cls(
            kind=str(raw.get("kind") or "?"),
            file=raw.get("file") or None,
            line=line if isinstance(line, int) else None,
            text=str(raw.get("text") or ""),
        )

    @property
    def where(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class Phase:
    name: str
    at: float | None
    after_s: float | None
    duration_s: float | None


@dataclass(frozen=True)
class DefinitionsDiff:
    added: dict[str, tuple[str, ...]]
    removed: dict[str, tuple[str, ...]]

    @classmethod
    def parse(cls, raw: Any) -> DefinitionsDiff | None:
        if not isinstance(raw, dict):
            return None
        added, removed = {}, {}
        for kind in KINDS:
            entry = raw.get(kind) or {}
            added[kind] = _strings(entry.get("added"))
            removed[kind] = _strings(entry.get("removed"))
        return cls(added, removed)

    @property
    def empty(self) -> bool:
        return not any(self.added.values()) and not any(self.removed.values())

    def summary(self) -> str:
        """``+2 assets, -1 job`` (kinds with no change left out); "no change" when nothing moved."""
        parts = []
        for kind in KINDS:
            for sign, names in (("+", self.added[kind]), ("-", self.removed[kind])):
                if names:
                    parts.append(f"{sign}{len(names)} {kind if len(names) > 1 else kind.removesuffix('s')}")
        return ", ".join(parts) or "no change"


@dataclass(frozen=True)
class Reload:
    id: int
    trigger: str  # "watch" | "grpc" | "startup"
    files: tuple[str, ...]
    phases: tuple[Phase, ...]
    outcome: str  # "served" | "failed" | "failed_serving_error"
    dbt_parse: str
    error: ReloadError | None
    diff: DefinitionsDiff | None

    @classmethod
    def parse(cls, raw: Any) -> Reload:
        phases_raw = raw.get("phases") or {}
        phases = tuple(
            Phase(
                name,
                _time((phases_raw.get(name) or {}).get("at")),
                (phases_raw.get(name) or {}).get("after_s"),
                (phases_raw.get(name) or {}).get("duration_s"),
            )
            for name in PHASES
            if isinstance(phases_raw.get(name), dict)
        )
        return cls(
            id=int(raw.get("id") or 0),
            trigger=str(raw.get("trigger") or "?"),
            files=_strings(raw.get("files")),
            phases=phases,
            outcome=str(raw.get("outcome") or "?"),
            dbt_parse=str(raw.get("dbt_parse") or "?"),
            error=ReloadError.parse(raw.get("error")),
            diff=DefinitionsDiff.parse(raw.get("diff")),
        )

    @property
    def served(self) -> bool:
        return self.outcome == "served"

    @property
    def started_at(self) -> float | None:
        return self.phases[0].at if self.phases else None

    @property
    def took_s(self) -> float | None:
        """From the change seen to the last phase reached."""
        return self.phases[-1].after_s if self.phases else None

    def phase_line(self) -> str:
        """``checked +0.31s · loaded +1.20s · served +1.21s`` (times since the change was seen)."""
        return " · ".join(
            f"{p.name.replace('_', ' ')} +{p.after_s:.2f}s" for p in self.phases[1:] if p.after_s is not None
        )


@dataclass(frozen=True)
class PendingFailure:
    reload_id: int
    since: float | None
    message: str  # "still serving the definitions loaded at HH:MM:SS"
    error: ReloadError | None


@dataclass(frozen=True)
class ReloadStatus:
    location: str
    auto_reload: bool
    watch_state: str
    watch_mode: str | None
    watch_error: str | None
    in_progress: bool
    serving_server_id: str | None
    last_good_load_at: float | None
    pending_failure: PendingFailure | None
    reloads: tuple[Reload, ...]  # oldest first
    updated_at: float | None
    # What the user's code warned about while the served definitions loaded (``warnings.warn``): outside text.
    warnings: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Any) -> ReloadStatus:
        if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
            schema = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
            raise ReloadStatusError(f"reload status: expected schema {SCHEMA}, got {schema!r}")
        watch = raw.get("watch") or {}
        serving = raw.get("serving") or {}
        pending = raw.get("pending_failure")
        return cls(
            location=str(raw.get("location") or "?"),
            auto_reload=bool(raw.get("auto_reload")),
            watch_state=str(watch.get("state") or "?"),
            watch_mode=watch.get("mode"),
            watch_error=watch.get("error"),
            in_progress=bool(raw.get("in_progress")),
            serving_server_id=serving.get("server_id"),
            last_good_load_at=_time(raw.get("last_good_load_at")),
            pending_failure=(
                PendingFailure(
                    int(pending.get("reload_id") or 0),
                    _time(pending.get("since")),
                    str(pending.get("message") or ""),
                    ReloadError.parse(pending.get("error")),
                )
                if isinstance(pending, dict)
                else None
            ),
            reloads=tuple(Reload.parse(r) for r in raw.get("reloads") or [] if isinstance(r, dict)),
            updated_at=_time(raw.get("updated_at")),
            warnings=_strings(serving.get("warnings")),
        )

    @property
    def last(self) -> Reload | None:
        return self.reloads[-1] if self.reloads else None

    def after(self, reload_id: int) -> list[Reload]:
        return [r for r in self.reloads if r.id > reload_id]
