"""Triage of a service call (维修人员应该如何分析报修信息): symptoms to causes, measures, parts.

The handbook asks whoever receives a repair call to work out, from the reported symptoms,
the likely causes, the repair measures and the parts needed; whether it can be repaired
at all; and whether it can be repaired at the customer's site or must go back to the
factory (返厂维修). :func:`triage_symptoms` does this over a fault guide of
:class:`FaultEntry` rows (``FieldServicePolicy.fault_guide``) and explains each part of
its answer with a :class:`Finding`. Whether someone can be on site in time is the
technician suggestion's business (:mod:`csdomain.fieldservice.dispatch`); the desk adds
its answer to the triage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from csdomain.errors import ValidationError, describe
from csdomain.fieldservice._checks import names, texts
from csdomain.fieldservice.classification import ServiceOrderKind, ServiceRoute
from csdomain.validators import (
    as_frozenset,
    as_tuple,
    count,
    enum_value,
    flag,
    not_blank,
    optional,
    tuple_of,
)


__all__ = ["FaultEntry", "Finding", "TriageResult", "triage_symptoms"]

_CODE = re.compile(r"[a-z][a-z0-9_]*")


def _code(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise ValidationError.at(
            attribute.name, f"must be a snake_case code, got {describe(value)}"
        )


@attrs.frozen
class Finding:
    """One explained finding: a stable snake_case ``code`` and a sentence."""

    code: str = attrs.field(validator=_code)
    message: str = attrs.field(validator=not_blank)


def _route(value: object) -> ServiceRoute:
    return enum_value(ServiceRoute, value, "route")


@attrs.frozen(kw_only=True)
class FaultEntry:
    """One row of the fault guide: a symptom and what it usually means.

    ``symptom`` is matched, without regard to case, as a part of a reported symptom
    ("no power" matches "no power since the storm"). ``models`` limits the row to some
    product models (empty: every model). ``route`` says where the fault is repaired and
    ``repairable`` whether it can be repaired at all (else the product is exchanged).
    ``skills`` are what the technician needs.
    """

    symptom: str = attrs.field(validator=not_blank)
    causes: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=texts)
    measures: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=texts)
    parts: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=texts)
    skills: frozenset[str] = attrs.field(factory=frozenset, converter=as_frozenset, validator=names)
    models: frozenset[str] = attrs.field(factory=frozenset, converter=as_frozenset, validator=names)
    route: ServiceRoute = attrs.field(default=ServiceRoute.ON_SITE, converter=_route)
    repairable: bool = attrs.field(default=True, validator=flag)

    def matches(self, symptom: str, model: str) -> bool:
        """Whether this row applies to a reported ``symptom`` of a product ``model``."""
        if self.models and model not in self.models:
            return False
        return self.symptom.casefold() in symptom.casefold()


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@attrs.frozen(kw_only=True)
class TriageResult:
    """What triage found: likely causes, measures, parts and skills, the route, and why."""

    symptoms: tuple[str, ...] = attrs.field(converter=as_tuple, validator=texts)
    likely_causes: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=texts)
    measures: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=texts)
    parts: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=texts)
    skills: frozenset[str] = attrs.field(factory=frozenset, converter=as_frozenset, validator=names)
    route: ServiceRoute = attrs.field(default=ServiceRoute.ON_SITE, converter=_route)
    repairable: bool = attrs.field(default=True, validator=flag)
    findings: tuple[Finding, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(Finding)
    )
    #: The distance from the service point to the customer, when known (distance bands).
    distance_km: int | None = attrs.field(default=None, validator=optional(count))

    @property
    def finding_codes(self) -> tuple[str, ...]:
        """The codes of :attr:`findings`, in order."""
        return tuple(finding.code for finding in self.findings)

    def with_finding(self, finding: Finding) -> TriageResult:
        """This result with one more finding (the desk adds the on-time answer)."""
        return attrs.evolve(self, findings=(*self.findings, finding))


_VISIT_KINDS = frozenset(
    {
        ServiceOrderKind.INSTALLATION,
        ServiceOrderKind.USER_TRAINING,
        ServiceOrderKind.PLANNED_MAINTENANCE,
        ServiceOrderKind.INSPECTION,
    }
)


def triage_symptoms(
    symptoms: Iterable[str],
    *,
    model: str,
    kind: ServiceOrderKind,
    guide: Iterable[FaultEntry],
    kind_skill: str | None = None,
    distance_km: int | None = None,
) -> TriageResult:
    """Analyse a service call the way the handbook asks (维修人员应该如何分析报修信息).

    Every row of ``guide`` that matches a reported symptom of ``model`` adds its causes,
    measures, parts and skills (``known_fault``). The route: a return-to-factory job is
    sent in (``sent_in``); installation, training, maintenance and inspection are visits
    (``visit_job``); a repair goes back to the factory when any matching row says so
    (``factory_repair``), is left to phone guidance when every matching row says remote
    (``remote_guidance``), and is otherwise repaired on site (``on_site_repair``). A repair
    that matches no row is inspected on site (``no_known_cause``). Any matching row that
    cannot be repaired makes the product not repairable (``not_repairable``: exchange it).
    ``kind_skill`` is the skill the kind of job needs (``FieldServicePolicy.kind_skills``).
    """
    reported = tuple(symptoms)
    entries = tuple(guide)
    for i, entry in enumerate(entries):
        if not isinstance(entry, FaultEntry):
            raise ValidationError.at(f"guide.{i}", f"expected a FaultEntry, got {describe(entry)}")
    matched = [e for e in entries if any(e.matches(s, model) for s in reported)]
    findings: list[Finding] = []
    for entry in matched:
        causes = ", ".join(entry.causes) or "no cause listed"
        findings.append(Finding("known_fault", f"{entry.symptom!r} on {model}: likely {causes}."))
    skills = {skill for entry in matched for skill in entry.skills}
    if kind_skill:
        skills.add(kind_skill)
    repairable = all(entry.repairable for entry in matched)
    if kind is ServiceOrderKind.RETURN_TO_FACTORY:
        route = ServiceRoute.RETURN_TO_FACTORY
        findings.append(Finding("sent_in", "The customer sends the product in for repair."))
    elif kind in _VISIT_KINDS:
        route = ServiceRoute.ON_SITE
        findings.append(Finding("visit_job", f"A {kind.value.replace('_', ' ')} is done on site."))
    elif not matched:
        route = ServiceRoute.ON_SITE
        findings.append(
            Finding(
                "no_known_cause",
                "No row of the fault guide matches the symptoms: a technician inspects on site.",
            )
        )
    elif any(entry.route is ServiceRoute.RETURN_TO_FACTORY for entry in matched):
        route = ServiceRoute.RETURN_TO_FACTORY
        findings.append(
            Finding("factory_repair", "The fault cannot be repaired on site: return to factory.")
        )
    elif all(entry.route is ServiceRoute.REMOTE for entry in matched):
        route = ServiceRoute.REMOTE
        findings.append(
            Finding(
                "remote_guidance",
                "Phone guidance is likely to clear the fault: try it before a visit.",
            )
        )
    else:
        route = ServiceRoute.ON_SITE
        findings.append(Finding("on_site_repair", "The fault can be repaired on site."))
    if not repairable:
        findings.append(
            Finding("not_repairable", "The fault cannot be repaired: the product is exchanged.")
        )
    return TriageResult(
        symptoms=reported,
        likely_causes=_unique(c for e in matched for c in e.causes),
        measures=_unique(m for e in matched for m in e.measures),
        parts=_unique(p for e in matched for p in e.parts),
        skills=frozenset(skills),
        route=route,
        repairable=repairable,
        findings=tuple(findings),
        distance_km=distance_km,
    )
