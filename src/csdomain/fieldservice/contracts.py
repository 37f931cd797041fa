"""Service-point contracts and assessments: how a contracted point joins and stays.

The handbook opens a contracted service point (外包售后网点) in steps, 申请;初审;服务站建设;
开张准备和签约 (application, initial review, building the station, preparing the opening and
signing), assesses every point periodically and follows each contracted point up
(定期给每个外包售后网点进行跟踪服务). The contract's steps are data:
:data:`CONTRACT_TRANSITIONS` and beside it the command table :data:`CONTRACT_LIFECYCLE`
(application → review → set-up → signed → active ⇄ suspended). The company's own points
have no contract to sign: they are active from registration (:func:`initial_status`). The
handbook names no end of a contract, so the lifecycle has none: a suspended point is
reinstated or stays suspended (docs/domain.md 8).

A :class:`PointAssessment` is one periodic assessment: a score per criterion of the
policy (``FieldServicePolicy.assessment_criteria``: the most points each criterion
gives), the total and the grade of the policy's bands (``assessment_grades``);
:func:`assess` makes one and :func:`grade_for` reads a total's grade. This module uses
only the field-service vocabulary, so the policy and the network import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs

from csdomain.auth import Actor
from csdomain.clock import utc
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.fieldservice.classification import PointOwnership
from csdomain.lifecycle import Command, Lifecycle
from csdomain.validators import (
    as_dict,
    aware,
    day,
    enum_value,
    flag,
    integer,
    not_blank,
    text,
)


__all__ = [
    "CONTRACT_LIFECYCLE",
    "CONTRACT_TRANSITIONS",
    "OPENING_STATUSES",
    "ContractStatus",
    "PointAssessment",
    "assess",
    "assessment_id",
    "check_criteria",
    "check_grades",
    "check_share",
    "check_suspend_grades",
    "contract_status",
    "default_criteria",
    "default_grades",
    "grade_for",
    "initial_status",
]


class ContractStatus(StrEnum):
    """Where a service point's contract stands (服务网点的签约状态)."""

    #: The point applied to join the network (申请).
    APPLICATION = "application"
    #: The initial review (初审) is under way.
    REVIEW = "review"
    #: The review passed; the station is being built (服务站建设).
    SET_UP = "set_up"
    #: The opening is prepared and the contract signed (开张准备和签约).
    SIGNED = "signed"
    #: The point takes jobs.
    ACTIVE = "active"
    #: The point takes no jobs until it is reinstated.
    SUSPENDED = "suspended"


_C = ContractStatus

#: Allowed moves of a service point's contract: the opening steps in the handbook's
#: order, then active ⇄ suspended.
CONTRACT_TRANSITIONS: Mapping[ContractStatus, frozenset[ContractStatus]] = {
    _C.APPLICATION: frozenset({_C.REVIEW}),
    _C.REVIEW: frozenset({_C.SET_UP}),
    _C.SET_UP: frozenset({_C.SIGNED}),
    _C.SIGNED: frozenset({_C.ACTIVE}),
    _C.ACTIVE: frozenset({_C.SUSPENDED}),
    _C.SUSPENDED: frozenset({_C.ACTIVE}),
}

#: The statuses before a contracted point opens (an own point is never in them).
OPENING_STATUSES: frozenset[ContractStatus] = frozenset(
    {_C.APPLICATION, _C.REVIEW, _C.SET_UP, _C.SIGNED}
)

#: What each step of a contract does: the statuses it runs from and the one it leads to.
CONTRACT_LIFECYCLE: Lifecycle[ContractStatus] = Lifecycle(
    "service point",
    CONTRACT_TRANSITIONS,
    {
        "review": Command("start the initial review", frozenset({_C.APPLICATION}), _C.REVIEW),
        "set_up": Command("pass the review", frozenset({_C.REVIEW}), _C.SET_UP),
        "sign": Command("sign the contract", frozenset({_C.SET_UP}), _C.SIGNED),
        "activate": Command("open the point", frozenset({_C.SIGNED}), _C.ACTIVE),
        "suspend": Command("suspend the point", frozenset({_C.ACTIVE}), _C.SUSPENDED),
        "reinstate": Command("reinstate the point", frozenset({_C.SUSPENDED}), _C.ACTIVE),
    },
)


