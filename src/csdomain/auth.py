"""Who may do what: actors, roles, permissions and approval limits.

Every use case of :class:`~csdomain.service.ServiceDesk` takes ``by: Actor``. The role to
permission table and the approval limits live in :class:`AccessPolicy` (part of
:class:`~csdomain.policy.Policy`), so an application changes them without touching code.
A resolution is approved by a manager (主管领导批示, docs/domain.md 3.2 step 4): the
department manager, the customer-service manager, the sales VP and the general manager
hold ``complaint.approve_remedy``. The documents' rule "staff must not promise anything of
substance without written authorisation of the sales VP or above" (docs/domain.md 3.6) is
the default for remedies of substance: only roles with an approval limit (``sales_vp`` and
``general_manager``, without limit) approve them; other roles can be given limits per app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from csdomain.errors import PermissionDenied, ValidationError
from csdomain.money import Money


__all__ = ["DEFAULT_ROLE_PERMISSIONS", "AccessPolicy", "Actor", "Permission"]


class Permission:
    """Names of the permissions csdomain checks (plain strings, so apps can add more)."""

    READ_CUSTOMER = "customer.read"
    EDIT_CUSTOMER = "customer.edit"
    ERASE_CUSTOMER = "customer.erase"
    EXPORT_CUSTOMER = "customer.export"
    PLACE_ORDER = "order.place"
    CONFIRM_ORDER = "order.confirm"
    RECORD_PAYMENT = "order.record_payment"
    SHIP_ORDER = "order.ship"
    CANCEL_ORDER = "order.cancel"
    CHANGE_PRICE = "order.change_price"
    MANAGE_STOCK = "stock.manage"
    APPROVE_STOCK_ADJUSTMENT = "stock.approve_adjustment"
    REQUEST_RETURN = "return.request"
    APPROVE_RETURN = "return.approve"
    RECEIVE_RETURN = "return.receive"
    HANDLE_COMPLAINT = "complaint.handle"
    APPROVE_REMEDY = "complaint.approve_remedy"
    HANDLE_WARRANTY = "warranty.handle"
    OVERRIDE_WARRANTY = "warranty.override"
    MANAGE_SURVEYS = "survey.manage"
    SEND_NOTIFICATIONS = "notification.send"
    VIEW_REPORTS = "report.view"


_P = Permission
_STAFF = frozenset({_P.READ_CUSTOMER, _P.VIEW_REPORTS})
_SPECIALIST = _STAFF | {
    _P.EDIT_CUSTOMER,
    _P.PLACE_ORDER,
    _P.HANDLE_COMPLAINT,
    _P.HANDLE_WARRANTY,
    _P.MANAGE_SURVEYS,
    _P.SEND_NOTIFICATIONS,
}
_MANAGER = _SPECIALIST | {
    _P.CONFIRM_ORDER,
    _P.CANCEL_ORDER,
    _P.REQUEST_RETURN,
    _P.APPROVE_RETURN,
    _P.EXPORT_CUSTOMER,
    _P.APPROVE_REMEDY,
}
_EXECUTIVE = _MANAGER | {
    _P.APPROVE_STOCK_ADJUSTMENT,
    _P.OVERRIDE_WARRANTY,
    _P.CHANGE_PRICE,
    _P.ERASE_CUSTOMER,
    _P.RECORD_PAYMENT,
    _P.SHIP_ORDER,
    _P.MANAGE_STOCK,
    _P.RECEIVE_RETURN,
}

#: The default role table. Roles follow the documents' organisation: customer-service
#: specialists, salespeople, warehouse and finance staff, the technicians, the managers of
#: the five-level follow-up ladder and the sales VP who authorises promises.
DEFAULT_ROLE_PERMISSIONS: Mapping[str, frozenset[str]] = {
    "specialist": _SPECIALIST,
    "call_team": _SPECIALIST,
    "technician": _STAFF | {_P.HANDLE_WARRANTY, _P.HANDLE_COMPLAINT},
    "salesperson": _STAFF
    | {_P.EDIT_CUSTOMER, _P.PLACE_ORDER, _P.CONFIRM_ORDER, _P.REQUEST_RETURN, _P.CANCEL_ORDER},
    "warehouse": frozenset({_P.SHIP_ORDER, _P.MANAGE_STOCK, _P.RECEIVE_RETURN, _P.VIEW_REPORTS}),
    "finance": frozenset({_P.RECORD_PAYMENT, _P.VIEW_REPORTS}),
    "department_manager": _MANAGER,
    "cs_manager": _MANAGER | {_P.ERASE_CUSTOMER, _P.APPROVE_STOCK_ADJUSTMENT},
    "sales_vp": _EXECUTIVE,
    "general_manager": _EXECUTIVE,
    "system": frozenset({_P.SEND_NOTIFICATIONS, _P.HANDLE_COMPLAINT, _P.VIEW_REPORTS}),
}

#: Approval limits per role, in the policy currency; ``None`` means no limit.
DEFAULT_APPROVAL_LIMITS: Mapping[str, Decimal | None] = {
    "sales_vp": None,
    "general_manager": None,
}


def _roles(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    elif not isinstance(value, Iterable):
        msg = f"expected a role name or a collection of them, got {type(value).__name__}"
        raise ValidationError.at("roles", msg)
    roles = frozenset(value)
    for role in roles:
        if not isinstance(role, str) or not role.strip():
            raise ValidationError.at("roles", f"a role is a non-empty name, not {role!r}")
    return roles


def _nonempty_id(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(attribute.name, "an actor needs a non-empty id")


@attrs.frozen
class Actor:
    """A person or process acting on the desk: an id and the roles it holds."""

    id: str = attrs.field(validator=_nonempty_id)
    roles: frozenset[str] = attrs.field(converter=_roles, factory=frozenset)
    name: str = ""

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The actor for scheduled jobs (escalation runs, dispatchers)."""
        return cls(id=name, roles=frozenset({"system"}), name=name)


