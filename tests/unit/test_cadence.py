"""`Cadence`: fast after a change, one step slower per quiet poll up to the slowest, fast again on hurry()."""

from __future__ import annotations

import pytest

from edp_tui.util.cadence import Cadence


def test_quiet_polls_slow_down_to_the_cap_and_a_change_speeds_up() -> None:
    cadence = Cadence(0.5, 5.0)
    assert [cadence.observe(False) for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert cadence.observe(True) == 0.5
    cadence.observe(False)
    cadence.hurry()
    assert cadence.interval == 0.5


@pytest.mark.parametrize("fast,slow,factor", [(0, 1, 2), (2, 1, 2), (1, 2, 1)])
def test_bad_settings_are_refused(fast: float, slow: float, factor: float) -> None:
    with pytest.raises(ValueError):
        Cadence(fast, slow, factor)
