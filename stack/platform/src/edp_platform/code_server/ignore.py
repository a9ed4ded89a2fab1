"""Which changed paths a reload ignores: build output, caches and editors' temporary files.

Pure functions of the path's parts, so the watcher and the dbt input hash agree on what counts.
"""

from __future__ import annotations

import fnmatch
from pathlib import PurePath

# Folders whose whole content is output or cache (dbt's target/ and logs/, Python and tool caches, VCS).
IGNORED_DIRS = frozenset(
    {
        "target",
        "logs",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".git",
        ".hg",
        ".svn",
        ".idea",
        ".vscode",
        "node_modules",
        ".venv",
    }
)
IGNORED_DIR_SUFFIXES = (".egg-info",)

# Editors' swap/backup/atomic-save files and compiled or OS files.
IGNORED_FILE_PATTERNS = (
    "*.pyc",
    "*.pyo",
    "*.swp",
    "*.swo",
    "*.swx",
    ".*.sw?",
    "*~",
    ".#*",  # emacs lock files
    "#*#",  # emacs auto-save
    "4913",  # vim's "can I write here" probe
    "*.tmp",
    "*.temp",
    "*.bak",
    "*.orig",
    "*.kate-swp",
    "*___jb_tmp___",  # JetBrains safe write
    "*___jb_old___",
    ".DS_Store",
    "Thumbs.db",
    ".~lock.*#",
    ".user.yml",  # dbt's anonymous-usage cookie, written beside profiles.yml
)


def is_ignored_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in IGNORED_FILE_PATTERNS)


def is_ignored_dir(name: str) -> bool:
    return name in IGNORED_DIRS or name.endswith(IGNORED_DIR_SUFFIXES)


def is_ignored(path: str | PurePath, root: str | PurePath | None = None) -> bool:
    """True when a change of `path` must not trigger a reload.

    Only the parts below `root` (the watched folder) are judged, so a watched folder that itself lives under,
    say, /tmp/logs/ still works.
    """
    pure = PurePath(path)
    if root is not None:
        try:
            pure = pure.relative_to(root)
        except ValueError:
            pass
    parts = pure.parts
    if not parts:
        return False
    if any(is_ignored_dir(part) for part in parts[:-1]):
        return True
    return is_ignored_dir(parts[-1]) or is_ignored_name(parts[-1])


class ReloadFilter:
    """A watchfiles `watch_filter` (any callable of change and path) built on is_ignored, relative to the
    watched roots. No watchfiles import here: the code location imports this module too (project.py)."""

    def __init__(self, roots: list[str]) -> None:
        self._roots = sorted((str(PurePath(r)) for r in roots), key=len, reverse=True)

    def __call__(self, change: object, path: str) -> bool:
        root = next((r for r in self._roots if path == r or path.startswith(r.rstrip("/") + "/")), None)
        return not is_ignored(path, root)
