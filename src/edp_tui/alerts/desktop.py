"""Desktop notifications by terminal escape: OSC 9 (iTerm2, Windows Terminal, ConEmu, kitty, WezTerm,
Ghostty) and OSC 777 (foot, urxvt, VTE terminals, WezTerm, Ghostty). Only where the terminal is known to
support one: an unknown terminal (or tmux, which drops them without passthrough) gets nothing."""

from __future__ import annotations

from collections.abc import Mapping

from edp_tui.text import printable

OSC9 = "osc9"
OSC777 = "osc777"


def desktop_protocols(env: Mapping[str, str]) -> tuple[str, ...]:
    if env.get("TMUX") or env.get("STY"):
        return ()
    program = env.get("TERM_PROGRAM", "")
    term = env.get("TERM", "")
    if program in ("WezTerm", "ghostty") or term == "xterm-ghostty":
        return (OSC777,)  # both known: one notification, not two
    if program == "iTerm.app" or env.get("WT_SESSION") or env.get("ConEmuPID") or term == "xterm-kitty":
        return (OSC9,)
    if term.startswith(("foot", "rxvt")) or env.get("VTE_VERSION"):
        return (OSC777,)
    return ()


def _safe(text: str, limit: int = 200) -> str:
    # Outside text: control characters made visible, so nothing in it can end the escape or start another.
    return printable(" ".join(text.split()))[:limit]


def desktop_escape(protocol: str, title: str, text: str) -> str:
    if protocol == OSC9:
        return f"\x1b]9;{_safe(title)}: {_safe(text)}\x07"
    return f"\x1b]777;notify;{_safe(title).replace(';', ',')};{_safe(text)}\x07"
