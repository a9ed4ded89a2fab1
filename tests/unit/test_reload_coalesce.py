"""Debounce and coalescing of saves into reloads (etl_pipeline/reload/coalesce.py)."""

from __future__ import annotations

from edp_platform.code_server.coalesce import Coalescer
from hypothesis import given
from hypothesis import strategies as st


def drive(
    coalescer: Coalescer, saves: list[tuple[float, str]], reload_s: float, until: float
) -> list[list[str]]:
    """Simulates the watcher's reload thread on a 10 ms clock; returns the batches it reloaded."""
    batches: list[list[str]] = []
    busy_until: float | None = None
    pending = sorted(saves)
    t = 0.0
    while t <= until:
        while pending and pending[0][0] <= t:
            coalescer.add({pending.pop(0)[1]}, t)
        if busy_until is not None and t >= busy_until:
            coalescer.finished()
            busy_until = None
        batch = coalescer.take(t)
        if batch is not None:
            batches.append(batch[0])
            busy_until = t + reload_s
        t = round(t + 0.01, 2)
    return batches


def test_nothing_pending_is_never_due() -> None:
    c = Coalescer()
    assert c.due_at() is None
    assert c.take(100.0) is None


def test_one_save_fires_after_the_quiet_period() -> None:
    c = Coalescer(quiet_s=0.3, max_wait_s=2.0)
    c.add({"a.py"}, 10.0)
    assert c.take(10.29) is None
    assert c.take(10.3) == (["a.py"], 10.0)
    assert c.reloading and c.due_at() is None


def test_a_steady_stream_of_saves_fires_at_max_wait() -> None:
    c = Coalescer(quiet_s=0.3, max_wait_s=2.0)
    fired_at = None
    for i in range(30):  # a save every 0.1 s for 3 s: never quiet
        now = round(1.0 + i * 0.1, 2)
        c.add({f"f{i % 3}.py"}, now)
        if c.take(now) is not None:
            fired_at = now
            break
    assert fired_at == 3.0  # the first save at 1.0, plus max_wait_s


def test_saves_during_a_reload_coalesce_into_one_more_reload() -> None:
    c = Coalescer(quiet_s=0.3, max_wait_s=2.0)
    c.add({"a.py"}, 0.0)
    assert c.take(0.3) is not None
    for t in (0.4, 0.5, 0.6, 0.7):
        c.add({"b.py", "c.sql"}, t)
        assert c.take(t + 0.35) is None  # a reload runs: never due
    c.finished()
    assert c.take(2.0) == (["b.py", "c.sql"], 0.4)
    c.finished()
    assert c.take(10.0) is None


def test_ten_saves_within_two_seconds_give_at_most_two_reloads() -> None:
    saves = [(i * 0.2, "etl_pipeline/definitions.py") for i in range(10)]
    for reload_s in (0.2, 0.5, 1.0, 3.0):
        batches = drive(Coalescer(quiet_s=0.3, max_wait_s=2.0), saves, reload_s, until=20.0)
        assert 1 <= len(batches) <= 2, (reload_s, batches)


@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=5, allow_nan=False), st.sampled_from("abcdef")),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([0.05, 0.4, 1.5]),
)
def test_every_saved_path_is_reloaded_and_reloads_never_overlap(saves, reload_s) -> None:
    batches = drive(Coalescer(quiet_s=0.3, max_wait_s=2.0), saves, reload_s, until=30.0)
    assert {path for _, path in saves} <= {path for batch in batches for path in batch}
    # No more reloads than distinct quiet-or-max-wait windows allow: at most one per save.
    assert len(batches) <= len(saves)
