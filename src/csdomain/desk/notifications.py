"""Notifications in the store: the outbox relay, the dispatcher and care scheduling.

Domain events reach customers in three steps (DOMAIN.md 7, DESIGN.md 5):

1. a use case writes its events to the outbox in the same unit of work as the change;
2. the **relay** turns each pending outbox entry into stored messages
   (:func:`csdomain.notify.messages_for`; ids derive from the entry, so a replay adds
   nothing) and marks the entry processed, one batch per unit of work;
3. the **dispatcher** claims due messages one at a time (a lease, so two workers never
   send the same message at once), delivers them outside any transaction through the
   ``csdomain_deliver`` hook and records the outcome: delivered, retried with backoff, or
   dead-lettered after the policy's maximum attempts. Delivery is at least once; receivers
   drop duplicates by ``idempotency_key``.

:class:`NotificationDesk` holds the use cases (relay, care scheduling, the operator's
outbox listing, retry and cancel); :class:`Dispatcher` is the worker loop behind
``csdomain dispatch``. Which messages an event becomes is up to the plugins on the desk's
manager: the built-in ones (:data:`csdomain.plugins.DEFAULT_PLUGINS`: customer notices,
escalation notices to the new owner) are registered there, never by a use case.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import socket
import threading
import time
import typing
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Literal, ParamSpec, Protocol, TypeVar, runtime_checkable

import attrs
import pluggy

from csdomain.auth import Actor, Permission
from csdomain.calendar import QuietHours
from csdomain.care import CarePlan, CareSubject, care_messages, due_touchpoints
from csdomain.clock import Clock
from csdomain.customers import Customer
from csdomain.desk.args import Check, Id, LongText, Positive, checker
from csdomain.desk.base import DeskBase, checked, retrying, use_case
from csdomain.errors import (
    AlreadyExists,
    BackendUnavailable,
    ConcurrencyConflict,
    CsDomainError,
    InvalidTransition,
    NotFound,
    RuleViolation,
    ValidationError,
)
from csdomain.kinds import CUSTOMERS, MESSAGES
from csdomain.notifiers import attempt_delivery
from csdomain.notify import (
    ESCALATION_NOTICES,
    Message,
    MessageStatus,
    NotificationPolicy,
    OwnerNotices,
    messages_for,
)
from csdomain.plugins import ESCALATION_NOTICES_PLUGIN
from csdomain.policy import LimitsPolicy
from csdomain.store import OutboxEntry, Store, UnitOfWork
from csdomain.validators import count


__all__ = [
    "ESCALATION_NOTICES",
    "ESCALATION_NOTICES_PLUGIN",
    "OUTBOX_FAILED",
    "DispatchSummary",
    "Dispatcher",
    "NotificationDesk",
    "OutboxStatus",
    "OwnerNotices",
    "RoundObserver",
    "customer_address",
    "default_worker_id",
    "relay_outbox_batch",
]

T = TypeVar("T")
P = ParamSpec("P")

logger = logging.getLogger("csdomain.dispatch")

#: Outbox entry status of an event that could not be turned into messages.
OUTBOX_FAILED = "failed"

#: Errors of the store itself: never swallowed while rendering an outbox entry.
_STORE_ERRORS: tuple[type[CsDomainError], ...] = (
    AlreadyExists,
    BackendUnavailable,
    ConcurrencyConflict,
)

#: ``Message.claim`` refusals that mean "someone else has it" or "not yet".
_NOT_CLAIMABLE = frozenset({"message_not_due", "lease_active"})


# -- shared helpers ------------------------------------------------------------------------


def customer_address(customer: Customer | None, channel: str) -> str | None:
    """The customer's address on ``channel``: phone for ``"sms"``, e-mail for ``"email"``."""
    if customer is None:
        return None
    if not isinstance(customer, Customer):
        raise ValidationError.at("customer", f"expected a Customer, got {type(customer).__name__}")
    if channel == "sms":
        return customer.phone or None
    if channel == "email":
        return customer.email or None
    return None


