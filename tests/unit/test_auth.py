"""Who may do what: roles, permissions and approval limits (csdomain.auth)."""

from __future__ import annotations

import importlib.util
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import (
    DEFAULT_ROLE_PERMISSIONS,
    AccessPolicy,
    Actor,
    Permission,
    known_roles,
    register_roles,
    same_identity,
)
from csdomain.errors import PermissionDenied, RuleViolation, ValidationError
from csdomain.money import Money
from csdomain.policy import Policy
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_kernel import actors, money, role_names
from csdomain.warranty import BUILTIN_RULE_CODES


POLICY = AccessPolicy()
ALL_PERMISSIONS = frozenset(
    value for name, value in vars(Permission).items() if name.isupper() and isinstance(value, str)
)


def test_every_role_grants_only_known_permissions() -> None:
    for role, granted in DEFAULT_ROLE_PERMISSIONS.items():
        assert granted <= ALL_PERMISSIONS, role


def test_every_permission_is_granted_to_some_role() -> None:
    granted = frozenset().union(*DEFAULT_ROLE_PERMISSIONS.values())
    assert granted == ALL_PERMISSIONS


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        ("specialist", Permission.HANDLE_COMPLAINT, True),
        ("specialist", Permission.APPROVE_REMEDY, False),
        ("specialist", Permission.ERASE_CUSTOMER, False),
        ("salesperson", Permission.CONFIRM_ORDER, True),
        ("salesperson", Permission.SHIP_ORDER, False),
        ("warehouse", Permission.SHIP_ORDER, True),
        ("warehouse", Permission.READ_CUSTOMER, False),
        ("finance", Permission.RECORD_PAYMENT, True),
        ("cs_manager", Permission.ERASE_CUSTOMER, True),
        ("department_manager", Permission.ERASE_CUSTOMER, False),
        ("sales_vp", Permission.APPROVE_REMEDY, True),
        ("department_manager", Permission.APPROVE_REMEDY, True),
        ("cs_manager", Permission.APPROVE_REMEDY, True),
        ("general_manager", Permission.OVERRIDE_WARRANTY, True),
        ("system", Permission.SEND_NOTIFICATIONS, True),
        ("system", Permission.PLACE_ORDER, False),
    ],
)
def test_role_table_grants_permissions(role: str, permission: str, allowed: bool) -> None:
    assert POLICY.allows(Actor("u1", {role}), permission) is allowed


def test_a_resolution_is_approved_by_a_manager_and_substance_by_the_vp() -> None:
    # 主管领导批示: the managers approve remedies; 严禁给予客户任何实质性的承诺: promises of
    # substance need an approval limit, by default only the sales VP's and the GM's
    for role in ("department_manager", "cs_manager", "sales_vp", "general_manager"):
        assert POLICY.allows(Actor("u1", {role}), Permission.APPROVE_REMEDY)
    assert not POLICY.has_approval_authority(Actor("u1", {"cs_manager"}))
    assert POLICY.has_approval_authority(Actor("u1", {"sales_vp"}))
    with pytest.raises(PermissionDenied):
        POLICY.require_approval_authority(Actor("u1", {"department_manager"}))
    limited = AccessPolicy(approval_limits={"department_manager": "500"})
    assert limited.has_approval_authority(Actor("u1", {"department_manager"}))


def test_an_actor_with_an_unknown_role_is_refused_when_made() -> None:
    # Rule: unknown role names are refused when an Actor is made (a misspelt role would
    # otherwise fail every call later with a PermissionDenied).
    with pytest.raises(ValidationError) as refused:
        Actor("u1", {"astronaut"})
    assert refused.value.errors[0][0] == "roles"
    assert "'astronaut'" in str(refused.value)
    assert "specialist" in str(refused.value)
    register_roles("astronaut")
    assert "astronaut" in known_roles()
    actor = Actor("u1", {"astronaut"})
    assert POLICY.permissions_of(actor) == frozenset()
    assert not POLICY.allows(actor, Permission.READ_CUSTOMER)


def test_permissions_of_several_roles_are_their_union() -> None:
    actor = Actor("u1", {"warehouse", "finance"})
    assert POLICY.permissions_of(actor) == (
        DEFAULT_ROLE_PERMISSIONS["warehouse"] | DEFAULT_ROLE_PERMISSIONS["finance"]
    )


