"""Use cases of satisfaction surveys and contact-centre KPIs (docs/domain.md 3.3, 5 and 6).

Surveys are defined once and answered many times; campaigns invite customers over a
period in the survey season. Statistics stream over the stored responses into a
:class:`~csdomain.satisfaction.SurveyStats` accumulator and KPI reports over the stored
contact records into a :class:`~csdomain.kpi.ContactStats`, so memory does not grow with
the number of rows read. Every use case goes through the desk's skeleton
(:func:`~csdomain.desk.base.use_case`): arguments checked from their annotations, the
permission before anything is loaded, one unit of work, the kind's events emitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import attrs

from csdomain.auth import Actor, Permission
from csdomain.desk.args import Count, Id, LongText, ShortText
from csdomain.desk.base import DeskBase, checked, use_case
from csdomain.desk.privacy import MASKED, PersonalDataRedactor
from csdomain.errors import AlreadyExists, RuleViolation, ValidationError, describe
from csdomain.ids import NamingSeries
from csdomain.kinds import (
    CONTACTS,
    CUSTOMERS,
    RULE_GUARDS,
    SATISFACTION_MONITORS,
    SURVEY_CAMPAIGNS,
    SURVEY_RESPONSES,
    SURVEYS,
)
from csdomain.kpi import ContactRecord, ContactStats, KpiReport, kpi_reports_by_agent
from csdomain.satisfaction import (
    CampaignStatus,
    Driver,
    MonitorStatus,
    SatisfactionMetric,
    SatisfactionMonitor,
    Survey,
    SurveyCampaign,
    SurveyRequested,
    SurveyResponse,
    SurveyResponseRecorded,
    SurveyResult,
    SurveyStats,
)
from csdomain.store import UnitOfWork
from csdomain.warranty import RuleGuard


__all__ = ["SatisfactionDesk"]

#: The "at most one" rule of campaign answers: one response per customer and campaign.
_ANSWER_RULE = "survey_answer"


def _period(start: datetime, end: datetime) -> None:
    if end < start:
        raise ValidationError.at("end", "is before start")


class SatisfactionDesk(DeskBase):
    """Surveys, campaigns, responses and their statistics; contact records and KPIs."""

    # -- surveys -----------------------------------------------------------------------

    @use_case(Permission.MANAGE_SURVEYS)
    def define_survey(self, uow: UnitOfWork, survey: Survey, *, by: Actor) -> Survey:
        """Store a questionnaire (:class:`AlreadyExists` if its id is taken)."""
        return self.create(uow, SURVEYS, survey)

    @use_case(Permission.MANAGE_SURVEYS, readonly=True)
    def get_survey(self, uow: UnitOfWork, survey_id: Id, *, by: Actor) -> Survey:
        """The stored survey; :class:`NotFound` if there is none."""
        return uow.repo(SURVEYS).get(survey_id)

    # -- campaigns ---------------------------------------------------------------------

    @use_case(Permission.MANAGE_SURVEYS)
    def plan_survey_campaign(
        self,
        uow: UnitOfWork,
        survey_id: Id,
        *,
        starts_on: date,
        ends_on: date,
        by: Actor,
        invited: Iterable[Id] = (),
        customer_base: Count | None = None,
        key_accounts: bool = False,
        campaign_id: Id | None = None,
    ) -> SurveyCampaign:
        """Plan a campaign of a stored survey in the survey season (docs/domain.md 5).

        Surveys run in the policy's survey months (Q4 and May); a campaign that touches
        none of them is refused with ``out_of_survey_season``, except for key accounts,
        which are visited twice a year whenever they are due. The campaign gets the next
        ``SC-{yyyy}{mm}-{seq:04d}`` number unless ``campaign_id`` is given.
        """
        now = self.now()
        policy = self.policy.satisfaction
        uow.repo(SURVEYS).get(survey_id)
        campaign = SurveyCampaign.plan(
            id=campaign_id or NamingSeries(policy.campaign_number_pattern).next(uow, now),
            survey_id=survey_id,
            starts_on=starts_on,
            ends_on=ends_on,
            at=now,
            by=by,
            access=self.policy.access,
            invited=invited,
            customer_base=customer_base,
            key_accounts=key_accounts,
        )
        return self.create(uow, SURVEY_CAMPAIGNS, campaign.require_season(policy))

    @use_case(Permission.MANAGE_SURVEYS)
    def invite_to_survey_campaign(
        self, uow: UnitOfWork, campaign_id: Id, customer_ids: Iterable[Id], *, by: Actor
    ) -> SurveyCampaign:
        """Add customers to a planned or open campaign."""
        now, access = self.now(), self.policy.access
        return self.change(
            uow,
            SURVEY_CAMPAIGNS,
            campaign_id,
            lambda campaign: campaign.invite(customer_ids, at=now, by=by, access=access),
        )

    @use_case(Permission.MANAGE_SURVEYS)
    def open_survey_campaign(
        self, uow: UnitOfWork, campaign_id: Id, *, by: Actor, note: LongText = ""
    ) -> SurveyCampaign:
        """Start collecting answers (``nobody_invited`` if no customer is invited)."""
        now, access = self.now(), self.policy.access
        return self.change(
            uow,
            SURVEY_CAMPAIGNS,
            campaign_id,
            lambda campaign: campaign.open(at=now, by=by, access=access, note=note),
        )

    @use_case(Permission.MANAGE_SURVEYS)
    def close_survey_campaign(
        self, uow: UnitOfWork, campaign_id: Id, *, by: Actor, note: LongText = ""
    ) -> SurveyCampaign:
        """Stop collecting answers."""
        now, access = self.now(), self.policy.access
        return self.change(
            uow,
            SURVEY_CAMPAIGNS,
            campaign_id,
            lambda campaign: campaign.close(at=now, by=by, access=access, note=note),
        )

    @use_case(Permission.MANAGE_SURVEYS)
    def cancel_survey_campaign(
        self, uow: UnitOfWork, campaign_id: Id, *, by: Actor, note: LongText
    ) -> SurveyCampaign:
        """Cancel a campaign, saying why."""
        now, access = self.now(), self.policy.access
        return self.change(
            uow,
            SURVEY_CAMPAIGNS,
            campaign_id,
            lambda campaign: campaign.cancel(at=now, by=by, access=access, note=note),
        )

    @use_case(Permission.MANAGE_SURVEYS, readonly=True)
    def get_survey_campaign(self, uow: UnitOfWork, campaign_id: Id, *, by: Actor) -> SurveyCampaign:
        """The stored campaign; :class:`NotFound` if there is none."""
        return uow.repo(SURVEY_CAMPAIGNS).get(campaign_id)

    # -- monitoring --------------------------------------------------------------------

    @use_case(Permission.MANAGE_SURVEYS)
    def start_satisfaction_monitor(
        self,
        uow: UnitOfWork,
        subject: ShortText,
        *,
        metric: SatisfactionMetric | str,
        target: float,
        measured: float,
        by: Actor,
        monitor_id: Id | None = None,
    ) -> SatisfactionMonitor:
        """Start the monitoring loop of ``subject``: target and measured level (docs/domain.md 5).

        The monitor gets the next ``SM-{yyyy}{mm}-{seq:04d}`` number unless ``monitor_id``
        is given; every step emits :class:`~csdomain.satisfaction.SatisfactionMonitorMoved`
        with the gap to the target.
        """
        now = self.now()
        pattern = self.policy.satisfaction.monitor_number_pattern
        monitor = SatisfactionMonitor.start(
            id=monitor_id or NamingSeries(pattern).next(uow, now),
            subject=subject,
            metric=metric,
            target=target,
            measured=measured,
            at=now,
            by=by,
            access=self.policy.access,
        )
        return self.create(uow, SATISFACTION_MONITORS, monitor)

    @use_case(Permission.MANAGE_SURVEYS)
    def analyse_satisfaction_gap(
        self, uow: UnitOfWork, monitor_id: Id, causes: Iterable[LongText], *, by: Actor
    ) -> SatisfactionMonitor:
        """Record the causes of the gap between target and measured level."""
        now, access = self.now(), self.policy.access
        return self.change(
            uow,
            SATISFACTION_MONITORS,
            monitor_id,
            lambda monitor: monitor.analyse(causes, at=now, by=by, access=access),
        )

    @use_case(Permission.MANAGE_SURVEYS)
    def act_on_satisfaction_gap(
        self,
        uow: UnitOfWork,
        monitor_id: Id,
        description: LongText,
        *,
        by: Actor,
        due: date | None = None,
    ) -> SatisfactionMonitor:
        """Record the corrective action taken against the causes."""
        now, access = self.now(), self.policy.access
        return self.change(
            uow,
            SATISFACTION_MONITORS,
            monitor_id,
            lambda monitor: monitor.act(description, at=now, by=by, access=access, due=due),
        )

    @use_case(Permission.MANAGE_SURVEYS)
    def remeasure_satisfaction(
        self, uow: UnitOfWork, monitor_id: Id, level: float, *, by: Actor
    ) -> SatisfactionMonitor:
        """Record the level measured again after the corrective action."""
        now, access = self.now(), self.policy.access
        return self.change(
            uow,
            SATISFACTION_MONITORS,
            monitor_id,
            lambda monitor: monitor.remeasure(level, at=now, by=by, access=access),
        )

    @use_case(Permission.MANAGE_SURVEYS)
    def close_satisfaction_monitor(
        self,
        uow: UnitOfWork,
        monitor_id: Id,
        *,
        by: Actor,
        note: LongText = "",
        accept_gap: bool = False,
    ) -> SatisfactionMonitor:
        """Close the loop once the target is met (``satisfaction_target_not_met`` before
        that), or accept the remaining gap with a written reason."""
        now, access = self.now(), self.policy.access
        return self.change(
            uow,
            SATISFACTION_MONITORS,
            monitor_id,
            lambda monitor: monitor.close(
                at=now, by=by, access=access, note=note, accept_gap=accept_gap
            ),
        )

    @use_case(Permission.MANAGE_SURVEYS, readonly=True)
    def get_satisfaction_monitor(
        self, uow: UnitOfWork, monitor_id: Id, *, by: Actor
    ) -> SatisfactionMonitor:
        """The stored monitor; :class:`NotFound` if there is none."""
        return uow.repo(SATISFACTION_MONITORS).get(monitor_id)

    @use_case(Permission.MANAGE_SURVEYS, readonly=True)
    def find_satisfaction_monitors(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        subject: ShortText | None = None,
        open_only: bool = False,
    ) -> list[SatisfactionMonitor]:
        """Monitors, by number; of one ``subject`` and/or only those not closed yet."""
        where: dict[str, Any] = {}
        if subject is not None:
            where["subject"] = subject
        if open_only:
            where["status__ne"] = MonitorStatus.CLOSED
        return uow.repo(SATISFACTION_MONITORS).find(order_by="key", **where)

    # -- responses ---------------------------------------------------------------------

    @use_case(Permission.MANAGE_SURVEYS)
    def record_survey_response(
        self, uow: UnitOfWork, response: SurveyResponse, *, by: Actor
    ) -> SurveyResponse:
        """Store one customer's answers, checked against the survey's items and scale.

        The survey must be stored (:class:`NotFound`); a rating outside ``1..scale`` or an
        unknown item is a :class:`ValidationError`. A response within a campaign needs the
        campaign open (``campaign_not_open``), the customer invited
        (``customer_not_invited``) and no earlier answer of that customer to the campaign
        (``already_answered``): one response per customer and campaign, also when two
        desks record one at the same moment (the response takes the customer's slot of the
        campaign, a :class:`~csdomain.warranty.RuleGuard`; issue #19 item 6). The stored
        response is a :class:`~csdomain.satisfaction.SurveyResponseRecorded` event (the
        default templates thank the respondent, docs/domain.md 5). The response returned is
        on record, or its open answers redacted without ``customer.read``.
        """
        now = self.now()
        if response.answered_at > now:
            raise ValidationError.at("response.answered_at", "is in the future")
        survey = uow.repo(SURVEYS).get(response.survey_id)
        try:
            survey.check_response(response)
        except ValidationError as err:
            raise err.prefixed("response") from None
        if response.campaign_id is not None:
            self._check_survey_campaign_answer(uow, response, response.campaign_id)
        self.create(uow, SURVEY_RESPONSES, response)
        uow.emit(
            SurveyResponseRecorded(
                response_id=response.id,
                survey_id=response.survey_id,
                customer_id=response.customer_id,
                campaign_id=response.campaign_id,
                nps_score=response.nps_score,
                answered_at=response.answered_at,
                at=now,
                by=by.id,
            ),
            at=now,
        )
        return self._shown_response(uow, response, by)

    def _shown_response(
        self, uow: UnitOfWork, response: SurveyResponse, by: Actor
    ) -> SurveyResponse:
        """``response`` as ``by`` may see it: open answers are free text about a customer
        (docs/domain.md 1). With ``customer.read`` the response is shown whole and the
        reading is on record; without it the customer's name, phone, address, e-mail and
        bank account are masked in the open answers and nothing is recorded (issue #19
        item 1).
        """
        if self.may_read_personal(by):
            self.record_access(uow, [response.customer_id], by, "survey response")
            return response
        customer = uow.repo(CUSTOMERS).get_or_none(response.customer_id)
        if customer is None:
            return response
        redact = PersonalDataRedactor.for_customer(customer, replacement=MASKED)
        answers = {key: redact(text) for key, text in response.open_answers.items()}
        return attrs.evolve(response, open_answers=answers)

    def _check_survey_campaign_answer(
        self, uow: UnitOfWork, response: SurveyResponse, campaign_id: str
    ) -> None:
        campaign = uow.repo(SURVEY_CAMPAIGNS).get(campaign_id)
        shown = describe(campaign_id)
        if campaign.survey_id != response.survey_id:
            msg = f"campaign {shown} runs survey {describe(campaign.survey_id)}"
            raise ValidationError.at("response.campaign_id", msg)
        if campaign.status is not CampaignStatus.OPEN:
            raise RuleViolation(
                "campaign_not_open",
                f"campaign {shown} is {campaign.status.value}, not open for answers",
                campaign_id=campaign_id,
                status=campaign.status.value,
            )
        customer = describe(response.customer_id)
        if response.customer_id not in campaign.invited:
            raise RuleViolation(
                "customer_not_invited",
                f"customer {customer} is not invited to campaign {shown}",
                campaign_id=campaign_id,
                customer_id=response.customer_id,
            )
        already = RuleViolation(
            "already_answered",
            f"customer {customer} already answered campaign {shown}",
            campaign_id=campaign_id,
            customer_id=response.customer_id,
        )
        earlier = uow.repo(SURVEY_RESPONSES).count(
            campaign_id=campaign_id, customer_id=response.customer_id
        )
        if earlier:
            raise already
        guard = RuleGuard.of(
            _ANSWER_RULE, (campaign_id, response.customer_id), holder=response.id, at=self.now()
        )
        try:
            uow.repo(RULE_GUARDS).add(guard)
        except AlreadyExists:
            raise already from None

    # -- statistics --------------------------------------------------------------------

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def survey_stats(
        self,
        uow: UnitOfWork,
        survey_id: Id,
        *,
        by: Actor,
        campaign_id: Id | None = None,
        invited: Count | None = None,
        customer_base: Count | None = None,
    ) -> SurveyResult:
        """Every figure of a survey's stored responses (docs/domain.md 5), in one streaming pass.

        With ``campaign_id`` only that campaign's responses count and coverage comes from
        its invitations and customer base; ``invited`` and ``customer_base`` override them.
        """
        survey = uow.repo(SURVEYS).get(survey_id)
        where: dict[str, Any] = {"survey_id": survey_id}
        if campaign_id is not None:
            campaign = uow.repo(SURVEY_CAMPAIGNS).get(campaign_id)
            if campaign.survey_id != survey_id:
                msg = f"campaign {describe(campaign_id)} runs survey {describe(campaign.survey_id)}"
                raise ValidationError.at("campaign_id", msg)
            where["campaign_id"] = campaign_id
            invited = len(campaign.invited) if invited is None else invited
            customer_base = campaign.customer_base if customer_base is None else customer_base
        stats = SurveyStats(
            survey, self.policy.satisfaction, invited=invited, customer_base=customer_base
        )
        for response in uow.repo(SURVEY_RESPONSES).scan(**where):
            stats.add(response)
        return stats.result()

    @checked(Permission.VIEW_REPORTS)
    def driver_analysis(
        self, survey_id: Id, *, by: Actor, campaign_id: Id | None = None
    ) -> tuple[Driver, ...]:
        """Which items move the overall score most, strongest first (docs/domain.md 5)."""
        return self.survey_stats(survey_id, by=by, campaign_id=campaign_id).drivers

    @use_case(Permission.MANAGE_SURVEYS, readonly=True)
    def pending_survey_requests(self, uow: UnitOfWork, *, by: Actor) -> tuple[SurveyRequested, ...]:
        """Post-service survey requests in the outbox not yet turned into messages."""
        entries = uow.outbox.scan(
            type=SurveyRequested.type_name, status="pending", order_by="created_at"
        )
        return tuple(
            event for entry in entries if isinstance(event := entry.event(), SurveyRequested)
        )

    # -- contact centre ----------------------------------------------------------------

    @use_case(Permission.HANDLE_COMPLAINT)
    def record_contacts(
        self, uow: UnitOfWork, records: Iterable[ContactRecord], *, by: Actor
    ) -> int:
        """Store calls from the telephony log; returns how many were added.

        All or nothing: a bad record or a taken id stores none of them. Needs
        ``complaint.handle``, the permission of whoever handles contacts.
        """
        return uow.repo(CONTACTS).add_many(records)

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def kpi_report(
        self, uow: UnitOfWork, start: datetime, end: datetime, *, by: Actor
    ) -> KpiReport:
        """Contact-centre KPIs of the calls offered in ``start <= offered_at < end``
        against the policy's standards (docs/domain.md 3.3), streaming."""
        _period(start, end)
        calls = uow.repo(CONTACTS).scan(offered_at__ge=start, offered_at__lt=end)
        return ContactStats(self.policy.contact_centre).add_all(calls).report()

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def agent_kpi_reports(
        self, uow: UnitOfWork, start: datetime, end: datetime, *, by: Actor
    ) -> dict[str, KpiReport]:
        """One KPI report per agent for the calls offered in ``start <= offered_at < end``."""
        _period(start, end)
        calls = uow.repo(CONTACTS).scan(offered_at__ge=start, offered_at__lt=end)
        return kpi_reports_by_agent(calls, self.policy.contact_centre)
