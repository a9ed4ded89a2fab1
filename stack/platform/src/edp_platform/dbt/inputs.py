"""A content hash of everything `dbt parse` reads, so the parse runs only when one of them changed.

Inputs (what dbt's partial parsing also checks, see dbt-core parser/manifest.py): every file of the project
except build output, caches and editors' temporary files (models, macros, tests, seeds, snapshots, yml,
dbt_project.yml, packages), profiles.yml, the dbt-core and adapter versions, the command line we parse with,
and the environment dbt reads: every DBT_* variable and every variable named in an `env_var('...')` call of
those files (dbt_project.yml, profiles.yml, models).

What a user's tree may hold never hangs or exhausts the code server: only regular files are read (a FIFO, a
device or a link to one is left out, and a file is opened without blocking and checked again once open), in
chunks of CHUNK_BYTES; past CONTENT_CAP_BYTES a file counts by its size and modification time instead of its
content (a multi-GB seed: dbt itself checksums seeds over 1 MiB by their path only); file names count as the
bytes the filesystem holds (a name that is not UTF-8 is an input like any other).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from edp_platform.code_server.ignore import is_ignored_dir, is_ignored_name

HASH_FILE = "edp_dbt_inputs.sha256"  # written into the target folder next to manifest.json
ENV_VAR_CALL = re.compile(r"""env_var\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")
# Variables that change where dbt writes or how it logs, not what the manifest holds.
NON_INPUT_DBT_VARS = frozenset(
    {"DBT_LOG_PATH", "DBT_LOG_LEVEL", "DBT_LOG_FORMAT", "DBT_QUIET", "DBT_USE_COLORS"}
)
TEXT_SUFFIXES = (".sql", ".yml", ".yaml", ".md", ".py", ".csv", ".jinja", ".j2")
CHUNK_BYTES = 1 << 20
CONTENT_CAP_BYTES = 16 << 20


def project_files(project_dir: Path, skip_dirs: Iterable[Path] = ()) -> list[Path]:
    """The project's input files, sorted; output folders (target/, logs/, or the given ones) left out."""
    skip = {p.resolve() for p in skip_dirs}
    found: list[Path] = []
    seen: set[Path] = set()
    # Links are followed: the working copy links files, and installed local packages are links to folders.
    for dirpath, dirnames, filenames in os.walk(project_dir, followlinks=True):
        here = Path(dirpath)
        real = here.resolve()
        if real in seen:  # a link loop, or a folder reached twice
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(
            d for d in dirnames if not is_ignored_dir(d) and (here / d).resolve() not in skip
        )
        found.extend(here / f for f in filenames if not is_ignored_name(f))
    return sorted(found)


def referenced_env_vars(texts: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for text in texts:
        names.update(ENV_VAR_CALL.findall(text))
    return names


def inputs_hash(
    project_dir: Path,
    profiles_dir: Path,
    *,
    environ: Mapping[str, str],
    versions: Mapping[str, str],
    args: Iterable[str] = (),
    skip_dirs: Iterable[Path] = (),
) -> str:
    """sha256 over the inputs above. Pure apart from reading the files (unit-tested with tmp folders)."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    texts: list[str] = []
    files = project_files(project_dir, skip_dirs)
    profiles = Path(profiles_dir) / "profiles.yml"
    if profiles.is_file() and profiles.resolve() not in {f.resolve() for f in files}:
        files.append(profiles)
    for path in files:
        label = os.fsencode(
            path.relative_to(project_dir) if path.is_relative_to(project_dir) else f"profiles:{path}"
        )
        try:
            content = _regular_file_digest(path, keep_text=path.suffix in TEXT_SUFFIXES)
        except OSError:  # deleted between the walk and the read: the next change reloads again
            continue
        if content is None:  # not a regular file: dbt never reads it through the working copy either
            continue
        kind, file_digest, text = content
        digest.update(b"file\0" + label + b"\0" + kind + b"\0" + file_digest + b"\0")
        if text is not None:
            texts.append(text)
    for name, version in sorted(versions.items()):
        add(f"version:{name}", version.encode())
    add("args", "\0".join(args).encode())
    env_names = {n for n in environ if n.startswith("DBT_") and n not in NON_INPUT_DBT_VARS}
    env_names |= referenced_env_vars(texts)
    for name in sorted(env_names):
        value = environ.get(name)
        add(f"env:{name}", b"\x00unset" if value is None else value.encode())
    return digest.hexdigest()


def read_regular(path: Path, limit: int = CONTENT_CAP_BYTES) -> bytes | None:
    """A small file the platform reads itself (dbt_project.yml, packages.yml): its bytes, or None when it is
    missing, not a regular file (never waits on a FIFO) or larger than `limit`."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks, total = [], 0
        while chunk := os.read(fd, CHUNK_BYTES):
            total += len(chunk)
            if total > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _regular_file_digest(path: Path, *, keep_text: bool) -> tuple[bytes, bytes, str | None] | None:
    """(b"sha256" and the content's digest, or b"stat" and size/mtime past the cap; the text when asked and
    under the cap), or None when `path` is not a regular file. Never blocks on a FIFO (O_NONBLOCK) and never
    holds more than a chunk, or the capped text, in memory."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
    except FileNotFoundError:
        return None
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # replaced by something else since the check
            return None
        if st.st_size > CONTENT_CAP_BYTES:
            return b"stat", f"{st.st_size}:{st.st_mtime_ns}".encode(), None
        content = hashlib.sha256()
        kept: list[bytes] = []
        total = 0
        while chunk := os.read(fd, CHUNK_BYTES):
            total += len(chunk)
            if total > CONTENT_CAP_BYTES:  # it grew past the cap while being read
                now = os.fstat(fd)
                return b"stat", f"{now.st_size}:{now.st_mtime_ns}".encode(), None
            content.update(chunk)
            if keep_text:
                kept.append(chunk)
    finally:
        os.close(fd)
    text = b"".join(kept).decode("utf-8", errors="replace") if keep_text else None
    return b"sha256", content.hexdigest().encode(), text


def dbt_versions() -> dict[str, str]:
    """dbt-core and adapter versions (installed distributions; no dbt import needed)."""
    from importlib import metadata

    found = {}
    for dist in ("dbt-core", "dbt-postgres", "dbt-adapters"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "absent"
    return found


def read_stored_hash(target_dir: Path) -> str | None:
    try:
        return (target_dir / HASH_FILE).read_text().strip() or None
    except OSError:
        return None


def write_stored_hash(target_dir: Path, value: str) -> None:
    tmp = target_dir / f".{HASH_FILE}.tmp"
    tmp.write_text(value + "\n")
    os.replace(tmp, target_dir / HASH_FILE)