def default_worker_id() -> str:
    """A worker id unique to this process: host, process id and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


#: Limits of a dispatcher made without a desk (the desk passes its own).
_DEFAULT_LIMITS = LimitsPolicy()


def _entry_point(function: Callable[P, T]) -> Callable[P, T]:
    """Check the arguments of a dispatcher entry point against their annotations first.

    The same vocabulary as the desk's use cases (:func:`csdomain.desk.args.checker`: only
    ``True``/``False`` for a bool, bounded whole numbers, ids that are ids ...), with the
    dispatcher's ``limits``; the checked values are passed on. A bad call raises
    :class:`~csdomain.errors.ValidationError` naming the argument before anything runs.
    """
    signature = inspect.signature(function)
    public = [name for name in signature.parameters if name != "self"]
    compiled: list[dict[str, Check]] = []  # filled once, whole (threads may race to it)

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise ValidationError.at("", f"{function.__name__}(): {err}") from None
        if not compiled:
            hints = typing.get_type_hints(function, include_extras=True)
            compiled.append({name: checker(hints[name]) for name in public})
        checks = compiled[0]
        owner = bound.arguments.get("self")
        limits = owner.limits if isinstance(owner, Dispatcher) else _DEFAULT_LIMITS
        arguments = bound.arguments
        for name in public:
            if name in arguments:
                arguments[name] = checks[name](arguments[name], name, limits)
        return function(*bound.args, **bound.kwargs)

    return run


@attrs.frozen
class _RelayResult:
    entries: int
    messages: int


@_entry_point
def relay_outbox_batch(
    store: Store,
    pm: pluggy.PluginManager,
    *,
    clock: Clock,
    policy: NotificationPolicy,
    limit: Positive | None = None,
    attempts: Positive = 5,
) -> tuple[int, int]:
    """Turn up to ``limit`` pending outbox entries into messages in one unit of work.

    Returns ``(entries handled, messages stored)``. Each entry is marked ``processed``
    (also when no template matches its event type); messages whose id is already stored
    are skipped, so relaying the same event twice stores nothing twice. An entry whose
    event cannot be read or rendered (an unknown type, a broken template) is marked
    ``failed`` and logged instead of blocking the outbox. Source: DOMAIN.md 7.
    """
    size = policy.batch_size if limit is None else limit

    def work(uow: UnitOfWork) -> _RelayResult:
        now = clock.now()
        entries = uow.outbox.claim_candidates(status="pending", order_by="created_at", limit=size)
        if not entries:
            return _RelayResult(0, 0)
        messages = uow.repo(MESSAGES)
        customers = uow.repo(CUSTOMERS)
        cache: dict[str, Customer | None] = {}

        def customer(customer_id: str) -> Customer | None:
            if customer_id not in cache:
                cache[customer_id] = customers.get_or_none(customer_id)
            return cache[customer_id]

        def recipient_for(customer_id: str | None, channel: str) -> str | None:
            return None if customer_id is None else customer_address(customer(customer_id), channel)

        def rest_hours_for(customer_id: str) -> QuietHours | None:
            found = customer(customer_id)
            return None if found is None else found.rest_hours

        stored = 0
        for entry in entries:
            rendered = _render_entry(
                entry, pm, now, policy, recipient_for=recipient_for, rest_hours_for=rest_hours_for
            )
            if isinstance(rendered, str):
                uow.outbox.update(entry.failed(now, rendered))
                continue
            for message in rendered:
                if not messages.exists(message.id):
                    messages.add(message)
                    stored += 1
            uow.outbox.update(entry.processed(now))
        return _RelayResult(len(entries), stored)

    result = retrying(store, work, attempts=attempts, retry_already_exists=True)
    return result.entries, result.messages


def _render_entry(
    entry: OutboxEntry,
    pm: pluggy.PluginManager,
    now: datetime,
    policy: NotificationPolicy,
    *,
    recipient_for: Callable[[str | None, str], str | None],
    rest_hours_for: Callable[[str], QuietHours | None],
) -> list[Message] | str:
    """The messages of one outbox entry, or the error text when it cannot be rendered."""
    try:
        return messages_for(
            entry.event(),
            pm,
            at=now,
            policy=policy,
            recipient_for=recipient_for,
            rest_hours_for=rest_hours_for,
            event_id=entry.id,
        )
    except _STORE_ERRORS:
        raise
    except Exception as err:  # a plugin's or template's bug must not block the outbox
        logger.warning(
            "outbox entry %s (%s) cannot become messages: %s: %s",
            entry.id,
            entry.type,
            type(err).__name__,
            err,
        )
        return f"{type(err).__name__}: {err}"


# -- the dispatcher -------------------------------------------------------------------------


@attrs.frozen
class DispatchSummary:
    """What dispatcher rounds did: outbox entries relayed and message outcomes.

    ``delivered``, ``retried`` (failed, pending again after backoff) and ``dead``
    (dead-lettered) count messages this worker claimed; ``skipped`` counts due messages it
    did not get (another worker won the lease, or the lease was lost before the outcome
    was saved).
    """

    relayed: int = attrs.field(default=0, validator=count)
    delivered: int = attrs.field(default=0, validator=count)
    retried: int = attrs.field(default=0, validator=count)
    dead: int = attrs.field(default=0, validator=count)
    skipped: int = attrs.field(default=0, validator=count)

    def __add__(self, other: DispatchSummary) -> DispatchSummary:
        if not isinstance(other, DispatchSummary):
            return NotImplemented
        return DispatchSummary(
            relayed=self.relayed + other.relayed,
            delivered=self.delivered + other.delivered,
            retried=self.retried + other.retried,
            dead=self.dead + other.dead,
            skipped=self.skipped + other.skipped,
        )

    @property
    def idle(self) -> bool:
        """True when the round found nothing to relay and no message due."""
        return not (self.relayed or self.delivered or self.retried or self.dead or self.skipped)

    def describe(self) -> str:
        """One line for people: ``delivered 3, retried 1, dead-lettered 0 ...``."""
        return (
            f"delivered {self.delivered}, retried {self.retried}, dead-lettered {self.dead}, "
            f"skipped {self.skipped}; relayed {self.relayed} outbox event(s)"
        )


_OUTCOMES = {
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.PENDING: "retried",
    MessageStatus.DEAD: "dead",
}


#: The longest pause between rounds ``run_forever`` accepts (seconds): one day.
MAX_INTERVAL = 86_400.0


@runtime_checkable
class RoundObserver(Protocol):
    """Called with each round's :class:`DispatchSummary` (``run_forever(on_round=...)``)."""

    def __call__(self, summary: DispatchSummary, /) -> None:
        """Take note of one round."""


