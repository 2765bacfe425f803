"""Writes per key and minute: a sliding window kept in the process.

:class:`WriteLimiter` counts the writes of each owner (an API key's account) over the last
``window`` seconds; :meth:`WriteLimiter.check` says how long to wait when the owner has used
its ``limit`` (the API answers 429 with that as ``Retry-After``). The counts live in the
server process: one ``gridlaw serve-api`` process is one limit; behind several processes each
keeps its own.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class WriteLimiter:
    """At most ``limit`` writes per ``window`` seconds per owner."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be ≥ 1 and window > 0")
        self.limit, self.window, self._clock = limit, window, clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, owner: str) -> int | None:
        """Count one write of ``owner`` now; None when allowed, else the whole seconds until
        the oldest write in the window leaves it (nothing counted then)."""
        now = self._clock()
        with self._lock:
            hits = self._hits[owner]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            if len(self._hits) > 10_000:  # owners gone quiet are forgotten
                for name in [o for o, h in self._hits.items() if not h]:
                    del self._hits[name]
            return None


__all__ = ["WriteLimiter"]
