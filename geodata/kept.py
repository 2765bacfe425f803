"""Results kept for the last few sets of geometries: a page computes the same contiguity or the
same display shapes of the same grids several times in one visit.

>>> from shapely.geometry import box
>>> kept = Kept(2)
>>> key = geometries_digest([box(0, 0, 1, 1)])
>>> kept.get(key, lambda: "computed"), kept.get(key, lambda: "again")
('computed', 'computed')
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np
import shapely

T = TypeVar("T")


def geometries_digest(geoms) -> str:
    """A digest of the geometries ``geoms`` (their WKB, in order): equal for the same shapes."""
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
    return hashlib.sha256(b"".join(wkb)).hexdigest()


class Kept(Generic[T]):
    """At most ``size`` results by key; the oldest computed goes first when one more comes.
    Callers must not change a result in place."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._results: dict[Hashable, T] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result kept for ``key``, or ``compute()`` kept for it."""
        if key not in self._results:
            if len(self._results) >= self.size:
                self._results.pop(next(iter(self._results)))
            self._results[key] = compute()
        return self._results[key]