class Dispatcher:
    """A worker that relays the outbox and delivers due messages (``csdomain dispatch``).

    Several dispatchers may share one store: each message is claimed with a lease in its
    own small unit of work, delivered outside any transaction, and its outcome saved only
    if the lease is still this worker's. On backends with row locks, outbox entries and
    messages are claimed with ``FOR UPDATE SKIP LOCKED``: what another worker is claiming
    right now is skipped at once instead of waited for. Source: DOMAIN.md 7, DESIGN.md 5
    (at-least-once delivery, retry with backoff, dead letter after N tries, quiet hours).

    Its entry points check their arguments like the desk's use cases do (the vocabulary
    of :mod:`csdomain.desk.args`, within ``limits``).
    """

    #: Bounds on the arguments the entry points accept.
    limits: LimitsPolicy = _DEFAULT_LIMITS

    @_entry_point
    def __init__(
        self,
        store: Store,
        plugin_manager: pluggy.PluginManager,
        clock: Clock,
        *,
        policy: NotificationPolicy | None = None,
        worker_id: Id | None = None,
        retries: Positive = 5,
        limits: LimitsPolicy | None = None,
    ) -> None:
        self.store = store
        self.plugin_manager = plugin_manager
        self.clock = clock
        self.policy = policy or NotificationPolicy()
        self.worker_id = worker_id or default_worker_id()
        self.retries = retries
        self.limits = limits or _DEFAULT_LIMITS

    def __repr__(self) -> str:
        return f"Dispatcher({self.store.url!r}, worker_id={self.worker_id!r})"

    # -- one round --------------------------------------------------------------------------

    @_entry_point
    def relay(self, limit: Positive | None = None) -> int:
        """Relay one batch of pending outbox entries; returns how many were handled."""
        entries, _ = relay_outbox_batch(
            self.store,
            self.plugin_manager,
            clock=self.clock,
            policy=self.policy,
            limit=limit,
            attempts=self.retries,
        )
        return entries

    def due_message_ids(self) -> list[str]:
        """Ids of the messages due now, oldest first, at most ``policy.batch_size``."""
        with self.store.unit_of_work(readonly=True) as uow:
            due = uow.repo(MESSAGES).find(
                status__in=[MessageStatus.PENDING, MessageStatus.CLAIMED],
                due_at__le=self.clock.now(),
                order_by="due_at",
                limit=self.policy.batch_size,
            )
            return [m.id for m in due]

    def run_once(self) -> DispatchSummary:
        """One round: relay a batch of the outbox, then deliver a batch of due messages."""
        relayed = self.relay()
        counts = {"delivered": 0, "retried": 0, "dead": 0, "skipped": 0}
        for message_id in self.due_message_ids():
            counts[self.dispatch(message_id)] += 1
        return DispatchSummary(relayed=relayed, **counts)

    @_entry_point
    def dispatch(self, message_id: Id) -> str:
        """Claim, deliver and record one message; returns the outcome's summary field."""
        claimed = self._claim(message_id)
        if isinstance(claimed, str):
            return claimed
        message, version = claimed
        outcome = attempt_delivery(
            message, self.plugin_manager, clock=self.clock, policy=self.policy
        )
        try:
            with self.store.unit_of_work() as uow:
                uow.repo(MESSAGES).update(outcome, expected_version=version)
        except (ConcurrencyConflict, NotFound):
            logger.warning(
                "lease on message %s was lost before its outcome (%s) was saved",
                message_id,
                outcome.status,
            )
            return "skipped"
        if outcome.status is MessageStatus.DEAD:
            logger.warning("message %s dead-lettered: %s", message_id, outcome.last_error)
        return _OUTCOMES[outcome.status]

    def _claim(self, message_id: str) -> tuple[Message, int] | str:
        try:
            with self.store.unit_of_work() as uow:
                return self._claim_in(uow, message_id)
        except ConcurrencyConflict:
            return "skipped"

    def _claim_in(self, uow: UnitOfWork, message_id: str) -> tuple[Message, int] | str:
        repo = uow.repo(MESSAGES)
        candidates = repo.claim_candidates(key=message_id, limit=1)
        if not candidates:
            return "skipped"
        message = candidates[0]
        now = self.clock.now()
        if (
            message.status is MessageStatus.CLAIMED
            and message.is_due(now)
            and message.attempts >= self.policy.max_attempts
        ):
            repo.update(message.mark_failed("lease expired without outcome", now, self.policy))
            logger.warning("message %s dead-lettered: its last lease expired", message_id)
            return "dead"
        try:
            claimed = message.claim(self.worker_id, now, self.policy.lease)
        except RuleViolation as err:
            if err.code in _NOT_CLAIMABLE:
                return "skipped"
            raise
        except InvalidTransition:
            return "skipped"
        return claimed, repo.update(claimed)

    # -- the loop -----------------------------------------------------------------------

    def _wait_for_work(self, interval: float, stop: threading.Event) -> None:
        """Sleep ``interval`` seconds or until ``stop``; a backend that announces new work
        (``wait_for_work``: PostgreSQL LISTEN/NOTIFY) ends the wait early."""
        wait = getattr(self.store.backend, "wait_for_work", None)
        if wait is None:
            stop.wait(interval)
            return
        deadline = time.monotonic() + interval
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                if wait(min(left, 1.0)):
                    return
            except BackendUnavailable as err:
                logger.warning("dispatcher %s: cannot wait for work: %s", self.worker_id, err)
                stop.wait(left)
                return

    @_entry_point
    def run_forever(
        self,
        interval: float,
        *,
        stop: threading.Event | None = None,
        max_rounds: Positive | None = None,
        until_idle: bool = False,
        on_round: RoundObserver | None = None,
    ) -> DispatchSummary:
        """Run rounds until ``stop`` is set, ``max_rounds`` ran or (``until_idle``) a round
        found nothing to do; returns the totals.

        A busy round is followed at once by the next; after an idle round the worker waits
        ``interval`` seconds (or until ``stop`` is set). A store that is briefly unavailable
        (e.g. locked) is logged and retried after ``interval`` (a short growing pause when
        ``interval`` is 0). Such a round is not idle: with ``until_idle`` the worker keeps
        trying, and re-raises :class:`BackendUnavailable` after ``retries`` failed rounds
        in a row. ``interval`` is at most :data:`MAX_INTERVAL` seconds.
        """
        if not 0 <= interval <= MAX_INTERVAL:
            msg = f"must be between 0 and {MAX_INTERVAL:g} seconds, got {interval:g}"
            raise ValidationError.at("interval", msg)
        stop = stop or threading.Event()
        total = DispatchSummary()
        rounds = 0
        failures = 0
        while not stop.is_set():
            try:
                summary = self.run_once()
            except BackendUnavailable as err:
                failures += 1
                logger.warning("dispatcher %s: store unavailable: %s", self.worker_id, err)
                if until_idle and failures > self.retries:
                    raise
                summary = DispatchSummary()
            else:
                failures = 0
            total += summary
            rounds += 1
            if on_round is not None:
                on_round(summary)
            if max_rounds is not None and rounds >= max_rounds:
                break
            if failures:
                self._wait_for_work(interval or min(1.0, 0.05 * failures), stop)
            elif summary.idle:
                if until_idle:
                    break
                self._wait_for_work(interval, stop)
        return total


