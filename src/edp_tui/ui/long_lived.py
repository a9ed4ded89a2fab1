"""`freeze_long_lived`: after a table of thousands of rows is built, its objects are set aside from Python's
cyclic garbage collector. A full collection walks every tracked object: with 1,000 assets shown (about
150,000 objects: the rows' cells, the assets, Textual's caches) one took 90-200 ms, and it ran every few
dozen keys in the middle of one, the slowest key answers of the Assets tab (bench/assets_scale.py; figures
in docs/). Frozen, a full collection walks only what came after (20-30 ms measured).

Frozen objects are still freed when nothing refers to them (reference counting): rows replaced by the next
rebuild go as before. A reference cycle that was alive at a freeze and dies later is not collected while
frozen: each freeze first unfreezes and collects everything, so such a cycle lives at most until the next
rebuild of a large table (a new asset set), never for the life of the dashboard."""

from __future__ import annotations

import gc

# Below this many rows a full collection is quick: nothing is frozen.
FREEZE_MIN_ROWS = 500


def freeze_long_lived() -> None:
    gc.unfreeze()  # what an earlier freeze kept back is collected now if it has died since
    gc.collect()
    gc.freeze()
