"""dbt's output drained as dbt writes it (edp_platform.dbt.drain): every line, in order, the writer never
blocked by a slow reader, and the pipe closed by `with` as dagster-dbt uses it."""

from __future__ import annotations

import subprocess
import sys

from edp_platform.dbt.drain import DrainedPipe, drain_output

# Writes far more than a pipe holds, then says how long its writes took.
WRITER = """
import sys, time
t0 = time.monotonic()
for i in range(20000):
    sys.stdout.write(f"line {i:05d} " + "x" * 100 + "\\n")
sys.stdout.flush()
sys.stderr.write(f"{time.monotonic() - t0}")
"""


def test_every_line_in_order_and_the_writer_never_waits_for_the_reader() -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pipe = DrainedPipe(proc.stdout)  # type: ignore[arg-type]
    proc.wait(timeout=60)  # the writer ends although nobody has read a line yet
    lines = []
    with pipe:
        for line in pipe:
            lines.append(line)
    assert pipe.closed
    assert len(lines) == 20000
    assert lines[0].startswith(b"line 00000 ") and lines[-1].startswith(b"line 19999 ")
    assert [int(line[5:10]) for line in lines] == list(range(20000))


def test_an_invocation_reads_through_it_once() -> None:
    class Invocation:
        process = subprocess.Popen([sys.executable, "-c", "print('a'); print('b')"], stdout=subprocess.PIPE)

    invocation = Invocation()
    drain_output(invocation)
    drain_output(invocation)
    stdout = invocation.process.stdout
    assert isinstance(stdout, DrainedPipe)
    with stdout:
        assert [line.strip() for line in stdout] == [b"a", b"b"]
    invocation.process.wait(timeout=30)


def test_a_slow_reader_still_sees_the_end() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "print('only')"], stdout=subprocess.PIPE)
    pipe = DrainedPipe(proc.stdout)  # type: ignore[arg-type]
    proc.wait(timeout=30)
    assert [line.strip() for line in pipe] == [b"only"]
