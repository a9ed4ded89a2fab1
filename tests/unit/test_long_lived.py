"""`freeze_long_lived` moves what is alive to the permanent generation (the full collections skip it)."""

from __future__ import annotations

import gc

from edp_tui.ui.long_lived import freeze_long_lived


def test_freeze_moves_the_live_objects_out_of_the_collections() -> None:
    kept = [[i] for i in range(1_000)]  # tracked containers, alive
    try:
        freeze_long_lived()
        assert gc.get_freeze_count() >= len(kept)
        assert all(o is not kept for o in gc.get_objects())  # the permanent generation is not listed
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_cycle_frozen_by_one_freeze_is_collected_by_the_next_once_it_died() -> None:
    import weakref

    cycle = Cycle()
    dead = weakref.ref(cycle)
    try:
        freeze_long_lived()  # the cycle is alive: frozen
        del cycle
        gc.collect()
        assert dead() is not None  # frozen: a full collection does not see it
        freeze_long_lived()  # the next large table's freeze
        assert dead() is None
    finally:
        gc.unfreeze()
