"""What a receiver of at-least-once deliveries needs: a duplicate filter."""

from __future__ import annotations

from collections import OrderedDict

from csdomain.errors import ValidationError


__all__ = ["Deduplicator"]


class Deduplicator:
    """Receiver-side duplicate filter: remembers the last ``capacity`` idempotency keys.

    Delivery is at least once; a receiver that acts only when :meth:`first_time` is true
    gets an exactly-once effect for duplicates that arrive within the window.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValidationError.at("capacity", "must be a positive integer")
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen (and remember it), False for a duplicate."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def __repr__(self) -> str:
        return f"Deduplicator(capacity={self.capacity}, seen={len(self._seen)})"
