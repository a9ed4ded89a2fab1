"""`freeze_long_lived`: after a table of thousands of rows is built, its objects are set aside from Python's
cyclic garbage collector. A full collection walks every tracked object: with 1,000 assets shown (about
150,000 objects: the rows' cells, the assets, Textual's caches) one took 90-200 ms, and it ran every few
dozen keys in the middle of one, the slowest key answers of the Assets tab (bench/assets_scale.py; figures
in docs/). Frozen, a full collection walks only what came after (20-30 ms measured).

Frozen objects are still freed when nothing refers to them (reference counting): rows replaced by the next
rebuild go as before. Only a reference cycle that was alive at the freeze and dies later is never collected;
the collection just before the freeze keeps garbage out of it."""

from __future__ import annotations

import gc

# Below this many rows a full collection is quick: nothing is frozen.
FREEZE_MIN_ROWS = 500


def freeze_long_lived() -> None:
    gc.collect()
    gc.freeze()