# -- the use cases --------------------------------------------------------------------------


#: What the operator's outbox listing shows: the messages of one status, or ``"all"``.
OutboxStatus = Literal["all", "pending", "claimed", "delivered", "dead", "cancelled"]


class NotificationDesk(DeskBase):
    """Use cases of notifications: relay, care schedule, outbox listing, retry, cancel."""

    @checked()
    def dispatcher(self, *, worker_id: Id | None = None) -> Dispatcher:
        """A :class:`Dispatcher` on this desk's store, plugins, clock, policy and limits."""
        return Dispatcher(
            self.store,
            self.plugin_manager,
            self.clock,
            policy=self.policy.notifications,
            worker_id=worker_id,
            retries=self.retries,
            limits=self.policy.limits,
        )

    @checked(Permission.SEND_NOTIFICATIONS)
    def relay_outbox(self, *, by: Actor, limit: Positive | None = None) -> int:
        """Turn pending outbox events into stored messages; returns the entries handled.

        Works in batches of ``policy.notifications.batch_size`` (one unit of work each),
        up to ``limit`` entries (all pending ones if ``None``). Replaying an event stores
        no second message. Needs ``notification.send``. Source: DOMAIN.md 7.
        """
        policy = self.policy.notifications
        handled = 0
        while limit is None or handled < limit:
            size = policy.batch_size if limit is None else min(policy.batch_size, limit - handled)
            entries, _ = relay_outbox_batch(
                self.store,
                self.plugin_manager,
                clock=self.clock,
                policy=policy,
                limit=size,
                attempts=self.retries,
            )
            handled += entries
            if entries < size:
                break
        return handled

    @use_case(Permission.SEND_NOTIFICATIONS, retry_already_exists=True)
    def schedule_care(
        self,
        uow: UnitOfWork,
        customer_id: Id,
        plan: CarePlan | None = None,
        *,
        by: Actor,
        job_completed_on: date | None = None,
        handed_over_on: date | None = None,
    ) -> list[Message]:
        """Store the customer's care messages due within ``policy.care.horizon``.

        Touch-points come from ``plan`` (default ``policy.care.plan``): next-day call after
        ``job_completed_on``, one month and one year after ``handed_over_on``, maintenance
        reminders, the check before New Year and the customer's birthday, each at local time
        outside the customer's rest hours. Returns the messages stored by this call: running
        it again stores nothing twice (a concurrent run that stored them first is skipped).
        Needs ``notification.send``. Source: DOMAIN.md 3.5.
        """
        care = self.policy.care
        notifications = self.policy.notifications
        now = self.now()
        customer = uow.repo(CUSTOMERS).get(customer_id)
        subject = CareSubject(
            customer_id=customer.id,
            name=customer.name,
            tz=self._customer_tz(customer),
            birthday=customer.birthday,
            job_completed_on=job_completed_on,
            handed_over_on=handed_over_on,
            rest_hours=customer.rest_hours,
        )
        occurrences = due_touchpoints(
            plan or care.plan,
            subject,
            now,
            now + care.horizon,
            default_rest_hours=notifications.default_rest_hours,
        )
        messages = care_messages(
            occurrences,
            subject,
            at=now,
            policy=notifications,
            recipient_for=lambda _cid, channel: customer_address(customer, channel),
        )
        repo = uow.repo(MESSAGES)
        new = [m for m in messages if not repo.exists(m.id)]
        repo.add_many(new)
        return new

    def _customer_tz(self, customer: Customer) -> str:
        if customer.rest_hours is not None:
            return customer.rest_hours.tz
        default = self.policy.notifications.default_rest_hours
        return default.tz if default is not None else self.calendar.tz

    @use_case(Permission.SEND_NOTIFICATIONS, readonly=True)
    def outbox(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        status: OutboxStatus | MessageStatus = "pending",
        limit: Positive | None = None,
    ) -> list[Message]:
        """Stored messages with ``status`` (``"all"`` for every one), for the operator.

        Pending messages come in the order they fall due, others oldest first. Needs
        ``notification.send``.
        """
        repo = uow.repo(MESSAGES)
        if status == "all":
            return list(repo.scan(order_by="created_at", limit=limit))
        order = "due_at" if status == MessageStatus.PENDING else "created_at"
        return list(repo.scan(status=status, order_by=[order, "created_at"], limit=limit))

    @use_case(Permission.SEND_NOTIFICATIONS)
    def retry_message(self, uow: UnitOfWork, message_id: Id, *, by: Actor) -> Message:
        """Send a dead letter again: attempts start over (``csdomain outbox retry ID``).

        The next attempt still respects the customer's rest hours. Needs
        ``notification.send``.
        """
        now = self.now()
        return self.change(uow, MESSAGES, message_id, lambda m: m.requeue(now, by=by.id))

    @use_case(Permission.SEND_NOTIFICATIONS)
    def cancel_message(
        self, uow: UnitOfWork, message_id: Id, *, reason: LongText, by: Actor
    ) -> Message:
        """Withdraw a pending message or a dead letter; ``reason`` goes into its history.

        Needs ``notification.send``.
        """
        now = self.now()
        return self.change(uow, MESSAGES, message_id, lambda m: m.cancel(reason, at=now, by=by.id))
