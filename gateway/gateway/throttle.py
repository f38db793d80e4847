"""Login throttling, by account and by client address: after a few failures each attempt waits
(exponentially longer), after more it is refused with 429 and ``Retry-After`` without checking
the password. A failure is forgotten :data:`WINDOW` seconds after the last one; a success clears
its account (not its address: one good account must not launder guesses at others).

An attempt counts against its account from its start until it succeeds, so a burst of parallel
guesses at one account cannot all pass before the first one fails; against its address only
once it failed (so that many people signing in at once behind one NAT are not refused). The
counts live in this process: with N gateway replicas an attacker gets at most N times the
limits."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

WINDOW = 15 * 60.0
BASE_DELAY = 0.25  # seconds, doubled with each failure past the free ones
MAX_DELAY = 4.0
MAX_LOCKOUT = 15 * 60.0


@dataclass(frozen=True)
class Limit:
    free: int  # failures answered at once
    refuse_after: int  # failures after which attempts get 429
    lockout: float  # seconds of the first 429; doubled with each failure beyond


ACCOUNT = Limit(free=3, refuse_after=10, lockout=60.0)
# an office behind one NAT address mistypes too: generous, it is against spraying many accounts
ADDRESS = Limit(free=20, refuse_after=100, lockout=60.0)


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"Too many failed sign-ins: try again in {retry_after} seconds")
        self.retry_after = retry_after


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0


class LoginThrottle:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._counts: dict[tuple[str, str], _Count] = {}

    def _get(self, key: tuple[str, str], now: float) -> _Count:
        count = self._counts.get(key)
        if count is None or now - count.last > WINDOW:
            if len(self._counts) > 50_000:
                self._prune(now)
            count = self._counts[key] = _Count()
        return count

    def _prune(self, now: float) -> None:
        for key in [k for k, c in self._counts.items() if now - c.last > WINDOW]:
            del self._counts[key]

    def begin(self, account: str, address: str) -> float:
        """Before checking a password: raises :class:`Throttled`, or returns the seconds to wait
        first; the attempt counts as a failure until :meth:`succeeded`."""
        now = self._clock()
        keys = ((("account", account), ACCOUNT), (("address", address), ADDRESS))
        retry_after, delay = 0.0, 0.0
        for key, limit in keys:
            count = self._get(key, now)
            if count.failures >= limit.refuse_after:
                over = count.failures - limit.refuse_after
                lockout = min(MAX_LOCKOUT, limit.lockout * 2 ** min(over, 20))
                retry_after = max(retry_after, count.last + lockout - now)
            elif count.failures >= limit.free:
                delay = max(delay, min(MAX_DELAY, BASE_DELAY * 2 ** (count.failures - limit.free)))
        if retry_after > 0:
            raise Throttled(max(1, math.ceil(retry_after)))
        count = self._counts[("account", account)]
        count.failures += 1
        count.last = now
        return delay

    def failed(self, address: str) -> None:
        now = self._clock()
        count = self._get(("address", address), now)
        count.failures += 1
        count.last = now

    def succeeded(self, account: str) -> None:
        self._counts.pop(("account", account), None)
