"""Guards of the "at most one" rules: a stored slot that only one holder can take.

A rule such as "one response per customer and campaign" or "one active warranty claim
per product and fault" cannot be held by counting and then inserting: two units of work
that count at the same time both see nothing, and both insert. Instead the unit of work
that wants the slot *adds* a :class:`RuleGuard` whose key is derived from the slot
(:func:`guard_key`); the store refuses a second document with the same key on every
backend (:class:`~csdomain.errors.AlreadyExists` while the first is stored, a
:class:`~csdomain.errors.ConcurrencyConflict` on the commit of the later of two that
race), so exactly one of the competing units of work commits and a re-run of the other
finds the slot taken. Keys are digests: they carry no personal data (issue #19 items 4
and 6).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import attrs

from csdomain.errors import ValidationError
from csdomain.validators import aware, not_blank


__all__ = ["RuleGuard", "guard_key"]


@attrs.frozen(kw_only=True)
class RuleGuard:
    """The slot ``id`` of the "at most one" rule ``rule``, held by ``holder`` since ``at``."""

    id: str = attrs.field(validator=not_blank)
    rule: str = attrs.field(validator=not_blank)
    holder: str = attrs.field(validator=not_blank)
    at: datetime = attrs.field(validator=aware)

    @classmethod
    def of(cls, rule: str, parts: tuple[str, ...], *, holder: str, at: datetime) -> RuleGuard:
        """The guard of ``rule``'s slot named by ``parts``, held by ``holder``."""
        return cls(id=guard_key(rule, *parts), rule=rule, holder=holder, at=at)


def guard_key(rule: str, *parts: str) -> str:
    """The key of ``rule``'s slot for ``parts``: ``rule:`` and a digest of the parts.

    The same parts always give the same key, different parts (in any order) a different
    one; the key has a fixed length and does not show the parts.
    """
    if not isinstance(rule, str) or not rule.strip() or not rule.isascii():
        raise ValidationError.at("rule", "a guard's rule is a plain name")
    if not parts or not all(isinstance(part, str) for part in parts):
        raise ValidationError.at("parts", "a guard's slot is named by text parts")
    raw = "".join(f"{len(part)}:{part}" for part in parts).encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(raw, digest_size=16, person=b"csdomain-guard").hexdigest()
    return f"{rule.strip()}:{digest}"