def initial_status(ownership: PointOwnership) -> ContractStatus:
    """Where a new point starts: an own point is active, a contracted one applies."""
    return _C.ACTIVE if ownership is PointOwnership.OWN else _C.APPLICATION


# -- assessments --------------------------------------------------------------------------


def check_criteria(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field maps each assessment criterion (non-blank) to its most points (>= 1)."""
    if not isinstance(value, Mapping) or not value:
        raise ValidationError.at(
            attribute.name, f"expected a mapping of criteria to points, got {describe(value)}"
        )
    for name, points in value.items():
        if not isinstance(name, str) or not name.strip():
            raise ValidationError.at(attribute.name, f"a criterion is non-blank text, not {name!r}")
        if isinstance(points, bool) or not isinstance(points, int) or points < 1:
            raise ValidationError.at(
                f"{attribute.name}.{name}", f"must be a whole number >= 1, got {describe(points)}"
            )


def check_grades(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field maps each grade (non-blank) to the least total it takes (>= 0); one
    grade takes 0, so every total has a grade."""
    if not isinstance(value, Mapping) or not value:
        raise ValidationError.at(
            attribute.name, f"expected a mapping of grades to totals, got {describe(value)}"
        )
    for name, least in value.items():
        if not isinstance(name, str) or not name.strip():
            raise ValidationError.at(attribute.name, f"a grade is non-blank text, not {name!r}")
        if isinstance(least, bool) or not isinstance(least, int) or least < 0:
            raise ValidationError.at(
                f"{attribute.name}.{name}", f"must be a whole number >= 0, got {describe(least)}"
            )
    if 0 not in value.values():
        raise ValidationError.at(attribute.name, "one grade must start at 0")
    if len(set(value.values())) != len(value):
        raise ValidationError.at(attribute.name, "two grades start at the same total")


def grade_for(total: int, grades: Mapping[str, int]) -> str:
    """The grade of ``total``: the band with the highest least total it reaches."""
    reached = [(least, name) for name, least in grades.items() if least <= total]
    return max(reached)[1]


def assessment_id(service_point_id: str, period_start: date) -> str:
    """The key of a point's assessment of the period starting ``period_start``."""
    return f"{service_point_id}/{period_start.isoformat()}"


def _scores(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError.at(attribute.name, f"expected a mapping, got {describe(value)}")
    for name, points in value.items():
        if not isinstance(name, str) or not name.strip():
            raise ValidationError.at(attribute.name, f"a criterion is non-blank text, not {name!r}")
        if isinstance(points, bool) or not isinstance(points, int) or points < 0:
            raise ValidationError.at(
                f"{attribute.name}.{name}", f"must be a whole number >= 0, got {describe(points)}"
            )


@attrs.frozen(kw_only=True)
class PointAssessment:
    """One periodic assessment of a service point (定期考核), keyed by point and period.

    ``scores`` are the points per criterion, ``total`` their sum, ``grade`` the policy's
    band for the total; ``suspended`` says whether the grade suspended the point.
    """

    id: str = attrs.field(validator=not_blank)
    service_point_id: str = attrs.field(validator=not_blank)
    period_start: date = attrs.field(validator=day)
    period_end: date = attrs.field(validator=day)
    scores: Mapping[str, int] = attrs.field(converter=as_dict, validator=_scores)
    total: int = attrs.field(validator=integer)
    grade: str = attrs.field(validator=not_blank)
    suspended: bool = attrs.field(default=False, validator=flag)
    note: str = attrs.field(default="", validator=text)
    at: datetime = attrs.field(validator=aware)
    by: str = attrs.field(validator=not_blank)

    def __attrs_post_init__(self) -> None:
        if self.period_end < self.period_start:
            raise ValidationError.at("period_end", "is before period_start")
        if self.total != sum(self.scores.values()):
            raise ValidationError.at("total", "is not the sum of the scores")
        if self.id != assessment_id(self.service_point_id, self.period_start):
            raise ValidationError.at("id", "is not the point and the period's start")


def assess(
    service_point_id: str,
    scores: Mapping[str, int],
    *,
    period_start: date,
    period_end: date,
    criteria: Mapping[str, int],
    grades: Mapping[str, int],
    suspend_grades: frozenset[str],
    at: datetime,
    by: Actor,
    note: str = "",
) -> PointAssessment:
    """Score a service point for a period: every criterion of the policy, none other.

    Each score is from 0 to the criterion's points (``score_out_of_range``); a criterion
    of ``criteria`` without a score is ``criterion_not_scored``, a score for one that is
    not in ``criteria`` a :class:`ValidationError`. The total is the sum; the grade is
    the band of ``grades`` it reaches, and a grade in ``suspend_grades`` marks the
    assessment as suspending the point (docs/domain.md 8: periodic assessment).
    """
    if not isinstance(by, Actor):
        raise ValidationError.at("by", f"expected an Actor, got {describe(by)}")
    unknown = sorted(set(scores) - set(criteria))
    if unknown:
        raise ValidationError.at(f"scores.{unknown[0]}", "is not a criterion of the policy")
    missing = sorted(set(criteria) - set(scores))
    if missing:
        raise RuleViolation(
            "criterion_not_scored",
            f"service point {describe(service_point_id)}: no score for {', '.join(missing)}",
            service_point_id=service_point_id,
            criteria=missing,
        )
    for name, most in criteria.items():
        given = scores[name]
        if isinstance(given, bool) or not isinstance(given, int) or not 0 <= given <= most:
            raise RuleViolation(
                "score_out_of_range",
                f"criterion {describe(name)} scores 0 to {most}, not {describe(given)}",
                criterion=name,
                most=most,
            )
    total = sum(scores[name] for name in criteria)
    grade = grade_for(total, grades)
    return PointAssessment(
        id=assessment_id(service_point_id, period_start),
        service_point_id=service_point_id,
        period_start=period_start,
        period_end=period_end,
        scores={name: scores[name] for name in criteria},
        total=total,
        grade=grade,
        suspended=grade in suspend_grades,
        note=note,
        at=utc(at),
        by=by.id,
    )


def contract_status(value: object) -> ContractStatus:
    """``value`` as a :class:`ContractStatus` (a member or its value)."""
    return enum_value(ContractStatus, value, "status")


def default_criteria() -> dict[str, int]:
    """The default assessment criteria and their points (a project default, 100 in all)."""
    return {
        "on_time": 30,
        "first_time_fix": 20,
        "satisfaction": 20,
        "records": 15,
        "parts": 15,
    }


def default_grades() -> dict[str, int]:
    """The default grade bands: the least total of each grade (a project default)."""
    return {"A": 90, "B": 75, "C": 60, "D": 0}


def check_suspend_grades(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds grades of the policy's ``assessment_grades``."""
    if not isinstance(value, frozenset) or not all(isinstance(g, str) for g in value):
        raise ValidationError.at(attribute.name, f"expected a set of grades, got {describe(value)}")
    grades = getattr(instance, "assessment_grades", {})
    unknown = sorted(value - set(grades))
    if unknown:
        raise ValidationError.at(attribute.name, f"{describe(unknown[0])} is not a grade")


def check_share(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a finite :class:`~decimal.Decimal` share from 0 to 1."""
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 1:
        raise ValidationError.at(
            attribute.name, f"must be a Decimal from 0 to 1, got {describe(value)}"
        )
