"""Python's cyclic garbage collector, set for a serving process.

A gateway process builds what it keeps (lanes, compiled patterns, the engine's databases, validators'
tables, pydantic models) once, at start, and then allocates short-lived objects for each request. With
CPython's defaults (a young collection every 700 net allocations of container objects, a full one each
hundred of those) the collector keeps walking objects that will never be garbage: at concurrency 64 on a
2-core VM it took 76 to 106 µs of CPU per request, a sixth of the gateway's own cost, most of it in full
collections that read everything built at start (45 ms each).

:func:`settle` moves everything that exists once the gateway has started into the permanent generation
(``gc.freeze``: never walked again; still freed by reference counting when a reload drops it) and lets the
young generation grow to :data:`YOUNG_THRESHOLD` before it is collected. Measured with the same load: the
collector's share fell to 2 to 5 µs per request, and throughput rose 9 to 19% in five of six interleaved
comparisons, with no change in the sixth (figures in docs/benchmarks.md).
Cycles among objects created later are still found, only less often; a request's objects are freed by
reference counting as soon as it ends.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 7000  # net container allocations between young collections (CPython's default: 700)


def settle() -> None:
    """Collect once, freeze what is left, and collect the young generation less often (see the module).
    Called by ``lanegate serve`` in each worker once its lanes have started; a process that embeds the
    gateway decides for itself."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
