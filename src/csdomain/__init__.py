"""csdomain: the domain core for customer service and after-sales teams."""

from __future__ import annotations

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.calendar import BusinessCalendar
from csdomain.clock import Clock, FixedClock, SystemClock
from csdomain.errors import (
    AlreadyExists,
    BackendNotFound,
    BackendUnavailable,
    ConcurrencyConflict,
    CsDomainError,
    CurrencyMismatch,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    PluginError,
    RuleViolation,
    ValidationError,
)
from csdomain.events import Event
from csdomain.hookspecs import hookimpl
from csdomain.lifecycle import StatusChange
from csdomain.money import Money
from csdomain.serialization import from_json, to_json
from csdomain.store import Kind, Store, UnitOfWork, open_store


__version__ = "0.1.0"

__all__ = [
    "AccessPolicy",
    "Actor",
    "AlreadyExists",
    "BackendNotFound",
    "BackendUnavailable",
    "BusinessCalendar",
    "Clock",
    "ConcurrencyConflict",
    "CsDomainError",
    "CurrencyMismatch",
    "Event",
    "FixedClock",
    "InvalidTransition",
    "Kind",
    "Money",
    "NotFound",
    "Permission",
    "PermissionDenied",
    "PluginError",
    "RuleViolation",
    "StatusChange",
    "Store",
    "SystemClock",
    "UnitOfWork",
    "ValidationError",
    "__version__",
    "from_json",
    "hookimpl",
    "open_store",
    "to_json",
]