def test_require_raises_permission_denied_naming_actor_and_permission() -> None:
    with pytest.raises(PermissionDenied) as err:
        POLICY.require(Actor("li.lei", {"specialist"}), Permission.ERASE_CUSTOMER)
    assert err.value.actor_id == "li.lei"
    assert err.value.permission == Permission.ERASE_CUSTOMER
    POLICY.require(Actor("li.lei", {"cs_manager"}), Permission.ERASE_CUSTOMER)


def test_apps_can_change_the_role_table() -> None:
    policy = AccessPolicy(role_permissions={"intern": frozenset({Permission.READ_CUSTOMER})})
    assert policy.allows(Actor("u1", {"intern"}), Permission.READ_CUSTOMER)
    assert not policy.allows(Actor("u1", {"sales_vp"}), Permission.READ_CUSTOMER)


def test_sales_vp_and_general_manager_have_no_approval_limit() -> None:
    assert POLICY.approval_limit(Actor("vp", {"sales_vp"}), "CNY") is None
    assert POLICY.approval_limit(Actor("gm", {"general_manager", "finance"}), "CNY") is None


def test_a_specialist_may_approve_nothing() -> None:
    assert POLICY.approval_limit(Actor("s1", {"specialist"}), "CNY") == Money.zero("CNY")


def test_the_highest_limit_of_an_actors_roles_applies() -> None:
    policy = AccessPolicy(approval_limits={"cs_manager": "500", "department_manager": 2000})
    actor = Actor("m1", {"cs_manager", "department_manager"})
    assert policy.approval_limit(actor, "CNY") == Money.of("2000", "CNY")
    assert policy.approval_limits["cs_manager"] == {"CNY": Decimal("500")}


def test_require_approval_refuses_amounts_above_the_limit() -> None:
    policy = AccessPolicy(approval_limits={"cs_manager": "500"})
    manager = Actor("m1", {"cs_manager"})
    policy.require_approval(manager, Money.of("500", "CNY"))
    with pytest.raises(PermissionDenied, match="exceeds the approval limit") as err:
        policy.require_approval(manager, Money.of("500.01", "CNY"), "compensation")
    assert "compensation" in str(err.value)
    with pytest.raises(PermissionDenied):
        policy.require_approval(Actor("s1", {"specialist"}), Money.of("0.01", "CNY"))
    policy.require_approval(Actor("s1", {"specialist"}), Money.zero("CNY"))


def test_is_top_for_the_top_role_and_senior_roles_only() -> None:
    assert POLICY.is_top(Actor("vp", {"sales_vp"}))
    assert POLICY.is_top(Actor("gm", {"general_manager"}))
    assert not POLICY.is_top(Actor("m1", {"cs_manager"}))
    assert AccessPolicy(top_role="cs_manager").is_top(Actor("m1", {"cs_manager"}))


@pytest.mark.parametrize("actor_id", ["", "   ", None, 42])
def test_an_actor_needs_a_non_empty_id(actor_id: object) -> None:
    with pytest.raises(ValidationError) as err:
        Actor(actor_id, {"specialist"})  # type: ignore[arg-type]
    assert err.value.errors[0][0] == "id"


def test_a_single_role_string_is_one_role() -> None:
    assert Actor("u1", "specialist").roles == frozenset({"specialist"})
    assert Actor("u1").roles == frozenset()


def test_system_actor_holds_the_system_role() -> None:
    system = Actor.system()
    assert system.roles == frozenset({"system"})
    assert POLICY.allows(system, Permission.SEND_NOTIFICATIONS)


@given(actors(), st.sampled_from(sorted(ALL_PERMISSIONS)))
def test_allows_and_require_agree(actor: Actor, permission: str) -> None:
    if POLICY.allows(actor, permission):
        POLICY.require(actor, permission)
    else:
        with pytest.raises(PermissionDenied):
            POLICY.require(actor, permission)
    assert POLICY.allows(actor, permission) == (permission in POLICY.permissions_of(actor))


@given(actors(), money(currency=st.just("CNY")))
def test_only_top_roles_approve_any_amount_by_default(actor: Actor, amount: Money) -> None:
    if POLICY.is_top(actor):
        POLICY.require_approval(actor, amount)
    elif amount:
        with pytest.raises(PermissionDenied):
            POLICY.require_approval(actor, amount)


