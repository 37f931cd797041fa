"""Notifications in the store: the outbox relay, the dispatcher and care scheduling.

Domain events reach customers in three steps (docs/domain.md 7, DESIGN.md 5):

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

import logging
import math
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import date, datetime
from typing import Any, Literal, Protocol, runtime_checkable

import attrs
import pluggy

from csdomain.auth import Actor, Permission, same_identity
from csdomain.calendar import QuietHours
from csdomain.care import CarePlan, CareSubject, care_messages, due_touchpoints
from csdomain.clock import Clock
from csdomain.customers import Customer, InteractionChannel
from csdomain.desk.args import Id, LongText, Positive, ShortText
from csdomain.desk.base import DeskBase, checked, entry_point, retrying, use_case
from csdomain.desk.customers import log_interaction
from csdomain.desk.privacy import MASKED, PersonalDataRedactor, replace_whole, scrub
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
from csdomain.ids import NamingSeries
from csdomain.kinds import CUSTOMERS, MESSAGES
from csdomain.notifiers import deliver_claimed
from csdomain.notify import (
    ESCALATION_NOTICES,
    Announcement,
    DealerAnnouncement,
    Message,
    MessageStatus,
    NotificationPolicy,
    OwnerNotices,
    Rendering,
    WaitReason,
    localized_care_message,
    messages_for,
)
from csdomain.notify.pacing import TokenBucket
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
    "OutboxSummary",
    "Outcome",
    "OwnerNotices",
    "RoundObserver",
    "claim_state",
    "customer_address",
    "default_worker_id",
    "masked_message",
    "relay_outbox_batch",
    "worker_is_gone",
]

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


@attrs.frozen
class _RelayResult:
    entries: int
    messages: int


@entry_point
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
    ``failed`` and logged instead of blocking the outbox. Source: docs/domain.md 7.
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

        def language_for(customer_id: str) -> str | None:
            found = customer(customer_id)
            return (found.language or None) if found is not None else None

        stored = 0
        for entry in entries:
            rendered = _render_entry(
                entry,
                pm,
                now,
                policy,
                recipient_for=recipient_for,
                rest_hours_for=rest_hours_for,
                language_for=language_for,
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
    language_for: Callable[[str], str | None],
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
            language_for=language_for,
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

    ``delivered``, ``retried`` (failed, pending again after backoff), ``dead``
    (dead-lettered) and ``deferred`` (a notifier said "retry after": no attempt spent)
    count messages this worker claimed; ``held`` counts due messages it held back instead
    (the recipient's rest hours, a paused channel); ``skipped`` counts due messages it did
    not get (another worker won the lease, or the lease was lost before the outcome was
    saved).
    """

    relayed: int = attrs.field(default=0, validator=count)
    delivered: int = attrs.field(default=0, validator=count)
    retried: int = attrs.field(default=0, validator=count)
    dead: int = attrs.field(default=0, validator=count)
    skipped: int = attrs.field(default=0, validator=count)
    deferred: int = attrs.field(default=0, validator=count)
    held: int = attrs.field(default=0, validator=count)

    def __add__(self, other: DispatchSummary) -> DispatchSummary:
        if not isinstance(other, DispatchSummary):
            return NotImplemented
        return DispatchSummary(
            **{
                field.name: getattr(self, field.name) + getattr(other, field.name)
                for field in attrs.fields(DispatchSummary)
            }
        )

    @property
    def idle(self) -> bool:
        """True when the round found nothing to relay and no message due."""
        return not any(getattr(self, field.name) for field in attrs.fields(DispatchSummary))

    def describe(self) -> str:
        """One line for people: ``delivered 3, retried 1, dead-lettered 0 ...``."""
        return (
            f"delivered {self.delivered}, retried {self.retried}, dead-lettered {self.dead}, "
            f"deferred {self.deferred}, held {self.held}, skipped {self.skipped}; "
            f"relayed {self.relayed} outbox event(s)"
        )


#: What one message's turn came to: a :class:`DispatchSummary` field.
Outcome = Literal["delivered", "retried", "dead", "deferred", "held", "skipped"]

_WAITING_OUTCOMES: dict[WaitReason | None, Outcome] = {
    WaitReason.BACKOFF: "retried",
    WaitReason.RETRY_AFTER: "deferred",
    WaitReason.REST_HOURS: "held",
    WaitReason.RATE_LIMIT: "held",
}


def _outcome_of(message: Message) -> Outcome:
    if message.status is MessageStatus.DELIVERED:
        return "delivered"
    if message.status is MessageStatus.DEAD:
        return "dead"
    return _WAITING_OUTCOMES.get(message.waiting_for, "retried")


