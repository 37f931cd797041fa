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

import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

import attrs

from csdomain.errors import PermissionDenied, RuleViolation, ValidationError
from csdomain.money import Money


__all__ = [
    "DEFAULT_ROLE_PERMISSIONS",
    "AccessPolicy",
    "Actor",
    "Permission",
    "known_roles",
    "normal_identity",
    "register_roles",
    "same_identity",
]


def normal_identity(value: str) -> str:
    """The form in which two identities are compared: NFKC, no outer blanks, case-folded.

    ``"department_manager.1 "`` and ``"Department_Manager.1"`` are the same person to
    every four-eyes check (a filer cannot approve their own request by re-spelling their id).
    """
    return unicodedata.normalize("NFKC", value).strip().casefold()


def same_identity(a: str | None, b: str | None) -> bool:
    """Whether ``a`` and ``b`` name the same actor (compared by :func:`normal_identity`)."""
    if a is None or b is None:
        return False
    return normal_identity(a) == normal_identity(b)


class Permission:
    """Names of the permissions csdomain checks (plain strings, so apps can add more)."""

    READ_CUSTOMER = "customer.read"
    EDIT_CUSTOMER = "customer.edit"
    CLASSIFY_CUSTOMER = "customer.classify"
    ASSIGN_CUSTOMER = "customer.assign"
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
    DISPATCH_SERVICE = "service.dispatch"
    VISIT_SERVICE = "service.visit"
    SETTLE_SERVICE = "service.settle"
    MANAGE_SERVICE_NETWORK = "service.network"


_P = Permission
_STAFF = frozenset({_P.READ_CUSTOMER, _P.VIEW_REPORTS})
_SPECIALIST = _STAFF | {
    _P.EDIT_CUSTOMER,
    _P.PLACE_ORDER,
    _P.HANDLE_COMPLAINT,
    _P.HANDLE_WARRANTY,
    _P.MANAGE_SURVEYS,
    _P.SEND_NOTIFICATIONS,
    _P.DISPATCH_SERVICE,
}
_MANAGER = _SPECIALIST | {
    _P.CLASSIFY_CUSTOMER,
    _P.ASSIGN_CUSTOMER,
    _P.SETTLE_SERVICE,
    _P.MANAGE_SERVICE_NETWORK,
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
    "technician": _STAFF | {_P.HANDLE_WARRANTY, _P.HANDLE_COMPLAINT, _P.VISIT_SERVICE},
    "salesperson": _STAFF
    | {_P.EDIT_CUSTOMER, _P.PLACE_ORDER, _P.CONFIRM_ORDER, _P.REQUEST_RETURN, _P.CANCEL_ORDER},
    "warehouse": frozenset({_P.SHIP_ORDER, _P.MANAGE_STOCK, _P.RECEIVE_RETURN, _P.VIEW_REPORTS}),
    "finance": frozenset({_P.RECORD_PAYMENT, _P.SETTLE_SERVICE, _P.VIEW_REPORTS}),
    "department_manager": _MANAGER,
    "cs_manager": _MANAGER | {_P.ERASE_CUSTOMER, _P.APPROVE_STOCK_ADJUSTMENT},
    "sales_vp": _EXECUTIVE,
    "general_manager": _EXECUTIVE,
    "system": frozenset(
        {_P.SEND_NOTIFICATIONS, _P.HANDLE_COMPLAINT, _P.DISPATCH_SERVICE, _P.VIEW_REPORTS}
    ),
}

#: Approval limits per role; ``None`` means no limit. A limit is a :class:`Money`, a
#: mapping of currency to amount, or a bare number in :attr:`AccessPolicy.currency`.
DEFAULT_APPROVAL_LIMITS: Mapping[str, Decimal | None] = {
    "sales_vp": None,
    "general_manager": None,
}

#: What :class:`AccessPolicy` accepts as one role's approval limit.
LimitValue = Decimal | str | int | Money | Mapping[str, Decimal | str | int] | None


#: The role names an :class:`Actor` may hold: the default table's, and those of every role
#: table an application builds (:class:`AccessPolicy` registers its own) or names with
#: :func:`register_roles`.
_KNOWN_ROLES: set[str] = set(DEFAULT_ROLE_PERMISSIONS)


