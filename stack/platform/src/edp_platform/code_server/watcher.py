"""Watches the code and the dbt project and hands debounced, coalesced batches to a reload callback.

Two threads: one collects watchfiles' changes into a Coalescer, one waits until a batch is due and runs the
callback (so changes keep being collected while a reload runs, and fire as one more reload after it).

Native change events (inotify) by default; polling (`force_polling`) when EDP_RELOAD_POLLING=1, or with
`auto` (the default) when a watched folder sits on a filesystem known not to deliver change events for edits
made on the other side of the mount (Docker Desktop's file sharing, 9p/WSL, network filesystems). A watched
folder that disappears or is replaced (deleted, renamed, re-created) restarts the watch instead of
stopping it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles

from edp_platform.code_server.coalesce import Coalescer
from edp_platform.code_server.errors import display_path
from edp_platform.code_server.ignore import ReloadFilter

logger = logging.getLogger("edp.reload.watcher")

# Filesystems that do not (reliably) report changes made by the host: poll there.
POLLING_FSTYPES = frozenset(
    {
        "fuse.grpcfuse",
        "fuse.osxfs",
        "fakeowner",
        "9p",
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "vboxsf",
        "fuse.sshfs",
        "fuse.vmhgfs-fuse",
        "prl_fs",
    }
)
ROOT_CHECK_S = 2.0  # how often a quiet watch checks that its folders are still the same ones
POLL_DELAY_MS = 500
UNDECODABLE_NAME = "Unable to decode path"  # watchfiles' error for a file name that is not UTF-8


def mount_fstype(path: str, mountinfo: str) -> str | None:
    """The filesystem type of the mount holding `path`, from /proc/self/mountinfo's text."""
    best, best_type = "", None
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 5 or not right:
            continue
        mount_point = fields[4].replace("\\040", " ")
        inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, right.split()[0]
    return best_type


def use_polling(setting: str, roots: list[str], mountinfo: str | None = None) -> tuple[bool, str]:
    """(poll?, why) from EDP_RELOAD_POLLING = auto | 1 | 0."""
    value = setting.strip().lower()
    if value in {"1", "true", "yes", "on", "force"}:
        return True, "EDP_RELOAD_POLLING=1"
    if value in {"0", "false", "no", "off", "native"}:
        return False, "EDP_RELOAD_POLLING=0"
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return False, "auto: no /proc/self/mountinfo, native events"
    for root in roots:
        fstype = mount_fstype(os.path.realpath(root), mountinfo)
        if fstype in POLLING_FSTYPES:
            return True, f"auto: {root} is on {fstype}, which reports no change events"
    return False, "auto: native change events"


def name_os_thread(name: str) -> None:
    """Give the calling thread an OS-visible name (/proc/<pid>/task/<tid>/comm), so the watcher's own CPU
    time can be told apart from the proxy's (bench/reload_bench.py). Linux only; a no-op elsewhere."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class Watcher:
    def __init__(
        self,
        roots: dict[str, str],
        on_batch: Callable[[list[str], float], None],
        *,
        polling: bool,
        coalescer: Coalescer,
        on_state: Callable[..., None],
    ) -> None:
        self.roots = roots  # watched folder -> its repository-relative name
        self.on_batch = on_batch  # (display paths, monotonic time of the batch's first change)
        self.polling = polling
        self.coalescer = coalescer
        self.on_state = on_state
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.batches = 0

    def start(self) -> None:
        threading.Thread(target=self._collect_forever, name="edp-reload-watch", daemon=True).start()
        threading.Thread(target=self._reload_forever, name="edp-reload-run", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def add_changes(self, paths: set[str], now: float) -> None:
        with self._cond:
            self.coalescer.add(paths, now)
            self._cond.notify_all()

    # ---- collecting ----------------------------------------------------------------------------------------
    def _collect_forever(self) -> None:
        name_os_thread("edp-reload-watch")
        while not self._stop.is_set():
            present = [r for r in self.roots if os.path.isdir(r)]
            if not present:
                self.on_state(state="waiting", error="no watched folder exists")
                self._stop.wait(ROOT_CHECK_S)
                continue
            identities = {r: _identity(r) for r in self.roots}
            try:
                self.on_state(state="watching", error=None)
                self._watch(present, identities)
            except Exception as exc:  # a folder vanished under the watcher, a permission error...
                logger.warning("file watch stopped (%s); restarting", exc)
                self.on_state(state="restarting", error=f"{type(exc).__name__}: {exc}")
                self._stop.wait(1.0)

    def _watch(self, present: list[str], identities: dict[str, tuple[int, int] | None]) -> None:
        try:
            self._watch_changes(present, identities)
        except Exception as exc:
            if UNDECODABLE_NAME not in str(exc):
                raise
            # watchfiles reports names as text and raises on one that is not UTF-8 (a Latin-1 name saved
            # from elsewhere): the watched folders changed, which ones inside is unknown. Reload, then watch
            # again (the rest of that batch is lost with the exception: the reload reads everything anyway).
            self.add_changes(set(self.roots.values()), time.monotonic())

    def _watch_changes(self, present: list[str], identities: dict[str, tuple[int, int] | None]) -> None:
        for changes in watchfiles.watch(
            *present,
            watch_filter=ReloadFilter(present),
            debounce=200,
            step=30,
            rust_timeout=int(ROOT_CHECK_S * 1000),
            yield_on_timeout=True,
            stop_event=self._stop,
            force_polling=self.polling,
            poll_delay_ms=POLL_DELAY_MS,
            raise_interrupt=False,
            ignore_permission_denied=True,
        ):
            now = time.monotonic()
            if changes:
                self.add_changes({display_path(path, self.roots) for _, path in changes}, now)
            if any(_identity(r) != identities[r] for r in self.roots):
                # A watched folder was deleted, renamed or re-created: its old watch is dead. Count it as a
                # change (what it holds may differ) and watch again from scratch.
                self.add_changes({name for name in self.roots.values()}, now)
                return

    # ---- reloading -----------------------------------------------------------------------------------------
    def _reload_forever(self) -> None:
        name_os_thread("edp-reload-run")
        while not self._stop.is_set():
            with self._cond:
                due = self.coalescer.due_at()
                now = time.monotonic()
                if due is None or due > now:
                    self._cond.wait(timeout=None if due is None else due - now)
                    continue
                batch = self.coalescer.take(now)
            if batch is None:
                continue
            files, first_change = batch
            self.batches += 1
            try:
                self.on_batch(files, first_change)
            except Exception:
                logger.exception("reload after a change failed unexpectedly")
            finally:
                with self._cond:
                    self.coalescer.finished()
