"""Survey campaigns: who is invited, when, and the campaign's lifecycle (docs/domain.md 5).

Surveys run in Q4 and in May; key accounts are visited twice a year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum

import attrs
from dateutil.relativedelta import relativedelta

from csdomain import validators as valid
from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.satisfaction import _checks as check
from csdomain.satisfaction.policy import SatisfactionPolicy


__all__ = [
    "CAMPAIGN_COMMANDS",
    "CAMPAIGN_INITIAL",
    "CAMPAIGN_LIFECYCLE",
    "CAMPAIGN_TERMINAL",
    "CAMPAIGN_TRANSITIONS",
    "CampaignStatus",
    "SurveyCampaign",
]


class CampaignStatus(StrEnum):
    """Where a survey campaign is: planned, open for answers, closed or cancelled."""

    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


CAMPAIGN_TRANSITIONS: Mapping[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.PLANNED: frozenset({CampaignStatus.OPEN, CampaignStatus.CANCELLED}),
    CampaignStatus.OPEN: frozenset({CampaignStatus.CLOSED, CampaignStatus.CANCELLED}),
    CampaignStatus.CLOSED: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}
CAMPAIGN_INITIAL = frozenset({CampaignStatus.PLANNED})
CAMPAIGN_TERMINAL = frozenset({CampaignStatus.CLOSED, CampaignStatus.CANCELLED})

#: What may be done to a campaign in which status, by the desk's use-case names.
CAMPAIGN_COMMANDS: Mapping[str, Command[CampaignStatus]] = {
    "invite_to_survey_campaign": Command(
        "invite customers", frozenset({CampaignStatus.PLANNED, CampaignStatus.OPEN})
    ),
    "open_survey_campaign": Command(
        "open the campaign", frozenset({CampaignStatus.PLANNED}), CampaignStatus.OPEN
    ),
    "close_survey_campaign": Command(
        "close the campaign", frozenset({CampaignStatus.OPEN}), CampaignStatus.CLOSED
    ),
    "cancel_survey_campaign": Command(
        "cancel the campaign",
        frozenset({CampaignStatus.PLANNED, CampaignStatus.OPEN}),
        CampaignStatus.CANCELLED,
    ),
}
#: The campaign's lifecycle: the transition table and the command table beside it.
CAMPAIGN_LIFECYCLE = Lifecycle("survey campaign", CAMPAIGN_TRANSITIONS, CAMPAIGN_COMMANDS)


def _to_campaign_status(value: CampaignStatus | str) -> CampaignStatus:
    return valid.enum_value(CampaignStatus, value, "status")


@attrs.frozen
class SurveyCampaign:
    """A survey sent to a set of customers over a period (docs/domain.md 5).

    Surveys run in Q4 and in May; key accounts are visited twice a year. ``customer_base``
    is the number of customers the campaign should reach, for coverage x response rate.
    """

    id: str = attrs.field(validator=valid.not_blank)
    survey_id: str = attrs.field(validator=valid.not_blank)
    starts_on: date
    ends_on: date
    invited: frozenset[str] = attrs.field(factory=frozenset, converter=valid.as_frozenset)
    customer_base: int | None = None
    key_accounts: bool = False
    status: CampaignStatus = attrs.field(
        default=CampaignStatus.PLANNED, converter=_to_campaign_status
    )
    history: tuple[StatusChange, ...] = attrs.field(
        default=(), converter=valid.as_tuple, validator=valid.tuple_of(StatusChange)
    )

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        for name in ("starts_on", "ends_on"):
            value = getattr(self, name)
            if not isinstance(value, date) or isinstance(value, datetime):
                errors.append((name, f"expected a date, got {type(value).__name__}"))
        if not errors and self.ends_on < self.starts_on:
            errors.append(("ends_on", "the campaign ends before it starts"))
        if not isinstance(self.key_accounts, bool):
            msg = f"expected true or false, got {describe(self.key_accounts)}"
            errors.append(("key_accounts", msg))
        try:
            check.customer_ids(self.invited, "invited")
        except ValidationError as err:
            errors.extend(err.errors)
        try:
            check.optional_count(self.customer_base, "customer_base")
        except ValidationError as err:
            errors.extend(err.errors)
        else:
            if (
                self.customer_base is not None
                and isinstance(self.invited, frozenset)
                and len(self.invited) > self.customer_base
            ):
                errors.append(("customer_base", "fewer customers than invited"))
        if errors:
            raise ValidationError(errors)

    @classmethod
    def plan(
        cls,
        *,
        id: str,
        survey_id: str,
        starts_on: date,
        ends_on: date,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        invited: Iterable[str] = (),
        customer_base: int | None = None,
        key_accounts: bool = False,
    ) -> SurveyCampaign:
        """Plan a campaign; needs ``survey.manage``."""
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        change = StatusChange(from_=None, to=CampaignStatus.PLANNED.value, at=at, by=by.id)
        return cls(
            id=id,
            survey_id=survey_id,
            starts_on=starts_on,
            ends_on=ends_on,
            invited=check.customer_ids(invited, "invited"),
            customer_base=customer_base,
            key_accounts=key_accounts,
            history=(change,),
        )

    def invite(
        self, customer_ids: Iterable[str], *, at: datetime, by: Actor, access: AccessPolicy
    ) -> SurveyCampaign:
        """Add customers to a planned or open campaign."""
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        customers = check.customer_ids(customer_ids, "customer_ids")
        if self.status not in CAMPAIGN_COMMANDS["invite_to_survey_campaign"].sources:
            raise RuleViolation(
                "campaign_finished",
                "customers can only be invited to a planned or open campaign",
                campaign_id=self.id,
                status=self.status.value,
            )
        return attrs.evolve(self, invited=self.invited | customers)

    def open(
        self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> SurveyCampaign:
        """Start collecting answers; a campaign with nobody invited cannot open."""
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        check.note(note)
        if not self.invited and self.status is CampaignStatus.PLANNED:
            raise RuleViolation(
                "nobody_invited",
                "invite customers before opening the campaign",
                campaign_id=self.id,
            )
        return CAMPAIGN_LIFECYCLE.move(self, "open_survey_campaign", at=at, by=by.id, note=note)

    def close(
        self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> SurveyCampaign:
        """Stop collecting answers."""
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        check.note(note)
        return CAMPAIGN_LIFECYCLE.move(self, "close_survey_campaign", at=at, by=by.id, note=note)

    def cancel(self, *, at: datetime, by: Actor, access: AccessPolicy, note: str) -> SurveyCampaign:
        """Cancel the campaign with a reason."""
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        if not check.note(note).strip():
            raise ValidationError.at("note", "say why the campaign is cancelled")
        return CAMPAIGN_LIFECYCLE.move(self, "cancel_survey_campaign", at=at, by=by.id, note=note)

    def months(self) -> frozenset[int]:
        """The calendar months (1..12) the campaign's period touches."""
        months: set[int] = set()
        cursor = self.starts_on.replace(day=1)
        while cursor <= self.ends_on and len(months) < 12:
            months.add(cursor.month)
            cursor = cursor + relativedelta(months=1)
        return frozenset(months)

    def in_season(self, policy: SatisfactionPolicy) -> bool:
        """Whether the campaign runs in a survey month; key-account campaigns always do."""
        return self.key_accounts or bool(self.months() & policy.survey_months)

    def require_season(self, policy: SatisfactionPolicy) -> SurveyCampaign:
        """The campaign, unless it runs in no survey month (``out_of_survey_season``).

        docs/domain.md 5: surveys run in Q4 and in May; key accounts are visited whenever due.
        """
        if not self.in_season(policy):
            raise RuleViolation(
                "out_of_survey_season",
                f"campaign {describe(self.id)} runs in no survey month "
                f"({', '.join(str(m) for m in sorted(policy.survey_months))})",
                campaign_id=self.id,
                months=sorted(self.months()),
            )
        return self
