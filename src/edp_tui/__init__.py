"""edp-tui: one terminal screen for the Enterprise Data Platform compose stack."""

import sys
import types

__version__ = "0.1.0"

# httpx imports its own command-line client (click, pygments' lexers, rich's syntax and progress: about a
# tenth of a second) whenever those packages happen to be installed; edp-tui never runs it. A stand-in module
# without `main` makes httpx take its "CLI not installed" branch: every start of the dashboard and of each
# command saves the import (docs/performance.md). Only when httpx is not imported yet.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", types.ModuleType("httpx._main"))