def _limits(value: Mapping[str, Decimal | str | int | None]) -> Mapping[str, Decimal | None]:
    return {role: None if limit is None else Decimal(str(limit)) for role, limit in value.items()}


@attrs.frozen
class AccessPolicy:
    """Role permissions and approval limits (docs/domain.md 1 privacy and 3.6 authority)."""

    role_permissions: Mapping[str, frozenset[str]] = attrs.field(
        factory=lambda: dict(DEFAULT_ROLE_PERMISSIONS)
    )
    approval_limits: Mapping[str, Decimal | None] = attrs.field(
        factory=lambda: dict(DEFAULT_APPROVAL_LIMITS), converter=_limits
    )
    #: The role whose approval goodwill to an abnormal complaint needs (docs/domain.md 3.6).
    top_role: str = "sales_vp"
    #: Roles above ``top_role`` that may do whatever it may.
    senior_roles: frozenset[str] = frozenset({"general_manager"})

    def permissions_of(self, actor: Actor) -> frozenset[str]:
        """Every permission any of the actor's roles grants."""
        granted: set[str] = set()
        for role in actor.roles:
            granted |= self.role_permissions.get(role, frozenset())
        return frozenset(granted)

    def allows(self, actor: Actor, permission: str) -> bool:
        """Whether one of the actor's roles grants ``permission``."""
        return any(permission in self.role_permissions.get(r, ()) for r in actor.roles)

    def require(self, actor: Actor, permission: str) -> None:
        """Raise :class:`PermissionDenied` unless the actor holds ``permission``."""
        if not self.allows(actor, permission):
            raise PermissionDenied(actor.id, permission)

    def require_any(self, actor: Actor, *permissions: str) -> None:
        """Raise :class:`PermissionDenied` unless the actor holds one of ``permissions``."""
        if not any(self.allows(actor, permission) for permission in permissions):
            raise PermissionDenied(actor.id, " or ".join(permissions))

    def is_top(self, actor: Actor) -> bool:
        """Whether the actor holds the top role (or a role senior to it)."""
        return self.top_role in actor.roles or bool(actor.roles & self.senior_roles)

    def approval_limit(self, actor: Actor, currency: str) -> Money | None:
        """The largest amount the actor may approve (``None``: no limit).

        An actor without any limited or unlimited role gets zero.
        """
        best: Decimal | None = Decimal(0)
        for role in actor.roles:
            if role not in self.approval_limits:
                continue
            limit = self.approval_limits[role]
            if limit is None:
                return None
            if best is not None and limit > best:
                best = limit
        return Money(best if best is not None else Decimal(0), currency)

    def has_approval_authority(self, actor: Actor) -> bool:
        """Whether one of the actor's roles has an approval limit (or an unlimited one).

        Promises of substance need it (docs/domain.md 3.6: the sales VP or above, or a
        role the application gives a limit).
        """
        return any(role in self.approval_limits for role in actor.roles)

    def require_approval_authority(
        self, actor: Actor, what: str = "a promise of substance"
    ) -> None:
        """Raise :class:`PermissionDenied` unless :meth:`has_approval_authority`."""
        if not self.has_approval_authority(actor):
            detail = f"{what} needs the authority of the {self.top_role} or an approval limit"
            raise PermissionDenied(actor.id, "approve", detail)

    def require_approval(self, actor: Actor, amount: Money, what: str = "approval") -> None:
        """Raise :class:`PermissionDenied` unless the actor may approve ``amount``."""
        limit = self.approval_limit(actor, amount.currency)
        if limit is not None and amount > limit:
            detail = f"{what} of {amount} exceeds the approval limit {limit}"
            raise PermissionDenied(actor.id, "approve", detail)