#: The longest pause between rounds ``run_forever`` accepts (seconds): one day.
MAX_INTERVAL = 86_400.0
#: How long a busy round waits for a delivery to finish before it looks for more work.
_TICK = 0.2
#: How often a busy dispatcher relays the outbox and looks for channels it does not know.
_REFRESH = 0.5


@runtime_checkable
class RoundObserver(Protocol):
    """Called with each round's :class:`DispatchSummary` (``run_forever(on_round=...)``)."""

    def __call__(self, summary: DispatchSummary, /) -> None:
        """Take note of one round."""


def _pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this host (POSIX; elsewhere: assume so)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, under another user
        return True
    return True


def worker_is_gone(worker_id: str | None) -> bool:
    """Whether the dispatcher ``worker_id`` certainly no longer runs.

    Only a default worker id (:func:`default_worker_id`: host, process id, suffix) of a
    process on this host can be checked; any other worker is gone once its lease expires.
    """
    if not isinstance(worker_id, str):
        return False
    parts = worker_id.split(":")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 10:
        return False
    host, pid = parts[0], int(parts[1])
    if host != socket.gethostname() or pid == os.getpid():
        return False
    return not _pid_alive(pid)


class Dispatcher:
    """A worker that relays the outbox and delivers due messages (``csdomain dispatch``).

    Several dispatchers may share one store: each message is claimed with a lease in its
    own small unit of work, delivered outside any transaction, and its outcome saved only
    if the lease is still this worker's. On backends with row locks, outbox entries and
    messages are claimed with ``FOR UPDATE SKIP LOCKED``: what another worker is claiming
    right now is skipped at once instead of waited for. Source: docs/domain.md 7, DESIGN.md 5
    (at-least-once delivery, retry with backoff, dead letter after N tries, quiet hours).

    Deliveries run in parallel, in one bounded pool of threads per channel
    (``policy.limits_for(channel).concurrency``), so a slow channel never stalls another;
    a channel with a ``rate`` is paced by a token bucket, and a notifier's "retry after"
    pauses its channel for that long. The recipient's rest hours are checked when a message
    is claimed and again just before it is handed to the notifier.

    Its entry points check their arguments like the desk's use cases do (the vocabulary
    of :mod:`csdomain.desk.args`, within ``limits``).
    """

    #: Bounds on the arguments the entry points accept.
    limits: LimitsPolicy = _DEFAULT_LIMITS

    @entry_point
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
        self._lock = threading.Lock()
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._buckets: dict[str, TokenBucket | None] = {}
        self._paused: dict[str, datetime] = {}
        self._inflight: dict[Future[Outcome], tuple[str, str]] = {}
        self._channels: set[str] = set(self.policy.known_channels())
        self._pipelined = False
        self._stop: threading.Event | None = None
        self._refreshed = -math.inf
        self._drained: dict[str, float] = {}
        self._backlog = False

    def __repr__(self) -> str:
        return f"Dispatcher({self.store.url!r}, worker_id={self.worker_id!r})"

    # -- one round --------------------------------------------------------------------------

    @entry_point
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
        return [message_id for message_id, _ in self._due()]

    def _due(self, channel: str | None = None, limit: int | None = None) -> list[tuple[str, str]]:
        """``(id, channel)`` of due messages, oldest first (of one channel if given)."""
        where: dict[str, Any] = {}
        if channel is not None:
            where["channel"] = channel
        with self.store.unit_of_work(readonly=True) as uow:
            due = uow.repo(MESSAGES).find(
                status__in=[MessageStatus.PENDING, MessageStatus.CLAIMED],
                due_at__le=self.clock.now(),
                order_by="due_at",
                limit=self.policy.batch_size if limit is None else limit,
                **where,
            )
            return [(m.id, m.channel) for m in due]

    def run_once(self) -> DispatchSummary:
        """One round: relay a batch of the outbox, then deliver a batch of due messages.

        The round's deliveries run in parallel, each channel in its own bounded pool, and
        the round returns when all of them are done. (Inside :meth:`run_forever` rounds
        overlap: a round returns as soon as some deliveries finished and the next one tops
        the channels up, so a slow channel never holds back a fast one.)
        """
        relayed = self._relay_if_due()
        if self._pipelined:
            self._top_up_channels()
        else:
            self._submit(self._due())
        outcomes = self._collect(everything=not self._pipelined)
        if not self._pipelined:
            self._close_pools()
        counts = Counter(outcomes)
        return DispatchSummary(relayed=relayed, **{k: counts[k] for k in counts})

    def _relay_if_due(self) -> int:
        """Relay a batch: every round, or inside :meth:`run_forever` every ``_REFRESH``
        seconds (at once again while the outbox has a backlog), then look for channels
        with due messages."""
        if not self._pipelined:
            return self.relay()
        now = time.monotonic()
        if not self._backlog and now - self._refreshed < _REFRESH:
            return 0
        relayed = self.relay()
        self._backlog = relayed >= self.policy.batch_size
        self._refreshed = now
        self._discover_channels()
        return relayed

    def _discover_channels(self) -> None:
        """Add the channels that have due messages to the ones topped up (a skip scan)."""
        after: str | None = None
        with self.store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(MESSAGES)
            for _ in range(1000):
                where: dict[str, Any] = {} if after is None else {"channel__gt": after}
                found = repo.find(
                    status__in=[MessageStatus.PENDING, MessageStatus.CLAIMED],
                    due_at__le=self.clock.now(),
                    order_by="channel",
                    limit=1,
                    **where,
                )
                if not found:
                    return
                after = found[0].channel
                self._channels.add(after)

    def _top_up_channels(self) -> None:
        """Give every channel with room in its queue its oldest due messages.

        A channel holds up to twice its concurrency, so its threads never wait for the
        next round; a channel found without more due messages is asked again only after
        the next refresh (new messages arrive through the relay, retries after a backoff).
        """
        queued = Counter(channel for _, channel in self._inflight.values())
        taken = {message_id for message_id, _ in self._inflight.values()}
        now = time.monotonic()
        for channel in sorted(self._channels):
            concurrency = self.policy.limits_for(channel).concurrency
            if queued[channel] > concurrency:
                continue  # still at least one full set of deliveries queued
            if self._drained.get(channel, -math.inf) > self._refreshed:
                continue  # nothing more was due there since the last refresh
            room = min(2 * concurrency - queued[channel], self.policy.batch_size)
            due = self._due(channel, limit=room + queued[channel])
            fresh = [d for d in due if d[0] not in taken][:room]
            if len(fresh) < room:
                self._drained[channel] = now
            self._submit(fresh)

    def _submit(self, due: list[tuple[str, str]]) -> None:
        for message_id, channel in due:
            self._channels.add(channel)
            future = self._pool(channel).submit(self._turn, message_id, channel)
            self._inflight[future] = (message_id, channel)

    def _pool(self, channel: str) -> ThreadPoolExecutor:
        pool = self._pools.get(channel)
        if pool is None:
            workers = self.policy.limits_for(channel).concurrency
            pool = ThreadPoolExecutor(workers, thread_name_prefix=f"csdomain-{channel}"[:40])
            self._pools[channel] = pool
        return pool

    def _close_pools(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.shutdown(wait=True)

    def _collect(self, *, everything: bool) -> list[Outcome]:
        """The outcomes of finished deliveries: all of them, or those done within a tick."""
        if not self._inflight:
            return []
        if everything:
            done, _ = futures_wait(list(self._inflight))
        else:
            done, _ = futures_wait(list(self._inflight), _TICK, FIRST_COMPLETED)
        outcomes: list[Outcome] = []
        error: BaseException | None = None
        for future in done:
            del self._inflight[future]
            try:
                outcomes.append(future.result())
            except Exception as err:  # re-raised once every finished turn is counted
                error = error or err
        if error is not None:
            raise error
        return outcomes

    def _drain(self) -> DispatchSummary:
        """Wait for the deliveries still running; their outcomes."""
        counts = Counter(self._collect(everything=True))
        return DispatchSummary(**{k: counts[k] for k in counts})

    # -- one message --------------------------------------------------------------------

    def _turn(self, message_id: str, channel: str) -> Outcome:
        """One message's turn in its channel's pool: pacing, then claim, deliver, record."""
        stop = self._stop
        if stop is not None and stop.is_set():
            return "skipped"  # stopping: leave it pending for the next worker
        paused = self._paused.get(channel)
        if paused is not None and self.clock.now() < paused:
            return self._hold(message_id, paused, WaitReason.RATE_LIMIT)
        bucket = self._bucket(channel)
        wait = bucket.reserve() if bucket is not None else 0.0
        if wait > 0:
            if stop is not None:
                if stop.wait(wait):
                    return "skipped"
            else:
                time.sleep(wait)
        try:
            return self._deliver(message_id)
        except BackendUnavailable as err:
            logger.warning("dispatcher %s: message %s: %s", self.worker_id, message_id, err)
            return "skipped"

    def _bucket(self, channel: str) -> TokenBucket | None:
        with self._lock:
            if channel not in self._buckets:
                limits = self.policy.limits_for(channel)
                self._buckets[channel] = TokenBucket.for_limits(limits, time.monotonic)
            return self._buckets[channel]

    @entry_point
    def dispatch(self, message_id: Id) -> str:
        """Claim, deliver and record one message; returns the outcome's summary field."""
        return self._deliver(message_id)

    def _deliver(self, message_id: str) -> Outcome:
        claimed = self._claim(message_id)
        if isinstance(claimed, str):
            return claimed
        message, version = claimed
        result = deliver_claimed(message, self.plugin_manager, clock=self.clock, policy=self.policy)
        outcome = result.message
        if result.pause_channel_until is not None:
            with self._lock:
                until = self._paused.get(message.channel)
                if until is None or until < result.pause_channel_until:
                    self._paused[message.channel] = result.pause_channel_until
        try:
            with self.store.unit_of_work() as uow:
                uow.repo(MESSAGES).update(outcome, expected_version=version)
                self._log_care_contact(uow, outcome)
        except (ConcurrencyConflict, NotFound):
            logger.warning(
                "lease on message %s was lost before its outcome (%s) was saved",
                message_id,
                outcome.status,
            )
            return "skipped"
        if outcome.status is MessageStatus.DEAD:
            logger.warning("message %s dead-lettered: %s", message_id, outcome.last_error)
        return _outcome_of(outcome)

    def _log_care_contact(self, uow: UnitOfWork, message: Message) -> None:
        """A delivered care touch-point is a contact with the customer: it goes into the
        customer's interaction log with the delivery (docs/domain.md 3.5 and 9)."""
        if message.status is not MessageStatus.DELIVERED or message.source != "care":
            return
        if not message.customer_id or not uow.repo(CUSTOMERS).exists(message.customer_id):
            return
        log_interaction(
            uow,
            customer_id=message.customer_id,
            channel=InteractionChannel.MESSAGE,
            summary=f"care touch-point {message.kind} sent by {message.channel}",
            at=message.delivered_at or self.clock.now(),
            by=self.worker_id,
            source="care",
            subject_id=message.id,
        )

    def _claim(self, message_id: str) -> tuple[Message, int] | Outcome:
        try:
            with self.store.unit_of_work() as uow:
                return self._claim_in(uow, message_id)
        except ConcurrencyConflict:
            return "skipped"

    def _claim_in(self, uow: UnitOfWork, message_id: str) -> tuple[Message, int] | Outcome:
        repo = uow.repo(MESSAGES)
        candidates = repo.claim_candidates(key=message_id, limit=1)
        if not candidates:
            return "skipped"
        message = candidates[0]
        now = self.clock.now()
        if not message.is_due(now):
            return "skipped"
        expired = message.status is MessageStatus.CLAIMED
        if expired and message.attempts >= self.policy.max_attempts:
            repo.update(message.mark_failed("lease expired without outcome", now, self.policy))
            logger.warning("message %s dead-lettered: its last lease expired", message_id)
            return "dead"
        resting = message.resting_until(now)
        if resting is not None:  # rest hours are checked when the message is claimed
            if expired:
                held = message.release(
                    now,
                    by=self.worker_id,
                    reason="lease expired during the recipient's rest hours",
                    hold=WaitReason.REST_HOURS,
                    until=resting,
                )
            else:
                held = message.hold(resting, WaitReason.REST_HOURS, at=now, by=self.worker_id)
            repo.update(held)
            return "held"
        try:
            claimed = message.claim(self.worker_id, now, self.policy.lease)
        except RuleViolation as err:
            if err.code in _NOT_CLAIMABLE:
                return "skipped"
            raise
        except InvalidTransition:
            return "skipped"
        return claimed, repo.update(claimed)

    def _hold(self, message_id: str, until: datetime, reason: WaitReason) -> Outcome:
        """Hold a due pending message until ``until`` (its channel is paused)."""
        try:
            with self.store.unit_of_work() as uow:
                repo = uow.repo(MESSAGES)
                candidates = repo.claim_candidates(key=message_id, limit=1)
                if not candidates:
                    return "skipped"
                message = candidates[0]
                now = self.clock.now()
                if message.status is not MessageStatus.PENDING or not message.is_due(now):
                    return "skipped"
                note = f"channel {message.channel} paused by a retry-after answer"
                repo.update(message.hold(until, reason, at=now, by=self.worker_id, note=note))
                return "held"
        except (ConcurrencyConflict, BackendUnavailable):
            return "skipped"

    # -- stale claims -------------------------------------------------------------------

    def _gone(self, owner: str | None) -> bool:
        if same_identity(owner, self.worker_id):  # this id's claims from before a restart
            return not self._inflight
        return worker_is_gone(owner)

    def release_stale_claims(self) -> int:
        """Release the claims of workers that are gone; returns how many were released.

        A claim is stale when its worker is certainly gone: this worker's own id from
        before a restart, or a default worker id (:func:`default_worker_id`) of a process
        on this host that no longer runs. Such messages are pending again at once (the
        attempt stays counted: it may have reached the receiver), or dead-lettered when it
        was their last one. Claims of other workers are left to their lease. Runs when
        :meth:`run_forever` starts (and ``csdomain dispatch``).
        """
        with self.store.unit_of_work(readonly=True) as uow:
            claimed = uow.repo(MESSAGES).find(
                status=MessageStatus.CLAIMED, limit=self.policy.batch_size * 100
            )
        stale = [m.id for m in claimed if self._gone(m.claimed_by)]
        released = 0
        for message_id in stale:
            try:
                with self.store.unit_of_work() as uow:
                    released += self._release_in(uow, message_id)
            except ConcurrencyConflict:
                continue
        if released:
            logger.info(
                "dispatcher %s released %d claim(s) of workers that are gone",
                self.worker_id,
                released,
            )
        return released

    def _release_in(self, uow: UnitOfWork, message_id: str) -> int:
        repo = uow.repo(MESSAGES)
        candidates = repo.claim_candidates(key=message_id, limit=1)
        if not candidates:
            return 0
        message = candidates[0]
        if message.status is not MessageStatus.CLAIMED or not self._gone(message.claimed_by):
            return 0
        now = self.clock.now()
        reason = f"worker {message.claimed_by} is gone without an outcome"
        if message.attempts >= self.policy.max_attempts:
            repo.update(message.mark_failed(reason, now, self.policy))
        else:
            repo.update(message.release(now, by=self.worker_id, reason=reason))
        return 1

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

    @entry_point
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

        First the claims of workers that are gone are released
        (:meth:`release_stale_claims`). Rounds overlap: each channel's pool is topped up
        with due messages as deliveries finish, so a slow channel never holds back a fast
        one. A busy round is followed at once by the next; after an idle round (nothing
        relayed, delivered or running) the worker waits ``interval`` seconds (or until
        ``stop`` is set). A store that is briefly unavailable (e.g. locked) is logged and
        retried after ``interval`` (a short growing pause when ``interval`` is 0). Such a
        round is not idle: with ``until_idle`` the worker keeps trying, and re-raises
        :class:`BackendUnavailable` after ``retries`` failed rounds in a row. When the loop
        ends, the deliveries still running are finished and counted. ``interval`` is at
        most :data:`MAX_INTERVAL` seconds.
        """
        if not 0 <= interval <= MAX_INTERVAL:
            msg = f"must be between 0 and {MAX_INTERVAL:g} seconds, got {interval:g}"
            raise ValidationError.at("interval", msg)
        stop = stop or threading.Event()
        total = DispatchSummary()
        rounds = 0
        failures = 0
        self._stop, self._pipelined, self._refreshed = stop, True, -math.inf
        try:
            try:
                self.release_stale_claims()
            except BackendUnavailable as err:
                logger.warning("dispatcher %s: store unavailable: %s", self.worker_id, err)
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
                elif summary.idle and not self._inflight:
                    if until_idle:
                        break
                    self._refreshed = -math.inf  # look at the outbox after the pause
                    self._wait_for_work(interval, stop)
        finally:
            try:
                drained = self._drain()
            finally:
                self._pipelined, self._stop = False, None
                self._close_pools()
        if not drained.idle:
            total += drained
            if on_round is not None:
                on_round(drained)
        return total


# -- the use cases --------------------------------------------------------------------------


#: What the operator's outbox listing shows: the messages of one status, or ``"all"``.
OutboxStatus = Literal["all", "pending", "claimed", "delivered", "dead", "cancelled"]


@attrs.frozen
class OutboxSummary:
    """The operator's overview of the outbox at ``at``: counts, what waits and why.

    ``counts`` has every status; ``waiting`` counts the pending messages that are not due
    yet by :class:`~csdomain.notify.WaitReason` (``"other"`` for none); ``due`` the pending
    ones due now; ``stale`` the claims whose lease expired or whose worker is gone;
    ``next_due`` the earliest moment a waiting message or a lease falls due.
    """

    at: datetime
    counts: Mapping[str, int]
    waiting: Mapping[str, int]
    due: int
    stale: int
    next_due: datetime | None

    @property
    def held(self) -> int:
        """Pending messages that are not due yet, whatever the reason."""
        return sum(self.waiting.values())

    def describe(self) -> str:
        """One line for people: ``pending 12 (due 4, held 8: rest hours 3 ...) ...``."""
        waiting = ", ".join(
            f"{reason.replace('_', ' ')} {n}" for reason, n in self.waiting.items() if n
        )
        pending = f"pending {self.counts.get('pending', 0)} (due now {self.due}"
        pending += f"; held {self.held}: {waiting})" if waiting else ")"
        claimed = f"claimed {self.counts.get('claimed', 0)}"
        if self.stale:
            claimed += f" ({self.stale} stale)"
        others = ", ".join(
            f"{status} {self.counts.get(status, 0)}"
            for status in ("dead", "delivered", "cancelled")
        )
        return f"{pending}, {claimed}, {others}"


def claim_state(message: Message, at: datetime) -> str:
    """What a claim looks like at ``at``: ``"active"``, ``"expired"`` or ``"worker gone"``."""
    if message.status is not MessageStatus.CLAIMED:
        return ""
    if message.lease_until is not None and message.lease_until <= at:
        return "expired"
    if worker_is_gone(message.claimed_by):
        return "worker gone"
    return "active"


def _mask_all(text: str) -> str:
    """Every free text masked: the customer is unknown, so is what to look for."""
    return replace_whole(text, MASKED)


def masked_message(message: Message, redact: Callable[[str], str]) -> Message:
    """``message`` without its customer's personal data (docs/domain.md 1).

    The recipient's address reads :data:`~csdomain.desk.privacy.MASKED` (or
    :data:`~csdomain.desk.privacy.ERASED` if the customer was erased: it is erased, not
    masked); ``redact`` masks the customer's data in the subject, the body, the last error
    and the notes of the history (a :class:`~csdomain.desk.privacy.PersonalDataRedactor`
    with ``replacement=MASKED``). Only the copy shown changes, nothing stored.
    """
    history = scrub(message.history, redact, replacement=MASKED)
    return attrs.evolve(
        message,
        recipient=replace_whole(message.recipient, MASKED),
        subject=redact(message.subject),
        body=redact(message.body),
        last_error=None if message.last_error is None else redact(message.last_error),
        history=history,
    )


class NotificationDesk(DeskBase):
    """Use cases of notifications: relay, care schedule, outbox listing, retry, cancel.

    Messages to a customer carry personal data (the address, the rendered text): the
    listing and :meth:`get_message` leave an access record per customer for an actor with
    ``customer.read`` and mask the messages for one without it (the ``system`` role the
    command line acts as); the other use cases that return messages mask them the same way.
    Messages to staff (no ``customer_id``) are shown as they are.
    """

    def _message_redactor(self, uow: UnitOfWork, customer_id: str) -> Callable[[str], str]:
        """What masks ``customer_id``'s personal data in free text (everything if unknown)."""
        customer = uow.repo(CUSTOMERS).get_or_none(customer_id)
        if customer is None:
            return _mask_all
        return PersonalDataRedactor.for_customer(
            customer, country_code=self.policy.customers.phone_country_code, replacement=MASKED
        )

    def _masked_messages(self, uow: UnitOfWork, messages: list[Message]) -> list[Message]:
        """``messages`` with the personal data of their customers masked."""
        redactors: dict[str, Callable[[str], str]] = {}
        shown = []
        for message in messages:
            cid = message.customer_id
            if cid is None:
                shown.append(message)
                continue
            if cid not in redactors:
                redactors[cid] = self._message_redactor(uow, cid)
            shown.append(masked_message(message, redactors[cid]))
        return shown

    def _out_messages(self, uow: UnitOfWork, messages: list[Message], by: Actor) -> list[Message]:
        """Messages a step returns to ``by``: masked unless ``by`` may read personal data."""
        return messages if self.may_read_personal(by) else self._masked_messages(uow, messages)

    def _shown_messages(
        self, uow: UnitOfWork, messages: list[Message], by: Actor, purpose: str
    ) -> list[Message]:
        """Messages a query shows ``by``: recorded per customer (``purpose``), or masked."""
        if self.may_read_personal(by):
            self.record_access(uow, [m.customer_id for m in messages], by, purpose)
            return messages
        return self._masked_messages(uow, messages)

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
        no second message. Needs ``notification.send``. Source: docs/domain.md 7.
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
        reminders, the check before New Year, the customer's birthday and a greeting on the
        first day of each holiday of the desk's business calendar (节日问候), each at local time
        outside the customer's rest hours. Returns the messages stored by this call: running
        it again stores nothing twice (a concurrent run that stored them first is skipped).
        Needs ``notification.send``. Source: docs/domain.md 3.5.
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
            holidays=self.calendar.holidays,
        )
        messages = care_messages(
            occurrences,
            subject,
            at=now,
            policy=notifications,
            recipient_for=lambda _cid, channel: customer_address(customer, channel),
        )
        # written in the customer's language (else the policy's), like every other notice
        base = Rendering.of(notifications)
        wanted = Rendering(customer.language or base.language, base.time_zone, base.catalog_dirs)
        by_key = {occurrence.idempotency_key: occurrence for occurrence in occurrences}
        messages = [
            localized_care_message(m, by_key[m.idempotency_key], subject, wanted)
            if m.idempotency_key in by_key
            else m
            for m in messages
        ]
        repo = uow.repo(MESSAGES)
        new = [m for m in messages if not repo.exists(m.id)]
        repo.add_many(new)
        return self._out_messages(uow, new, by)

    def _customer_tz(self, customer: Customer) -> str:
        if customer.rest_hours is not None:
            return customer.rest_hours.tz
        default = self.policy.notifications.default_rest_hours
        return default.tz if default is not None else self.calendar.tz

    @use_case(Permission.SEND_NOTIFICATIONS)
    def outbox(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        status: OutboxStatus | MessageStatus = "pending",
        limit: Positive | None = None,
        kind: Id | None = None,
        channel: Id | None = None,
        customer_id: Id | None = None,
    ) -> list[Message]:
        """Stored messages with ``status`` (``"all"`` for every one), for the operator.

        ``kind``, ``channel`` and ``customer_id`` narrow the listing. Pending messages come
        in the order they fall due, others oldest first. Needs ``notification.send``. The
        listing shows customers' addresses and texts: an actor with ``customer.read``
        leaves an access record per customer listed (purpose ``outbox``), one without it
        gets the messages masked (docs/domain.md 1).
        """
        repo = uow.repo(MESSAGES)
        where = _filters(kind=kind, channel=channel, customer_id=customer_id)
        if status == "all":
            found = list(repo.scan(order_by="created_at", limit=limit, **where))
        else:
            order = "due_at" if status == MessageStatus.PENDING else "created_at"
            found = list(
                repo.scan(status=status, order_by=[order, "created_at"], limit=limit, **where)
            )
        return self._shown_messages(uow, found, by, "outbox")

    @use_case(Permission.SEND_NOTIFICATIONS)
    def get_message(self, uow: UnitOfWork, message_id: Id, *, by: Actor) -> Message:
        """One stored message (``csdomain outbox show ID``); :class:`NotFound` if none.

        Needs ``notification.send``. Shown as :meth:`outbox` shows messages (an access
        record, purpose ``message``, or masked).
        """
        return self._shown_messages(uow, [uow.repo(MESSAGES).get(message_id)], by, "message")[0]

    @use_case(Permission.SEND_NOTIFICATIONS, readonly=True)
    def outbox_summary(self, uow: UnitOfWork, *, by: Actor) -> OutboxSummary:
        """Counts per status, what waits and why, stale claims and the next due moment.

        What ``csdomain outbox`` and ``csdomain dispatch`` print above their results.
        Needs ``notification.send``.
        """
        now = self.now()
        repo = uow.repo(MESSAGES)
        counts = {status.value: repo.count(status=status) for status in MessageStatus}
        due = repo.count(status=MessageStatus.PENDING, due_at__le=now)
        waiting = {
            reason.value: repo.count(
                status=MessageStatus.PENDING, due_at__gt=now, waiting_for=reason
            )
            for reason in WaitReason
        }
        other = counts[MessageStatus.PENDING.value] - due - sum(waiting.values())
        if other > 0:
            waiting["other"] = other
        claims = repo.scan(status=MessageStatus.CLAIMED, limit=_MAX_CLAIMS_SHOWN)
        stale = sum(1 for m in claims if claim_state(m, now) in ("expired", "worker gone"))
        upcoming = repo.find(
            status__in=[MessageStatus.PENDING, MessageStatus.CLAIMED],
            due_at__gt=now,
            order_by="due_at",
            limit=1,
        )
        return OutboxSummary(
            at=now,
            counts=counts,
            waiting=waiting,
            due=due,
            stale=stale,
            next_due=upcoming[0].due_at if upcoming else None,
        )

    @use_case(Permission.SEND_NOTIFICATIONS)
    def retry_message(self, uow: UnitOfWork, message_id: Id, *, by: Actor) -> Message:
        """Send a dead letter again: attempts start over (``csdomain outbox retry ID``).

        Only a dead letter: a message that is waiting or being delivered is refused with
        :class:`~csdomain.errors.InvalidTransition` saying what it is doing (a claimed one
        is being sent right now). The next attempt still respects the customer's rest
        hours. Needs ``notification.send``.
        """
        now = self.now()
        again = self.change(uow, MESSAGES, message_id, lambda m: m.requeue(now, by=by.id))
        return self._out_messages(uow, [again], by)[0]

    @use_case(Permission.SEND_NOTIFICATIONS)
    def retry_dead_letters(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        channel: Id | None = None,
        kind: Id | None = None,
        limit: Positive | None = None,
    ) -> list[Message]:
        """Send the dead letters again, all of them or those of one channel or kind.

        ``csdomain outbox retry --dead --channel sms``: each is requeued as
        :meth:`retry_message` does (attempts start over, rest hours respected), oldest
        first, at most ``limit``, in one unit of work. Returns the requeued messages.
        Needs ``notification.send``.
        """
        now = self.now()
        repo = uow.repo(MESSAGES)
        where = _filters(kind=kind, channel=channel)
        dead = repo.find(status=MessageStatus.DEAD, order_by="created_at", limit=limit, **where)
        again = [message.requeue(now, by=by.id) for message in dead]
        for message in again:
            repo.update(message)
        return self._out_messages(uow, again, by)

    @use_case(Permission.SEND_NOTIFICATIONS)
    def cancel_message(
        self, uow: UnitOfWork, message_id: Id, *, reason: LongText, by: Actor
    ) -> Message:
        """Withdraw a waiting message (pending or dead); ``reason`` goes into its history.

        A claimed message is being delivered right now and is refused, saying by which
        worker and since when. Needs ``notification.send``.
        """
        now = self.now()
        gone = self.change(uow, MESSAGES, message_id, lambda m: m.cancel(reason, at=now, by=by.id))
        return self._out_messages(uow, [gone], by)[0]

    @use_case(Permission.SEND_NOTIFICATIONS)
    def announce_to_dealers(
        self, uow: UnitOfWork, *, title: ShortText, text: LongText, by: Actor
    ) -> Announcement:
        """One announcement to every dealer (docs/domain.md 7: announcements to dealers).

        Every customer whose class is in ``notifications.announcement_classes`` (``dealer``)
        gets a :class:`~csdomain.notify.DealerAnnouncement` in the outbox, all in this unit
        of work and under one number (``notifications.announcement_number_pattern``); the
        relay turns each into a message with the template ``dealer_announcement`` on that
        kind's channel (e-mail by default), held for the dealer's rest hours (their own,
        else ``notifications.default_rest_hours``) like every customer message. A dealer
        without an address on the channel gets no message. No dealer on file:
        :class:`~csdomain.errors.RuleViolation` ``no_dealers``, nothing written. Needs
        ``notification.send``.
        """
        if not title.strip():
            raise ValidationError.at("title", "must not be blank")
        if not text.strip():
            raise ValidationError.at("text", "must not be blank")
        policy = self.policy.notifications
        customers = uow.repo(CUSTOMERS)
        dealers = sorted(
            {
                customer.id
                for customer_class in sorted(policy.announcement_classes)
                for customer in customers.scan(customer_class=customer_class)
            }
        )
        if not dealers:
            raise RuleViolation(
                "no_dealers",
                "no customer of the announcement classes is on file",
                classes=sorted(policy.announcement_classes),
            )
        now = self.now()
        number = NamingSeries(policy.announcement_number_pattern).next(uow, now)
        for customer_id in dealers:
            uow.emit(
                DealerAnnouncement(
                    announcement_id=number,
                    customer_id=customer_id,
                    title=title.strip(),
                    text=text,
                    at=now,
                    by=by.id,
                ),
                at=now,
            )
        return Announcement(
            id=number, title=title.strip(), text=text, at=now, by=by.id, customer_ids=tuple(dealers)
        )


#: The most claimed messages :meth:`NotificationDesk.outbox_summary` looks at for staleness.
_MAX_CLAIMS_SHOWN = 10_000


def _filters(**fields: str | None) -> dict[str, Any]:
    """The index filters of the given fields that are set."""
    return {name: value for name, value in fields.items() if value is not None}
