"""What every group of use cases shares: store, policy, clock, calendars and retries.

A use case is one unit of work: load, call a pure domain method with ``at=`` and
``by=``, save, emit events to the outbox. :meth:`DeskBase.run` wraps that in a transaction
and re-runs it on :class:`~csdomain.errors.ConcurrencyConflict` a bounded number of times
(the ``retries`` policy), so concurrent writers never lose an update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

import pluggy

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import Clock
from csdomain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    PermissionDenied,
    ValidationError,
)
from csdomain.policy import Policy
from csdomain.store import Store, UnitOfWork


__all__ = ["DeskBase", "retrying"]

T = TypeVar("T")


def retrying(
    store: Store, work: Callable[[UnitOfWork], T], *, attempts: int = 5, readonly: bool = False
) -> T:
    """Run ``work`` in a unit of work, re-running it on :class:`ConcurrencyConflict`.

    Each attempt is a fresh unit of work, so the loaded state is current; after
    ``attempts`` conflicts the last one is raised. Nothing of a failed attempt is written.
    An :class:`AlreadyExists` raised by the commit (another unit of work stored the same
    new key first, e.g. two first receipts of one SKU on the memory backend) is a conflict
    too; raised by ``work`` itself it is an answer and is not retried.
    """
    if attempts < 1:
        raise ValidationError.at("attempts", "must be at least 1")
    for attempt in range(1, attempts + 1):
        committing = False
        try:
            with store.unit_of_work(readonly=readonly) as uow:
                result = work(uow)
                committing = True
            return result
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
        except AlreadyExists:
            if not committing or attempt == attempts:
                raise
    msg = "unreachable"  # pragma: no cover
    raise AssertionError(msg)  # pragma: no cover


class DeskBase:
    """Shared state and helpers of the :class:`~csdomain.service.ServiceDesk` use cases."""

    def __init__(
        self,
        store: Store,
        *,
        policy: Policy | None = None,
        clock: Clock | None = None,
        calendar: BusinessCalendar | None = None,
        team_calendars: Mapping[str, BusinessCalendar] | None = None,
        plugin_manager: pluggy.PluginManager | None = None,
        retries: int = 5,
    ) -> None:
        self.store = store
        self.policy = policy or Policy()
        self.clock: Clock = clock or store.clock
        self.calendar = calendar or self.policy.calendar
        self.team_calendars = dict(team_calendars or {})
        self._plugin_manager = plugin_manager
        if retries < 1:
            raise ValidationError.at("retries", "must be at least 1")
        self.retries = retries

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The plugin manager (the process default unless one was given)."""
        if self._plugin_manager is None:
            from csdomain.plugins import default_plugin_manager  # noqa: PLC0415

            self._plugin_manager = default_plugin_manager()
        return self._plugin_manager

    def now(self) -> datetime:
        """The current time from the desk's clock."""
        return self.clock.now()

    def calendar_for(self, team: str | None) -> BusinessCalendar:
        """The business calendar of ``team`` (the desk's calendar if it has none)."""
        if team and team in self.team_calendars:
            return self.team_calendars[team]
        return self.calendar

    def run(self, work: Callable[[UnitOfWork], T], *, readonly: bool = False) -> T:
        """Run one use case as a unit of work, retried on concurrency conflicts."""
        return retrying(self.store, work, attempts=self.retries, readonly=readonly)

    def bounded_text(self, value: object, path: str, *, long: bool = True) -> str:
        """``value`` when it is text within the policy's length limit (``limits``).

        ``long`` texts (descriptions, notes, reasons) may have ``max_long_text``
        characters, short ones (names, references, purposes) ``max_short_text``.
        """
        if not isinstance(value, str):
            raise ValidationError.at(path, f"expected text, got {type(value).__name__}")
        limits = self.policy.limits
        limit = limits.max_long_text if long else limits.max_short_text
        if len(value) > limit:
            raise ValidationError.at(path, f"longer than {limit} characters")
        return value

    def optional_bounded_text(self, value: object, path: str, *, long: bool = False) -> str | None:
        """``None`` or :meth:`bounded_text`."""
        return None if value is None else self.bounded_text(value, path, long=long)

    def require(self, by: Actor, permission: str) -> None:
        """Raise :class:`PermissionDenied` unless ``by`` holds ``permission``."""
        if not isinstance(by, Actor):
            raise ValidationError.at("by", f"expected an Actor, got {type(by).__name__}")
        if not self.policy.access.allows(by, permission):
            raise PermissionDenied(by.id, permission)
