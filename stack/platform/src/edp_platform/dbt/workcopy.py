"""The platform's working copy of a user's dbt project: folders mirrored, files linked, dbt's output its own.

dbt writes into the project folder itself (`dbt deps` into `packages-install-path` and `package-lock.yml`; a
project may also name target/ and logs/ there), and has no setting to move the packages folder elsewhere. The
user's project is mounted read-only, so dbt runs in a copy the platform owns (a volume in the compose stack):
every folder of the project is a folder of the copy, every file a symbolic link to the user's file (so a save
is seen at once, and a 1 GB seed is not copied), and the packages folder, package-lock.yml, target/ and logs/
are real entries of the copy that nothing mirrors. dbt names files relative to the project, so its messages
read the same as in the user's project.

A `local:` package outside the project (`local: ../shared_macros`) is linked at the same relative place
beside the copy, so that dbt finds it where the project says it is.

`sync` is cheap when nothing changed (a walk and a readlink per file) and removes what the user removed.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from edp_platform.code_server.ignore import is_ignored_dir, is_ignored_name
from edp_platform.dbt.inputs import read_regular
from edp_platform.errors import PlatformError

# Entries of the copy that are dbt's own output, never mirrored from (nor removed because of) the user's tree.
OWN_ENTRIES = frozenset({"target", "logs", "package-lock.yml"})
PACKAGE_FILES = ("packages.yml", "dependencies.yml")


class WorkCopyError(PlatformError):
    """The working copy cannot be made (a package outside the code, a file the platform cannot link)."""


@dataclass(frozen=True)
class WorkCopy:
    """Where the platform keeps one location's dbt project and what dbt writes for it."""

    source: Path  # the user's project (read-only for the platform)
    base: Path  # this location's dbt folder (a volume in the compose stack)
    log_dir: Path  # dbt's logs of the platform's own commands (another volume in the compose stack)

    @property
    def project_dir(self) -> Path:
        # One level below `base/copy`, so that `local: ../x` packages land inside `base` too.
        return self.base / "copy" / self.source.name

    @property
    def target_dir(self) -> Path:
        return self.base / "target"


def read_yaml(path: Path) -> object:
    """A YAML file of the user's project the platform reads itself, or None: missing, unreadable, not a
    regular file (a FIFO is never waited on), too large or not YAML."""
    data = read_regular(path, limit=1 << 20)
    if data is None:
        return None
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return None


def packages_install_path(project_dir: Path) -> str:
    """dbt_project.yml's packages-install-path (dbt's default dbt_packages); only a plain relative name is
    honoured, anything else (a Jinja expression, an absolute path) falls back to the default."""
    config = read_yaml(project_dir / "dbt_project.yml")
    value = config.get("packages-install-path") if isinstance(config, dict) else None
    if (
        isinstance(value, str)
        and value
        and "{" not in value
        and not os.path.isabs(value)
        and ".." not in value
    ):
        return value.strip("/")
    return "dbt_packages"


def local_packages(project_dir: Path) -> list[str]:
    """The relative `local:` paths of packages.yml / dependencies.yml."""
    found: list[str] = []
    for name in PACKAGE_FILES:
        doc = read_yaml(project_dir / name)
        for entry in doc.get("packages") or [] if isinstance(doc, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("local"), str):
                local = entry["local"]
                if not os.path.isabs(local):
                    found.append(local)
    return found


def outside_packages(source: Path) -> list[Path]:
    """The folders of `local:` packages that lie outside the project (watched with it: a save there changes
    what dbt parses)."""
    found = []
    root = source.resolve()
    for local in local_packages(source):
        path = (source / local).resolve()
        if path != root and root not in path.parents and path.is_dir():
            found.append(path)
    return found


def sync(copy: WorkCopy) -> int:
    """Make the copy mirror the source; returns how many entries changed."""
    source = copy.source.resolve()
    dest = copy.project_dir
    dest.mkdir(parents=True, exist_ok=True)
    packages = packages_install_path(source)
    own = OWN_ENTRIES | {packages.split("/")[0]}
    changed = _mirror(source, dest, own_top=own)
    for local in local_packages(source):
        changed += _link_outside(copy, source, local)
    return changed


def _mirror(source: Path, dest: Path, *, own_top: frozenset[str] | set[str]) -> int:
    changed = 0
    for dirpath, dirnames, filenames in os.walk(source):
        here = Path(dirpath)
        rel = here.relative_to(source)
        top = rel == Path(".")
        dirnames[:] = sorted(d for d in dirnames if not is_ignored_dir(d) and not (top and d in own_top))
        for name in [*dirnames, *(f for f in filenames if not is_ignored_name(f))]:
            _check_name(here / name, source)
        target = dest / rel
        wanted_dirs = set(dirnames)
        wanted_files = {
            f
            for f in filenames
            if not is_ignored_name(f) and not (top and f in own_top) and _is_regular(here / f)
        }
        # Remove what the user removed (or what changed kind), keeping dbt's own entries at the top.
        with os.scandir(target) as entries:
            for entry in entries:
                if top and entry.name in own_top:
                    continue
                is_link = entry.is_symlink()
                if entry.name in wanted_dirs and not is_link and entry.is_dir():
                    continue
                if entry.name in wanted_files and is_link:
                    continue
                _remove(Path(entry.path))
                changed += 1
        for name in sorted(wanted_dirs):
            sub = target / name
            if not sub.is_dir() or sub.is_symlink():
                sub.mkdir(exist_ok=True)
                changed += 1
        for name in sorted(wanted_files):
            link, original = target / name, here / name
            try:
                current = os.readlink(link)
            except FileNotFoundError:
                current = None
            if current != str(original):
                if current is not None:
                    link.unlink()
                os.symlink(original, link)
                changed += 1
    return changed


def _link_outside(copy: WorkCopy, source: Path, local: str) -> int:
    """Link a `local:` package that lies outside the project at the same relative place beside the copy."""
    original = (source / local).resolve()
    if original == source or source in original.parents:
        return 0  # inside the project: mirrored with it
    place = Path(os.path.normpath(copy.project_dir / local))  # not resolved: it may be our link already
    if Path(os.path.normpath(copy.base)) not in place.parents:
        raise WorkCopyError(
            f"the local package {local!r} of {source} lies too far outside the project for the platform's "
            "working copy: keep local packages inside the project or beside it"
        )
    try:
        if os.readlink(place) == str(original):
            return 0
        place.unlink()
    except FileNotFoundError:
        pass
    except OSError:  # a folder where the link belongs
        _remove(place)
    place.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(original, place)
    return 1


def _check_name(path: Path, source: Path) -> None:
    """dbt cannot read a file name that is not UTF-8 (its partial-parse state fails on it with a message
    that names no file): say so, naming it as the filesystem holds it."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        shown = repr(os.fsencode(path.relative_to(source)))[2:-1]
        raise WorkCopyError(
            f"{shown} in the dbt project {source.name}: its name is not UTF-8, and dbt can only read UTF-8 "
            "file names. Rename it (or move it out of the project) and save again."
        ) from None


def _is_regular(path: Path) -> bool:
    """Only regular files are linked: a FIFO, a device or a dangling link in the user's tree would block or
    break dbt's reads."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)
