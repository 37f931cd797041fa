"""Domain events: past-tense facts that the service layer writes to the outbox.

Every event class derives from :class:`Event` and is an ``attrs`` frozen class; subclassing
registers it by name, so an outbox entry (``type`` + JSON payload) can always be turned
back into the event object with :func:`event_type`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from csdomain.errors import ValidationError


__all__ = ["Event", "event_type", "event_types"]

_REGISTRY: dict[str, type[Event]] = {}


@attrs.frozen
class Event:
    """Base class of domain events; subclasses register themselves by class name."""

    type_name: ClassVar[str] = "Event"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type_name", cls.__name__)
        cls.type_name = name
        existing = _REGISTRY.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            msg = f"event type {name!r} is already registered by {existing!r}"
            raise ValidationError.at("type_name", msg)
        _REGISTRY[name] = cls


def event_type(name: str) -> type[Event]:
    """The event class registered under ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValidationError.at("type", f"unknown event type {name!r}") from None


def event_types() -> dict[str, type[Event]]:
    """A copy of the registry of event classes by name."""
    return dict(_REGISTRY)
