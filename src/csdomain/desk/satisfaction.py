"""Use cases of satisfaction surveys and contact-centre KPIs (DOMAIN.md 3.3, 5 and 6).

Surveys are defined once and answered many times; campaigns invite customers over a
period in the survey season. Statistics stream over the stored responses into a
:class:`~csdomain.satisfaction.SurveyStats` accumulator and KPI reports over the stored
contact records into a :class:`~csdomain.kpi.ContactStats`, so memory does not grow with
the number of rows read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.clock import require_aware
from csdomain.desk.base import DeskBase
from csdomain.errors import RuleViolation, ValidationError
from csdomain.ids import NamingSeries
from csdomain.kinds import (
    CONTACTS,
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
    SatisfactionMonitorMoved,
    Survey,
    SurveyCampaign,
    SurveyRequested,
    SurveyResponse,
    SurveyResponseRecorded,
    SurveyResult,
    SurveyStats,
)
from csdomain.store import UnitOfWork


__all__ = ["SatisfactionDesk"]


def _text_arg(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(path, f"must be a non-empty string, got {value!r}")
    return value


def _period(start: datetime, end: datetime) -> None:
    require_aware(start, "start")
    require_aware(end, "end")
    if end < start:
        raise ValidationError.at("end", "is before start")


def _texts(value: Iterable[str]) -> tuple[object, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.at("causes", "expected a collection of causes, each as text")
    found = tuple(value)
    if not found:
        raise ValidationError.at("causes", "name at least one cause, each as text")
    return found


def _customer_ids(value: Iterable[str], path: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.at(path, "expected a collection of customer ids")
    try:
        ids = frozenset(value)
    except TypeError:
        raise ValidationError.at(path, "expected a collection of customer ids") from None
    for customer_id in ids:
        _text_arg(customer_id, path)
    return ids


class SatisfactionDesk(DeskBase):
    """Surveys, campaigns, responses and their statistics; contact records and KPIs."""

    # -- surveys -----------------------------------------------------------------------

    def define_survey(self, survey: Survey, *, by: Actor) -> Survey:
        """Store a questionnaire (:class:`AlreadyExists` if its id is taken)."""
        self.require(by, Permission.MANAGE_SURVEYS)
        if not isinstance(survey, Survey):
            raise ValidationError.at("survey", f"expected a Survey, got {survey!r}")
        self.bounded_text(survey.title, "survey.title")
        for i, item in enumerate(survey.items):
            self.bounded_text(item.text, f"survey.items.{i}.text")

        def work(uow: UnitOfWork) -> Survey:
            uow.repo(SURVEYS).add(survey)
            return survey

        return self.run(work)

    def get_survey(self, survey_id: str, *, by: Actor) -> Survey:
        """The stored survey; :class:`NotFound` if there is none."""
        self.require(by, Permission.MANAGE_SURVEYS)
        _text_arg(survey_id, "survey_id")
        return self.run(lambda uow: uow.repo(SURVEYS).get(survey_id), readonly=True)

    # -- campaigns ---------------------------------------------------------------------

    def plan_survey_campaign(
        self,
        survey_id: str,
        *,
        starts_on: date,
        ends_on: date,
        by: Actor,
        invited: Iterable[str] = (),
        customer_base: int | None = None,
        key_accounts: bool = False,
        campaign_id: str | None = None,
    ) -> SurveyCampaign:
        """Plan a campaign of a stored survey in the survey season (DOMAIN.md 5).

        Surveys run in the policy's survey months (Q4 and May); a campaign that touches
        none of them is refused with ``out_of_survey_season``, except for key accounts,
        which are visited twice a year whenever they are due. The campaign gets the next
        ``SC-{yyyy}{mm}-{seq:04d}`` number unless ``campaign_id`` is given.
        """
        self.require(by, Permission.MANAGE_SURVEYS)
        _text_arg(survey_id, "survey_id")
        if campaign_id is not None:
            _text_arg(campaign_id, "campaign_id")
        customers = _customer_ids(invited, "invited")
        policy = self.policy.satisfaction

        def work(uow: UnitOfWork) -> SurveyCampaign:
            now = self.now()
            uow.repo(SURVEYS).get(survey_id)
            campaign = SurveyCampaign.plan(
                id=campaign_id
                or NamingSeries(self.policy.satisfaction.campaign_number_pattern).next(uow, now),
                survey_id=survey_id,
                starts_on=starts_on,
                ends_on=ends_on,
                at=now,
                by=by,
                access=self.policy.access,
                invited=customers,
                customer_base=customer_base,
                key_accounts=key_accounts,
            )
            if not campaign.in_season(policy):
                raise RuleViolation(
                    "out_of_survey_season",
                    f"campaign {campaign.id!r} runs in no survey month "
                    f"({', '.join(str(m) for m in sorted(policy.survey_months))})",
                    campaign_id=campaign.id,
                    months=sorted(campaign.months()),
                )
            uow.repo(SURVEY_CAMPAIGNS).add(campaign)
            return campaign

        return self.run(work)

    def _survey_campaign_step(
        self,
        campaign_id: str,
        change: Callable[[SurveyCampaign, datetime, AccessPolicy], SurveyCampaign],
    ) -> SurveyCampaign:
        """Load a campaign, apply one step at the desk's time and save it."""
        _text_arg(campaign_id, "campaign_id")

        def work(uow: UnitOfWork) -> SurveyCampaign:
            repo = uow.repo(SURVEY_CAMPAIGNS)
            after = change(repo.get(campaign_id), self.now(), self.policy.access)
            repo.update(after)
            return after

        return self.run(work)

    def invite_to_survey_campaign(
        self, campaign_id: str, customer_ids: Iterable[str], *, by: Actor
    ) -> SurveyCampaign:
        """Add customers to a planned or open campaign."""
        self.require(by, Permission.MANAGE_SURVEYS)
        customers = _customer_ids(customer_ids, "customer_ids")
        return self._survey_campaign_step(
            campaign_id, lambda c, now, access: c.invite(customers, at=now, by=by, access=access)
        )

    def open_survey_campaign(
        self, campaign_id: str, *, by: Actor, note: str = ""
    ) -> SurveyCampaign:
        """Start collecting answers (``nobody_invited`` if no customer is invited)."""
        self.require(by, Permission.MANAGE_SURVEYS)
        return self._survey_campaign_step(
            campaign_id, lambda c, now, access: c.open(at=now, by=by, access=access, note=note)
        )

    def close_survey_campaign(
        self, campaign_id: str, *, by: Actor, note: str = ""
    ) -> SurveyCampaign:
        """Stop collecting answers."""
        self.require(by, Permission.MANAGE_SURVEYS)
        return self._survey_campaign_step(
            campaign_id, lambda c, now, access: c.close(at=now, by=by, access=access, note=note)
        )

    def cancel_survey_campaign(self, campaign_id: str, *, by: Actor, note: str) -> SurveyCampaign:
        """Cancel a campaign, saying why."""
        self.require(by, Permission.MANAGE_SURVEYS)
        if not isinstance(note, str):
            raise ValidationError.at("note", "say why the campaign is cancelled")
        return self._survey_campaign_step(
            campaign_id, lambda c, now, access: c.cancel(at=now, by=by, access=access, note=note)
        )

    def get_survey_campaign(self, campaign_id: str, *, by: Actor) -> SurveyCampaign:
        """The stored campaign; :class:`NotFound` if there is none."""
        self.require(by, Permission.MANAGE_SURVEYS)
        _text_arg(campaign_id, "campaign_id")
        return self.run(lambda uow: uow.repo(SURVEY_CAMPAIGNS).get(campaign_id), readonly=True)

    # -- monitoring --------------------------------------------------------------------

    def start_satisfaction_monitor(
        self,
        subject: str,
        *,
        metric: SatisfactionMetric | str,
        target: float,
        measured: float,
        by: Actor,
        monitor_id: str | None = None,
    ) -> SatisfactionMonitor:
        """Start the monitoring loop of ``subject``: its target and measured level (DOMAIN.md 5).

        The monitor gets the next ``SM-{yyyy}{mm}-{seq:04d}`` number unless ``monitor_id``
        is given; every step emits :class:`~csdomain.satisfaction.SatisfactionMonitorMoved`
        with the gap to the target.
        """
        self.require(by, Permission.MANAGE_SURVEYS)
        subject = self.bounded_text(_text_arg(subject, "subject"), "subject", long=False)
        if monitor_id is not None:
            _text_arg(monitor_id, "monitor_id")

        def work(uow: UnitOfWork) -> SatisfactionMonitor:
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
            uow.repo(SATISFACTION_MONITORS).add(monitor)
            uow.emit(SatisfactionMonitorMoved.of(monitor), at=now)
            return monitor

        return self.run(work)

    def _monitor_step(
        self,
        monitor_id: str,
        change: Callable[[SatisfactionMonitor, datetime, AccessPolicy], SatisfactionMonitor],
    ) -> SatisfactionMonitor:
        """Load a monitor, apply one step at the desk's time, save it and emit the step."""
        _text_arg(monitor_id, "monitor_id")

        def work(uow: UnitOfWork) -> SatisfactionMonitor:
            repo = uow.repo(SATISFACTION_MONITORS)
            now = self.now()
            after = change(repo.get(monitor_id), now, self.policy.access)
            repo.update(after)
            uow.emit(SatisfactionMonitorMoved.of(after), at=now)
            return after

        return self.run(work)

    def analyse_satisfaction_gap(
        self, monitor_id: str, causes: Iterable[str], *, by: Actor
    ) -> SatisfactionMonitor:
        """Record the causes of the gap between target and measured level."""
        self.require(by, Permission.MANAGE_SURVEYS)
        found = tuple(self.bounded_text(c, f"causes.{i}") for i, c in enumerate(_texts(causes)))
        return self._monitor_step(
            monitor_id, lambda m, now, access: m.analyse(found, at=now, by=by, access=access)
        )

    def act_on_satisfaction_gap(
        self, monitor_id: str, description: str, *, by: Actor, due: date | None = None
    ) -> SatisfactionMonitor:
        """Record the corrective action taken against the causes."""
        self.require(by, Permission.MANAGE_SURVEYS)
        text = self.bounded_text(description, "description")
        return self._monitor_step(
            monitor_id,
            lambda m, now, access: m.act(text, at=now, by=by, access=access, due=due),
        )

    def remeasure_satisfaction(
        self, monitor_id: str, level: float, *, by: Actor
    ) -> SatisfactionMonitor:
        """Record the level measured again after the corrective action."""
        self.require(by, Permission.MANAGE_SURVEYS)
        return self._monitor_step(
            monitor_id, lambda m, now, access: m.remeasure(level, at=now, by=by, access=access)
        )

    def close_satisfaction_monitor(
        self, monitor_id: str, *, by: Actor, note: str = "", accept_gap: bool = False
    ) -> SatisfactionMonitor:
        """Close the loop once the target is met (``satisfaction_target_not_met`` before
        that), or accept the remaining gap with a written reason."""
        self.require(by, Permission.MANAGE_SURVEYS)
        text = self.bounded_text(note, "note")
        return self._monitor_step(
            monitor_id,
            lambda m, now, access: m.close(
                at=now, by=by, access=access, note=text, accept_gap=accept_gap
            ),
        )

    def get_satisfaction_monitor(self, monitor_id: str, *, by: Actor) -> SatisfactionMonitor:
        """The stored monitor; :class:`NotFound` if there is none."""
        self.require(by, Permission.MANAGE_SURVEYS)
        _text_arg(monitor_id, "monitor_id")
        return self.run(lambda uow: uow.repo(SATISFACTION_MONITORS).get(monitor_id), readonly=True)

    def find_satisfaction_monitors(
        self, *, by: Actor, subject: str | None = None, open_only: bool = False
    ) -> list[SatisfactionMonitor]:
        """Monitors, by number; of one ``subject`` and/or only those not closed yet."""
        self.require(by, Permission.MANAGE_SURVEYS)
        where: dict[str, Any] = {}
        if subject is not None:
            where["subject"] = self.bounded_text(
                _text_arg(subject, "subject"), "subject", long=False
            )
        if open_only:
            where["status__ne"] = MonitorStatus.CLOSED

        def work(uow: UnitOfWork) -> list[SatisfactionMonitor]:
            return uow.repo(SATISFACTION_MONITORS).find(order_by="key", **where)

        return self.run(work, readonly=True)

    # -- responses ---------------------------------------------------------------------

    def record_survey_response(self, response: SurveyResponse, *, by: Actor) -> SurveyResponse:
        """Store one customer's answers, checked against the survey's items and scale.

        The survey must be stored (:class:`NotFound`); a rating outside ``1..scale`` or an
        unknown item is a :class:`ValidationError`. A response within a campaign needs the
        campaign open (``campaign_not_open``), the customer invited
        (``customer_not_invited``) and no earlier answer of that customer to the campaign
        (``already_answered``): one response per customer and campaign.
        """
        self.require(by, Permission.MANAGE_SURVEYS)
        if not isinstance(response, SurveyResponse):
            raise ValidationError.at("response", f"expected a SurveyResponse, got {response!r}")
        if response.answered_at > self.now():
            raise ValidationError.at("response.answered_at", "is in the future")

        def work(uow: UnitOfWork) -> SurveyResponse:
            survey = uow.repo(SURVEYS).get(response.survey_id)
            try:
                survey.check_response(response)
            except ValidationError as err:
                raise err.prefixed("response") from None
            responses = uow.repo(SURVEY_RESPONSES)
            if response.campaign_id is not None:
                self._check_survey_campaign_answer(uow, response)
            responses.add(response)
            now = self.now()
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
            return response

        return self.run(work)

    def _check_survey_campaign_answer(self, uow: UnitOfWork, response: SurveyResponse) -> None:
        campaign_id = response.campaign_id
        assert campaign_id is not None  # noqa: S101 - the caller checked
        campaign = uow.repo(SURVEY_CAMPAIGNS).get(campaign_id)
        if campaign.survey_id != response.survey_id:
            msg = f"campaign {campaign_id!r} runs survey {campaign.survey_id!r}"
            raise ValidationError.at("response.campaign_id", msg)
        if campaign.status is not CampaignStatus.OPEN:
            raise RuleViolation(
                "campaign_not_open",
                f"campaign {campaign_id!r} is {campaign.status.value}, not open for answers",
                campaign_id=campaign_id,
                status=campaign.status.value,
            )
        if response.customer_id not in campaign.invited:
            raise RuleViolation(
                "customer_not_invited",
                f"customer {response.customer_id!r} is not invited to campaign {campaign_id!r}",
                campaign_id=campaign_id,
                customer_id=response.customer_id,
            )
        earlier = uow.repo(SURVEY_RESPONSES).count(
            campaign_id=campaign_id, customer_id=response.customer_id
        )
        if earlier:
            raise RuleViolation(
                "already_answered",
                f"customer {response.customer_id!r} already answered campaign {campaign_id!r}",
                campaign_id=campaign_id,
                customer_id=response.customer_id,
            )

    # -- statistics --------------------------------------------------------------------

    def survey_stats(
        self,
        survey_id: str,
        *,
        by: Actor,
        campaign_id: str | None = None,
        invited: int | None = None,
        customer_base: int | None = None,
    ) -> SurveyResult:
        """Every figure of a survey's stored responses (DOMAIN.md 5), in one streaming pass.

        With ``campaign_id`` only that campaign's responses count and coverage comes from
        its invitations and customer base; ``invited`` and ``customer_base`` override them.
        """
        self.require(by, Permission.VIEW_REPORTS)
        _text_arg(survey_id, "survey_id")
        if campaign_id is not None:
            _text_arg(campaign_id, "campaign_id")
        policy = self.policy.satisfaction

        def work(uow: UnitOfWork) -> SurveyResult:
            survey = uow.repo(SURVEYS).get(survey_id)
            where: dict[str, Any] = {"survey_id": survey_id}
            invited_count, base = invited, customer_base
            if campaign_id is not None:
                campaign = uow.repo(SURVEY_CAMPAIGNS).get(campaign_id)
                if campaign.survey_id != survey_id:
                    msg = f"campaign {campaign_id!r} runs survey {campaign.survey_id!r}"
                    raise ValidationError.at("campaign_id", msg)
                where["campaign_id"] = campaign_id
                invited_count = len(campaign.invited) if invited is None else invited
                base = campaign.customer_base if customer_base is None else customer_base
            stats = SurveyStats(survey, policy, invited=invited_count, customer_base=base)
            for response in uow.repo(SURVEY_RESPONSES).scan(**where):
                stats.add(response)
            return stats.result()

        return self.run(work, readonly=True)

    def driver_analysis(
        self, survey_id: str, *, by: Actor, campaign_id: str | None = None
    ) -> tuple[Driver, ...]:
        """Which items move the overall score most, strongest first (DOMAIN.md 5)."""
        return self.survey_stats(survey_id, by=by, campaign_id=campaign_id).drivers

    def pending_survey_requests(self, *, by: Actor) -> tuple[SurveyRequested, ...]:
        """Post-service survey requests in the outbox not yet turned into messages."""
        self.require(by, Permission.MANAGE_SURVEYS)

        def work(uow: UnitOfWork) -> tuple[SurveyRequested, ...]:
            entries = uow.outbox.scan(
                type=SurveyRequested.type_name, status="pending", order_by="created_at"
            )
            return tuple(
                event for entry in entries if isinstance(event := entry.event(), SurveyRequested)
            )

        return self.run(work, readonly=True)

    # -- contact centre ----------------------------------------------------------------

    def record_contacts(self, records: Iterable[ContactRecord], *, by: Actor) -> int:
        """Store calls from the telephony log; returns how many were added.

        All or nothing: a bad record or a taken id stores none of them. Needs
        ``complaint.handle``, the permission of whoever handles contacts.
        """
        self.require(by, Permission.HANDLE_COMPLAINT)
        if isinstance(records, str | bytes) or not isinstance(records, Iterable):
            raise ValidationError.at("records", "expected contact records")
        batch = list(records)
        for i, record in enumerate(batch):
            if not isinstance(record, ContactRecord):
                raise ValidationError.at(f"records.{i}", f"expected a ContactRecord: {record!r}")
        return self.run(lambda uow: uow.repo(CONTACTS).add_many(batch))

    def kpi_report(self, start: datetime, end: datetime, *, by: Actor) -> KpiReport:
        """Contact-centre KPIs of the calls offered in ``start <= offered_at < end``
        against the policy's standards (DOMAIN.md 3.3), streaming."""
        self.require(by, Permission.VIEW_REPORTS)
        _period(start, end)
        policy = self.policy.contact_centre

        def work(uow: UnitOfWork) -> KpiReport:
            calls = uow.repo(CONTACTS).scan(offered_at__ge=start, offered_at__lt=end)
            return ContactStats(policy).add_all(calls).report()

        return self.run(work, readonly=True)

    def agent_kpi_reports(
        self, start: datetime, end: datetime, *, by: Actor
    ) -> dict[str, KpiReport]:
        """One KPI report per agent for the calls offered in ``start <= offered_at < end``."""
        self.require(by, Permission.VIEW_REPORTS)
        _period(start, end)
        policy = self.policy.contact_centre

        def work(uow: UnitOfWork) -> dict[str, KpiReport]:
            calls = uow.repo(CONTACTS).scan(offered_at__ge=start, offered_at__lt=end)
            return kpi_reports_by_agent(calls, policy)

        return self.run(work, readonly=True)