def register_roles(*names: str) -> None:
    """Make ``names`` known role names (an application's own roles, before its actors)."""
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValidationError.at("roles", f"a role is a non-empty name, not {name!r}")
    _KNOWN_ROLES.update(names)


def known_roles() -> frozenset[str]:
    """Every role name an actor may hold now."""
    return frozenset(_KNOWN_ROLES)


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
    unknown = sorted(roles - _KNOWN_ROLES)
    if unknown:
        msg = (
            f"unknown role {', '.join(map(repr, unknown))}; the role table knows "
            f"{', '.join(sorted(_KNOWN_ROLES))} (an application's own roles are known once "
            "its AccessPolicy is built, or after auth.register_roles)"
        )
        raise ValidationError.at("roles", msg)
    return roles


def _actor_id(value: object) -> str:
    """An actor id in NFKC form without outer blanks; blank or control characters refused."""
    if not isinstance(value, str):
        raise ValidationError.at("id", f"an actor id is text, not {type(value).__name__}")
    normal = unicodedata.normalize("NFKC", value).strip()
    if not normal:
        raise ValidationError.at("id", "an actor needs a non-empty id")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} for ch in normal):
        raise ValidationError.at("id", "an actor id must not hold control characters")
    return normal


@attrs.frozen
class Actor:
    """A person or process acting on the desk: an id and the roles it holds.

    A role must be a known one (:func:`known_roles`: the default table's, an application's
    :class:`AccessPolicy`'s, or :func:`register_roles`'s): ``Actor("dev", {"admin"})`` is
    refused at once rather than failing every call later.

    The id is kept in NFKC form without outer blanks, and four-eyes checks compare ids
    with :func:`same_identity`, so re-spelling one's own id does not make a second person.
    """

    id: str = attrs.field(converter=_actor_id)
    roles: frozenset[str] = attrs.field(converter=_roles, factory=frozenset)
    name: str = ""

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The actor for scheduled jobs (escalation runs, dispatchers)."""
        return cls(id=name, roles=frozenset({"system"}), name=name)

    @classmethod
    def superuser(cls, id: str = "superuser", *, policy: AccessPolicy | None = None) -> Actor:
        """An actor holding every role of the role table, for scripts and tests.

        Four-eyes rules still hold: a return filed by one superuser is approved by another
        (``Actor.superuser("filer")``, ``Actor.superuser("approver")``). Not for people:
        give staff the roles of their job.
        """
        table = (policy or AccessPolicy()).role_permissions
        return cls(id=id, roles=frozenset(table), name=id)


def _amount(role: str, currency: str, value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        msg = f"an approval limit is a non-negative amount, not {value!r}"
        raise ValidationError.at(f"approval_limits.{role}.{currency}", msg)
    return amount


def _limit(role: str, value: object, currency: str) -> Mapping[str, Decimal] | None:
    if value is None:
        return None
    if isinstance(value, Money):
        return {value.currency: value.amount}
    if isinstance(value, Mapping):
        return {str(cur): _amount(role, str(cur), amount) for cur, amount in value.items()}
    if isinstance(value, bool):
        raise ValidationError.at(f"approval_limits.{role}", "an approval limit is an amount")
    return {currency: _amount(role, currency, value)}


@attrs.frozen
class AccessPolicy:
    """Role permissions and approval limits (docs/domain.md 1 privacy and 3.6 authority).

    Approval limits are amounts with a currency: ``{"department_manager": "500"}`` means
    500 in :attr:`currency`; ``{"department_manager": {"CNY": "500", "USD": "70"}}`` or a
    :class:`Money` name the currencies. A remedy in a currency none of the actor's limits
    names is refused (``approval_limit_currency``) rather than compared as a bare number.
    """

    role_permissions: Mapping[str, frozenset[str]] = attrs.field(
        factory=lambda: dict(DEFAULT_ROLE_PERMISSIONS)
    )
    approval_limits: Mapping[str, Mapping[str, Decimal] | None] = attrs.field(
        factory=lambda: dict(DEFAULT_APPROVAL_LIMITS)
    )
    #: The role whose approval goodwill to an abnormal complaint needs (docs/domain.md 3.6).
    top_role: str = "sales_vp"
    #: Roles above ``top_role`` that may do whatever it may.
    senior_roles: frozenset[str] = frozenset({"general_manager"})
    #: The currency of limits given as bare numbers (project default: the policy's CNY).
    currency: str = "CNY"

    def __attrs_post_init__(self) -> None:
        table: object = self.role_permissions
        if not isinstance(table, Mapping):
            raise ValidationError.at(
                "role_permissions", "expected a mapping of role to permissions"
            )
        register_roles(*table)
        raw: object = self.approval_limits
        if not isinstance(raw, Mapping):
            raise ValidationError.at("approval_limits", "expected a mapping of role to limit")
        limits = {str(role): _limit(str(role), value, self.currency) for role, value in raw.items()}
        object.__setattr__(self, "approval_limits", limits)

    def permissions_of(self, actor: Actor) -> frozenset[str]:
        """Every permission any of the actor's roles grants."""
        granted: set[str] = set()
        for role in actor.roles:
            granted |= self.role_permissions.get(role, frozenset())
        return frozenset(granted)

    def allows(self, actor: Actor, permission: str) -> bool:
        """Whether one of the actor's roles grants ``permission``."""
        table = self.role_permissions
        for role in actor.roles:
            granted = table.get(role)
            if granted is not None and permission in granted:
                return True
        return False

    def roles_granting(self, permission: str) -> list[str]:
        """The roles of the table that grant ``permission``, sorted."""
        return sorted(
            role for role, granted in self.role_permissions.items() if permission in granted
        )

    def denial(self, actor: Actor, *permissions: str) -> PermissionDenied:
        """The :class:`PermissionDenied` for ``actor`` lacking all of ``permissions``.

        The message names the roles that would grant them and any of the actor's roles the
        table does not know (a misspelt role is the usual cause).
        """
        parts = []
        if len(permissions) > 1:
            parts.append(f"needs one of {', '.join(permissions)}")
        granting = sorted({role for p in permissions for role in self.roles_granting(p)})
        parts.append(f"granted by {', '.join(granting)}" if granting else "granted by no role")
        unknown = sorted(role for role in actor.roles if role not in self.role_permissions)
        if unknown:
            parts.append(f"unknown roles {', '.join(map(repr, unknown))}")
        return PermissionDenied(actor.id, permissions[0], "; ".join(parts))

    def require(self, actor: Actor, permission: str) -> None:
        """Raise :class:`PermissionDenied` unless the actor holds ``permission``."""
        if not self.allows(actor, permission):
            raise self.denial(actor, permission)

    def require_any(self, actor: Actor, *permissions: str) -> None:
        """Raise :class:`PermissionDenied` unless the actor holds one of ``permissions``."""
        for permission in permissions:
            if self.allows(actor, permission):
                return
        raise self.denial(actor, *permissions)

    def is_top(self, actor: Actor) -> bool:
        """Whether the actor holds the top role (or a role senior to it)."""
        return self.top_role in actor.roles or bool(actor.roles & self.senior_roles)

    def approval_limit(self, actor: Actor, currency: str) -> Money | None:
        """The largest amount in ``currency`` the actor may approve (``None``: no limit).

        An actor without any limited or unlimited role gets zero. An actor whose limits
        name other currencies only is refused with ``approval_limit_currency``: a limit in
        CNY says nothing about KWD.
        """
        best = Decimal(0)
        named: list[str] = []
        for role in sorted(actor.roles):
            if role not in self.approval_limits:
                continue
            limits = self.approval_limits[role]
            if limits is None:
                return None
            named.extend(limits)
            if currency in limits and limits[currency] > best:
                best = limits[currency]
        if named and currency not in named:
            raise RuleViolation(
                "approval_limit_currency",
                f"{actor.id!r} has approval limits in {', '.join(sorted(set(named)))} only, "
                f"not in {currency}; the policy must give a limit in {currency}",
                currency=currency,
                limits=sorted(set(named)),
            )
        return Money(best, currency)

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
        """Raise unless the actor may approve ``amount``.

        :class:`PermissionDenied` when it exceeds the limit in its currency,
        :class:`RuleViolation` ``approval_limit_currency`` when no limit names its currency.
        """
        limit = self.approval_limit(actor, amount.currency)
        if limit is not None and amount > limit:
            detail = f"{what} of {amount} exceeds the approval limit {limit}"
            raise PermissionDenied(actor.id, "approve", detail)
