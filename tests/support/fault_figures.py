"""Figures of the e2e fault suite (tests/e2e/test_faults.py), printed in pytest's terminal summary."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FaultFigure:
    fault: str
    shown_s: float | None  # from the fault to its state on screen
    recovered_s: float | None  # from the repair (or the fault, for self-healing ones) to a healthy screen
    note: str = ""


FAULT_FIGURES: list[FaultFigure] = []
# tests/e2e/test_abuse.py's rows: attack or fault, before, now, recovered in, lost. Kept here, not in the test
# module: the terminal summary must see the list the tests filled, whatever name pytest imported them under.
ABUSE_FIGURES: list[tuple[str, str, str, str, str]] = []


def fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def table() -> list[str]:
    width = max([len(f.fault) for f in FAULT_FIGURES] + [5])
    lines = [f"{'fault':<{width}}  {'shown after':>11}  {'recovered after':>15}  note"]
    for f in FAULT_FIGURES:
        lines.append(f"{f.fault:<{width}}  {fmt(f.shown_s):>11}  {fmt(f.recovered_s):>15}  {f.note}")
    return lines
