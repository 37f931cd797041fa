"""Post-service surveys: does a closed order or complaint ask for one (docs/domain.md 3.2, 5)."""

from __future__ import annotations

from datetime import datetime

from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe
from csdomain.satisfaction.events import SurveyRequested, SurveySubject
from csdomain.satisfaction.policy import SatisfactionPolicy
from csdomain.validators import enum_value


__all__ = [
    "post_service_survey",
    "should_request_survey",
]


def should_request_survey(
    subject: SurveySubject | str,
    policy: SatisfactionPolicy,
    *,
    closed_at: datetime,
    last_survey_at: datetime | None = None,
) -> bool:
    """Whether closing an order or complaint triggers a post-service survey.

    Policy flags ``survey_after_complaint`` / ``survey_after_order`` decide per subject;
    a customer surveyed less than ``survey_cooldown`` ago is not asked again.
    """
    kind = enum_value(SurveySubject, subject, "subject")
    if not isinstance(policy, SatisfactionPolicy):
        msg = f"expected a SatisfactionPolicy, got {type(policy).__name__}"
        raise ValidationError.at("policy", msg)
    require_aware(closed_at, "closed_at")
    wanted = (
        policy.survey_after_complaint
        if kind is SurveySubject.COMPLAINT
        else policy.survey_after_order
    )
    if not wanted:
        return False
    if last_survey_at is not None:
        require_aware(last_survey_at, "last_survey_at")
        if closed_at - last_survey_at < policy.survey_cooldown:
            return False
    return True


def post_service_survey(
    subject: SurveySubject | str,
    subject_id: str,
    customer_id: str,
    policy: SatisfactionPolicy,
    *,
    closed_at: datetime,
    last_survey_at: datetime | None = None,
) -> SurveyRequested | None:
    """The :class:`SurveyRequested` event for a closed order or complaint, or ``None``.

    docs/domain.md 3.2 (follow-up after handling) and 3.5 (next-day call): the survey is due
    ``survey_delay`` after closing; quiet hours are the dispatcher's business.
    """
    if not should_request_survey(
        subject, policy, closed_at=closed_at, last_survey_at=last_survey_at
    ):
        return None
    for path, value in (("subject_id", subject_id), ("customer_id", customer_id)):
        if not isinstance(value, str) or not value.strip():
            msg = f"must be a non-empty string, got {describe(value)}"
            raise ValidationError.at(path, msg)
    try:
        send_after = closed_at + policy.survey_delay
    except OverflowError:
        raise ValidationError.at("closed_at", "the survey would be due after year 9999") from None
    return SurveyRequested(
        survey_id=policy.post_service_survey_id,
        customer_id=customer_id,
        subject=enum_value(SurveySubject, subject, "subject"),
        subject_id=subject_id,
        requested_at=closed_at,
        send_after=send_after,
    )
