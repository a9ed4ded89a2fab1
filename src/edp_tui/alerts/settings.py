"""`AlertSettings`: the ``alerts:`` section of the config file (see docs/configuration.md).

```yaml
alerts:
  kinds: {check_failed: false}      # every kind is on unless switched off here
  bell: true                        # the terminal bell
  desktop: true                     # OSC 9 / OSC 777 desktop-notification escapes
  command: [notify-send, edp-tui]   # run without a shell; the event as JSON on stdin and EDP_ALERT_* env
  max_per_minute: 10                # more in one minute are counted, not shown
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from edp_tui.alerts.events import KINDS

DEFAULT_MAX_PER_MINUTE = 10


class AlertSettingsError(ValueError):
    """The ``alerts:`` section is invalid: the message says which entry and why."""


@dataclass(frozen=True)
class AlertSettings:
    kinds: frozenset[str] = field(default_factory=lambda: frozenset(KINDS))
    bell: bool = True
    desktop: bool = True
    command: tuple[str, ...] = ()
    max_per_minute: int = DEFAULT_MAX_PER_MINUTE

    def enabled(self, kind: str) -> bool:
        return kind in self.kinds


_KEYS = ("kinds", "bell", "desktop", "command", "max_per_minute")


def _flag(raw: object, where: str) -> bool:
    if not isinstance(raw, bool):
        raise AlertSettingsError(f"{where}: expected true or false, got {raw!r}")
    return raw


def parse_alert_settings(raw: object) -> AlertSettings:
    """The section as read from YAML; raises `AlertSettingsError` (the caller adds the file's name)."""
    if raw is None:
        return AlertSettings()
    if not isinstance(raw, Mapping):
        raise AlertSettingsError(f"expected a mapping ({', '.join(_KEYS)}), got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in _KEYS)
    if unknown:
        raise AlertSettingsError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(_KEYS)}")
    kinds = set(KINDS)
    switches = raw.get("kinds") or {}
    if not isinstance(switches, Mapping):
        raise AlertSettingsError(f"kinds: expected a mapping of kind to true/false, got {switches!r}")
    for kind, on in switches.items():
        if kind not in KINDS:
            raise AlertSettingsError(f"kinds: unknown kind {kind!r}; known: {', '.join(KINDS)}")
        if not _flag(on, f"kinds: {kind}"):
            kinds.discard(kind)
    command = raw.get("command") or []
    if isinstance(command, str):
        raise AlertSettingsError(
            "command: expected a list (program and arguments, run without a shell), got a string"
        )
    if not isinstance(command, list) or not all(isinstance(a, str) and a for a in command):
        raise AlertSettingsError(f"command: expected a list of non-empty strings, got {command!r}")
    limit = raw.get("max_per_minute", DEFAULT_MAX_PER_MINUTE)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise AlertSettingsError(f"max_per_minute: expected a whole number of at least 1, got {limit!r}")
    return AlertSettings(
        kinds=frozenset(kinds),
        bell=_flag(raw.get("bell", True), "bell"),
        desktop=_flag(raw.get("desktop", True), "desktop"),
        command=tuple(command),
        max_per_minute=limit,
    )