@given(actors(roles=role_names()))
def test_actor_round_trips_through_json(actor: Actor) -> None:
    assert from_json(Actor, to_json(actor)) == actor


def test_access_policy_round_trips_through_json() -> None:
    policy = AccessPolicy(approval_limits={"cs_manager": "500.50", "sales_vp": None})
    assert from_json(AccessPolicy, to_json(policy)) == policy


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (None, "expected a role name or a collection of them, got NoneType"),
        (7, "expected a role name or a collection of them, got int"),
        (["agent", ""], "a role is a non-empty name, not ''"),
        (["agent", 3], "a role is a non-empty name, not 3"),
    ],
)
def test_actor_roles_must_be_role_names(roles: object, message: str) -> None:
    """Rule: bad input gets a ValidationError with the bad field's path."""
    with pytest.raises(ValidationError) as caught:
        Actor("u1", roles=roles)  # type: ignore[arg-type]
    assert caught.value.errors == [("roles", message)]


def _policy_reference() -> Any:
    """tools/policy_reference.py, which states the source of every policy value."""
    path = Path(__file__).resolve().parents[2] / "tools" / "policy_reference.py"
    spec = importlib.util.spec_from_file_location("policy_reference", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_policy_value_states_its_source() -> None:
    # Rule: every policy value states its source: the documents (with the phrase), the
    # regulation (with the article) or a project default; field service included
    tool = _policy_reference()
    assert tool.unsourced() == []
    kinds = ("documents (domain.md ", "regulation: 部分商品修理更换退货责任规定", "project default")
    for name in tool.value_names():
        assert tool.source_of(name).startswith(kinds), name
    # the service-call promise is the handbook's 30 min / 24 h / 24 h (docs/domain.md 8)
    for urgency in ("special", "urgent", "ordinary"):
        assert "售后服务响应时间" in tool.source_of(f"fieldservice.{urgency}"), urgency
        promise = getattr(Policy().fieldservice, urgency)
        assert promise.respond.duration == timedelta(minutes=30)
        assert promise.on_site.duration == timedelta(hours=24)
        assert promise.fixed.duration == timedelta(hours=24)
    page = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text("utf-8")
    assert "| value | default | source |" in page
    assert "DOMAIN.md" not in page


def test_defaults_that_are_not_the_documents_say_where_they_come_from() -> None:
    tool = _policy_reference()
    # the three-guarantee numbers are the national regulation's, not the documents'
    for name, article in [
        ("warranty.return_days", "art. 9"),
        ("warranty.exchange_days", "art. 10"),
        ("warranty.max_failed_repairs", "art. 11"),
        ("warranty.parts_wait_exchange_days", "art. 12"),
        ("warranty.repair_overrun_exchange_days", "art. 12"),
    ]:
        assert tool.source_of(name).startswith("regulation: 部分商品修理更换退货责任规定"), name
        assert article in tool.source_of(name), name
    assert tool.source_of("warranty.warranty_days").startswith("regulation:")
    assert tool.source_of("warranty.repair_guarantee_days").startswith("regulation:")
    # 13 % tax, the complaint SLA hours, rest hours 21:00-08:00 and base share 0.65 are ours
    for name in (
        "warranty.tax_rate",
        "complaints.special",
        "complaints.urgent",
        "complaints.ordinary",
        "notifications.default_rest_hours",
        "staff_pay.base_share",
    ):
        assert tool.source_of(name).startswith("project default"), name
    # the care plan is the documents', its 10:00 send time is ours
    assert "10:00 send time" in tool.source_of("care.plan")
    # and the documents' numbers quote the documents
    assert "85分以上" in tool.source_of("satisfaction.satisfied_threshold")
    assert "3-4日" in tool.source_of("orders.delivery_days_max")
    assert "30袋" in tool.source_of("orders.damaged_bags_limit")


def test_the_domain_page_lists_every_rule_code() -> None:
    # docs/domain.md: each rule with its source phrase, policy value and code, field
    # service included
    root = Path(__file__).resolve().parents[2]
    page = (root / "docs" / "domain.md").read_text("utf-8")
    patterns = [
        re.compile(r"RuleViolation\(\s*\"([a-z][a-z0-9_]*)\""),
        re.compile(r"Reason\.(?:excludes|grants|limits|note)\(\s*\"([a-z][a-z0-9_]*)\""),
        re.compile(r"reasons\.append\(\"([a-z][a-z0-9_]*)\"\)"),
    ]
    codes = set(BUILTIN_RULE_CODES)
    for path in sorted((root / "src" / "csdomain").rglob("*.py")):
        text = path.read_text("utf-8")
        for pattern in patterns:
            codes.update(pattern.findall(text))
    assert len(codes) >= 60
    assert sorted(code for code in codes if f"`{code}`" not in page) == []
    assert "DOMAIN.md" not in page


def test_approval_limit_in_another_currency_is_refused_not_compared() -> None:
    # Rule: an approval limit is an amount in a currency (approval_limit_currency).
    limited = AccessPolicy(approval_limits={"department_manager": "500"})
    manager = Actor("m1", {"department_manager"})
    limited.require_approval(manager, Money("499", "CNY"))
    with pytest.raises(PermissionDenied):
        limited.require_approval(manager, Money("500.01", "CNY"))
    for currency in ("KWD", "USD", "EUR"):
        with pytest.raises(RuleViolation) as refused:
            limited.require_approval(manager, Money("499", currency))
        assert refused.value.code == "approval_limit_currency"
        assert currency in refused.value.message


def test_approval_limits_name_their_currencies() -> None:
    # Rule: a policy gives a limit per currency; a Money limit names its own currency.
    policy = AccessPolicy(
        approval_limits={
            "department_manager": {"CNY": "500", "USD": "70"},
            "cs_manager": Money("80", "EUR"),
        }
    )
    both = Actor("m2", {"department_manager", "cs_manager"})
    policy.require_approval(both, Money("70", "USD"))
    policy.require_approval(both, Money("80", "EUR"))
    with pytest.raises(PermissionDenied):
        policy.require_approval(both, Money("70.01", "USD"))
    with pytest.raises(RuleViolation):
        policy.require_approval(both, Money("1", "KWD"))
    with pytest.raises(ValidationError) as bad:
        AccessPolicy(approval_limits={"cs_manager": {"CNY": "-1"}})
    assert "approval_limits.cs_manager.CNY" in str(bad.value)


def test_identities_are_compared_normalised() -> None:
    # Rule: a four-eyes check cannot be dodged by re-spelling one's id.
    assert same_identity("department_manager.1", "department_manager.1 ")
    assert same_identity("Department_Manager.1", "department_manager.1")
    assert same_identity("\uff4d1", "m1")  # a full-width m is NFKC-equal to m
    assert not same_identity("m1", "m2")
    assert not same_identity(None, "m1")
    assert Actor(" department_manager.1 ", {"department_manager"}).id == "department_manager.1"
    with pytest.raises(ValidationError):
        Actor("m\x001", {"department_manager"})
    with pytest.raises(ValidationError):
        Actor("   ", {"department_manager"})


def test_permission_denied_names_the_roles_that_grant_it() -> None:
    # Rule: a refusal says which roles would grant the permission and flags unknown roles.
    AccessPolicy(role_permissions={"admin": frozenset()})  # an app's table names the role
    policy = AccessPolicy()  # the desk's table does not know it
    with pytest.raises(PermissionDenied) as denied:
        policy.require(Actor("dev", {"admin"}), Permission.EDIT_CUSTOMER)
    message = str(denied.value)
    assert "granted by" in message
    assert "specialist" in message
    assert "salesperson" in message
    assert "unknown roles 'admin'" in message


def test_a_superuser_holds_every_role_but_four_eyes_still_hold() -> None:
    # Rule: Actor.superuser() is for scripts and tests; two superusers are two people.
    root = Actor.superuser()
    assert root.roles == frozenset(DEFAULT_ROLE_PERMISSIONS)
    policy = AccessPolicy()
    assert all(policy.allows(root, p) for p in policy.permissions_of(root))
    assert not same_identity(Actor.superuser("filer").id, Actor.superuser("approver").id)
    custom = AccessPolicy(role_permissions={"boss": frozenset({"customer.read"})})
    assert Actor.superuser(policy=custom).roles == {"boss"}
