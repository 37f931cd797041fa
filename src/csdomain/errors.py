"""The one exception tree of csdomain.

Every error the library raises on purpose derives from :class:`CsDomainError`, so an
application can catch the whole family in one place. Backends translate their driver's
exceptions into these classes (``raise AlreadyExists(...) from err``), which is why the
conformance kit can assert the same exception on every backend.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Mapping
from typing import Any


__all__ = [
    "AlreadyExists",
    "BackendNotFound",
    "BackendUnavailable",
    "ConcurrencyConflict",
    "CsDomainError",
    "CurrencyMismatch",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "PluginError",
    "RuleViolation",
    "ValidationError",
    "describe",
]

#: Longest message of one error entry and longest path (characters).
_MAX_MESSAGE = 500
_MAX_PATH = 200
_MAX_ENTRIES = 50

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlong = 40


def describe(value: object) -> str:
    """A short ``repr`` of ``value`` for an error message, whatever its size or depth."""
    try:
        return _REPR.repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CsDomainError(Exception):
    """Base class of every error csdomain raises on purpose."""


class ValidationError(CsDomainError, ValueError):
    """Input that does not fit the model; ``errors`` lists every ``(path, message)``.

    A path is dotted (``"lines.0.quantity"``); the empty path means the value as a whole.
    """

    def __init__(self, errors: Iterable[tuple[str, str]] | str, message: str | None = None):
        if isinstance(errors, str):
            errors = [("", errors)]
        entries = list(errors)
        self.errors: list[tuple[str, str]] = [
            (_clip(str(p), _MAX_PATH), _clip(str(m), _MAX_MESSAGE)) for p, m in entries
        ]
        if message is None:
            shown = self.errors[:_MAX_ENTRIES]
            message = "; ".join(f"{p}: {m}" if p else m for p, m in shown) or "invalid"
            if len(self.errors) > _MAX_ENTRIES:
                message += f"; and {len(self.errors) - _MAX_ENTRIES} more"
        super().__init__(_clip(message, _MAX_MESSAGE * 4))

    @classmethod
    def at(cls, path: str, message: str) -> ValidationError:
        """Build an error for one bad field."""
        return cls([(path, message)])

    def prefixed(self, prefix: str) -> ValidationError:
        """Return the same errors with ``prefix`` put in front of every path."""
        return ValidationError(
            [(f"{prefix}.{p}" if p else prefix, m) for p, m in self.errors],
        )


class CurrencyMismatch(ValidationError):
    """Arithmetic or comparison between amounts in two different currencies."""

    def __init__(self, left: str, right: str):
        self.left = left
        self.right = right
        super().__init__([("currency", f"cannot combine {left} with {right}")])


class InvalidTransition(CsDomainError):
    """A lifecycle change that the transition table does not allow."""

    def __init__(
        self,
        entity: str,
        entity_id: str,
        from_status: str,
        to_status: str,
        *,
        action: str = "",
        hint: str = "",
    ):
        self.entity = entity
        self.entity_id = entity_id
        self.from_status = from_status
        self.to_status = to_status
        #: The command that was attempted (``"record_payment"``), when one was.
        self.action = action
        #: What must come first (``"confirm the order first"``), when something can.
        self.hint = hint
        shown = describe(entity_id)
        if action:
            message = f"{entity} {shown} cannot {action} while {from_status}"
        else:
            message = f"{entity} {shown} cannot go from {from_status!r} to {to_status!r}"
        if hint:
            message = f"{message}: {hint}"
        super().__init__(message)


class RuleViolation(CsDomainError):
    """A business rule said no; ``code`` is stable and machine-readable."""

    def __init__(self, code: str, message: str, **details: Any):
        self.code = code
        self.message = message
        self.details: Mapping[str, Any] = details
        super().__init__(f"[{code}] {message}")


class NotFound(CsDomainError, LookupError):
    """No stored object has that key."""

    def __init__(self, kind: str, key: str):
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class AlreadyExists(CsDomainError):
    """An object with that key is already stored."""

    def __init__(self, kind: str, key: str):
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} already exists")


class ConcurrencyConflict(CsDomainError):
    """Optimistic concurrency check failed: someone else changed the object first."""

    def __init__(self, kind: str, key: str, expected: int, actual: int | None):
        self.kind = kind
        self.key = key
        self.expected = expected
        self.actual = actual
        message = (
            f"{kind} {key!r} was changed concurrently "
            f"(expected version {expected}, stored version {actual})"
        )
        super().__init__(message)


class PermissionDenied(CsDomainError):
    """The actor's roles do not grant what the action needs."""

    def __init__(self, actor_id: str, permission: str, detail: str = ""):
        self.actor_id = actor_id
        self.permission = permission
        message = f"{actor_id!r} lacks permission {permission!r}"
        if detail:
            message = f"{message}: {detail}"
        super().__init__(message)


class PluginError(CsDomainError):
    """A plugin misbehaved or could not be loaded."""


class BackendNotFound(PluginError, LookupError):
    """No installed backend plugin answers the URL's scheme."""

    def __init__(self, url: str, schemes: Iterable[str]):
        self.schemes = sorted(set(schemes))
        scheme = url.split(":", 1)[0] if ":" in url else url
        message = (
            f"no backend for {scheme!r} URLs; installed schemes: "
            f"{', '.join(self.schemes) or '(none)'}"
        )
        super().__init__(message)


class BackendUnavailable(CsDomainError):
    """The backend exists but cannot be used right now (file locked, server down)."""
