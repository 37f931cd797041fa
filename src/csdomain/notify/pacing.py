"""Pacing a channel: the token bucket behind a channel's rate limit.

:class:`TokenBucket` holds up to ``burst`` tokens and gains ``rate`` tokens per second;
each delivery takes one. :meth:`TokenBucket.reserve` never blocks: it takes a token (going
into debt when there is none) and says how long the caller must wait before using it, so
concurrent deliveries queue up in order. The dispatcher sleeps that long before claiming
the message (DESIGN.md 5: per-channel rate limits; the rates are
:class:`~csdomain.notify.policy.ChannelLimits`). It reads no clock of its own: ``now`` is
a monotonic seconds function (:func:`time.monotonic` in the dispatcher, a fake in tests).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from decimal import Decimal

from csdomain.errors import ValidationError, describe
from csdomain.notify.policy import ChannelLimits


__all__ = ["TokenBucket"]


class TokenBucket:
    """Up to ``burst`` deliveries at once, then ``rate`` per second (thread-safe)."""

    def __init__(self, rate: Decimal | float, burst: int, now: Callable[[], float]) -> None:
        value = float(rate) if isinstance(rate, Decimal | int | float) else math.nan
        if isinstance(rate, bool) or not math.isfinite(value) or value <= 0:
            raise ValidationError.at("rate", f"must be a positive number, got {describe(rate)}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValidationError.at("burst", f"must be a positive integer, got {describe(burst)}")
        if not callable(now):
            raise ValidationError.at("now", "expected a monotonic seconds function")
        self.rate = value
        self.burst = burst
        self._now = now
        self._tokens = float(burst)
        self._updated = now()
        self._lock = threading.Lock()

    @classmethod
    def for_limits(cls, limits: ChannelLimits, now: Callable[[], float]) -> TokenBucket | None:
        """The bucket of a channel's limits, or ``None`` when the channel has no rate."""
        if limits.rate is None:
            return None
        return cls(limits.rate, limits.burst, now)

    def reserve(self) -> float:
        """Take one token; returns the seconds to wait before using it (0: at once)."""
        with self._lock:
            now = self._now()
            elapsed = max(now - self._updated, 0.0)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}/s, burst={self.burst})"
