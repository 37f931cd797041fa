"""Plugin hooks of csdomain: the plugin author's reference.

A plugin is a module or object with functions marked ``@csdomain.hookimpl`` whose names
match the specs below. Publish it through the ``csdomain`` entry-point group and
csdomain finds it on import, exactly as it finds its own bundled backends:

.. code-block:: toml

    [project.entry-points.csdomain]
    mybackend = "my_package.plugin"

An application can also register a plugin object at run time with
:func:`csdomain.plugins.register`.

Hooks
-----
- :func:`csdomain_open_store` -- storage backends ("who handles this URL?")
- :func:`csdomain_deliver` -- notifiers ("who delivers this message?")
- :func:`csdomain_messages` -- turn domain events into outgoing messages
- :func:`csdomain_warranty_rules` -- extra warranty rules from an industry plugin
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy


if TYPE_CHECKING:
    from csdomain.events import Event
    from csdomain.notify.model import Message, RetryAfter
    from csdomain.store.spi import Backend
    from csdomain.warranty.rules import WarrantyRule


__all__ = [
    "PROJECT_NAME",
    "csdomain_deliver",
    "csdomain_messages",
    "csdomain_open_store",
    "csdomain_warranty_rules",
    "hookimpl",
    "hookspec",
]

PROJECT_NAME = "csdomain"

#: Marker for hook specifications (used by csdomain itself).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marker for hook implementations; plugins import it as ``csdomain.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# -- storage ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def csdomain_open_store(url: str) -> Backend | None:
    """Open a storage backend for ``url`` if its scheme is yours.

    :param url: the store URL the application passed to :func:`csdomain.open_store`,
        e.g. ``"sqlite:///cs.db"`` or ``"memory://"``.
    :returns: a :class:`csdomain.store.Backend`, or ``None`` when the scheme is not yours.

    Stops at first non-None result. Raise :class:`csdomain.errors.ValidationError` for a URL
    of your scheme that is malformed, and :class:`csdomain.errors.BackendUnavailable` when
    the store cannot be reached.

    .. versionadded:: 0.1
    """


# -- notifications ---------------------------------------------------------------------


@hookspec(firstresult=True)
def csdomain_deliver(message: Message) -> bool | RetryAfter | None:
    """Deliver ``message`` if its channel is yours.

    :param message: the :class:`csdomain.notify.Message` to send; ``message.channel`` says
        which notifier should take it (``"sms"``, ``"email"``, ``"webhook"``, ``"log"`` ...)
        and ``message.idempotency_key`` lets a receiver drop duplicates: pass it on to the
        receiver with every attempt (a header, a request field) so a repeat after a timeout
        or a crash is recognised as the same message.
    :returns: ``True`` once delivered, ``None`` when the channel is not yours, or a
        :class:`csdomain.notify.RetryAfter` when the receiver said "not now".

    Stops at first non-None result; the implementation registered last is asked first
    (pluggy's order), and ``@hookimpl(tryfirst=True)`` asks yours before the others.
    Raise :class:`csdomain.notifiers.DeliveryError` (or any exception) to report a failed
    attempt: the dispatcher keeps the error text, retries with backoff and dead-letters the
    message after the policy's maximum number of attempts. ``DeliveryError(...,
    retry_after=seconds)`` defers instead, without spending an attempt. Never put secrets in
    the exception text (the dispatcher masks URL passwords, secret query values and every
    registered secret anyway). The hook is called from several threads at once, up to the
    channel's ``concurrency``; finish (or time out) well within ``policy.lease``.

    .. versionadded:: 0.1
    """


@hookspec
def csdomain_messages(event: Event) -> Iterable[Message] | None:
    """Turn a domain event from the outbox into outgoing messages.

    :param event: a :class:`csdomain.events.Event` (``OrderShipped``, ``ComplaintEscalated``
        ...), exactly as it was emitted in the unit of work that changed the data.
    :returns: the messages this plugin wants sent for the event (or ``None``).

    Every plugin is called and all returned messages are queued. csdomain's own mappings
    are plugins too (``csdomain.notify`` for customer notices, ``csdomain.escalation_notices``
    for staff, see :data:`csdomain.plugins.DEFAULT_PLUGINS`), so an application can block
    one by name and provide its own.

    .. versionadded:: 0.1
    """


# -- warranty --------------------------------------------------------------------------


@hookspec
def csdomain_warranty_rules() -> Iterable[WarrantyRule]:  # type: ignore[empty-body]
    """Extra rules an industry plugin adds to the warranty ("three guarantees") engine.

    :returns: rule objects implementing :class:`csdomain.warranty.WarrantyRule`; they run
        after the built-in rules and their reasons appear in every decision.

    .. versionadded:: 0.1
    """
