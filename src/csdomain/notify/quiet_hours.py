"""Rest hours: a message to a customer never goes out while the customer rests.

docs/domain.md 3.5 and 7: unless urgent. The hours used are kept on the message so that
retries after a failure land outside them too.
"""

from __future__ import annotations

import attrs

from csdomain.calendar import QuietHours
from csdomain.errors import ValidationError
from csdomain.notify.model import Message, MessageStatus, WaitReason
from csdomain.notify.policy import NotificationPolicy


__all__ = ["hold_for_quiet_hours"]


def hold_for_quiet_hours(
    message: Message, rest_hours: QuietHours | None, policy: NotificationPolicy
) -> Message:
    """Hold a message to a customer until the customer's rest hours end (docs/domain.md 3.5, 7).

    ``rest_hours`` is the customer's own setting; ``None`` means the policy default. Urgent
    messages and messages to no customer (staff, webhooks) are never held. The hours used
    are recorded on the message so that retries, and the dispatcher when it claims the
    message, avoid them as well; a message moved out of them waits for
    :attr:`WaitReason.REST_HOURS`.
    """
    if message.urgent or message.customer_id is None:
        return message
    hours = rest_hours if rest_hours is not None else policy.default_rest_hours
    if hours is None:
        return message
    earliest = message.next_attempt_at or message.not_before or message.created_at
    if earliest is None:
        raise ValidationError.at("created_at", "a draft message has no time to hold from")
    allowed = hours.next_allowed(earliest)
    not_before = message.not_before
    waiting_for = message.waiting_for
    if allowed != earliest:
        not_before = allowed if not_before is None else max(not_before, allowed)
        waiting_for = WaitReason.REST_HOURS
    if message.status is not MessageStatus.PENDING:
        return attrs.evolve(message, quiet_hours=hours)
    return attrs.evolve(
        message,
        quiet_hours=hours,
        not_before=not_before,
        next_attempt_at=allowed,
        waiting_for=waiting_for,
    )
