"""Stable keys of messages: the idempotency key and the message id derived from it.

Delivery is at least once; the same source rendered twice gives the same key, so the
store keeps one message per key and receivers drop duplicates by it.
"""

from __future__ import annotations

import hashlib


__all__ = ["digest", "idempotency_key", "message_id_for"]


def digest(text: str, size: int = 16) -> str:
    """A short hex digest of ``text`` (BLAKE2b of ``size`` bytes): ids, seeds, sources."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).hexdigest()


def idempotency_key(source: str, kind: str, channel: str, target: str) -> str:
    """A stable key for "this source produced this kind of message for this target".

    The same event (``source``, e.g. ``"OrderShipped:20261101..."``) rendered twice gives
    the same key, so duplicates can be dropped by the store and by receivers.
    """
    prefix = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_-") else "_" for ch in kind)
    return f"{prefix[:40]}-{digest(chr(31).join((source, kind, channel, target)))}"


def message_id_for(key: str) -> str:
    """The message id derived from an idempotency key (one stored message per key)."""
    return f"msg-{digest(key, 12)}"
