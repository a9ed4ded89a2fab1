"""Which process is a run's worker (edp_platform.code_server.lost_workers), judged on a /proc of the test's
making: the kernel's boot id and the worker's exact start ticks, recorded when the watch first sees it, are
its identity; the wall clock (which a clock step moves, and with it /proc/stat's btime) plays no part after
that first sight."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from edp_platform.code_server import lost_workers as lw

HZ = 100
BOOT = "9528b089-93bf-4af9-83cd-69afd0f90a87"
RUN_ID = "0b5a5d4e-0000-4000-8000-000000000001"
WORKER_CMD = b"/opt/dagster/venv/bin/python\0-c\0from multiprocessing.spawn import spawn_main\0"


class FakeProc:
    """A /proc holding what lost_workers reads: stat (btime), uptime, the boot id and processes."""

    def __init__(self, root: Path, *, uptime_s: float, now: float) -> None:
        self.root = root
        (root / "sys" / "kernel" / "random").mkdir(parents=True)
        self.set_boot(BOOT)
        self.set_clock(uptime_s=uptime_s, now=now)

    def set_boot(self, boot_id: str) -> None:
        (self.root / "sys" / "kernel" / "random" / "boot_id").write_text(boot_id + "\n")

    def set_clock(self, *, uptime_s: float, now: float) -> None:
        """The kernel's view: seconds since boot, and btime = wall clock now - uptime (what a clock step
        moves)."""
        (self.root / "uptime").write_text(f"{uptime_s:.2f} 100.00\n")
        (self.root / "stat").write_text(f"cpu  1 2 3\nbtime {int(now - uptime_s)}\nprocesses 9\n")

    def process(self, pid: int, start_ticks: int, cmdline: bytes = WORKER_CMD, state: str = "S") -> None:
        d = self.root / str(pid)
        d.mkdir(exist_ok=True)
        rest = " ".join(["1"] * 18)  # fields 4..21
        (d / "stat").write_text(f"{pid} (python3) {state} {rest} {start_ticks} 0 0\n")
        (d / "cmdline").write_bytes(cmdline)

    def gone(self, pid: int) -> None:
        for f in (self.root / str(pid)).iterdir():
            f.unlink()
        (self.root / str(pid)).rmdir()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The wall clock as lost_workers sees it (time.time), settable by the test."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(lw.time, "time", lambda: now[0])
    monkeypatch.setattr(lw.os, "sysconf", lambda name: HZ if name == "SC_CLK_TCK" else 0)
    return now


@pytest.fixture
def proc(tmp_path: Path, clock: list[float], monkeypatch: pytest.MonkeyPatch) -> FakeProc:
    fake = FakeProc(tmp_path / "proc", uptime_s=5000.0, now=clock[0])
    monkeypatch.setattr(lw, "PROC", fake.root)
    return fake


def first_seen(proc: FakeProc, clock: list[float], pid: int = 4242) -> lw.WorkerIdentity:
    """A worker started 3 s ago that reported 1 s ago, seen for the first time: its identity."""
    proc.process(pid, start_ticks=int((5000.0 - 3.0) * HZ))
    worker = lw.ReportedWorker(pid=pid, reported_at=clock[0] - 1.0)
    verdict = lw.judge(RUN_ID, worker, recorded=None)
    assert verdict.gone is None and verdict.identity is not None
    assert verdict.identity == lw.WorkerIdentity(RUN_ID, pid, BOOT, int((5000.0 - 3.0) * HZ))
    return verdict.identity


def step_clock(proc: FakeProc, clock: list[float], seconds: float, *, uptime_s: float) -> None:
    clock[0] += seconds
    proc.set_clock(uptime_s=uptime_s, now=clock[0])


def test_the_identity_is_recorded_at_first_sight_and_a_live_worker_stays_live(
    proc: FakeProc, clock: list[float]
) -> None:
    identity = first_seen(proc, clock)
    step_clock(proc, clock, 60, uptime_s=5060.0)
    worker = lw.ReportedWorker(identity.pid, reported_at=clock[0] - 61)
    assert lw.judge(RUN_ID, worker, identity) == lw.Verdict(None, identity)


@pytest.mark.parametrize("step_s", [3600.0, -3600.0])
def test_a_clock_step_does_not_make_a_live_worker_lost(
    proc: FakeProc, clock: list[float], step_s: float
) -> None:
    identity = first_seen(proc, clock)
    # The clock jumps (NTP, a VM resumed): btime moves with it, the ticks since boot do not.
    step_clock(proc, clock, step_s + 10, uptime_s=5010.0)
    worker = lw.ReportedWorker(identity.pid, reported_at=clock[0] - step_s - 11)
    assert lw.judge(RUN_ID, worker, identity).gone is None


@pytest.mark.parametrize("step_s", [0.0, -3600.0])
def test_a_reused_pid_is_not_the_worker_whatever_the_clock_did(
    proc: FakeProc, clock: list[float], step_s: float
) -> None:
    identity = first_seen(proc, clock)
    # The worker died with its container; a quick restart gave its pid to another process of the same
    # kind, started 10 ms later (step 0: within any slack a wall-clock comparison must allow), or after
    # the clock was stepped back an hour (which made the old comparison take it for the worker).
    proc.gone(identity.pid)
    proc.process(identity.pid, start_ticks=identity.start_ticks + 1)
    step_clock(proc, clock, step_s + 1, uptime_s=5001.0)
    worker = lw.ReportedWorker(identity.pid, reported_at=clock[0] - step_s - 2)
    gone = lw.judge(RUN_ID, worker, identity).gone
    assert gone is not None and "reused" in gone and str(identity.start_ticks) in gone


def test_another_boot_means_the_worker_is_gone(proc: FakeProc, clock: list[float]) -> None:
    identity = first_seen(proc, clock)
    proc.set_boot("00000000-1111-2222-3333-444444444444")
    worker = lw.ReportedWorker(identity.pid, reported_at=clock[0] - 1)
    gone = lw.judge(RUN_ID, worker, identity).gone
    assert gone is not None and "host restarted" in gone


def test_an_exited_or_missing_worker_is_gone(proc: FakeProc, clock: list[float]) -> None:
    identity = first_seen(proc, clock)
    proc.process(identity.pid, start_ticks=identity.start_ticks, state="Z")
    worker = lw.ReportedWorker(identity.pid, reported_at=clock[0] - 1)
    assert "has exited (state Z)" in (lw.judge(RUN_ID, worker, identity).gone or "")
    proc.gone(identity.pid)
    assert lw.judge(RUN_ID, worker, identity).gone == f"no process with pid {identity.pid} exists any more"


def test_first_sight_of_a_pid_whose_process_started_after_the_worker_reported(
    proc: FakeProc, clock: list[float]
) -> None:
    # Nothing recorded (the watch first looks after a container restart): the process holding the pid
    # started 5 s ago, the worker reported an hour ago. Not it; nothing is recorded.
    proc.process(77, start_ticks=int((5000.0 - 5.0) * HZ))
    verdict = lw.judge(RUN_ID, lw.ReportedWorker(77, reported_at=clock[0] - 3600), recorded=None)
    assert verdict.identity is None and "reused" in (verdict.gone or "")


def test_first_sight_of_a_process_that_is_no_run_worker(proc: FakeProc, clock: list[float]) -> None:
    proc.process(1, start_ticks=100, cmdline=b"/sbin/init\0")
    verdict = lw.judge(RUN_ID, lw.ReportedWorker(1, reported_at=clock[0] - 1), recorded=None)
    assert verdict.identity is None and "not a run worker" in (verdict.gone or "")


def test_an_identity_recorded_for_another_run_or_pid_is_not_used(proc: FakeProc, clock: list[float]) -> None:
    """A run's tags are copied to its re-execution (Dagster's retries): the copy names the parent's run."""
    identity = first_seen(proc, clock)
    copied = lw.WorkerIdentity("another-run", identity.pid, identity.boot_id, identity.start_ticks - 500)
    assert lw.WorkerIdentity.from_tag(copied.tag_value(), RUN_ID, identity.pid) is None
    assert lw.WorkerIdentity.from_tag(identity.tag_value(), RUN_ID, identity.pid + 1) is None
    assert lw.WorkerIdentity.from_tag(identity.tag_value(), RUN_ID, identity.pid) == identity
    assert lw.WorkerIdentity.from_tag("not json", RUN_ID, identity.pid) is None


def test_the_real_proc_of_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Against the real /proc: this test's own process, seen now, is recorded and stays itself."""
    import os

    worker = lw.ReportedWorker(os.getpid(), reported_at=time.time())
    monkeypatch.setattr(lw, "looks_like_worker", lambda cmdline: True)
    verdict = lw.judge(RUN_ID, worker, None)
    assert verdict.gone is None and verdict.identity is not None
    assert lw.judge(RUN_ID, worker, verdict.identity) == lw.Verdict(None, verdict.identity)
