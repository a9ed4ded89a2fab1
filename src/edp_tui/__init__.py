"""edp-tui: one terminal screen for the Enterprise Data Platform compose stack."""

__version__ = "0.1.0"
