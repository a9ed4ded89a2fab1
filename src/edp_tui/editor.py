"""The user's editor on a file at a line: ``$VISUAL``, else ``$EDITOR``, else ``vi``, with the line argument
the editor understands (``+LINE FILE`` for the vi family, nano, emacs, micro; ``--goto FILE:LINE`` for VS
Code; ``FILE:LINE`` for Sublime Text, Zed and Helix). The variable may hold arguments (``code --wait``)."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

GOTO = {"code", "code-insiders", "codium"}
COLON = {"subl", "zed", "hx", "helix"}


def editor_argv(path: Path, line: int | None, env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    words = shlex.split(env.get("VISUAL") or env.get("EDITOR") or "vi") or ["vi"]
    name = Path(words[0]).name
    if line is None:
        return [*words, str(path)]
    if name in GOTO:
        return [*words, "--goto", f"{path}:{line}"]
    if name in COLON:
        return [*words, f"{path}:{line}"]
    return [*words, f"+{line}", str(path)]
